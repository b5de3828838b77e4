//! `apply PLAN_FILE`: a saved plan, applied only after checking that it is
//! not stale and that it is what the cluster gives now.

use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};

use crate::aws::Clients;
use crate::core::diff::Fingerprint;
use crate::core::plan::Plan;
use crate::core::review;
use crate::live;

use super::fresh::{context_notice, execute_plan};
use super::report::Report;
use super::{ApplyInputs, Presentation};

/// Reads a saved plan and checks its digest (an edit after it was saved
/// is refused as such). Also read by `export --plan`.
pub(crate) fn read_saved_plan(plan_path: &Path) -> Result<Plan> {
    let bytes =
        std::fs::read(plan_path).with_context(|| format!("cannot read {}", plan_path.display()))?;
    let not_a_plan = || format!("{} is not a plan saved by plan --out", plan_path.display());
    let doc: serde_json::Value = serde_json::from_slice(&bytes).with_context(not_a_plan)?;
    if let Err(e) = review::check_digest(&doc) {
        bail!(
            "the saved plan {} is refused: {e}; plan again and review the new plan",
            plan_path.display()
        );
    }
    serde_json::from_value(doc).with_context(not_a_plan)
}

/// Refuses a saved plan whose decisions differ from those of the plan
/// made now from the cluster with the apply's flags (`core::review`).
fn check_decisions(plan_path: &Path, saved: &Plan, now: &Plan) -> Result<()> {
    let diffs = review::differences(saved, now);
    let Some(first) = diffs.first() else {
        return Ok(());
    };
    let more = match diffs.len() - 1 {
        0 => String::new(),
        n => format!(
            " (and {n} more difference{})",
            if n == 1 { "" } else { "s" }
        ),
    };
    bail!(
        "the saved plan {} does not match the plan made now from the cluster: {first}{more}; it was changed after review, or planned with other flags (apply needs the --policy-map, --allow-lossy and --merge-existing that plan was given); plan again and review the new plan",
        plan_path.display()
    )
}

/// Applies a saved plan after checking it is not stale and that it is
/// what the cluster gives now: its digest, its fingerprint, and its
/// decisions against a plan made again. What runs is that plan made again
/// (equal in every decision, with the entries as they are now).
pub async fn apply_saved(
    plan_path: &Path,
    mut inputs: ApplyInputs,
    presentation: Presentation,
) -> Result<Report> {
    let plan = read_saved_plan(plan_path)?;
    if plan.format_version.split('.').next() != Some("1") {
        bail!(
            "{}: plan format {} is not supported by this version",
            plan_path.display(),
            plan.format_version
        );
    }
    let Some(saved) = plan.fingerprint.clone() else {
        bail!("{} is an offline plan: make one against the cluster (plan --cluster NAME --out FILE) to apply it", plan_path.display());
    };
    let name = plan
        .cluster
        .name
        .clone()
        .ok_or_else(|| anyhow!("the plan names no cluster"))?;
    inputs.cluster = name;
    if inputs.region.is_none() {
        inputs.region = plan.cluster.region.clone();
    }
    if plan.source.kind == "file" {
        inputs.file = plan.source.path.clone();
    } else if plan.source.kind == "stdin" {
        bail!("the plan read aws-auth from standard input, which cannot be read again to check it is current; save aws-auth to a file and plan with --file");
    }
    let opts = inputs.live_options()?;
    let clients = Clients::connect(&opts.aws, &opts.iam_roles).await?;
    let gathered = live::gather(&clients, &opts).await?;
    context_notice(&presentation.events, &gathered);
    // The fingerprint is computed as `plan` computes it.
    let fresh = live::plan(&gathered, &opts.translate, opts.merge_existing)?;
    let now: &Fingerprint = fresh
        .fingerprint
        .as_ref()
        .ok_or_else(|| anyhow!("the live plan has no fingerprint"))?;
    let changes = now.changes_since(&saved);
    if !changes.is_empty() {
        bail!(
            "the saved plan is stale: {}; plan again and review the new plan",
            changes.join("; ")
        );
    }
    check_decisions(plan_path, &plan, &fresh)?;
    execute_plan(
        clients,
        gathered.cluster,
        fresh,
        inputs,
        presentation,
        false,
    )
    .await
}
