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
pub(crate) mod state;

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
    install_logging(args.verbose, args.debug);
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

/// Installs the log subscriber of `-v`, `-vv` and `--debug` (or of
/// `RUST_LOG`, which overrides them when set): lines on stderr, never on
/// stdout, which carries the JSON and Markdown that pipes read. Without any
/// of them nothing is installed and nothing is logged.
fn install_logging(verbose: u8, debug: bool) {
    use tracing_subscriber::layer::SubscriberExt;
    let from_env = std::env::var("RUST_LOG")
        .ok()
        .filter(|v| !v.trim().is_empty());
    let Some(directives) = from_env.or_else(|| log_filter(verbose, debug).map(String::from)) else {
        return;
    };
    let subscriber = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::builder().parse_lossy(directives))
        .finish()
        .with(tracing_subscriber::filter::filter_fn(|meta| {
            never_secret(meta.target(), *meta.level())
        }));
    // Fails only when a subscriber is already set (not in this process).
    let _ = tracing::subscriber::set_global_default(subscriber);
}

/// The filter of the flags: `-v` our info events (calls, retries, pacing,
/// timings), `-vv` our debug events too (every AWS and Kubernetes request),
/// `--debug` all of ours and the libraries' own debug logs.
fn log_filter(verbose: u8, debug: bool) -> Option<&'static str> {
    match (debug, verbose) {
        (true, _) => Some("debug,aws_auth_migrate=trace"),
        (false, 0) => None,
        (false, 1) => Some("aws_auth_migrate=info"),
        (false, _) => Some("aws_auth_migrate=debug"),
    }
}

/// What may be logged at all, whatever `RUST_LOG` says: nothing of
/// aws-sigv4 (at trace it logs the canonical request and the string to
/// sign), and no library's trace level (at trace the AWS runtime logs whole
/// requests and responses, AssumeRole's temporary credentials among them,
/// aws-config the unredacted credential_process command, and the
/// Kubernetes client the headers it receives). Our own trace events are
/// ours to keep clean.
fn never_secret(target: &str, level: tracing::Level) -> bool {
    let ours = target == "aws_auth_migrate" || target.starts_with("aws_auth_migrate::");
    !target.starts_with("aws_sigv4") && (ours || level != tracing::Level::TRACE)
}

/// The one async runtime of the process: every command but the offline
/// plan runs on it, async from the command down.
fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

#[cfg(test)]
mod logging_tests {
    use super::{log_filter, never_secret};
    use tracing::Level;

    #[test]
    fn the_flags_choose_the_levels() {
        assert_eq!(log_filter(0, false), None);
        assert_eq!(log_filter(1, false), Some("aws_auth_migrate=info"));
        assert_eq!(log_filter(2, false), Some("aws_auth_migrate=debug"));
        assert_eq!(log_filter(3, false), Some("aws_auth_migrate=debug"));
        assert_eq!(log_filter(0, true), Some("debug,aws_auth_migrate=trace"));
        assert_eq!(log_filter(1, true), Some("debug,aws_auth_migrate=trace"));
    }

    #[test]
    fn signing_and_library_traces_are_never_logged() {
        for level in [Level::ERROR, Level::INFO, Level::DEBUG, Level::TRACE] {
            assert!(!never_secret("aws_sigv4::http_request::sign", level));
        }
        assert!(never_secret(
            "aws_smithy_runtime::client::orchestrator",
            Level::DEBUG
        ));
        assert!(!never_secret(
            "aws_smithy_runtime::client::orchestrator",
            Level::TRACE
        ));
        assert!(!never_secret(
            "aws_config::credential_process",
            Level::TRACE
        ));
        assert!(!never_secret("kube_client::client", Level::TRACE));
        assert!(!never_secret("aws_auth_migrate_x", Level::TRACE));
        assert!(never_secret("aws_auth_migrate::apply::exec", Level::TRACE));
        assert!(never_secret("aws_auth_migrate", Level::TRACE));
    }
}
