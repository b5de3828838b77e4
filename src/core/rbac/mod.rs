//! Access equivalence: what a principal may do through RBAC and EKS access
//! policies, before and after the migration (docs/access-equivalence.md).
//!
//! - `model`: the RBAC objects (Roles, ClusterRoles, bindings) and a snapshot of them;
//! - `parse`: a `kubectl get … -o yaml` dump (a List, or many documents) into a snapshot;
//! - `aggregate`: the aggregation controller's work (aggregated ClusterRoles' rules);
//! - `policies`: the rules of each EKS access policy, as the EKS user guide publishes them;
//! - `rights`: the evaluator: an identity's grants, and whether they allow a request;
//! - `compare`: before versus after, principal by principal (`same`, `gains`, `loses`, `unproven`).
//!
//! `k8s_cases_tests` checks the evaluator against cases of the Kubernetes RBAC
//! authorizer's own tests (tests/fixtures/rbac/k8s-authorizer-cases.yaml).

pub(crate) mod aggregate;
pub(crate) mod compare;
pub(crate) mod explain;
pub(crate) mod model;
pub(crate) mod parse;
pub(crate) mod policies;
pub(crate) mod resources;
pub(crate) mod rights;
pub(crate) mod suggest;

#[cfg(test)]
mod k8s_cases_tests;
