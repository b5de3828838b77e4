//! `apply --cluster NAME`: a plan made now, shown, confirmed and run; and
//! the run of any checked plan (made now, or saved and checked by
//! [`super::saved`]): the mode switch if needed, then the entries.

use anyhow::{anyhow, bail, Result};

use crate::aws::{Clients, ClusterFacts};
use crate::core::cluster::AuthMode;
use crate::core::diff;
use crate::core::plan::{Action, Plan};
use crate::core::steps;
use crate::journal::Command;
use crate::live;

use super::events::Events;
use super::report::Report;
use super::run::{start_run, JournalSpec, Run};
use super::run_file::{write_run_file, RunFile};
use super::{ApplyInputs, Presentation};

/// Applies a plan made now from `inputs`; `show` is handed the plan before
/// anything is asked or changed.
pub async fn apply_live_with(
    inputs: ApplyInputs,
    presentation: Presentation,
    show: impl FnOnce(&Plan),
) -> Result<Report> {
    let opts = inputs.live_options()?;
    let clients = Clients::connect(&opts.aws, &opts.iam_roles).await?;
    let gathered = live::gather(&clients, &opts).await?;
    context_notice(&presentation.events, &gathered);
    let plan = live::plan(&gathered, &opts.translate, opts.merge_existing)?;
    show(&plan);
    execute_plan(clients, gathered.cluster, plan, inputs, presentation, true).await
}

/// Tells that aws-auth was read through a kube connection that cannot be
/// tied to the cluster (allowed by --allow-unverified-context).
pub(crate) fn context_notice(events: &Events, gathered: &live::LivePlanInputs) {
    if let Some(n) = &gathered.aws_auth.context_notice {
        events.notice(n);
    }
}

/// The entries a saved or fresh plan wants, re-diffed against what exists
/// now (after a mode switch EKS has made node entries of its own).
pub(crate) fn rediff(plan: &Plan, existing: &[diff::ExistingEntry], merge: bool) -> Plan {
    let mut p = plan.clone();
    p.entries.retain(|e| e.action != Action::Unmanaged);
    for e in &mut p.entries {
        // An update entry shows the merged result, a superset of what the
        // rows want: diffing it again adds nothing it does not need.
        if e.action != Action::Skip {
            e.action = Action::Create;
        }
        e.diff = None;
    }
    diff::diff(&mut p.entries, existing, merge);
    p.existing = Some(existing.to_vec());
    p.summarize();
    p
}

/// Runs a checked plan: asks first when `ask` (a plan made now), journals
/// every step, switches the mode first when the plan needs it.
pub(crate) async fn execute_plan(
    clients: Clients,
    facts: ClusterFacts,
    plan: Plan,
    inputs: ApplyInputs,
    presentation: Presentation,
    ask: bool,
) -> Result<Report> {
    let switch = steps::mode_step(&plan);
    if switch.is_some() && !inputs.enable_access_entries {
        bail!(
            "cluster {} is in CONFIG_MAP mode: access entries need API_AND_CONFIG_MAP. Re-run with --enable-access-entries to switch it first (the switch cannot be undone)",
            facts.name
        );
    }
    if !plan.has_changes() && switch.is_none() {
        return Ok(Report::nothing(&facts.name).with_plan(&plan));
    }
    if ask {
        presentation.confirm(&question(&facts, &plan, switch.is_some()))?;
    }
    let concurrency = inputs.concurrency;
    let spec = JournalSpec::New {
        path: presentation.journal.clone(),
        migration_id: None,
        command: Command::Apply,
        rollback_of: None,
        run_file: Some(Box::new(RunFile::new(inputs.clone(), None))),
    };
    let (mut run, _) = start_run(clients, facts, &presentation, spec, concurrency)?;
    run.events
        .message(&format!("journal: {}", run.journal_path.display()));
    run.watch_ctrl_c();
    let mut results = Vec::new();
    let mut plan = plan;
    if let Some(step) = switch {
        if !run.switch_mode(step, &mut results).await? {
            return Ok(Report::new(
                &run,
                results,
                steps_total(&plan, &run.migration_id)?,
            ));
        }
        plan = plan_after_switch(&run, &plan, inputs.merge_existing).await?;
    }
    write_run_file(&run.journal_path, &RunFile::new(inputs, Some(plan.clone())))?;
    let todo = steps::steps_for(&plan, &run.migration_id, env!("CARGO_PKG_VERSION"))
        .map_err(|e| anyhow!(e))?;
    let total = todo.len() + results.len();
    results.extend(run.execute(Some(&plan), &todo, "apply").await?);
    Ok(Report::new(&run, results, total).with_plan(&plan))
}

/// The question asked before a plan made now is applied.
fn question(facts: &ClusterFacts, plan: &Plan, switch: bool) -> String {
    let s = &plan.summary;
    format!(
        "Apply to cluster {}: {}create {} entries, update {}, associate {} policies?",
        facts.name,
        if switch {
            "switch to API_AND_CONFIG_MAP (irreversible), "
        } else {
            ""
        },
        s.create,
        s.update,
        s.policies
    )
}

/// EKS made entries of its own during the switch: reads them and re-diffs,
/// so nothing collides with them.
async fn plan_after_switch(run: &Run, plan: &Plan, merge: bool) -> Result<Plan> {
    let existing = run
        .clients
        .eks
        .existing_entries(&run.facts.name, run.concurrency)
        .await?;
    let mut plan = rediff(plan, &existing, merge);
    plan.cluster.authentication_mode = Some(AuthMode::ApiAndConfigMap);
    Ok(plan)
}

/// The steps of `plan`, and the switch.
fn steps_total(plan: &Plan, id: &str) -> Result<usize> {
    Ok(steps::steps_for(plan, id, env!("CARGO_PKG_VERSION"))
        .map_err(|e| anyhow!(e))?
        .len()
        + 1)
}
