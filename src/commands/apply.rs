//! `aws-auth-migrate apply`.

use std::io::IsTerminal;
use std::sync::Arc;

use anyhow::{bail, Result};

use crate::apply::events::Events;
use crate::apply::report::Report;
use crate::apply::{self, ApplyInputs, Presentation};
use crate::cli::{ApplyArgs, Format, Output};
use crate::commands::plan::{render_plan, terminal_style};
use crate::commands::terminal::{self, Printer};

/// The events printed as `--output` says; questions asked on the terminal
/// unless `yes`.
pub(crate) fn presentation(
    output: Output,
    yes: bool,
    journal: Option<std::path::PathBuf>,
) -> Presentation {
    let mode = match output {
        Output::Json => terminal::Mode::Json,
        Output::Table if std::io::stderr().is_terminal() => terminal::Mode::Bar,
        Output::Table => terminal::Mode::Plain,
    };
    Presentation {
        events: Events::new(Arc::new(Printer::new(mode))),
        yes,
        journal,
        ask: Some(Arc::new(|question: &str| {
            terminal::confirm(question, false)
        })),
    }
}

pub(crate) async fn run(args: ApplyArgs) -> Result<i32> {
    let inputs = ApplyInputs {
        cluster: args.cluster.clone().unwrap_or_default(),
        region: args.access.conn.region.clone(),
        profile: args.access.conn.profile.clone(),
        role_arn: args.access.conn.role_arn.clone(),
        kubeconfig: args.access.conn.kubeconfig.clone(),
        context: args.access.conn.context.clone(),
        allow_unverified_context: args.access.conn.allow_unverified_context,
        kube_auth: args.access.conn.kube_auth.into(),
        file: args.file.clone(),
        policy_map: args.policy_map.clone(),
        allow_lossy: args.allow_lossy,
        merge_existing: args.merge_existing,
        concurrency: args.access.concurrency(),
        iam_role_for: args.access.iam_role_for.clone(),
        enable_access_entries: args.enable_access_entries,
    };
    let json = args.output == Output::Json;
    let report = if let Some(journal) = &args.resume {
        apply::resume(journal, inputs, presentation(args.output, true, None)).await?
    } else if let Some(plan_file) = args.saved_plan() {
        // The saved plan is the approval: no question asked.
        apply::apply_saved(
            plan_file,
            inputs,
            presentation(args.output, true, args.journal.clone()),
        )
        .await?
    } else if args.cluster.is_some() {
        let pres = presentation(args.output, args.yes, args.journal.clone());
        apply::apply_live_with(inputs, pres, |plan| {
            if !json {
                print!("{}", render_plan(plan, Format::Table));
                println!();
            }
        })
        .await?
    } else {
        bail!("say what to apply: --cluster NAME, a saved plan (--plan FILE), or --resume JOURNAL");
    };
    Ok(finish(&report, args.output))
}

/// Prints the final report (a table, or the JSON summary event) and
/// returns the exit code.
pub(crate) fn finish(report: &Report, output: Output) -> i32 {
    let code = report.outcome().code();
    if output == Output::Json {
        println!(
            "{}",
            serde_json::json!({"event": "summary", "report": report, "exit_code": code})
        );
    } else {
        print!("{}", report.render(terminal_style().width));
    }
    code
}
