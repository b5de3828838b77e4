//! The executor: runs journaled steps against EKS. Each step is written to
//! the journal (fsync'd) before its call and its outcome after; throttling,
//! 5xx and dropped connections are retried with exponential backoff and
//! full jitter. Every call is idempotent on re-send: creates carry a
//! deterministic clientRequestToken, associations are upserts, updates send
//! both fields, and a delete or disassociate that finds nothing is done.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::aws::access::{AccessWriter, NewEntry, Removal};
use crate::aws::AwsError;
use crate::core::cluster::AuthMode;
use crate::core::diff::ExistingEntry;
use crate::core::policy::AccessScope;
use crate::core::steps::{Outcome, Step};
use crate::journal::Journal;

use super::events::Events;
use super::pacer::Verdict;

/// Retry knobs; `AWS_AUTH_MIGRATE_INITIAL_BACKOFF_MS` shortens the first
/// backoff (tests use it).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Backoff {
    pub initial: Duration,
    pub max: Duration,
    pub attempts: u32,
}

impl Default for Backoff {
    fn default() -> Backoff {
        let initial = std::env::var("AWS_AUTH_MIGRATE_INITIAL_BACKOFF_MS")
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .map_or(Duration::from_millis(100), Duration::from_millis);
        Backoff {
            initial,
            max: Duration::from_secs(10),
            attempts: 12,
        }
    }
}

impl Backoff {
    /// Full jitter: a uniform wait in [0, min(max, initial * 2^attempt)).
    fn wait(&self, attempt: u32, salt: u64) -> Duration {
        let ceiling = self
            .initial
            .saturating_mul(1u32 << attempt.min(16))
            .min(self.max);
        let nanos = ceiling.as_nanos().max(1) as u64;
        Duration::from_nanos(jitter(salt) % nanos)
    }
}

/// A cheap per-call pseudo-random number (no shared RNG state).
fn jitter(salt: u64) -> u64 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let mut x = t ^ salt.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x
}

/// How long a cluster update is waited for before giving up.
pub(crate) const MAX_UPDATE_WAIT: Duration = Duration::from_hours(1);

/// How often a running cluster update is polled (5 s;
/// `AWS_AUTH_MIGRATE_POLL_MS` changes it, tests use it).
pub(crate) fn poll_interval() -> Duration {
    std::env::var("AWS_AUTH_MIGRATE_POLL_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .map_or(Duration::from_secs(5), Duration::from_millis)
}

/// How many throttled answers one step takes before it fails.
const MAX_THROTTLES: u32 = 500;

/// Whether an error is worth another try.
pub(crate) fn retryable(e: &AwsError) -> bool {
    match e {
        AwsError::Throttled { .. } | AwsError::Unreachable { .. } => true,
        AwsError::Service { code, .. } => matches!(
            code.as_str(),
            "ServerException"
                | "ServiceUnavailableException"
                | "InternalFailure"
                | "InternalServerError"
                | "ServiceUnavailable"
        ),
        AwsError::Other { message, .. } => message.starts_with("HTTP 5"),
        _ => false,
    }
}

pub(crate) struct Executor {
    pub eks: AccessWriter,
    pub cluster: String,
    pub journal: Arc<Journal>,
    pub backoff: Backoff,
    pub cancel: Arc<AtomicBool>,
    pub events: Events,
    /// The entries as the plan saw them: the `prior` of each intent.
    pub prior: HashMap<String, ExistingEntry>,
    pub calls: std::sync::atomic::AtomicU64,
    /// Shared by every worker: per-operation pacing under throttling.
    pub pacer: super::pacer::Pacer,
}

/// What happened to one step.
#[derive(Debug, Clone)]
pub struct StepResult {
    pub step: Step,
    pub outcome: Outcome,
}

impl Executor {
    pub(crate) fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::SeqCst)
    }

    /// Journals, runs and journals one step. A journal write failure is an
    /// error: nothing is called without its intent on disk.
    pub(crate) async fn run(&self, step: &Step) -> Result<Outcome, crate::journal::JournalError> {
        let prior = step.principal_arn().and_then(|p| self.prior.get(p));
        let seq = self.journal.intent(step, prior)?;
        let started = Instant::now();
        let outcome = self.call_with_retries(step).await;
        self.journal.outcome(seq, outcome.clone())?;
        tracing::info!(
            seq,
            op = step.op(),
            principal = step.principal_arn().unwrap_or_default(),
            outcome = ?outcome,
            elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            "step"
        );
        self.events.step(step, &outcome);
        Ok(outcome)
    }

    /// Runs a principal's steps in order; stops at the first failure (the
    /// rest are not attempted) or when cancelled.
    pub(crate) async fn run_all(
        &self,
        steps: &[Step],
    ) -> Result<Vec<StepResult>, crate::journal::JournalError> {
        let mut out = Vec::new();
        for step in steps {
            if self.cancelled() {
                break;
            }
            let outcome = self.run(step).await?;
            let failed = !outcome.took_effect();
            out.push(StepResult {
                step: step.clone(),
                outcome,
            });
            if failed {
                break;
            }
        }
        Ok(out)
    }

    async fn call_with_retries(&self, step: &Step) -> Outcome {
        let salt = std::ptr::from_ref(self) as u64 ^ step.op().len() as u64;
        let op = step.op();
        let (mut attempt, mut throttles) = (0, 0);
        loop {
            let sent = self.pacer.wait(op).await;
            self.calls.fetch_add(1, Ordering::Relaxed);
            let result = self.call(step).await;
            let throttled = matches!(result, Err(AwsError::Throttled { .. }));
            if let Some(Verdict::Limited(rate)) = self.pacer.answered(op, sent, throttled) {
                self.events.message(&format!(
                    "{op}: EKS is rate-limiting these calls; pacing them at about {rate:.1} per second"
                ));
            }
            match result {
                Ok(response) => return Outcome::Done { response },
                // Throttling is paced rather than backed off: the request is
                // fine, the rate may not be. It gives up only after a long while.
                Err(AwsError::Throttled { .. }) if throttles < MAX_THROTTLES => {
                    throttles += 1;
                    tracing::debug!(op, throttles, "throttled; sent again when paced");
                }
                Err(e) if retryable(&e) && attempt + 1 < self.backoff.attempts => {
                    let wait = self
                        .backoff
                        .wait(attempt, salt.wrapping_add(u64::from(attempt)));
                    tracing::info!(
                        op,
                        attempt = attempt + 1,
                        backoff_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                        error = %e,
                        "retrying the step"
                    );
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                Err(e) => {
                    return Outcome::Failed {
                        code: e.code().unwrap_or(e.kind()).to_string(),
                        message: e.to_string(),
                    }
                }
            }
        }
    }

    /// One call for one step. Ok carries a short response summary for the
    /// journal (never credentials).
    async fn call(&self, step: &Step) -> Result<serde_json::Value, AwsError> {
        match step {
            Step::CreateEntry {
                principal_arn,
                entry_type,
                username,
                kubernetes_groups,
                tags,
                client_request_token,
            } => {
                let entry = NewEntry {
                    principal_arn,
                    entry_type: entry_type.as_str(),
                    username: username.as_deref(),
                    kubernetes_groups,
                    tags,
                    client_request_token,
                };
                self.create_entry(entry).await
            }
            Step::AssociatePolicy {
                principal_arn,
                policy_arn,
                access_scope,
                ..
            } => {
                self.associate_policy(principal_arn, policy_arn, access_scope)
                    .await
            }
            Step::UpdateEntry {
                principal_arn,
                username,
                kubernetes_groups,
                ..
            } => {
                self.update_entry(principal_arn, username.as_deref(), kubernetes_groups)
                    .await
            }
            Step::DeleteEntry { principal_arn, .. } => self.delete_entry(principal_arn).await,
            Step::DisassociatePolicy {
                principal_arn,
                policy_arn,
                ..
            } => self.disassociate_policy(principal_arn, policy_arn).await,
            Step::EnableAccessEntries { .. } => self.enable_access_entries().await,
            Step::PutConfigMap { .. }
            | Step::DeleteConfigMap { .. }
            | Step::CreateConfigMap { .. } => self.configmap_step(step).await,
            // finalize switches to API mode itself, after its own checks:
            // never through this executor. Named, not `_`, so a new Step
            // variant fails to compile here until someone decides.
            Step::SwitchToApi { .. } => Err(AwsError::Other {
                call: step.op().to_string(),
                message: "this step is not run by the access-entry executor".into(),
            }),
        }
    }

    async fn create_entry(&self, entry: NewEntry<'_>) -> Result<serde_json::Value, AwsError> {
        let arn = self.eks.create_access_entry(&self.cluster, entry).await?;
        Ok(json!({"access_entry_arn": arn}))
    }

    async fn associate_policy(
        &self,
        principal_arn: &str,
        policy_arn: &str,
        access_scope: &AccessScope,
    ) -> Result<serde_json::Value, AwsError> {
        self.eks
            .associate_access_policy(&self.cluster, principal_arn, policy_arn, access_scope)
            .await?;
        Ok(json!({"policy_arn": policy_arn, "access_scope": access_scope}))
    }

    async fn update_entry(
        &self,
        principal_arn: &str,
        username: Option<&str>,
        kubernetes_groups: &[String],
    ) -> Result<serde_json::Value, AwsError> {
        self.eks
            .update_access_entry(&self.cluster, principal_arn, username, kubernetes_groups)
            .await?;
        Ok(json!({"username": username, "kubernetes_groups": kubernetes_groups}))
    }

    async fn delete_entry(&self, principal_arn: &str) -> Result<serde_json::Value, AwsError> {
        Ok(
            match self
                .eks
                .delete_access_entry(&self.cluster, principal_arn)
                .await?
            {
                Removal::Removed => json!({"deleted": true}),
                Removal::AlreadyGone => json!({"deleted": false, "already_gone": true}),
            },
        )
    }

    async fn disassociate_policy(
        &self,
        principal_arn: &str,
        policy_arn: &str,
    ) -> Result<serde_json::Value, AwsError> {
        Ok(
            match self
                .eks
                .disassociate_access_policy(&self.cluster, principal_arn, policy_arn)
                .await?
            {
                Removal::Removed => json!({"disassociated": true}),
                Removal::AlreadyGone => json!({"disassociated": false, "already_gone": true}),
            },
        )
    }

    /// An aws-auth step (prune-configmap, finalize and their undo).
    async fn configmap_step(&self, step: &Step) -> Result<serde_json::Value, AwsError> {
        super::configmap::run_step_with(&self.eks, &self.cluster, step)
            .await
            .map_err(|e| AwsError::Other {
                call: format!("{} kube-system/aws-auth", step.op()),
                message: e.to_string(),
            })
    }

    /// `UpdateClusterConfig` to `API_AND_CONFIG_MAP`, then `DescribeUpdate` until
    /// it settles. A second run finds the mode already switched (EKS refuses
    /// the same mode) or an update in progress, and waits for it instead.
    async fn enable_access_entries(&self) -> Result<serde_json::Value, AwsError> {
        let c = &self.cluster;
        let update_id = match self.eks.enable_access_entries(c).await {
            Ok(id) => id,
            Err(err) => return self.already_switched(err).await,
        };
        self.events.message(&format!(
            "switching {c} to API_AND_CONFIG_MAP (update {update_id}); this cannot be undone"
        ));
        self.wait_for_update(&update_id).await
    }

    /// After a refused switch: the cluster already switched (or switching,
    /// waited for) is done; still in `CONFIG_MAP`, the refusal stands.
    async fn already_switched(&self, err: AwsError) -> Result<serde_json::Value, AwsError> {
        let c = &self.cluster;
        let now = self.eks.mode_status(c).await?;
        let updating = now.is_updating();
        let mut mode = now.mode;
        if mode == AuthMode::ConfigMap && updating {
            // An update runs (this migration's own, sent before a
            // crash, or someone else's): wait for it, then look again.
            self.events.message(&format!(
                "{c} has an update in progress: waiting for it to end"
            ));
            mode = self.wait_while_updating().await?;
        }
        if mode != AuthMode::ConfigMap {
            return Ok(json!({"authentication_mode": mode, "already": true}));
        }
        Err(err)
    }

    /// Polls `DescribeUpdate` until the update succeeds, fails or an hour passes.
    async fn wait_for_update(&self, update_id: &str) -> Result<serde_json::Value, AwsError> {
        let c = &self.cluster;
        let started = Instant::now();
        let poll = poll_interval();
        loop {
            tokio::time::sleep(poll).await;
            let status = self.eks.update_status(c, update_id).await?;
            match status.as_str() {
                "Successful" => return Ok(json!({"update_id": update_id, "status": status})),
                "Failed" | "Cancelled" => {
                    return Err(AwsError::Service {
                        call: format!("UpdateClusterConfig {c}"),
                        code: "UpdateFailed".into(),
                        message: format!(
                            "the authentication mode update {update_id} ended {status}"
                        ),
                    })
                }
                _ if started.elapsed() > MAX_UPDATE_WAIT => {
                    return Err(AwsError::Other {
                        call: format!("DescribeUpdate {update_id}"),
                        message: "still in progress after an hour".into(),
                    })
                }
                _ => {}
            }
        }
    }

    /// Polls `DescribeCluster` until the cluster is no longer `UPDATING`;
    /// returns its authentication mode then.
    async fn wait_while_updating(&self) -> Result<AuthMode, AwsError> {
        let started = Instant::now();
        loop {
            tokio::time::sleep(poll_interval()).await;
            let now = self.eks.mode_status(&self.cluster).await?;
            if !now.is_updating() {
                return Ok(now.mode);
            }
            if started.elapsed() > MAX_UPDATE_WAIT {
                return Err(AwsError::Other {
                    call: format!("DescribeCluster {}", self.cluster),
                    message: "the cluster is still UPDATING after an hour".into(),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_bounded_and_grows() {
        let b = Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(2),
            attempts: 5,
        };
        for attempt in 0..10 {
            let w = b.wait(attempt, u64::from(attempt));
            let ceiling =
                Duration::from_millis(100 * (1u64 << attempt)).min(Duration::from_secs(2));
            assert!(w < ceiling, "{attempt}: {w:?} >= {ceiling:?}");
        }
    }

    #[test]
    fn what_is_retried() {
        let t = AwsError::Throttled {
            call: "x".into(),
            message: "m".into(),
        };
        assert!(retryable(&t));
        let s = AwsError::Service {
            call: "x".into(),
            code: "ServerException".into(),
            message: "m".into(),
        };
        assert!(retryable(&s));
        let bad = AwsError::Service {
            call: "x".into(),
            code: "InvalidParameterException".into(),
            message: "m".into(),
        };
        assert!(!retryable(&bad));
        let denied = AwsError::AccessDenied {
            call: "x".into(),
            permission: "p".into(),
            message: "m".into(),
        };
        assert!(!retryable(&denied));
    }
}
