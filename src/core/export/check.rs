//! A schema check of our own for the Terraform exports (the `terraform`
//! binary and the AWS provider cannot be installed here): every resource
//! attribute is one hashicorp/aws documents for `aws_eks_access_entry` and
//! `aws_eks_access_policy_association` (or terraform-aws-eks for its
//! `access_entries`), `type` is in the provider's enum, ARNs are ARNs,
//! access scopes follow EKS's rules, node types carry no groups, username
//! or policies, no username has a prefix EKS reserves, and every import
//! block targets a resource of the file with the provider's ID format.
//! Pure: it reads the [`hcl`] model the renderers print.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use super::hcl::{self, attrs, Block, Body, Expr, Item};
use crate::core::policy::parse_policy_arn;
use crate::core::translate::RESERVED_USERNAME_PREFIXES;

/// `type` values of `aws_eks_access_entry` (the provider's `consts.go`).
pub(crate) const PROVIDER_TYPES: [&str; 6] = [
    "EC2",
    "EC2_LINUX",
    "EC2_WINDOWS",
    "FARGATE_LINUX",
    "HYBRID_LINUX",
    "STANDARD",
];

/// Types that take no groups, username or access policies.
pub(crate) const NODE_TYPES: [&str; 4] =
    ["EC2_LINUX", "EC2_WINDOWS", "FARGATE_LINUX", "HYBRID_LINUX"];

const ENTRY_ATTRS: [&str; 6] = [
    "cluster_name",
    "principal_arn",
    "type",
    "kubernetes_groups",
    "user_name",
    "tags",
];
const ASSOCIATION_ATTRS: [&str; 3] = ["cluster_name", "policy_arn", "principal_arn"];
const META_ATTRS: [&str; 4] = ["depends_on", "count", "for_each", "provider"];
/// terraform-aws-eks `access_entries` values (v21's typed object; v20 reads the same keys).
const MODULE_ENTRY_KEYS: [&str; 6] = [
    "principal_arn",
    "type",
    "kubernetes_groups",
    "user_name",
    "tags",
    "policy_associations",
];

/// One thing wrong, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    pub(crate) at: String,
    pub(crate) message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.at, self.message)
    }
}

/// An IAM role or user ARN EKS takes as a principal, usable in the
/// provider's import IDs (no `#`, which splits association IDs).
pub(crate) fn is_principal_arn(s: &str) -> bool {
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    let [arn, partition, service, region, account, resource] = parts[..] else {
        return false;
    };
    let name_ok = |r: &str| {
        !r.is_empty()
            && !r.ends_with('/')
            && r.chars()
                .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-/".contains(c))
    };
    arn == "arn"
        && !partition.is_empty()
        && partition
            .chars()
            .all(|c| c.is_ascii_lowercase() || c == '-')
        && service == "iam"
        && region.is_empty()
        && account.len() == 12
        && account.chars().all(|c| c.is_ascii_digit())
        && (resource.strip_prefix("role/").is_some_and(name_ok)
            || resource.strip_prefix("user/").is_some_and(name_ok))
}

/// An EKS access policy ARN.
pub(crate) fn is_policy_arn(s: &str) -> bool {
    parse_policy_arn(s).is_some() && !s.contains('#') && !s.contains(char::is_whitespace)
}

/// The prefix EKS refuses a username for, if any.
pub(crate) fn reserved_prefix(username: &str) -> Option<&'static str> {
    RESERVED_USERNAME_PREFIXES
        .iter()
        .copied()
        .find(|p| username.starts_with(p))
}

/// Why a scope is not one EKS takes, if it is not.
pub(crate) fn scope_problem(scope_type: &str, namespaces: &[String]) -> Option<String> {
    match scope_type {
        "cluster" if !namespaces.is_empty() => Some("a cluster scope takes no namespaces".into()),
        "cluster" => None,
        "namespace" if namespaces.is_empty() => {
            Some("a namespace scope needs at least one namespace".into())
        }
        "namespace" if namespaces.iter().any(String::is_empty) => {
            Some("an empty namespace name".into())
        }
        "namespace" => None,
        other => Some(format!(
            "access scope type {other:?} is not cluster or namespace"
        )),
    }
}

struct Checker {
    problems: Vec<Problem>,
}

impl Checker {
    fn add(&mut self, at: &str, message: impl Into<String>) {
        self.problems.push(Problem {
            at: at.to_string(),
            message: message.into(),
        });
    }

    fn string(&mut self, at: &str, name: &str, e: Option<&Expr>) -> Option<String> {
        match e {
            Some(Expr::Str(s)) => Some(s.clone()),
            Some(_) => {
                self.add(at, format!("{name} is not a string literal"));
                None
            }
            None => None,
        }
    }

    fn strings(&mut self, at: &str, name: &str, e: Option<&Expr>) -> Vec<String> {
        match e {
            None => Vec::new(),
            Some(Expr::List(items)) => {
                let mut out = Vec::new();
                for i in items {
                    match i {
                        Expr::Str(s) => out.push(s.clone()),
                        _ => self.add(at, format!("{name} holds something else than strings")),
                    }
                }
                let unique: BTreeSet<&String> = out.iter().collect();
                if unique.len() != out.len() {
                    self.add(at, format!("{name} repeats a value (a set)"));
                }
                out
            }
            Some(_) => {
                self.add(at, format!("{name} is not a list of strings"));
                Vec::new()
            }
        }
    }

    /// An entry's values, wherever they are written. Returns its principal
    /// and type.
    fn entry(&mut self, at: &str, fields: &Body) -> (Option<String>, String) {
        let get = |k: &str| hcl::get(fields, k);
        let principal = self.string(at, "principal_arn", get("principal_arn"));
        match &principal {
            None => self.add(at, "principal_arn is required"),
            Some(p) if !is_principal_arn(p) => {
                self.add(
                    at,
                    format!("principal_arn {p:?} is not an IAM role or user ARN"),
                );
            }
            Some(_) => {}
        }
        let entry_type = self
            .string(at, "type", get("type"))
            .unwrap_or_else(|| "STANDARD".into());
        if !PROVIDER_TYPES.contains(&entry_type.as_str()) {
            self.add(
                at,
                format!("type {entry_type:?} is not in the provider's enum"),
            );
        }
        let node = NODE_TYPES.contains(&entry_type.as_str());
        let groups = self.strings(at, "kubernetes_groups", get("kubernetes_groups"));
        if node && get("kubernetes_groups").is_some() {
            self.add(
                at,
                format!("a {entry_type} entry takes no kubernetes_groups"),
            );
        }
        if groups.iter().any(String::is_empty) {
            self.add(at, "an empty group name");
        }
        if let Some(u) = self.string(at, "user_name", get("user_name")) {
            if node {
                self.add(at, format!("a {entry_type} entry takes no user_name"));
            }
            if let Some(prefix) = reserved_prefix(&u) {
                self.add(
                    at,
                    format!("user_name {u:?} starts with {prefix}, which EKS refuses"),
                );
            }
            if u.is_empty() {
                self.add(at, "an empty user_name");
            }
        }
        if let Some(tags) = get("tags") {
            match tags {
                Expr::Object(fields) if attrs(fields).all(|(_, v)| matches!(v, Expr::Str(_))) => {}
                _ => self.add(at, "tags is not a map of strings"),
            }
        }
        (principal, entry_type)
    }

    /// A policy association's policy and scope. Returns the policy ARN.
    fn association(
        &mut self,
        at: &str,
        policy: Option<&Expr>,
        scope_type: Option<&Expr>,
        namespaces: Option<&Expr>,
    ) -> Option<String> {
        let policy = self.string(at, "policy_arn", policy);
        match &policy {
            None => self.add(at, "policy_arn is required"),
            Some(p) if !is_policy_arn(p) => {
                self.add(
                    at,
                    format!("policy_arn {p:?} is not an EKS access policy ARN"),
                );
            }
            Some(_) => {}
        }
        let namespaces = self.strings(at, "namespaces", namespaces);
        match self.string(at, "access_scope.type", scope_type) {
            None => self.add(at, "access_scope.type is required"),
            Some(t) => {
                if let Some(p) = scope_problem(&t, &namespaces) {
                    self.add(at, p);
                }
            }
        }
        policy
    }

    fn only(&mut self, at: &str, keys: &[&str], allowed: &[&str]) {
        for k in keys {
            if !allowed.contains(k) {
                self.add(at, format!("{k} is not an argument the schema documents"));
            }
        }
    }

    /// An import block: `to` one of `targets` (address -> the ID it
    /// needs, with `CLUSTER` for the cluster part), `id` in that format.
    fn import(
        &mut self,
        b: &Block,
        targets: &BTreeMap<String, Vec<String>>,
        clusters: &mut BTreeSet<String>,
    ) {
        let to = match b.attr("to") {
            Some(Expr::Ref(r)) => r.clone(),
            _ => {
                self.add("import", "to is not a resource address");
                return;
            }
        };
        let at = format!("import {to}");
        let keys: Vec<&str> = attr_names(&b.body);
        self.only(&at, &keys, &["to", "id", "provider"]);
        let Some(want) = targets.get(&to) else {
            self.add(&at, "targets no resource of this file");
            return;
        };
        let Some(id) = b.attr("id").and_then(Expr::text) else {
            self.add(&at, "id is not a string");
            return;
        };
        // Entries: CLUSTER:PRINCIPAL_ARN, split on the first ':'.
        // Associations: CLUSTER#PRINCIPAL_ARN#POLICY_ARN, split on '#'.
        let parts: Vec<&str> = if want.len() == 1 {
            id.splitn(2, ':').collect()
        } else {
            id.split('#').collect()
        };
        if parts.len() != want.len() + 1
            || parts[1..] != want.iter().map(String::as_str).collect::<Vec<_>>()[..]
        {
            self.add(
                &at,
                format!("id {id:?} is not the provider's ID of this resource"),
            );
            return;
        }
        if parts[0].is_empty() {
            self.add(&at, "id has no cluster name");
        }
        clusters.insert(parts[0].to_string());
    }
}

fn attr_names(body: &Body) -> Vec<&str> {
    body.iter()
        .filter_map(|i| match i {
            Item::Attr(k, _) => Some(k.as_str()),
            Item::Block(b) => Some(b.kind.as_str()),
            _ => None,
        })
        .collect()
}

fn blocks(body: &Body) -> impl Iterator<Item = &Block> {
    body.iter().filter_map(|i| match i {
        Item::Block(b) => Some(b),
        _ => None,
    })
}

fn finish(mut c: Checker, clusters: &BTreeSet<String>) -> Vec<Problem> {
    if clusters.len() > 1 {
        c.add("import", "import IDs name different clusters");
    }
    c.problems
}

/// Checks the `terraform` export: resources, their attributes and values,
/// and the import blocks.
pub(crate) fn check_terraform(body: &Body) -> Vec<Problem> {
    let mut c = Checker {
        problems: Vec::new(),
    };
    // Entry resources: name -> (principal, type).
    let mut entries: BTreeMap<String, (String, String)> = BTreeMap::new();
    let mut targets: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut associations: Vec<(String, String, Vec<String>)> = Vec::new();
    for b in blocks(body) {
        match (b.kind.as_str(), b.labels.as_slice()) {
            ("terraform" | "variable" | "import", _) => {}
            ("resource", [t, name]) if t == "aws_eks_access_entry" => {
                let at = format!("{t}.{name}");
                if targets.contains_key(&at) {
                    c.add(&at, "declared twice");
                }
                c.only(
                    &at,
                    &attr_names(&b.body),
                    &[&ENTRY_ATTRS[..], &META_ATTRS[..], &["lifecycle"]].concat(),
                );
                if b.attr("cluster_name").is_none() {
                    c.add(&at, "cluster_name is required");
                }
                let (principal, entry_type) = c.entry(&at, &b.body);
                if let Some(p) = principal {
                    targets.insert(at, vec![p.clone()]);
                    entries.insert(name.clone(), (p, entry_type));
                }
            }
            ("resource", [t, name]) if t == "aws_eks_access_policy_association" => {
                let at = format!("{t}.{name}");
                if targets.contains_key(&at) {
                    c.add(&at, "declared twice");
                }
                c.only(
                    &at,
                    &attr_names(&b.body),
                    &[
                        &ASSOCIATION_ATTRS[..],
                        &META_ATTRS[..],
                        &["access_scope", "lifecycle"],
                    ]
                    .concat(),
                );
                if b.attr("cluster_name").is_none() {
                    c.add(&at, "cluster_name is required");
                }
                let scopes: Vec<&Block> = blocks(&b.body)
                    .filter(|x| x.kind == "access_scope")
                    .collect();
                let [scope] = scopes[..] else {
                    c.add(&at, "access_scope must appear exactly once, as a block");
                    continue;
                };
                c.only(&at, &attr_names(&scope.body), &["type", "namespaces"]);
                let policy = c.association(
                    &at,
                    b.attr("policy_arn"),
                    scope.attr("type"),
                    scope.attr("namespaces"),
                );
                let principal = c.string(&at, "principal_arn", b.attr("principal_arn"));
                let deps: Vec<String> = match b.attr("depends_on") {
                    Some(Expr::List(items)) => items
                        .iter()
                        .filter_map(|i| match i {
                            Expr::Ref(r) => Some(r.clone()),
                            _ => None,
                        })
                        .collect(),
                    _ => Vec::new(),
                };
                match (principal, policy) {
                    (Some(p), Some(pol)) => {
                        associations.push((at.clone(), p.clone(), deps));
                        targets.insert(at, vec![p, pol]);
                    }
                    (None, _) => c.add(&at, "principal_arn is required"),
                    _ => {}
                }
            }
            (kind, labels) => c.add(
                &format!("{kind} {}", labels.join(".")),
                "not a block this export writes",
            ),
        }
    }
    for (at, principal, deps) in &associations {
        let entry = entries.iter().find(|(_, (p, _))| p == principal);
        match entry {
            None => c.add(at, "no aws_eks_access_entry of this file has its principal"),
            Some((name, (_, t))) => {
                if NODE_TYPES.contains(&t.as_str()) {
                    c.add(at, format!("a {t} entry takes no access policy"));
                }
                if !deps.contains(&format!("aws_eks_access_entry.{name}")) {
                    c.add(at, "does not depend on its entry");
                }
            }
        }
    }
    let mut clusters = BTreeSet::new();
    for b in blocks(body).filter(|b| b.kind == "import") {
        c.import(b, &targets, &mut clusters);
    }
    finish(c, &clusters)
}

/// Checks the `terraform-module` export: the `access_entries` map in
/// `locals { <local> = ... }` and the import blocks for `module.<module>`.
pub(crate) fn check_module(body: &Body, local: &str, module: &str) -> Vec<Problem> {
    let mut c = Checker {
        problems: Vec::new(),
    };
    let map = blocks(body)
        .filter(|b| b.kind == "locals")
        .find_map(|b| b.attr(local));
    let Some(Expr::Object(entries)) = map else {
        c.add("locals", format!("no map local.{local}"));
        return c.problems;
    };
    let mut targets: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut keys = BTreeSet::new();
    for (key, value) in attrs(entries) {
        let at = format!("{local}[{key:?}]");
        if !keys.insert(key.to_string()) {
            c.add(&at, "key repeated");
        }
        let Expr::Object(fields) = value else {
            c.add(&at, "not an object");
            continue;
        };
        let get = |k: &str| hcl::get(fields, k);
        let names: Vec<&str> = attrs(fields).map(|(k, _)| k).collect();
        c.only(&at, &names, &MODULE_ENTRY_KEYS);
        let (principal, entry_type) = c.entry(&at, fields);
        let Some(principal) = principal else { continue };
        targets.insert(
            format!(
                "module.{module}.aws_eks_access_entry.this[{}]",
                hcl::quote(key)
            ),
            vec![principal.clone()],
        );
        let assocs = match get("policy_associations") {
            None => continue,
            Some(Expr::Object(a)) => a,
            Some(_) => {
                c.add(&at, "policy_associations is not a map");
                continue;
            }
        };
        if NODE_TYPES.contains(&entry_type.as_str()) && attrs(assocs).next().is_some() {
            c.add(
                &at,
                format!("a {entry_type} entry takes no access policy (the module skips them)"),
            );
        }
        for (pk, pv) in attrs(assocs) {
            let at = format!("{at}.policy_associations[{pk:?}]");
            let Expr::Object(pf) = pv else {
                c.add(&at, "not an object");
                continue;
            };
            let pget = |k: &str| hcl::get(pf, k);
            c.only(
                &at,
                &attrs(pf).map(|(k, _)| k).collect::<Vec<_>>(),
                &["policy_arn", "access_scope"],
            );
            let (st, ns) = match pget("access_scope") {
                Some(Expr::Object(sf)) => {
                    c.only(
                        &at,
                        &attrs(sf).map(|(k, _)| k).collect::<Vec<_>>(),
                        &["type", "namespaces"],
                    );
                    let sget = |k: &str| hcl::get(sf, k);
                    (sget("type"), sget("namespaces"))
                }
                _ => {
                    c.add(&at, "access_scope is not an object");
                    (None, None)
                }
            };
            let Some(policy) = c.association(&at, pget("policy_arn"), st, ns) else {
                continue;
            };
            // The module keys associations "<entry>_<association>".
            let address = format!(
                "module.{module}.aws_eks_access_policy_association.this[{}]",
                hcl::quote(&format!("{key}_{pk}"))
            );
            if targets
                .insert(address, vec![principal.clone(), policy])
                .is_some()
            {
                c.add(&at, format!("the module's key {key}_{pk} is not unique"));
            }
        }
    }
    let mut clusters = BTreeSet::new();
    for b in blocks(body) {
        match b.kind.as_str() {
            "import" => c.import(b, &targets, &mut clusters),
            "locals" => {}
            other => c.add(other, "not a block this export writes"),
        }
    }
    finish(c, &clusters)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_and_rules() {
        assert!(is_principal_arn(
            "arn:aws:iam::111122223333:role/a/b/c+=,.@_-"
        ));
        assert!(is_principal_arn("arn:aws-cn:iam::111122223333:user/alice"));
        assert!(!is_principal_arn("arn:aws:iam::111122223333:group/ops"));
        assert!(!is_principal_arn(
            "arn:aws:sts::111122223333:assumed-role/a/b"
        ));
        assert!(!is_principal_arn("arn:aws:iam::1111:role/a"));
        assert!(!is_principal_arn("arn:aws:iam::111122223333:role/a#b"));
        assert!(!is_principal_arn("arn:aws:iam::111122223333:role/"));
        assert!(!is_principal_arn("12345"));
        assert!(is_policy_arn(
            "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"
        ));
        assert!(!is_policy_arn(
            "arn:aws:iam::aws:policy/AdministratorAccess"
        ));
        assert_eq!(reserved_prefix("system:x"), Some("system:"));
        assert_eq!(reserved_prefix("ops:{{SessionName}}"), None);
        assert!(scope_problem("cluster", &[]).is_none());
        assert!(scope_problem("cluster", &["a".into()]).is_some());
        assert!(scope_problem("namespace", &[]).is_some());
        assert!(scope_problem("namespace", &["a".into()]).is_none());
        assert!(scope_problem("Cluster", &[]).is_some());
    }
}
