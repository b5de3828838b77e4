//! Fault injection: latency, throttling, random 500s, dropped connections and
//! "fail the Nth call", per operation and optionally per cluster.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// The fault configuration: a PRNG seed and rules, all applied in order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Seed of the deterministic PRNG used by the probabilities.
    pub seed: u64,
    pub rules: Vec<FaultRule>,
}

/// One rule. `operation` is an operation name (`CreateAccessEntry`, `GetRole`,
/// `kube:GetConfigMap`), a prefix glob ending in `*` (`kube:*`), or `*`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultRule {
    pub operation: String,
    /// Only calls about this cluster name match.
    pub cluster: Option<String>,
    /// Delay added before the call is handled.
    pub latency_ms: Option<u64>,
    /// Token bucket; an empty bucket answers 429 throttling.
    pub rate_limit: Option<RateLimit>,
    /// Probability (0..1) of answering 429 throttling (deterministic PRNG).
    pub throttle_probability: Option<f64>,
    /// Probability (0..1) of answering 500.
    pub error_probability: Option<f64>,
    /// Probability (0..1) of closing the connection in the middle of the response.
    pub disconnect_probability: Option<f64>,
    /// Fail calls number `n` .. `n + count - 1` (1-based, counted per rule).
    pub fail_nth: Option<FailNth>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    /// Tokens added per second.
    pub rate: f64,
    /// Bucket size (and initial content).
    pub burst: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FailNth {
    pub n: u64,
    /// How many consecutive calls fail from the Nth (default 1).
    pub count: u64,
    /// HTTP status (default 500).
    pub status: u16,
    /// Error code; default per protocol (`ServerException` for EKS).
    pub error_type: Option<String>,
    pub message: Option<String>,
}

impl Default for FailNth {
    fn default() -> Self {
        FailNth {
            n: 1,
            count: 1,
            status: 500,
            error_type: None,
            message: None,
        }
    }
}

impl FaultRule {
    pub fn new(operation: &str) -> Self {
        FaultRule {
            operation: operation.to_string(),
            ..FaultRule::default()
        }
    }
    pub fn on_cluster(mut self, cluster: &str) -> Self {
        self.cluster = Some(cluster.to_string());
        self
    }
    pub fn latency_ms(mut self, ms: u64) -> Self {
        self.latency_ms = Some(ms);
        self
    }
    pub fn rate_limit(mut self, rate: f64, burst: f64) -> Self {
        self.rate_limit = Some(RateLimit { rate, burst });
        self
    }
    pub fn throttle_probability(mut self, p: f64) -> Self {
        self.throttle_probability = Some(p);
        self
    }
    pub fn error_probability(mut self, p: f64) -> Self {
        self.error_probability = Some(p);
        self
    }
    pub fn disconnect_probability(mut self, p: f64) -> Self {
        self.disconnect_probability = Some(p);
        self
    }
    /// Fail the `n`th call (1-based) with `status` and `error_type`.
    pub fn fail_nth(mut self, n: u64, status: u16, error_type: &str) -> Self {
        self.fail_nth = Some(FailNth {
            n,
            count: 1,
            status,
            error_type: Some(error_type.to_string()),
            message: None,
        });
        self
    }

    fn matches(&self, operation: &str, cluster: Option<&str>) -> bool {
        let op_ok = if self.operation == "*" {
            true
        } else if let Some(prefix) = self.operation.strip_suffix('*') {
            operation.starts_with(prefix)
        } else {
            self.operation == operation
        };
        let cluster_ok = match &self.cluster {
            None => true,
            Some(c) => cluster == Some(c.as_str()),
        };
        op_ok && cluster_ok
    }
}

impl Faults {
    pub fn new(seed: u64, rules: Vec<FaultRule>) -> Self {
        Faults { seed, rules }
    }
}

/// What the engine decided for one call.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Decision {
    pub latency: Duration,
    pub outcome: Outcome,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) enum Outcome {
    #[default]
    Proceed,
    Throttle,
    ServerError,
    Fail {
        status: u16,
        error_type: Option<String>,
        message: Option<String>,
    },
    /// Handle the call, then cut the connection mid-response.
    Disconnect,
}

struct RuleState {
    tokens: f64,
    last: Instant,
    calls: u64,
}

/// Runtime state of the faults: buckets, per-rule counters and the PRNG.
pub(crate) struct FaultEngine {
    config: Faults,
    states: Vec<RuleState>,
    rng: u64,
}

impl FaultEngine {
    pub(crate) fn new(config: Faults) -> Self {
        let now = Instant::now();
        let states = config
            .rules
            .iter()
            .map(|r| RuleState {
                tokens: r.rate_limit.map_or(0.0, |l| l.burst),
                last: now,
                calls: 0,
            })
            .collect();
        let rng = config.seed ^ 0x9E37_79B9_7F4A_7C15;
        FaultEngine {
            config,
            states,
            rng,
        }
    }

    pub(crate) fn config(&self) -> &Faults {
        &self.config
    }

    /// Decide the fate of one call. The first failing rule wins; latencies add up.
    pub(crate) fn decide(&mut self, operation: &str, cluster: Option<&str>) -> Decision {
        self.decide_at(operation, cluster, Instant::now())
    }

    pub(crate) fn decide_at(
        &mut self,
        operation: &str,
        cluster: Option<&str>,
        now: Instant,
    ) -> Decision {
        let FaultEngine {
            config,
            states,
            rng,
        } = self;
        let mut decision = Decision::default();
        for (rule, state) in config.rules.iter().zip(states.iter_mut()) {
            if !rule.matches(operation, cluster) {
                continue;
            }
            state.calls += 1;
            let call_no = state.calls;
            if let Some(ms) = rule.latency_ms {
                decision.latency = decision.latency.saturating_add(Duration::from_millis(ms));
            }
            if decision.outcome != Outcome::Proceed {
                continue;
            }
            if let Some(limit) = rule.rate_limit {
                let elapsed = now.saturating_duration_since(state.last).as_secs_f64();
                state.last = now;
                state.tokens = (state.tokens + elapsed * limit.rate).min(limit.burst);
                if state.tokens >= 1.0 {
                    state.tokens -= 1.0;
                } else {
                    decision.outcome = Outcome::Throttle;
                    continue;
                }
            }
            if let Some(f) = &rule.fail_nth {
                if call_no >= f.n && call_no < f.n.saturating_add(f.count.max(1)) {
                    decision.outcome = Outcome::Fail {
                        status: f.status,
                        error_type: f.error_type.clone(),
                        message: f.message.clone(),
                    };
                    continue;
                }
            }
            if let Some(p) = rule.throttle_probability {
                if next_f64(rng) < p {
                    decision.outcome = Outcome::Throttle;
                    continue;
                }
            }
            if let Some(p) = rule.error_probability {
                if next_f64(rng) < p {
                    decision.outcome = Outcome::ServerError;
                    continue;
                }
            }
            if let Some(p) = rule.disconnect_probability {
                if next_f64(rng) < p {
                    decision.outcome = Outcome::Disconnect;
                }
            }
        }
        decision
    }
}

/// splitmix64 → uniform in [0, 1).
fn next_f64(state: &mut u64) -> f64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fail_nth_hits_only_the_nth_call() {
        let mut e = FaultEngine::new(Faults::new(
            1,
            vec![FaultRule::new("GetRole").fail_nth(2, 503, "ServiceUnavailable")],
        ));
        assert_eq!(e.decide("GetRole", None).outcome, Outcome::Proceed);
        assert!(matches!(
            e.decide("GetRole", None).outcome,
            Outcome::Fail { status: 503, .. }
        ));
        assert_eq!(e.decide("GetRole", None).outcome, Outcome::Proceed);
        assert_eq!(e.decide("GetUser", None).outcome, Outcome::Proceed);
    }

    #[test]
    fn token_bucket_throttles_after_burst_and_refills() {
        let mut e = FaultEngine::new(Faults::new(
            1,
            vec![FaultRule::new("*").on_cluster("a").rate_limit(10.0, 2.0)],
        ));
        let t0 = Instant::now();
        assert_eq!(e.decide_at("X", Some("a"), t0).outcome, Outcome::Proceed);
        assert_eq!(e.decide_at("X", Some("a"), t0).outcome, Outcome::Proceed);
        assert_eq!(e.decide_at("X", Some("a"), t0).outcome, Outcome::Throttle);
        assert_eq!(e.decide_at("X", Some("b"), t0).outcome, Outcome::Proceed);
        let t1 = t0 + Duration::from_millis(150);
        assert_eq!(e.decide_at("X", Some("a"), t1).outcome, Outcome::Proceed);
    }

    #[test]
    fn throttle_probability_answers_throttle() {
        let mut e = FaultEngine::new(Faults::new(
            3,
            vec![FaultRule::new("GetRole").throttle_probability(0.3)],
        ));
        let throttled = (0..1000)
            .filter(|_| e.decide("GetRole", None).outcome == Outcome::Throttle)
            .count();
        assert!((230..370).contains(&throttled), "{throttled}");
    }

    #[test]
    fn probabilities_are_deterministic_per_seed() {
        let run = || {
            let mut e = FaultEngine::new(Faults::new(
                42,
                vec![FaultRule::new("kube:*").error_probability(0.5)],
            ));
            (0..64)
                .map(|_| e.decide("kube:GetConfigMap", None).outcome == Outcome::ServerError)
                .collect::<Vec<_>>()
        };
        let a = run();
        assert_eq!(a, run());
        let errors = a.iter().filter(|x| **x).count();
        assert!((16..48).contains(&errors), "{errors}");
    }
}
