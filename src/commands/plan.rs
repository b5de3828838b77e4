//! `aws-auth-migrate plan`.

use std::io::{IsTerminal, Write};

use anyhow::{bail, Context, Result};

use crate::cli::{Format, PlanArgs};
use crate::core::arn::PARTITIONS;
use crate::core::plan::Plan;
use crate::core::planner::{self, SourceInfo};
use crate::core::translate::Options;
use crate::exit;
use crate::files;
use crate::live::{self, LiveOptions};
use crate::render::{self, table::TableStyle};

/// Validated flags shared by plan and apply.
pub struct PlanInputs {
    pub file: Option<String>,
    pub opts: Options,
}

pub fn validate(args: &PlanArgs) -> Result<PlanInputs> {
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
    let policy_map = files::policy_map(args.policy_map.as_deref())?;
    if args.cluster.is_none() {
        let given = args
            .access
            .conn
            .any_given()
            .or_else(|| (!args.access.iam_role_for.is_empty()).then_some("--iam-role-for"));
        if let Some(flag) = given {
            bail!("{flag} needs --cluster: it says how to reach the cluster");
        }
    }
    if args.file.is_none() && args.cluster.is_none() {
        bail!("say where aws-auth is: --file PATH (or - for standard input), or --cluster NAME");
    }
    Ok(PlanInputs {
        file: args.file.clone(),
        opts: Options {
            account: args.account.clone(),
            partition: args.partition.clone(),
            allow_lossy: args.allow_lossy,
            policy_map,
        },
    })
}

pub fn plan_from_file(path: &str, opts: &Options) -> Result<Plan> {
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

/// The options of a live plan (`--cluster`).
pub fn live_options(args: &PlanArgs, inputs: &PlanInputs) -> Result<Option<LiveOptions>> {
    let Some(cluster) = &args.cluster else {
        return Ok(None);
    };
    Ok(Some(LiveOptions {
        cluster: cluster.clone(),
        aws: args.access.conn.aws(),
        kube: args.access.conn.kube(false),
        file: inputs.file.clone(),
        concurrency: args.access.concurrency(),
        iam_roles: live::parse_iam_roles(&args.access.iam_role_for)?,
        merge_existing: args.merge_existing,
        translate: inputs.opts.clone(),
    }))
}

/// Runs a live plan on a runtime of its own (`run` stays synchronous).
pub fn plan_live(opts: &LiveOptions) -> Result<Plan> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(live::run(opts))
}

pub fn run(args: PlanArgs) -> Result<i32> {
    let inputs = validate(&args)?;
    let plan = match live_options(&args, &inputs)? {
        Some(live) => plan_live(&live)?,
        None => {
            let path = inputs.file.as_deref().unwrap_or("-");
            plan_from_file(path, &inputs.opts)?
        }
    };
    if let Some(out) = &args.out {
        files::write_private(out, render::json::render(&plan).as_bytes())?;
    }
    print_plan(&plan, args.format)?;
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

pub fn render_plan(plan: &Plan, format: Format) -> String {
    match format {
        Format::Json => render::json::render(plan),
        Format::Markdown => render::markdown::render(plan),
        Format::Table => render::table::render(plan, terminal_style()),
    }
}

/// Colour only on a terminal and without NO_COLOR; width from COLUMNS.
pub fn terminal_style() -> TableStyle {
    let tty = std::io::stdout().is_terminal();
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let width = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(100);
    TableStyle {
        color: tty && !no_color,
        width,
    }
}
