//! IAM and STS ARNs as aws-auth rows and access entries name them.

use std::fmt;

/// Partitions an IAM principal can live in.
pub(crate) const PARTITIONS: [&str; 8] = [
    "aws",
    "aws-cn",
    "aws-us-gov",
    "aws-iso",
    "aws-iso-b",
    "aws-iso-e",
    "aws-iso-f",
    "aws-eusc",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PrincipalKind {
    Role,
    User,
}

impl fmt::Display for PrincipalKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PrincipalKind::Role => "role",
            PrincipalKind::User => "user",
        })
    }
}

/// An IAM role or user ARN: `arn:P:iam::ACCOUNT:role/PATH/NAME`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct PrincipalArn {
    pub partition: String,
    pub account: String,
    pub kind: PrincipalKind,
    /// `/` or `/a/b/`, as IAM writes paths.
    pub path: String,
    pub name: String,
}

impl PrincipalArn {
    pub(crate) fn has_path(&self) -> bool {
        self.path != "/"
    }

    /// A service-linked role. aws-auth usually names one without its
    /// `/aws-service-role/...` path (EMR on EKS documents it that way), so
    /// the `AWSServiceRoleFor` name prefix counts too.
    pub(crate) fn is_service_linked(&self) -> bool {
        self.kind == PrincipalKind::Role
            && (self.path.starts_with("/aws-service-role/")
                || self.name.starts_with("AWSServiceRoleFor"))
    }

    /// An IAM Identity Center (SSO) role, whose real ARN carries a path.
    pub(crate) fn is_sso_reserved(&self) -> bool {
        self.kind == PrincipalKind::Role && self.name.starts_with("AWSReservedSSO_")
    }

    /// The key the authenticator matches a role by: the lowercased ARN.
    pub(crate) fn match_key(&self) -> String {
        self.to_string().to_lowercase()
    }
}

impl fmt::Display for PrincipalArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "arn:{}:iam::{}:{}{}{}",
            self.partition, self.account, self.kind, self.path, self.name
        )
    }
}

/// What an ARN string from aws-auth is, by what aws-iam-authenticator
/// does with it. A caller's ARN is canonicalised first (pkg/arn/arn.go,
/// `Canonicalize`): an assumed-role session becomes `role/NAME`, and the
/// account root and federated users keep their ARN. A row matches a caller
/// when its ARN equals the canonical one, ignoring case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ArnClass {
    Principal(PrincipalArn),
    /// `arn:P:iam::A:root`: the account root, an accepted caller that
    /// matches such a row; access entries cannot name it.
    Root {
        partition: String,
        account: String,
    },
    /// `arn:P:sts::A:federated-user/NAME` (sts:GetFederationToken): kept as
    /// is by the authenticator, so it matches such a row; EKS refuses STS
    /// principals.
    FederatedUser {
        partition: String,
        account: String,
        name: String,
    },
    /// `arn:P:sts::A:assumed-role/NAME/SESSION`: a session. Callers are
    /// canonicalised to `role/NAME` before matching, so no caller ever
    /// matches a row holding this ARN.
    AssumedRole {
        partition: String,
        account: String,
    },
    /// Not the ARN of anything that can call; the message says why.
    Invalid(String),
}

impl ArnClass {
    /// Whether some caller's canonical ARN can equal this one (ignoring
    /// case): a role without a path, a user (with its path), the account
    /// root, a federated user. Everything else matches no one.
    pub(crate) fn can_match_a_caller(&self) -> bool {
        match self {
            ArnClass::Principal(p) => !(p.kind == PrincipalKind::Role && p.has_path()),
            ArnClass::Root { .. } | ArnClass::FederatedUser { .. } => true,
            ArnClass::AssumedRole { .. } | ArnClass::Invalid(_) => false,
        }
    }

    /// The key the authenticator matches this ARN by (lowercased), for
    /// the ARNs that can match a caller.
    pub(crate) fn match_key(&self) -> Option<String> {
        match self {
            ArnClass::Principal(p) if self.can_match_a_caller() => Some(p.match_key()),
            ArnClass::Root { partition, account } => {
                Some(format!("arn:{partition}:iam::{account}:root"))
            }
            ArnClass::FederatedUser {
                partition,
                account,
                name,
            } => {
                Some(format!("arn:{partition}:sts::{account}:federated-user/{name}").to_lowercase())
            }
            _ => None,
        }
    }
}

pub(crate) fn classify(arn: &str) -> ArnClass {
    if arn.trim() != arn {
        return ArnClass::Invalid("it has leading or trailing white space".into());
    }
    if arn.chars().any(char::is_whitespace) {
        return ArnClass::Invalid("it contains white space".into());
    }
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if parts.len() != 6 || !parts[0].eq_ignore_ascii_case("arn") {
        return ArnClass::Invalid(
            "it is not of the form arn:PARTITION:iam::ACCOUNT:role/NAME".into(),
        );
    }
    // The authenticator compares lowercased ARNs, so `ARN:AWS:IAM::...`
    // matches too: normalise the structural parts, keep the name's case.
    let partition = parts[1].to_ascii_lowercase();
    let partition = partition.as_str();
    let service = parts[2].to_ascii_lowercase();
    let service = service.as_str();
    let (region, account) = (parts[3], parts[4]);
    let resource_raw = parts[5];
    let resource_type_len = resource_raw.find('/').unwrap_or(resource_raw.len());
    let resource = format!(
        "{}{}",
        resource_raw[..resource_type_len].to_ascii_lowercase(),
        &resource_raw[resource_type_len..]
    );
    let resource = resource.as_str();
    if !PARTITIONS.contains(&partition) {
        return ArnClass::Invalid(format!("unknown partition {partition:?}"));
    }
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return ArnClass::Invalid(format!("account {account:?} is not 12 digits"));
    }
    if !region.is_empty() {
        return ArnClass::Invalid(format!("IAM ARNs have no region, this one has {region:?}"));
    }
    match service {
        "sts" => {
            if resource.starts_with("assumed-role/") {
                ArnClass::AssumedRole {
                    partition: partition.into(),
                    account: account.into(),
                }
            } else if let Some(name) = resource.strip_prefix("federated-user/") {
                // STS names a federated user by the name given to
                // GetFederationToken: no slash, no empty name.
                if name.is_empty() || name.contains('/') {
                    ArnClass::Invalid(format!(
                        "{resource:?} is not a federated user STS can report (federated-user/NAME)"
                    ))
                } else {
                    ArnClass::FederatedUser {
                        partition: partition.into(),
                        account: account.into(),
                        name: name.into(),
                    }
                }
            } else {
                ArnClass::Invalid(format!("unknown STS resource {resource:?}"))
            }
        }
        "iam" => {
            let (kind, rest) = if let Some(rest) = resource.strip_prefix("role/") {
                (PrincipalKind::Role, rest)
            } else if let Some(rest) = resource.strip_prefix("user/") {
                (PrincipalKind::User, rest)
            } else if resource == "root" {
                return ArnClass::Root {
                    partition: partition.into(),
                    account: account.into(),
                };
            } else {
                return ArnClass::Invalid(format!(
                    "{resource:?} is not an IAM role or user (role/NAME or user/NAME)"
                ));
            };
            let (path, name) = match rest.rfind('/') {
                Some(i) => (format!("/{}", &rest[..=i]), &rest[i + 1..]),
                None => ("/".to_string(), rest),
            };
            if name.is_empty() || name.len() > 64 {
                return ArnClass::Invalid("the name is empty or longer than 64 characters".into());
            }
            if !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
            {
                return ArnClass::Invalid(format!("{name:?} has characters IAM names cannot hold"));
            }
            ArnClass::Principal(PrincipalArn {
                partition: partition.into(),
                account: account.into(),
                kind,
                path,
                name: name.into(),
            })
        }
        other => ArnClass::Invalid(format!("service {other:?} is not iam")),
    }
}

/// The partition and account of an ARN-like string, for inferring the
/// cluster's account offline; `None` when it has neither.
pub(crate) fn partition_and_account(arn: &str) -> Option<(String, String)> {
    match classify(arn) {
        ArnClass::Principal(p) => Some((p.partition, p.account)),
        ArnClass::Root { partition, account }
        | ArnClass::AssumedRole { partition, account }
        | ArnClass::FederatedUser {
            partition, account, ..
        } => Some((partition, account)),
        ArnClass::Invalid(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(arn: &str) -> PrincipalArn {
        match classify(arn) {
            ArnClass::Principal(p) => p,
            other => panic!("{arn}: {other:?}"),
        }
    }

    #[test]
    fn roles_and_users_round_trip() {
        for arn in [
            "arn:aws:iam::111122223333:role/admin",
            "arn:aws-cn:iam::111122223333:user/ops/alice",
            "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Admin_0123abcd",
        ] {
            assert_eq!(principal(arn).to_string(), arn);
        }
        let p = principal("arn:aws:iam::111122223333:role/team/dev/x");
        assert_eq!(p.path, "/team/dev/");
        assert_eq!(p.name, "x");
        assert!(p.has_path());
    }

    #[test]
    fn service_linked_and_sso() {
        assert!(principal("arn:aws:iam::111122223333:role/aws-service-role/emr-containers.amazonaws.com/AWSServiceRoleForAmazonEMRContainers").is_service_linked());
        assert!(
            principal("arn:aws:iam::111122223333:role/AWSReservedSSO_Admin_0123").is_sso_reserved()
        );
    }

    #[test]
    fn sessions_root_and_garbage() {
        assert!(matches!(
            classify("arn:aws:sts::111122223333:assumed-role/admin/bob"),
            ArnClass::AssumedRole { .. }
        ));
        assert_eq!(
            classify("arn:aws:sts::111122223333:federated-user/bob"),
            ArnClass::FederatedUser {
                partition: "aws".into(),
                account: "111122223333".into(),
                name: "bob".into()
            }
        );
        assert_eq!(
            classify("ARN:AWS-CN:IAM::111122223333:ROOT"),
            ArnClass::Root {
                partition: "aws-cn".into(),
                account: "111122223333".into()
            }
        );
        for bad in [
            "",
            "arn:iam:bob",
            "arn:aws:iam::12345:role/x",
            "arn:aws:iam::111122223333:root/x",
            "arn:aws:iam::111122223333:group/devs",
            "arn:aws:iam::111122223333:role/",
            " arn:aws:iam::111122223333:role/x",
            "arn:aws:iam:us-east-1:111122223333:role/x",
            "arn:foo:iam::111122223333:role/x",
            "arn:aws:s3:::bucket",
            "arn:aws:sts::111122223333:federated-user/",
            "arn:aws:sts::111122223333:federated-user/a/b",
        ] {
            assert!(matches!(classify(bad), ArnClass::Invalid(_)), "{bad:?}");
        }
    }

    /// Which rows some caller can match (pkg/arn/arn.go Canonicalize: roles
    /// lose nothing but come from assumed-role sessions without a path;
    /// users, root and federated users are kept as they are).
    #[test]
    fn which_arns_can_match_a_caller() {
        for (arn, can, key) in [
            (
                "arn:aws:iam::111122223333:role/Admin",
                true,
                Some("arn:aws:iam::111122223333:role/admin"),
            ),
            ("arn:aws:iam::111122223333:role/team/x", false, None),
            (
                "arn:aws:iam::111122223333:user/ops/Alice",
                true,
                Some("arn:aws:iam::111122223333:user/ops/alice"),
            ),
            (
                "arn:aws:iam::111122223333:root",
                true,
                Some("arn:aws:iam::111122223333:root"),
            ),
            (
                "arn:aws-us-gov:iam::111122223333:Root",
                true,
                Some("arn:aws-us-gov:iam::111122223333:root"),
            ),
            (
                "arn:aws:sts::111122223333:federated-user/Alice",
                true,
                Some("arn:aws:sts::111122223333:federated-user/alice"),
            ),
            (
                "arn:aws:sts::111122223333:assumed-role/admin/bob",
                false,
                None,
            ),
            ("arn:iam:bob", false, None),
        ] {
            let c = classify(arn);
            assert_eq!(c.can_match_a_caller(), can, "{arn}");
            assert_eq!(c.match_key().as_deref(), key, "{arn}");
        }
    }
}
