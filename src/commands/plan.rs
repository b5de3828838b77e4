//! `aws-auth-migrate plan`.

use std::io::{IsTerminal, Write};

use anyhow::{bail, Context, Result};

use crate::cli::{Format, PlanArgs};
use crate::core::arn::PARTITIONS;
use crate::core::equivalence::{self, AfterFrom};
use crate::core::plan::Plan;
use crate::core::planner::{self, SourceInfo};
use crate::core::rbac::{rights::Index, suggest};
use crate::core::translate::Options;
use crate::exit;
use crate::files;
use crate::live::{self, LiveFlags, LiveOptions, RbacInput};
use crate::render::{self, table::TableStyle};

/// What `plan` was asked for, its flags validated.
pub(crate) enum PlanInputs {
    /// aws-auth from a file (`-`: standard input), planned offline.
    Offline { path: String, opts: Options },
    /// `--cluster`.
    Live(LiveOptions),
}

/// Checks the flags, in the order their errors are reported: `--account`,
/// `--partition`, the policy map, `--iam-role-for` (with `--cluster`), then
/// the flags that need `--cluster` and where aws-auth is (without).
pub(crate) fn validate(args: &PlanArgs) -> Result<PlanInputs> {
    if let Some(a) = &args.account {
        if a.len() != 12 || !a.bytes().all(|b| b.is_ascii_digit()) {
            bail!("--account {a:?} is not a 12-digit AWS account ID");
        }
    }
    if let Some(p) = &args.partition {
        if !PARTITIONS.contains(&p.as_str()) {
            bail!("--partition {p:?} is not one of {}", PARTITIONS.join(", "));
        }
    }
    if let Some(cluster) = &args.cluster {
        // --account and --partition conflict with --cluster: the cluster
        // says both.
        return Ok(PlanInputs::Live(LiveOptions::from_flags(LiveFlags {
            file: args.file.as_deref(),
            allow_lossy: args.allow_lossy,
            merge_existing: args.merge_existing,
            ..args
                .access
                .live_flags(cluster, false, args.policy_map.as_deref())
        })?));
    }
    let policy_map = files::policy_map(args.policy_map.as_deref())?;
    let given = args
        .access
        .conn
        .any_given()
        .or_else(|| (!args.access.iam_role_for.is_empty()).then_some("--iam-role-for"));
    if let Some(flag) = given {
        bail!("{flag} needs --cluster: it says how to reach the cluster");
    }
    let Some(path) = &args.file else {
        bail!("say where aws-auth is: --file PATH (or - for standard input), or --cluster NAME");
    };
    Ok(PlanInputs::Offline {
        path: path.clone(),
        opts: Options {
            account: args.account.clone(),
            partition: args.partition.clone(),
            allow_lossy: args.allow_lossy,
            policy_map,
        },
    })
}

pub(crate) fn plan_from_file(path: &str, opts: &Options) -> Result<Plan> {
    let bytes = files::read_input(path)?;
    let source = if path == "-" {
        SourceInfo {
            kind: "stdin".into(),
            path: None,
        }
    } else {
        SourceInfo {
            kind: "file".into(),
            path: Some(path.to_string()),
        }
    };
    let shown = if path == "-" { "standard input" } else { path };
    planner::plan_offline(&bytes, source, opts).with_context(|| shown.to_string())
}

/// `plan`: live with `--cluster` (async), else offline.
pub(crate) async fn run(args: PlanArgs) -> Result<i32> {
    let (plan, rbac) = match validate(&args)? {
        PlanInputs::Live(live) => {
            let rbac_from_cluster = args.rbac.is_none();
            live::run_with_rbac(&live, rbac_from_cluster).await?
        }
        PlanInputs::Offline { path, opts } => (plan_from_file(&path, &opts)?, None),
    };
    finish(&args, plan, rbac)
}

/// `plan` without `--cluster`: reads a file or standard input, needs no
/// async runtime (so the offline plan starts none).
pub(crate) fn run_offline(args: PlanArgs) -> Result<i32> {
    let plan = match validate(&args)? {
        PlanInputs::Offline { path, opts } => plan_from_file(&path, &opts)?,
        PlanInputs::Live(_) => bail!("a plan with --cluster needs the async runtime"),
    };
    finish(&args, plan, None)
}

/// Adds the access analysis when there is RBAC (`--rbac` first, else what
/// the cluster gave), then explains, suggests or outputs the plan.
fn finish(args: &PlanArgs, mut plan: Plan, from_cluster: Option<RbacInput>) -> Result<i32> {
    let rbac = match &args.rbac {
        Some(path) => Some(files::rbac(path)?),
        None => from_cluster,
    };
    let Some((snapshot, source)) = rbac else {
        if args.explain.is_some() || args.suggest_policies.is_some() {
            let flag = if args.explain.is_some() {
                "--explain"
            } else {
                "--suggest-policies"
            };
            bail!("{flag} needs RBAC to compare with: give --rbac FILE (kubectl get clusterroles,clusterrolebindings,roles,rolebindings -A -o yaml), or plan with --cluster");
        }
        return output(args, plan);
    };
    let index = Index::new(&snapshot);
    let report = equivalence::analyse(&plan, &index, source, AfterFrom::Planned);
    plan.access = Some(report);
    if let Some(path) = &args.suggest_policies {
        let groups: Vec<String> = plan
            .mappings
            .iter()
            .flat_map(|m| m.groups.iter().cloned())
            .collect();
        let found = suggest::suggest(&index, &groups);
        files::write_private(path, suggest::policy_map_yaml(&found).as_bytes())?;
        eprintln!(
            "wrote {} ({} groups given a policy, {} kept, {} bound to nothing): review it, then plan with --policy-map {}",
            path.display(),
            found.suggestions.len(),
            found.kept.len(),
            found.unbound.len(),
            path.display()
        );
    }
    if let Some(arn) = &args.explain {
        return explain(&plan, &index, arn);
    }
    output(args, plan)
}

/// `--explain ARN`: the principal's rights before and after.
fn explain(plan: &Plan, index: &Index, arn: &str) -> Result<i32> {
    let Some(report) = &plan.access else {
        bail!("no access analysis to explain");
    };
    let Some(p) = report
        .principals
        .iter()
        .find(|p| p.principal_arn.eq_ignore_ascii_case(arn))
    else {
        let known: Vec<&str> = report
            .principals
            .iter()
            .map(|p| p.principal_arn.as_str())
            .take(5)
            .collect();
        bail!(
            "--explain {arn}: no principal of the plan has that ARN (the plan's principals include {})",
            known.join(", ")
        );
    };
    let (before, after) = equivalence::explain_sides(plan, index, p);
    let text = render::explain::render(p, &before, after.as_ref(), terminal_style().width);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .context("cannot write to standard output")?;
    Ok(exit::OK)
}

/// Saves the plan (`--out`), prints it and picks the exit code.
fn output(args: &PlanArgs, plan: Plan) -> Result<i32> {
    if let Some(out) = &args.out {
        files::write_private(out, render::json::render(&plan).as_bytes())?;
    }
    print_plan(&plan, args.output)?;
    let code = if args.detailed_exitcode && plan.has_changes() {
        exit::CHANGES
    } else {
        exit::OK
    };
    // The process ends once this returns: freeing a large plan (5,000
    // entries) node by node costs milliseconds and gains nothing.
    std::mem::forget(plan);
    Ok(code)
}

/// Writes the plan to standard output through one locked buffer; JSON is
/// streamed as it is serialised rather than built as one string first.
fn print_plan(plan: &Plan, format: Format) -> Result<()> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, stdout.lock());
    match format {
        Format::Json => render::json::write(plan, &mut out),
        _ => out.write_all(render_plan(plan, format).as_bytes()),
    }
    .and_then(|()| out.flush())
    .context("cannot write the plan to standard output")
}

pub(crate) fn render_plan(plan: &Plan, format: Format) -> String {
    match format {
        Format::Json => render::json::render(plan),
        Format::Markdown => render::markdown::render(plan),
        Format::Table => render::table::render(plan, terminal_style()),
    }
}

/// Colour only on a terminal and without `NO_COLOR`. Width: COLUMNS when
/// set, else the terminal's (when stdout is one), else 100.
pub(crate) fn terminal_style() -> TableStyle {
    let tty = std::io::stdout().is_terminal();
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let columns = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok());
    let terminal = || {
        tty.then(|| terminal_size::terminal_size_of(std::io::stdout()))
            .flatten()
            .map(|(w, _)| usize::from(w.0))
    };
    TableStyle {
        color: tty && !no_color,
        width: pick_width(columns, terminal),
    }
}

/// COLUMNS wins, then the terminal's width, then 100.
fn pick_width(columns: Option<usize>, terminal: impl FnOnce() -> Option<usize>) -> usize {
    columns
        .filter(|c| *c > 0)
        .or_else(terminal)
        .filter(|c| *c > 0)
        .unwrap_or(100)
}

#[cfg(test)]
mod width_tests {
    use super::pick_width;

    #[test]
    fn columns_then_terminal_then_100() {
        assert_eq!(pick_width(Some(80), || Some(120)), 80);
        assert_eq!(pick_width(None, || Some(120)), 120);
        assert_eq!(pick_width(None, || None), 100);
        assert_eq!(pick_width(Some(0), || None), 100);
    }
}
