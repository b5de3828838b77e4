//! `aws-auth-migrate prune-configmap`.

use anyhow::Result;

use crate::cli::PruneArgs;
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
    let report = finish::prune::run(&clients, &opts, &Terminal).await?;
    print_lines(&render::prune_report(&report));
    Ok(report.outcome().code())
}
