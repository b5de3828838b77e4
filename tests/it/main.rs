//! The one integration-test binary: every module runs the real binary and
//! the real AWS and kube clients against the emulator on 127.0.0.1.
mod emulator_conformance;

mod apply;
mod batch;
mod cmd;
mod context;
mod e2e;
mod export;
mod faithful;
mod finish;
mod live_plan;
mod plan_offline;
