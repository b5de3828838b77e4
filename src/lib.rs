//! aws-auth-migrate: move Amazon EKS clusters off the aws-auth `ConfigMap`
//! onto EKS access entries.
//!
//! Layout (docs/architecture.md, checked by `architecture_tests`): `core`
//! and `render` are pure; the adapters (`aws`, `kube`, `journal`, `files`)
//! do all I/O; execution (`live`, `apply`, `finish`, `batch`) returns
//! values; `commands` validate flags (`cli`), print and pick exit codes.
//! `run` is all `main` calls: it builds the one async runtime (when the
//! command needs one) and runs the command on it.

#![warn(unreachable_pub)]

pub mod apply;
pub(crate) mod aws;
pub mod batch;
pub(crate) mod cli;
pub(crate) mod commands;
pub mod core;
pub(crate) mod exit;
pub(crate) mod files;
pub mod finish;
pub mod journal;
pub(crate) mod kube;
pub(crate) mod live;
pub(crate) mod outcome;
pub(crate) mod render;

#[cfg(test)]
mod architecture_tests;

use anyhow::Context;
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
    if let Err(e) = commands::apply_globals(&args) {
        eprintln!("error: {}", exit::one_line(&e));
        return exit::ERROR;
    }
    let result = if commands::needs_runtime(&args) {
        runtime().and_then(|rt| rt.block_on(commands::dispatch(args)))
    } else {
        commands::dispatch_offline(args)
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", exit::one_line(&e));
            exit::ERROR
        }
    }
}

/// The one async runtime of the process: every command but the offline
/// plan runs on it, async from the command down.
fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}
