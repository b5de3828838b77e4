//! aws-auth-migrate: move Amazon EKS clusters off the aws-auth ConfigMap
//! onto EKS access entries.
//!
//! Layout: `core` is pure (parse, translate, diff, plan model); `render`
//! turns a plan into text; the adapters (`files`, and the AWS and
//! Kubernetes clients) do I/O; `commands` wire them together; `cli` holds
//! the flags. `run` is all `main` calls.

pub mod apply;
pub mod aws;
pub mod batch;
pub mod cli;
pub mod commands;
pub mod core;
pub mod exit;
pub mod files;
pub mod finish;
pub mod journal;
pub mod kube;
pub mod live;
pub mod outcome;
pub mod render;

use clap::Parser;

/// Runs the command line and returns the process exit code.
pub fn run() -> i32 {
    let args = match cli::Cli::try_parse() {
        Ok(a) => a,
        Err(e) => {
            let code = match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => 0,
                _ => exit::ERROR,
            };
            let _ = e.print();
            return code;
        }
    };
    match commands::dispatch(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", exit::one_line(&e));
            exit::ERROR
        }
    }
}
