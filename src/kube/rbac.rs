//! Reading a cluster's RBAC for the access analysis: ClusterRoles,
//! ClusterRoleBindings, Roles and RoleBindings of every namespace, listed
//! read-only in pages (500 a page, following `continue`) and turned into the
//! core's model. Live aggregated ClusterRoles arrive filled by the
//! aggregation controller, so nothing is recomputed here.
//!
//! A list the caller may not make (403) is not an error: it is recorded in
//! [`Snapshot::incomplete`] and the other lists are still read, so the
//! analysis reports itself incomplete instead of calling anything
//! equivalent. Any other failure is a [`KubeError::RbacList`].

use std::fmt::Debug;

use ::kube::api::{ListParams, ObjectList};
use ::kube::{Api, Client, Resource};
use k8s_openapi::api::rbac::v1 as k8s;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use serde::de::DeserializeOwned;

use super::{KubeError, KUBE_ATTEMPTS};
use crate::core::rbac::model::{
    AggregationRule, Binding, BindingKind, LabelRequirement, Meta, PolicyRule, Role, RoleKind,
    RoleRef, Snapshot, Subject,
};

/// Objects asked for per page.
const PAGE: u32 = 500;

/// Times a list starts over when its continue token has expired (410).
const RESTARTS: u32 = 2;

/// Every ClusterRole, ClusterRoleBinding, Role and RoleBinding the caller
/// may list (see the module documentation).
pub(crate) async fn read_rbac(client: &Client) -> Result<Snapshot, KubeError> {
    let mut snapshot = Snapshot::default();
    let incomplete = &mut snapshot.incomplete;
    let cluster_roles = list_all::<k8s::ClusterRole>(client, "clusterroles", incomplete).await?;
    let roles = list_all::<k8s::Role>(client, "roles", incomplete).await?;
    let cluster_bindings =
        list_all::<k8s::ClusterRoleBinding>(client, "clusterrolebindings", incomplete).await?;
    let bindings = list_all::<k8s::RoleBinding>(client, "rolebindings", incomplete).await?;
    snapshot
        .roles
        .extend(cluster_roles.into_iter().map(cluster_role));
    snapshot.roles.extend(roles.into_iter().map(role));
    for b in cluster_bindings {
        let converted = binding(
            BindingKind::ClusterRoleBinding,
            b.metadata,
            b.role_ref,
            b.subjects,
        );
        push_binding(&mut snapshot, converted);
    }
    for b in bindings {
        let converted = binding(BindingKind::RoleBinding, b.metadata, b.role_ref, b.subjects);
        push_binding(&mut snapshot, converted);
    }
    Ok(snapshot)
}

fn push_binding(snapshot: &mut Snapshot, converted: Result<Binding, String>) {
    match converted {
        Ok(b) => snapshot.bindings.push(b),
        Err(why) => snapshot.incomplete.push(why),
    }
}

/// All objects of one kind across namespaces, page by page; empty (and a
/// line in `incomplete`) when the list is forbidden.
async fn list_all<K>(
    client: &Client,
    resource: &str,
    incomplete: &mut Vec<String>,
) -> Result<Vec<K>, KubeError>
where
    K: Resource + Clone + DeserializeOwned + Debug,
    K::DynamicType: Default,
{
    let api: Api<K> = Api::all(client.clone());
    let mut items = Vec::new();
    let mut token: Option<String> = None;
    let mut restarts = 0;
    loop {
        let mut params = ListParams::default().limit(PAGE);
        if let Some(t) = &token {
            params = params.continue_token(t);
        }
        match list_page(&api, &params, resource).await {
            Ok(page) => {
                items.extend(page.items);
                match page.metadata.continue_.filter(|c| !c.is_empty()) {
                    None => return Ok(items),
                    Some(next) if token.as_ref() == Some(&next) => {
                        return Err(KubeError::RbacList {
                            resource: resource.to_string(),
                            message: "the API server answered the same continue token twice".into(),
                        })
                    }
                    Some(next) => token = Some(next),
                }
            }
            Err(::kube::Error::Api(s)) if s.code == 403 => {
                incomplete.push(forbidden_line(resource, &s.message));
                return Ok(Vec::new());
            }
            // The continue token expired (the list took too long): start over.
            Err(::kube::Error::Api(s))
                if s.code == 410 && token.is_some() && restarts < RESTARTS =>
            {
                restarts += 1;
                items.clear();
                token = None;
            }
            Err(e) => {
                return Err(KubeError::RbacList {
                    resource: resource.to_string(),
                    message: error_message(&e),
                })
            }
        }
    }
}

/// One page, tried again with backoff when the API server throttles (429)
/// or fails (5xx), as the aws-auth GET is.
async fn list_page<K>(
    api: &Api<K>,
    params: &ListParams,
    resource: &str,
) -> Result<ObjectList<K>, ::kube::Error>
where
    K: Resource + Clone + DeserializeOwned + Debug,
{
    let mut attempt = 0;
    loop {
        attempt += 1;
        match super::logged("LIST", resource, api.list(params)).await {
            Err(::kube::Error::Api(s))
                if attempt < KUBE_ATTEMPTS && (s.code == 429 || s.code >= 500) =>
            {
                super::back_off("LIST", resource, attempt, s.code).await;
            }
            other => return other,
        }
    }
}

fn error_message(e: &::kube::Error) -> String {
    match e {
        ::kube::Error::Api(s) if s.code == 401 => format!(
            "unauthorized ({}): the kubeconfig's credentials are not accepted; refresh them (aws eks update-kubeconfig)",
            s.message
        ),
        ::kube::Error::Api(s) => format!("HTTP {}: {}", s.code, s.message),
        other => other.to_string(),
    }
}

/// The line a forbidden list leaves in [`Snapshot::incomplete`]; who was
/// refused is read from the API server's message (`User "NAME" cannot list
/// ...`).
fn forbidden_line(resource: &str, message: &str) -> String {
    let who = message
        .split_once("User \"")
        .and_then(|(_, rest)| rest.split_once('"'))
        .map_or("the kubeconfig's user", |(user, _)| user);
    format!(
        "cannot list {resource} (forbidden for {who}): grant list on clusterroles, clusterrolebindings, roles and rolebindings to analyse access"
    )
}

fn meta(m: ObjectMeta) -> Meta {
    Meta {
        name: m.name.unwrap_or_default(),
        namespace: m.namespace,
        labels: m.labels.unwrap_or_default(),
    }
}

fn rule(r: k8s::PolicyRule) -> PolicyRule {
    PolicyRule {
        verbs: r.verbs,
        api_groups: r.api_groups.unwrap_or_default(),
        resources: r.resources.unwrap_or_default(),
        resource_names: r.resource_names.unwrap_or_default(),
        non_resource_urls: r.non_resource_urls.unwrap_or_default(),
    }
}

fn rules(r: Option<Vec<k8s::PolicyRule>>) -> Vec<PolicyRule> {
    r.unwrap_or_default().into_iter().map(rule).collect()
}

fn selector(s: LabelSelector) -> crate::core::rbac::model::LabelSelector {
    crate::core::rbac::model::LabelSelector {
        match_labels: s.match_labels.unwrap_or_default(),
        match_expressions: s
            .match_expressions
            .unwrap_or_default()
            .into_iter()
            .map(|e| LabelRequirement {
                key: e.key,
                operator: e.operator,
                values: e.values.unwrap_or_default(),
            })
            .collect(),
    }
}

fn cluster_role(r: k8s::ClusterRole) -> Role {
    Role {
        kind: RoleKind::ClusterRole,
        metadata: meta(r.metadata),
        rules: rules(r.rules),
        aggregation_rule: r.aggregation_rule.map(|a| AggregationRule {
            cluster_role_selectors: a
                .cluster_role_selectors
                .unwrap_or_default()
                .into_iter()
                .map(selector)
                .collect(),
        }),
    }
}

fn role(r: k8s::Role) -> Role {
    Role {
        kind: RoleKind::Role,
        metadata: meta(r.metadata),
        rules: rules(r.rules),
        aggregation_rule: None,
    }
}

/// A binding in the model; a roleRef of another kind than Role or
/// ClusterRole (which the API server refuses) is the reason it is left out.
fn binding(
    kind: BindingKind,
    metadata: ObjectMeta,
    role_ref: k8s::RoleRef,
    subjects: Option<Vec<k8s::Subject>>,
) -> Result<Binding, String> {
    let metadata = meta(metadata);
    let role_kind = match role_ref.kind.as_str() {
        "ClusterRole" => RoleKind::ClusterRole,
        "Role" => RoleKind::Role,
        other => {
            let kind = match kind {
                BindingKind::ClusterRoleBinding => "ClusterRoleBinding",
                BindingKind::RoleBinding => "RoleBinding",
            };
            let name = match &metadata.namespace {
                Some(ns) => format!("{ns}/{}", metadata.name),
                None => metadata.name.clone(),
            };
            return Err(format!(
                "{kind} {name} is left out: its roleRef has kind {other:?}, neither Role nor ClusterRole"
            ));
        }
    };
    Ok(Binding {
        kind,
        metadata,
        role_ref: RoleRef {
            kind: role_kind,
            name: role_ref.name,
            api_group: role_ref.api_group.unwrap_or_default(),
        },
        subjects: subjects
            .unwrap_or_default()
            .into_iter()
            .map(|s| Subject {
                kind: s.kind,
                name: s.name,
                namespace: s.namespace,
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from_json<T: DeserializeOwned>(v: serde_json::Value) -> T {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn live_objects_become_the_model() {
        // As a list serves its items: no kind or apiVersion.
        let admin: k8s::ClusterRole = from_json(serde_json::json!({
            "metadata": {"name": "admin", "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"}, "resourceVersion": "7"},
            "aggregationRule": {"clusterRoleSelectors": [
                {"matchLabels": {"rbac.authorization.k8s.io/aggregate-to-admin": "true"}},
                {"matchExpressions": [{"key": "tier", "operator": "Exists"}]}
            ]},
            "rules": [
                {"verbs": ["get"], "apiGroups": [""], "resources": ["pods"], "resourceNames": ["p"]},
                {"verbs": ["get"], "nonResourceURLs": ["/healthz"]}
            ]
        }));
        let got = cluster_role(admin);
        assert!(got.is_aggregated());
        assert_eq!(got.metadata.labels.len(), 1);
        assert_eq!(
            got.rules,
            [
                PolicyRule::resource(&[""], &["pods"], &["get"]).named(&["p"]),
                PolicyRule::urls(&["/healthz"], &["get"])
            ]
        );
        let selectors = &got
            .aggregation_rule
            .as_ref()
            .unwrap()
            .cluster_role_selectors;
        assert_eq!(
            selectors[0].match_labels["rbac.authorization.k8s.io/aggregate-to-admin"],
            "true"
        );
        assert_eq!(selectors[1].match_expressions[0].operator, "Exists");

        let empty: k8s::Role = from_json(serde_json::json!({
            "metadata": {"name": "r", "namespace": "team-a"}, "rules": null
        }));
        assert_eq!(role(empty), Role::namespaced("team-a", "r", vec![]));

        let rb: k8s::RoleBinding = from_json(serde_json::json!({
            "metadata": {"name": "ops-edit", "namespace": "team-a"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "edit"},
            "subjects": [
                {"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "ops"},
                {"kind": "ServiceAccount", "name": "ci", "namespace": "ci"}
            ]
        }));
        let got = binding(
            BindingKind::RoleBinding,
            rb.metadata,
            rb.role_ref,
            rb.subjects,
        )
        .unwrap();
        let mut sa = Subject::user("ci");
        sa.kind = "ServiceAccount".into();
        sa.namespace = Some("ci".into());
        assert_eq!(
            got,
            Binding::namespaced(
                "team-a",
                "ops-edit",
                RoleKind::ClusterRole,
                "edit",
                vec![Subject::user("ops"), sa]
            )
        );
        let odd: k8s::ClusterRoleBinding = from_json(serde_json::json!({
            "metadata": {"name": "odd"},
            "roleRef": {"apiGroup": "x", "kind": "Widget", "name": "w"}
        }));
        assert_eq!(
            binding(BindingKind::ClusterRoleBinding, odd.metadata, odd.role_ref, odd.subjects)
                .unwrap_err(),
            "ClusterRoleBinding odd is left out: its roleRef has kind \"Widget\", neither Role nor ClusterRole"
        );
    }

    #[test]
    fn a_forbidden_list_names_who_was_refused() {
        assert_eq!(
            forbidden_line(
                "roles",
                "roles.rbac.authorization.k8s.io is forbidden: User \"arn:aws:iam::111122223333:user/admin\" cannot list resource \"roles\" in API group \"rbac.authorization.k8s.io\" at the cluster scope"
            ),
            "cannot list roles (forbidden for arn:aws:iam::111122223333:user/admin): grant list on clusterroles, clusterrolebindings, roles and rolebindings to analyse access"
        );
        assert_eq!(
            forbidden_line("clusterroles", "Forbidden"),
            "cannot list clusterroles (forbidden for the kubeconfig's user): grant list on clusterroles, clusterrolebindings, roles and rolebindings to analyse access"
        );
    }
}
