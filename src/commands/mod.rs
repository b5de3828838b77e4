//! One module per subcommand; each validates its flags, then runs.

pub mod plan;

use anyhow::Result;

use crate::cli::{Cli, Command};

pub fn dispatch(cli: Cli) -> Result<i32> {
    match cli.command {
        Command::Plan(args) => plan::run(args),
    }
}
