//! `plan --suggest-policies`: the aws-auth groups whose RBAC bindings an
//! access policy can replace, written as a policy map for the user to review
//! and pass back with `--policy-map`.
//!
//! A group is suggested a policy when its bindings are all ClusterRoleBindings
//! (the policy at cluster scope) or all RoleBindings to ClusterRoles (the
//! policy in those namespaces), and replacing the group by the policy loses
//! nothing (the same comparison as the plan's: `rbac::compare`). Among such
//! A group bound to one built-in role (view, edit, admin, cluster-admin) is
//! given the policy made to replace it, if that loses nothing (what it adds
//! is listed); a group bound to other roles only a policy that grants
//! exactly what they do. Groups bound to nothing grant nothing: reported, not suggested.

use std::collections::BTreeSet;

use super::compare::{After, Comparer, Comparison};
use super::model::{BindingKind, RoleKind};
use super::policies;
use super::rights::{Identity, Index, Scope};

/// The policies a group may be given, smallest first.
const CANDIDATES: &[&str] = &[
    "AmazonEKSViewPolicy",
    "AmazonEKSEditPolicy",
    "AmazonEKSAdminPolicy",
    "AmazonEKSAdminViewPolicy",
    "AmazonEKSClusterAdminPolicy",
];

/// Built-in ClusterRoles an access policy is meant to replace, and that policy.
const BUILT_IN: &[&str] = &["view", "edit", "admin", "cluster-admin"];
const BUILT_IN_POLICY: &[&str] = &[
    "AmazonEKSViewPolicy",
    "AmazonEKSEditPolicy",
    "AmazonEKSAdminPolicy",
    "AmazonEKSClusterAdminPolicy",
];

/// A policy for a group, where it applies and how it differs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Suggestion {
    pub group: String,
    pub policy: String,
    /// Empty: cluster scope.
    pub namespaces: Vec<String>,
    /// The bindings the policy replaces.
    pub bindings: Vec<String>,
    /// What the policy grants that the bindings did not (one line each).
    pub adds: Vec<String>,
    pub notes: Vec<String>,
}

/// What `--suggest-policies` found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Suggestions {
    pub suggestions: Vec<Suggestion>,
    /// Groups no policy replaces, and why.
    pub kept: Vec<(String, String)>,
    /// Groups bound to nothing.
    pub unbound: Vec<String>,
}

/// A username no binding can name, so only the group's bindings count.
const PROBE: &str = "aws-auth-migrate:probe";

/// Suggestions for these groups (aws-auth's, `system:` groups skipped).
pub(crate) fn suggest(index: &Index, groups: &[String]) -> Suggestions {
    let mut out = Suggestions::default();
    let groups: BTreeSet<&String> = groups
        .iter()
        .filter(|g| !g.is_empty() && !g.starts_with("system:") && !g.starts_with("eks:"))
        .collect();
    let mut comparer = Comparer::new(index);
    for group in groups {
        match suggest_one(index, &mut comparer, group) {
            Found::Unbound => out.unbound.push(group.clone()),
            Found::Kept(why) => out.kept.push((group.clone(), why)),
            Found::Suggested(s) => out.suggestions.push(s),
        }
    }
    out
}

enum Found {
    Unbound,
    Kept(String),
    Suggested(Suggestion),
}

fn suggest_one(index: &Index, comparer: &mut Comparer, group: &str) -> Found {
    let bindings = index.group_bindings(group);
    if bindings.is_empty() {
        return Found::Unbound;
    }
    let mut namespaces = BTreeSet::new();
    let mut cluster = false;
    let mut described = Vec::new();
    for &b in bindings {
        let binding = &index.bindings[b];
        described.push(binding.describe());
        if binding.role.is_none() {
            continue;
        }
        if binding.role_kind == RoleKind::Role {
            return Found::Kept(format!(
                "{}: a namespace's own Role has no access policy",
                binding.describe()
            ));
        }
        match (&binding.kind, &binding.namespace) {
            (BindingKind::RoleBinding, Some(ns)) => {
                namespaces.insert(ns.clone());
            }
            _ => cluster = true,
        }
    }
    if cluster && !namespaces.is_empty() {
        return Found::Kept(
            "bound both cluster-wide and per namespace: one policy scope cannot say both".into(),
        );
    }
    let scopes: Vec<Scope> = if cluster {
        vec![Scope::Cluster]
    } else {
        namespaces
            .iter()
            .map(|n| Scope::Namespace(n.clone()))
            .collect()
    };
    let before = Identity::new(PROBE, &[group]);
    let mut compare = |policy: &str| {
        let after = After {
            identity: Identity::new(PROBE, &[]),
            policies: scopes
                .iter()
                .map(|s| (policy.to_string(), s.clone()))
                .collect(),
        };
        comparer.compare(&before, &after)
    };
    let suggestion = |policy: &str, c: Comparison| Suggestion {
        group: group.to_string(),
        policy: policy.to_string(),
        namespaces: namespaces.iter().cloned().collect(),
        bindings: described.clone(),
        adds: c.gains.iter().map(super::compare::Change::text).collect(),
        notes: c.notes,
    };
    // Bound to one built-in role: the policy made to replace it, or nothing.
    if let Some(policy) = built_in_policy(index, bindings) {
        let c = compare(policy);
        if c.loses.is_empty() && c.unproven.is_empty() {
            return Found::Suggested(suggestion(policy, c));
        }
        return Found::Kept(lacks(policy, &c));
    }
    // Custom roles: only a policy that grants exactly what they do.
    let mut closest: Option<(&str, usize)> = None;
    for &policy in CANDIDATES {
        if !policies::published().contains(&policy) {
            continue;
        }
        let c = compare(policy);
        if c.loses.is_empty() && c.unproven.is_empty() && c.gains.is_empty() {
            return Found::Suggested(suggestion(policy, c));
        }
        let distance = c.loses.len() + c.unproven.len() + c.gains.len();
        if closest.is_none_or(|(_, d)| distance < d) {
            closest = Some((policy, distance));
        }
    }
    Found::Kept(match closest {
        Some((policy, d)) => format!(
            "bound to custom roles that no access policy matches exactly (closest: {policy}, {d} right{} apart)",
            if d == 1 { "" } else { "s" }
        ),
        None => "no published access policy to compare with".into(),
    })
}

/// The policy for a group whose bindings all name the same built-in
/// ClusterRole (view, edit, admin, cluster-admin).
fn built_in_policy(index: &Index, bindings: &[usize]) -> Option<&'static str> {
    let mut names = bindings
        .iter()
        .filter(|&&b| index.bindings[b].role.is_some())
        .map(|&b| index.bindings[b].role_name.as_str());
    let first = names.next()?;
    if !names.all(|n| n == first) {
        return None;
    }
    BUILT_IN
        .iter()
        .position(|r| *r == first)
        .map(|i| BUILT_IN_POLICY[i])
}

/// Why the policy made for a built-in role cannot replace this group's.
fn lacks(policy: &str, c: &Comparison) -> String {
    let mut what: Vec<String> = c.loses.iter().map(super::compare::Change::text).collect();
    what.extend(c.unproven.iter().cloned());
    let n = what.len();
    what.truncate(3);
    let more = if n > 3 {
        format!(" and {} more", n - 3)
    } else {
        String::new()
    };
    format!(
        "{policy} lacks rights its bindings grant: {}{more}",
        what.join("; ")
    )
}

fn yaml_str(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The suggestions as a `--policy-map` file, with the reasons as comments.
pub(crate) fn policy_map_yaml(s: &Suggestions) -> String {
    let mut out = format!(
        "# Suggested by aws-auth-migrate plan --suggest-policies (access policy rules as\n\
         # published on {}). Review each group: its access entries get the policy\n\
         # instead of the group, so the group's RBAC bindings no longer apply to them.\n\
         # Pass the reviewed file back with --policy-map.\n",
        policies::CHECKED
    );
    if s.suggestions.is_empty() {
        out.push_str("groups: {}\n");
    } else {
        out.push_str("groups:\n");
    }
    for sug in &s.suggestions {
        out.push_str(&format!("  {}:\n", yaml_str(&sug.group)));
        for b in &sug.bindings {
            out.push_str(&format!("    # replaces {b}\n"));
        }
        if sug.adds.is_empty() {
            out.push_str("    # the policy grants exactly what the bindings did\n");
        }
        for a in &sug.adds {
            out.push_str(&format!("    # the policy also grants: {a}\n"));
        }
        for n in &sug.notes {
            out.push_str(&format!("    # note: {n}\n"));
        }
        out.push_str("    policies:\n");
        out.push_str(&format!("      - policy: {}\n", sug.policy));
        if !sug.namespaces.is_empty() {
            let ns: Vec<String> = sug.namespaces.iter().map(|n| yaml_str(n)).collect();
            out.push_str(&format!("        namespaces: [{}]\n", ns.join(", ")));
        }
        out.push_str("    keep_group: false\n");
    }
    if !s.kept.is_empty() {
        out.push_str("# Kept as groups (no policy replaces their bindings):\n");
        for (g, why) in &s.kept {
            out.push_str(&format!("#   {g}: {why}\n"));
        }
    }
    if !s.unbound.is_empty() {
        out.push_str(&format!(
            "# Bound to nothing (they grant nothing, before or after): {}\n",
            s.unbound.join(", ")
        ));
    }
    out
}

#[cfg(test)]
#[path = "suggest_tests.rs"]
mod tests;
