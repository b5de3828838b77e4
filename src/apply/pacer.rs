//! Client-side pacing per operation, so a throttled apply runs close to the
//! rate EKS allows instead of piling up retries: on a throttle the gap
//! between calls of that operation doubles; on a success it shrinks by 5 %.
//! Without throttling the gap stays zero and costs nothing.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const MIN_GAP: Duration = Duration::from_millis(5);
const MAX_GAP: Duration = Duration::from_secs(2);

#[derive(Debug, Default)]
struct Lane {
    gap: Duration,
    next: Option<Instant>,
}

#[derive(Debug, Default)]
pub struct Pacer {
    lanes: Mutex<HashMap<&'static str, Lane>>,
}

impl Pacer {
    /// When the next call of `op` may start; reserves that slot.
    fn reserve(&self, op: &'static str, now: Instant) -> Instant {
        let Ok(mut lanes) = self.lanes.lock() else {
            return now;
        };
        let lane = lanes.entry(op).or_default();
        if lane.gap.is_zero() {
            return now;
        }
        let at = lane.next.map_or(now, |n| n.max(now));
        lane.next = Some(at + lane.gap);
        at
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
        if let Ok(mut lanes) = self.lanes.lock() {
            let lane = lanes.entry(op).or_default();
            lane.gap = (lane.gap * 2).clamp(MIN_GAP * 4, MAX_GAP);
        }
    }

    pub fn succeeded(&self, op: &'static str) {
        if let Ok(mut lanes) = self.lanes.lock() {
            if let Some(lane) = lanes.get_mut(op) {
                let shrunk = lane.gap.mul_f64(0.95);
                lane.gap = if shrunk < MIN_GAP {
                    Duration::ZERO
                } else {
                    shrunk
                };
            }
        }
    }

    #[cfg(test)]
    fn gap(&self, op: &'static str) -> Duration {
        self.lanes
            .lock()
            .unwrap()
            .get(op)
            .map(|l| l.gap)
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_grow_on_throttles_and_decay_on_success() {
        let p = Pacer::default();
        let now = Instant::now();
        assert_eq!(
            p.reserve("create-entry", now),
            now,
            "no pacing until throttled"
        );
        p.throttled("create-entry");
        assert_eq!(p.gap("create-entry"), Duration::from_millis(20));
        p.throttled("create-entry");
        assert_eq!(p.gap("create-entry"), Duration::from_millis(40));
        let first = p.reserve("create-entry", now);
        let second = p.reserve("create-entry", now);
        assert_eq!(second - first, Duration::from_millis(40));
        assert_eq!(
            p.reserve("associate-policy", now),
            now,
            "lanes are per operation"
        );
        for _ in 0..200 {
            p.succeeded("create-entry");
        }
        assert_eq!(p.gap("create-entry"), Duration::ZERO);
        for _ in 0..30 {
            p.throttled("create-entry");
        }
        assert_eq!(p.gap("create-entry"), MAX_GAP);
    }
}
