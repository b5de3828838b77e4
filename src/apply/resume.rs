//! `apply --resume JOURNAL`: settles the steps whose outcome was never
//! written, then compares what is left of the plan with what exists now
//! and runs what is missing.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use anyhow::{anyhow, bail, Result};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::aws::Clients;
use crate::core::cluster::AuthMode;
use crate::core::diff;
use crate::core::plan::Plan;
use crate::core::steps::{self, Step};
use crate::journal::{self, Command};
use crate::live::{self, LiveOptions};

use super::exec::StepResult;
use super::report::Report;
use super::run::{start_run, JournalSpec, Run};
use super::run_file::{read_run_file, write_run_file, RunFile};
use super::settle::settle_pending;
use super::{ApplyInputs, Presentation};

/// `apply --resume JOURNAL`: settles the steps whose outcome was never
/// written by reading the real state (waiting for a mode switch still
/// running), then compares what is left of the plan with what exists now
/// and runs what is missing.
pub async fn resume(
    journal_path: &Path,
    flags: ApplyInputs,
    presentation: Presentation,
) -> Result<Report> {
    let contents = journal::read(journal_path)?;
    if contents.header.command != Command::Apply {
        bail!(
            "{} is a rollback journal: resume a rollback with aws-auth-migrate rollback --resume",
            journal_path.display()
        );
    }
    let run_file = read_run_file(journal_path)?;
    let inputs = resumed_inputs(run_file.inputs.clone(), flags);
    let opts = inputs.live_options()?;
    let clients = Clients::connect(&opts.aws, &opts.iam_roles).await?;
    let (facts, _) = live::cluster_and_caller(&clients, &inputs.cluster).await?;
    let concurrency = inputs.concurrency;
    let spec = JournalSpec::Append(journal_path.to_path_buf());
    let (mut run, contents) = start_run(clients, facts, &presentation, spec, concurrency)?;
    let contents = contents.ok_or_else(|| anyhow!("the journal could not be read back"))?;
    run.events.message(&format!(
        "resuming {} from {}",
        run.migration_id,
        run.journal_path.display()
    ));
    run.watch_ctrl_c();
    // Settle what was interrupted.
    let settled = settle_pending(&run, &run.journal, &contents).await?;
    if settled > 0 {
        run.events.message(&format!(
            "settled {settled} interrupted step(s) from the cluster's state"
        ));
    }
    let contents = journal::read(journal_path)?;
    let done: Vec<Step> = journal::effective(&contents)
        .into_iter()
        .filter(|(_, o)| o.took_effect())
        .map(|(s, _)| s)
        .collect();
    let diverged = journal::diverged(&contents);
    let mut results = Vec::new();
    let plan = match run_file.plan {
        Some(p) => p,
        None => {
            if let Some(plan) = plan_after_switch(&run, &opts, &inputs, &mut results).await? {
                plan
            } else {
                let total = results.len();
                let mut report = Report::new(&run, results, total);
                report.previously_done = done.len();
                return Ok(report);
            }
        }
    };
    let all = steps::steps_for(&plan, &run.migration_id, env!("CARGO_PKG_VERSION"))
        .map_err(|e| anyhow!(e))?;
    let todo: Vec<Step> = all.into_iter().filter(|s| !done.contains(s)).collect();
    let (reconciled, to_run, not_attempted) = reconcile_remaining(&run, &todo, &diverged).await?;
    if let Some(m) = reconcile_message(&reconciled) {
        run.events.message(&m);
    }
    results.extend(reconciled);
    let total = results.len() + to_run.len() + not_attempted;
    results.extend(run.execute(Some(&plan), &to_run, "resume").await?);
    let mut report = Report::new(&run, results, total).with_plan(&plan);
    report.previously_done = done.len();
    Ok(report)
}

/// The inputs of the run file, with the credentials and endpoints given
/// now (they may differ from the first run's).
fn resumed_inputs(mut inputs: ApplyInputs, flags: ApplyInputs) -> ApplyInputs {
    if flags.profile.is_some() {
        inputs.profile = flags.profile;
    }
    if flags.kubeconfig.is_some() {
        inputs.kubeconfig = flags.kubeconfig;
    }
    if flags.context.is_some() {
        inputs.context = flags.context;
    }
    if flags.allow_unverified_context {
        inputs.allow_unverified_context = true;
    }
    if flags.kube_auth != crate::kube::KubeAuth::Auto {
        inputs.kube_auth = flags.kube_auth;
    }
    inputs
}

/// A run interrupted before its entries: switches if still needed (the
/// mode as it is now, after settling), then plans now, so the plan sees
/// the entries EKS made on the switch, and saves it in the run file.
/// `None`: the run stops at the switch.
async fn plan_after_switch(
    run: &Run,
    opts: &LiveOptions,
    inputs: &ApplyInputs,
    results: &mut Vec<StepResult>,
) -> Result<Option<Plan>> {
    let now = run.clients.eks.describe_cluster(&run.facts.name).await?;
    if now.authentication_mode == AuthMode::ConfigMap {
        let switch = Step::EnableAccessEntries {
            from_mode: AuthMode::ConfigMap,
        };
        if !run.switch_mode(switch, results).await? {
            return Ok(None);
        }
    }
    let gathered = live::gather(&run.clients, opts).await?;
    let plan = live::plan(&gathered, &opts.translate, opts.merge_existing)?;
    write_run_file(
        &run.journal_path,
        &RunFile::new(inputs.clone(), Some(plan.clone())),
    )?;
    Ok(Some(plan))
}

/// The entries of `principals` as they are now (`None`: no entry): one
/// `ListAccessEntries`, then a describe of each listed one, `concurrency` at
/// a time.
async fn observe(
    run: &Run,
    principals: Vec<String>,
) -> Result<HashMap<String, Option<diff::ExistingEntry>>> {
    let mut out: HashMap<String, Option<diff::ExistingEntry>> = HashMap::new();
    if principals.is_empty() {
        return Ok(out);
    }
    let listed: std::collections::HashSet<String> = run
        .clients
        .eks
        .list_access_entries(&run.facts.name)
        .await?
        .into_iter()
        .map(|p| p.to_lowercase())
        .collect();
    let permits = Arc::new(Semaphore::new(run.concurrency.get()));
    let mut tasks = JoinSet::new();
    for p in principals {
        if !listed.contains(&p.to_lowercase()) {
            out.insert(p, None);
            continue;
        }
        let eks = run.clients.eks.clone();
        let cluster = run.facts.name.clone();
        let permits = permits.clone();
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await.ok();
            let found = eks.existing_entry(&cluster, &p).await;
            (p, found)
        });
    }
    while let Some(joined) = tasks.join_next().await {
        let (p, found) = joined.map_err(|e| anyhow!("a worker failed: {e}"))?;
        out.insert(p, found?);
    }
    Ok(out)
}

/// What `--resume` does with the steps of the plan that have not taken
/// effect, before running any: a step the journal has as diverged is
/// reported, never redone; the others are compared with what exists now
/// ([`steps::reconcile`]), so an entry someone else made since is adopted
/// when it is what the plan wants and reported otherwise, never created
/// again. Returns the results of the steps settled without a call (each
/// journaled), the steps to run, and how many are not attempted.
async fn reconcile_remaining(
    run: &Run,
    todo: &[Step],
    diverged: &[(Step, steps::Outcome)],
) -> Result<(Vec<StepResult>, Vec<Step>, usize)> {
    let groups = steps::by_principal(todo);
    let principals: Vec<String> = groups
        .iter()
        .filter(|g| !g.iter().any(|s| diverged.iter().any(|(d, _)| d == s)))
        .filter_map(|g| {
            g.first()
                .and_then(|s| s.principal_arn())
                .map(str::to_string)
        })
        .collect();
    let observed = observe(run, principals).await?;
    let (mut results, mut to_run, mut not_attempted) = (Vec::new(), Vec::new(), 0);
    for group in groups {
        if let Some((step, outcome)) = group
            .iter()
            .find_map(|s| diverged.iter().find(|(d, _)| d == s))
        {
            // Someone else changed it: neither redone nor undone. The
            // principal's other steps wait for a person.
            run.events.step(step, outcome);
            results.push(StepResult {
                step: step.clone(),
                outcome: outcome.clone(),
            });
            not_attempted += group.len() - 1;
            continue;
        }
        let Some(p) = group.first().and_then(|s| s.principal_arn()) else {
            to_run.extend(group);
            continue;
        };
        let now = observed.get(p).cloned().flatten();
        let verdicts = steps::reconcile(&group, now.as_ref());
        let blocked = verdicts
            .iter()
            .any(|v| matches!(v, steps::Reconciled::Diverged(_)));
        not_attempted += group.len() - verdicts.len();
        for (step, verdict) in group.iter().zip(verdicts) {
            let outcome = match verdict {
                steps::Reconciled::Run if blocked => {
                    not_attempted += 1;
                    continue;
                }
                steps::Reconciled::Run => {
                    to_run.push(step.clone());
                    continue;
                }
                steps::Reconciled::Done => steps::Settled::Done
                    .to_outcome()
                    .ok_or_else(|| anyhow!("a done step has an outcome"))?,
                steps::Reconciled::Adopted(reason) => steps::Outcome::Skipped {
                    reason,
                    adopted: true,
                },
                steps::Reconciled::Diverged(why) => steps::Settled::Diverged(why)
                    .to_outcome()
                    .ok_or_else(|| anyhow!("a diverged step has an outcome"))?,
            };
            let seq = run.journal.intent(step, now.as_ref())?;
            run.journal.outcome(seq, outcome.clone())?;
            run.events.step(step, &outcome);
            results.push(StepResult {
                step: step.clone(),
                outcome,
            });
        }
    }
    Ok((results, to_run, not_attempted))
}

/// A line saying what resume settled without a call, if anything.
fn reconcile_message(results: &[StepResult]) -> Option<String> {
    let adopted = results
        .iter()
        .filter(|r| matches!(r.outcome, steps::Outcome::Skipped { adopted: true, .. }))
        .count();
    let diverged = results.iter().filter(|r| r.outcome.diverged()).count();
    let done = results.iter().filter(|r| r.outcome.took_effect()).count();
    if adopted + diverged + done == 0 {
        return None;
    }
    Some(format!(
        "compared the rest of the plan with the cluster: {done} step(s) found done, {adopted} adopted (already as planned, made by someone else), {diverged} diverged (changed by someone else: neither redone nor undone)"
    ))
}
