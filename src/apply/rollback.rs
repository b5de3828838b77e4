//! `rollback`: undoes, in reverse order, every step of an apply that took
//! effect, touching nothing the tool did not create or change, and checking
//! before each undo that the resource is still as the tool left it.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

use crate::aws::{AwsOptions, Clients, ClusterFacts};
use crate::core::cluster::AuthMode;
use crate::core::steps::{self, Inverse, Outcome, Step, TAG_MIGRATION_ID};
use crate::journal::{self, ClusterInfo, Command, Journal, JournalContents};

use super::exec::StepResult;
use super::report::Report;
use super::run::{start_run, JournalSpec, Run};
use super::settle::settle_pending;
use super::Presentation;

#[derive(Debug, Clone, Default)]
pub(crate) struct RollbackFlags {
    pub aws: AwsOptions,
    pub force: bool,
}

/// The rollback journal of an apply journal: `<journal>.rollback.jsonl`.
pub(crate) fn rollback_journal_path(journal: &Path) -> PathBuf {
    let mut s = journal.as_os_str().to_owned();
    s.push(".rollback.jsonl");
    PathBuf::from(s)
}

/// In `API` mode EKS no longer reads aws-auth, and the mode cannot be
/// switched back: deleting the entries an apply made would take away the
/// access they carry with nothing to fall back on (admins locked out, nodes
/// unable to join). Refused unless `--force`.
pub(crate) fn refuse_in_api_mode(cluster: &str, mode: &AuthMode, force: bool) -> Result<()> {
    if *mode == AuthMode::Api && !force {
        bail!(
            "cluster {cluster} is in API mode (finalized): EKS no longer reads aws-auth and the mode cannot be switched back, so deleting the migrated access entries would remove that access outright; rolling back is refused (--force deletes them anyway)"
        );
    }
    Ok(())
}

/// Rolls back the apply recorded in `journal_path`. Running it again
/// finishes an interrupted rollback: undos already done are not repeated.
pub(crate) async fn rollback(
    journal_path: &Path,
    flags: RollbackFlags,
    presentation: Presentation,
) -> Result<Report> {
    let contents = journal::read(journal_path)?;
    if contents.header.command != Command::Apply {
        bail!("{} is not an apply journal", journal_path.display());
    }
    let rb_path = presentation
        .journal
        .clone()
        .unwrap_or_else(|| rollback_journal_path(journal_path));
    let cluster = contents.header.cluster.name.clone();
    let (clients, facts) = connect_to_journal_cluster(&contents.header.cluster, &flags).await?;
    let spec = if journal::exists(&rb_path)? {
        JournalSpec::Append(rb_path.clone())
    } else {
        JournalSpec::New {
            path: Some(rb_path.clone()),
            migration_id: Some(contents.header.migration_id.clone()),
            command: Command::Rollback,
            rollback_of: Some(journal_path.display().to_string()),
            run_file: None,
        }
    };
    let (run, rb_contents) = start_run(
        clients,
        facts,
        &presentation,
        spec,
        std::num::NonZeroUsize::MIN,
    )?;
    let already = settle_both(&run, journal_path, &rb_path, rb_contents.as_ref()).await?;
    let contents = journal::read(journal_path)?;
    let undos = steps::rollback_steps(&journal::effective(&contents));
    let todo = undos
        .iter()
        .filter(|u| match &u.inverse {
            Inverse::Undo { step } => !already.contains(step),
            _ => true,
        })
        .count();
    presentation.confirm(&format!(
        "Roll back {todo} change(s) of {} on cluster {cluster}?",
        contents.header.migration_id
    ))?;
    run.events
        .message(&format!("rollback journal: {}", run.journal_path.display()));
    let (results, irreversible) = undo_all(&run, &undos, &already, flags.force).await?;
    let total = results.len();
    let mut report = Report::new(&run, results, total);
    report.irreversible = irreversible;
    report.rollback = true;
    Ok(report)
}

/// Connects to the journal's cluster (its region unless one is given) and
/// checks it is that cluster, and that it is not in API mode (unless
/// `--force`).
async fn connect_to_journal_cluster(
    journaled: &ClusterInfo,
    flags: &RollbackFlags,
) -> Result<(Clients, ClusterFacts)> {
    let mut aws = flags.aws.clone();
    if aws.region.is_none() {
        aws.region = Some(journaled.region.clone());
    }
    let clients = Clients::connect(&aws, &Default::default()).await?;
    let facts = clients.eks.describe_cluster(&journaled.name).await?;
    if facts.arn != journaled.arn && !journaled.arn.is_empty() {
        bail!(
            "the journal is for {}, but the credentials reach {}: use the same account and region",
            journaled.arn,
            facts.arn
        );
    }
    refuse_in_api_mode(&journaled.name, &facts.authentication_mode, flags.force)?;
    Ok((clients, facts))
}

/// Settles the interrupted steps of an earlier rollback, then those of the
/// apply; returns the undos that earlier rollbacks did.
async fn settle_both(
    run: &Run,
    journal_path: &Path,
    rb_path: &Path,
    rb_contents: Option<&JournalContents>,
) -> Result<Vec<Step>> {
    // An undo of an earlier, interrupted rollback that has no outcome
    // may have taken effect: settle it from the cluster's state, so it
    // counts as this tool's own undo (not someone else's change).
    if let Some(rb) = rb_contents {
        settle_pending(run, &run.journal, rb).await?;
    }
    let already: Vec<Step> = if rb_contents.is_some() {
        journal::effective(&journal::read(rb_path)?)
            .into_iter()
            .filter(|(_, o)| o.took_effect())
            .map(|(s, _)| s)
            .collect()
    } else {
        Vec::new()
    };
    // Steps interrupted before their outcome was written may have taken
    // effect: settle them from the cluster's state first (under the
    // lock, so no apply is writing that journal).
    let (apply_journal, pending_contents) = Journal::open_append(journal_path)?;
    settle_pending(run, &apply_journal, &pending_contents).await?;
    drop(apply_journal);
    Ok(already)
}

/// Undoes `undos` in order (skipping those in `already`) until done or
/// interrupted; returns the results and the undos that cannot be done.
async fn undo_all(
    run: &Run,
    undos: &[steps::Undo],
    already: &[Step],
    force: bool,
) -> Result<(Vec<StepResult>, Vec<String>)> {
    let executor = run.executor(None);
    let mut results = Vec::new();
    let mut irreversible = Vec::new();
    run.events.phase("rollback", undos.len() as u64);
    for undo in undos {
        if run.cancelled() {
            break;
        }
        let inverse = match &undo.inverse {
            Inverse::Irreversible { reason } => {
                irreversible.push(format!("{}: {reason}", undo.step.op()));
                continue;
            }
            Inverse::Covered { .. } => continue,
            Inverse::Undo { step } => step.clone(),
        };
        if already.contains(&inverse) {
            continue;
        }
        let outcome = match settled_without_call(run, undo, &inverse, force).await? {
            Some(outcome) => outcome,
            None => executor.run(&inverse).await?,
        };
        results.push(StepResult {
            step: inverse,
            outcome,
        });
    }
    run.events.finish();
    Ok((results, irreversible))
}

/// An undo that needs no call, journaled: its entry deleted by someone else,
/// or changed since the apply (unless `--force`). `None`: make the call.
async fn settled_without_call(
    run: &Run,
    undo: &steps::Undo,
    inverse: &Step,
    force: bool,
) -> Result<Option<Outcome>> {
    let principal = inverse.principal_arn().unwrap_or_default().to_string();
    let observed = run
        .clients
        .eks
        .existing_entry(&run.facts.name, &principal)
        .await?;
    if observed.is_none() && matches!(inverse, Step::DeleteEntry { .. }) {
        // Gone already, and not by this rollback (its own deletes
        // are in `already`): someone else deleted it. The end state
        // is reached, but not by the tool: reported like any other
        // change since the apply (skipped, exit 3) unless --force.
        let seq = run.journal.intent(inverse, None)?;
        let outcome = if force {
            Outcome::Done {
                response: serde_json::json!({"already_gone": true}),
            }
        } else {
            Outcome::skipped(format!(
                "the entry for {principal} was deleted by someone else since the apply: nothing to undo"
            ))
        };
        run.events.step(inverse, &outcome);
        run.journal.outcome(seq, outcome.clone())?;
        return Ok(Some(outcome));
    }
    if let Err(why) = steps::still_as_left(undo, observed.as_ref()) {
        if !force {
            let seq = run.journal.intent(inverse, observed.as_ref())?;
            let outcome = Outcome::skipped(format!(
                "changed since the apply: {why} (--force undoes it anyway)"
            ));
            run.journal.outcome(seq, outcome.clone())?;
            run.events.step(inverse, &outcome);
            return Ok(Some(outcome));
        }
    }
    Ok(None)
}

/// `rollback --migration-id ID --cluster NAME`: without the journal, finds
/// the entries the tool created by their tag and deletes them.
pub(crate) async fn rollback_by_tag(
    migration_id: &str,
    cluster: &str,
    flags: RollbackFlags,
    presentation: Presentation,
) -> Result<Report> {
    let clients = Clients::connect(&flags.aws, &Default::default()).await?;
    let facts = clients.eks.describe_cluster(cluster).await?;
    refuse_in_api_mode(cluster, &facts.authentication_mode, flags.force)?;
    let existing = clients
        .eks
        .existing_entries(cluster, crate::live::DEFAULT_CONCURRENCY)
        .await?;
    let ours: Vec<_> = existing
        .into_iter()
        .filter(|e| e.tags.get(TAG_MIGRATION_ID).map(String::as_str) == Some(migration_id))
        .collect();
    if ours.is_empty() {
        bail!("no access entry of cluster {cluster} carries tag {TAG_MIGRATION_ID}={migration_id}");
    }
    presentation.confirm(&format!(
        "Delete the {} access entries of {cluster} tagged {migration_id}?",
        ours.len()
    ))?;
    let spec = JournalSpec::New {
        path: presentation.journal.clone(),
        migration_id: Some(format!("{migration_id}-rollback")),
        command: Command::Rollback,
        rollback_of: Some(format!("tag:{migration_id}")),
        run_file: None,
    };
    let (run, _) = start_run(
        clients,
        facts,
        &presentation,
        spec,
        std::num::NonZeroUsize::MIN,
    )?;
    run.events
        .message(&format!("rollback journal: {}", run.journal_path.display()));
    let steps: Vec<Step> = ours
        .iter()
        .map(|e| Step::DeleteEntry {
            principal_arn: e.principal_arn.clone(),
            tags: e.tags.clone(),
        })
        .collect();
    let results = run.execute(None, &steps, "rollback").await?;
    let mut report = Report::new(&run, results, steps.len());
    report.rollback = true;
    Ok(report)
}
