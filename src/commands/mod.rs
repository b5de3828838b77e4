//! One module per subcommand; each validates its flags, then runs.

pub(crate) mod apply;
pub(crate) mod batch;
pub(crate) mod batch_progress;
pub(crate) mod batch_report;
pub(crate) mod completions;
pub(crate) mod export;
pub(crate) mod finalize;
pub(crate) mod plan;
pub(crate) mod prune;
pub(crate) mod rollback;
pub(crate) mod terminal;
pub(crate) mod verify;

use anyhow::{bail, Result};

use crate::cli::{Cli, Command};

/// Whether the command needs the async runtime: all do but the offline
/// plan and export (no `--cluster`, no saved `--plan`), which read a file
/// and print, and `completions` and `man`, which only print.
pub(crate) fn needs_runtime(cli: &Cli) -> bool {
    match &cli.command {
        Command::Plan(args) => args.cluster.is_some(),
        Command::Export(args) => args.cluster.is_some() || args.plan_file.is_some(),
        Command::Completions(_) | Command::Man(_) => false,
        _ => true,
    }
}

/// Applies the global flags that configure the process before a command
/// runs: `--state-dir`, `--state`, `--force-unlock`.
pub(crate) fn apply_globals(cli: &Cli) -> anyhow::Result<()> {
    if let Some(dir) = &cli.state_dir {
        crate::journal::set_state_dir(dir)
            .map_err(|e| anyhow::anyhow!("--state-dir {}: {e}", dir.display()))?;
    }
    match cli.state.as_deref().map(crate::state::location::parse) {
        None => {}
        Some(Err(e)) => return Err(e.into()),
        Some(Ok(crate::state::Location::Local(dir))) => {
            crate::journal::set_state_dir(&dir)
                .map_err(|e| anyhow::anyhow!("--state {}: {e}", dir.display()))?;
        }
        Some(Ok(crate::state::Location::S3(at))) => crate::state::set_s3(at),
    }
    if let Some(id) = &cli.force_unlock {
        if crate::state::s3_location().is_none() {
            bail!("--force-unlock breaks locks of an S3 state (--state s3://...); a local lock is taken over once its process is gone, or removed by hand when the message names another host");
        }
        crate::state::set_force_unlock(id);
    }
    crate::state::lock::set_operation(operation(&cli.command));
    Ok(())
}

/// The command's name, for the locks it takes (`apply`, `batch apply`).
fn operation(c: &Command) -> &'static str {
    use crate::cli::BatchCommand as B;
    match c {
        Command::Plan(_) => "plan",
        Command::Apply(_) => "apply",
        Command::Rollback(_) => "rollback",
        Command::Verify(_) => "verify",
        Command::PruneConfigmap(_) => "prune-configmap",
        Command::Finalize(_) => "finalize",
        Command::Batch(B::Plan(_)) => "batch plan",
        Command::Batch(B::Apply(_)) => "batch apply",
        Command::Batch(B::Verify(_)) => "batch verify",
        Command::Batch(B::Finalize(_)) => "batch finalize",
        Command::Batch(B::Rollback(_)) => "batch rollback",
        Command::Batch(B::Report(_)) => "batch report",
        Command::Export(_) => "export",
        Command::Completions(_) => "completions",
        Command::Man(_) => "man",
    }
}

/// Runs a command that needs no runtime (see [`needs_runtime`]).
pub(crate) fn dispatch_offline(cli: Cli) -> Result<i32> {
    match cli.command {
        Command::Plan(args) if args.cluster.is_none() => plan::run_offline(args),
        Command::Export(args) if args.cluster.is_none() && args.plan_file.is_none() => {
            export::run_offline(args)
        }
        Command::Completions(args) => completions::completions(&args),
        Command::Man(args) => completions::man(&args),
        _ => bail!("this command needs the async runtime"),
    }
}

pub(crate) async fn dispatch(cli: Cli) -> Result<i32> {
    match cli.command {
        Command::Plan(args) => plan::run(args).await,
        Command::Apply(args) => apply::run(args).await,
        Command::Rollback(args) => rollback::run(args).await,
        Command::Verify(args) => verify::run(args).await,
        Command::PruneConfigmap(args) => prune::run(args).await,
        Command::Finalize(args) => finalize::run(args).await,
        Command::Batch(cmd) => batch::run(cmd).await,
        Command::Export(args) => export::run(args).await,
        Command::Completions(args) => completions::completions(&args),
        Command::Man(args) => completions::man(&args),
    }
}
