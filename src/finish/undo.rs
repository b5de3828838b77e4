//! Rolling back a `prune-configmap` or `finalize` journal: each aws-auth
//! step that took effect is undone in reverse order (a prune's PUT by
//! putting the backup back, a deletion by recreating the `ConfigMap` from its
//! backup), each only while aws-auth is exactly as the tool left it; the
//! switch to API mode is listed as irreversible. The undo is journaled in a
//! rollback journal of its own (`rollback_of` names the journal undone).

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

use crate::apply::configmap::{self, Target, WriteError};
use crate::core::steps::{self, Inverse, Outcome};
use crate::journal::{self, Command, Header, Journal};

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct UndoReport {
    /// Steps undone (`put-configmap: restore mapRoles#2`...).
    pub undone: Vec<String>,
    /// Undos not made because aws-auth changed since: what changed.
    pub skipped: Vec<String>,
    /// Steps that cannot be undone, with why.
    pub irreversible: Vec<String>,
    /// The rollback journal written.
    pub journal: PathBuf,
}

fn describe(step: &steps::Step) -> String {
    match step {
        steps::Step::PutConfigMap { removed_rows, .. } if !removed_rows.is_empty() => {
            format!("{} ({})", step.op(), removed_rows.join(", "))
        }
        other => other.op().to_string(),
    }
}

/// Undoes the aws-auth steps of `journal_path` (a prune-configmap or
/// finalize journal) on the cluster `target` points at, writing the
/// rollback journal to `out`.
pub async fn rollback(target: &Target, journal_path: &Path, out: &Path) -> Result<UndoReport> {
    let contents = journal::read(journal_path)?;
    if !matches!(
        contents.header.command,
        Command::PruneConfigmap | Command::Finalize
    ) {
        bail!(
            "journal {} records a {:?} run: only prune-configmap and finalize journals are undone here",
            journal_path.display(),
            contents.header.command
        );
    }
    let pending = journal::pending(&contents);
    if let Some(p) = pending.first() {
        bail!(
            "journal {} has a step without outcome ({} at seq {}): resume it first (--resume) so its effect is known",
            journal_path.display(),
            p.step.op(),
            p.seq
        );
    }
    let undos = steps::rollback_steps(&journal::effective(&contents));
    let mut header = Header::new(
        env!("CARGO_PKG_VERSION"),
        &contents.header.migration_id,
        contents.header.cluster.clone(),
        Command::Rollback,
    );
    header.rollback_of = Some(journal_path.display().to_string());
    let rb = Journal::create(out, header)?;
    let mut report = UndoReport {
        journal: out.to_path_buf(),
        ..UndoReport::default()
    };
    for undo in undos {
        let step = match &undo.inverse {
            Inverse::Irreversible { reason } => {
                report
                    .irreversible
                    .push(format!("{}: {reason}", undo.step.op()));
                continue;
            }
            Inverse::Covered { .. } => continue,
            Inverse::Undo { step } => step.clone(),
        };
        let seq = rb.intent(&step, None)?;
        let result = configmap::run_on(target, &step).await;
        match result {
            Err(WriteError::Precondition(why)) => {
                rb.outcome(
                    seq,
                    Outcome::skipped(format!("changed since the tool left it: {why}")),
                )?;
                report.skipped.push(format!("{}: {why}", describe(&step)));
            }
            other => {
                rb.outcome(seq, configmap::outcome_of(&other))?;
                other?;
                report.undone.push(describe(&step));
            }
        }
    }
    Ok(report)
}
