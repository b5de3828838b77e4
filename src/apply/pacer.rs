//! Client-side pacing per operation, so a throttled apply runs close to the
//! rate EKS allows instead of piling up retries. An operation is unpaced
//! until a second in which at least half of its answers (20 or more) were
//! 429s: a pace above a limit shows itself that way. Its rate then becomes
//! 95 % of the successes of that second (under a token bucket, what the
//! limit let through), each success adds a little (+0.3 call/s per second
//! of successes), and the same test cuts it again, at most once a second
//! (the calls in flight when the limit is hit all come back throttled).
//!
//! Throttling that does not follow the rate (another client draining a
//! shared bucket, sporadic 429s) leaves most calls through and is simply
//! sent again: cutting on it would cut every second, the successes always
//! short of the pace, down to a crawl (5 % random 429s made a 0.9 s apply
//! of 100 principals take 32 s; 30 %, 185 s).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const CUT: f64 = 0.95;
const GROWTH_PER_SECOND: f64 = 0.3;
const MIN_RATE: f64 = 0.5;
/// Above this the lane stops pacing again.
const MAX_RATE: f64 = 1_000.0;
const WINDOW: Duration = Duration::from_secs(1);
/// The share of throttled calls in the last second that means a limit...
const LIMIT_SHARE: f64 = 0.5;
/// ...once the second holds this many answers.
const MIN_SAMPLE: usize = 20;

#[derive(Debug, Default)]
struct Lane {
    /// None: not paced.
    rate: Option<f64>,
    next: Option<Instant>,
    last_cut: Option<Instant>,
    /// Successes of the last second, to start from the rate that worked.
    recent: VecDeque<Instant>,
    /// Throttled answers of the last second.
    throttles: VecDeque<Instant>,
}

#[derive(Debug, Default)]
pub struct Pacer {
    lanes: Mutex<HashMap<&'static str, Lane>>,
}

impl Pacer {
    /// When the next call of `op` may start; reserves that slot.
    fn reserve(&self, op: &'static str, now: Instant) -> Instant {
        self.with_lane(op, |lane| {
            let rate = lane.rate?;
            let at = lane.next.map_or(now, |n| n.max(now));
            lane.next = Some(at + Duration::from_secs_f64(1.0 / rate));
            Some(at)
        })
        .flatten()
        .unwrap_or(now)
    }

    /// Runs `f` on the lane of `op` (None if the lock is poisoned: pacing
    /// is an optimisation, never a reason to fail a call).
    fn with_lane<R>(&self, op: &'static str, f: impl FnOnce(&mut Lane) -> R) -> Option<R> {
        let mut lanes = self.lanes.lock().ok()?;
        Some(f(lanes.entry(op).or_default()))
    }

    /// Waits for this call's slot.
    pub async fn wait(&self, op: &'static str) {
        let now = Instant::now();
        let at = self.reserve(op, now);
        if at > now {
            tokio::time::sleep(at - now).await;
        }
    }

    pub fn throttled(&self, op: &'static str) {
        self.throttled_at(op, Instant::now());
    }

    fn throttled_at(&self, op: &'static str, now: Instant) {
        self.with_lane(op, |lane| {
            lane.throttles.push_back(now);
            prune(&mut lane.throttles, now);
            prune(&mut lane.recent, now);
            let (ok, throttled) = (lane.recent.len(), lane.throttles.len());
            let cut_lately = lane
                .last_cut
                .is_some_and(|t| now.duration_since(t) < WINDOW);
            if cut_lately
                || ok + throttled < MIN_SAMPLE
                || (throttled as f64) < LIMIT_SHARE * (ok + throttled) as f64
            {
                return;
            }
            lane.last_cut = Some(now);
            let current = lane.rate.unwrap_or(f64::MAX);
            lane.rate = Some(((ok as f64).min(current) * CUT).max(MIN_RATE));
        });
    }

    pub fn succeeded(&self, op: &'static str) {
        self.succeeded_at(op, Instant::now());
    }

    fn succeeded_at(&self, op: &'static str, now: Instant) {
        self.with_lane(op, |lane| {
            lane.recent.push_back(now);
            prune(&mut lane.recent, now);
            if let Some(rate) = lane.rate {
                // Each success adds GROWTH/rate: GROWTH calls/s per second.
                let grown = rate + GROWTH_PER_SECOND / rate;
                lane.rate = (grown < MAX_RATE).then_some(grown);
            }
        });
    }

    #[cfg(test)]
    fn rate(&self, op: &'static str) -> Option<f64> {
        self.with_lane(op, |l| l.rate).flatten()
    }
}

fn prune(recent: &mut VecDeque<Instant>, now: Instant) {
    while recent
        .front()
        .is_some_and(|t| now.duration_since(*t) > WINDOW)
    {
        recent.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OP: &str = "create-entry";

    #[test]
    fn unpaced_until_throttled_then_starts_below_what_worked() {
        let p = Pacer::default();
        let t0 = Instant::now();
        assert_eq!(p.reserve(OP, t0), t0);
        for i in 0..10 {
            p.succeeded_at(OP, t0 + Duration::from_millis(50 * i));
        }
        assert_eq!(p.rate(OP), None);
        // Throttled, but most calls of the last second went through: no cut.
        for _ in 0..9 {
            p.throttled_at(OP, t0 + Duration::from_millis(600));
        }
        assert_eq!(p.rate(OP), None);
        // Half throttled: the pace is above a limit.
        p.throttled_at(OP, t0 + Duration::from_millis(600));
        assert_eq!(p.rate(OP), Some(9.5));
        let first = p.reserve(OP, t0);
        let second = p.reserve(OP, t0);
        assert_eq!(second - first, Duration::from_secs_f64(1.0 / 9.5));
        assert_eq!(
            p.reserve("associate-policy", t0),
            t0,
            "lanes are per operation"
        );
    }

    #[test]
    fn throttling_that_does_not_follow_the_rate_does_not_pace() {
        // 30 % of the calls throttled whatever the pace, for 30 seconds.
        let p = Pacer::default();
        let t0 = Instant::now();
        for ms in 0..30_000u64 {
            let at = t0 + Duration::from_millis(ms);
            if ms % 10 < 3 {
                p.throttled_at(OP, at);
            } else {
                p.succeeded_at(OP, at);
            }
        }
        assert_eq!(p.rate(OP), None);
    }

    #[test]
    fn one_cut_per_second_and_additive_growth() {
        let p = Pacer::default();
        let t0 = Instant::now();
        for _ in 0..MIN_SAMPLE {
            assert_eq!(p.rate(OP), None, "too few answers to tell");
            p.throttled_at(OP, t0);
        }
        assert_eq!(p.rate(OP), Some(MIN_RATE), "no successes yet: the floor");
        let p = Pacer::default();
        for _ in 0..20 {
            p.succeeded_at(OP, t0);
        }
        for _ in 0..20 {
            p.throttled_at(OP, t0);
        }
        assert_eq!(p.rate(OP), Some(19.0));
        // The calls in flight come back throttled too: one signal.
        p.throttled_at(OP, t0 + Duration::from_millis(100));
        p.throttled_at(OP, t0 + Duration::from_millis(900));
        assert_eq!(p.rate(OP), Some(19.0));
        // A second later: what got through in the last second was 10.
        for i in 0..10 {
            p.succeeded_at(OP, t0 + Duration::from_millis(1050 + 5 * i));
        }
        for _ in 0..8 {
            p.throttled_at(OP, t0 + Duration::from_millis(1100));
        }
        assert_eq!(p.rate(OP), Some(9.5));
        let before = p.rate(OP).unwrap();
        for _ in 0..15 {
            p.succeeded_at(OP, t0 + Duration::from_secs(3));
        }
        let after = p.rate(OP).unwrap();
        assert!(after > before && after < before + 1.0, "{before} → {after}");
    }
}
