//! ARN parsing for IAM principals, as EKS validates an access entry's
//! `principalArn`.
//!
//! Deliberately not the product's `src/core/arn.rs`: that one classifies an
//! aws-auth ARN as the authenticator matches it (case-insensitive structure,
//! known partitions, IAM name characters, STS sessions, service-linked roles
//! by name prefix too); this one checks exact `role/` or `user/` ARNs and
//! tells a service-linked role path apart, as EKS answers. Sharing one would
//! change what the emulator accepts, make the emulator check the product
//! with the product's own parser, and make every emulator build compile the
//! product and its SDKs.

/// The six colon-separated parts of an ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Arn {
    pub partition: String,
    pub service: String,
    pub region: String,
    pub account: String,
    pub resource: String,
}

impl Arn {
    pub(crate) fn parse(text: &str) -> Option<Arn> {
        let mut parts = text.splitn(6, ':');
        if parts.next()? != "arn" {
            return None;
        }
        let arn = Arn {
            partition: parts.next()?.to_string(),
            service: parts.next()?.to_string(),
            region: parts.next()?.to_string(),
            account: parts.next()?.to_string(),
            resource: parts.next()?.to_string(),
        };
        if arn.partition.is_empty() || arn.service.is_empty() || arn.resource.is_empty() {
            return None;
        }
        Some(arn)
    }
}

/// Role or user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PrincipalKind {
    Role,
    User,
}

/// An IAM role or user ARN split into its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IamPrincipal {
    pub partition: String,
    pub account: String,
    pub kind: PrincipalKind,
    /// `/` or `/a/b/`.
    pub path: String,
    pub name: String,
}

/// Why a principal ARN was refused before any IAM lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PrincipalFormat {
    /// Not an IAM role/user ARN (includes STS assumed-role and federated-user ARNs).
    Invalid,
    /// `role/aws-service-role/...`
    ServiceLinked,
}

impl IamPrincipal {
    pub(crate) fn parse(text: &str) -> Result<IamPrincipal, PrincipalFormat> {
        let arn = Arn::parse(text).ok_or(PrincipalFormat::Invalid)?;
        if arn.service != "iam" || !arn.region.is_empty() || !is_account_id(&arn.account) {
            return Err(PrincipalFormat::Invalid);
        }
        let (kind, rest) = if let Some(rest) = arn.resource.strip_prefix("role/") {
            (PrincipalKind::Role, rest)
        } else if let Some(rest) = arn.resource.strip_prefix("user/") {
            (PrincipalKind::User, rest)
        } else {
            return Err(PrincipalFormat::Invalid);
        };
        let (path, name) = match rest.rfind('/') {
            Some(i) => (format!("/{}", &rest[..=i]), &rest[i + 1..]),
            None => ("/".to_string(), rest),
        };
        if name.is_empty() || path.contains("//") {
            return Err(PrincipalFormat::Invalid);
        }
        if kind == PrincipalKind::Role && path.starts_with("/aws-service-role/") {
            return Err(PrincipalFormat::ServiceLinked);
        }
        Ok(IamPrincipal {
            partition: arn.partition,
            account: arn.account,
            kind,
            path,
            name: name.to_string(),
        })
    }
}

pub(crate) fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_path_and_name() {
        let p = IamPrincipal::parse("arn:aws:iam::111122223333:role/team/dev/Admin").expect("ok");
        assert_eq!(p.path, "/team/dev/");
        assert_eq!(p.name, "Admin");
        assert_eq!(p.kind, PrincipalKind::Role);
        let u = IamPrincipal::parse("arn:aws-cn:iam::111122223333:user/bob").expect("ok");
        assert_eq!(u.path, "/");
        assert_eq!(u.partition, "aws-cn");
    }

    #[test]
    fn refuses_sts_and_slr() {
        assert_eq!(
            IamPrincipal::parse("arn:aws:sts::111122223333:assumed-role/x/y"),
            Err(PrincipalFormat::Invalid)
        );
        assert_eq!(
            IamPrincipal::parse("arn:aws:sts::111122223333:federated-user/x"),
            Err(PrincipalFormat::Invalid)
        );
        assert_eq!(
            IamPrincipal::parse(
                "arn:aws:iam::111122223333:role/aws-service-role/x.amazonaws.com/y"
            ),
            Err(PrincipalFormat::ServiceLinked)
        );
        assert_eq!(IamPrincipal::parse(""), Err(PrincipalFormat::Invalid));
        assert_eq!(
            IamPrincipal::parse("arn:aws:iam::12:role/x"),
            Err(PrincipalFormat::Invalid)
        );
        assert_eq!(
            IamPrincipal::parse("arn:aws:iam::111122223333:role/"),
            Err(PrincipalFormat::Invalid)
        );
    }
}
