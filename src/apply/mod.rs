//! `apply` and `rollback`: the commands that change a cluster. Every change
//! is a [`Step`](crate::core::steps::Step) journaled before and after its
//! call ([`crate::journal`]); the executor ([`exec`]) runs them; [`events`]
//! tells the caller's sink what happens. Nothing here prints or asks: the
//! caller's [`Presentation`] does.
//!
//! Files of one run, side by side: the journal (`…jsonl`, the rollback
//! record) and its run file (`…jsonl.run.json`: the inputs and the plan
//! being executed, so `--resume` finishes exactly that plan). Both 0600.
//!
//! The parts: [`fresh`] (a plan made now, and the run of any checked plan),
//! [`saved`] (a saved plan, checked against the cluster), [`resume`],
//! [`rollback`], [`run`] (journal, lock, workers), [`settle`] (interrupted
//! steps from the cluster's state), [`run_file`].

pub(crate) mod configmap;
pub(crate) mod events;
pub(crate) mod exec;
pub(crate) mod fresh;
pub(crate) mod pacer;
pub(crate) mod report;
pub(crate) mod resume;
pub(crate) mod rollback;
pub(crate) mod run;
pub(crate) mod run_file;
pub(crate) mod saved;
pub(crate) mod settle;

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};

use crate::aws::{AwsOptions, ClusterFacts};
use crate::core::diff::sha256_hex;
use crate::journal::ClusterInfo;
use crate::live::{self, LiveOptions};

pub use fresh::apply_live_with;
pub use resume::resume;
pub use run::{JournalSpec, Run};
pub use run_file::{run_file_path, RunFile};
pub use saved::apply_saved;
pub use settle::settle_pending;

use events::Events;

/// What an apply was asked to do; saved in the run file so `--resume`
/// can read the cluster again the same way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplyInputs {
    pub cluster: String,
    pub region: Option<String>,
    pub profile: Option<String>,
    pub role_arn: Option<String>,
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    /// `--allow-unverified-context` (absent in older run files: false).
    #[serde(default)]
    pub allow_unverified_context: bool,
    /// `--kube-auth` (absent in older run files: auto).
    #[serde(default)]
    pub kube_auth: crate::kube::KubeAuth,
    pub file: Option<String>,
    pub policy_map: Option<PathBuf>,
    pub allow_lossy: bool,
    pub merge_existing: bool,
    pub concurrency: std::num::NonZeroUsize,
    pub iam_role_for: Vec<String>,
    pub enable_access_entries: bool,
}

impl ApplyInputs {
    pub fn live_options(&self) -> Result<LiveOptions> {
        LiveOptions::from_flags(live::LiveFlags {
            cluster: &self.cluster,
            aws: self.aws(),
            kube: live::kube_target(
                self.kubeconfig.clone(),
                self.context.clone(),
                crate::kube::Unverified::from_flag(self.allow_unverified_context, true),
                self.kube_auth,
            ),
            file: self.file.as_deref(),
            concurrency: self.concurrency,
            iam_role_for: &self.iam_role_for,
            policy_map: self.policy_map.as_deref(),
            allow_lossy: self.allow_lossy,
            merge_existing: self.merge_existing,
        })
    }

    pub fn aws(&self) -> AwsOptions {
        AwsOptions {
            profile: self.profile.clone(),
            region: self.region.clone(),
            role_arn: self.role_arn.clone(),
        }
    }
}

/// Asks the person to confirm a change (`Err`: not confirmed).
pub type Confirm = Arc<dyn Fn(&str) -> Result<()> + Send + Sync>;

/// How the person or script asked to be told, and asked.
#[derive(Clone)]
pub struct Presentation {
    /// Where the run's events go.
    pub events: Events,
    /// `--yes`: no question asked.
    pub yes: bool,
    pub journal: Option<PathBuf>,
    /// Asks when not `yes`; `None`: nobody to ask, so refused.
    pub ask: Option<Confirm>,
}

impl Presentation {
    /// `--yes`, or the answer of `ask`.
    pub fn confirm(&self, question: &str) -> Result<()> {
        if self.yes {
            return Ok(());
        }
        match &self.ask {
            Some(ask) => ask(question),
            None => {
                bail!("refusing to change the cluster without confirmation: pass --yes to confirm")
            }
        }
    }
}

/// A new migration id: UTC time and a random suffix.
pub fn new_migration_id() -> String {
    let now = chrono::Utc::now();
    let salt = format!(
        "{}-{}",
        now.timestamp_nanos_opt().unwrap_or(0),
        std::process::id()
    );
    let hex = sha256_hex(salt.as_bytes());
    format!("mig-{}-{}", now.format("%Y%m%dT%H%M%SZ"), &hex[..6])
}

pub fn cluster_info(facts: &ClusterFacts) -> ClusterInfo {
    ClusterInfo {
        name: facts.name.clone(),
        region: facts.region.clone(),
        account: facts.account.clone(),
        arn: facts.arn.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migration_ids_are_unique_and_sortable() {
        let a = new_migration_id();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = new_migration_id();
        assert!(
            a.starts_with("mig-") && a.len() == "mig-20261128T180501Z-abcdef".len(),
            "{a}"
        );
        assert_ne!(a, b);
    }
}
