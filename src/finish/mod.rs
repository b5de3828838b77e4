//! Finishing a migration: `verify` (parity of aws-auth and the access
//! entries), `prune-configmap` (remove the migrated rows from aws-auth) and
//! `finalize` (switch to API mode, optionally delete aws-auth). Prune and
//! finalize write the same journal as apply (docs/journal.md), so rollback
//! and resume cover them. docs/verify-and-finalize.md describes them.

pub(crate) mod edit;
pub(crate) mod finalize;
pub(crate) mod progress;
pub(crate) mod prune;
pub(crate) mod render;
pub mod undo;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

use crate::aws::{self, Clients, ClusterFacts};
use crate::core::arn::{self, ArnClass};
use crate::core::equivalence::{self, AfterFrom};
use crate::core::plan::Plan;
use crate::core::rbac::rights::Index;
use crate::core::verify::{self, RowId, Verification};
use crate::journal::{self, ClusterLock, Command, Header, Journal};
use crate::kube;
use crate::live::{self, LiveOptions, LivePlanInputs};

pub use crate::apply::{cluster_info, new_migration_id};
pub use progress::{Event, Progress};

/// What verify, prune and finalize read the cluster with.
#[derive(Debug, Clone)]
pub struct FinishOptions {
    /// As for `plan --cluster`; lossy entries are always planned (so their
    /// rows are compared too) and `merge_existing` is off.
    pub live: LiveOptions,
    /// `--accept-gaps`.
    pub accept_gaps: Vec<RowId>,
    /// `--accept-access-loss`: principal ARNs.
    pub accept_access_loss: Vec<String>,
}

/// A verification and what it was computed from.
#[derive(Debug, Clone)]
pub struct Checked {
    pub inputs: LivePlanInputs,
    pub plan: Plan,
    pub verification: Verification,
}

/// Reads the cluster, EKS and IAM (as `plan --cluster`), plus IAM for the
/// principals of the existing entries, and checks parity.
pub async fn check(clients: &Clients, opts: &FinishOptions) -> Result<Checked> {
    let mut live_opts = opts.live.clone();
    live_opts.translate.allow_lossy = true;
    live_opts.merge_existing = false;
    // Rights are compared as well as names (core::verify::add_access).
    live_opts.read_rbac = true;
    let inputs = live::gather(clients, &live_opts).await?;
    let plan = live::plan(&inputs, &live_opts.translate, false)?;
    let principals: Vec<arn::PrincipalArn> = inputs
        .existing
        .iter()
        .filter_map(|e| match arn::classify(&e.principal_arn) {
            ArnClass::Principal(p) => Some(p),
            _ => None,
        })
        .collect();
    let readers = clients.iam_readers(&inputs.caller.account);
    let lookups = aws::iam::lookup_all(&readers, &principals, live_opts.concurrency).await?;
    let caller = Some(inputs.caller.arn.as_str()).filter(|a| !a.is_empty());
    let mut verification = verify::verify(&plan, &lookups, caller, &opts.accept_gaps)
        .map_err(|e| anyhow::anyhow!(e))?;
    if let Some(notice) = &inputs.aws_auth.context_notice {
        verification.notices.push(notice.clone());
    }
    match &inputs.rbac {
        Some((snapshot, source)) => {
            let index = Index::new(snapshot);
            let report = equivalence::analyse(&plan, &index, source.clone(), AfterFrom::Existing);
            verify::add_access(&mut verification, report, &opts.accept_access_loss)?;
        }
        None => {
            verify::no_analysis(&opts.accept_access_loss)?;
            verification.notices.push(
                "rights were not compared (RBAC is read only with aws-auth from the cluster): parity here is by names, groups and policies"
                    .into(),
            );
        }
    }
    Ok(Checked {
        inputs,
        plan,
        verification,
    })
}

/// A new journal for `command` (at `path`, or the default location) and
/// the per-cluster lock, held while the journal is written.
pub fn start_journal(
    path: Option<&Path>,
    facts: &ClusterFacts,
    command: Command,
    progress: &dyn Progress,
) -> Result<(Journal, ClusterLock)> {
    let info = cluster_info(facts);
    let lock = ClusterLock::acquire(&journal::state_dir()?, &info.lock_key())?;
    if let Some(m) = lock.message() {
        progress.event(Event::LockTakenOver(&m));
    }
    let migration_id = new_migration_id();
    let path: PathBuf = match path {
        Some(p) => p.to_path_buf(),
        None => journal::default_path(&facts.name, &migration_id)?,
    };
    let header = Header::new(env!("CARGO_PKG_VERSION"), &migration_id, info, command);
    let journal = Journal::create(&path, header)?;
    Ok((journal, lock))
}

/// The kube client for the cluster's aws-auth. A context used though it
/// cannot be tied to the cluster (`--allow-unverified-context`, or a dry
/// run) is said as [`Event::ContextNotice`].
pub async fn connect(
    clients: &Clients,
    kube_target: &kube::KubeTarget,
    facts: &ClusterFacts,
    progress: &dyn Progress,
) -> Result<crate::apply::configmap::Target> {
    let target = crate::apply::configmap::connect(clients, kube_target, facts).await?;
    if let Some(notice) = &target.notice {
        progress.event(Event::ContextNotice(notice));
    }
    Ok(target)
}

/// Continues a journal (`--resume`): checks it is of `command` and of this
/// cluster, and takes the lock.
pub fn resume_journal(
    path: &Path,
    facts: &ClusterFacts,
    command: Command,
) -> Result<(Journal, journal::JournalContents, ClusterLock)> {
    let info = cluster_info(facts);
    let lock = ClusterLock::acquire(&journal::state_dir()?, &info.lock_key())?;
    let (journal, contents) = Journal::open_append(path)?;
    if contents.header.command != command {
        bail!(
            "journal {} records a {:?} run, not {:?}",
            path.display(),
            contents.header.command,
            command
        );
    }
    if contents.header.cluster.arn != facts.arn {
        bail!(
            "journal {} is about cluster {}, not {}",
            path.display(),
            contents.header.cluster.arn,
            facts.arn
        );
    }
    Ok((journal, contents, lock))
}

/// How often to poll an update (`AWS_AUTH_MIGRATE_POLL_MS`, default 5 s).
pub fn poll_interval() -> std::time::Duration {
    let ms = std::env::var("AWS_AUTH_MIGRATE_POLL_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(5000);
    std::time::Duration::from_millis(ms.max(1))
}

/// The data of a `BTreeMap` for display: `key (N bytes)`.
pub fn describe_keys(data: &BTreeMap<String, String>) -> String {
    data.iter()
        .map(|(k, v)| format!("{k} ({} bytes)", v.len()))
        .collect::<Vec<_>>()
        .join(", ")
}
