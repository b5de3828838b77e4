//! Stable reason codes: why a row is skipped, why an entry is lossy, and
//! what the planner did that a reviewer should know. docs/mapping-rules.md
//! lists every code with an example.

use serde::{Deserialize, Serialize};

/// How much a reason matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// Nothing is lost; the reviewer should know.
    Info,
    /// The entry cannot give exactly the access the row gives today.
    Lossy,
    /// The row is not migrated.
    Skip,
}

macro_rules! codes {
    ($($variant:ident = $code:literal, $sev:ident;)*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum Code {
            $(#[serde(rename = $code)] $variant,)*
        }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $code,)* }
            }

            pub fn severity(self) -> Severity {
                match self { $(Code::$variant => Severity::$sev,)* }
            }
        }
    };
}

codes! {
    // Rows the authenticator does not use today, or that cannot be entries.
    SectionUnparseable = "section-unparseable", Skip;
    MissingArn = "missing-arn", Skip;
    InvalidArn = "invalid-arn", Skip;
    StsArn = "sts-arn", Skip;
    RoleArnHasPath = "role-arn-has-path", Skip;
    ServiceLinkedRole = "service-linked-role", Skip;
    SsoBlock = "sso-block", Skip;
    MapAccounts = "map-accounts", Skip;
    Duplicate = "duplicate", Skip;
    CrossAccountNodeRole = "cross-account-node-role", Skip;
    PrincipalNotFound = "principal-not-found", Skip;
    // Entries that would not give the same access.
    SystemGroupNotAllowed = "system-group-not-allowed", Lossy;
    UsernameReservedPrefix = "username-reserved-prefix", Lossy;
    UsernameSessionColon = "username-session-colon", Lossy;
    UsernameTemplateUnsupported = "username-template-unsupported", Lossy;
    GroupTemplateUnsupported = "group-template-unsupported", Lossy;
    NodeExtraGroups = "node-extra-groups", Lossy;
    AmbiguousDuplicate = "ambiguous-duplicate", Lossy;
    // Rows that match a caller today and that no access entry can carry:
    // lossy, with no entry.
    RootUser = "root-user", Lossy;
    FederatedUser = "federated-user", Lossy;
    // Worth knowing; nothing lost.
    MastersToClusterAdmin = "masters-to-cluster-admin", Info;
    SystemGroupDropped = "system-group-dropped", Info;
    GroupMapped = "group-mapped", Info;
    FieldZeroed = "field-zeroed", Info;
    DuplicateKey = "duplicate-key", Info;
    EmptyGroupDropped = "empty-group-dropped", Info;
    UsernameDefaulted = "username-defaulted", Info;
    AccountIdRendered = "account-id-rendered", Info;
    NodeRole = "node-role", Info;
    NeedsIamResolution = "needs-iam-resolution", Info;
    PathResolved = "path-resolved", Info;
    Unverified = "unverified", Info;
    Unmanaged = "unmanaged", Info;
    ExistingConflict = "existing-conflict", Skip;
    ExistingMerged = "existing-merged", Info;
}

/// One reason: a stable code and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    pub code: Code,
    pub severity: Severity,
    pub message: String,
}

impl Reason {
    pub fn new(code: Code, message: impl Into<String>) -> Reason {
        Reason {
            code,
            severity: code.severity(),
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_kebab_case() {
        let mut seen = std::collections::BTreeSet::new();
        for code in Code::ALL {
            let s = code.as_str();
            assert!(seen.insert(s), "{s} twice");
            assert!(
                s.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
                "{s}"
            );
            let json = serde_json::to_string(code).unwrap();
            assert_eq!(json, format!("\"{s}\""));
        }
    }

    #[test]
    fn every_code_is_documented() {
        let doc = include_str!("../../docs/mapping-rules.md");
        for code in Code::ALL {
            assert!(
                doc.contains(&format!("`{}`", code.as_str())),
                "docs/mapping-rules.md lacks {}",
                code.as_str()
            );
        }
    }
}
