//! The one integration-test binary: every module runs the real binary and
//! the real AWS and kube clients against the emulator on 127.0.0.1.

// A scenario (seed, run, check each step) reads top to bottom; splitting
// it to satisfy a line count would hide the order it checks.
#![allow(clippy::too_many_lines)]
mod emulator_conformance;

mod access;
mod apply;
mod batch;
mod batch_shard;
mod cmd;
mod context;
mod e2e;
mod errors;
mod export;
mod faithful;
mod finish;
mod finish_output;
mod live_plan;
mod live_plan_no_kubeconfig;
mod logging;
mod plan_offline;
mod plan_review;
mod s3_state;
mod vocabulary;
