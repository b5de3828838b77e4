//! How each step is undone, and the undos rollback executes for the steps
//! that took effect.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::model::{Outcome, Step};
use crate::core::policy::PolicyAssociation;

impl Step {
    /// How to undo the step once it took effect.
    pub fn inverse(&self) -> Inverse {
        match self {
            Step::EnableAccessEntries { from_mode } => Inverse::Irreversible {
                reason: format!(
                    "EKS authentication modes only move forward: {from_mode} cannot be restored"
                ),
            },
            Step::CreateEntry {
                principal_arn,
                tags,
                ..
            } => Inverse::Undo {
                step: Step::DeleteEntry {
                    principal_arn: principal_arn.clone(),
                    tags: tags.clone(),
                },
            },
            Step::AssociatePolicy {
                principal_arn,
                policy_arn,
                access_scope,
                prior_scope,
                on_created_entry,
            } => {
                if *on_created_entry {
                    return Inverse::Covered {
                        principal_arn: principal_arn.clone(),
                    };
                }
                match prior_scope {
                    Some(prior) => Inverse::Undo {
                        step: Step::AssociatePolicy {
                            principal_arn: principal_arn.clone(),
                            policy_arn: policy_arn.clone(),
                            access_scope: prior.clone(),
                            prior_scope: Some(access_scope.clone()),
                            on_created_entry: false,
                        },
                    },
                    None => Inverse::Undo {
                        step: Step::DisassociatePolicy {
                            principal_arn: principal_arn.clone(),
                            policy_arn: policy_arn.clone(),
                            access_scope: access_scope.clone(),
                        },
                    },
                }
            }
            Step::UpdateEntry {
                principal_arn,
                username,
                kubernetes_groups,
                prior_username,
                prior_groups,
            } => Inverse::Undo {
                step: Step::UpdateEntry {
                    principal_arn: principal_arn.clone(),
                    username: prior_username.clone(),
                    kubernetes_groups: prior_groups.clone(),
                    prior_username: username.clone(),
                    prior_groups: kubernetes_groups.clone(),
                },
            },
            Step::SwitchToApi { from_mode } => Inverse::Irreversible {
                reason: format!(
                    "EKS authentication modes only move forward: the switch from {from_mode} to API cannot be undone"
                ),
            },
            Step::PutConfigMap {
                backup_data,
                new_data,
                removed_rows,
                ..
            } => Inverse::Undo {
                step: Step::PutConfigMap {
                    backup_data: new_data.clone(),
                    backup_resource_version: None,
                    new_data: backup_data.clone(),
                    removed_rows: removed_rows
                        .iter()
                        .map(|r| format!("restore {r}"))
                        .collect(),
                },
            },
            Step::DeleteConfigMap { backup } => Inverse::Undo {
                step: Step::CreateConfigMap {
                    backup: backup.clone(),
                },
            },
            Step::DeleteEntry { .. }
            | Step::DisassociatePolicy { .. }
            | Step::CreateConfigMap { .. } => Inverse::Irreversible {
                reason: "a rollback step is not itself undone".to_string(),
            },
        }
    }
}

/// How a step is undone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Inverse {
    /// Execute `step`.
    Undo { step: Step },
    /// Nothing to do: deleting the entry the tool created for
    /// `principal_arn` removes it.
    Covered { principal_arn: String },
    /// Cannot be undone.
    Irreversible { reason: String },
}

/// One undo for rollback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Undo {
    /// Position of the undone step in the list given to [`rollback_steps`].
    pub index: usize,
    /// The step that took effect.
    pub step: Step,
    /// What undoes it: [`Inverse::Undo`] or [`Inverse::Irreversible`].
    pub inverse: Inverse,
    /// For a created entry: the associations the tool made on it, which its
    /// deletion removes too.
    pub covers: Vec<PolicyAssociation>,
}

/// The undos of the steps that took effect, in reverse order. Associations
/// on an entry whose creation took effect are folded into that entry's undo
/// (`covers`); irreversible steps are listed with [`Inverse::Irreversible`].
pub(crate) fn rollback_steps(done: &[(Step, Outcome)]) -> Vec<Undo> {
    let created: BTreeSet<&str> = done
        .iter()
        .filter(|(_, o)| o.took_effect())
        .filter_map(|(s, _)| match s {
            Step::CreateEntry { principal_arn, .. } => Some(principal_arn.as_str()),
            _ => None,
        })
        .collect();
    let mut covers: BTreeMap<&str, Vec<PolicyAssociation>> = BTreeMap::new();
    let mut out = Vec::new();
    for (index, (step, outcome)) in done.iter().enumerate().rev() {
        if !outcome.took_effect() {
            continue;
        }
        if let Step::AssociatePolicy {
            principal_arn,
            policy_arn,
            access_scope,
            on_created_entry: true,
            ..
        } = step
        {
            if created.contains(principal_arn.as_str()) {
                covers
                    .entry(principal_arn.as_str())
                    .or_default()
                    .push(PolicyAssociation {
                        policy_arn: policy_arn.clone(),
                        access_scope: access_scope.clone(),
                    });
                continue;
            }
            // The entry was not created in this record: undo the association itself.
            out.push(Undo {
                index,
                step: step.clone(),
                inverse: Inverse::Undo {
                    step: Step::DisassociatePolicy {
                        principal_arn: principal_arn.clone(),
                        policy_arn: policy_arn.clone(),
                        access_scope: access_scope.clone(),
                    },
                },
                covers: Vec::new(),
            });
            continue;
        }
        let mut c = Vec::new();
        if let Step::CreateEntry { principal_arn, .. } = step {
            c = covers.remove(principal_arn.as_str()).unwrap_or_default();
            c.sort();
        }
        out.push(Undo {
            index,
            step: step.clone(),
            inverse: step.inverse(),
            covers: c,
        });
    }
    out
}
