//! One module per subcommand; each validates its flags, then runs.

pub mod apply;
pub mod batch;
pub mod finalize;
pub mod plan;
pub mod prune;
pub mod rollback;
pub mod verify;

use anyhow::Result;

use crate::cli::{Cli, Command};

pub fn dispatch(cli: Cli) -> Result<i32> {
    match cli.command {
        Command::Plan(args) => plan::run(args),
        Command::Apply(args) => apply::run(args),
        Command::Rollback(args) => rollback::run(args),
        Command::Verify(args) => verify::run(args),
        Command::PruneConfigmap(args) => prune::run(args),
        Command::Finalize(args) => finalize::run(args),
        Command::Batch(cmd) => batch::run(cmd),
    }
}
