//! Client-side pacing per operation, so a throttled apply runs close to the
//! rate EKS allows instead of piling up retries, while 429s that do not
//! follow the rate (sporadic throttling, another client draining a shared
//! bucket) cost only their re-sends.
//!
//! An operation is unpaced until a second in which at least half of its
//! answers (20 or more) were 429s. Its rate is then cut to 95 % of the
//! successes of that second (under a token bucket, what the limit let
//! through), at most once a second, and the cut is put to the test on the
//! answers to calls sent after it:
//!
//! - Under a rate limit, sending below what the limit lets through empties
//!   the 429s: 20 answers with at most one 429 confirm the cut (the first
//!   paced call may still meet the empty bucket). It stands; each success
//!   then adds a little (+0.3 call/s per second of successes) and the same
//!   test cuts again. The first confirmed cut of an operation is reported.
//! - Under throttling that does not follow the rate, the share of 429s stays
//!   what it was: a second 429 undoes the cut at once (the rate before it
//!   comes back), at the cost of a few calls sent at the lower rate.
//!
//! Without the test, 50 % of 429s at random made a cut every second, each
//! to 95 % of successes that were only half the calls, down to a crawl.
//! Every decision takes the clock as an argument, so the tests drive it.

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
/// Answers to calls sent after a cut that judge it...
const PROBE: usize = 20;
/// ...and the most 429s among them that confirm it (one more undoes it
/// at once).
const PROBE_THROTTLES: usize = 1;

/// What an answer changed, for the executor to tell the user.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Verdict {
    /// A cut was confirmed: the operation is rate-limited, paced at this
    /// many calls per second. Only the first of an operation is reported.
    Limited(f64),
}

#[derive(Debug, Clone, Copy)]
struct Probe {
    /// Answers to calls sent from this instant on judge the cut.
    at: Instant,
    /// The rate before the cut (None: unpaced), restored if it fails.
    before: Option<f64>,
    ok: usize,
    throttled: usize,
}

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
    /// The cut under test, if any.
    probe: Option<Probe>,
    /// Whether a confirmed limit was reported.
    told: bool,
}

#[derive(Debug, Default)]
pub(crate) struct Pacer {
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

    /// Waits for this call's slot; returns when the call is sent, for
    /// [`Pacer::answered`].
    pub(crate) async fn wait(&self, op: &'static str) -> Instant {
        let now = Instant::now();
        let at = self.reserve(op, now);
        if at > now {
            tracing::debug!(
                op,
                wait_ms = u64::try_from((at - now).as_millis()).unwrap_or(u64::MAX),
                "paced"
            );
            tokio::time::sleep(at - now).await;
        }
        Instant::now()
    }

    /// Records the answer to a call of `op` sent at `sent`.
    pub(crate) fn answered(
        &self,
        op: &'static str,
        sent: Instant,
        throttled: bool,
    ) -> Option<Verdict> {
        self.answered_at(op, sent, throttled, Instant::now())
    }

    fn answered_at(
        &self,
        op: &'static str,
        sent: Instant,
        throttled: bool,
        now: Instant,
    ) -> Option<Verdict> {
        self.with_lane(op, |lane| {
            let (rate, probing, cut) = (lane.rate, lane.probe.is_some(), lane.last_cut);
            let verdict = lane.answer(sent, throttled, now);
            log_decision(op, (rate, probing, cut), lane, throttled);
            verdict
        })
        .flatten()
    }

    #[cfg(test)]
    fn rate(&self, op: &'static str) -> Option<f64> {
        self.with_lane(op, |l| l.rate).flatten()
    }
}

impl Lane {
    fn answer(&mut self, sent: Instant, throttled: bool, now: Instant) -> Option<Verdict> {
        if throttled {
            self.throttles.push_back(now);
        } else {
            self.recent.push_back(now);
            if let Some(rate) = self.rate {
                // Each success adds GROWTH/rate: GROWTH calls/s per second.
                let grown = rate + GROWTH_PER_SECOND / rate;
                self.rate = (grown < MAX_RATE).then_some(grown);
            }
        }
        prune(&mut self.throttles, now);
        prune(&mut self.recent, now);
        if let Some(probe) = &mut self.probe {
            if sent >= probe.at {
                if throttled {
                    probe.throttled += 1;
                } else {
                    probe.ok += 1;
                }
            }
            self.judge()
        } else {
            self.maybe_cut(now);
            None
        }
    }

    /// Cuts when the last second shows a pace above a limit.
    fn maybe_cut(&mut self, now: Instant) {
        let (ok, throttled) = (self.recent.len(), self.throttles.len());
        let cut_lately = self
            .last_cut
            .is_some_and(|t| now.saturating_duration_since(t) < WINDOW);
        if cut_lately
            || ok + throttled < MIN_SAMPLE
            || (throttled as f64) < LIMIT_SHARE * (ok + throttled) as f64
        {
            return;
        }
        self.last_cut = Some(now);
        let before = self.rate;
        let current = before.unwrap_or(f64::MAX);
        self.rate = Some(((ok as f64).min(current) * CUT).max(MIN_RATE));
        self.probe = Some(Probe {
            at: now,
            before,
            ok: 0,
            throttled: 0,
        });
    }

    /// Confirms or undoes the cut under test once enough answers are in.
    fn judge(&mut self) -> Option<Verdict> {
        let probe = self.probe?;
        let limited = probe.throttled <= PROBE_THROTTLES;
        if limited && probe.ok + probe.throttled < PROBE {
            return None;
        }
        self.probe = None;
        if limited {
            // Slowing down emptied the 429s: a limit.
            let rate = self.rate?;
            if std::mem::replace(&mut self.told, true) {
                return None;
            }
            Some(Verdict::Limited(rate))
        } else {
            // The 429s did not follow the rate: undo the cut.
            self.rate = probe.before;
            self.next = None;
            None
        }
    }
}

/// Tells (`-v`) what an answer decided: a cut, its confirmation, its undoing.
/// `before` is the lane's rate, probing and last cut before the answer.
/// Only a throttled answer undoes a cut, and it restores the rate before it
/// (a success only grows the rate).
fn log_decision(
    op: &str,
    before: (Option<f64>, bool, Option<Instant>),
    lane: &Lane,
    throttled: bool,
) {
    let (rate, probing, cut) = before;
    if lane.last_cut != cut {
        tracing::info!(
            op,
            from = ?rate,
            to = ?lane.rate,
            throttled = lane.throttles.len(),
            ok = lane.recent.len(),
            "pacing: half of the last second's answers were throttled; rate cut, under test"
        );
    } else if probing && lane.probe.is_none() {
        if throttled && lane.rate != rate {
            tracing::info!(op, rate = ?lane.rate, "pacing: the 429s did not follow the rate; cut undone");
        } else {
            tracing::info!(op, rate = ?lane.rate, "pacing: the cut emptied the 429s; it stands");
        }
    }
}

fn prune(recent: &mut VecDeque<Instant>, now: Instant) {
    while recent
        .front()
        .is_some_and(|t| now.saturating_duration_since(*t) > WINDOW)
    {
        recent.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OP: &str = "create-entry";

    fn ok(p: &Pacer, at: Instant) -> Option<Verdict> {
        p.answered_at(OP, at, false, at)
    }

    fn no(p: &Pacer, at: Instant) -> Option<Verdict> {
        p.answered_at(OP, at, true, at)
    }

    fn ms(t0: Instant, ms: u64) -> Instant {
        t0 + Duration::from_millis(ms)
    }

    /// A deterministic splitmix64 coin, as the emulator's.
    struct Coin(u64);
    impl Coin {
        fn below(&mut self, p: f64) -> bool {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            ((z >> 11) as f64 / (1u64 << 53) as f64) < p
        }
    }

    /// `workers` callers, each sending its next call as soon as its last
    /// was answered (`latency` later) and the pacer lets it, for `secs`
    /// seconds; `throttle(sent)` decides each answer. Returns the successes.
    fn simulate(
        p: &Pacer,
        workers: usize,
        latency: Duration,
        secs: u64,
        mut throttle: impl FnMut(Instant) -> bool,
    ) -> (usize, Vec<Verdict>) {
        let t0 = Instant::now();
        let end = t0 + Duration::from_secs(secs);
        let mut free = vec![t0; workers];
        let (mut successes, mut verdicts) = (0, Vec::new());
        loop {
            let (w, at) = free
                .iter()
                .copied()
                .enumerate()
                .min_by_key(|(_, t)| *t)
                .unwrap();
            let sent = p.reserve(OP, at);
            let answer = sent + latency;
            if answer > end {
                return (successes, verdicts);
            }
            let throttled = throttle(sent);
            if !throttled {
                successes += 1;
            }
            verdicts.extend(p.answered_at(OP, sent, throttled, answer));
            free[w] = answer;
        }
    }

    /// A token bucket of `rate` per second holding `burst`.
    fn bucket(rate: f64, burst: f64) -> impl FnMut(Instant) -> bool {
        let (mut tokens, mut last) = (burst, None::<Instant>);
        move |at| {
            let elapsed = last.map_or(0.0, |l: Instant| {
                at.saturating_duration_since(l).as_secs_f64()
            });
            last = Some(last.map_or(at, |l: Instant| l.max(at)));
            tokens = (tokens + elapsed * rate).min(burst);
            if tokens >= 1.0 {
                tokens -= 1.0;
                false
            } else {
                true
            }
        }
    }

    #[test]
    fn half_the_calls_throttled_at_random_is_not_a_limit() {
        // 8 workers, 25 ms a call: 320 calls/s, half of them 429 at random,
        // for 30 s. Unpaced, half the calls go through: 30 × 160.
        for (workers, seed) in [(8, 1), (8, 2), (1, 3), (1, 4)] {
            let p = Pacer::default();
            let mut coin = Coin(seed);
            let (successes, verdicts) =
                simulate(&p, workers, Duration::from_millis(25), 30, |_| {
                    coin.below(0.5)
                });
            let unpaced = 30.0 * workers as f64 * 40.0 / 2.0;
            assert!(
                successes as f64 > 0.9 * unpaced,
                "{workers} workers: {successes} successes, unpaced {unpaced}"
            );
            assert_eq!(verdicts, vec![], "no limit reported");
        }
    }

    #[test]
    fn throttling_that_does_not_follow_the_rate_is_never_cut_for_long() {
        for share in [0.05, 0.3, 0.7, 0.9] {
            let p = Pacer::default();
            let mut coin = Coin(7);
            let (successes, verdicts) =
                simulate(&p, 8, Duration::from_millis(25), 30, |_| coin.below(share));
            let unpaced = 30.0 * 320.0 * (1.0 - share);
            assert!(
                successes as f64 > 0.85 * unpaced,
                "{share}: {successes} successes, unpaced {unpaced}"
            );
            assert_eq!(verdicts, vec![], "{share}");
        }
    }

    #[test]
    fn a_token_bucket_is_paced_just_below_its_rate() {
        for workers in [8, 1] {
            let p = Pacer::default();
            let (mut sent, mut throttled) = (0usize, 0usize);
            let mut limit = bucket(10.0, 10.0);
            let (successes, verdicts) =
                simulate(&p, workers, Duration::from_millis(25), 60, |at| {
                    sent += 1;
                    let t = limit(at);
                    throttled += usize::from(t);
                    t
                });
            // The floor: the burst and 10 a second.
            assert!(
                successes as f64 >= 0.97 * 610.0,
                "{workers} workers: {successes} of 610"
            );
            // Growing past the limit until half a second's answers are 429s
            // costs some, in 429s, not in time.
            assert!(
                throttled < sent / 3,
                "{workers} workers: {throttled} 429s of {sent} calls"
            );
            assert!(
                matches!(verdicts.as_slice(), [Verdict::Limited(r)] if *r > 5.0 && *r < 10.5),
                "{workers} workers: {verdicts:?}"
            );
            let rate = p.rate(OP).unwrap();
            assert!(rate > 5.0 && rate < 25.0, "{rate}");
        }
    }

    #[test]
    fn unpaced_until_half_of_a_second_is_throttled_then_starts_below_what_worked() {
        let p = Pacer::default();
        let t0 = Instant::now();
        assert_eq!(p.reserve(OP, t0), t0);
        for i in 0..10 {
            ok(&p, ms(t0, 50 * i));
        }
        assert_eq!(p.rate(OP), None);
        // Throttled, but most calls of the last second went through: no cut.
        for _ in 0..9 {
            no(&p, ms(t0, 600));
        }
        assert_eq!(p.rate(OP), None);
        // Half throttled: the pace may be above a limit.
        no(&p, ms(t0, 600));
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
    fn a_cut_stands_when_the_429s_stop_and_is_undone_when_they_do_not() {
        let t0 = Instant::now();
        let cut = |p: &Pacer| {
            for _ in 0..20 {
                ok(p, t0);
            }
            for _ in 0..20 {
                no(p, t0);
            }
            assert_eq!(p.rate(OP), Some(19.0));
        };
        // A limit: the calls sent after the cut go through (one 429 of 20,
        // the first paced call meeting an empty bucket, is within the
        // test). Answers to calls sent before it do not count.
        let p = Pacer::default();
        cut(&p);
        for _ in 0..5 {
            assert_eq!(
                p.answered_at(
                    OP,
                    ms(t0, 0).checked_sub(Duration::from_millis(1)).unwrap(),
                    true,
                    ms(t0, 20)
                ),
                None
            );
        }
        no(&p, ms(t0, 50));
        for i in 0..18 {
            assert_eq!(ok(&p, ms(t0, 150 + 50 * i)), None);
        }
        let Some(Verdict::Limited(rate)) = ok(&p, ms(t0, 1000)) else {
            panic!("the cut is confirmed")
        };
        assert!(rate > 19.0 && rate < 19.5, "grown a little since: {rate}");
        assert_eq!(p.rate(OP), Some(rate));

        // Random: a second 429 after the cut is one too many; the lane is
        // unpaced again at once.
        let p = Pacer::default();
        cut(&p);
        for i in 0..5 {
            ok(&p, ms(t0, 10 * i + 10));
        }
        no(&p, ms(t0, 60));
        assert!(p.rate(OP).is_some(), "one 429: still under test");
        no(&p, ms(t0, 80));
        assert_eq!(p.rate(OP), None, "the rate before the cut");
        assert_eq!(p.reserve(OP, ms(t0, 500)), ms(t0, 500));
    }

    #[test]
    fn after_a_failed_test_a_limit_is_still_found_and_told_once() {
        let p = Pacer::default();
        let t0 = Instant::now();
        for _ in 0..20 {
            ok(&p, t0);
        }
        for _ in 0..20 {
            no(&p, t0);
        }
        assert_eq!(p.rate(OP), Some(19.0), "cut at half of 40 answers");
        // Half throttled after the cut too (a limit below the burst-fed
        // successes of the first second looks the same): undone.
        for i in 0..6 {
            p.answered_at(OP, ms(t0, 10 + i), i % 2 == 0, ms(t0, 40 + i));
        }
        assert_eq!(p.rate(OP), None);
        // Still throttled half the time in the same second: no new cut
        // within a second of the last.
        for i in 0..40 {
            p.answered_at(OP, ms(t0, 100), i % 2 == 0, ms(t0, 500));
        }
        assert_eq!(p.rate(OP), None);
        // The next second: 10 successes, 30 429s; cut to 9.5, and the
        // 429s stop: a limit, told.
        let t2 = ms(t0, 2000);
        for _ in 0..10 {
            ok(&p, t2);
        }
        for _ in 0..30 {
            // Sent before the cut: the test ignores them.
            p.answered_at(OP, ms(t0, 1990), true, t2);
        }
        assert_eq!(p.rate(OP), Some(9.5));
        let mut verdicts = vec![];
        for i in 0..20 {
            verdicts.extend(ok(&p, ms(t0, 2010 + i)));
        }
        assert!(
            matches!(verdicts.as_slice(), [Verdict::Limited(r)] if *r > 9.5 && *r < 10.5),
            "{verdicts:?}"
        );
        // Only the first confirmed limit of an operation is told.
        let t4 = ms(t0, 4000);
        for _ in 0..20 {
            ok(&p, t4);
        }
        let before = p.rate(OP).unwrap();
        for _ in 0..20 {
            no(&p, t4);
        }
        assert_eq!(p.rate(OP), Some(before * 0.95), "cut again");
        for i in 0..20 {
            assert_eq!(ok(&p, ms(t0, 4010 + i)), None);
        }
        assert!(p.rate(OP).is_some(), "the cut stands");
    }

    #[test]
    fn one_cut_per_second_and_additive_growth() {
        let p = Pacer::default();
        let t0 = Instant::now();
        for _ in 0..MIN_SAMPLE {
            assert_eq!(p.rate(OP), None, "too few answers to tell");
            no(&p, t0);
        }
        assert_eq!(p.rate(OP), Some(MIN_RATE), "no successes yet: the floor");
        let p = Pacer::default();
        for _ in 0..20 {
            ok(&p, t0);
        }
        for _ in 0..20 {
            no(&p, t0);
        }
        assert_eq!(p.rate(OP), Some(19.0));
        // The calls in flight come back throttled too: one signal (and
        // they were sent before the cut: its test does not count them).
        let before_cut = t0.checked_sub(Duration::from_millis(1)).unwrap();
        p.answered_at(OP, before_cut, true, ms(t0, 100));
        p.answered_at(OP, before_cut, true, ms(t0, 900));
        assert_eq!(p.rate(OP), Some(19.0));
        // The cut is confirmed by 20 successes; a second after it, what got
        // through in the last second was 20, with 30 429s.
        for i in 0..20 {
            ok(&p, ms(t0, 900 + i));
        }
        let confirmed = p.rate(OP).unwrap();
        for _ in 0..30 {
            p.answered_at(OP, ms(t0, 1050), true, ms(t0, 1100));
        }
        assert!(p.rate(OP).unwrap() < confirmed);
        let before = p.rate(OP).unwrap();
        for _ in 0..15 {
            ok(&p, ms(t0, 3000));
        }
        let after = p.rate(OP).unwrap();
        assert!(after > before && after < before + 1.0, "{before} → {after}");
    }
}
