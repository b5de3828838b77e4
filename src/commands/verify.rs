//! `aws-auth-migrate verify`, and the flag handling verify, prune-configmap
//! and finalize share.

use anyhow::{anyhow, Result};

use crate::aws::Clients;
use crate::cli::{FinishClusterArgs, Format, VerifyArgs};
use crate::core::verify::parse_row_ids;
use crate::exit;
use crate::files;
use crate::finish::render::{Line, Stream};
use crate::finish::{self, render, Event, FinishOptions, Progress};
use crate::live::{LiveFlags, LiveOptions};

/// Validates the shared cluster flags; `changes_cluster`: whether the
/// command writes (prune-configmap, finalize).
pub(crate) fn finish_options(
    args: &FinishClusterArgs,
    changes_cluster: bool,
) -> Result<FinishOptions> {
    Ok(FinishOptions {
        // Lossy entries are planned too, so their rows are compared.
        live: LiveOptions::from_flags(LiveFlags {
            allow_lossy: true,
            ..args
                .access
                .live_flags(&args.cluster, changes_cluster, args.policy_map.as_deref())
        })?,
        accept_gaps: parse_row_ids(&args.accept_gaps).map_err(|e| anyhow!("--accept-gaps {e}"))?,
        accept_access_loss: args.accept_access_loss.clone(),
    })
}

/// Shows a prune-configmap or finalize run on the terminal: each event as
/// it happens, and the confirmations asked there. `json`: standard output
/// is kept for the JSON report, so every line goes to standard error.
pub(crate) struct Terminal {
    pub json: bool,
}

impl Progress for Terminal {
    fn event(&self, event: Event<'_>) {
        let mut lines = render::event(&event);
        if self.json {
            for line in &mut lines {
                line.stream = Stream::Err;
            }
        }
        print_lines(&lines);
    }

    fn confirm(&self, question: &str, yes: bool) -> Result<()> {
        crate::commands::terminal::confirm(question, yes)
    }
}

/// Prints rendered lines, each on its stream.
pub(crate) fn print_lines(lines: &[Line]) {
    for line in lines {
        match line.stream {
            Stream::Out => println!("{}", line.text),
            Stream::Err => eprintln!("{}", line.text),
        }
    }
}

/// Connects the AWS clients for the shared flags.
pub(crate) async fn clients(opts: &FinishOptions) -> Result<Clients> {
    Ok(Clients::connect(&opts.live.aws, &opts.live.iam_roles).await?)
}

pub(crate) async fn run(args: VerifyArgs) -> Result<i32> {
    let opts = finish_options(&args.cluster, false)?;
    let clients = clients(&opts).await?;
    let checked = finish::check(&clients, &opts).await?;
    let v = &checked.verification;
    if let Some(out) = &args.out {
        files::write_private(out, render::json(v).as_bytes())?;
    }
    let text = match args.output {
        Format::Json => render::json(v),
        Format::Markdown => render::markdown(v),
        Format::Table => render::table(v, crate::commands::plan::terminal_style()),
    };
    print!("{text}");
    // verify always behaves as with --detailed-exitcode (a CI gate since
    // its first release); the flag is accepted so plan and verify share it,
    // and changes nothing.
    Ok(if v.parity { exit::OK } else { exit::CHANGES })
}
