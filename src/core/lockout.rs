//! Who could be locked out once aws-auth no longer counts: the caller, and
//! the node roles that join through aws-auth today.

use super::arn::{self, ArnClass, PrincipalKind};
use super::existing::ExistingEntry;
use super::plan::{Action, Entry, EntryType, Mapping};
use super::policy;
use super::reason::Code;

// The plan model holds the type; its old path stays.
pub(crate) use super::plan::Lockout;

/// The IAM principal behind a caller ARN, compared without the role path
/// (STS never reports it): (partition, account, kind, lowercased name).
fn caller_key(caller: &str) -> Option<(String, String, PrincipalKind, String)> {
    if let Some(rest) = caller.strip_prefix("arn:") {
        let parts: Vec<&str> = rest.splitn(5, ':').collect();
        if parts.len() == 5 && parts[1] == "sts" {
            if let Some(role) = parts[4].strip_prefix("assumed-role/") {
                let name = role.split('/').next().unwrap_or("");
                return Some((
                    parts[0].to_string(),
                    parts[3].to_string(),
                    PrincipalKind::Role,
                    name.to_lowercase(),
                ));
            }
        }
    }
    match arn::classify(caller) {
        ArnClass::Principal(p) => Some((p.partition, p.account, p.kind, p.name.to_lowercase())),
        _ => None,
    }
}

/// The principal ARNs of aws-auth's node rows, for [`analyse`]: the node
/// entries of the plan (with their resolved ARNs), and the node roles skipped
/// for being of another account. Principals IAM does not know are left out:
/// no node can use them.
pub(crate) fn node_rows(entries: &[Entry], mappings: &[Mapping]) -> Vec<String> {
    let mut out: Vec<String> = entries
        .iter()
        .filter(|e| {
            e.entry_type.is_node()
                && e.action != Action::Unmanaged
                && !e.reasons.iter().any(|r| r.code == Code::PrincipalNotFound)
        })
        .map(|e| e.principal_arn.clone())
        .collect();
    out.extend(
        mappings
            .iter()
            .filter(|m| {
                m.reasons
                    .iter()
                    .any(|r| r.code == Code::CrossAccountNodeRole)
            })
            .filter_map(|m| m.arn.clone()),
    );
    out.sort();
    out.dedup();
    out
}

/// `entries` are the planned entries after the diff; `node_rows` the
/// principal ARNs of aws-auth's node-shaped rows (planned or not).
pub(crate) fn analyse(
    caller: Option<&str>,
    entries: &[Entry],
    existing: &[ExistingEntry],
    node_rows: &[String],
) -> Lockout {
    let mut warnings = Vec::new();
    let admin_policy_suffix = format!("cluster-access-policy/{}", policy::CLUSTER_ADMIN);
    let will_exist = |e: &Entry| {
        matches!(
            e.action,
            Action::Create | Action::Update | Action::Noop | Action::Unmanaged | Action::Conflict
        )
    };
    let mut admin_entry = None;
    if let Some(key) = caller.and_then(caller_key) {
        let is_caller = |arn: &str| match arn::classify(arn) {
            ArnClass::Principal(p) => {
                (p.partition, p.account, p.kind, p.name.to_lowercase()) == key
            }
            _ => false,
        };
        let admin = |policies: &[policy::PolicyAssociation]| {
            policies.iter().any(|p| {
                p.policy_arn.ends_with(&admin_policy_suffix)
                    && p.access_scope.scope_type == policy::ScopeType::Cluster
            })
        };
        for e in entries.iter().filter(|e| will_exist(e)) {
            if !is_caller(&e.principal_arn) {
                continue;
            }
            // A conflicting entry stays as it is: judge by what exists.
            let policies = match (&e.action, &e.diff) {
                (Action::Conflict, Some(d)) => &d.existing.policies,
                _ => &e.policies,
            };
            if admin(policies) {
                admin_entry = Some(e.principal_arn.clone());
            }
        }
        if admin_entry.is_none() {
            if let Some(e) = existing
                .iter()
                .find(|e| is_caller(&e.principal_arn) && admin(&e.policies))
            {
                admin_entry = Some(e.principal_arn.clone());
            }
        }
        if admin_entry.is_none() {
            warnings.push(format!(
                "the caller {} has no access entry with AmazonEKSClusterAdminPolicy at cluster scope: once aws-auth no longer counts (API mode) it may lose admin access unless RBAC grants it through its groups",
                caller.unwrap_or_default()
            ));
        }
    } else {
        warnings.push(
            "the caller's identity is unknown: cannot tell whether it keeps admin access".into(),
        );
    }
    let mut at_risk = Vec::new();
    for arn in node_rows {
        let covered = entries.iter().any(|e| {
            e.principal_arn.eq_ignore_ascii_case(arn)
                && e.entry_type.is_node()
                && (e.action != Action::Skip)
                && !(e.action == Action::Conflict
                    && e.diff
                        .as_ref()
                        .is_some_and(|d| EntryType::parse(&d.existing.entry_type) != e.entry_type))
        }) || existing.iter().any(|x| {
            x.principal_arn.eq_ignore_ascii_case(arn) && EntryType::parse(&x.entry_type).is_node()
        });
        if !covered {
            at_risk.push(arn.clone());
        }
    }
    if !at_risk.is_empty() {
        warnings.push(format!(
            "{} node role(s) would have no node access entry: their nodes could not join once aws-auth no longer counts",
            at_risk.len()
        ));
    }
    Lockout {
        caller_arn: caller.map(str::to_string),
        caller_admin_after: admin_entry.is_some(),
        caller_admin_entry: admin_entry,
        node_roles_at_risk: at_risk,
        warnings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::input::Section;
    use crate::core::plan::{Fidelity, Outcome};
    use crate::core::policy::{policy_arn, AccessScope, PolicyAssociation};
    use crate::core::reason::Reason;
    use std::collections::BTreeMap;

    const ADMIN: &str = "arn:aws:iam::111122223333:role/admin";
    const NODE: &str = "arn:aws:iam::111122223333:role/node";

    fn entry(arn: &str, ty: EntryType, action: Action, admin: bool) -> Entry {
        Entry {
            principal_arn: arn.into(),
            entry_type: ty,
            username: None,
            kubernetes_groups: vec![],
            policies: if admin {
                vec![PolicyAssociation {
                    policy_arn: policy_arn("aws", policy::CLUSTER_ADMIN),
                    access_scope: AccessScope::cluster(),
                }]
            } else {
                vec![]
            },
            fidelity: Fidelity::Exact,
            reasons: vec![],
            action,
            from: vec![],
            diff: None,
        }
    }

    #[test]
    fn assumed_role_caller_with_admin_entry_is_safe() {
        let entries = vec![entry(
            "arn:aws:iam::111122223333:role/team/admin",
            EntryType::Standard,
            Action::Create,
            true,
        )];
        let l = analyse(
            Some("arn:aws:sts::111122223333:assumed-role/admin/me"),
            &entries,
            &[],
            &[],
        );
        assert!(l.caller_admin_after);
        assert_eq!(
            l.caller_admin_entry.as_deref(),
            Some("arn:aws:iam::111122223333:role/team/admin")
        );
        assert!(l.warnings.is_empty());
    }

    #[test]
    fn caller_without_admin_and_uncovered_nodes_are_warned() {
        let entries = vec![
            entry(ADMIN, EntryType::Standard, Action::Skip, true),
            entry(NODE, EntryType::Ec2Linux, Action::Skip, false),
        ];
        let l = analyse(
            Some("arn:aws:sts::111122223333:assumed-role/admin/me"),
            &entries,
            &[],
            &[NODE.to_string()],
        );
        assert!(!l.caller_admin_after);
        assert_eq!(l.node_roles_at_risk, vec![NODE]);
        assert_eq!(l.warnings.len(), 2);
        // An existing node entry covers the node role.
        let existing = vec![ExistingEntry {
            principal_arn: NODE.into(),
            entry_type: "EC2_LINUX".into(),
            username: None,
            kubernetes_groups: vec![],
            policies: vec![],
            tags: BTreeMap::new(),
        }];
        let l = analyse(None, &entries, &existing, &[NODE.to_string()]);
        assert!(l.node_roles_at_risk.is_empty());
        assert_eq!(l.warnings.len(), 1);
        assert!(l.caller_arn.is_none());
    }

    #[test]
    fn node_rows_take_resolved_node_entries_and_cross_account_rows() {
        let mut gone = entry(
            "arn:aws:iam::111122223333:role/gone",
            EntryType::Ec2Linux,
            Action::Skip,
            false,
        );
        gone.reasons
            .push(Reason::new(Code::PrincipalNotFound, "no such role"));
        let entries = vec![
            entry(NODE, EntryType::Ec2Linux, Action::Create, false),
            entry(ADMIN, EntryType::Standard, Action::Create, true),
            gone,
        ];
        let mappings = vec![Mapping {
            section: Section::MapRoles,
            index: Some(3),
            line: None,
            section_line: None,
            arn: Some("arn:aws:iam::999988887777:role/nodes".into()),
            account: None,
            username: None,
            groups: vec![],
            outcome: Outcome::Skip,
            reasons: vec![Reason::new(Code::CrossAccountNodeRole, "x")],
        }];
        assert_eq!(
            node_rows(&entries, &mappings),
            vec![
                "arn:aws:iam::111122223333:role/node",
                "arn:aws:iam::999988887777:role/nodes"
            ]
        );
    }
}
