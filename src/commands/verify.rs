//! `aws-auth-migrate verify`, and the flag handling verify, prune-configmap
//! and finalize share.

use anyhow::{anyhow, Result};

use crate::aws::Clients;
use crate::cli::{FinishClusterArgs, Format, VerifyArgs};
use crate::core::translate::Options;
use crate::core::verify::parse_row_ids;
use crate::exit;
use crate::files;
use crate::finish::{self, render, FinishOptions};
use crate::live::{self, LiveOptions};

/// Validates the shared cluster flags; `changes_cluster`: whether the
/// command writes (prune-configmap, finalize).
pub fn finish_options(args: &FinishClusterArgs, changes_cluster: bool) -> Result<FinishOptions> {
    let policy_map = files::policy_map(args.policy_map.as_deref())?;
    Ok(FinishOptions {
        live: LiveOptions {
            cluster: args.cluster.clone(),
            aws: args.access.conn.aws(),
            kube: args.access.conn.kube(changes_cluster),
            file: None,
            concurrency: args.access.concurrency(),
            iam_roles: live::parse_iam_roles(&args.access.iam_role_for)?,
            merge_existing: false,
            translate: Options {
                allow_lossy: true,
                policy_map,
                ..Options::default()
            },
        },
        accept_gaps: parse_row_ids(&args.accept_gaps).map_err(|e| anyhow!("--accept-gaps {e}"))?,
    })
}

/// Connects the AWS clients for the shared flags.
pub async fn clients(opts: &FinishOptions) -> Result<Clients> {
    Ok(Clients::connect(&opts.live.aws, &opts.live.iam_roles).await?)
}

pub async fn run(args: VerifyArgs) -> Result<i32> {
    let opts = finish_options(&args.cluster, false)?;
    let clients = clients(&opts).await?;
    let checked = finish::check(&clients, &opts).await?;
    let v = &checked.verification;
    if let Some(out) = &args.out {
        files::write_private(out, render::json(v).as_bytes())?;
    }
    let text = match args.format {
        Format::Json => render::json(v),
        Format::Markdown => render::markdown(v),
        Format::Table => render::table(v, crate::commands::plan::terminal_style()),
    };
    print!("{text}");
    Ok(if v.parity { exit::OK } else { exit::CHANGES })
}
