//! The pure core: reading aws-auth, the mapping rules, the diff and the plan
//! model. No I/O, no async, no clock: every function here is a unit-tested
//! function of its inputs.

pub mod arn;
pub mod aws_auth;
pub mod cluster;
pub mod diff;
pub mod existing;
pub mod input;
pub mod lockout;
pub mod plan;
pub mod planner;
pub mod policy;
pub mod policy_map;
pub mod reason;
pub mod resolve;
pub mod review;
pub mod steps;
pub mod translate;
pub mod verify;
pub mod yaml;

#[cfg(test)]
pub(crate) mod guard_tests;
