//! The access entries that exist on the cluster now, as a live plan records
//! them: the entries, what a planned principal has and lacks, and the
//! fingerprint a saved plan is checked against. Below the plan model: it
//! depends on nothing but the ARN and policy types.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::arn::{self, ArnClass, PrincipalKind};
use super::cluster::AuthMode;
use super::policy::PolicyAssociation;

/// An access entry as EKS holds it now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExistingEntry {
    pub principal_arn: String,
    #[serde(rename = "type")]
    pub entry_type: String,
    pub username: Option<String>,
    pub kubernetes_groups: Vec<String>,
    pub policies: Vec<PolicyAssociation>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

/// What exists for a planned principal, and what is missing from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryDiff {
    pub existing: ExistingEntry,
    pub missing_groups: Vec<String>,
    pub extra_groups: Vec<String>,
    pub missing_policies: Vec<PolicyAssociation>,
    pub username_differs: bool,
    pub type_differs: bool,
}

/// A digest of everything a live plan was computed from; a saved plan whose
/// fingerprint no longer matches the cluster is stale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprint {
    pub aws_auth_sha256: String,
    pub aws_auth_resource_version: Option<String>,
    pub authentication_mode: AuthMode,
    pub existing_sha256: String,
    pub existing_entries: usize,
    pub value: String,
}

impl Fingerprint {
    pub fn compute(
        aws_auth_sha256: &str,
        resource_version: Option<&str>,
        authentication_mode: &AuthMode,
        existing: &[ExistingEntry],
    ) -> Fingerprint {
        let mut sorted: Vec<ExistingEntry> = existing.to_vec();
        for e in &mut sorted {
            e.kubernetes_groups.sort();
            e.policies.sort();
        }
        sorted.sort_by(|a, b| a.principal_arn.cmp(&b.principal_arn));
        let existing_sha256 = sha256_hex(&serde_json::to_vec(&sorted).unwrap_or_default());
        let value = sha256_hex(
            format!(
                "{aws_auth_sha256}\n{}\n{authentication_mode}\n{existing_sha256}",
                resource_version.unwrap_or("")
            )
            .as_bytes(),
        );
        Fingerprint {
            aws_auth_sha256: aws_auth_sha256.to_string(),
            aws_auth_resource_version: resource_version.map(str::to_string),
            authentication_mode: authentication_mode.clone(),
            existing_sha256,
            existing_entries: existing.len(),
            value,
        }
    }

    /// What differs between a saved fingerprint and the current one.
    pub fn changes_since(&self, saved: &Fingerprint) -> Vec<String> {
        let mut out = Vec::new();
        if self.aws_auth_sha256 != saved.aws_auth_sha256 {
            out.push("the aws-auth ConfigMap's content changed".to_string());
        } else if self.aws_auth_resource_version != saved.aws_auth_resource_version {
            out.push(format!(
                "the aws-auth ConfigMap was rewritten (resourceVersion {} → {})",
                saved.aws_auth_resource_version.as_deref().unwrap_or("none"),
                self.aws_auth_resource_version.as_deref().unwrap_or("none")
            ));
        }
        if self.authentication_mode != saved.authentication_mode {
            out.push(format!(
                "the authentication mode changed ({} → {})",
                saved.authentication_mode, self.authentication_mode
            ));
        }
        if self.existing_sha256 != saved.existing_sha256 {
            out.push(format!(
                "the access entries changed ({} → {} entries, or their groups, usernames or policies)",
                saved.existing_entries, self.existing_entries
            ));
        }
        out
    }
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The username EKS gives an entry created without one.
pub(crate) fn default_username(principal_arn: &str) -> Option<String> {
    match arn::classify(principal_arn) {
        ArnClass::Principal(p) => Some(match p.kind {
            PrincipalKind::User => p.to_string(),
            PrincipalKind::Role => format!(
                "arn:{}:sts::{}:assumed-role/{}/{{{{SessionName}}}}",
                p.partition, p.account, p.name
            ),
        }),
        _ => None,
    }
}
