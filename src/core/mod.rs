//! The pure core: reading aws-auth, the mapping rules, the diff and the plan
//! model. No I/O, no async, no clock: every function here is a unit-tested
//! function of its inputs.

pub(crate) mod access_report;
pub(crate) mod arn;
pub(crate) mod aws_auth;
pub(crate) mod cluster;
pub(crate) mod diff;
pub mod equivalence;
pub(crate) mod existing;
pub(crate) mod export;
pub(crate) mod input;
pub(crate) mod lockout;
pub(crate) mod plan;
pub mod planner;
pub(crate) mod policy;
pub mod policy_map;
pub(crate) mod rbac;
pub(crate) mod reason;
pub(crate) mod resolve;
pub mod review;
pub(crate) mod steps;
pub mod translate;
pub(crate) mod verify;
pub(crate) mod yaml;

#[cfg(test)]
pub(crate) mod guard_tests;
