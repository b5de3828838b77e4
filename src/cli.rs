//! The command-line flags, as clap parses them. Commands validate them into
//! their own option types before doing anything.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "aws-auth-migrate",
    version,
    about = "Move Amazon EKS clusters off the aws-auth ConfigMap onto EKS access entries",
    long_about = None
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Plan the access entries that carry over aws-auth, and show the plan.
    Plan(PlanArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Markdown,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Read aws-auth from a file (`-` for standard input): a ConfigMap
    /// manifest in YAML or JSON, a List holding it, or a bare data: block.
    #[arg(long, short = 'f', value_name = "PATH")]
    pub file: Option<String>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// Also save the plan as JSON to this file (mode 0600).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// YAML file saying what each group becomes: policies, keep, rename.
    #[arg(long, value_name = "FILE")]
    pub policy_map: Option<PathBuf>,

    /// Exit 0 when there is nothing to do, 2 when changes are planned, 1 on error.
    #[arg(long)]
    pub detailed_exitcode: bool,

    /// The cluster's AWS account (offline; default: inferred from the ARNs).
    #[arg(long, value_name = "ID")]
    pub account: Option<String>,

    /// The cluster's partition (offline; default: inferred from the ARNs).
    #[arg(long, value_name = "PARTITION")]
    pub partition: Option<String>,

    /// Include lossy entries in what would be applied.
    #[arg(long)]
    pub allow_lossy: bool,
}
