//! `prune-configmap`: removes from aws-auth the rows verify proves
//! migrated, keeping every other byte. The whole `ConfigMap` goes into the
//! journal (the intent of a `put-configmap` step) before the PUT, and the
//! PUT carries the resourceVersion read: on 409 the `ConfigMap` is read and
//! verified again and the edit recomputed, up to [`ATTEMPTS`] times.

use std::collections::BTreeSet;
use std::path::PathBuf;

use anyhow::{bail, Result};

use super::{check, connect, start_journal, Checked, Event, FinishOptions, Progress};
use crate::apply::configmap::{self, WriteError};
use crate::aws::Clients;
use crate::core::input::Section;
use crate::core::steps::{self, Settled, Step};
use crate::journal::Command;

/// Reads (and PUT attempts) before giving up on concurrent edits.
pub(crate) const ATTEMPTS: usize = 3;

#[derive(Debug, Clone)]
pub(crate) struct PruneOptions {
    pub finish: FinishOptions,
    pub yes: bool,
    pub dry_run: bool,
    pub journal: Option<PathBuf>,
    /// `--resume JOURNAL`: settle a pending put-configmap first.
    pub resume: Option<PathBuf>,
}

/// What a prune did. As JSON (`--output json`): `result` says which
/// (`nothing`, `dry_run`, `pruned`), beside the variant's fields.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub(crate) enum PruneReport {
    /// Nothing proven migrated: aws-auth unchanged.
    Nothing,
    /// `--dry-run`: what would be removed.
    DryRun { rows: Vec<String> },
    Pruned {
        rows: Vec<String>,
        journal: PathBuf,
        resource_version: Option<String>,
    },
}

impl PruneReport {
    /// Every way a prune ends without error is a success.
    pub(crate) fn outcome(&self) -> crate::outcome::Outcome {
        crate::outcome::Outcome::Ok
    }
}

/// The rows to remove: (section, index) and their ids with principals.
fn targets(c: &Checked) -> (BTreeSet<(Section, usize)>, Vec<String>) {
    let mut set = BTreeSet::new();
    let mut shown = Vec::new();
    for r in c.verification.prunable() {
        if let Some(i) = r.index {
            set.insert((r.section, i));
            shown.push(format!(
                "{} {} ({})",
                r.id,
                r.arn.as_deref().unwrap_or("-"),
                r.status.as_str()
            ));
        }
    }
    (set, shown)
}

/// Runs prune-configmap. Progress and the confirmation go through
/// `progress`; the report says what it did.
pub(crate) async fn run(
    clients: &Clients,
    opts: &PruneOptions,
    progress: &dyn Progress,
) -> Result<PruneReport> {
    if opts.finish.live.file.is_some() {
        bail!("prune-configmap edits the cluster's aws-auth: --file cannot be used");
    }
    let (facts, _) = crate::live::cluster_and_caller(clients, &opts.finish.live.cluster).await?;
    let target = connect(clients, &opts.finish.live.kube, &facts, progress).await?;
    let mut held = None;
    if let Some(path) = &opts.resume {
        let (journal, contents, lock) =
            super::resume_journal(path, &facts, Command::PruneConfigmap)?;
        for pending in crate::journal::pending(&contents) {
            let observed = target.observe().await?.data();
            let settled = steps::settle_configmap(&pending.step, observed.as_ref());
            if let Some(outcome) = settled.to_outcome() {
                journal.outcome(pending.seq, outcome)?;
            }
            if settled == Settled::Done {
                progress.event(Event::PutTookEffect { seq: pending.seq });
            }
        }
        held = Some((journal, lock));
    }
    for attempt in 1..=ATTEMPTS {
        let checked = check(clients, &opts.finish).await?;
        let (remove, shown) = targets(&checked);
        if remove.is_empty() {
            return Ok(PruneReport::Nothing);
        }
        let observed = target.observe().await?;
        if !observed.exists() {
            bail!("aws-auth disappeared while pruning");
        }
        if observed.resource_version() != checked.inputs.aws_auth.resource_version {
            // Changed between the verify read and this one: verify again.
            continue;
        }
        let before = observed.data().unwrap_or_default();
        let after = super::edit::prune_data(&before, &remove)?;
        let ids: Vec<String> = shown
            .iter()
            .map(|s| s.split(' ').next().unwrap_or_default().to_string())
            .collect();
        if attempt == 1 {
            progress.event(Event::PrunePlan {
                cluster: &facts.name,
                rows: &shown,
                kept: checked.verification.rows.len() - shown.len(),
            });
            if opts.dry_run {
                return Ok(PruneReport::DryRun { rows: ids });
            }
            progress.confirm(
                "aws-auth will be backed up into the journal, then rewritten (rollback restores it).",
                opts.yes,
            )?;
        } else {
            progress.event(Event::PruneRetry { ids: &ids });
        }
        if held.is_none() {
            held = Some(start_journal(
                opts.journal.as_deref(),
                &facts,
                Command::PruneConfigmap,
                progress,
            )?);
        }
        let Some((journal, _)) = held.as_ref() else {
            bail!("no journal to record the change in");
        };
        if attempt == 1 {
            progress.event(Event::Journal(journal.path()));
        }
        let step = Step::PutConfigMap {
            backup_data: before,
            backup_resource_version: observed.resource_version(),
            new_data: after.clone(),
            removed_rows: ids.clone(),
        };
        let seq = journal.intent(&step, None)?;
        let result = target
            .replace_data(&observed, &after)
            .await
            .map(|rv| serde_json::json!({"resource_version": rv}));
        journal.outcome(seq, configmap::outcome_of(&result))?;
        match result {
            Ok(v) => {
                let rv = v["resource_version"].as_str().map(str::to_string);
                return Ok(PruneReport::Pruned {
                    rows: ids,
                    journal: journal.path().to_path_buf(),
                    resource_version: rv,
                });
            }
            Err(WriteError::Conflict(m)) => {
                progress.event(Event::PruneConflict { message: &m });
            }
            Err(e) => return Err(e.into()),
        }
    }
    let journal = held
        .as_ref()
        .map(|(j, _)| format!(" (journal {})", j.path().display()))
        .unwrap_or_default();
    bail!(
        "aws-auth kept changing while pruning ({ATTEMPTS} attempts, each a 409 Conflict or a new resourceVersion): stopped without changing it{journal}; run prune-configmap again when edits have stopped"
    )
}
