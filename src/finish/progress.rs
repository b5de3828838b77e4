//! What prune-configmap and finalize say while they run, as values: the
//! command shows each [`Event`] as it comes (`finish::render::event`) and
//! asks the confirmations, through a [`Progress`] it passes in. What a run
//! ends with is its report (`FinalizeReport`, `PruneReport`).

use std::path::Path;

use crate::core::verify::Verification;

/// Something a run says before it ends, in the order it happens.
#[derive(Debug, Clone, Copy)]
pub enum Event<'a> {
    /// The kube context is used though it cannot be tied to the cluster
    /// (`--allow-unverified-context`, or a dry run): why.
    ContextNotice(&'a str),
    /// The cluster's lock was taken over from a run that no longer runs.
    LockTakenOver(&'a str),
    /// The journal the run writes.
    Journal(&'a Path),
    /// Resuming: what the cluster shows of a pending step differs from it.
    Diverged { op: &'a str, seq: u64, why: &'a str },
    /// Resuming prune-configmap: the interrupted put-configmap took effect.
    PutTookEffect { seq: u64 },
    /// finalize's plan, shown before it asks.
    FinalizePlan {
        cluster: &'a str,
        region: &'a str,
        from_mode: &'a str,
        delete_configmap: bool,
        skip_compute_check: bool,
        verification: &'a Verification,
    },
    /// finalize on a cluster already in API mode: aws-auth is to be deleted
    /// (shown before it asks).
    DeletePlan { cluster: &'a str },
    /// The switch to API mode was sent; waiting for the update.
    Switching,
    /// The cluster is in API mode now.
    Switched { cluster: &'a str },
    /// prune-configmap's plan (the rows with their principals and status),
    /// shown before it asks.
    PrunePlan {
        cluster: &'a str,
        rows: &'a [String],
        kept: usize,
    },
    /// aws-auth changed between reads: verified again, these rows go.
    PruneRetry { ids: &'a [String] },
    /// The PUT met a 409: reading aws-auth again.
    PruneConflict { message: &'a str },
}

/// Where a run's events go, and who confirms its changes.
pub trait Progress: Sync {
    fn event(&self, event: Event<'_>);
    /// Asks `question` before a change unless `yes` (`--yes`); an error
    /// when not confirmed.
    fn confirm(&self, question: &str, yes: bool) -> anyhow::Result<()>;
}
