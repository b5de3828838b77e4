//! `finalize`: switch the cluster to API mode once nothing would be lost,
//! then (with `--delete-configmap`) back aws-auth up into the journal and
//! delete it. Refuses, changing nothing, unless verify shows parity (or
//! `--accept-gaps` names every gap), the caller keeps cluster admin through
//! an access entry, every node role of aws-auth and every managed node
//! group / Fargate profile role has a node entry, and no update runs.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use aws_sdk_eks::types::{AuthenticationMode, UpdateAccessConfigRequest, UpdateStatus};
use serde_json::json;

use super::configmap::{self, Target};
use super::{check, confirm, poll_interval, start_journal, FinishOptions};
use crate::aws::error::classify;
use crate::aws::{Clients, ClusterFacts};
use crate::core::cluster::AuthMode;
use crate::core::steps::{self, Outcome, Settled, Step};
use crate::core::verify::{self, row_label};
use crate::exit;
use crate::journal::{ClusterLock, Command, Journal};

#[derive(Debug, Clone)]
pub struct FinalizeOptions {
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

/// The roles of managed node groups and Fargate profiles, each with what
/// uses it: ListNodegroups + DescribeNodegroup, ListFargateProfiles +
/// DescribeFargateProfile.
pub async fn compute_roles(clients: &Clients, cluster: &str) -> Result<Vec<(String, String)>> {
    let eks = clients.eks.client();
    let mut out = Vec::new();
    let mut names = Vec::new();
    let mut pages = eks
        .list_nodegroups()
        .cluster_name(cluster)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page
            .map_err(|e| classify(format!("ListNodegroups {cluster}"), "eks:ListNodegroups", e))?;
        names.extend(page.nodegroups().iter().cloned());
    }
    for ng in names {
        let d = eks
            .describe_nodegroup()
            .cluster_name(cluster)
            .nodegroup_name(&ng)
            .send()
            .await
            .map_err(|e| {
                classify(
                    format!("DescribeNodegroup {ng}"),
                    "eks:DescribeNodegroup",
                    e,
                )
            })?;
        if let Some(role) = d.nodegroup().and_then(|n| n.node_role()) {
            out.push((role.to_string(), format!("managed node group {ng}")));
        }
    }
    let mut names = Vec::new();
    let mut pages = eks
        .list_fargate_profiles()
        .cluster_name(cluster)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            classify(
                format!("ListFargateProfiles {cluster}"),
                "eks:ListFargateProfiles",
                e,
            )
        })?;
        names.extend(page.fargate_profile_names().iter().cloned());
    }
    for fp in names {
        let d = eks
            .describe_fargate_profile()
            .cluster_name(cluster)
            .fargate_profile_name(&fp)
            .send()
            .await
            .map_err(|e| {
                classify(
                    format!("DescribeFargateProfile {fp}"),
                    "eks:DescribeFargateProfile",
                    e,
                )
            })?;
        if let Some(role) = d.fargate_profile().and_then(|p| p.pod_execution_role_arn()) {
            out.push((role.to_string(), format!("Fargate profile {fp}")));
        }
    }
    Ok(out)
}

/// UpdateClusterConfig to API, then DescribeUpdate until it is no longer
/// in progress. Ok: the update id; Err: code and message for the journal.
async fn switch_to_api(
    clients: &Clients,
    cluster: &str,
    timeout: Duration,
) -> std::result::Result<serde_json::Value, (String, String)> {
    let eks = clients.eks.client();
    let sent = eks
        .update_cluster_config()
        .name(cluster)
        .access_config(
            UpdateAccessConfigRequest::builder()
                .authentication_mode(AuthenticationMode::Api)
                .build(),
        )
        .send()
        .await
        .map_err(|e| {
            let e = classify(
                format!("UpdateClusterConfig {cluster}"),
                "eks:UpdateClusterConfig",
                e,
            );
            (code_of(&e), e.to_string())
        })?;
    let id = sent
        .update()
        .and_then(|u| u.id())
        .unwrap_or_default()
        .to_string();
    let status = wait_update(clients, cluster, &id, timeout).await?;
    if status == UpdateStatus::Successful {
        Ok(json!({"update_id": id, "status": "Successful"}))
    } else {
        Err((
            "UpdateFailed".into(),
            format!("update {id} ended {}", status.as_str()),
        ))
    }
}

fn code_of(e: &crate::aws::AwsError) -> String {
    match e {
        crate::aws::AwsError::Service { code, .. } => code.clone(),
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
) -> std::result::Result<UpdateStatus, (String, String)> {
    let start = Instant::now();
    loop {
        let d = clients
            .eks
            .client()
            .describe_update()
            .name(cluster)
            .update_id(id)
            .send()
            .await
            .map_err(|e| {
                let e = classify(format!("DescribeUpdate {id}"), "eks:DescribeUpdate", e);
                (code_of(&e), e.to_string())
            })?;
        let status = d
            .update()
            .and_then(|u| u.status())
            .cloned()
            .unwrap_or(UpdateStatus::InProgress);
        if status != UpdateStatus::InProgress {
            return Ok(status);
        }
        if start.elapsed() > timeout {
            return Err((
                "Timeout".into(),
                format!(
                    "update {id} still in progress after {}s: run finalize --resume JOURNAL to keep waiting",
                    timeout.as_secs()
                ),
            ));
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
    let result = target.run_step(&step).await;
    journal.outcome(seq, configmap::outcome_of(&result))?;
    result?;
    Ok(true)
}

/// The journal being resumed, or a new one started now (with the lock).
fn held_journal<'a>(
    held: &'a mut Option<(Journal, ClusterLock)>,
    opts: &FinalizeOptions,
    facts: &ClusterFacts,
) -> Result<&'a Journal> {
    if held.is_none() {
        *held = Some(start_journal(
            opts.journal.as_deref(),
            facts,
            Command::Finalize,
        )?);
    }
    match held.as_ref() {
        Some((journal, _)) => Ok(journal),
        None => bail!("no journal to record the change in"),
    }
}

/// Runs finalize; returns the exit code.
pub async fn run(clients: &Clients, opts: &FinalizeOptions) -> Result<i32> {
    if opts.finish.live.file.is_some() {
        bail!("finalize works on the cluster's aws-auth: --file cannot be used");
    }
    let cluster = &opts.finish.live.cluster;
    let (mut facts, _) = crate::live::cluster_and_caller(clients, cluster).await?;
    let target = Target::connect(&opts.finish.live.kube, &facts).await?;

    let mut held = None;
    if let Some(path) = &opts.resume {
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
            if let Settled::Diverged(why) = settled {
                eprintln!("{} (seq {}): {why}", pending.step.op(), pending.seq);
            }
        }
        held = Some((journal, lock));
    }

    if facts.authentication_mode == AuthMode::Api {
        // The switch is done (earlier, or by hand): only aws-auth is left.
        let present = target.observe().await?.object.is_some();
        if !opts.delete_configmap || !present {
            println!(
                "Cluster {} is already in API mode{}.",
                facts.name,
                if present {
                    "; aws-auth is ignored (pass --delete-configmap to delete it)"
                } else {
                    " and has no aws-auth"
                }
            );
            return Ok(exit::OK);
        }
        println!(
            "Cluster {} is in API mode: aws-auth is ignored. It will be backed up into the journal and deleted (rollback recreates it).",
            facts.name
        );
        confirm("Delete aws-auth?", opts.yes)?;
        let journal = held_journal(&mut held, opts, &facts)?;
        eprintln!("journal: {}", journal.path().display());
        delete_configmap(&target, journal).await?;
        println!(
            "Deleted aws-auth (backup in journal {}).",
            journal.path().display()
        );
        return Ok(exit::OK);
    }

    let checked = check(clients, &opts.finish).await?;
    let v = &checked.verification;
    let mut compute_missing = Vec::new();
    let mut blockers = Vec::new();
    if !opts.skip_compute_check {
        match compute_roles(clients, cluster).await {
            Ok(roles) => {
                compute_missing = verify::compute_roles_without_entry(&roles, &checked.inputs.existing)
            }
            Err(e) => blockers.push(format!(
                "cannot list the managed node groups and Fargate profiles ({}): their roles cannot be checked; grant eks:ListNodegroups, eks:DescribeNodegroup, eks:ListFargateProfiles and eks:DescribeFargateProfile, or pass --skip-compute-check to rely on aws-auth's node rows alone",
                exit::one_line(&e)
            )),
        }
    }
    let updating = checked
        .inputs
        .cluster
        .is_updating()
        .then_some("(status UPDATING)");
    blockers.extend(verify::finalize_blockers(
        v,
        &checked.inputs.cluster.authentication_mode,
        updating,
        &compute_missing,
    ));
    if !blockers.is_empty() {
        eprintln!(
            "finalize refused: cluster {} stays in {} mode; nothing was changed.",
            facts.name, checked.inputs.cluster.authentication_mode
        );
        for b in &blockers {
            eprintln!("  - {b}");
        }
        eprintln!("Run verify for the full report.");
        return Ok(exit::ERROR);
    }

    let from_mode = checked.inputs.cluster.authentication_mode.clone();
    println!("Finalize cluster {} ({}):", facts.name, facts.region);
    println!(
        "  1. switch the authentication mode from {from_mode} to API: aws-auth stops being read; access comes from access entries only."
    );
    println!("     THIS CANNOT BE UNDONE: EKS authentication modes only move forward.");
    if opts.delete_configmap {
        println!("  2. back up aws-auth into the journal, then delete it (rollback recreates it from the backup).");
    }
    println!(
        "Checks passed: {} rows migrated, caller {} stays cluster admin through its access entry, every node role has a node entry{}.",
        v.summary.migrated,
        v.lockout.as_ref().and_then(|l| l.caller_arn.as_deref()).unwrap_or("-"),
        if opts.skip_compute_check { " (managed node groups and Fargate profiles NOT checked: --skip-compute-check)" } else { "" }
    );
    for r in v.rows.iter().filter(|r| r.accepted) {
        println!(
            "  accepted gap {} ({}): its access is LOST in API mode: {}{}",
            r.id,
            row_label(r),
            r.code
                .as_deref()
                .map(|c| format!("{c}: "))
                .unwrap_or_default(),
            r.detail
        );
    }
    confirm("Switch to API mode?", opts.yes)?;

    let journal = held_journal(&mut held, opts, &facts)?;
    eprintln!("journal: {}", journal.path().display());
    if from_mode != AuthMode::ApiAndConfigMap {
        bail!(
            "the cluster is in {from_mode} mode, not {}",
            AuthMode::ApiAndConfigMap
        );
    }
    let step = Step::SwitchToApi { from_mode };
    let seq = journal.intent(&step, None)?;
    println!("Switching to API mode (waiting for the update)...");
    let switched = switch_to_api(clients, cluster, opts.timeout).await;
    let outcome = match &switched {
        Ok(response) => Outcome::Done {
            response: response.clone(),
        },
        Err((code, message)) => Outcome::Failed {
            code: code.clone(),
            message: message.clone(),
        },
    };
    journal.outcome(seq, outcome)?;
    if let Err((_, message)) = switched {
        bail!(
            "switching cluster {} to API mode failed: {message} (journal {})",
            facts.name,
            journal.path().display()
        );
    }
    println!("Cluster {} is in API mode.", facts.name);
    if opts.delete_configmap {
        match delete_configmap(&target, journal).await {
            Ok(true) => println!(
                "Deleted aws-auth (backup in journal {}).",
                journal.path().display()
            ),
            Ok(false) => println!("aws-auth no longer exists: nothing to delete."),
            Err(e) => {
                eprintln!(
                    "error: the cluster is in API mode, but deleting aws-auth failed: {}; run finalize --delete-configmap --resume {} to retry",
                    exit::one_line(&e),
                    journal.path().display()
                );
                return Ok(exit::PARTIAL);
            }
        }
    }
    Ok(exit::OK)
}
