//! Before versus after, principal by principal. Before: the identity aws-auth
//! gives (username, groups) and the RBAC bindings that match it. After: the
//! access entry's identity, the bindings that match it, and its access
//! policies. The verdict:
//!
//! - `loses`: something allowed before is not allowed after (a concrete
//!   request, or the delegation of roles held through RBAC);
//! - `unproven`: no concrete loss was found, but equivalence cannot be shown
//!   (RBAC not fully read, a `*` compared with an explicit list, a templated
//!   username bound by a User subject, an aggregated role whose members are
//!   not in the input);
//! - `gains`: everything is kept and something is added;
//! - `same`: neither.
//!
//! Rights are compared by subsumption, not by name: each rule of a binding
//! lost on the way is split into cells (scope, group, resource, verb, name)
//! and each cell must be allowed by the after side, where a `*` in a cell is
//! a symbol only a `*` covers. An uncovered cell with a `*` is expanded over
//! every group, resource and verb the cluster's roles and the policies name:
//! an uncovered expansion is a concrete loss, none is `unproven`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use super::model::PolicyRule;
use super::resources;
use super::rights::{rule_allows, Identity, Index, Request, Rights, Scope, Source};

/// The verdict for one principal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Same,
    Gains,
    Unproven,
    Loses,
}

impl Verdict {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Verdict::Same => "same",
            Verdict::Gains => "gains",
            Verdict::Unproven => "unproven",
            Verdict::Loses => "loses",
        }
    }
}

/// Rights that differ: `verbs` on `target` at `scope`, through `via`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Change {
    /// `cluster` or `namespace NAME`.
    pub scope: String,
    pub verbs: Vec<String>,
    /// `group/resource` (`resource` for the core group), `[names]` when the
    /// rule names objects, a URL, or a right that is not a rule (`bind`).
    pub target: String,
    /// The binding or policy the right comes from.
    pub via: String,
    /// For a loss written with `*`: one request it allowed that is now denied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub example: Option<String>,
}

impl Change {
    pub(crate) fn text(&self) -> String {
        format!(
            "{} {} {}",
            self.verbs.join(","),
            self.target,
            self.scope_text()
        )
    }

    fn scope_text(&self) -> String {
        if self.scope == "cluster" {
            "cluster-wide".into()
        } else {
            format!("in {}", self.scope)
        }
    }
}

/// Before versus after for one principal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comparison {
    pub verdict: Verdict,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub loses: Vec<Change>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gains: Vec<Change>,
    /// Why equivalence cannot be shown.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unproven: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// The after side: the entry's identity and its policies (short name, scope).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct After {
    pub identity: Identity,
    pub policies: Vec<(String, Scope)>,
}

/// Resources that exist only at cluster scope: a RoleBinding to a role that
/// names them grants nothing, so they are not compared per namespace.
const CLUSTER_SCOPED: &[&str] = &[
    "nodes",
    "namespaces",
    "persistentvolumes",
    "componentstatuses",
    "clusterroles",
    "clusterrolebindings",
    "storageclasses",
    "csidrivers",
    "csinodes",
    "volumeattachments",
    "customresourcedefinitions",
    "apiservices",
    "mutatingwebhookconfigurations",
    "validatingwebhookconfigurations",
    "validatingadmissionpolicies",
    "validatingadmissionpolicybindings",
    "certificatesigningrequests",
    "priorityclasses",
    "runtimeclasses",
    "flowschemas",
    "prioritylevelconfigurations",
    "tokenreviews",
    "selfsubjectreviews",
    "subjectaccessreviews",
    "selfsubjectaccessreviews",
    "selfsubjectrulesreviews",
    "ingressclasses",
    "ipaddresses",
    "servicecidrs",
    "deviceclasses",
];

/// The verbs the API server knows, before those the roles name.
const VERBS: &[&str] = &[
    "get",
    "list",
    "watch",
    "create",
    "update",
    "patch",
    "delete",
    "deletecollection",
];

/// One right: a verb on a resource (or URL) at a scope.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Cell<'a> {
    scope: Scope,
    verb: &'a str,
    kind: CellKind<'a>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum CellKind<'a> {
    Resource {
        group: &'a str,
        resource: &'a str,
        name: Option<&'a str>,
    },
    Url(&'a str),
}

impl Cell<'_> {
    fn has_wildcard(&self) -> bool {
        self.verb == "*"
            || match &self.kind {
                CellKind::Resource {
                    group, resource, ..
                } => *group == "*" || resource.starts_with('*'),
                CellKind::Url(u) => u.ends_with('*'),
            }
    }

    /// The request this cell stands for, `*` kept as a literal symbol.
    fn request(&self) -> Request {
        match &self.kind {
            CellKind::Url(u) => Request::url(self.verb, u),
            CellKind::Resource {
                group,
                resource,
                name,
            } => {
                let ns = match &self.scope {
                    Scope::Cluster => None,
                    Scope::Namespace(ns) => Some(ns.as_str()),
                };
                let r = Request::resource(self.verb, group, resource, ns);
                match name {
                    Some(n) => r.named(n),
                    None => r,
                }
            }
        }
    }
}

/// Every cell of a rule at a scope.
fn cells<'a>(scope: &Scope, rule: &'a PolicyRule, out: &mut Vec<Cell<'a>>) {
    for verb in &rule.verbs {
        if scope == &Scope::Cluster {
            for url in &rule.non_resource_urls {
                out.push(Cell {
                    scope: scope.clone(),
                    verb,
                    kind: CellKind::Url(url),
                });
            }
        }
        for group in &rule.api_groups {
            for resource in &rule.resources {
                let base = resource.split('/').next().unwrap_or(resource);
                if matches!(scope, Scope::Namespace(_)) && CLUSTER_SCOPED.contains(&base) {
                    continue;
                }
                if !resources::may_exist(group, resource) {
                    continue;
                }
                let names: Vec<Option<&str>> = if rule.resource_names.is_empty() {
                    vec![None]
                } else {
                    rule.resource_names
                        .iter()
                        .map(|n| Some(n.as_str()))
                        .collect()
                };
                for name in names {
                    out.push(Cell {
                        scope: scope.clone(),
                        verb,
                        kind: CellKind::Resource {
                            group,
                            resource,
                            name,
                        },
                    });
                }
            }
        }
    }
}

/// True when `rights` allow the cell, a `*` in it covered only by a `*`.
fn covered(rights: &Rights, cell: &Cell) -> bool {
    if rights.masters {
        return true;
    }
    let req = cell.request();
    rights.grants.iter().any(|g| {
        let scope_ok = match cell.kind {
            CellKind::Url(_) => g.scope == Scope::Cluster,
            CellKind::Resource { .. } => g.scope.covers(&cell.scope),
        };
        scope_ok && g.rules.iter().any(|r| rule_allows(r, &req))
    })
}

/// The concrete groups, resources and verbs a `*` stands for: whatever the
/// cluster's roles and the policies name explicitly. A `*` verb stands for
/// the API's verbs and the verbs some rule names for that resource (so
/// `impersonate` counts for serviceaccounts, not for pods).
#[derive(Debug, Clone, Default)]
pub(crate) struct Universe {
    /// (group, resource) pairs named together by some rule, with the
    /// explicit verbs rules name for them.
    resources: BTreeMap<(String, String), BTreeSet<String>>,
}

impl Universe {
    pub(crate) fn new(index: &Index) -> Universe {
        let mut u = Universe::default();
        let policy_rules = crate::core::policy::KNOWN_POLICIES
            .iter()
            .filter_map(|p| index.policy_rules(p))
            .flatten();
        for rule in index
            .roles
            .iter()
            .flat_map(|r| &r.rules)
            .chain(policy_rules)
        {
            for g in rule.api_groups.iter().filter(|g| *g != "*") {
                for r in rule.resources.iter().filter(|r| !r.starts_with('*')) {
                    u.resources
                        .entry((g.clone(), r.clone()))
                        .or_default()
                        .extend(rule.verbs.iter().filter(|v| *v != "*").cloned());
                }
            }
        }
        u
    }

    /// The first concrete request of a wildcard cell that `after` denies.
    fn uncovered_example(&self, cell: &Cell, after: &Rights) -> Option<String> {
        match &cell.kind {
            CellKind::Url(u) => {
                // Only `*` and `prefix*` URLs get here; no URL list to expand.
                let _ = u;
                None
            }
            CellKind::Resource {
                group,
                resource,
                name,
            } => {
                let (res_base, sub) = match resource.split_once('/') {
                    Some((b, s)) => (b, Some(s)),
                    None => (*resource, None),
                };
                for ((g, r), seen) in &self.resources {
                    if *group != "*" && g != group {
                        continue;
                    }
                    let (rb, rs) = match r.split_once('/') {
                        Some((b, s)) => (b, Some(s)),
                        None => (r.as_str(), None),
                    };
                    let fits = (res_base == "*" || rb == res_base)
                        && match (sub, rs) {
                            (None, None) => true,
                            (Some("*"), Some(_)) => true,
                            (Some(a), Some(b)) => a == b,
                            _ => res_base == "*" && *resource == "*",
                        };
                    if !fits {
                        continue;
                    }
                    if matches!(cell.scope, Scope::Namespace(_)) && CLUSTER_SCOPED.contains(&rb) {
                        continue;
                    }
                    let verbs: Vec<&str> = if cell.verb == "*" {
                        let mut v: BTreeSet<&str> = VERBS.iter().copied().collect();
                        v.extend(seen.iter().map(String::as_str));
                        v.into_iter().collect()
                    } else {
                        vec![cell.verb]
                    };
                    for verb in &verbs {
                        let concrete = Cell {
                            scope: cell.scope.clone(),
                            verb,
                            kind: CellKind::Resource {
                                group: g,
                                resource: r,
                                name: *name,
                            },
                        };
                        if !covered(after, &concrete) {
                            let group = if g.is_empty() { "" } else { g.as_str() };
                            return Some(describe_request(verb, group, r, *name, &cell.scope));
                        }
                    }
                }
                None
            }
        }
    }
}

fn target(group: &str, resource: &str, name: Option<&str>) -> String {
    let mut t = if group.is_empty() {
        resource.to_string()
    } else {
        format!("{group}/{resource}")
    };
    if let Some(n) = name {
        t.push_str(&format!("[{n}]"));
    }
    t
}

fn describe_request(
    verb: &str,
    group: &str,
    resource: &str,
    name: Option<&str>,
    scope: &Scope,
) -> String {
    format!(
        "{verb} {} {}",
        target(group, resource, name),
        scope.describe()
    )
}

fn scope_key(scope: &Scope) -> String {
    match scope {
        Scope::Cluster => "cluster".into(),
        Scope::Namespace(ns) => format!("namespace {ns}"),
    }
}

/// (scope, target, via) → (verbs, an example).
type Grouped = BTreeMap<(String, String, String), (BTreeSet<String>, Option<String>)>;

/// Groups cells that differ only in their verb into one change each.
fn changes(index: &Index, cells: Vec<(Cell, &Source, Option<String>)>) -> Vec<Change> {
    let mut grouped = Grouped::new();
    for (cell, source, example) in cells {
        let t = match &cell.kind {
            CellKind::Resource {
                group,
                resource,
                name,
            } => target(group, resource, *name),
            CellKind::Url(u) => (*u).to_string(),
        };
        let slot = grouped
            .entry((scope_key(&cell.scope), t, index.source_text(source)))
            .or_default();
        slot.0.insert(cell.verb.to_string());
        if slot.1.is_none() {
            slot.1 = example;
        }
    }
    grouped
        .into_iter()
        .map(|((scope, target, via), (verbs, example))| Change {
            scope,
            verbs: verbs.into_iter().collect(),
            target,
            via,
            example,
        })
        .collect()
}

/// The cells of the grants from `sources` that `other` does not cover.
fn uncovered<'a>(
    side: &Rights<'a>,
    sources: &BTreeSet<&Source>,
    other: &Rights,
) -> Vec<(Cell<'a>, Source)> {
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for g in side.grants.iter().filter(|g| sources.contains(&g.source)) {
        let mut cs = Vec::new();
        for rule in g.rules {
            cells(&g.scope, rule, &mut cs);
        }
        for c in cs {
            if !seen.insert(c.clone()) {
                continue;
            }
            if !covered(other, &c) {
                out.push((c, g.source.clone()));
            }
        }
    }
    out
}

/// The comparison engine for one cluster: the index, the universe and a
/// cache of results by the bindings and policies on each side.
pub(crate) struct Comparer<'i> {
    index: &'i Index,
    universe: Universe,
    cache: HashMap<Key, Comparison>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    before: Vec<usize>,
    before_masters: bool,
    after: Vec<usize>,
    after_masters: bool,
    policies: Vec<(String, Scope)>,
}

impl<'i> Comparer<'i> {
    pub(crate) fn new(index: &'i Index) -> Comparer<'i> {
        Comparer {
            index,
            universe: Universe::new(index),
            cache: HashMap::new(),
        }
    }

    /// Before (aws-auth's identity) versus after (the entry's identity and policies).
    pub(crate) fn compare(&mut self, before: &Identity, after: &After) -> Comparison {
        let mut policies = after.policies.clone();
        policies.sort();
        policies.dedup();
        let key = Key {
            before: self.index.bindings_of(before),
            before_masters: before.is_master(),
            after: self.index.bindings_of(&after.identity),
            after_masters: after.identity.is_master(),
            policies,
        };
        let mut result = match self.cache.get(&key) {
            Some(c) => c.clone(),
            None => {
                let c = self.compute(&key);
                self.cache.insert(key, c.clone());
                c
            }
        };
        self.identity_checks(before, &after.identity, &mut result);
        result
    }

    /// Before versus no entry at all: the principal can no longer sign in,
    /// so everything it had is lost, `system:authenticated`'s rights too.
    pub(crate) fn compare_gone(&self, before: &Identity) -> Comparison {
        let bindings = self.index.bindings_of(before);
        let mut rights = self.index.rights(&bindings, &[]);
        rights.masters = before.is_master();
        let mut c = Comparison {
            verdict: Verdict::Loses,
            loses: Vec::new(),
            gains: Vec::new(),
            unproven: Vec::new(),
            notes: vec![
                "no access entry: the principal can no longer sign in to the cluster".into(),
            ],
        };
        if rights.masters {
            c.loses.push(Change {
                scope: "cluster".into(),
                verbs: vec!["*".into()],
                target: "everything (system:masters)".into(),
                via: "group system:masters".into(),
                example: None,
            });
        } else {
            let sources: BTreeSet<&Source> = rights.grants.iter().map(|g| &g.source).collect();
            let nothing = Rights::default();
            let cells = uncovered(&rights, &sources, &nothing);
            c.loses = changes(
                self.index,
                cells.iter().map(|(c, s)| (c.clone(), s, None)).collect(),
            );
        }
        if c.loses.is_empty() {
            c.loses.push(Change {
                scope: "cluster".into(),
                verbs: vec!["sign-in".into()],
                target: "the cluster".into(),
                via: "aws-auth".into(),
                example: None,
            });
        }
        c
    }

    fn compute(&self, key: &Key) -> Comparison {
        let index = self.index;
        let mut before = index.rights(&key.before, &[]);
        before.masters = key.before_masters;
        let mut after = index.rights(&key.after, &key.policies);
        after.masters = key.after_masters;
        let mut c = Comparison {
            verdict: Verdict::Same,
            loses: Vec::new(),
            gains: Vec::new(),
            unproven: Vec::new(),
            notes: Vec::new(),
        };
        if !index.incomplete.is_empty() {
            c.unproven.push(format!(
                "RBAC was not read in full ({})",
                index.incomplete.join("; ")
            ));
        }
        if key.before_masters {
            self.compare_masters(&after, &mut c);
        } else {
            self.compare_rules(key, &before, &after, &mut c);
        }
        if !after.opaque.is_empty() && !key.before_masters {
            c.gains.push(Change {
                scope: "cluster".into(),
                verbs: vec!["?".into()],
                target: format!("what {} grants", after.opaque.join(", ")),
                via: "access policies whose rules AWS does not publish".into(),
                example: None,
            });
            if !c.loses.is_empty() {
                c.notes.push(format!(
                    "{} may cover some of the losses: AWS does not publish its rules, so they were not counted",
                    after.opaque.join(", ")
                ));
            }
        }
        self.aggregation_notes(key, &mut c);
        let mut seen = BTreeSet::new();
        c.notes.retain(|n| seen.insert(n.clone()));
        c.verdict = if !c.loses.is_empty() {
            Verdict::Loses
        } else if !c.unproven.is_empty() {
            Verdict::Unproven
        } else if !c.gains.is_empty() {
            Verdict::Gains
        } else {
            Verdict::Same
        };
        c
    }

    /// `system:masters` before: after must allow every `*`.
    fn compare_masters(&self, after: &Rights, c: &mut Comparison) {
        if after.masters {
            return;
        }
        let all = PolicyRule::resource(&["*"], &["*"], &["*"]);
        let urls = PolicyRule::urls(&["*"], &["*"]);
        let mut need = Vec::new();
        cells(&Scope::Cluster, &all, &mut need);
        cells(&Scope::Cluster, &urls, &mut need);
        for cell in need.iter().filter(|cell| !covered(after, cell)) {
            let example = self.universe.uncovered_example(cell, after);
            let what = match cell.kind {
                CellKind::Url(_) => "* (every non-resource URL)",
                CellKind::Resource { .. } => "*/* (every resource)",
            };
            c.loses.push(Change {
                scope: "cluster".into(),
                verbs: vec!["*".into()],
                target: what.into(),
                via: "group system:masters".into(),
                example,
            });
        }
        if c.loses.is_empty() {
            c.notes.push(
                "system:masters bypassed authorization; after, the same rights come through the authorizers (equal rules)"
                    .into(),
            );
        }
    }

    fn compare_rules(&self, key: &Key, before: &Rights, after: &Rights, c: &mut Comparison) {
        let lost = sources_not_in(before, &key.after);
        let mut lost_cells = Vec::new();
        for (cell, source) in uncovered(before, &lost, after) {
            if cell.has_wildcard() {
                match self.universe.uncovered_example(&cell, after) {
                    Some(example) => lost_cells.push((cell, source, Some(example))),
                    None => c.unproven.push(format!(
                        "{} through {}: a `*` that the after side grants only as an explicit list",
                        describe_cell(&cell),
                        self.index.source_text(&source)
                    )),
                }
            } else {
                lost_cells.push((cell, source, None));
            }
        }
        c.loses = changes(
            self.index,
            lost_cells
                .iter()
                .map(|(c, s, e)| (c.clone(), s, e.clone()))
                .collect(),
        );
        if !key.after_masters {
            let gained = sources_not_in(after, &key.before);
            let cells: Vec<_> = uncovered(after, &gained, before);
            c.gains = changes(
                self.index,
                cells.iter().map(|(c, s)| (c.clone(), s, None)).collect(),
            );
        } else {
            c.gains.push(Change {
                scope: "cluster".into(),
                verbs: vec!["*".into()],
                target: "everything (system:masters)".into(),
                via: "group system:masters".into(),
                example: None,
            });
        }
        if !lost.is_empty() {
            self.delegation(before, after, c);
        }
    }

    /// Creating a RoleBinding to a role needs `bind` on it, or holding all
    /// its rules through RBAC: access policies do not count for that check
    /// (pkg/registry/rbac/escalation_check.go). Where the before side could
    /// bind what it held through RBAC, the after side must still hold it
    /// through RBAC, or have `bind`.
    fn delegation(&self, before: &Rights, after: &Rights, c: &mut Comparison) {
        let mut scopes: BTreeSet<Scope> = BTreeSet::new();
        for g in &before.grants {
            scopes.insert(g.scope.clone());
        }
        let after_rbac = Rights {
            masters: after.masters,
            grants: after
                .grants
                .iter()
                .filter(|g| matches!(g.source, Source::Binding(_)))
                .cloned()
                .collect(),
            opaque: Vec::new(),
        };
        let rbac = "rbac.authorization.k8s.io";
        for scope in scopes {
            let ns = match &scope {
                Scope::Cluster => None,
                Scope::Namespace(ns) => Some(ns.as_str()),
            };
            let (bindings, roles) = match ns {
                None => ("clusterrolebindings", "clusterroles"),
                Some(_) => ("rolebindings", "roles"),
            };
            // Granting a role (a binding: needs `bind`) and writing one
            // (a role with rules: needs `escalate`), each unless the rules
            // are held through RBAC.
            for (kind, verb, what) in [
                (bindings, "bind", "granting the roles it held through RBAC"),
                (roles, "escalate", "holding the rules it held through RBAC"),
            ] {
                let could = before.allows(&Request::resource("create", rbac, kind, ns))
                    || (verb == "escalate"
                        && before.allows(&Request::resource("update", rbac, kind, ns)));
                if !could {
                    continue;
                }
                let writes_after = after.allows(&Request::resource("create", rbac, kind, ns))
                    || (verb == "escalate"
                        && after.allows(&Request::resource("update", rbac, kind, ns)));
                let waived = after.allows(&Request::resource(verb, rbac, roles, ns))
                    && (ns.is_none()
                        || verb == "escalate"
                        || after.allows(&Request::resource(verb, rbac, "clusterroles", ns)));
                if writes_after && waived {
                    continue;
                }
                let held: BTreeSet<&Source> = before
                    .grants
                    .iter()
                    .filter(|g| g.scope.covers(&scope))
                    .map(|g| &g.source)
                    .collect();
                let lost = uncovered(before, &held, &after_rbac)
                    .into_iter()
                    .filter(|(cell, _)| cell.scope == scope || cell.scope == Scope::Cluster)
                    .count();
                if lost > 0 {
                    c.loses.push(Change {
                        scope: scope_key(&scope),
                        verbs: vec![verb.into()],
                        target: format!("{kind} {what} ({lost} rights)"),
                        via: "the escalation check counts RBAC only: an access policy cannot be passed on".into(),
                        example: None,
                    });
                }
            }
        }
    }

    fn aggregation_notes(&self, key: &Key, c: &mut Comparison) {
        for &b in key.before.iter().filter(|b| !key.after.contains(b)) {
            let binding = &self.index.bindings[b];
            let Some(role) = binding.role.map(|r| &self.index.roles[r]) else {
                continue;
            };
            if !role.aggregated {
                continue;
            }
            if role.rules.is_empty() {
                c.unproven.push(format!(
                    "{}: ClusterRole {} is aggregated and the input holds none of its members",
                    binding.describe(),
                    role.name
                ));
            } else {
                c.notes.push(format!(
                    "ClusterRole {} is aggregated: ClusterRoles installed later with its aggregation labels extend it, and no access policy follows them",
                    role.name
                ));
            }
        }
    }

    /// Checks that depend on the names themselves, not the bindings.
    fn identity_checks(&self, before: &Identity, after: &Identity, c: &mut Comparison) {
        if before.username != after.username {
            let bound = self.index.users_matching_template(&before.username);
            if !bound.is_empty() {
                c.unproven.push(format!(
                    "the username changes from {} and User bindings name renderings of it ({}): which sessions they matched cannot be told",
                    before.username,
                    bound.join(", ")
                ));
                if c.verdict != Verdict::Loses {
                    c.verdict = Verdict::Unproven;
                }
            }
        }
    }
}

/// The sources of `side`'s grants that the other side lacks: its bindings
/// not among `other_bindings`, and its policies.
fn sources_not_in<'r>(side: &'r Rights, other_bindings: &[usize]) -> BTreeSet<&'r Source> {
    side.grants
        .iter()
        .map(|g| &g.source)
        .filter(|s| match s {
            Source::Binding(b) => !other_bindings.contains(b),
            Source::Policy(_) => true,
        })
        .collect()
}

fn describe_cell(cell: &Cell) -> String {
    match &cell.kind {
        CellKind::Resource {
            group,
            resource,
            name,
        } => describe_request(cell.verb, group, resource, *name, &cell.scope),
        CellKind::Url(u) => format!("{} {u}", cell.verb),
    }
}

#[cfg(test)]
#[path = "compare_tests.rs"]
mod tests;
