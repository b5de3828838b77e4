//! `aws-auth-migrate prune-configmap`.

use anyhow::Result;

use crate::cli::{Output, PruneArgs};
use crate::commands::verify::{clients, finish_options, print_lines, Terminal};
use crate::finish::{self, prune::PruneOptions, render};

pub(crate) async fn run(args: PruneArgs) -> Result<i32> {
    let opts = PruneOptions {
        finish: finish_options(&args.cluster, !args.dry_run)?,
        yes: args.yes,
        dry_run: args.dry_run,
        journal: args.journal.clone(),
        resume: args.resume.clone(),
    };
    let clients = clients(&opts.finish).await?;
    let json = args.output == Output::Json;
    let report = finish::prune::run(&clients, &opts, &Terminal { json }).await?;
    let code = report.outcome().code();
    if json {
        print!("{}", render::report_json("prune-configmap", &report, code));
    } else {
        print_lines(&render::prune_report(&report));
    }
    Ok(code)
}
