//! Applying IAM's answers to the planned entries: real ARNs (role paths
//! restored), principals that do not exist, principals that could not be
//! checked. Pure: the lookups are done by `aws::iam`.

use std::collections::BTreeMap;

use super::arn::{self, ArnClass, PrincipalArn, PrincipalKind};
use super::plan::{Action, Entry, Mapping, Outcome};
use super::reason::{Code, Reason};

/// What IAM says about one principal of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// IAM has it under this ARN (its path and spelling).
    Found { arn: String },
    /// IAM has no role or user of that name in that account.
    NotFound,
    /// Not looked up: the account is not the caller's and no role was given
    /// to read it (`--iam-role-for`).
    Unverified { caller_account: String },
}

/// The principals the entries name, once each, sorted: what to look up.
pub(crate) fn principals(entries: &[Entry]) -> Vec<PrincipalArn> {
    let mut out: BTreeMap<String, PrincipalArn> = BTreeMap::new();
    for e in entries {
        if let ArnClass::Principal(p) = arn::classify(&e.principal_arn) {
            out.insert(e.principal_arn.clone(), p);
        }
    }
    out.into_values().collect()
}

/// Rewrites, annotates or skips each entry by its lookup (keyed by the
/// entry's ARN as planned). Entries without a lookup are left alone.
pub(crate) fn apply(
    entries: &mut [Entry],
    mappings: &mut [Mapping],
    lookups: &BTreeMap<String, Lookup>,
) {
    for entry in entries.iter_mut() {
        let Some(lookup) = lookups.get(&entry.principal_arn) else {
            continue;
        };
        let ArnClass::Principal(planned) = arn::classify(&entry.principal_arn) else {
            continue;
        };
        let reason = match lookup {
            Lookup::Found { arn } if *arn == entry.principal_arn => None,
            Lookup::Found { arn } => match (planned.kind, arn::classify(arn)) {
                (PrincipalKind::Role, ArnClass::Principal(real))
                    if real.kind == PrincipalKind::Role
                        && real.account == planned.account
                        && real.name.eq_ignore_ascii_case(&planned.name) =>
                {
                    let message = if real.path == planned.path {
                        format!("IAM spells this role {arn}")
                    } else {
                        format!(
                            "IAM's ARN of this role is {arn}: aws-auth names roles without their path, access entries need it"
                        )
                    };
                    entry.principal_arn = arn.clone();
                    entry.reasons.retain(|r| r.code != Code::NeedsIamResolution);
                    for &i in &entry.from {
                        if let Some(m) = mappings.get_mut(i) {
                            m.reasons.retain(|r| r.code != Code::NeedsIamResolution);
                        }
                    }
                    Some(Reason::new(Code::PathResolved, message))
                }
                // The authenticator compares user ARNs exactly: a user whose
                // real ARN differs matches no one today.
                _ => Some(not_found(
                    entry,
                    format!(
                        "IAM's {} of that name is {arn}, which this ARN does not match: the row grants nothing today",
                        planned.kind
                    ),
                )),
            },
            Lookup::NotFound => Some(not_found(
                entry,
                format!(
                    "IAM has no {} named {} in account {}: it was deleted or never existed (a role recreated under the same name would be a new principal); the row grants nothing today",
                    planned.kind, planned.name, planned.account
                ),
            )),
            Lookup::Unverified { caller_account } => Some(Reason::new(
                Code::Unverified,
                format!(
                    "account {} is not the caller's ({caller_account}): not checked in IAM{}; pass --iam-role-for {}=ROLE_ARN to check it",
                    planned.account,
                    if planned.is_sso_reserved() {
                        ", so the SSO role's path is not restored"
                    } else {
                        ""
                    },
                    planned.account
                ),
            )),
        };
        if let Some(r) = reason {
            for &i in &entry.from {
                if let Some(m) = mappings.get_mut(i) {
                    m.reasons.push(r.clone());
                    if entry.action == Action::Skip {
                        m.outcome = Outcome::Skip;
                    }
                }
            }
            entry.reasons.push(r);
        }
    }
}

fn not_found(entry: &mut Entry, message: String) -> Reason {
    entry.action = Action::Skip;
    Reason::new(Code::PrincipalNotFound, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::input::Section;
    use crate::core::plan::{EntryType, Fidelity};

    fn entry(arn: &str, from: usize) -> Entry {
        Entry {
            principal_arn: arn.into(),
            entry_type: EntryType::Standard,
            username: None,
            kubernetes_groups: vec!["dev".into()],
            policies: vec![],
            fidelity: Fidelity::Exact,
            reasons: vec![],
            action: Action::Create,
            from: vec![from],
            diff: None,
        }
    }

    fn mapping(arn: &str) -> Mapping {
        Mapping {
            section: Section::MapRoles,
            index: Some(0),
            line: None,
            section_line: None,
            arn: Some(arn.into()),
            account: None,
            username: None,
            groups: vec![],
            outcome: Outcome::Migrate,
            reasons: vec![],
        }
    }

    const SSO: &str = "arn:aws:iam::111122223333:role/AWSReservedSSO_Admin_0123abcd";
    const SSO_REAL: &str = "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Admin_0123abcd";

    #[test]
    fn sso_role_gets_its_path() {
        let mut e = entry(SSO, 0);
        e.reasons
            .push(Reason::new(Code::NeedsIamResolution, "needs resolution"));
        let mut entries = vec![e];
        let mut mappings = vec![mapping(SSO)];
        mappings[0]
            .reasons
            .push(Reason::new(Code::NeedsIamResolution, "needs resolution"));
        let lookups = BTreeMap::from([(
            SSO.to_string(),
            Lookup::Found {
                arn: SSO_REAL.into(),
            },
        )]);
        apply(&mut entries, &mut mappings, &lookups);
        assert_eq!(entries[0].principal_arn, SSO_REAL);
        assert_eq!(entries[0].action, Action::Create);
        let codes: Vec<Code> = entries[0].reasons.iter().map(|r| r.code).collect();
        assert_eq!(codes, vec![Code::PathResolved]);
        let codes: Vec<Code> = mappings[0].reasons.iter().map(|r| r.code).collect();
        assert_eq!(codes, vec![Code::PathResolved]);
        assert_eq!(mappings[0].arn.as_deref(), Some(SSO));
    }

    #[test]
    fn same_arn_changes_nothing() {
        let arn = "arn:aws:iam::111122223333:role/dev";
        let mut entries = vec![entry(arn, 0)];
        let mut mappings = vec![mapping(arn)];
        let before = entries.clone();
        let lookups = BTreeMap::from([(arn.to_string(), Lookup::Found { arn: arn.into() })]);
        apply(&mut entries, &mut mappings, &lookups);
        assert_eq!(entries, before);
        assert!(mappings[0].reasons.is_empty());
    }

    #[test]
    fn missing_principal_is_skipped() {
        let arn = "arn:aws:iam::111122223333:role/gone";
        let mut entries = vec![entry(arn, 0)];
        let mut mappings = vec![mapping(arn)];
        let lookups = BTreeMap::from([(arn.to_string(), Lookup::NotFound)]);
        apply(&mut entries, &mut mappings, &lookups);
        assert_eq!(entries[0].action, Action::Skip);
        assert_eq!(entries[0].principal_arn, arn);
        assert_eq!(entries[0].reasons[0].code, Code::PrincipalNotFound);
        assert_eq!(mappings[0].outcome, Outcome::Skip);
        assert_eq!(mappings[0].reasons[0].code, Code::PrincipalNotFound);
    }

    #[test]
    fn user_with_another_path_matches_no_one() {
        let arn = "arn:aws:iam::111122223333:user/alice";
        let mut entries = vec![entry(arn, 0)];
        let mut mappings = vec![mapping(arn)];
        let lookups = BTreeMap::from([(
            arn.to_string(),
            Lookup::Found {
                arn: "arn:aws:iam::111122223333:user/ops/alice".into(),
            },
        )]);
        apply(&mut entries, &mut mappings, &lookups);
        assert_eq!(entries[0].action, Action::Skip);
        assert_eq!(entries[0].principal_arn, arn);
        assert_eq!(entries[0].reasons[0].code, Code::PrincipalNotFound);
    }

    #[test]
    fn other_account_is_unverified() {
        let arn = "arn:aws:iam::444455556666:role/deploy";
        let mut entries = vec![entry(arn, 0)];
        let mut mappings = vec![mapping(arn)];
        let lookups = BTreeMap::from([(
            arn.to_string(),
            Lookup::Unverified {
                caller_account: "111122223333".into(),
            },
        )]);
        apply(&mut entries, &mut mappings, &lookups);
        assert_eq!(entries[0].action, Action::Create);
        assert_eq!(entries[0].principal_arn, arn);
        assert_eq!(entries[0].reasons[0].code, Code::Unverified);
        assert!(entries[0].reasons[0]
            .message
            .contains("--iam-role-for 444455556666=ROLE_ARN"));
        assert_eq!(mappings[0].outcome, Outcome::Migrate);
    }

    #[test]
    fn principals_are_unique_and_sorted() {
        let entries = vec![
            entry("arn:aws:iam::111122223333:role/b", 0),
            entry("arn:aws:iam::111122223333:role/a", 1),
            entry("arn:aws:iam::111122223333:role/b", 2),
        ];
        let p: Vec<String> = principals(&entries)
            .iter()
            .map(std::string::ToString::to_string)
            .collect();
        assert_eq!(
            p,
            vec![
                "arn:aws:iam::111122223333:role/a",
                "arn:aws:iam::111122223333:role/b"
            ]
        );
    }
}
