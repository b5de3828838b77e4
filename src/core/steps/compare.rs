//! Comparisons of an observed entry with what a step made or expects,
//! shared by settling, reconciling and the rollback precondition.

use std::collections::{BTreeMap, BTreeSet};

use crate::core::existing::{default_username, ExistingEntry};
use crate::core::plan::EntryType;
use crate::core::policy::AccessScope;

/// Same scope, ignoring the order and repetition of namespaces.
pub(super) fn same_scope(a: &AccessScope, b: &AccessScope) -> bool {
    let set = |s: &AccessScope| s.namespaces.iter().cloned().collect::<BTreeSet<String>>();
    a.scope_type == b.scope_type && set(a) == set(b)
}

pub(super) fn same_groups(a: &[String], b: &[String]) -> bool {
    a.iter().collect::<BTreeSet<_>>() == b.iter().collect::<BTreeSet<_>>()
}

/// Whether an observed username is what `want` produces (None: EKS's default).
pub(super) fn username_matches(
    principal_arn: &str,
    want: &Option<String>,
    have: &Option<String>,
) -> bool {
    match want {
        Some(w) => have.as_ref() == Some(w),
        None => have.is_none() || *have == default_username(principal_arn),
    }
}

/// How an observed entry differs from the one a `CreateEntry` made. Node
/// entries are compared by type only: EKS fills in their username and
/// groups itself.
pub(super) fn differences(
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

pub(super) fn has_tags(have: &BTreeMap<String, String>, want: &BTreeMap<String, String>) -> bool {
    want.iter().all(|(k, v)| have.get(k) == Some(v))
}

pub(super) fn scope_of<'a>(e: &'a ExistingEntry, policy_arn: &str) -> Option<&'a AccessScope> {
    e.policies
        .iter()
        .find(|p| p.policy_arn == policy_arn)
        .map(|p| &p.access_scope)
}

pub(super) fn show_scope(s: Option<&AccessScope>) -> String {
    s.map_or_else(|| "none".to_string(), std::string::ToString::to_string)
}
