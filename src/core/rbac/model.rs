//! The RBAC objects the access analysis reads: Roles, ClusterRoles and their
//! bindings, in the shape the Kubernetes API serves them (field names as in
//! `rbac.authorization.k8s.io/v1`, so a `kubectl get -o yaml` dump and a live
//! list deserialise into the same types).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One rule of a Role or ClusterRole. Empty lists mean what they mean to the
/// API server: no verbs grants nothing; no `resourceNames` means any name.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct PolicyRule {
    pub verbs: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub api_groups: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resource_names: Vec<String>,
    #[serde(rename = "nonResourceURLs", skip_serializing_if = "Vec::is_empty")]
    pub non_resource_urls: Vec<String>,
}

impl PolicyRule {
    /// A rule on resources: `api_groups`, `resources`, `verbs`.
    pub(crate) fn resource(api_groups: &[&str], resources: &[&str], verbs: &[&str]) -> PolicyRule {
        PolicyRule {
            verbs: strings(verbs),
            api_groups: strings(api_groups),
            resources: strings(resources),
            ..PolicyRule::default()
        }
    }

    /// A rule on non-resource URLs (`/healthz`, `/api/*`).
    pub(crate) fn urls(urls: &[&str], verbs: &[&str]) -> PolicyRule {
        PolicyRule {
            verbs: strings(verbs),
            non_resource_urls: strings(urls),
            ..PolicyRule::default()
        }
    }

    /// The same rule limited to the named objects.
    #[cfg(test)]
    pub(crate) fn named(mut self, names: &[&str]) -> PolicyRule {
        self.resource_names = strings(names);
        self
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_string()).collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub(crate) enum RoleKind {
    Role,
    ClusterRole,
}

/// `metadata` as far as the analysis needs it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct Meta {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

/// A label selector (`matchLabels` and `matchExpressions`), as
/// `aggregationRule.clusterRoleSelectors` holds them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct LabelSelector {
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub match_labels: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub match_expressions: Vec<LabelRequirement>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct LabelRequirement {
    pub key: String,
    /// `In`, `NotIn`, `Exists`, `DoesNotExist`.
    pub operator: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct AggregationRule {
    pub cluster_role_selectors: Vec<LabelSelector>,
}

/// A Role (namespaced) or a ClusterRole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Role {
    pub kind: RoleKind,
    pub metadata: Meta,
    #[serde(default)]
    pub rules: Vec<PolicyRule>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggregation_rule: Option<AggregationRule>,
}

#[cfg(test)]
impl Role {
    pub(crate) fn cluster_role(name: &str, rules: Vec<PolicyRule>) -> Role {
        Role {
            kind: RoleKind::ClusterRole,
            metadata: Meta {
                name: name.into(),
                ..Meta::default()
            },
            rules,
            aggregation_rule: None,
        }
    }

    pub(crate) fn namespaced(namespace: &str, name: &str, rules: Vec<PolicyRule>) -> Role {
        Role {
            kind: RoleKind::Role,
            metadata: Meta {
                name: name.into(),
                namespace: Some(namespace.into()),
                ..Meta::default()
            },
            rules,
            aggregation_rule: None,
        }
    }
}

impl Role {
    /// True for a ClusterRole whose rules the aggregation controller fills.
    pub(crate) fn is_aggregated(&self) -> bool {
        self.aggregation_rule
            .as_ref()
            .is_some_and(|a| !a.cluster_role_selectors.is_empty())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub(crate) enum BindingKind {
    RoleBinding,
    ClusterRoleBinding,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RoleRef {
    pub kind: RoleKind,
    pub name: String,
    #[serde(default)]
    pub api_group: String,
}

/// `User`, `Group` or `ServiceAccount`; any other kind matches no one.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub(crate) struct Subject {
    pub kind: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

#[cfg(test)]
impl Subject {
    pub(crate) fn user(name: &str) -> Subject {
        Subject {
            kind: "User".into(),
            name: name.into(),
            namespace: None,
        }
    }

    pub(crate) fn group(name: &str) -> Subject {
        Subject {
            kind: "Group".into(),
            name: name.into(),
            namespace: None,
        }
    }
}

/// A RoleBinding (namespaced) or a ClusterRoleBinding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Binding {
    pub kind: BindingKind,
    pub metadata: Meta,
    pub role_ref: RoleRef,
    #[serde(default)]
    pub subjects: Vec<Subject>,
}

#[cfg(test)]
impl Binding {
    pub(crate) fn cluster(name: &str, role: &str, subjects: Vec<Subject>) -> Binding {
        Binding {
            kind: BindingKind::ClusterRoleBinding,
            metadata: Meta {
                name: name.into(),
                ..Meta::default()
            },
            role_ref: RoleRef {
                kind: RoleKind::ClusterRole,
                name: role.into(),
                api_group: "rbac.authorization.k8s.io".into(),
            },
            subjects,
        }
    }

    /// A RoleBinding in `namespace` to a Role (`kind` Role) or ClusterRole.
    pub(crate) fn namespaced(
        namespace: &str,
        name: &str,
        kind: RoleKind,
        role: &str,
        subjects: Vec<Subject>,
    ) -> Binding {
        Binding {
            kind: BindingKind::RoleBinding,
            metadata: Meta {
                name: name.into(),
                namespace: Some(namespace.into()),
                ..Meta::default()
            },
            role_ref: RoleRef {
                kind,
                name: role.into(),
                api_group: "rbac.authorization.k8s.io".into(),
            },
            subjects,
        }
    }
}

/// Everything read of a cluster's RBAC, and what could not be read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Snapshot {
    pub roles: Vec<Role>,
    pub bindings: Vec<Binding>,
    /// Why the snapshot is incomplete (a list the caller may not read, an
    /// object that could not be parsed); empty when it is complete. An
    /// incomplete snapshot never yields `same`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub incomplete: Vec<String>,
}
