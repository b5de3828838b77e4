//! The step model: one call that changes the cluster (`Step`), what became
//! of it (`Outcome`), and the names the journal and EKS share. The
//! serialised form is part of the journal format (docs/journal.md): fields
//! may be added, never renamed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::core::cluster::AuthMode;
use crate::core::plan::EntryType;
use crate::core::policy::AccessScope;

/// Tag naming the migration that created an entry.
pub(crate) const TAG_MIGRATION_ID: &str = "aws-auth-migrate/migration-id";
/// Tag naming the tool version that created an entry.
pub(crate) const TAG_VERSION: &str = "aws-auth-migrate/version";
/// The outcome code of a step settled as changed by someone else.
pub(crate) const DIVERGED: &str = "Diverged";

/// One call that changes the cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "kebab-case")]
pub enum Step {
    /// `UpdateClusterConfig` `from_mode` → `API_AND_CONFIG_MAP`. Irreversible.
    EnableAccessEntries { from_mode: AuthMode },
    /// `CreateAccessEntry`.
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
    /// `AssociateAccessPolicy` (an upsert: it replaces the scope of an
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
    /// `UpdateAccessEntry`. EKS resets omitted fields, so both are always sent.
    UpdateEntry {
        principal_arn: String,
        username: Option<String>,
        kubernetes_groups: Vec<String>,
        prior_username: Option<String>,
        prior_groups: Vec<String>,
    },
    /// `DeleteAccessEntry` (rollback only, and only for entries carrying
    /// `tags`, i.e. entries the tool created).
    DeleteEntry {
        principal_arn: String,
        tags: BTreeMap<String, String>,
    },
    /// `DisassociateAccessPolicy` (rollback only): removes `access_scope`.
    DisassociatePolicy {
        principal_arn: String,
        policy_arn: String,
        access_scope: AccessScope,
    },
    /// `UpdateClusterConfig` `from_mode` → API, then wait for the update
    /// (`finalize`). Irreversible.
    SwitchToApi { from_mode: AuthMode },
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

/// The whole aws-auth `ConfigMap` as read before a change: enough to recreate
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
