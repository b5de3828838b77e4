//! The steps an apply executes, each with its inverse, and the pure rules
//! that resume and rollback follow: which steps took effect, how a step
//! whose outcome was never recorded is settled from the observed state, and
//! whether a resource is still as the tool left it. No I/O, no clock.
//!
//! The same `Step` type describes what `rollback` executes (its undo
//! operations are `DeleteEntry`, `DisassociatePolicy`, and the restoring
//! forms of `AssociatePolicy` and `UpdateEntry`), so one executor and one
//! journal format serve both commands. The serialised form is part of the
//! journal format (docs/journal.md): fields may be added, never renamed.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::diff::{default_username, sha256_hex, ExistingEntry};
use super::plan::{Action, EntryType, Plan};
use super::policy::{AccessScope, PolicyAssociation};

/// Tag naming the migration that created an entry.
pub const TAG_MIGRATION_ID: &str = "aws-auth-migrate/migration-id";
/// Tag naming the tool version that created an entry.
pub const TAG_VERSION: &str = "aws-auth-migrate/version";
/// The outcome code of a step settled as changed by someone else.
pub const DIVERGED: &str = "Diverged";
/// The authentication mode a cluster starts from when access entries are off.
pub const MODE_CONFIG_MAP: &str = "CONFIG_MAP";
/// The mode `EnableAccessEntries` switches to.
pub const MODE_API_AND_CONFIG_MAP: &str = "API_AND_CONFIG_MAP";
/// Access entries only.
pub const MODE_API: &str = "API";

/// One call that changes the cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "kebab-case")]
pub enum Step {
    /// UpdateClusterConfig `from_mode` → API_AND_CONFIG_MAP. Irreversible.
    EnableAccessEntries { from_mode: String },
    /// CreateAccessEntry.
    CreateEntry {
        principal_arn: String,
        #[serde(rename = "type")]
        entry_type: EntryType,
        /// None: EKS chooses its default username.
        username: Option<String>,
        kubernetes_groups: Vec<String>,
        tags: BTreeMap<String, String>,
        client_request_token: String,
    },
    /// AssociateAccessPolicy (an upsert: it replaces the scope of an
    /// association of the same policy).
    AssociatePolicy {
        principal_arn: String,
        policy_arn: String,
        access_scope: AccessScope,
        /// The scope the policy had on this entry before, if it had one.
        prior_scope: Option<AccessScope>,
        /// True when the entry is created by the same run (its deletion
        /// removes this association).
        on_created_entry: bool,
    },
    /// UpdateAccessEntry. EKS resets omitted fields, so both are always sent.
    UpdateEntry {
        principal_arn: String,
        username: Option<String>,
        kubernetes_groups: Vec<String>,
        prior_username: Option<String>,
        prior_groups: Vec<String>,
    },
    /// DeleteAccessEntry (rollback only, and only for entries carrying
    /// `tags`, i.e. entries the tool created).
    DeleteEntry {
        principal_arn: String,
        tags: BTreeMap<String, String>,
    },
    /// DisassociateAccessPolicy (rollback only): removes `access_scope`.
    DisassociatePolicy {
        principal_arn: String,
        policy_arn: String,
        access_scope: AccessScope,
    },
    /// UpdateClusterConfig `from_mode` → API, then wait for the update
    /// (`finalize`). Irreversible.
    SwitchToApi { from_mode: String },
    /// Replace the data of kube-system/aws-auth (`prune-configmap`, and its
    /// undo): only while it holds exactly `backup_data`; the PUT carries the
    /// resourceVersion read, so a concurrent edit is a conflict, never lost.
    #[serde(rename = "put-configmap")]
    PutConfigMap {
        /// The data before (all keys, byte for byte): the backup.
        backup_data: BTreeMap<String, String>,
        /// The resourceVersion the backup was read at.
        backup_resource_version: Option<String>,
        new_data: BTreeMap<String, String>,
        /// The rows removed (`mapRoles#3`...), for people.
        #[serde(default)]
        removed_rows: Vec<String>,
    },
    /// Delete kube-system/aws-auth (`finalize --delete-configmap`): only
    /// while its data is exactly the backup's.
    #[serde(rename = "delete-configmap")]
    DeleteConfigMap { backup: ConfigMapBackup },
    /// Create kube-system/aws-auth from a backup (rollback only: the undo of
    /// `DeleteConfigMap`); only while it does not exist.
    #[serde(rename = "create-configmap")]
    CreateConfigMap { backup: ConfigMapBackup },
}

/// The whole aws-auth ConfigMap as read before a change: enough to recreate
/// it byte-identical (data, labels, annotations).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigMapBackup {
    pub data: BTreeMap<String, String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    pub resource_version: Option<String>,
}

impl Step {
    /// The principal the step changes; None for cluster-wide steps.
    pub fn principal_arn(&self) -> Option<&str> {
        match self {
            Step::EnableAccessEntries { .. }
            | Step::SwitchToApi { .. }
            | Step::PutConfigMap { .. }
            | Step::DeleteConfigMap { .. }
            | Step::CreateConfigMap { .. } => None,
            Step::CreateEntry { principal_arn, .. }
            | Step::AssociatePolicy { principal_arn, .. }
            | Step::UpdateEntry { principal_arn, .. }
            | Step::DeleteEntry { principal_arn, .. }
            | Step::DisassociatePolicy { principal_arn, .. } => Some(principal_arn),
        }
    }

    /// The serialised operation name (`create-entry`...).
    pub fn op(&self) -> &'static str {
        match self {
            Step::EnableAccessEntries { .. } => "enable-access-entries",
            Step::CreateEntry { .. } => "create-entry",
            Step::AssociatePolicy { .. } => "associate-policy",
            Step::UpdateEntry { .. } => "update-entry",
            Step::DeleteEntry { .. } => "delete-entry",
            Step::DisassociatePolicy { .. } => "disassociate-policy",
            Step::SwitchToApi { .. } => "switch-to-api",
            Step::PutConfigMap { .. } => "put-configmap",
            Step::DeleteConfigMap { .. } => "delete-configmap",
            Step::CreateConfigMap { .. } => "create-configmap",
        }
    }

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

/// What became of a call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum Outcome {
    /// The call succeeded; `response` summarises what EKS returned (never
    /// credentials).
    Done { response: serde_json::Value },
    /// The call failed, or (code `NotDone`, `Diverged`) a step left without
    /// an outcome by a crash was found not to have taken effect.
    Failed { code: String, message: String },
    /// The call was deliberately not made: rollback found the resource
    /// changed by someone else, or (`adopted`) resume found it already as
    /// the step would leave it, made by someone else (EKS on the mode
    /// switch, or by hand), and took it as it is.
    Skipped {
        reason: String,
        /// True when the resource was adopted: nothing is missing, and
        /// nothing is the tool's to undo.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        adopted: bool,
    },
}

impl Outcome {
    /// True when the step changed the cluster.
    pub fn took_effect(&self) -> bool {
        matches!(self, Outcome::Done { .. })
    }

    /// A deliberate skip for someone else's change (not an adoption).
    pub fn skipped(reason: impl Into<String>) -> Outcome {
        Outcome::Skipped {
            reason: reason.into(),
            adopted: false,
        }
    }

    /// True for a step that resume settled as diverged: someone else
    /// changed the resource; it is neither redone nor undone.
    pub fn diverged(&self) -> bool {
        matches!(self, Outcome::Failed { code, .. } if code == DIVERGED)
    }
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
pub fn steps_for(plan: &Plan, migration_id: &str, tool_version: &str) -> Result<Vec<Step>, String> {
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
                    return Err(format!(
                        "the plan updates {} but does not say what exists now; re-plan against the cluster",
                        entry.principal_arn
                    ));
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
/// the cluster is in CONFIG_MAP mode, None otherwise (or when unknown).
pub fn mode_step(plan: &Plan) -> Option<Step> {
    match plan.cluster.authentication_mode.as_deref() {
        Some(MODE_CONFIG_MAP) => Some(Step::EnableAccessEntries {
            from_mode: MODE_CONFIG_MAP.to_string(),
        }),
        _ => None,
    }
}

/// The CreateAccessEntry idempotency token: the first 32 hex characters of
/// sha256(migration_id + "\n" + principal_arn). A re-send after a lost
/// response is then recognised by EKS as the same request.
pub fn client_request_token(migration_id: &str, principal_arn: &str) -> String {
    let mut h = sha256_hex(format!("{migration_id}\n{principal_arn}").as_bytes());
    h.truncate(32);
    h
}

/// Splits steps into per-principal runs, keeping order: each inner list
/// must run sequentially, distinct lists may run concurrently. Cluster-wide
/// steps form a run of their own.
pub fn by_principal(steps: &[Step]) -> Vec<Vec<Step>> {
    let mut out: Vec<Vec<Step>> = Vec::new();
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    for s in steps {
        match s.principal_arn() {
            Some(p) => match index.get(p) {
                Some(&i) => out[i].push(s.clone()),
                None => {
                    index.insert(p.to_string(), out.len());
                    out.push(vec![s.clone()]);
                }
            },
            None => out.push(vec![s.clone()]),
        }
    }
    out
}

/// One undo for rollback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Undo {
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
pub fn rollback_steps(done: &[(Step, Outcome)]) -> Vec<Undo> {
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

/// The state of a step journaled without an outcome, as observed now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settled {
    /// The step took effect.
    Done,
    /// The step did not take effect: it can be executed again.
    NotDone,
    /// The resource is in neither the state before nor the state after the
    /// step: someone else changed it. Neither redo nor undo it.
    Diverged(String),
    /// Only for `EnableAccessEntries`: an update is still running; observe
    /// again later.
    InProgress,
}

impl Settled {
    /// The outcome to journal for a settled step (None while in progress).
    pub fn to_outcome(&self) -> Option<Outcome> {
        match self {
            Settled::Done => Some(Outcome::Done {
                response: serde_json::json!({"settled": "observed on resume"}),
            }),
            Settled::NotDone => Some(Outcome::Failed {
                code: "NotDone".to_string(),
                message: "interrupted before it took effect (observed on resume)".to_string(),
            }),
            Settled::Diverged(why) => Some(Outcome::Failed {
                code: DIVERGED.to_string(),
                message: why.clone(),
            }),
            Settled::InProgress => None,
        }
    }
}

/// Same scope, ignoring the order and repetition of namespaces.
fn same_scope(a: &AccessScope, b: &AccessScope) -> bool {
    let set = |s: &AccessScope| s.namespaces.iter().cloned().collect::<BTreeSet<String>>();
    a.scope_type == b.scope_type && set(a) == set(b)
}

fn same_groups(a: &[String], b: &[String]) -> bool {
    a.iter().collect::<BTreeSet<_>>() == b.iter().collect::<BTreeSet<_>>()
}

/// Whether an observed username is what `want` produces (None: EKS's default).
fn username_matches(principal_arn: &str, want: &Option<String>, have: &Option<String>) -> bool {
    match want {
        Some(w) => have.as_ref() == Some(w),
        None => have.is_none() || *have == default_username(principal_arn),
    }
}

/// How an observed entry differs from the one a `CreateEntry` made. Node
/// entries are compared by type only: EKS fills in their username and
/// groups itself.
fn differences(
    principal_arn: &str,
    entry_type: EntryType,
    username: &Option<String>,
    groups: &[String],
    e: &ExistingEntry,
) -> Vec<String> {
    let mut what = Vec::new();
    if e.entry_type != entry_type.as_str() {
        what.push(format!("its type is {}", e.entry_type));
    }
    if entry_type.is_node() {
        return what;
    }
    if !username_matches(principal_arn, username, &e.username) {
        what.push(format!(
            "its username is {}",
            e.username.as_deref().unwrap_or("(default)")
        ));
    }
    if !same_groups(&e.kubernetes_groups, groups) {
        what.push(format!(
            "its groups are [{}]",
            e.kubernetes_groups.join(", ")
        ));
    }
    what
}

fn has_tags(have: &BTreeMap<String, String>, want: &BTreeMap<String, String>) -> bool {
    want.iter().all(|(k, v)| have.get(k) == Some(v))
}

fn scope_of<'a>(e: &'a ExistingEntry, policy_arn: &str) -> Option<&'a AccessScope> {
    e.policies
        .iter()
        .find(|p| p.policy_arn == policy_arn)
        .map(|p| &p.access_scope)
}

fn show_scope(s: Option<&AccessScope>) -> String {
    s.map(|s| s.to_string())
        .unwrap_or_else(|| "none".to_string())
}

/// Settles a step whose intent was journaled but whose outcome was not,
/// from the observed state of its principal (`None`: no entry). The
/// authentication-mode step is settled with [`settle_mode`] instead.
pub fn settle(step: &Step, observed: Option<&ExistingEntry>) -> Settled {
    match step {
        Step::EnableAccessEntries { .. } | Step::SwitchToApi { .. } => Settled::Diverged(
            "an authentication mode switch is settled from the cluster's mode (settle_mode)".into(),
        ),
        Step::PutConfigMap { .. } | Step::DeleteConfigMap { .. } | Step::CreateConfigMap { .. } => {
            Settled::Diverged(
                "an aws-auth step is settled from the ConfigMap (settle_configmap)".into(),
            )
        }
        Step::CreateEntry {
            principal_arn,
            entry_type,
            username,
            kubernetes_groups,
            tags,
            ..
        } => {
            let Some(e) = observed else {
                return Settled::NotDone;
            };
            if !has_tags(&e.tags, tags) {
                return Settled::Diverged(format!(
                    "an entry for {principal_arn} exists without this migration's tags: someone else created it"
                ));
            }
            let what = differences(principal_arn, *entry_type, username, kubernetes_groups, e);
            if !what.is_empty() {
                return Settled::Diverged(format!(
                    "the entry for {principal_arn} was created by this migration but changed since: {}",
                    what.join("; ")
                ));
            }
            Settled::Done
        }
        Step::AssociatePolicy {
            principal_arn,
            policy_arn,
            access_scope,
            prior_scope,
            ..
        } => {
            let Some(e) = observed else {
                return Settled::Diverged(format!(
                    "the entry for {principal_arn} no longer exists"
                ));
            };
            let have = scope_of(e, policy_arn);
            match (have, prior_scope) {
                (Some(h), _) if same_scope(h, access_scope) => Settled::Done,
                (None, None) => Settled::NotDone,
                (Some(h), Some(p)) if same_scope(h, p) => Settled::NotDone,
                _ => Settled::Diverged(format!(
                    "{policy_arn} on {principal_arn} has scope {}, neither {} (before) nor {access_scope} (after)",
                    show_scope(have),
                    show_scope(prior_scope.as_ref())
                )),
            }
        }
        Step::UpdateEntry {
            principal_arn,
            username,
            kubernetes_groups,
            prior_username,
            prior_groups,
        } => {
            let Some(e) = observed else {
                return Settled::Diverged(format!(
                    "the entry for {principal_arn} no longer exists"
                ));
            };
            if username_matches(principal_arn, username, &e.username)
                && same_groups(&e.kubernetes_groups, kubernetes_groups)
            {
                Settled::Done
            } else if username_matches(principal_arn, prior_username, &e.username)
                && same_groups(&e.kubernetes_groups, prior_groups)
            {
                Settled::NotDone
            } else {
                Settled::Diverged(format!(
                    "the entry for {principal_arn} has username {} and groups [{}], neither the state before nor after the update",
                    e.username.as_deref().unwrap_or("(default)"),
                    e.kubernetes_groups.join(", ")
                ))
            }
        }
        Step::DeleteEntry {
            principal_arn,
            tags,
        } => match observed {
            None => Settled::Done,
            Some(e) if has_tags(&e.tags, tags) => Settled::NotDone,
            Some(_) => Settled::Diverged(format!(
                "an entry for {principal_arn} exists without this migration's tags: someone else created it"
            )),
        },
        Step::DisassociatePolicy {
            principal_arn,
            policy_arn,
            access_scope,
        } => {
            let Some(e) = observed else {
                return Settled::Diverged(format!(
                    "the entry for {principal_arn} no longer exists"
                ));
            };
            match scope_of(e, policy_arn) {
                None => Settled::Done,
                Some(h) if same_scope(h, access_scope) => Settled::NotDone,
                Some(h) => Settled::Diverged(format!(
                    "{policy_arn} on {principal_arn} has scope {h}, not {access_scope}"
                )),
            }
        }
    }
}

/// Settles an `EnableAccessEntries` step from the cluster's authentication
/// mode and whether an access-config update is in progress.
pub fn settle_mode(step: &Step, mode: &str, update_in_progress: bool) -> Settled {
    if let Step::SwitchToApi { from_mode } = step {
        return match mode {
            MODE_API => Settled::Done,
            m if m == from_mode && update_in_progress => Settled::InProgress,
            m if m == from_mode => Settled::NotDone,
            other => Settled::Diverged(format!(
                "the authentication mode is {other}, expected {from_mode} or {MODE_API}"
            )),
        };
    }
    let Step::EnableAccessEntries { from_mode } = step else {
        return Settled::Diverged(format!(
            "{} is settled from the principal's entry (settle)",
            step.op()
        ));
    };
    match mode {
        MODE_API_AND_CONFIG_MAP | MODE_API => Settled::Done,
        m if m == from_mode && update_in_progress => Settled::InProgress,
        m if m == from_mode => Settled::NotDone,
        other => Settled::Diverged(format!(
            "the authentication mode is {other}, expected {from_mode} or {MODE_API_AND_CONFIG_MAP}"
        )),
    }
}

/// What `--resume` does with a step of the plan that has not taken effect,
/// judged from its principal's entry as it is now (see [`reconcile`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reconciled {
    /// Not there yet: execute it.
    Run,
    /// Already as the step leaves it, on this migration's own entry (a call
    /// whose success was lost): journaled done, undone by rollback.
    Done,
    /// The entry was made by someone else (EKS on the mode switch, or by
    /// hand) and is what the plan wants: taken as it is, never created
    /// again (409) nor deleted by rollback.
    Adopted(String),
    /// Someone else's change is in the way: neither done nor undone, and
    /// the principal's later steps are not attempted.
    Diverged(String),
}

/// Resume compares what is left of the plan with what exists now, one
/// principal at a time: `group` is that principal's remaining steps, in
/// order; `observed` its entry now (`None`: no entry). The answer has one
/// verdict per step up to and including the first `Diverged` (the steps
/// after it are not attempted).
///
/// A `CreateEntry` finding an entry without this migration's tags adopts
/// it, with the principal's associations, when a plan made now would call
/// it a no-op: the same type (node entries: only the type), username and
/// groups, and every policy at a scope covering the planned one. Otherwise
/// it is diverged. Other steps are settled as a pending step is
/// ([`settle`]): done, to run, or diverged.
pub fn reconcile(group: &[Step], observed: Option<&ExistingEntry>) -> Vec<Reconciled> {
    let mut out = Vec::new();
    let Some(e) = observed else {
        for step in group {
            match step {
                // An entry is created first: its associations follow it.
                Step::CreateEntry { .. } => return vec![Reconciled::Run; group.len()],
                _ => match settle(step, None) {
                    Settled::Diverged(why) => {
                        out.push(Reconciled::Diverged(why));
                        return out;
                    }
                    _ => out.push(Reconciled::Run),
                },
            }
        }
        return out;
    };
    if let Some(Step::CreateEntry {
        principal_arn,
        entry_type,
        username,
        kubernetes_groups,
        tags,
        ..
    }) = group.first()
    {
        if !has_tags(&e.tags, tags) {
            let mut what = differences(principal_arn, *entry_type, username, kubernetes_groups, e);
            for step in &group[1..] {
                if let Step::AssociatePolicy {
                    policy_arn,
                    access_scope,
                    ..
                } = step
                {
                    match scope_of(e, policy_arn) {
                        Some(h) if h.covers(access_scope) => {}
                        h => what.push(format!(
                            "{policy_arn} has scope {}, the plan needs {access_scope}",
                            show_scope(h)
                        )),
                    }
                }
            }
            if what.is_empty() {
                let why = format!(
                    "an entry for {principal_arn} made by someone else (EKS on the mode switch, or by hand) is already as planned: adopted, left as it is"
                );
                return vec![Reconciled::Adopted(why); group.len()];
            }
            return vec![Reconciled::Diverged(format!(
                "an entry for {principal_arn} made by someone else exists and differs from the plan: {}; it is left as it is",
                what.join("; ")
            ))];
        }
    }
    for step in group {
        match settle(step, Some(e)) {
            Settled::Done => out.push(Reconciled::Done),
            Settled::Diverged(why) => {
                out.push(Reconciled::Diverged(why));
                return out;
            }
            Settled::NotDone | Settled::InProgress => out.push(Reconciled::Run),
        }
    }
    out
}

/// Before an undo: is the resource still as the tool left it? `observed`
/// is the principal's entry now (`None`: no entry). An `Err` says what
/// changed; rollback reports it and skips the undo unless forced.
/// Irreversible undos have nothing to check.
pub fn still_as_left(undo: &Undo, observed: Option<&ExistingEntry>) -> Result<(), String> {
    if !matches!(undo.inverse, Inverse::Undo { .. }) {
        return Ok(());
    }
    let gone = |p: &str| format!("the entry for {p} no longer exists");
    match &undo.step {
        Step::EnableAccessEntries { .. } | Step::SwitchToApi { .. } => Ok(()),
        // The aws-auth steps carry their own precondition (the data they
        // expect, or absence), checked when they run: see
        // `still_as_left_configmap`.
        Step::PutConfigMap { .. } | Step::DeleteConfigMap { .. } | Step::CreateConfigMap { .. } => {
            Ok(())
        }
        Step::CreateEntry {
            principal_arn,
            entry_type,
            username,
            kubernetes_groups,
            tags,
            ..
        } => {
            let e = observed.ok_or_else(|| gone(principal_arn))?;
            let mut what = Vec::new();
            if !has_tags(&e.tags, tags) {
                what.push("its tags no longer name this migration".to_string());
            }
            what.extend(differences(
                principal_arn,
                *entry_type,
                username,
                kubernetes_groups,
                e,
            ));
            let mut extra: Vec<String> = Vec::new();
            for p in &e.policies {
                match undo.covers.iter().find(|c| c.policy_arn == p.policy_arn) {
                    Some(c) if same_scope(&c.access_scope, &p.access_scope) => {}
                    Some(_) => {
                        extra.push(format!("{} now has scope {}", p.policy_arn, p.access_scope))
                    }
                    None => extra.push(format!("{} was associated by someone else", p.policy_arn)),
                }
            }
            what.extend(extra);
            if what.is_empty() {
                Ok(())
            } else {
                Err(format!(
                    "the entry for {principal_arn} changed since this migration created it: {}",
                    what.join("; ")
                ))
            }
        }
        Step::AssociatePolicy {
            principal_arn,
            policy_arn,
            access_scope,
            ..
        } => {
            let e = observed.ok_or_else(|| gone(principal_arn))?;
            match scope_of(e, policy_arn) {
                Some(h) if same_scope(h, access_scope) => Ok(()),
                h => Err(format!(
                    "{policy_arn} on {principal_arn} has scope {} since, not {access_scope} as left",
                    show_scope(h)
                )),
            }
        }
        Step::UpdateEntry {
            principal_arn,
            username,
            kubernetes_groups,
            ..
        } => {
            let e = observed.ok_or_else(|| gone(principal_arn))?;
            if username_matches(principal_arn, username, &e.username)
                && same_groups(&e.kubernetes_groups, kubernetes_groups)
            {
                Ok(())
            } else {
                Err(format!(
                    "the entry for {principal_arn} changed since this migration updated it: username {}, groups [{}]",
                    e.username.as_deref().unwrap_or("(default)"),
                    e.kubernetes_groups.join(", ")
                ))
            }
        }
        Step::DeleteEntry { .. } | Step::DisassociatePolicy { .. } => Ok(()),
    }
}

/// What an aws-auth step needs to find before it runs: `Some(data)` (the
/// ConfigMap exists with exactly this data) or `None` (it does not exist).
/// None for other steps.
pub fn configmap_precondition(step: &Step) -> Option<Option<&BTreeMap<String, String>>> {
    match step {
        Step::PutConfigMap { backup_data, .. } => Some(Some(backup_data)),
        Step::DeleteConfigMap { backup } => Some(Some(&backup.data)),
        Step::CreateConfigMap { .. } => Some(None),
        _ => None,
    }
}

/// The ConfigMap data an aws-auth step leaves: `Some(data)`, or `None`
/// when it deletes it. None (outer) for other steps.
pub fn configmap_result(step: &Step) -> Option<Option<&BTreeMap<String, String>>> {
    match step {
        Step::PutConfigMap { new_data, .. } => Some(Some(new_data)),
        Step::DeleteConfigMap { .. } => Some(None),
        Step::CreateConfigMap { backup } => Some(Some(&backup.data)),
        _ => None,
    }
}

fn show_presence(d: Option<&BTreeMap<String, String>>) -> &'static str {
    if d.is_some() {
        "exists with other data"
    } else {
        "does not exist"
    }
}

/// Settles an aws-auth step journaled without an outcome from the
/// ConfigMap's data now (`None`: it does not exist): done when it holds
/// what the step leaves, not done when it holds what the step expected,
/// diverged otherwise (someone else changed it).
pub fn settle_configmap(step: &Step, observed: Option<&BTreeMap<String, String>>) -> Settled {
    let (Some(before), Some(after)) = (configmap_precondition(step), configmap_result(step)) else {
        return Settled::Diverged(format!("{} is not an aws-auth step", step.op()));
    };
    if observed == after {
        Settled::Done
    } else if observed == before {
        Settled::NotDone
    } else {
        Settled::Diverged(format!(
            "aws-auth {} since: neither the state before nor after {}",
            show_presence(observed),
            step.op()
        ))
    }
}

/// Before an aws-auth step runs (forward or as an undo): does the ConfigMap
/// hold what the step expects? An `Err` says what differs: someone changed
/// aws-auth since the tool read (or left) it.
pub fn still_as_left_configmap(
    step: &Step,
    observed: Option<&BTreeMap<String, String>>,
) -> Result<(), String> {
    let Some(before) = configmap_precondition(step) else {
        return Ok(());
    };
    if observed == before {
        return Ok(());
    }
    Err(match (before, observed) {
        (None, Some(_)) => "aws-auth exists again (someone recreated it)".to_string(),
        (Some(_), None) => "aws-auth no longer exists".to_string(),
        (Some(want), Some(have)) => {
            let keys: BTreeSet<&String> = want.keys().chain(have.keys()).collect();
            let changed: Vec<&str> = keys
                .into_iter()
                .filter(|k| want.get(*k) != have.get(*k))
                .map(|k| k.as_str())
                .collect();
            format!(
                "aws-auth changed since the tool read it (keys {})",
                changed.join(", ")
            )
        }
        (None, None) => "aws-auth does not exist".to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::diff::EntryDiff;
    use crate::core::plan::{ClusterRef, Entry, Fidelity, Source, Summary, Tool};
    use crate::core::policy::policy_arn;

    const ROLE: &str = "arn:aws:iam::111122223333:role/dev";
    const ADMIN: &str = "arn:aws:iam::111122223333:role/team/admin";
    const OPS: &str = "arn:aws:iam::111122223333:user/ops";
    const MID: &str = "m-20261128-1";

    fn view() -> String {
        policy_arn("aws", "AmazonEKSViewPolicy")
    }
    fn edit() -> String {
        policy_arn("aws", "AmazonEKSEditPolicy")
    }
    fn admin() -> String {
        policy_arn("aws", "AmazonEKSClusterAdminPolicy")
    }
    fn ns(list: &[&str]) -> AccessScope {
        AccessScope::namespaces(list.iter().map(|s| s.to_string()).collect())
    }
    fn assoc(policy: String, scope: AccessScope) -> PolicyAssociation {
        PolicyAssociation {
            policy_arn: policy,
            access_scope: scope,
        }
    }
    fn strings(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }
    fn tags() -> BTreeMap<String, String> {
        [
            (TAG_MIGRATION_ID.to_string(), MID.to_string()),
            (TAG_VERSION.to_string(), "0.1.0".to_string()),
        ]
        .into()
    }
    fn done() -> Outcome {
        Outcome::Done {
            response: serde_json::json!({}),
        }
    }
    fn failed() -> Outcome {
        Outcome::Failed {
            code: "ThrottlingException".into(),
            message: "Rate exceeded".into(),
        }
    }

    fn entry(
        arn: &str,
        action: Action,
        groups: &[&str],
        policies: Vec<PolicyAssociation>,
    ) -> Entry {
        Entry {
            principal_arn: arn.to_string(),
            entry_type: EntryType::Standard,
            username: None,
            kubernetes_groups: strings(groups),
            policies,
            fidelity: Fidelity::Exact,
            reasons: vec![],
            action,
            from: vec![0],
            diff: None,
        }
    }

    fn existing(
        arn: &str,
        username: Option<&str>,
        groups: &[&str],
        policies: Vec<PolicyAssociation>,
    ) -> ExistingEntry {
        ExistingEntry {
            principal_arn: arn.to_string(),
            entry_type: "STANDARD".to_string(),
            username: username.map(str::to_string),
            kubernetes_groups: strings(groups),
            policies,
            tags: BTreeMap::new(),
        }
    }

    fn plan(entries: Vec<Entry>, mode: Option<&str>) -> Plan {
        Plan {
            format_version: "1".into(),
            tool: Tool::default(),
            source: Source {
                kind: "cluster".into(),
                path: None,
                sha256: "00".into(),
                resource_version: None,
            },
            cluster: ClusterRef {
                name: Some("prod".into()),
                region: Some("eu-west-1".into()),
                account: Some("111122223333".into()),
                partition: "aws".into(),
                account_source: "cluster".into(),
                authentication_mode: mode.map(str::to_string),
            },
            allow_lossy: false,
            sections: vec![],
            notices: vec![],
            mappings: vec![],
            entries,
            summary: Summary::default(),
            existing: None,
            lockout: None,
            fingerprint: None,
            digest: None,
        }
    }

    /// An `update` entry for ADMIN: it exists with group `ops`, view on ns a,
    /// and lacks group `dev`, view on ns b (merged to a,b) and edit on ns c.
    /// The entry itself shows the state after the update, as core::diff
    /// leaves it.
    fn update_entry() -> Entry {
        let have = existing(
            ADMIN,
            Some("admin"),
            &["ops"],
            vec![assoc(view(), ns(&["a"]))],
        );
        let mut e = entry(
            ADMIN,
            Action::Update,
            &["dev", "ops"],
            vec![assoc(edit(), ns(&["c"])), assoc(view(), ns(&["a", "b"]))],
        );
        e.username = Some("admin".into());
        e.diff = Some(EntryDiff {
            existing: have,
            missing_groups: strings(&["dev"]),
            extra_groups: strings(&["ops"]),
            // As core::diff reports it: the narrower policy widened to the union.
            missing_policies: vec![assoc(view(), ns(&["a", "b"])), assoc(edit(), ns(&["c"]))],
            username_differs: false,
            type_differs: false,
        });
        e
    }

    fn create_dev() -> Step {
        Step::CreateEntry {
            principal_arn: ROLE.into(),
            entry_type: EntryType::Standard,
            username: None,
            kubernetes_groups: strings(&["dev"]),
            tags: tags(),
            client_request_token: client_request_token(MID, ROLE),
        }
    }
    fn assoc_dev() -> Step {
        Step::AssociatePolicy {
            principal_arn: ROLE.into(),
            policy_arn: view(),
            access_scope: AccessScope::cluster(),
            prior_scope: None,
            on_created_entry: true,
        }
    }
    fn update_admin() -> Step {
        Step::UpdateEntry {
            principal_arn: ADMIN.into(),
            username: Some("admin".into()),
            kubernetes_groups: strings(&["dev", "ops"]),
            prior_username: Some("admin".into()),
            prior_groups: strings(&["ops"]),
        }
    }
    fn widen_admin_view() -> Step {
        Step::AssociatePolicy {
            principal_arn: ADMIN.into(),
            policy_arn: view(),
            access_scope: ns(&["a", "b"]),
            prior_scope: Some(ns(&["a"])),
            on_created_entry: false,
        }
    }
    fn add_admin_edit() -> Step {
        Step::AssociatePolicy {
            principal_arn: ADMIN.into(),
            policy_arn: edit(),
            access_scope: ns(&["c"]),
            prior_scope: None,
            on_created_entry: false,
        }
    }

    #[test]
    fn token_is_deterministic_32_hex() {
        let t = client_request_token(MID, ROLE);
        assert_eq!(t.len(), 32);
        assert!(t
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_eq!(t, client_request_token(MID, ROLE));
        assert_eq!(
            t,
            sha256_hex(format!("{MID}\n{ROLE}").as_bytes())[..32].to_string()
        );
        assert_ne!(t, client_request_token(MID, ADMIN));
        assert_ne!(t, client_request_token("m-other", ROLE));
    }

    #[test]
    fn steps_in_order_creates_then_updates() {
        let p = plan(
            vec![
                update_entry(),
                entry(
                    ROLE,
                    Action::Create,
                    &["dev"],
                    vec![assoc(view(), AccessScope::cluster())],
                ),
                entry(OPS, Action::Noop, &[], vec![]),
                entry(
                    "arn:aws:iam::111122223333:role/x",
                    Action::Conflict,
                    &[],
                    vec![],
                ),
                entry(
                    "arn:aws:iam::111122223333:role/cluster-creator",
                    Action::Unmanaged,
                    &[],
                    vec![],
                ),
            ],
            Some("API_AND_CONFIG_MAP"),
        );
        let steps = steps_for(&p, MID, "0.1.0").unwrap();
        assert_eq!(
            steps,
            vec![
                create_dev(),
                assoc_dev(),
                update_admin(),
                widen_admin_view(),
                add_admin_edit()
            ]
        );
        // A diff listing only the wanted (narrower) scope still widens, never narrows.
        let mut legacy = update_entry();
        legacy.diff.as_mut().unwrap().missing_policies[0] = assoc(view(), ns(&["b"]));
        assert_eq!(
            steps_for(&plan(vec![legacy], None), MID, "0.1.0").unwrap(),
            vec![update_admin(), widen_admin_view(), add_admin_edit()]
        );
    }

    #[test]
    fn create_with_several_policies_and_node_entry() {
        let mut node = entry(
            "arn:aws:iam::111122223333:role/nodes",
            Action::Create,
            &[],
            vec![],
        );
        node.entry_type = EntryType::Ec2Linux;
        let mut ops = entry(
            OPS,
            Action::Create,
            &[],
            vec![
                assoc(admin(), AccessScope::cluster()),
                assoc(view(), ns(&["x"])),
            ],
        );
        ops.username = Some("ops".into());
        let steps = steps_for(&plan(vec![ops, node], None), MID, "9.9.9").unwrap();
        let ops_tags: BTreeMap<String, String> = [
            (TAG_MIGRATION_ID.to_string(), MID.to_string()),
            (TAG_VERSION.to_string(), "9.9.9".to_string()),
        ]
        .into();
        assert_eq!(steps.len(), 4);
        assert_eq!(
            steps[0],
            Step::CreateEntry {
                principal_arn: OPS.into(),
                entry_type: EntryType::Standard,
                username: Some("ops".into()),
                kubernetes_groups: vec![],
                tags: ops_tags.clone(),
                client_request_token: client_request_token(MID, OPS),
            }
        );
        assert_eq!(steps[1].op(), "associate-policy");
        assert_eq!(steps[2].op(), "associate-policy");
        assert_eq!(
            steps[3],
            Step::CreateEntry {
                principal_arn: "arn:aws:iam::111122223333:role/nodes".into(),
                entry_type: EntryType::Ec2Linux,
                username: None,
                kubernetes_groups: vec![],
                tags: ops_tags,
                client_request_token: client_request_token(
                    MID,
                    "arn:aws:iam::111122223333:role/nodes"
                ),
            }
        );
    }

    #[test]
    fn update_without_diff_is_refused_and_policy_only_update_has_no_update_step() {
        let mut e = update_entry();
        e.diff = None;
        assert_eq!(
            steps_for(&plan(vec![e], None), MID, "0.1.0").unwrap_err(),
            format!("the plan updates {ADMIN} but does not say what exists now; re-plan against the cluster")
        );
        let mut e = update_entry();
        e.diff.as_mut().unwrap().missing_groups.clear();
        let steps = steps_for(&plan(vec![e], None), MID, "0.1.0").unwrap();
        assert_eq!(steps, vec![widen_admin_view(), add_admin_edit()]);
    }

    #[test]
    fn mode_step_only_from_config_map() {
        assert_eq!(
            mode_step(&plan(vec![], Some("CONFIG_MAP"))),
            Some(Step::EnableAccessEntries {
                from_mode: "CONFIG_MAP".into()
            })
        );
        assert_eq!(mode_step(&plan(vec![], Some("API_AND_CONFIG_MAP"))), None);
        assert_eq!(mode_step(&plan(vec![], Some("API"))), None);
        assert_eq!(mode_step(&plan(vec![], None)), None);
    }

    #[test]
    fn serialised_form() {
        let v = serde_json::to_value(create_dev()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "op": "create-entry",
                "principal_arn": ROLE,
                "type": "STANDARD",
                "username": null,
                "kubernetes_groups": ["dev"],
                "tags": {"aws-auth-migrate/migration-id": MID, "aws-auth-migrate/version": "0.1.0"},
                "client_request_token": client_request_token(MID, ROLE),
            })
        );
        assert_eq!(
            serde_json::to_value(Step::EnableAccessEntries {
                from_mode: "CONFIG_MAP".into()
            })
            .unwrap(),
            serde_json::json!({"op": "enable-access-entries", "from_mode": "CONFIG_MAP"})
        );
        assert_eq!(
            serde_json::to_value(widen_admin_view()).unwrap(),
            serde_json::json!({
                "op": "associate-policy",
                "principal_arn": ADMIN,
                "policy_arn": view(),
                "access_scope": {"type": "namespace", "namespaces": ["a", "b"]},
                "prior_scope": {"type": "namespace", "namespaces": ["a"]},
                "on_created_entry": false,
            })
        );
        assert_eq!(
            serde_json::to_value(create_dev().inverse()).unwrap(),
            serde_json::json!({
                "kind": "undo",
                "step": {"op": "delete-entry", "principal_arn": ROLE, "tags": tags()},
            })
        );
        assert_eq!(
            serde_json::to_value(failed()).unwrap(),
            serde_json::json!({"status": "failed", "code": "ThrottlingException", "message": "Rate exceeded"})
        );
        for s in [
            create_dev(),
            assoc_dev(),
            update_admin(),
            widen_admin_view(),
            add_admin_edit(),
            Step::EnableAccessEntries {
                from_mode: "CONFIG_MAP".into(),
            },
        ] {
            let back: Step = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
            assert_eq!(back, s);
            let inv: Inverse =
                serde_json::from_str(&serde_json::to_string(&s.inverse()).unwrap()).unwrap();
            assert_eq!(inv, s.inverse());
        }
    }

    #[test]
    fn inverses() {
        assert_eq!(
            create_dev().inverse(),
            Inverse::Undo {
                step: Step::DeleteEntry {
                    principal_arn: ROLE.into(),
                    tags: tags()
                }
            }
        );
        assert_eq!(
            assoc_dev().inverse(),
            Inverse::Covered {
                principal_arn: ROLE.into()
            }
        );
        assert_eq!(
            add_admin_edit().inverse(),
            Inverse::Undo {
                step: Step::DisassociatePolicy {
                    principal_arn: ADMIN.into(),
                    policy_arn: edit(),
                    access_scope: ns(&["c"]),
                }
            }
        );
        assert_eq!(
            widen_admin_view().inverse(),
            Inverse::Undo {
                step: Step::AssociatePolicy {
                    principal_arn: ADMIN.into(),
                    policy_arn: view(),
                    access_scope: ns(&["a"]),
                    prior_scope: Some(ns(&["a", "b"])),
                    on_created_entry: false,
                }
            }
        );
        assert_eq!(
            update_admin().inverse(),
            Inverse::Undo {
                step: Step::UpdateEntry {
                    principal_arn: ADMIN.into(),
                    username: Some("admin".into()),
                    kubernetes_groups: strings(&["ops"]),
                    prior_username: Some("admin".into()),
                    prior_groups: strings(&["dev", "ops"]),
                }
            }
        );
        assert_eq!(
            Step::EnableAccessEntries {
                from_mode: "CONFIG_MAP".into()
            }
            .inverse(),
            Inverse::Irreversible {
                reason: "EKS authentication modes only move forward: CONFIG_MAP cannot be restored"
                    .into()
            }
        );
        let del = Step::DeleteEntry {
            principal_arn: ROLE.into(),
            tags: tags(),
        };
        assert_eq!(
            del.inverse(),
            Inverse::Irreversible {
                reason: "a rollback step is not itself undone".into()
            }
        );
    }

    #[test]
    fn principals_and_runs() {
        assert_eq!(create_dev().principal_arn(), Some(ROLE));
        assert_eq!(
            Step::EnableAccessEntries {
                from_mode: "CONFIG_MAP".into()
            }
            .principal_arn(),
            None
        );
        let enable = Step::EnableAccessEntries {
            from_mode: "CONFIG_MAP".into(),
        };
        let runs = by_principal(&[
            enable.clone(),
            create_dev(),
            update_admin(),
            assoc_dev(),
            widen_admin_view(),
        ]);
        assert_eq!(
            runs,
            vec![
                vec![enable],
                vec![create_dev(), assoc_dev()],
                vec![update_admin(), widen_admin_view()],
            ]
        );
    }

    #[test]
    fn rollback_reverses_effective_steps_and_folds_associations() {
        let enable = Step::EnableAccessEntries {
            from_mode: "CONFIG_MAP".into(),
        };
        let ops_create = Step::CreateEntry {
            principal_arn: OPS.into(),
            entry_type: EntryType::Standard,
            username: None,
            kubernetes_groups: vec![],
            tags: tags(),
            client_request_token: client_request_token(MID, OPS),
        };
        let done_list = vec![
            (enable.clone(), done()),
            (create_dev(), done()),
            (assoc_dev(), done()),
            (ops_create, failed()),
            (update_admin(), done()),
            (widen_admin_view(), done()),
            (add_admin_edit(), Outcome::skipped("x")),
        ];
        let undos = rollback_steps(&done_list);
        assert_eq!(
            undos,
            vec![
                Undo {
                    index: 5,
                    step: widen_admin_view(),
                    inverse: widen_admin_view().inverse(),
                    covers: vec![],
                },
                Undo {
                    index: 4,
                    step: update_admin(),
                    inverse: update_admin().inverse(),
                    covers: vec![],
                },
                Undo {
                    index: 1,
                    step: create_dev(),
                    inverse: create_dev().inverse(),
                    covers: vec![assoc(view(), AccessScope::cluster())],
                },
                Undo {
                    index: 0,
                    step: enable.clone(),
                    inverse: enable.inverse(),
                    covers: vec![],
                },
            ]
        );
        assert!(rollback_steps(&[]).is_empty());
    }

    #[test]
    fn rollback_disassociates_when_the_creation_is_not_recorded() {
        let undos = rollback_steps(&[(create_dev(), failed()), (assoc_dev(), done())]);
        assert_eq!(
            undos,
            vec![Undo {
                index: 1,
                step: assoc_dev(),
                inverse: Inverse::Undo {
                    step: Step::DisassociatePolicy {
                        principal_arn: ROLE.into(),
                        policy_arn: view(),
                        access_scope: AccessScope::cluster(),
                    }
                },
                covers: vec![],
            }]
        );
    }

    fn ours(e: ExistingEntry) -> ExistingEntry {
        ExistingEntry { tags: tags(), ..e }
    }

    #[test]
    fn settle_create() {
        let s = create_dev();
        assert_eq!(settle(&s, None), Settled::NotDone);
        let made = ours(existing(
            ROLE,
            Some("arn:aws:sts::111122223333:assumed-role/dev/{{SessionName}}"),
            &["dev"],
            vec![],
        ));
        assert_eq!(settle(&s, Some(&made)), Settled::Done);
        let theirs = existing(ROLE, None, &["dev"], vec![]);
        assert_eq!(
            settle(&s, Some(&theirs)),
            Settled::Diverged(format!(
                "an entry for {ROLE} exists without this migration's tags: someone else created it"
            ))
        );
        let changed = ours(existing(ROLE, None, &["dev", "more"], vec![]));
        assert_eq!(
            settle(&s, Some(&changed)),
            Settled::Diverged(format!(
                "the entry for {ROLE} was created by this migration but changed since: its groups are [dev, more]"
            ))
        );
        let renamed = ours(existing(ROLE, Some("someone"), &["dev"], vec![]));
        assert_eq!(
            settle(&s, Some(&renamed)),
            Settled::Diverged(format!(
                "the entry for {ROLE} was created by this migration but changed since: its username is someone"
            ))
        );
        // Node entries: EKS fills in username and groups; only the type counts.
        let nodes = "arn:aws:iam::111122223333:role/nodes";
        let node_step = Step::CreateEntry {
            principal_arn: nodes.into(),
            entry_type: EntryType::Ec2Linux,
            username: None,
            kubernetes_groups: vec![],
            tags: tags(),
            client_request_token: client_request_token(MID, nodes),
        };
        let mut node = ours(existing(
            nodes,
            Some("system:node:{{EC2PrivateDNSName}}"),
            &["system:nodes"],
            vec![],
        ));
        node.entry_type = "EC2_LINUX".into();
        assert_eq!(settle(&node_step, Some(&node)), Settled::Done);
        assert_eq!(
            still_as_left(&undo_of(node_step.clone(), vec![]), Some(&node)),
            Ok(())
        );
        node.entry_type = "STANDARD".into();
        assert_eq!(
            settle(&node_step, Some(&node)),
            Settled::Diverged(format!(
                "the entry for {nodes} was created by this migration but changed since: its type is STANDARD"
            ))
        );
    }

    #[test]
    fn reconcile_runs_adopts_or_reports() {
        let group = vec![create_dev(), assoc_dev()];
        // Nothing there: everything runs.
        assert_eq!(
            reconcile(&group, None),
            vec![Reconciled::Run, Reconciled::Run]
        );
        // Someone else's entry, as planned (a wider scope covers): adopted.
        let wide = existing(
            ROLE,
            None,
            &["dev"],
            vec![assoc(view(), AccessScope::cluster())],
        );
        let adopted = reconcile(&group, Some(&wide));
        assert_eq!(adopted.len(), 2);
        assert!(
            matches!(&adopted[0], Reconciled::Adopted(w) if w.contains("adopted")),
            "{adopted:?}"
        );
        // Someone else's entry lacking the policy, or with other groups: diverged, once.
        let bare = existing(ROLE, None, &["dev"], vec![]);
        assert_eq!(
            reconcile(&group, Some(&bare)),
            vec![Reconciled::Diverged(format!(
                "an entry for {ROLE} made by someone else exists and differs from the plan: {} has scope none, the plan needs cluster; it is left as it is",
                view()
            ))]
        );
        let other = existing(
            ROLE,
            None,
            &["ops"],
            vec![assoc(view(), AccessScope::cluster())],
        );
        assert!(matches!(
            &reconcile(&group, Some(&other))[..],
            [Reconciled::Diverged(w)] if w.contains("its groups are [ops]")
        ));
        // Our own entry (a lost success): done; its association still runs.
        let mine = ours(existing(ROLE, None, &["dev"], vec![]));
        assert_eq!(
            reconcile(&group, Some(&mine)),
            vec![Reconciled::Done, Reconciled::Run]
        );
        // An association whose scope someone changed: diverged, not redone.
        let moved = ours(existing(
            ROLE,
            None,
            &["dev"],
            vec![assoc(view(), ns(&["x"]))],
        ));
        assert!(matches!(
            &reconcile(&[assoc_dev()], Some(&moved))[..],
            [Reconciled::Diverged(w)] if w.contains("has scope ns:x")
        ));
        // Our entry deleted since: its association is diverged.
        assert!(matches!(
            &reconcile(&[assoc_dev()], None)[..],
            [Reconciled::Diverged(w)] if w.contains("no longer exists")
        ));
        // Merge steps on an entry still as before run; the first diverged
        // one stops the principal.
        let admin = existing(
            ADMIN,
            Some("admin"),
            &["ops"],
            vec![assoc(view(), ns(&["a"]))],
        );
        let merge = vec![update_admin(), widen_admin_view(), add_admin_edit()];
        assert_eq!(reconcile(&merge, Some(&admin)), vec![Reconciled::Run; 3]);
        let renamed = existing(ADMIN, Some("root"), &["ops"], vec![]);
        assert!(matches!(
            &reconcile(&merge, Some(&renamed))[..],
            [Reconciled::Diverged(_)]
        ));
    }

    #[test]
    fn settle_associate() {
        let s = add_admin_edit();
        let before = existing(ADMIN, Some("admin"), &["ops"], vec![]);
        let after = existing(
            ADMIN,
            Some("admin"),
            &["ops"],
            vec![assoc(edit(), ns(&["c"]))],
        );
        let other = existing(
            ADMIN,
            Some("admin"),
            &["ops"],
            vec![assoc(edit(), ns(&["z"]))],
        );
        assert_eq!(settle(&s, Some(&before)), Settled::NotDone);
        assert_eq!(settle(&s, Some(&after)), Settled::Done);
        assert_eq!(
            settle(&s, Some(&other)),
            Settled::Diverged(format!(
                "{} on {ADMIN} has scope ns:z, neither none (before) nor ns:c (after)",
                edit()
            ))
        );
        assert_eq!(
            settle(&s, None),
            Settled::Diverged(format!("the entry for {ADMIN} no longer exists"))
        );
        let w = widen_admin_view();
        let prior = existing(ADMIN, None, &[], vec![assoc(view(), ns(&["a"]))]);
        let widened = existing(ADMIN, None, &[], vec![assoc(view(), ns(&["b", "a"]))]);
        let removed = existing(ADMIN, None, &[], vec![]);
        assert_eq!(settle(&w, Some(&prior)), Settled::NotDone);
        assert_eq!(settle(&w, Some(&widened)), Settled::Done);
        assert_eq!(
            settle(&w, Some(&removed)),
            Settled::Diverged(format!(
                "{} on {ADMIN} has scope none, neither ns:a (before) nor ns:a,b (after)",
                view()
            ))
        );
    }

    #[test]
    fn settle_update() {
        let s = update_admin();
        let before = existing(ADMIN, Some("admin"), &["ops"], vec![]);
        let after = existing(ADMIN, Some("admin"), &["dev", "ops"], vec![]);
        let neither = existing(ADMIN, Some("admin"), &["other"], vec![]);
        assert_eq!(settle(&s, Some(&before)), Settled::NotDone);
        assert_eq!(settle(&s, Some(&after)), Settled::Done);
        assert_eq!(
            settle(&s, Some(&neither)),
            Settled::Diverged(format!(
                "the entry for {ADMIN} has username admin and groups [other], neither the state before nor after the update"
            ))
        );
        assert_eq!(
            settle(&s, None),
            Settled::Diverged(format!("the entry for {ADMIN} no longer exists"))
        );
    }

    #[test]
    fn settle_rollback_steps() {
        let del = Step::DeleteEntry {
            principal_arn: ROLE.into(),
            tags: tags(),
        };
        assert_eq!(settle(&del, None), Settled::Done);
        let mine = ours(existing(ROLE, None, &["dev"], vec![]));
        assert_eq!(settle(&del, Some(&mine)), Settled::NotDone);
        assert!(matches!(
            settle(&del, Some(&existing(ROLE, None, &[], vec![]))),
            Settled::Diverged(_)
        ));
        let dis = Step::DisassociatePolicy {
            principal_arn: ADMIN.into(),
            policy_arn: edit(),
            access_scope: ns(&["c"]),
        };
        assert_eq!(
            settle(&dis, Some(&existing(ADMIN, None, &[], vec![]))),
            Settled::Done
        );
        assert_eq!(
            settle(
                &dis,
                Some(&existing(ADMIN, None, &[], vec![assoc(edit(), ns(&["c"]))]))
            ),
            Settled::NotDone
        );
        assert_eq!(
            settle(
                &dis,
                Some(&existing(
                    ADMIN,
                    None,
                    &[],
                    vec![assoc(edit(), AccessScope::cluster())]
                ))
            ),
            Settled::Diverged(format!("{} on {ADMIN} has scope cluster, not ns:c", edit()))
        );
        assert!(matches!(settle(&dis, None), Settled::Diverged(_)));
    }

    #[test]
    fn settle_mode_switch() {
        let s = Step::EnableAccessEntries {
            from_mode: "CONFIG_MAP".into(),
        };
        assert_eq!(settle_mode(&s, "API_AND_CONFIG_MAP", false), Settled::Done);
        assert_eq!(settle_mode(&s, "API", false), Settled::Done);
        assert_eq!(settle_mode(&s, "CONFIG_MAP", true), Settled::InProgress);
        assert_eq!(settle_mode(&s, "CONFIG_MAP", false), Settled::NotDone);
        assert_eq!(
            settle_mode(&s, "WEIRD", false),
            Settled::Diverged(
                "the authentication mode is WEIRD, expected CONFIG_MAP or API_AND_CONFIG_MAP"
                    .into()
            )
        );
        assert_eq!(
            settle_mode(&create_dev(), "API", false),
            Settled::Diverged("create-entry is settled from the principal's entry (settle)".into())
        );
        assert!(matches!(settle(&s, None), Settled::Diverged(_)));
    }

    #[test]
    fn settled_outcomes() {
        assert_eq!(
            Settled::Done.to_outcome(),
            Some(Outcome::Done {
                response: serde_json::json!({"settled": "observed on resume"})
            })
        );
        assert_eq!(
            Settled::NotDone.to_outcome(),
            Some(Outcome::Failed {
                code: "NotDone".into(),
                message: "interrupted before it took effect (observed on resume)".into()
            })
        );
        assert_eq!(
            Settled::Diverged("x".into()).to_outcome(),
            Some(Outcome::Failed {
                code: "Diverged".into(),
                message: "x".into()
            })
        );
        assert_eq!(Settled::InProgress.to_outcome(), None);
        assert!(done().took_effect());
        assert!(!failed().took_effect());
        assert!(!Outcome::skipped("r").took_effect());
    }

    fn undo_of(step: Step, covers: Vec<PolicyAssociation>) -> Undo {
        Undo {
            index: 0,
            inverse: step.inverse(),
            step,
            covers,
        }
    }

    #[test]
    fn still_as_left_created_entry() {
        let u = undo_of(create_dev(), vec![assoc(view(), AccessScope::cluster())]);
        let left = ours(existing(
            ROLE,
            None,
            &["dev"],
            vec![assoc(view(), AccessScope::cluster())],
        ));
        assert_eq!(still_as_left(&u, Some(&left)), Ok(()));
        assert_eq!(
            still_as_left(&u, None),
            Err(format!("the entry for {ROLE} no longer exists"))
        );
        let mut touched = left.clone();
        touched.kubernetes_groups.push("extra".into());
        touched
            .policies
            .push(assoc(admin(), AccessScope::cluster()));
        touched.policies[0].access_scope = ns(&["q"]);
        assert_eq!(
            still_as_left(&u, Some(&touched)),
            Err(format!(
                "the entry for {ROLE} changed since this migration created it: its groups are [dev, extra]; {} now has scope ns:q; {} was associated by someone else",
                view(),
                admin()
            ))
        );
        let mut retagged = left;
        retagged.tags.clear();
        retagged.username = Some("x".into());
        assert_eq!(
            still_as_left(&u, Some(&retagged)),
            Err(format!(
                "the entry for {ROLE} changed since this migration created it: its tags no longer name this migration; its username is x"
            ))
        );
    }

    #[test]
    fn still_as_left_association_and_update() {
        let a = undo_of(add_admin_edit(), vec![]);
        let left = existing(
            ADMIN,
            Some("admin"),
            &["ops", "dev"],
            vec![assoc(edit(), ns(&["c"]))],
        );
        assert_eq!(still_as_left(&a, Some(&left)), Ok(()));
        let widened = existing(
            ADMIN,
            Some("admin"),
            &["ops", "dev"],
            vec![assoc(edit(), ns(&["c", "d"]))],
        );
        assert_eq!(
            still_as_left(&a, Some(&widened)),
            Err(format!(
                "{} on {ADMIN} has scope ns:c,d since, not ns:c as left",
                edit()
            ))
        );
        assert_eq!(
            still_as_left(&a, Some(&existing(ADMIN, None, &[], vec![]))),
            Err(format!(
                "{} on {ADMIN} has scope none since, not ns:c as left",
                edit()
            ))
        );
        let u = undo_of(update_admin(), vec![]);
        assert_eq!(still_as_left(&u, Some(&left)), Ok(()));
        let edited = existing(ADMIN, Some("admin"), &["ops"], vec![]);
        assert_eq!(
            still_as_left(&u, Some(&edited)),
            Err(format!(
                "the entry for {ADMIN} changed since this migration updated it: username admin, groups [ops]"
            ))
        );
        assert_eq!(
            still_as_left(&u, None),
            Err(format!("the entry for {ADMIN} no longer exists"))
        );
        let irreversible = undo_of(
            Step::EnableAccessEntries {
                from_mode: "CONFIG_MAP".into(),
            },
            vec![],
        );
        assert_eq!(still_as_left(&irreversible, None), Ok(()));
    }
}

#[cfg(test)]
mod finish_step_tests {
    use super::*;

    fn data(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn backup() -> ConfigMapBackup {
        ConfigMapBackup {
            data: data(&[("mapRoles", "- rolearn: a\n# kept\n"), ("other", "x")]),
            labels: data(&[("team", "platform")]),
            annotations: BTreeMap::new(),
            resource_version: Some("7".into()),
        }
    }

    fn put() -> Step {
        Step::PutConfigMap {
            backup_data: data(&[("mapRoles", "- rolearn: a\n- rolearn: b\n")]),
            backup_resource_version: Some("7".into()),
            new_data: data(&[("mapRoles", "- rolearn: a\n")]),
            removed_rows: vec!["mapRoles#2".into()],
        }
    }

    #[test]
    fn ops_serialise_and_are_cluster_wide() {
        let v = serde_json::to_value(Step::SwitchToApi {
            from_mode: MODE_API_AND_CONFIG_MAP.into(),
        })
        .unwrap();
        assert_eq!(
            v,
            serde_json::json!({"op": "switch-to-api", "from_mode": "API_AND_CONFIG_MAP"})
        );
        for (s, op) in [
            (put(), "put-configmap"),
            (
                Step::DeleteConfigMap { backup: backup() },
                "delete-configmap",
            ),
            (
                Step::CreateConfigMap { backup: backup() },
                "create-configmap",
            ),
        ] {
            assert_eq!(s.op(), op);
            assert_eq!(s.principal_arn(), None);
            let json = serde_json::to_string(&s).unwrap();
            assert!(json.starts_with(&format!("{{\"op\":\"{op}\"")), "{json}");
            let back: Step = serde_json::from_str(&json).unwrap();
            assert_eq!(back, s);
        }
    }

    #[test]
    fn inverses() {
        match (Step::SwitchToApi {
            from_mode: MODE_API_AND_CONFIG_MAP.into(),
        })
        .inverse()
        {
            Inverse::Irreversible { reason } => assert!(reason.contains("cannot be undone")),
            other => panic!("{other:?}"),
        }
        let Inverse::Undo { step: undo } = put().inverse() else {
            panic!("a put is undone")
        };
        assert_eq!(
            undo,
            Step::PutConfigMap {
                backup_data: data(&[("mapRoles", "- rolearn: a\n")]),
                backup_resource_version: None,
                new_data: data(&[("mapRoles", "- rolearn: a\n- rolearn: b\n")]),
                removed_rows: vec!["restore mapRoles#2".into()],
            }
        );
        assert_eq!(
            Step::DeleteConfigMap { backup: backup() }.inverse(),
            Inverse::Undo {
                step: Step::CreateConfigMap { backup: backup() }
            }
        );
        assert!(matches!(
            Step::CreateConfigMap { backup: backup() }.inverse(),
            Inverse::Irreversible { .. }
        ));
        // rollback_steps lists them in reverse, the switch as irreversible.
        let done = Outcome::Done {
            response: serde_json::json!({}),
        };
        let undos = rollback_steps(&[
            (put(), done.clone()),
            (
                Step::SwitchToApi {
                    from_mode: MODE_API_AND_CONFIG_MAP.into(),
                },
                done.clone(),
            ),
            (Step::DeleteConfigMap { backup: backup() }, done),
        ]);
        let ops: Vec<&str> = undos.iter().map(|u| u.step.op()).collect();
        assert_eq!(
            ops,
            vec!["delete-configmap", "switch-to-api", "put-configmap"]
        );
        assert!(matches!(undos[1].inverse, Inverse::Irreversible { .. }));
    }

    #[test]
    fn settling_and_preconditions() {
        let s = put();
        let before = data(&[("mapRoles", "- rolearn: a\n- rolearn: b\n")]);
        let after = data(&[("mapRoles", "- rolearn: a\n")]);
        let other = data(&[("mapRoles", "- rolearn: c\n")]);
        assert_eq!(settle_configmap(&s, Some(&after)), Settled::Done);
        assert_eq!(settle_configmap(&s, Some(&before)), Settled::NotDone);
        assert!(matches!(
            settle_configmap(&s, Some(&other)),
            Settled::Diverged(_)
        ));
        assert!(matches!(settle_configmap(&s, None), Settled::Diverged(_)));
        assert_eq!(still_as_left_configmap(&s, Some(&before)), Ok(()));
        assert_eq!(
            still_as_left_configmap(&s, Some(&other)),
            Err("aws-auth changed since the tool read it (keys mapRoles)".into())
        );

        let del = Step::DeleteConfigMap { backup: backup() };
        assert_eq!(settle_configmap(&del, None), Settled::Done);
        assert_eq!(
            settle_configmap(&del, Some(&backup().data)),
            Settled::NotDone
        );
        assert_eq!(
            still_as_left_configmap(&del, None),
            Err("aws-auth no longer exists".into())
        );
        let create = Step::CreateConfigMap { backup: backup() };
        assert_eq!(
            settle_configmap(&create, Some(&backup().data)),
            Settled::Done
        );
        assert_eq!(settle_configmap(&create, None), Settled::NotDone);
        assert_eq!(
            still_as_left_configmap(&create, Some(&other)),
            Err("aws-auth exists again (someone recreated it)".into())
        );
        // Entry steps have no ConfigMap precondition.
        assert_eq!(
            configmap_precondition(&Step::SwitchToApi {
                from_mode: "X".into()
            }),
            None
        );

        let switch = Step::SwitchToApi {
            from_mode: MODE_API_AND_CONFIG_MAP.into(),
        };
        assert_eq!(settle_mode(&switch, MODE_API, false), Settled::Done);
        assert_eq!(
            settle_mode(&switch, MODE_API_AND_CONFIG_MAP, true),
            Settled::InProgress
        );
        assert_eq!(
            settle_mode(&switch, MODE_API_AND_CONFIG_MAP, false),
            Settled::NotDone
        );
        assert!(matches!(
            settle_mode(&switch, MODE_CONFIG_MAP, false),
            Settled::Diverged(_)
        ));
    }
}
