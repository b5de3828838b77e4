//! The steps of a plan's changes, in execution order, and how they split
//! into per-principal runs.

use std::collections::{BTreeMap, BTreeSet};

use super::model::{Step, TAG_MIGRATION_ID, TAG_VERSION};
use crate::core::cluster::AuthMode;
use crate::core::existing::sha256_hex;
use crate::core::plan::{Action, Plan};

/// Why a plan's steps cannot be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum StepsError {
    /// An `update` entry without the diff its inverse needs (the prior
    /// state).
    #[error("the plan updates {principal_arn} but does not say what exists now; re-plan against the cluster")]
    UpdateWithoutDiff { principal_arn: String },
}

/// Steps of a plan's changes, in execution order: per principal to create,
/// `CreateEntry` then its `AssociatePolicy` steps; then, per entry merged
/// with `--merge-existing`, `UpdateEntry` (when groups are missing) and the
/// associations it lacks. The authentication-mode switch is not included
/// (see [`mode_step`]): after it EKS creates entries of its own, so the
/// cluster must be re-read and re-planned before these steps are computed.
///
/// Fails, rather than guessing, when an `update` entry carries no diff (the
/// prior state its inverse needs).
pub(crate) fn steps_for(
    plan: &Plan,
    migration_id: &str,
    tool_version: &str,
) -> Result<Vec<Step>, StepsError> {
    let mut creates = Vec::new();
    let mut updates = Vec::new();
    let tags: BTreeMap<String, String> = [
        (TAG_MIGRATION_ID.to_string(), migration_id.to_string()),
        (TAG_VERSION.to_string(), tool_version.to_string()),
    ]
    .into();
    for entry in &plan.entries {
        match entry.action {
            Action::Create => {
                creates.push(Step::CreateEntry {
                    principal_arn: entry.principal_arn.clone(),
                    entry_type: entry.entry_type,
                    username: entry.username.clone(),
                    kubernetes_groups: entry.kubernetes_groups.clone(),
                    tags: tags.clone(),
                    client_request_token: client_request_token(migration_id, &entry.principal_arn),
                });
                for p in &entry.policies {
                    creates.push(Step::AssociatePolicy {
                        principal_arn: entry.principal_arn.clone(),
                        policy_arn: p.policy_arn.clone(),
                        access_scope: p.access_scope.clone(),
                        prior_scope: None,
                        on_created_entry: true,
                    });
                }
            }
            Action::Update => {
                let Some(d) = &entry.diff else {
                    return Err(StepsError::UpdateWithoutDiff {
                        principal_arn: entry.principal_arn.clone(),
                    });
                };
                let have = &d.existing;
                if !d.missing_groups.is_empty() {
                    // The union, sorted: what the plan shows after the update.
                    let groups: Vec<String> = have
                        .kubernetes_groups
                        .iter()
                        .chain(&d.missing_groups)
                        .cloned()
                        .collect::<BTreeSet<String>>()
                        .into_iter()
                        .collect();
                    updates.push(Step::UpdateEntry {
                        principal_arn: entry.principal_arn.clone(),
                        username: have.username.clone(),
                        kubernetes_groups: groups,
                        prior_username: have.username.clone(),
                        prior_groups: have.kubernetes_groups.clone(),
                    });
                }
                for p in &d.missing_policies {
                    let prior = have
                        .policies
                        .iter()
                        .find(|h| h.policy_arn == p.policy_arn)
                        .map(|h| h.access_scope.clone());
                    let scope = match &prior {
                        Some(s) => s.union(&p.access_scope),
                        None => p.access_scope.clone(),
                    };
                    updates.push(Step::AssociatePolicy {
                        principal_arn: entry.principal_arn.clone(),
                        policy_arn: p.policy_arn.clone(),
                        access_scope: scope,
                        prior_scope: prior,
                        on_created_entry: false,
                    });
                }
            }
            _ => {}
        }
    }
    creates.extend(updates);
    Ok(creates)
}

/// The authentication-mode switch a plan needs: `EnableAccessEntries` when
/// the cluster is in `CONFIG_MAP` mode, None otherwise (or when unknown).
pub(crate) fn mode_step(plan: &Plan) -> Option<Step> {
    match plan.cluster.authentication_mode {
        Some(AuthMode::ConfigMap) => Some(Step::EnableAccessEntries {
            from_mode: AuthMode::ConfigMap,
        }),
        _ => None,
    }
}

/// The `CreateAccessEntry` idempotency token: the first 32 hex characters of
/// `sha256(migration_id` + "\n" + `principal_arn`). A re-send after a lost
/// response is then recognised by EKS as the same request.
pub(crate) fn client_request_token(migration_id: &str, principal_arn: &str) -> String {
    let mut h = sha256_hex(format!("{migration_id}\n{principal_arn}").as_bytes());
    h.truncate(32);
    h
}

/// Splits steps into per-principal runs, keeping order: each inner list
/// must run sequentially, distinct lists may run concurrently. Cluster-wide
/// steps form a run of their own.
pub(crate) fn by_principal(steps: &[Step]) -> Vec<Vec<Step>> {
    let mut out: Vec<Vec<Step>> = Vec::new();
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    for s in steps {
        match s.principal_arn() {
            Some(p) => {
                if let Some(&i) = index.get(p) {
                    out[i].push(s.clone());
                } else {
                    index.insert(p.to_string(), out.len());
                    out.push(vec![s.clone()]);
                }
            }
            None => out.push(vec![s.clone()]),
        }
    }
    out
}
