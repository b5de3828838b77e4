//! The access analysis of a plan as data: each principal's identity before
//! and after and its verdict (`core::equivalence` computes it; the plan,
//! verify and the renderers carry it). JSON: the plan's and verify's
//! `access` object (docs/plan-format.md).

use serde::{Deserialize, Serialize};

use super::rbac::compare::Comparison;

/// An identity as shown: username and groups.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Side {
    pub username: String,
    pub groups: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<String>,
}

/// One principal's verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrincipalAccess {
    pub principal_arn: String,
    pub before: Side,
    /// None: no access entry (the principal can no longer sign in).
    pub after: Option<Side>,
    #[serde(flatten)]
    pub comparison: Comparison,
    /// Verify: the loss was acknowledged (`--accept-access-loss`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub accepted: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessSummary {
    pub same: usize,
    pub gains: usize,
    pub loses: usize,
    pub unproven: usize,
}

/// Where the RBAC came from and how much of it there was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RbacSource {
    /// `cluster` or `file`.
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    pub roles: usize,
    pub bindings: usize,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub incomplete: Vec<String>,
    /// Objects of the input that are not RBAC objects, left out.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<String>,
}

/// The access analysis of a plan (the plan's `access` field).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessReport {
    pub rbac: RbacSource,
    /// When the access policy rule tables were checked against the EKS user guide.
    pub policies_checked: String,
    /// The guide's file and revision they were transcribed from.
    pub policies_source: String,
    pub summary: AccessSummary,
    pub principals: Vec<PrincipalAccess>,
    /// Groups of aws-auth that no binding names: they grant nothing, before or after.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unbound_groups: Vec<String>,
}

impl AccessReport {
    #[cfg(test)]
    pub(crate) fn of(&self, arn: &str) -> Option<&PrincipalAccess> {
        self.principals.iter().find(|p| p.principal_arn == arn)
    }
}
