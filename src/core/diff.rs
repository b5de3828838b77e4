//! Comparing the planned entries with the access entries that exist.

use std::collections::{BTreeMap, BTreeSet};

use super::plan::{Action, Entry, EntryType, Fidelity};
use super::policy::{self, PolicyAssociation};
use super::reason::{Code, Reason};

// The existing-state types live below the plan model; their old paths stay.
pub(crate) use super::existing::{
    default_username, sha256_hex, EntryDiff, ExistingEntry, Fingerprint,
};

/// Sets each entry's action against what exists, and appends the existing
/// entries no row of aws-auth accounts for as `unmanaged`.
pub(crate) fn diff(entries: &mut Vec<Entry>, existing: &[ExistingEntry], merge_existing: bool) {
    let by_arn: BTreeMap<String, &ExistingEntry> = existing
        .iter()
        .map(|e| (e.principal_arn.to_lowercase(), e))
        .collect();
    let mut claimed: BTreeSet<String> = BTreeSet::new();
    for entry in entries.iter_mut() {
        let key = entry.principal_arn.to_lowercase();
        let Some(found) = by_arn.get(&key) else {
            continue;
        };
        claimed.insert(key);
        if entry.action == Action::Skip {
            continue;
        }
        let d = compare(entry, found);
        let (action, reason) = judge(entry, &d, merge_existing);
        entry.action = action;
        if action == Action::Update {
            merge_into(entry, &d);
        }
        if let Some(r) = reason {
            entry.reasons.push(r);
        }
        entry.diff = Some(d);
    }
    for e in existing {
        if claimed.contains(&e.principal_arn.to_lowercase()) {
            continue;
        }
        entries.push(Entry {
            principal_arn: e.principal_arn.clone(),
            entry_type: EntryType::parse(&e.entry_type),
            username: e.username.clone(),
            kubernetes_groups: e.kubernetes_groups.clone(),
            policies: e.policies.clone(),
            fidelity: Fidelity::Exact,
            reasons: vec![Reason::new(
                Code::Unmanaged,
                "exists in EKS but not in aws-auth (the cluster creator, an EKS-made node entry, or made by hand): left untouched",
            )],
            action: Action::Unmanaged,
            from: Vec::new(),
            diff: None,
        });
    }
}

/// Makes an `update` entry describe the entry after the update: the
/// existing username, the union of the groups, the existing policies with
/// the missing ones added (`UpdateAccessEntry` resets what it is not sent).
fn merge_into(entry: &mut Entry, d: &EntryDiff) {
    if !entry.entry_type.is_node() {
        entry.username.clone_from(&d.existing.username);
        let mut groups: BTreeSet<String> = d.existing.kubernetes_groups.iter().cloned().collect();
        groups.extend(entry.kubernetes_groups.iter().cloned());
        entry.kubernetes_groups = groups.into_iter().collect();
    }
    let mut policies = d.existing.policies.clone();
    for p in &d.missing_policies {
        policy::merge_association(&mut policies, p.clone());
    }
    policies.sort();
    entry.policies = policies;
}

fn compare(entry: &Entry, found: &ExistingEntry) -> EntryDiff {
    let type_differs = entry.entry_type.as_str() != found.entry_type;
    let node = entry.entry_type.is_node();
    let username_differs = !node
        && match (&entry.username, &found.username) {
            // EKS reports the default username on describe: a planned
            // default matches an existing default, however it is reported.
            (None, None) => false,
            (None, Some(have)) => Some(have.clone()) != default_username(&entry.principal_arn),
            (Some(want), Some(have)) => want != have,
            (Some(want), None) => Some(want.clone()) != default_username(&entry.principal_arn),
        };
    let have: BTreeSet<&String> = found.kubernetes_groups.iter().collect();
    let want: BTreeSet<&String> = entry.kubernetes_groups.iter().collect();
    let (missing_groups, extra_groups) = if node {
        (Vec::new(), Vec::new())
    } else {
        (
            want.difference(&have).map(|g| (*g).clone()).collect(),
            have.difference(&want).map(|g| (*g).clone()).collect(),
        )
    };
    // What to associate so the entry grants at least the plan: a policy the
    // entry holds at a narrower scope is widened (EKS keeps one scope per
    // policy and re-associating replaces it), never narrowed.
    let missing_policies = entry
        .policies
        .iter()
        .filter_map(
            |p| match found.policies.iter().find(|f| f.policy_arn == p.policy_arn) {
                Some(f) if f.access_scope.covers(&p.access_scope) => None,
                Some(f) => Some(PolicyAssociation {
                    policy_arn: p.policy_arn.clone(),
                    access_scope: f.access_scope.union(&p.access_scope),
                }),
                None => Some(p.clone()),
            },
        )
        .collect();
    EntryDiff {
        existing: found.clone(),
        missing_groups,
        extra_groups,
        missing_policies,
        username_differs,
        type_differs,
    }
}

fn judge(entry: &Entry, d: &EntryDiff, merge: bool) -> (Action, Option<Reason>) {
    let overrides = "an access entry already exists and overrides this principal's aws-auth row";
    if d.type_differs {
        return (
            Action::Conflict,
            Some(Reason::new(
                Code::ExistingConflict,
                format!(
                    "{overrides}: its type is {}, the row needs {}; types cannot change: delete the entry or keep the row",
                    d.existing.entry_type,
                    entry.entry_type.as_str()
                ),
            )),
        );
    }
    let missing = !d.missing_groups.is_empty() || !d.missing_policies.is_empty();
    let mut what = Vec::new();
    if d.username_differs {
        what.push(format!(
            "username {} instead of {}",
            d.existing.username.as_deref().unwrap_or("(default)"),
            entry.username.as_deref().unwrap_or("(default)")
        ));
    }
    if !d.missing_groups.is_empty() {
        what.push(format!("lacks groups {}", d.missing_groups.join(", ")));
    }
    if !d.extra_groups.is_empty() {
        what.push(format!("has extra groups {}", d.extra_groups.join(", ")));
    }
    if !d.missing_policies.is_empty() {
        let names: Vec<String> = d
            .missing_policies
            .iter()
            .map(|p| format!("{} ({})", policy::short_name(&p.policy_arn), p.access_scope))
            .collect();
        what.push(format!("lacks policies {}", names.join(", ")));
    }
    if what.is_empty() {
        return (Action::Noop, None);
    }
    if merge {
        let kept = if d.username_differs {
            format!(
                "; it keeps its username {} (usernames are not merged: RBAC bound to {} does not apply to it)",
                d.existing.username.as_deref().unwrap_or("(default)"),
                entry.username.as_deref().unwrap_or("the default username")
            )
        } else {
            String::new()
        };
        if missing {
            return (
                Action::Update,
                Some(Reason::new(
                    Code::ExistingMerged,
                    format!(
                        "--merge-existing adds what the entry lacks: {}{kept}",
                        what.join("; ")
                    ),
                )),
            );
        }
        return (
            Action::Noop,
            Some(Reason::new(
                Code::ExistingMerged,
                format!(
                    "the existing entry grants at least what the row does ({}); nothing to add{kept}",
                    what.join("; ")
                ),
            )),
        );
    }
    (
        Action::Conflict,
        Some(Reason::new(
            Code::ExistingConflict,
            format!(
                "{overrides}, and it differs: {}. {}",
                what.join("; "),
                if d.username_differs {
                    "Re-plan with --merge-existing to add what it lacks and keep its username, or fix the entry by hand"
                } else {
                    "Re-plan with --merge-existing to add what it lacks"
                }
            ),
        )),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::policy::{policy_arn, AccessScope};

    const DEV: &str = "arn:aws:iam::111122223333:role/dev";
    const NODE: &str = "arn:aws:iam::111122223333:role/node";

    fn planned(arn: &str, ty: EntryType, username: Option<&str>, groups: &[&str]) -> Entry {
        Entry {
            principal_arn: arn.into(),
            entry_type: ty,
            username: username.map(str::to_string),
            kubernetes_groups: groups
                .iter()
                .map(std::string::ToString::to_string)
                .collect(),
            policies: vec![],
            fidelity: Fidelity::Exact,
            reasons: vec![],
            action: Action::Create,
            from: vec![0],
            diff: None,
        }
    }

    fn existing(arn: &str, ty: &str, username: Option<&str>, groups: &[&str]) -> ExistingEntry {
        ExistingEntry {
            principal_arn: arn.into(),
            entry_type: ty.into(),
            username: username.map(str::to_string),
            kubernetes_groups: groups
                .iter()
                .map(std::string::ToString::to_string)
                .collect(),
            policies: vec![],
            tags: BTreeMap::new(),
        }
    }

    fn view(scope: AccessScope) -> PolicyAssociation {
        PolicyAssociation {
            policy_arn: policy_arn("aws", "AmazonEKSViewPolicy"),
            access_scope: scope,
        }
    }

    fn run(mut e: Entry, x: ExistingEntry, merge: bool) -> Entry {
        let mut entries = vec![e.clone()];
        diff(&mut entries, &[x], merge);
        assert_eq!(entries.len(), 1);
        e = entries.remove(0);
        e
    }

    #[test]
    fn absent_is_create_and_unclaimed_is_unmanaged() {
        let mut entries = vec![planned(DEV, EntryType::Standard, Some("dev"), &["devs"])];
        diff(
            &mut entries,
            &[existing(NODE, "EC2_LINUX", None, &[])],
            false,
        );
        assert_eq!(entries[0].action, Action::Create);
        assert!(entries[0].diff.is_none());
        assert_eq!(entries[1].principal_arn, NODE);
        assert_eq!(entries[1].action, Action::Unmanaged);
        assert_eq!(entries[1].entry_type, EntryType::Ec2Linux);
    }

    #[test]
    fn groups_compare_as_sets_and_arns_ignore_case() {
        let e = run(
            planned(DEV, EntryType::Standard, Some("dev"), &["b", "a", "a"]),
            existing(
                &DEV.to_uppercase().replace("ARN:AWS:IAM", "arn:aws:iam"),
                "STANDARD",
                Some("dev"),
                &["a", "b"],
            ),
            false,
        );
        assert_eq!(e.action, Action::Noop);
    }

    #[test]
    fn default_usernames_match_however_reported() {
        let reported = "arn:aws:sts::111122223333:assumed-role/dev/{{SessionName}}";
        for have in [None, Some(reported)] {
            let e = run(
                planned(DEV, EntryType::Standard, None, &["devs"]),
                existing(DEV, "STANDARD", have, &["devs"]),
                false,
            );
            assert_eq!(e.action, Action::Noop, "{have:?}");
        }
        // A planned default against a custom username differs.
        let e = run(
            planned(DEV, EntryType::Standard, None, &["devs"]),
            existing(DEV, "STANDARD", Some("someone"), &["devs"]),
            false,
        );
        assert_eq!(e.action, Action::Conflict);
        assert!(e.diff.unwrap().username_differs);
        // A planned username equal to the default matches an unreported one.
        let e = run(
            planned(DEV, EntryType::Standard, Some(reported), &[]),
            existing(DEV, "STANDARD", None, &[]),
            false,
        );
        assert_eq!(e.action, Action::Noop);
    }

    #[test]
    fn eks_made_node_entries_are_noop() {
        let e = run(
            planned(NODE, EntryType::Ec2Linux, None, &[]),
            existing(
                NODE,
                "EC2_LINUX",
                Some("system:node:{{EC2PrivateDNSName}}"),
                &["system:nodes"],
            ),
            false,
        );
        assert_eq!(e.action, Action::Noop);
        assert!(e.reasons.is_empty());
    }

    #[test]
    fn type_differs_is_a_conflict_even_with_merge() {
        let e = run(
            planned(NODE, EntryType::Ec2Linux, None, &[]),
            existing(NODE, "STANDARD", None, &[]),
            true,
        );
        assert_eq!(e.action, Action::Conflict);
        assert!(e.diff.as_ref().unwrap().type_differs);
        assert_eq!(e.reasons[0].code, Code::ExistingConflict);
    }

    #[test]
    fn policies_and_scopes() {
        let mut p = planned(DEV, EntryType::Standard, Some("dev"), &[]);
        p.policies = vec![view(AccessScope::namespaces(vec!["a".into()]))];
        // A wider scope covers it.
        let mut x = existing(DEV, "STANDARD", Some("dev"), &[]);
        x.policies = vec![view(AccessScope::cluster())];
        assert_eq!(run(p.clone(), x, false).action, Action::Noop);
        // A narrower one does not; the update widens, never narrows.
        let mut x = existing(DEV, "STANDARD", Some("dev"), &[]);
        x.policies = vec![view(AccessScope::namespaces(vec!["b".into()]))];
        let e = run(p.clone(), x.clone(), false);
        assert_eq!(e.action, Action::Conflict);
        let e = run(p, x, true);
        assert_eq!(e.action, Action::Update);
        let want = vec![view(AccessScope::namespaces(vec!["a".into(), "b".into()]))];
        assert_eq!(e.diff.as_ref().unwrap().missing_policies, want);
        assert_eq!(e.policies, want);
    }

    #[test]
    fn merge_is_additive_and_keeps_the_username() {
        let e = run(
            planned(DEV, EntryType::Standard, Some("dev"), &["devs", "ops"]),
            existing(DEV, "STANDARD", Some("old"), &["devs", "extra"]),
            true,
        );
        assert_eq!(e.action, Action::Update);
        assert_eq!(e.username.as_deref(), Some("old"));
        assert_eq!(e.kubernetes_groups, vec!["devs", "extra", "ops"]);
        assert_eq!(e.diff.as_ref().unwrap().missing_groups, vec!["ops"]);
        assert_eq!(e.reasons.last().unwrap().code, Code::ExistingMerged);
        // Nothing missing: nothing to add.
        let e = run(
            planned(DEV, EntryType::Standard, Some("dev"), &["devs"]),
            existing(DEV, "STANDARD", Some("dev"), &["devs", "extra"]),
            true,
        );
        assert_eq!(e.action, Action::Noop);
        assert_eq!(e.kubernetes_groups, vec!["devs"]);
        // Without merge, both are conflicts.
        let e = run(
            planned(DEV, EntryType::Standard, Some("dev"), &["devs"]),
            existing(DEV, "STANDARD", Some("dev"), &["devs", "extra"]),
            false,
        );
        assert_eq!(e.action, Action::Conflict);
    }

    #[test]
    fn skipped_entries_claim_but_are_not_judged() {
        let mut p = planned(DEV, EntryType::Standard, Some("dev"), &["devs"]);
        p.action = Action::Skip;
        let mut entries = vec![p];
        diff(&mut entries, &[existing(DEV, "STANDARD", None, &[])], false);
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].action, Action::Skip);
    }

    #[test]
    fn fingerprint_ignores_order_and_notices_changes() {
        let a = existing(DEV, "STANDARD", Some("dev"), &["b", "a"]);
        let b = existing(NODE, "EC2_LINUX", None, &[]);
        let f1 = Fingerprint::compute("h", Some("1"), &"API".into(), &[a.clone(), b.clone()]);
        let f2 = Fingerprint::compute("h", Some("1"), &"API".into(), &[b.clone(), a.clone()]);
        assert_eq!(f1, f2);
        assert!(f1.changes_since(&f2).is_empty());
        let f3 = Fingerprint::compute("h", Some("2"), &"API_AND_CONFIG_MAP".into(), &[a]);
        let changes = f3.changes_since(&f1);
        assert_eq!(changes.len(), 3, "{changes:?}");
        assert_ne!(f3.value, f1.value);
    }
}
