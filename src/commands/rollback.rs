//! `aws-auth-migrate rollback`: undoes an apply, a prune-configmap or a
//! finalize, as its journal's header says.

use std::path::Path;

use anyhow::{bail, Result};

use crate::apply::rollback::{self, rollback_journal_path, RollbackFlags};
use crate::aws::Clients;
use crate::cli::{Output, RollbackArgs};
use crate::commands::apply::{finish, presentation};
use crate::commands::terminal::confirm;
use crate::exit;
use crate::finish::undo::{self, UndoReport};
use crate::journal::{self, Command};

pub(crate) async fn run(args: RollbackArgs) -> Result<i32> {
    let flags = RollbackFlags {
        aws: args.conn.aws(),
        force: args.force,
    };
    let pres = presentation(args.output, args.yes, args.rollback_journal.clone());
    let report = match (&args.journal, &args.migration_id, &args.cluster) {
        (Some(path), _, _) => match journal::read(path)?.header.command {
            Command::Apply => rollback::rollback(path, flags, pres).await?,
            Command::PruneConfigmap | Command::Finalize => {
                return configmap_rollback(path, &args, flags).await
            }
            Command::Rollback => bail!(
                "{} is a rollback journal; give the journal of the run to undo",
                path.display()
            ),
        },
        (None, Some(id), Some(cluster)) => {
            rollback::rollback_by_tag(id, cluster, flags, pres).await?
        }
        _ => bail!("say what to roll back: a JOURNAL, or --migration-id ID --cluster NAME"),
    };
    Ok(finish(&report, args.output))
}

/// prune-configmap and finalize journals: aws-auth is restored from the
/// backups they hold; the mode switch is irreversible.
async fn configmap_rollback(
    path: &Path,
    args: &RollbackArgs,
    mut flags: RollbackFlags,
) -> Result<i32> {
    let contents = journal::read(path)?;
    if flags.aws.region.is_none() {
        flags.aws.region = Some(contents.header.cluster.region.clone());
    }
    confirm(
        &format!(
            "Restore aws-auth of cluster {} as it was before {}?",
            contents.header.cluster.name, contents.header.migration_id
        ),
        args.yes,
    )?;
    let out = args
        .rollback_journal
        .clone()
        .unwrap_or_else(|| rollback_journal_path(path));
    let clients = Clients::connect(&flags.aws, &Default::default()).await?;
    let facts = clients
        .eks
        .describe_cluster(&contents.header.cluster.name)
        .await?;
    let kube = args.conn.kube(true);
    let target = crate::apply::configmap::connect(&clients, &kube, &facts).await?;
    if let Some(notice) = &target.notice {
        eprintln!("notice: {notice}");
    }
    let report: UndoReport = undo::rollback(&target, path, &out).await?;
    let code = if report.skipped.is_empty() {
        exit::OK
    } else {
        exit::PARTIAL
    };
    if args.output == Output::Json {
        println!(
            "{}",
            serde_json::json!({"event": "summary", "report": report, "exit_code": code})
        );
    } else {
        for u in &report.undone {
            println!("undone: {u}");
        }
        for s in &report.skipped {
            println!("skipped (changed since): {s}");
        }
        for i in &report.irreversible {
            println!("cannot be undone: {i}");
        }
        println!("Rollback journal: {}", report.journal.display());
    }
    Ok(code)
}
