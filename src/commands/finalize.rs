//! `aws-auth-migrate finalize`.

use std::time::Duration;

use anyhow::Result;

use crate::cli::{FinalizeArgs, Output};
use crate::commands::verify::{clients, finish_options, print_lines, Terminal};
use crate::finish::{self, finalize::FinalizeOptions, render};

pub(crate) async fn run(args: FinalizeArgs) -> Result<i32> {
    let opts = FinalizeOptions {
        finish: finish_options(&args.cluster, true)?,
        yes: args.yes,
        delete_configmap: args.delete_configmap,
        journal: args.journal.clone(),
        resume: args.resume.clone(),
        timeout: Duration::from_secs(args.timeout),
        skip_compute_check: args.skip_compute_check,
    };
    let clients = clients(&opts.finish).await?;
    let json = args.output == Output::Json;
    let report = finish::finalize::run(&clients, &opts, &Terminal { json }).await?;
    let code = report.outcome().code();
    if json {
        print!("{}", render::report_json("finalize", &report, code));
    } else {
        print_lines(&render::finalize_report(&report));
    }
    Ok(code)
}
