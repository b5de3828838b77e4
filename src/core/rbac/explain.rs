//! `plan --explain ARN`: one principal's rights before and after, side by
//! side, and the verdict with what differs.

use super::model::PolicyRule;
use super::rights::{Identity, Index, Rights, Scope, Source};

/// The rights of one side, as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SideRights {
    pub username: String,
    pub groups: Vec<String>,
    pub policies: Vec<String>,
    /// `system:masters`: everything, before any authorizer.
    pub masters: bool,
    /// One per grant: where it comes from, and its rules as lines.
    pub grants: Vec<(String, Vec<String>)>,
    /// Policies whose rules are not published.
    pub opaque: Vec<String>,
}

/// `get,list,watch pods,services` (core group), `apps: …`, URLs, names.
pub(crate) fn rule_text(rule: &PolicyRule) -> String {
    let verbs = rule.verbs.join(",");
    if !rule.non_resource_urls.is_empty() {
        return format!("{verbs} {}", rule.non_resource_urls.join(","));
    }
    let groups: Vec<&str> = rule
        .api_groups
        .iter()
        .map(|g| if g.is_empty() { "core" } else { g.as_str() })
        .collect();
    let mut t = format!(
        "{verbs} {} ({})",
        rule.resources.join(","),
        groups.join(",")
    );
    if !rule.resource_names.is_empty() {
        t.push_str(&format!(" named {}", rule.resource_names.join(",")));
    }
    t
}

fn scope_suffix(scope: &Scope) -> String {
    match scope {
        Scope::Cluster => String::new(),
        Scope::Namespace(ns) => format!(" [namespace {ns}]"),
    }
}

/// The rights of `id` (and `policies`: short name, scope, label) as text.
pub(crate) fn side(
    index: &Index,
    id: &Identity,
    policies: &[(String, Scope)],
    policy_labels: &[String],
) -> SideRights {
    let bindings = index.bindings_of(id);
    let rights: Rights = index.rights(&bindings, policies);
    let mut grants = Vec::new();
    for &b in &bindings {
        let binding = &index.bindings[b];
        if binding.role.is_none() {
            grants.push((
                binding.describe(),
                vec!["(the role does not exist: grants nothing)".to_string()],
            ));
        }
    }
    for g in &rights.grants {
        let lines = g
            .rules
            .iter()
            // URLs are granted cluster-wide only.
            .filter(|r| g.scope == Scope::Cluster || r.non_resource_urls.is_empty())
            .map(|r| format!("{}{}", rule_text(r), scope_suffix(&g.scope)))
            .collect();
        let via = match &g.source {
            Source::Policy(p) => format!("access policy {p}{}", scope_suffix(&g.scope)),
            Source::Binding(_) => index.source_text(&g.source),
        };
        grants.push((via, lines));
    }
    SideRights {
        username: id.username.clone(),
        groups: id.groups.clone(),
        policies: policy_labels.to_vec(),
        masters: id.is_master(),
        grants,
        opaque: rights.opaque,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::rbac::model::{Binding, Role, Snapshot, Subject};

    #[test]
    fn each_grant_lists_its_rules_and_where_it_comes_from() {
        let snap = Snapshot {
            roles: vec![Role::cluster_role(
                "reader",
                vec![
                    PolicyRule::resource(&["", "apps"], &["pods", "deployments"], &["get", "list"]),
                    PolicyRule::resource(&[""], &["secrets"], &["get"]).named(&["tls"]),
                ],
            )],
            bindings: vec![
                Binding::cluster("r", "reader", vec![Subject::group("devs")]),
                Binding::cluster("gone", "missing", vec![Subject::group("devs")]),
            ],
            incomplete: vec![],
        };
        let index = Index::new(&snap);
        let s = side(
            &index,
            &Identity::new("u", &["devs"]),
            &[(
                "AmazonEKSClusterAdminPolicy".into(),
                Scope::Namespace("a".into()),
            )],
            &["AmazonEKSClusterAdminPolicy (a)".into()],
        );
        assert_eq!(
            s.grants,
            vec![
                (
                    "ClusterRoleBinding gone → ClusterRole missing".to_string(),
                    vec!["(the role does not exist: grants nothing)".to_string()]
                ),
                (
                    "ClusterRoleBinding r → ClusterRole reader".to_string(),
                    vec![
                        "get,list pods,deployments (core,apps)".to_string(),
                        "get secrets (core) named tls".to_string()
                    ]
                ),
                (
                    "access policy AmazonEKSClusterAdminPolicy [namespace a]".to_string(),
                    vec!["* * (*) [namespace a]".to_string()]
                ),
            ]
        );
    }
}
