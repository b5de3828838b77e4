//! Steps whose outcome was never written (the run was killed between the
//! call and the journal line): settled from the state observed now, never
//! guessed.

use anyhow::{bail, Result};

use crate::aws::ClusterFacts;
use crate::core::steps::{self, Step};
use crate::journal::{self, Journal};

use super::exec;
use super::run::Run;

/// Writes an outcome for every step of `contents` that has an intent and
/// no outcome, from the state observed now (never a guess). The caller
/// holds the cluster's lock, so no other run writes that journal. A mode
/// switch still running (the cluster `UPDATING`, still in the mode it left)
/// is waited for, then observed again: its outcome is always written.
pub async fn settle_pending(
    run: &Run,
    journal: &Journal,
    contents: &journal::JournalContents,
) -> Result<usize> {
    let mut settled = 0;
    for intent in journal::pending(contents) {
        let outcome = match &intent.step {
            Step::EnableAccessEntries { .. } => {
                let f = run.clients.eks.describe_cluster(&run.facts.name).await?;
                let mut s =
                    steps::settle_mode(&intent.step, &f.authentication_mode, f.is_updating());
                if s == steps::Settled::InProgress {
                    run.events.message(&format!(
                        "the switch to API_AND_CONFIG_MAP sent before the interruption is still running on {}: waiting for it to end",
                        run.facts.name
                    ));
                    let f = wait_while_updating(run).await?;
                    s = steps::settle_mode(&intent.step, &f.authentication_mode, false);
                }
                s
            }
            step => {
                let p = step.principal_arn().unwrap_or_default();
                let observed = run.clients.eks.existing_entry(&run.facts.name, p).await?;
                steps::settle(step, observed.as_ref())
            }
        };
        if let Some(o) = outcome.to_outcome() {
            journal.outcome(intent.seq, o)?;
            settled += 1;
        }
    }
    Ok(settled)
}

/// Polls `DescribeCluster` until the cluster is no longer `UPDATING`.
async fn wait_while_updating(run: &Run) -> Result<ClusterFacts> {
    let started = std::time::Instant::now();
    loop {
        tokio::time::sleep(exec::poll_interval()).await;
        let f = run.clients.eks.describe_cluster(&run.facts.name).await?;
        if !f.is_updating() {
            return Ok(f);
        }
        if started.elapsed() > exec::MAX_UPDATE_WAIT {
            bail!(
                "cluster {} is still UPDATING after an hour: resume again once its update has ended",
                run.facts.name
            );
        }
    }
}
