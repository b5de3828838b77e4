//! The evaluator against cases of the Kubernetes RBAC authorizer's own unit
//! tests (TestAuthorizer, TestRuleMatches, TestAppliesTo, …), written as our
//! fixture tests/fixtures/rbac/k8s-authorizer-cases.yaml: each case's objects
//! are read with `parse::parse`, each request evaluated with `Index` and
//! `Rights::allows`, and every answer must be Kubernetes'.

use serde::Deserialize;
use serde_yaml::{Mapping, Value};

use super::model::RoleKind;
use super::parse::parse;
use super::rights::{rule_allows, Identity, Index, Request};

/// The cases (see the fixture's header for the sources and the translation).
const CASES: &str = include_str!("../../../tests/fixtures/rbac/k8s-authorizer-cases.yaml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    source: String,
    /// Why the case is not checked (a documented difference).
    #[serde(default)]
    skip: Option<String>,
    /// The case tests one rule: also check `rule_allows` on it alone.
    #[serde(default)]
    one_rule: bool,
    objects: Vec<Value>,
    /// The identity of requests that do not name their own.
    #[serde(default)]
    identity: Option<Who>,
    requests: Vec<Req>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Who {
    user: String,
    groups: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Req {
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    groups: Option<Vec<String>>,
    verb: String,
    #[serde(default)]
    api_group: String,
    #[serde(default)]
    resource: Option<String>,
    #[serde(default)]
    subresource: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default)]
    path: Option<String>,
    allow: bool,
    #[serde(default)]
    skip: Option<String>,
}

/// `None` for an absent or empty field (Kubernetes' "" is "none").
fn given(field: Option<&String>) -> Option<&str> {
    field.map(String::as_str).filter(|s| !s.is_empty())
}

impl Req {
    fn identity(&self, default: Option<&Who>) -> Result<Identity, String> {
        let user = self
            .user
            .as_ref()
            .or(default.map(|d| &d.user))
            .ok_or("no user (and no identity for the case)")?;
        let groups = self
            .groups
            .as_ref()
            .or(default.map(|d| &d.groups))
            .ok_or("no groups (and no identity for the case)")?;
        Ok(Identity {
            username: user.clone(),
            groups: groups.clone(),
        })
    }

    fn request(&self) -> Result<Request, String> {
        match (&self.path, &self.resource) {
            (Some(path), None) => {
                if self.namespace.is_some() || self.name.is_some() || self.subresource.is_some() {
                    return Err("a non-resource request with resource fields".into());
                }
                Ok(Request::url(&self.verb, path))
            }
            (None, Some(resource)) => {
                let resource = match given(self.subresource.as_ref()) {
                    Some(sub) => format!("{resource}/{sub}"),
                    None => resource.clone(),
                };
                let req = Request::resource(
                    &self.verb,
                    &self.api_group,
                    &resource,
                    given(self.namespace.as_ref()),
                );
                Ok(match given(self.name.as_ref()) {
                    Some(name) => req.named(name),
                    None => req,
                })
            }
            _ => Err("a request needs either path or resource".into()),
        }
    }

    fn describe(&self, id: &Identity) -> String {
        let what = match (&self.path, &self.resource) {
            (Some(path), _) => path.clone(),
            (None, resource) => {
                let mut s = resource.clone().unwrap_or_default();
                if let Some(sub) = given(self.subresource.as_ref()) {
                    s = format!("{s}/{sub}");
                }
                if !self.api_group.is_empty() {
                    s = format!("{}/{s}", self.api_group);
                }
                if let Some(name) = given(self.name.as_ref()) {
                    s = format!("{s} {name}");
                }
                match given(self.namespace.as_ref()) {
                    Some(ns) => format!("{s} in {ns}"),
                    None => format!("{s} cluster-wide"),
                }
            }
        };
        format!(
            "{} {what} as user {:?} groups {:?}",
            self.verb, id.username, id.groups
        )
    }
}

fn cases() -> Vec<Case> {
    serde_yaml::from_str(CASES).unwrap_or_else(|e| panic!("the fixture does not parse: {e}"))
}

/// The case's objects as one `List`, for the parser.
fn list_of(objects: &[Value]) -> String {
    let mut list = Mapping::new();
    list.insert("apiVersion".into(), "v1".into());
    list.insert("kind".into(), "List".into());
    list.insert("items".into(), Value::Sequence(objects.to_vec()));
    serde_yaml::to_string(&list).unwrap_or_else(|e| panic!("{e}"))
}

/// What `case` got wrong, one line per request (empty: all as Kubernetes).
/// Returns the failures and the number of requests checked.
fn run(case: &Case) -> (Vec<String>, usize) {
    let mut failures = Vec::new();
    let parsed = match parse(list_of(&case.objects).as_bytes()) {
        Ok(p) => p,
        Err(e) => return (vec![format!("the objects do not parse: {e}")], 0),
    };
    if !parsed.skipped.is_empty() {
        failures.push(format!("objects skipped: {:?}", parsed.skipped));
    }
    let index = Index::new(&parsed.snapshot);
    let only_rule = if case.one_rule {
        let rules: Vec<_> = parsed
            .snapshot
            .roles
            .iter()
            .filter(|r| r.kind == RoleKind::ClusterRole)
            .flat_map(|r| r.rules.iter())
            .collect();
        match rules.as_slice() {
            [rule] => Some(*rule),
            _ => {
                failures.push(format!(
                    "one_rule, but the ClusterRoles hold {} rules",
                    rules.len()
                ));
                None
            }
        }
    } else {
        None
    };
    let mut checked = 0;
    for (i, r) in case.requests.iter().enumerate() {
        if let Some(reason) = &r.skip {
            if reason.trim().is_empty() {
                failures.push(format!("requests[{i}]: skip without a reason"));
            }
            continue;
        }
        let (id, req) = match (r.identity(case.identity.as_ref()), r.request()) {
            (Ok(id), Ok(req)) => (id, req),
            (Err(e), _) | (_, Err(e)) => {
                failures.push(format!("requests[{i}]: {e}"));
                continue;
            }
        };
        checked += 1;
        let expected = if r.allow { "allow" } else { "deny" };
        let got = index.rbac_rights(&id).allows(&req);
        if got != r.allow {
            failures.push(format!(
                "requests[{i}] ({}): Kubernetes says {expected}, ours {}",
                r.describe(&id),
                if got { "allows" } else { "denies" }
            ));
        }
        if let Some(rule) = only_rule {
            let alone = rule_allows(rule, &req);
            if alone != r.allow {
                failures.push(format!(
                    "requests[{i}] ({}): Kubernetes' RuleAllows says {expected}, our rule_allows {}",
                    r.describe(&id),
                    if alone { "allows" } else { "denies" }
                ));
            }
        }
    }
    (failures, checked)
}

#[test]
fn the_evaluator_answers_the_kubernetes_authorizer_cases_as_kubernetes_does() {
    let cases = cases();
    let mut failures = Vec::new();
    let mut requests = 0;
    for case in &cases {
        if let Some(reason) = &case.skip {
            assert!(
                !reason.trim().is_empty(),
                "{}: skip without a reason",
                case.name
            );
            continue;
        }
        let (wrong, checked) = run(case);
        requests += checked;
        failures.extend(
            wrong
                .into_iter()
                .map(|w| format!("{} [{}]: {w}", case.name, case.source)),
        );
    }
    assert!(
        failures.is_empty(),
        "{} disagreement(s) with Kubernetes:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // The fixture is read in full (a YAML slip that drops cases shows here).
    assert_eq!(cases.len(), 40, "cases in the fixture");
    assert_eq!(requests, 151, "requests checked");
}
