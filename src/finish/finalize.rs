//! `finalize`: switch the cluster to API mode once nothing would be lost,
//! then (with `--delete-configmap`) back aws-auth up into the journal and
//! delete it. Refuses, changing nothing, unless verify shows parity (or
//! `--accept-gaps` names every gap), the caller keeps cluster admin through
//! an access entry, every node role of aws-auth and every managed node
//! group / Fargate profile role has a node entry, and no update runs.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use serde_json::json;

use super::{
    check, connect, poll_interval, start_journal, Checked, Event, FinishOptions, Progress,
};
use crate::apply::configmap::{self, Target};
use crate::aws::cluster_config::UpdateStatus;
use crate::aws::{AwsError, Clients, ClusterFacts};
use crate::core::cluster::AuthMode;
use crate::core::steps::{self, Settled, Step};
use crate::core::verify;
use crate::journal::{ClusterLock, Command, Journal};
use crate::outcome::{one_line, Outcome};

#[derive(Debug, Clone)]
pub(crate) struct FinalizeOptions {
    pub finish: FinishOptions,
    pub yes: bool,
    pub delete_configmap: bool,
    pub journal: Option<PathBuf>,
    pub resume: Option<PathBuf>,
    /// How long to wait for the mode update.
    pub timeout: Duration,
    /// Do not list managed node groups and Fargate profiles (their roles are
    /// then not checked).
    pub skip_compute_check: bool,
}

/// How a finalize ended (errors before any change are `Err`). As JSON
/// (`--output json`): `result` says which (`already_api`,
/// `config_map_deleted`, `refused`, `switched`), beside the variant's fields.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub(crate) enum FinalizeReport {
    /// The cluster was in API mode already and aws-auth is left as it is:
    /// `configmap_present` without `--delete-configmap`, or it is gone.
    AlreadyApi {
        cluster: String,
        configmap_present: bool,
    },
    /// The cluster was in API mode already: aws-auth was backed up into
    /// `journal` and deleted.
    ConfigMapDeleted { journal: PathBuf },
    /// Refused: nothing was changed.
    Refused {
        cluster: String,
        mode: String,
        blockers: Vec<String>,
    },
    /// Switched to API mode; `configmap`: what `--delete-configmap` did.
    Switched {
        journal: PathBuf,
        configmap: Option<Deletion>,
    },
}

/// What deleting aws-auth after the switch did. As JSON: `{"status":
/// "deleted"}`, `{"status": "absent"}` or `{"status": "failed", "error": why}`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "status", content = "error", rename_all = "snake_case")]
pub(crate) enum Deletion {
    /// Backed up into the journal and deleted.
    Deleted,
    /// aws-auth no longer existed.
    Absent,
    /// It failed (why, on one line): the cluster is in API mode anyway.
    Failed(String),
}

impl FinalizeReport {
    pub(crate) fn outcome(&self) -> Outcome {
        match self {
            FinalizeReport::Refused { .. } => Outcome::Error,
            FinalizeReport::Switched {
                configmap: Some(Deletion::Failed(_)),
                ..
            } => Outcome::Partial,
            _ => Outcome::Ok,
        }
    }
}

/// The roles of managed node groups and Fargate profiles, each with what
/// uses it (see [`crate::aws::Eks::compute_roles`]).
pub(crate) async fn compute_roles(
    clients: &Clients,
    cluster: &str,
) -> Result<Vec<(String, String)>> {
    Ok(clients.eks.compute_roles(cluster).await?)
}

/// Why the switch failed: code and message for the journal.
struct SwitchFailure {
    code: String,
    message: String,
}

impl SwitchFailure {
    fn aws(e: AwsError) -> SwitchFailure {
        SwitchFailure {
            code: code_of(&e),
            message: e.to_string(),
        }
    }
}

/// `UpdateClusterConfig` to API, then `DescribeUpdate` until it is no longer
/// in progress. Ok: the update id and status, for the journal.
async fn switch_to_api(
    clients: &Clients,
    cluster: &str,
    timeout: Duration,
) -> std::result::Result<serde_json::Value, SwitchFailure> {
    let id = clients
        .eks
        .start_switch_to_api(cluster)
        .await
        .map_err(SwitchFailure::aws)?;
    let status = wait_update(clients, cluster, &id, timeout).await?;
    if status == UpdateStatus::Successful {
        Ok(json!({"update_id": id, "status": "Successful"}))
    } else {
        Err(SwitchFailure {
            code: "UpdateFailed".into(),
            message: format!("update {id} ended {}", status.as_str()),
        })
    }
}

fn code_of(e: &AwsError) -> String {
    match e {
        AwsError::Service { code, .. } => code.clone(),
        other => format!("{other:?}")
            .split([' ', '{', '('])
            .next()
            .unwrap_or("Error")
            .to_string(),
    }
}

async fn wait_update(
    clients: &Clients,
    cluster: &str,
    id: &str,
    timeout: Duration,
) -> std::result::Result<UpdateStatus, SwitchFailure> {
    let start = Instant::now();
    loop {
        let status = clients
            .eks
            .update_status(cluster, id)
            .await
            .map_err(SwitchFailure::aws)?;
        if status != UpdateStatus::InProgress {
            return Ok(status);
        }
        if start.elapsed() > timeout {
            return Err(SwitchFailure {
                code: "Timeout".into(),
                message: format!(
                    "update {id} still in progress after {}s: run finalize --resume JOURNAL to keep waiting",
                    timeout.as_secs()
                ),
            });
        }
        tokio::time::sleep(poll_interval()).await;
    }
}

/// Waits while the cluster reports UPDATING (a resumed switch).
async fn wait_active(clients: &Clients, cluster: &str, timeout: Duration) -> Result<ClusterFacts> {
    let start = Instant::now();
    loop {
        let facts = clients.eks.describe_cluster(cluster).await?;
        if !facts.is_updating() || start.elapsed() > timeout {
            return Ok(facts);
        }
        tokio::time::sleep(poll_interval()).await;
    }
}

/// Deletes aws-auth after backing it up into the journal. Ok(false) when it
/// does not exist.
async fn delete_configmap(target: &Target, journal: &Journal) -> Result<bool> {
    let observed = target.observe().await?;
    let Some(backup) = observed.backup() else {
        return Ok(false);
    };
    if observed.has_binary_data() {
        bail!("aws-auth has binaryData, which the backup cannot hold: not deleting it");
    }
    let step = Step::DeleteConfigMap { backup };
    let seq = journal.intent(&step, None)?;
    let result = configmap::run_on(target, &step).await;
    journal.outcome(seq, configmap::outcome_of(&result))?;
    result?;
    Ok(true)
}

/// The journal being resumed, or a new one started now (with the lock).
fn held_journal<'a>(
    held: &'a mut Option<(Journal, ClusterLock)>,
    opts: &FinalizeOptions,
    facts: &ClusterFacts,
    progress: &dyn Progress,
) -> Result<&'a Journal> {
    if held.is_none() {
        *held = Some(start_journal(
            opts.journal.as_deref(),
            facts,
            Command::Finalize,
            progress,
        )?);
    }
    match held.as_ref() {
        Some((journal, _)) => Ok(journal),
        None => bail!("no journal to record the change in"),
    }
}

/// `--resume`: settles the journal's pending steps against the cluster
/// (waiting for a switch still under way) and keeps the journal and lock.
/// Returns the cluster as it is now.
async fn settle_resumed(
    clients: &Clients,
    opts: &FinalizeOptions,
    target: &Target,
    path: &std::path::Path,
    mut facts: ClusterFacts,
    progress: &dyn Progress,
) -> Result<(ClusterFacts, (Journal, ClusterLock))> {
    let cluster = &opts.finish.live.cluster;
    let (journal, contents, lock) = super::resume_journal(path, &facts, Command::Finalize)?;
    for pending in crate::journal::pending(&contents) {
        let settled = match &pending.step {
            Step::SwitchToApi { .. } => {
                facts = wait_active(clients, cluster, opts.timeout).await?;
                steps::settle_mode(
                    &pending.step,
                    &facts.authentication_mode,
                    facts.is_updating(),
                )
            }
            other => {
                let observed = target.observe().await?.data();
                steps::settle_configmap(other, observed.as_ref())
            }
        };
        match settled.to_outcome() {
            Some(o) => {
                journal.outcome(pending.seq, o)?;
            }
            None => bail!("the mode update is still in progress: resume again later"),
        }
        if let Settled::Diverged(why) = &settled {
            progress.event(Event::Diverged {
                op: pending.step.op(),
                seq: pending.seq,
                why,
            });
        }
    }
    Ok((facts, (journal, lock)))
}

/// The cluster is in API mode already (switched earlier, or by hand): only
/// aws-auth is left, deleted with `--delete-configmap`.
async fn finish_in_api_mode(
    opts: &FinalizeOptions,
    facts: &ClusterFacts,
    target: &Target,
    held: &mut Option<(Journal, ClusterLock)>,
    progress: &dyn Progress,
) -> Result<FinalizeReport> {
    let present = target.observe().await?.exists();
    if !opts.delete_configmap || !present {
        return Ok(FinalizeReport::AlreadyApi {
            cluster: facts.name.clone(),
            configmap_present: present,
        });
    }
    progress.event(Event::DeletePlan {
        cluster: &facts.name,
    });
    progress.confirm("Delete aws-auth?", opts.yes)?;
    let journal = held_journal(held, opts, facts, progress)?;
    progress.event(Event::Journal(journal.path()));
    delete_configmap(target, journal).await?;
    Ok(FinalizeReport::ConfigMapDeleted {
        journal: journal.path().to_path_buf(),
    })
}

/// What keeps finalize from switching: the verification's blockers, plus
/// the managed node group and Fargate profile roles without a node entry
/// (or that they cannot be listed).
async fn blockers(clients: &Clients, opts: &FinalizeOptions, checked: &Checked) -> Vec<String> {
    let mut compute_missing = Vec::new();
    let mut blockers = Vec::new();
    if !opts.skip_compute_check {
        match compute_roles(clients, &opts.finish.live.cluster).await {
            Ok(roles) => {
                compute_missing = verify::compute_roles_without_entry(&roles, &checked.inputs.existing);
            }
            Err(e) => blockers.push(format!(
                "cannot list the managed node groups and Fargate profiles ({}): their roles cannot be checked; grant eks:ListNodegroups, eks:DescribeNodegroup, eks:ListFargateProfiles and eks:DescribeFargateProfile, or pass --skip-compute-check to rely on aws-auth's node rows alone",
                one_line(&e)
            )),
        }
    }
    let updating = checked
        .inputs
        .cluster
        .is_updating()
        .then_some("(status UPDATING)");
    blockers.extend(verify::finalize_blockers(
        &checked.verification,
        &checked.inputs.cluster.authentication_mode,
        updating,
        &compute_missing,
    ));
    blockers
}

/// Journals the switch to API mode and makes it, waiting for the update.
async fn switch_journaled(
    clients: &Clients,
    opts: &FinalizeOptions,
    facts: &ClusterFacts,
    journal: &Journal,
    from_mode: AuthMode,
    progress: &dyn Progress,
) -> Result<()> {
    if from_mode != AuthMode::ApiAndConfigMap {
        bail!(
            "the cluster is in {from_mode} mode, not {}",
            AuthMode::ApiAndConfigMap
        );
    }
    let step = Step::SwitchToApi { from_mode };
    let seq = journal.intent(&step, None)?;
    progress.event(Event::Switching);
    let switched = switch_to_api(clients, &opts.finish.live.cluster, opts.timeout).await;
    let outcome = match &switched {
        Ok(response) => steps::Outcome::Done {
            response: response.clone(),
        },
        Err(f) => steps::Outcome::Failed {
            code: f.code.clone(),
            message: f.message.clone(),
        },
    };
    journal.outcome(seq, outcome)?;
    if let Err(f) = switched {
        bail!(
            "switching cluster {} to API mode failed: {} (journal {})",
            facts.name,
            f.message,
            journal.path().display()
        );
    }
    progress.event(Event::Switched {
        cluster: &facts.name,
    });
    Ok(())
}

/// Runs finalize. Progress and the confirmation go through `progress`;
/// the report says how it ended.
pub(crate) async fn run(
    clients: &Clients,
    opts: &FinalizeOptions,
    progress: &dyn Progress,
) -> Result<FinalizeReport> {
    if opts.finish.live.file.is_some() {
        bail!("finalize works on the cluster's aws-auth: --file cannot be used");
    }
    let cluster = &opts.finish.live.cluster;
    let (mut facts, _) = crate::live::cluster_and_caller(clients, cluster).await?;
    let target = connect(clients, &opts.finish.live.kube, &facts, progress).await?;

    let mut held = None;
    if let Some(path) = &opts.resume {
        let (now, journal) = settle_resumed(clients, opts, &target, path, facts, progress).await?;
        facts = now;
        held = Some(journal);
    }

    if facts.authentication_mode == AuthMode::Api {
        return finish_in_api_mode(opts, &facts, &target, &mut held, progress).await;
    }

    let checked = check(clients, &opts.finish).await?;
    let blockers = blockers(clients, opts, &checked).await;
    if !blockers.is_empty() {
        return Ok(FinalizeReport::Refused {
            cluster: facts.name.clone(),
            mode: checked.inputs.cluster.authentication_mode.to_string(),
            blockers,
        });
    }

    let from_mode = checked.inputs.cluster.authentication_mode.clone();
    progress.event(Event::FinalizePlan {
        cluster: &facts.name,
        region: &facts.region,
        from_mode: from_mode.as_str(),
        delete_configmap: opts.delete_configmap,
        skip_compute_check: opts.skip_compute_check,
        verification: &checked.verification,
    });
    progress.confirm("Switch to API mode?", opts.yes)?;

    let journal = held_journal(&mut held, opts, &facts, progress)?;
    progress.event(Event::Journal(journal.path()));
    switch_journaled(clients, opts, &facts, journal, from_mode, progress).await?;
    let configmap = if opts.delete_configmap {
        Some(match delete_configmap(&target, journal).await {
            Ok(true) => Deletion::Deleted,
            Ok(false) => Deletion::Absent,
            Err(e) => Deletion::Failed(one_line(&e)),
        })
    } else {
        None
    };
    Ok(FinalizeReport::Switched {
        journal: journal.path().to_path_buf(),
        configmap,
    })
}
