//! The read-only RBAC lists of a cluster's Kubernetes API: ClusterRoles,
//! ClusterRoleBindings, Roles and RoleBindings, from the seed (and the
//! bootstrap objects when asked), as `rbac.authorization.k8s.io/v1` List
//! objects: ordered by namespace and name as the API server's storage keys
//! are, paged by `limit` and `continue`, aggregated ClusterRoles filled as
//! the aggregation controller fills them, and a 403 `Status` for a list the
//! seed forbids.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use crate::bootstrap_rbac::bootstrap;
use crate::error::EmulatorError;
use crate::kube::{status_failure, KubeResponse};
use crate::seed::{Rbac, RbacBinding, RbacRole, RbacRule};
use crate::state::State;

const RBAC: &str = "rbac.authorization.k8s.io";

/// Which of the four lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    ClusterRoles,
    ClusterRoleBindings,
    Roles,
    RoleBindings,
}

impl Kind {
    /// Every kind, in the order of the resource names.
    pub(crate) const ALL: [Kind; 4] = [
        Kind::ClusterRoles,
        Kind::ClusterRoleBindings,
        Kind::Roles,
        Kind::RoleBindings,
    ];

    /// The resource name in URLs, RBAC rules and `forbid`.
    pub(crate) fn resource(self) -> &'static str {
        match self {
            Kind::ClusterRoles => "clusterroles",
            Kind::ClusterRoleBindings => "clusterrolebindings",
            Kind::Roles => "roles",
            Kind::RoleBindings => "rolebindings",
        }
    }

    fn item_kind(self) -> &'static str {
        match self {
            Kind::ClusterRoles => "ClusterRole",
            Kind::ClusterRoleBindings => "ClusterRoleBinding",
            Kind::Roles => "Role",
            Kind::RoleBindings => "RoleBinding",
        }
    }

    fn cluster_scoped(self) -> bool {
        matches!(self, Kind::ClusterRoles | Kind::ClusterRoleBindings)
    }
}

/// Refuse a seed whose `forbid` names something other than the four lists.
pub(crate) fn validate(cluster: &str, rbac: &Rbac) -> Result<(), EmulatorError> {
    for f in &rbac.forbid {
        if !Kind::ALL.iter().any(|k| k.resource() == f) {
            return Err(EmulatorError::Seed(format!(
                "cluster {cluster}: rbac.forbid {f:?} is none of clusterroles, clusterrolebindings, roles, rolebindings"
            )));
        }
    }
    Ok(())
}

/// GET a list: all of `kind`, or those of one namespace.
pub(crate) fn list(
    state: &State,
    idx: usize,
    kind: Kind,
    namespace: Option<&str>,
    query: &[(String, String)],
    list_rv: &str,
) -> KubeResponse {
    let rbac = &state.clusters[idx].rbac;
    if rbac.forbid.iter().any(|f| f == kind.resource()) {
        return forbidden(&state.caller(None).arn, kind, namespace);
    }
    let page = match Page::from_query(query, list_rv) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let rv = page.resource_version.clone();
    let scoped = kind.cluster_scoped();
    let mut keyed: Vec<(String, Value)> = match kind {
        Kind::ClusterRoles => served_cluster_roles(rbac)
            .iter()
            .map(|r| (r.name.clone(), role_json(r, true, &rv)))
            .collect(),
        Kind::Roles => rbac
            .roles
            .iter()
            .map(|r| {
                (
                    key(r.namespace.as_deref(), &r.name),
                    role_json(r, false, &rv),
                )
            })
            .collect(),
        Kind::ClusterRoleBindings => served_cluster_role_bindings(rbac)
            .iter()
            .map(|b| (b.name.clone(), binding_json(b, true, &rv)))
            .collect(),
        Kind::RoleBindings => rbac
            .role_bindings
            .iter()
            .map(|b| {
                (
                    key(b.namespace.as_deref(), &b.name),
                    binding_json(b, false, &rv),
                )
            })
            .collect(),
    };
    if let (Some(ns), false) = (namespace, scoped) {
        let prefix = format!("{ns}/");
        keyed.retain(|(k, _)| k.starts_with(&prefix));
    }
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    page.answer(kind, keyed)
}

/// The storage key: `namespace/name` (a namespaced object without a
/// namespace is in `default`).
fn key(namespace: Option<&str>, name: &str) -> String {
    format!("{}/{name}", namespace.unwrap_or("default"))
}

/// The 403 the API server answers a list the caller may not make.
fn forbidden(user: &str, kind: Kind, namespace: Option<&str>) -> KubeResponse {
    let user = if user.is_empty() {
        "system:anonymous"
    } else {
        user
    };
    let resource = kind.resource();
    let scope = match namespace {
        Some(ns) if !kind.cluster_scoped() => format!("in the namespace \"{ns}\""),
        _ => "at the cluster scope".to_string(),
    };
    let mut r = status_failure(
        403,
        "Forbidden",
        &format!("{resource}.{RBAC} is forbidden: User \"{user}\" cannot list resource \"{resource}\" in API group \"{RBAC}\" {scope}"),
        None,
    );
    if let Some(m) = r.body.as_object_mut() {
        m.insert("details".into(), json!({"group": RBAC, "kind": resource}));
    }
    r
}

/// A page request: where to start, how many, and the list's resourceVersion.
struct Page {
    limit: Option<usize>,
    /// Serve items whose key is greater than this.
    after: Option<String>,
    resource_version: String,
}

/// Continue tokens are `emu1:RV:KEY`: the first page's resourceVersion and
/// the last key served (opaque to clients, as the API server's are).
const TOKEN_PREFIX: &str = "emu1:";

impl Page {
    fn from_query(query: &[(String, String)], list_rv: &str) -> Result<Page, KubeResponse> {
        let get = |k: &str| query.iter().find(|(q, _)| q == k).map(|(_, v)| v.as_str());
        let limit = match get("limit").filter(|v| !v.is_empty()) {
            None => None,
            Some(v) => match v.parse::<i64>() {
                Ok(n) if n > 0 => usize::try_from(n).ok(),
                Ok(_) => None,
                Err(e) => return Err(bad_request(&format!("limit: {e}"))),
            },
        };
        let (after, resource_version) = match get("continue").filter(|v| !v.is_empty()) {
            None => (None, list_rv.to_string()),
            Some(token) => {
                let parsed = token
                    .strip_prefix(TOKEN_PREFIX)
                    .and_then(|rest| rest.split_once(':'))
                    .filter(|(rv, _)| !rv.is_empty() && rv.bytes().all(|b| b.is_ascii_digit()));
                match parsed {
                    Some((rv, key)) => (Some(key.to_string()), rv.to_string()),
                    None => {
                        return Err(bad_request(&format!("continue key is not valid: {token}")))
                    }
                }
            }
        };
        Ok(Page {
            limit,
            after,
            resource_version,
        })
    }

    /// The List object holding this page of `keyed` (sorted by key).
    fn answer(&self, kind: Kind, keyed: Vec<(String, Value)>) -> KubeResponse {
        let rest: Vec<(String, Value)> = keyed
            .into_iter()
            .filter(|(k, _)| self.after.as_ref().is_none_or(|a| k > a))
            .collect();
        let take = self.limit.unwrap_or(rest.len()).min(rest.len());
        let remaining = rest.len() - take;
        let mut metadata = Map::new();
        metadata.insert("resourceVersion".into(), json!(self.resource_version));
        if remaining > 0 {
            let last = rest[take - 1].0.clone();
            metadata.insert(
                "continue".into(),
                json!(format!("{TOKEN_PREFIX}{}:{last}", self.resource_version)),
            );
            metadata.insert("remainingItemCount".into(), json!(remaining));
        }
        let items: Vec<Value> = rest.into_iter().take(take).map(|(_, v)| v).collect();
        KubeResponse {
            status: 200,
            body: json!({
                "apiVersion": format!("{RBAC}/v1"),
                "kind": format!("{}List", kind.item_kind()),
                "metadata": metadata,
                "items": items,
            }),
        }
    }
}

fn bad_request(message: &str) -> KubeResponse {
    status_failure(400, "BadRequest", message, None)
}

/// The seed's objects over the bootstrap ones (when asked): a seeded object
/// replaces the bootstrap one of the same name.
fn over_bootstrap<T: Clone>(
    bootstrap: bool,
    base: &[T],
    seeded: &[T],
    name: impl Fn(&T) -> &str,
) -> Vec<T> {
    let mut out: Vec<T> = if bootstrap { base.to_vec() } else { Vec::new() };
    for s in seeded {
        match out.iter().position(|o| name(o) == name(s)) {
            Some(i) => out[i] = s.clone(),
            None => out.push(s.clone()),
        }
    }
    out
}

fn served_cluster_role_bindings(rbac: &Rbac) -> Vec<RbacBinding> {
    over_bootstrap(
        rbac.bootstrap,
        &bootstrap().cluster_role_bindings,
        &rbac.cluster_role_bindings,
        |b| &b.name,
    )
}

/// The ClusterRoles the cluster serves, by name, aggregated ones filled.
pub(crate) fn served_cluster_roles(rbac: &Rbac) -> Vec<RbacRole> {
    let mut roles = over_bootstrap(
        rbac.bootstrap,
        &bootstrap().cluster_roles,
        &rbac.cluster_roles,
        |r| &r.name,
    );
    roles.sort_by(|a, b| a.name.cmp(&b.name));
    aggregate(&mut roles);
    roles
}

fn selects(selector: &BTreeMap<String, String>, labels: &BTreeMap<String, String>) -> bool {
    selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// The aggregation controller's work on `roles` (sorted by name): each
/// aggregated ClusterRole's rules become, selector by selector, the rules of
/// every other ClusterRole the selector matches (in name order, each rule
/// once), repeated until nothing changes, so that admin gets edit's filled
/// rules, which include view's. Its own seeded rules are replaced.
fn aggregate(roles: &mut [RbacRole]) {
    for r in roles.iter_mut().filter(|r| !r.aggregate_from.is_empty()) {
        r.rules.clear();
    }
    // Rules only grow from empty, so this settles within len + 1 passes.
    for _ in 0..=roles.len() {
        let mut changed = false;
        for i in 0..roles.len() {
            if roles[i].aggregate_from.is_empty() {
                continue;
            }
            let mut rules: Vec<RbacRule> = Vec::new();
            for selector in &roles[i].aggregate_from {
                for other in roles.iter() {
                    if other.name == roles[i].name || !selects(selector, &other.labels) {
                        continue;
                    }
                    for rule in &other.rules {
                        if !rules.contains(rule) {
                            rules.push(rule.clone());
                        }
                    }
                }
            }
            if rules != roles[i].rules {
                roles[i].rules = rules;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
}

fn rule_json(r: &RbacRule) -> Value {
    let mut m = Map::new();
    m.insert("verbs".into(), json!(r.verbs));
    for (key, list) in [
        ("apiGroups", &r.api_groups),
        ("resources", &r.resources),
        ("resourceNames", &r.resource_names),
        ("nonResourceURLs", &r.non_resource_urls),
    ] {
        if !list.is_empty() {
            m.insert(key.into(), json!(list));
        }
    }
    Value::Object(m)
}

fn metadata(name: &str, namespace: Option<Option<&str>>, rv: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("name".into(), json!(name));
    if let Some(ns) = namespace {
        m.insert("namespace".into(), json!(ns.unwrap_or("default")));
    }
    m.insert("resourceVersion".into(), json!(rv));
    m
}

fn role_json(r: &RbacRole, cluster_scoped: bool, rv: &str) -> Value {
    let ns = (!cluster_scoped).then_some(r.namespace.as_deref());
    let mut meta = metadata(&r.name, ns, rv);
    if !r.labels.is_empty() {
        meta.insert("labels".into(), json!(r.labels));
    }
    let mut out = json!({
        "apiVersion": format!("{RBAC}/v1"),
        "kind": if cluster_scoped { "ClusterRole" } else { "Role" },
        "metadata": meta,
        "rules": r.rules.iter().map(rule_json).collect::<Vec<_>>(),
    });
    if let (true, false, Some(m)) = (
        cluster_scoped,
        r.aggregate_from.is_empty(),
        out.as_object_mut(),
    ) {
        let selectors: Vec<Value> = r
            .aggregate_from
            .iter()
            .map(|s| json!({"matchLabels": s}))
            .collect();
        m.insert(
            "aggregationRule".into(),
            json!({"clusterRoleSelectors": selectors}),
        );
    }
    out
}

fn binding_json(b: &RbacBinding, cluster_scoped: bool, rv: &str) -> Value {
    let ns = (!cluster_scoped).then_some(b.namespace.as_deref());
    let subjects: Vec<Value> = b
        .subjects
        .iter()
        .map(|s| {
            if s.kind == "ServiceAccount" {
                json!({"kind": s.kind, "name": s.name, "namespace": s.namespace.clone().unwrap_or_else(|| "default".into())})
            } else {
                json!({"kind": s.kind, "apiGroup": RBAC, "name": s.name})
            }
        })
        .collect();
    json!({
        "apiVersion": format!("{RBAC}/v1"),
        "kind": if cluster_scoped { "ClusterRoleBinding" } else { "RoleBinding" },
        "metadata": metadata(&b.name, ns, rv),
        "roleRef": {"apiGroup": RBAC, "kind": b.role_kind.as_deref().unwrap_or("ClusterRole"), "name": b.role_name},
        "subjects": subjects,
    })
}

#[cfg(test)]
#[path = "kube_rbac_tests.rs"]
mod tests;
