//! Which aws-auth rows name a caller the authenticator can match today,
//! and whether an access entry can hold that caller: the reasons a row
//! gets no entry.

use crate::core::arn::{self, ArnClass, PrincipalArn, PrincipalKind};
use crate::core::aws_auth::Row;
use crate::core::input::Section;
use crate::core::reason::{Code, Reason};

/// What a row that can match a caller today names.
pub(super) enum Target {
    /// An IAM role or user: an access entry can carry it.
    Principal(PrincipalArn),
    /// A caller no access entry can name (the account root, a federated
    /// user), with the lossy reason that says what it loses.
    Unholdable { key: String, reason: Reason },
}

impl Target {
    pub(super) fn key(&self) -> String {
        match self {
            Target::Principal(p) => p.match_key(),
            Target::Unholdable { key, .. } => key.clone(),
        }
    }
}

/// What the row gives its caller today, for the reasons of rows that lose it.
fn access_of(row: &Row) -> String {
    let username = if row.username.is_empty() {
        "an empty username".to_string()
    } else {
        format!("username {:?}", row.username)
    };
    let groups: Vec<&str> = row
        .groups
        .iter()
        .map(std::string::String::as_str)
        .filter(|g| !g.is_empty())
        .collect();
    if groups.is_empty() {
        format!("{username} and no groups")
    } else {
        format!("{username} and groups {}", groups.join(", "))
    }
}

const KEEP_ACCESS: &str = "To keep this access, map the person to an IAM role (or user) and give that an access entry, or keep aws-auth: stay in API_AND_CONFIG_MAP. finalize refuses to switch to API mode until --accept-gaps names this row.";

/// Whether a row names a caller the authenticator can match today (and
/// whether EKS can hold it); the reason when it matches no one or is
/// dropped. Checked against aws-iam-authenticator: docs/mapping-rules.md
/// ("Which rows match a caller today") lists the source lines.
pub(super) fn eligibility(row: &Row) -> Result<Target, Reason> {
    if row.section == Section::MapAccounts {
        let account = row.account.as_deref().unwrap_or("");
        return Err(Reason::new(
            Code::MapAccounts,
            format!(
                "every principal of account {account} that matches no row is authenticated with its ARN as username and no groups; access entries have no account-wide form: add entries for the principals that need access"
            ),
        ));
    }
    if row.sso && !row.arn.is_empty() {
        return Err(Reason::new(
            Code::SsoBlock,
            "the row has both rolearn and sso: the authenticator drops it",
        ));
    }
    if row.sso {
        return Err(Reason::new(
            Code::SsoBlock,
            "sso mappings are an alpha feature that is off on EKS: the authenticator drops the row; map the permission set's role ARN instead",
        ));
    }
    if row.arn.is_empty() {
        let field = if row.section == Section::MapRoles {
            "rolearn"
        } else {
            "userarn"
        };
        return Err(Reason::new(
            Code::MissingArn,
            format!("the row has no {field}: the authenticator drops it"),
        ));
    }
    let arn = row.arn.as_str();
    match arn::classify(arn) {
        ArnClass::Invalid(why) => Err(Reason::new(
            Code::InvalidArn,
            format!(
                "{:?} is not the ARN of an IAM role, user, account root or federated user ({why}): no caller's ARN can equal it, so it matches no one today",
                row.arn
            ),
        )),
        ArnClass::AssumedRole { .. } => Err(Reason::new(
            Code::StsArn,
            "an STS assumed-role ARN never matches: the authenticator turns a caller's session into its role's ARN (arn:P:iam::ACCOUNT:role/NAME) before matching, and EKS refuses session ARNs as principals; use the role's IAM ARN",
        )),
        ArnClass::Root { .. } => Ok(Target::Unholdable {
            reason: Reason::new(
            Code::RootUser,
            format!(
                "the account root ({arn}) matches this row today: the authenticator accepts a root caller with that ARN and looks it up like any other, so it gets {}. The tool creates no access entry for it: EKS documents STANDARD entries for \"every IAM principal type\" without naming the root user, and using the root user for everyday work is against IAM practice. {KEEP_ACCESS}",
                access_of(row)
            ),
            ),
            key: arn.to_lowercase(),
        }),
        ArnClass::FederatedUser { .. } => Ok(Target::Unholdable {
            reason: Reason::new(
            Code::FederatedUser,
            format!(
                "a federated user (sts:GetFederationToken, {arn}) matches this row today: the authenticator keeps federated-user ARNs as they are, so it gets {}. No access entry can carry it: EKS refuses STS principals (\"The principalArn parameter format is not valid\"). {KEEP_ACCESS}",
                access_of(row)
            ),
            ),
            key: arn.to_lowercase(),
        }),
        ArnClass::Principal(p) if p.kind == PrincipalKind::Role && p.has_path() => {
            Err(Reason::new(
                Code::RoleArnHasPath,
                format!(
                    "the authenticator matches roles without their path (a caller's session names only the role), so this row grants nothing today{}; write it as arn:{}:iam::{}:role/{} to give access",
                    if p.is_service_linked() {
                        " (a service-linked role: it cannot have an access entry either)"
                    } else {
                        ""
                    },
                    p.partition, p.account, p.name
                ),
            ))
        }
        ArnClass::Principal(p) if p.is_service_linked() => Err(Reason::new(
            Code::ServiceLinkedRole,
            "a service-linked role matches this row today, but it cannot have an access entry; its service manages its own access (keep this row until that service is migrated)",
        )),
        ArnClass::Principal(p) => Ok(Target::Principal(p)),
    }
}
