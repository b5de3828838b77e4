//! The evaluator: which RBAC bindings and access policies apply to an
//! identity, and whether its grants allow a request, with the matching rules
//! of the Kubernetes RBAC authorizer (pkg/apis/rbac/v1/evaluation_helpers.go):
//! `*` in verbs, apiGroups and resources matches everything; `*/sub` matches
//! that subresource of any resource; `pods` does not match `pods/exec`; no
//! `resourceNames` means any name, and a rule with names never allows a
//! request without one; a nonResourceURL matches exactly or, ending in `*`,
//! by prefix. A RoleBinding grants only in its namespace (so never
//! cluster-scoped resources or URLs); an access policy grants in its scope.
//! `system:masters` is not a rule set: it bypasses authorization.

use std::collections::HashMap;

use serde::Serialize;

use super::aggregate;
use super::model::{BindingKind, PolicyRule, RoleKind, Snapshot};
use super::policies;

/// Added by the authenticator to every authenticated identity.
pub(crate) const AUTHENTICATED: &str = "system:authenticated";
/// The group the API server lets through before any authorizer.
pub(crate) const MASTERS: &str = "system:masters";

/// Where a grant applies: the whole cluster, or one namespace (an access
/// policy's namespace may end in `*`, matching by prefix).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase", tag = "type", content = "namespace")]
pub(crate) enum Scope {
    Cluster,
    Namespace(String),
}

impl Scope {
    /// True when a grant at `self` also applies wherever `other` does.
    pub(crate) fn covers(&self, other: &Scope) -> bool {
        match (self, other) {
            (Scope::Cluster, _) => true,
            (Scope::Namespace(_), Scope::Cluster) => false,
            (Scope::Namespace(p), Scope::Namespace(q)) => {
                p == q
                    || p.strip_suffix('*')
                        .is_some_and(|prefix| q.strip_suffix('*').unwrap_or(q).starts_with(prefix))
            }
        }
    }

    /// True when a grant at this scope applies to a request in `namespace`
    /// (`None`: a cluster-scoped resource, a request across namespaces, or
    /// a non-resource URL).
    pub(crate) fn applies_to(&self, namespace: Option<&str>) -> bool {
        match (self, namespace) {
            (Scope::Cluster, _) => true,
            (Scope::Namespace(_), None) => false,
            (Scope::Namespace(p), Some(ns)) => {
                p == ns
                    || p.strip_suffix('*')
                        .is_some_and(|prefix| ns.starts_with(prefix))
            }
        }
    }

    pub(crate) fn describe(&self) -> String {
        match self {
            Scope::Cluster => "cluster-wide".into(),
            Scope::Namespace(ns) => format!("in namespace {ns}"),
        }
    }
}

/// Who is asking: a username and groups, as the authenticator hands them
/// to the API server (`system:authenticated` is added by [`Index::bindings_of`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Identity {
    pub username: String,
    pub groups: Vec<String>,
}

impl Identity {
    pub(crate) fn new(username: &str, groups: &[&str]) -> Identity {
        Identity {
            username: username.into(),
            groups: groups.iter().map(|g| (*g).to_string()).collect(),
        }
    }

    pub(crate) fn is_master(&self) -> bool {
        self.groups.iter().any(|g| g == MASTERS)
    }
}

/// A request, as the authorizer sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Request {
    pub verb: String,
    /// `Some` for a non-resource request (`/healthz`).
    pub path: Option<String>,
    pub namespace: Option<String>,
    pub api_group: String,
    pub resource: String,
    pub subresource: Option<String>,
    pub name: Option<String>,
}

impl Request {
    /// `verb` on `resource` (`pods`, or `pods/exec` for a subresource) of
    /// `api_group` ("" for core), in `namespace` (None: cluster-scoped or all).
    pub(crate) fn resource(
        verb: &str,
        api_group: &str,
        resource: &str,
        namespace: Option<&str>,
    ) -> Request {
        let (resource, subresource) = match resource.split_once('/') {
            Some((r, s)) => (r.to_string(), Some(s.to_string())),
            None => (resource.to_string(), None),
        };
        Request {
            verb: verb.into(),
            path: None,
            namespace: namespace.map(str::to_string),
            api_group: api_group.into(),
            resource,
            subresource,
            name: None,
        }
    }

    pub(crate) fn named(mut self, name: &str) -> Request {
        self.name = Some(name.into());
        self
    }

    pub(crate) fn url(verb: &str, path: &str) -> Request {
        Request {
            verb: verb.into(),
            path: Some(path.into()),
            namespace: None,
            api_group: String::new(),
            resource: String::new(),
            subresource: None,
            name: None,
        }
    }
}

pub(crate) fn verb_matches(rule: &PolicyRule, verb: &str) -> bool {
    rule.verbs.iter().any(|v| v == "*" || v == verb)
}

pub(crate) fn group_matches(rule: &PolicyRule, group: &str) -> bool {
    rule.api_groups.iter().any(|g| g == "*" || g == group)
}

pub(crate) fn resource_matches(rule: &PolicyRule, resource: &str, sub: Option<&str>) -> bool {
    rule.resources.iter().any(|r| {
        if r == "*" {
            return true;
        }
        match sub {
            None => r == resource,
            Some(s) => {
                r.strip_prefix(resource)
                    .and_then(|rest| rest.strip_prefix('/'))
                    .is_some_and(|rest| rest == s)
                    || r.strip_prefix("*/").is_some_and(|rest| rest == s)
            }
        }
    })
}

pub(crate) fn name_matches(rule: &PolicyRule, name: Option<&str>) -> bool {
    if rule.resource_names.is_empty() {
        return true;
    }
    name.is_some_and(|n| rule.resource_names.iter().any(|r| r == n))
}

pub(crate) fn url_matches(rule: &PolicyRule, path: &str) -> bool {
    rule.non_resource_urls
        .iter()
        .any(|u| u == "*" || u == path || u.strip_suffix('*').is_some_and(|p| path.starts_with(p)))
}

/// True when `rule` allows `req` (scope aside).
pub(crate) fn rule_allows(rule: &PolicyRule, req: &Request) -> bool {
    if !verb_matches(rule, &req.verb) {
        return false;
    }
    match &req.path {
        Some(path) => url_matches(rule, path),
        None => {
            group_matches(rule, &req.api_group)
                && resource_matches(rule, &req.resource, req.subresource.as_deref())
                && name_matches(rule, req.name.as_deref())
        }
    }
}

/// A role as the evaluator uses it: its rules after aggregation.
#[derive(Debug, Clone)]
pub(crate) struct Role {
    pub name: String,
    pub rules: Vec<PolicyRule>,
    /// An aggregated ClusterRole: its rules depend on what else is installed.
    pub aggregated: bool,
}

/// A binding as the evaluator uses it.
#[derive(Debug, Clone)]
pub(crate) struct Binding {
    pub kind: BindingKind,
    pub namespace: Option<String>,
    pub name: String,
    pub role_kind: RoleKind,
    pub role_name: String,
    /// Index into [`Index::roles`]; `None` when the role does not exist
    /// (the binding grants nothing).
    pub role: Option<usize>,
    pub scope: Scope,
}

impl Binding {
    pub(crate) fn describe(&self) -> String {
        let role = match self.role_kind {
            RoleKind::ClusterRole => format!("ClusterRole {}", self.role_name),
            RoleKind::Role => format!("Role {}", self.role_name),
        };
        match (&self.kind, &self.namespace) {
            (BindingKind::RoleBinding, Some(ns)) => {
                format!("RoleBinding {ns}/{} → {role}", self.name)
            }
            _ => format!("ClusterRoleBinding {} → {role}", self.name),
        }
    }
}

/// The snapshot indexed for evaluation: roles aggregated and bindings
/// looked up by subject. Built once per cluster.
#[derive(Debug, Clone, Default)]
pub(crate) struct Index {
    pub roles: Vec<Role>,
    pub bindings: Vec<Binding>,
    users: HashMap<String, Vec<usize>>,
    groups: HashMap<String, Vec<usize>>,
    /// (namespace, name, binding) of ServiceAccount subjects: they match the
    /// username `system:serviceaccount:NS:NAME`.
    service_accounts: HashMap<String, Vec<usize>>,
    /// Why the snapshot is incomplete.
    pub incomplete: Vec<String>,
    /// Published access policy rules by short name (`None`: unpublished).
    policies: HashMap<String, Option<Vec<PolicyRule>>>,
}

impl Index {
    pub(crate) fn new(snapshot: &Snapshot) -> Index {
        let mut snapshot = snapshot.clone();
        let aggregated = aggregate::aggregate(&mut snapshot);
        let mut index = Index {
            incomplete: snapshot.incomplete.clone(),
            ..Index::default()
        };
        let mut cluster_roles = HashMap::new();
        let mut ns_roles = HashMap::new();
        for role in &snapshot.roles {
            let namespace = match role.kind {
                RoleKind::Role => match &role.metadata.namespace {
                    Some(ns) => Some(ns.clone()),
                    None => continue,
                },
                RoleKind::ClusterRole => None,
            };
            let i = index.roles.len();
            match &namespace {
                Some(ns) => ns_roles.insert((ns.clone(), role.metadata.name.clone()), i),
                None => cluster_roles.insert(role.metadata.name.clone(), i),
            };
            index.roles.push(Role {
                name: role.metadata.name.clone(),
                rules: role.rules.clone(),
                aggregated: role.kind == RoleKind::ClusterRole
                    && aggregated.contains(&role.metadata.name),
            });
        }
        for b in &snapshot.bindings {
            let (scope, namespace) = match b.kind {
                BindingKind::ClusterRoleBinding => (Scope::Cluster, None),
                BindingKind::RoleBinding => match &b.metadata.namespace {
                    Some(ns) => (Scope::Namespace(ns.clone()), Some(ns.clone())),
                    None => continue,
                },
            };
            // A ClusterRoleBinding can only name a ClusterRole; a
            // RoleBinding names a Role of its own namespace or a ClusterRole.
            let role = match (b.role_ref.kind, &namespace) {
                (RoleKind::ClusterRole, _) => cluster_roles.get(&b.role_ref.name).copied(),
                (RoleKind::Role, Some(ns)) => ns_roles
                    .get(&(ns.clone(), b.role_ref.name.clone()))
                    .copied(),
                (RoleKind::Role, None) => None,
            };
            let i = index.bindings.len();
            index.bindings.push(Binding {
                kind: b.kind,
                namespace: namespace.clone(),
                name: b.metadata.name.clone(),
                role_kind: b.role_ref.kind,
                role_name: b.role_ref.name.clone(),
                role,
                scope,
            });
            for s in &b.subjects {
                match s.kind.as_str() {
                    "User" => index.users.entry(s.name.clone()).or_default().push(i),
                    "Group" => index.groups.entry(s.name.clone()).or_default().push(i),
                    "ServiceAccount" => {
                        // As the authorizer: the subject's namespace, or
                        // the binding's when the subject has none.
                        if let Some(ns) = s.namespace.as_ref().or(namespace.as_ref()) {
                            let user = format!("system:serviceaccount:{ns}:{}", s.name);
                            index.service_accounts.entry(user).or_default().push(i);
                        }
                    }
                    _ => {}
                }
            }
        }
        for name in crate::core::policy::KNOWN_POLICIES {
            index
                .policies
                .insert(name.to_string(), policies::rules_of(name));
        }
        index
    }

    /// The bindings whose subjects match the identity (with
    /// `system:authenticated`), sorted and without repeats.
    pub(crate) fn bindings_of(&self, id: &Identity) -> Vec<usize> {
        let mut out = Vec::new();
        if let Some(b) = self.users.get(&id.username) {
            out.extend_from_slice(b);
        }
        if let Some(b) = self.service_accounts.get(&id.username) {
            out.extend_from_slice(b);
        }
        for g in id.groups.iter().map(String::as_str).chain([AUTHENTICATED]) {
            if let Some(b) = self.groups.get(g) {
                out.extend_from_slice(b);
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The bindings that name the group as a subject.
    pub(crate) fn group_bindings(&self, group: &str) -> &[usize] {
        self.groups.get(group).map_or(&[], Vec::as_slice)
    }

    /// True when some binding names the group as a subject.
    pub(crate) fn group_is_bound(&self, group: &str) -> bool {
        self.groups.contains_key(group)
    }

    /// The names of User subjects that a templated username (holding
    /// `{{…}}`) could render to, for some session or node.
    pub(crate) fn users_matching_template(&self, template: &str) -> Vec<&str> {
        if !template.contains("{{") {
            return Vec::new();
        }
        let mut out: Vec<&str> = self
            .users
            .keys()
            .map(String::as_str)
            .filter(|u| template_matches(template, u))
            .collect();
        out.sort_unstable();
        out
    }

    /// The rules of a policy by short name: `None` if unknown or unpublished.
    pub(crate) fn policy_rules(&self, name: &str) -> Option<&[PolicyRule]> {
        self.policies.get(name).and_then(|p| p.as_deref())
    }

    /// The grants of these bindings and policies.
    pub(crate) fn rights(&self, bindings: &[usize], policies: &[(String, Scope)]) -> Rights<'_> {
        let mut grants = Vec::new();
        for &b in bindings {
            let binding = &self.bindings[b];
            if let Some(role) = binding.role {
                grants.push(Grant {
                    scope: binding.scope.clone(),
                    rules: &self.roles[role].rules,
                    source: Source::Binding(b),
                });
            }
        }
        let mut opaque = Vec::new();
        for (name, scope) in policies {
            match self.policy_rules(name) {
                Some(rules) => grants.push(Grant {
                    scope: scope.clone(),
                    rules,
                    source: Source::Policy(name.clone()),
                }),
                None => opaque.push(name.clone()),
            }
        }
        Rights {
            masters: false,
            grants,
            opaque,
        }
    }

    /// The rights of an identity through RBAC alone.
    #[cfg(test)]
    pub(crate) fn rbac_rights(&self, id: &Identity) -> Rights<'_> {
        let mut r = self.rights(&self.bindings_of(id), &[]);
        r.masters = id.is_master();
        r
    }

    pub(crate) fn source_text(&self, source: &Source) -> String {
        match source {
            Source::Binding(b) => self.bindings[*b].describe(),
            Source::Policy(p) => format!("access policy {p}"),
        }
    }
}

/// True when `value` is a rendering of `template`: each `{{…}}` stands for
/// any text, and the rest must match exactly.
pub(crate) fn template_matches(template: &str, value: &str) -> bool {
    let mut parts = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        parts.push(&rest[..start]);
        match rest[start..].find("}}") {
            Some(end) => rest = &rest[start + end + 2..],
            None => {
                rest = "";
                break;
            }
        }
    }
    parts.push(rest);
    let Some((first, others)) = parts.split_first() else {
        return template == value;
    };
    let Some(mut tail) = value.strip_prefix(first) else {
        return false;
    };
    let Some((last, middle)) = others.split_last() else {
        return tail.is_empty();
    };
    for part in middle {
        match tail.find(part) {
            Some(i) => tail = &tail[i + part.len()..],
            None => return false,
        }
    }
    tail.len() >= last.len() && tail.ends_with(last)
}

/// Where a grant comes from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Source {
    /// Index into [`Index::bindings`].
    Binding(usize),
    /// An access policy, by short name.
    Policy(String),
}

/// Rules that apply at a scope.
#[derive(Debug, Clone)]
pub(crate) struct Grant<'a> {
    pub scope: Scope,
    pub rules: &'a [PolicyRule],
    pub source: Source,
}

/// What an identity may do.
#[derive(Debug, Clone, Default)]
pub(crate) struct Rights<'a> {
    /// `system:masters`: everything, before any authorizer.
    pub masters: bool,
    pub grants: Vec<Grant<'a>>,
    /// Associated policies whose rules are not published: not counted.
    pub opaque: Vec<String>,
}

impl Rights<'_> {
    pub(crate) fn allows(&self, req: &Request) -> bool {
        if self.masters {
            return true;
        }
        let namespace = if req.path.is_some() {
            None
        } else {
            req.namespace.as_deref()
        };
        self.grants
            .iter()
            .any(|g| g.scope.applies_to(namespace) && g.rules.iter().any(|r| rule_allows(r, req)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::rbac::model::{Binding, PolicyRule, Role, RoleKind, Snapshot, Subject};

    fn snapshot() -> Snapshot {
        Snapshot {
            roles: vec![
                Role::cluster_role(
                    "reader",
                    vec![PolicyRule::resource(&[""], &["pods"], &["get", "list"])],
                ),
                Role::cluster_role(
                    "urls",
                    vec![PolicyRule::urls(&["/healthz", "/metrics/*"], &["get"])],
                ),
                Role::namespaced(
                    "team-a",
                    "exec",
                    vec![PolicyRule::resource(&[""], &["pods/exec"], &["create"])],
                ),
                Role::cluster_role(
                    "one-secret",
                    vec![PolicyRule::resource(&[""], &["secrets"], &["get"]).named(&["tls"])],
                ),
            ],
            bindings: vec![
                Binding::cluster("readers", "reader", vec![Subject::group("devs")]),
                Binding::cluster("urls", "urls", vec![Subject::group(AUTHENTICATED)]),
                Binding::namespaced(
                    "team-a",
                    "exec",
                    RoleKind::Role,
                    "exec",
                    vec![Subject::user("alice")],
                ),
                Binding::namespaced(
                    "team-b",
                    "urls-in-ns",
                    RoleKind::ClusterRole,
                    "urls",
                    vec![Subject::user("bob")],
                ),
                Binding::namespaced(
                    "team-b",
                    "secret",
                    RoleKind::ClusterRole,
                    "one-secret",
                    vec![Subject::user("bob")],
                ),
            ],
            incomplete: vec![],
        }
    }

    #[test]
    fn group_binding_grants_cluster_wide_and_authenticated_is_added() {
        let index = Index::new(&snapshot());
        let dev = index.rbac_rights(&Identity::new("x", &["devs"]));
        assert!(dev.allows(&Request::resource("list", "", "pods", None)));
        assert!(dev.allows(&Request::resource("get", "", "pods", Some("any"))));
        assert!(!dev.allows(&Request::resource("delete", "", "pods", Some("any"))));
        assert!(!dev.allows(&Request::resource("get", "", "pods/log", Some("any"))));
        assert!(dev.allows(&Request::url("get", "/healthz")));
        assert!(dev.allows(&Request::url("get", "/metrics/cadvisor")));
        assert!(!dev.allows(&Request::url("get", "/metrics")));
        let nobody = index.rbac_rights(&Identity::new("y", &[]));
        assert!(nobody.allows(&Request::url("get", "/healthz")));
        assert!(!nobody.allows(&Request::resource("list", "", "pods", None)));
    }

    #[test]
    fn role_binding_is_limited_to_its_namespace_and_never_grants_urls() {
        let index = Index::new(&snapshot());
        let alice = index.rbac_rights(&Identity::new("alice", &[]));
        assert!(alice.allows(&Request::resource(
            "create",
            "",
            "pods/exec",
            Some("team-a")
        )));
        assert!(!alice.allows(&Request::resource(
            "create",
            "",
            "pods/exec",
            Some("team-b")
        )));
        assert!(!alice.allows(&Request::resource("create", "", "pods/exec", None)));
        let bob = index.rbac_rights(&Identity::new("bob", &[]));
        // Only through system:authenticated's cluster binding, not team-b's.
        assert_eq!(index.bindings_of(&Identity::new("bob", &[])), vec![1, 3, 4]);
        assert!(bob.allows(&Request::url("get", "/healthz")));
        assert!(bob.allows(&Request::resource("get", "", "secrets", Some("team-b")).named("tls")));
        assert!(!bob.allows(&Request::resource("get", "", "secrets", Some("team-b")).named("db")));
        assert!(!bob.allows(&Request::resource("list", "", "secrets", Some("team-b"))));
    }

    #[test]
    fn wildcards_and_subresources_match_as_the_authorizer_does() {
        let rule = PolicyRule::resource(&["*"], &["*/scale", "deployments"], &["*"]);
        let req = |r: &str| Request::resource("update", "apps", r, Some("x"));
        assert!(rule_allows(&rule, &req("deployments/scale")));
        assert!(rule_allows(&rule, &req("replicasets/scale")));
        assert!(rule_allows(&rule, &req("deployments")));
        assert!(!rule_allows(&rule, &req("deployments/status")));
        assert!(!rule_allows(&rule, &req("replicasets")));
    }

    #[test]
    fn masters_allow_everything_and_policies_apply_in_their_scope() {
        let index = Index::new(&snapshot());
        let root = index.rbac_rights(&Identity::new("x", &[MASTERS]));
        assert!(root.allows(&Request::resource(
            "escalate",
            "rbac.authorization.k8s.io",
            "clusterroles",
            None
        )));
        let admin = index.rights(
            &[],
            &[(
                "AmazonEKSClusterAdminPolicy".into(),
                Scope::Namespace("dev-*".into()),
            )],
        );
        assert!(admin.allows(&Request::resource("delete", "", "pods", Some("dev-1"))));
        assert!(!admin.allows(&Request::resource("delete", "", "pods", Some("prod"))));
        assert!(!admin.allows(&Request::resource("list", "", "nodes", None)));
        let unknown = index.rights(&[], &[("AmazonEKSAutoNodePolicy".into(), Scope::Cluster)]);
        assert_eq!(unknown.opaque, vec!["AmazonEKSAutoNodePolicy".to_string()]);
    }

    #[test]
    fn scopes_cover_by_prefix() {
        let ns = |s: &str| Scope::Namespace(s.into());
        assert!(Scope::Cluster.covers(&ns("a")));
        assert!(!ns("a").covers(&Scope::Cluster));
        assert!(ns("dev-*").covers(&ns("dev-1")));
        assert!(ns("dev-*").covers(&ns("dev-a*")));
        assert!(!ns("dev-1").covers(&ns("dev-*")));
        assert!(!ns("dev-*").covers(&ns("prod")));
    }

    #[test]
    fn templates_match_their_renderings() {
        assert!(template_matches("sso:{{SessionName}}", "sso:alice"));
        assert!(template_matches("{{SessionName}}", "anything"));
        assert!(template_matches("a:{{x}}:b:{{y}}", "a:1:b:2"));
        assert!(!template_matches("sso:{{SessionName}}", "admin:alice"));
        assert!(!template_matches("a{{x}}bc", "ab"));
        assert!(template_matches("plain", "plain"));
        assert!(!template_matches("plain", "plainer"));
    }
}
