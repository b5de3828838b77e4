//! The EKS restJson1 API: routing of paths to operations and the operations
//! themselves, enforcing the rules of `eks-access-entries.md`.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use crate::arn::{IamPrincipal, PrincipalFormat, PrincipalKind};
use crate::error::ApiError;
use crate::policies::{self, ACCESS_POLICY_NAMES};
use crate::seed::{AccessScope, FargateProfile, NodeGroup};
use crate::state::{
    now, stable_uuid, Association, Cluster, Entry, State, Update, ENTRY_TYPES, MODE_API, MODE_BOTH,
    MODE_CONFIG_MAP, NODE_TYPES,
};

/// The caller as EKS sees it: clusters of (account, region) only.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub account: String,
    pub region: String,
}

/// An EKS operation with its path labels (already percent-decoded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    ListClusters,
    DescribeCluster(String),
    UpdateClusterConfig(String),
    DescribeUpdate(String, String),
    CreateAccessEntry(String),
    ListAccessEntries(String),
    DescribeAccessEntry(String, String),
    UpdateAccessEntry(String, String),
    DeleteAccessEntry(String, String),
    AssociateAccessPolicy(String, String),
    ListAssociatedAccessPolicies(String, String),
    DisassociateAccessPolicy(String, String, String),
    ListAccessPolicies,
    TagResource(String),
    UntagResource(String),
    ListTagsForResource(String),
    ListNodegroups(String),
    DescribeNodegroup(String, String),
    ListFargateProfiles(String),
    DescribeFargateProfile(String, String),
}

impl Route {
    /// The operation name used for counters and faults.
    pub fn operation(&self) -> &'static str {
        match self {
            Route::ListClusters => "ListClusters",
            Route::DescribeCluster(_) => "DescribeCluster",
            Route::UpdateClusterConfig(_) => "UpdateClusterConfig",
            Route::DescribeUpdate(..) => "DescribeUpdate",
            Route::CreateAccessEntry(_) => "CreateAccessEntry",
            Route::ListAccessEntries(_) => "ListAccessEntries",
            Route::DescribeAccessEntry(..) => "DescribeAccessEntry",
            Route::UpdateAccessEntry(..) => "UpdateAccessEntry",
            Route::DeleteAccessEntry(..) => "DeleteAccessEntry",
            Route::AssociateAccessPolicy(..) => "AssociateAccessPolicy",
            Route::ListAssociatedAccessPolicies(..) => "ListAssociatedAccessPolicies",
            Route::DisassociateAccessPolicy(..) => "DisassociateAccessPolicy",
            Route::ListAccessPolicies => "ListAccessPolicies",
            Route::TagResource(_) => "TagResource",
            Route::UntagResource(_) => "UntagResource",
            Route::ListTagsForResource(_) => "ListTagsForResource",
            Route::ListNodegroups(_) => "ListNodegroups",
            Route::DescribeNodegroup(..) => "DescribeNodegroup",
            Route::ListFargateProfiles(_) => "ListFargateProfiles",
            Route::DescribeFargateProfile(..) => "DescribeFargateProfile",
        }
    }

    /// The cluster name the call is about, if any.
    pub fn cluster(&self) -> Option<String> {
        match self {
            Route::ListClusters | Route::ListAccessPolicies => None,
            Route::DescribeCluster(c)
            | Route::UpdateClusterConfig(c)
            | Route::DescribeUpdate(c, _)
            | Route::CreateAccessEntry(c)
            | Route::ListAccessEntries(c)
            | Route::DescribeAccessEntry(c, _)
            | Route::UpdateAccessEntry(c, _)
            | Route::DeleteAccessEntry(c, _)
            | Route::AssociateAccessPolicy(c, _)
            | Route::ListAssociatedAccessPolicies(c, _)
            | Route::DisassociateAccessPolicy(c, _, _)
            | Route::ListNodegroups(c)
            | Route::DescribeNodegroup(c, _)
            | Route::ListFargateProfiles(c)
            | Route::DescribeFargateProfile(c, _) => Some(c.clone()),
            Route::TagResource(arn)
            | Route::UntagResource(arn)
            | Route::ListTagsForResource(arn) => cluster_of_arn(arn),
        }
    }
}

/// `...:cluster/NAME` or `...:access-entry/NAME/...` → NAME.
fn cluster_of_arn(arn: &str) -> Option<String> {
    let resource = arn.splitn(6, ':').nth(5)?;
    let rest = resource
        .strip_prefix("cluster/")
        .or_else(|| resource.strip_prefix("access-entry/"))?;
    rest.split('/').next().map(str::to_string)
}

/// Map method + decoded path segments to an operation.
pub fn route(method: &str, segs: &[String]) -> Option<Route> {
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    match (method, s.as_slice()) {
        ("GET", ["clusters"]) => Some(Route::ListClusters),
        ("GET", ["access-policies"]) => Some(Route::ListAccessPolicies),
        ("GET", ["clusters", c]) => Some(Route::DescribeCluster(c.to_string())),
        ("POST", ["clusters", c, "update-config"]) => {
            Some(Route::UpdateClusterConfig(c.to_string()))
        }
        ("GET", ["clusters", c, "updates", id]) => {
            Some(Route::DescribeUpdate(c.to_string(), id.to_string()))
        }
        ("POST", ["clusters", c, "access-entries"]) => {
            Some(Route::CreateAccessEntry(c.to_string()))
        }
        ("GET", ["clusters", c, "access-entries"]) => Some(Route::ListAccessEntries(c.to_string())),
        ("GET", ["clusters", c, "node-groups"]) => Some(Route::ListNodegroups(c.to_string())),
        ("GET", ["clusters", c, "node-groups", ng]) => {
            Some(Route::DescribeNodegroup(c.to_string(), ng.to_string()))
        }
        ("GET", ["clusters", c, "fargate-profiles"]) => {
            Some(Route::ListFargateProfiles(c.to_string()))
        }
        ("GET", ["clusters", c, "fargate-profiles", fp]) => {
            Some(Route::DescribeFargateProfile(c.to_string(), fp.to_string()))
        }
        (_, ["tags", rest @ ..]) if !rest.is_empty() => {
            let arn = rest.join("/");
            match method {
                "POST" => Some(Route::TagResource(arn)),
                "DELETE" => Some(Route::UntagResource(arn)),
                "GET" => Some(Route::ListTagsForResource(arn)),
                _ => None,
            }
        }
        (_, ["clusters", c, "access-entries", rest @ ..]) if !rest.is_empty() => {
            // Tolerate unencoded slashes in the principal ARN.
            let cluster = c.to_string();
            let split = rest.iter().position(|p| *p == "access-policies");
            match split {
                None => {
                    let principal = rest.join("/");
                    match method {
                        "GET" => Some(Route::DescribeAccessEntry(cluster, principal)),
                        "POST" => Some(Route::UpdateAccessEntry(cluster, principal)),
                        "DELETE" => Some(Route::DeleteAccessEntry(cluster, principal)),
                        _ => None,
                    }
                }
                Some(k) if k > 0 => {
                    let principal = rest[..k].join("/");
                    let policy = rest[k + 1..].join("/");
                    match (method, policy.is_empty()) {
                        ("POST", true) => Some(Route::AssociateAccessPolicy(cluster, principal)),
                        ("GET", true) => {
                            Some(Route::ListAssociatedAccessPolicies(cluster, principal))
                        }
                        ("DELETE", false) => {
                            Some(Route::DisassociateAccessPolicy(cluster, principal, policy))
                        }
                        _ => None,
                    }
                }
                Some(_) => None,
            }
        }
        _ => None,
    }
}

// ---------- texts ----------

pub fn msg_no_cluster(name: &str) -> String {
    format!("No cluster found for name: {name}.")
}
pub const MSG_MODE: &str = "The cluster's authentication mode must be set to one of [API, API_AND_CONFIG_MAP] to perform this operation.";
pub const MSG_IN_USE: &str =
    "The specified access entry resource is already in use on this cluster.";
pub const MSG_BAD_FORMAT: &str = "The principalArn parameter format is not valid";
pub const MSG_INVALID_PRINCIPAL: &str = "The specified principalArn is invalid: invalid principal.";
pub const MSG_SLR: &str = "The caller is not allowed to modify access entries with a principalArn value of a Service Linked Role";
pub const MSG_NO_ENTRY: &str = "The specified principalArn could not be found. You can view your available access entries with 'list-access-entries'.";
pub const MSG_NOT_STANDARD: &str =
    "This operation can only be performed on Access Entries with a type of \"STANDARD\".";
pub fn msg_no_nodegroup(name: &str) -> String {
    format!("No node group found for name: {name}.")
}
pub fn msg_no_fargate_profile(name: &str) -> String {
    format!("No Fargate Profile found with name: {name}.")
}
pub const RESERVED_USERNAME_PREFIXES: &[&str] = &["system:", "eks:", "aws:", "amazon:", "iam:"];

// ---------- request helpers ----------

fn parse_body(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(ApiError::new(
            400,
            "BadRequestException",
            "The request body is not a valid JSON object.",
        )),
    }
}

fn opt_str(m: &Map<String, Value>, key: &str) -> Result<Option<String>, ApiError> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::invalid_parameter(format!(
            "The {key} parameter must be a string."
        ))),
    }
}

fn opt_str_list(m: &Map<String, Value>, key: &str) -> Result<Option<Vec<String>>, ApiError> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str().map(str::to_string).ok_or_else(|| {
                    ApiError::invalid_parameter(format!(
                        "The {key} parameter must be a list of strings."
                    ))
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(ApiError::invalid_parameter(format!(
            "The {key} parameter must be a list of strings."
        ))),
    }
}

fn opt_tags(m: &Map<String, Value>) -> Result<BTreeMap<String, String>, ApiError> {
    match m.get("tags") {
        None | Some(Value::Null) => Ok(BTreeMap::new()),
        Some(Value::Object(t)) => t
            .iter()
            .map(|(k, v)| match v.as_str() {
                Some(s) => Ok((k.clone(), s.to_string())),
                None => Err(ApiError::invalid_parameter("Tag values must be strings.")),
            })
            .collect(),
        Some(_) => Err(ApiError::invalid_parameter(
            "The tags parameter must be a map.",
        )),
    }
}

fn query_get<'a>(query: &'a [(String, String)], key: &str) -> Option<&'a str> {
    query
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// (offset, page size) from `maxResults` (1..=max, default max) and `nextToken`.
fn paging(query: &[(String, String)], max: usize) -> Result<(usize, usize), ApiError> {
    let size = match query_get(query, "maxResults") {
        None => max,
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (1..=max).contains(&n) => n,
            _ => {
                return Err(ApiError::invalid_parameter(format!(
                    "The maxResults parameter must be between 1 and {max}."
                )))
            }
        },
    };
    let offset = match query_get(query, "nextToken") {
        None | Some("") => 0,
        Some(t) => decode_token(t)
            .ok_or_else(|| ApiError::invalid_parameter("The nextToken parameter is not valid."))?,
    };
    Ok((offset, size))
}

fn encode_token(offset: usize) -> String {
    format!("emu-page-{offset:08}")
}

fn decode_token(token: &str) -> Option<usize> {
    token.strip_prefix("emu-page-")?.parse().ok()
}

/// Slice a page and produce the next token.
fn page<T: Clone>(items: &[T], offset: usize, size: usize) -> (Vec<T>, Option<String>) {
    let start = offset.min(items.len());
    let end = start.saturating_add(size).min(items.len());
    let next = (end < items.len()).then(|| encode_token(end));
    (items[start..end].to_vec(), next)
}

fn with_token(mut v: Value, token: Option<String>) -> Value {
    if let (Some(t), Some(m)) = (token, v.as_object_mut()) {
        m.insert("nextToken".into(), Value::String(t));
    }
    v
}

// ---------- rendering ----------

fn entry_json(c: &Cluster, e: &Entry) -> Value {
    json!({
        "clusterName": c.name,
        "principalArn": e.principal_arn,
        "kubernetesGroups": c.effective_groups(e),
        "accessEntryArn": e.access_entry_arn,
        "createdAt": e.created_at,
        "modifiedAt": e.modified_at,
        "tags": e.tags,
        "username": c.effective_username(e),
        "type": e.entry_type,
    })
}

fn scope_json(s: &AccessScope) -> Value {
    if s.scope_type == "namespace" {
        json!({"type": s.scope_type, "namespaces": s.namespaces})
    } else {
        json!({"type": s.scope_type})
    }
}

fn association_json(arn: &str, a: &Association) -> Value {
    json!({
        "policyArn": arn,
        "accessScope": scope_json(&a.scope),
        "associatedAt": a.associated_at,
        "modifiedAt": a.modified_at,
    })
}

fn update_json(u: &Update) -> Value {
    json!({
        "id": u.id,
        "status": u.status,
        "type": u.update_type,
        "params": u.params.iter().map(|(t, v)| json!({"type": t, "value": v})).collect::<Vec<_>>(),
        "createdAt": u.created_at,
        "errors": [],
    })
}

fn cluster_json(c: &Cluster) -> Value {
    json!({
        "name": c.name,
        "arn": c.arn,
        "createdAt": c.created_at,
        "version": c.version,
        "endpoint": c.endpoint,
        "roleArn": format!("arn:{}:iam::{}:role/eks-cluster-role", c.partition, c.account),
        "status": c.status,
        "platformVersion": c.platform_version,
        "tags": c.tags,
        "accessConfig": {
            "authenticationMode": c.authentication_mode,
            "bootstrapClusterCreatorAdminPermissions": c.bootstrap_cluster_creator_admin_permissions,
        },
    })
}

/// The AMI type DescribeNodegroup shows for a seeded node group.
pub fn ami_type(ng: &NodeGroup) -> &'static str {
    if ng.windows {
        "WINDOWS_CORE_2022_x86_64"
    } else {
        "AL2023_x86_64_STANDARD"
    }
}

fn nodegroup_json(c: &Cluster, ng: &NodeGroup) -> Value {
    let arn = format!(
        "arn:{}:eks:{}:{}:nodegroup/{}/{}/{}",
        c.partition,
        c.region,
        c.account,
        c.name,
        ng.name,
        stable_uuid(&format!("nodegroup/{}/{}", c.arn, ng.name))
    );
    let asg = format!(
        "eks-{}-{}",
        ng.name,
        stable_uuid(&format!("asg/{}/{}", c.arn, ng.name))
    );
    json!({
        "nodegroupName": ng.name,
        "nodegroupArn": arn,
        "clusterName": c.name,
        "version": c.version,
        "createdAt": c.created_at,
        "modifiedAt": c.created_at,
        "status": "ACTIVE",
        "capacityType": "ON_DEMAND",
        "scalingConfig": {"minSize": 1, "maxSize": 3, "desiredSize": 2},
        "instanceTypes": [if ng.windows { "m5.large" } else { "t3.medium" }],
        "subnets": [],
        "amiType": ami_type(ng),
        "nodeRole": ng.role_arn,
        "labels": {},
        "resources": {"autoScalingGroups": [{"name": asg}]},
        "diskSize": 20,
        "health": {"issues": []},
        "updateConfig": {"maxUnavailable": 1},
        "tags": {},
    })
}

fn fargate_profile_json(c: &Cluster, fp: &FargateProfile) -> Value {
    let arn = format!(
        "arn:{}:eks:{}:{}:fargateprofile/{}/{}/{}",
        c.partition,
        c.region,
        c.account,
        c.name,
        fp.name,
        stable_uuid(&format!("fargateprofile/{}/{}", c.arn, fp.name))
    );
    json!({
        "fargateProfileName": fp.name,
        "fargateProfileArn": arn,
        "clusterName": c.name,
        "createdAt": c.created_at,
        "podExecutionRoleArn": fp.pod_execution_role_arn,
        "subnets": [],
        "selectors": [{"namespace": "default"}],
        "status": "ACTIVE",
        "tags": {},
        "health": {"issues": []},
    })
}

// ---------- validation (pure) ----------

/// Validate a kubernetes group list.
pub fn validate_groups(groups: &[String]) -> Result<(), ApiError> {
    for g in groups {
        if g.starts_with("system:") {
            return Err(ApiError::invalid_parameter(format!(
                "The kubernetes group name {g} is invalid, it cannot start with system:"
            )));
        }
    }
    Ok(())
}

/// Validate a username: reserved prefixes, and `:` before a session template.
pub fn validate_username(username: &str) -> Result<(), ApiError> {
    for prefix in RESERVED_USERNAME_PREFIXES {
        if username.starts_with(prefix) {
            return Err(ApiError::invalid_parameter(format!(
                "The username must not begin with {prefix}"
            )));
        }
    }
    for template in ["{{SessionName}}", "{{SessionNameRaw}}"] {
        let mut from = 0;
        while let Some(i) = username[from..].find(template) {
            let at = from + i;
            if !username[..at].contains(':') {
                return Err(ApiError::invalid_parameter(format!(
                    "The username {username} is invalid: {template} must be preceded by a ':'."
                )));
            }
            from = at + template.len();
        }
    }
    Ok(())
}

/// Validate a principal ARN's shape (before the IAM lookup).
pub fn validate_principal_format(principal: &str) -> Result<IamPrincipal, ApiError> {
    IamPrincipal::parse(principal).map_err(|e| match e {
        PrincipalFormat::Invalid => ApiError::invalid_parameter(MSG_BAD_FORMAT),
        PrincipalFormat::ServiceLinked => ApiError::invalid_parameter(MSG_SLR),
    })
}

/// Validate groups/username/principal for an entry type; returns the principal.
pub fn validate_type_fields(
    entry_type: &str,
    principal: &IamPrincipal,
    cluster_account: &str,
    groups: &[String],
    username: Option<&str>,
) -> Result<(), ApiError> {
    if NODE_TYPES.contains(&entry_type) {
        if !groups.is_empty() {
            return Err(ApiError::invalid_parameter(format!(
                "Kubernetes groups cannot be specified for access entries of type {entry_type}."
            )));
        }
        if username.is_some() {
            return Err(ApiError::invalid_parameter(format!(
                "A username cannot be specified for access entries of type {entry_type}."
            )));
        }
        if principal.kind != PrincipalKind::Role {
            return Err(ApiError::invalid_parameter(format!(
                "Access entries of type {entry_type} require an IAM role principalArn."
            )));
        }
        if principal.account != cluster_account {
            return Err(ApiError::invalid_parameter(format!(
                "The principalArn of an access entry of type {entry_type} must belong to the cluster's account {cluster_account}."
            )));
        }
        return Ok(());
    }
    validate_groups(groups)?;
    if let Some(u) = username {
        validate_username(u)?;
    }
    Ok(())
}

fn validate_scope(m: &Map<String, Value>) -> Result<AccessScope, ApiError> {
    let Some(Value::Object(scope)) = m.get("accessScope") else {
        return Err(ApiError::invalid_parameter(
            "The accessScope parameter is required.",
        ));
    };
    let scope_type = opt_str(scope, "type")?.unwrap_or_default();
    let namespaces = opt_str_list(scope, "namespaces")?.unwrap_or_default();
    match scope_type.as_str() {
        "cluster" if namespaces.is_empty() => Ok(AccessScope {
            scope_type,
            namespaces,
        }),
        "cluster" => Err(ApiError::invalid_parameter(
            "Namespaces cannot be specified when the access scope type is cluster.",
        )),
        "namespace" if namespaces.is_empty() || namespaces.iter().any(String::is_empty) => {
            Err(ApiError::invalid_parameter(
                "At least one namespace must be specified when the access scope type is namespace.",
            ))
        }
        "namespace" => Ok(AccessScope {
            scope_type,
            namespaces,
        }),
        other => Err(ApiError::invalid_parameter(format!(
            "The access scope type {other} is not valid. Valid values: cluster, namespace."
        ))),
    }
}

// ---------- dispatch ----------

fn cluster_idx(state: &State, ctx: &Ctx, name: &str) -> Result<usize, ApiError> {
    state
        .find_cluster(&ctx.account, &ctx.region, name)
        .ok_or_else(|| ApiError::not_found(msg_no_cluster(name)))
}

/// A cluster that allows access-entry calls.
fn entry_cluster(state: &State, ctx: &Ctx, name: &str) -> Result<usize, ApiError> {
    let idx = cluster_idx(state, ctx, name)?;
    if state.clusters[idx].authentication_mode == MODE_CONFIG_MAP {
        return Err(ApiError::invalid_request(MSG_MODE));
    }
    Ok(idx)
}

fn entry<'a>(c: &'a Cluster, principal: &str) -> Result<&'a Entry, ApiError> {
    c.access_entries
        .get(principal)
        .ok_or_else(|| ApiError::not_found(MSG_NO_ENTRY))
}

/// Handle one EKS call; returns the JSON body of the 200 answer.
pub fn handle(
    state: &mut State,
    ctx: &Ctx,
    route: &Route,
    query: &[(String, String)],
    body: &[u8],
) -> Result<Value, ApiError> {
    state.tick(now());
    match route {
        Route::ListClusters => {
            let names: Vec<String> = state
                .clusters
                .iter()
                .filter(|c| c.account == ctx.account && c.region == ctx.region)
                .map(|c| c.name.clone())
                .collect();
            let (offset, size) = paging(query, 100)?;
            let (items, next) = page(&names, offset, size);
            Ok(with_token(json!({"clusters": items}), next))
        }
        Route::DescribeCluster(name) => {
            let idx = cluster_idx(state, ctx, name)?;
            Ok(json!({"cluster": cluster_json(&state.clusters[idx])}))
        }
        Route::UpdateClusterConfig(name) => update_cluster_config(state, ctx, name, body),
        Route::DescribeUpdate(name, id) => {
            let idx = cluster_idx(state, ctx, name)?;
            let u = state.clusters[idx]
                .updates
                .iter()
                .find(|u| &u.id == id)
                .ok_or_else(|| ApiError::not_found(format!("No update found for ID: {id}.")))?;
            Ok(json!({"update": update_json(u)}))
        }
        Route::CreateAccessEntry(name) => create_access_entry(state, ctx, name, body),
        Route::ListAccessEntries(name) => {
            let idx = entry_cluster(state, ctx, name)?;
            let c = &state.clusters[idx];
            let filter = query_get(query, "associatedPolicyArn");
            let arns: Vec<String> = c
                .access_entries
                .values()
                .filter(|e| filter.is_none_or(|p| e.policies.contains_key(p)))
                .map(|e| e.principal_arn.clone())
                .collect();
            let (offset, size) = paging(query, 100)?;
            let (items, next) = page(&arns, offset, size);
            Ok(with_token(json!({"accessEntries": items}), next))
        }
        Route::DescribeAccessEntry(name, principal) => {
            let idx = entry_cluster(state, ctx, name)?;
            let c = &state.clusters[idx];
            Ok(json!({"accessEntry": entry_json(c, entry(c, principal)?)}))
        }
        Route::UpdateAccessEntry(name, principal) => {
            update_access_entry(state, ctx, name, principal, body)
        }
        Route::DeleteAccessEntry(name, principal) => {
            let idx = entry_cluster(state, ctx, name)?;
            let c = &mut state.clusters[idx];
            c.access_entries
                .remove(principal.as_str())
                .ok_or_else(|| ApiError::not_found(MSG_NO_ENTRY))?;
            Ok(json!({}))
        }
        Route::AssociateAccessPolicy(name, principal) => {
            let idx = entry_cluster(state, ctx, name)?;
            let m = parse_body(body)?;
            let partition = state.clusters[idx].partition.clone();
            let c = &mut state.clusters[idx];
            let e = c
                .access_entries
                .get_mut(principal.as_str())
                .ok_or_else(|| ApiError::not_found(MSG_NO_ENTRY))?;
            if NODE_TYPES.contains(&e.entry_type.as_str()) {
                return Err(ApiError::invalid_parameter(MSG_NOT_STANDARD));
            }
            let policy = opt_str(&m, "policyArn")?.ok_or_else(|| {
                ApiError::invalid_parameter("The policyArn parameter is required.")
            })?;
            if !policies::is_known_policy(&partition, &policy) {
                return Err(ApiError::invalid_parameter(format!(
                    "The specified policyArn is invalid: {policy} is not an access policy."
                )));
            }
            let scope = validate_scope(&m)?;
            let t = now();
            let assoc = e
                .policies
                .entry(policy.clone())
                .and_modify(|a| {
                    a.scope = scope.clone();
                    a.modified_at = t;
                })
                .or_insert(Association {
                    scope: scope.clone(),
                    associated_at: t,
                    modified_at: t,
                })
                .clone();
            Ok(json!({
                "clusterName": c.name,
                "principalArn": principal,
                "associatedAccessPolicy": association_json(&policy, &assoc),
            }))
        }
        Route::ListAssociatedAccessPolicies(name, principal) => {
            let idx = entry_cluster(state, ctx, name)?;
            let c = &state.clusters[idx];
            let e = entry(c, principal)?;
            let all: Vec<Value> = e
                .policies
                .iter()
                .map(|(arn, a)| association_json(arn, a))
                .collect();
            let (offset, size) = paging(query, 100)?;
            let (items, next) = page(&all, offset, size);
            Ok(with_token(
                json!({
                    "clusterName": c.name,
                    "principalArn": principal,
                    "associatedAccessPolicies": items,
                }),
                next,
            ))
        }
        Route::DisassociateAccessPolicy(name, principal, policy) => {
            let idx = entry_cluster(state, ctx, name)?;
            let e = state.clusters[idx]
                .access_entries
                .get_mut(principal.as_str())
                .ok_or_else(|| ApiError::not_found(MSG_NO_ENTRY))?;
            if NODE_TYPES.contains(&e.entry_type.as_str()) {
                return Err(ApiError::invalid_parameter(MSG_NOT_STANDARD));
            }
            e.policies.remove(policy.as_str()).ok_or_else(|| {
                ApiError::not_found(format!(
                    "The access policy {policy} is not associated with the specified principalArn."
                ))
            })?;
            Ok(json!({}))
        }
        Route::ListAccessPolicies => {
            let partition = state.partition_of(&ctx.account);
            let all: Vec<Value> = ACCESS_POLICY_NAMES
                .iter()
                .map(|n| json!({"name": n, "arn": policies::policy_arn(&partition, n)}))
                .collect();
            let (offset, size) = paging(query, 100)?;
            let (items, next) = page(&all, offset, size);
            Ok(with_token(json!({"accessPolicies": items}), next))
        }
        Route::TagResource(arn) => {
            let m = parse_body(body)?;
            let tags = opt_tags(&m)?;
            let target = tags_of(state, ctx, arn)?;
            target.extend(tags);
            Ok(json!({}))
        }
        Route::UntagResource(arn) => {
            let keys: Vec<String> = query
                .iter()
                .filter(|(k, _)| k == "tagKeys")
                .map(|(_, v)| v.clone())
                .collect();
            let target = tags_of(state, ctx, arn)?;
            for k in keys {
                target.remove(&k);
            }
            Ok(json!({}))
        }
        Route::ListTagsForResource(arn) => {
            let target = tags_of(state, ctx, arn)?;
            Ok(json!({"tags": target.clone()}))
        }
        Route::ListNodegroups(name) => {
            let idx = cluster_idx(state, ctx, name)?;
            let names: Vec<String> = state.clusters[idx]
                .managed_node_groups
                .iter()
                .map(|ng| ng.name.clone())
                .collect();
            let (offset, size) = paging(query, 100)?;
            let (items, next) = page(&names, offset, size);
            Ok(with_token(json!({"nodegroups": items}), next))
        }
        Route::DescribeNodegroup(name, ng) => {
            let idx = cluster_idx(state, ctx, name)?;
            let c = &state.clusters[idx];
            let found = c
                .managed_node_groups
                .iter()
                .find(|n| &n.name == ng)
                .ok_or_else(|| ApiError::not_found(msg_no_nodegroup(ng)))?;
            Ok(json!({"nodegroup": nodegroup_json(c, found)}))
        }
        Route::ListFargateProfiles(name) => {
            let idx = cluster_idx(state, ctx, name)?;
            let names: Vec<String> = state.clusters[idx]
                .fargate_profiles
                .iter()
                .map(|fp| fp.name.clone())
                .collect();
            let (offset, size) = paging(query, 100)?;
            let (items, next) = page(&names, offset, size);
            Ok(with_token(json!({"fargateProfileNames": items}), next))
        }
        Route::DescribeFargateProfile(name, fp) => {
            let idx = cluster_idx(state, ctx, name)?;
            let c = &state.clusters[idx];
            let found = c
                .fargate_profiles
                .iter()
                .find(|p| &p.name == fp)
                .ok_or_else(|| ApiError::not_found(msg_no_fargate_profile(fp)))?;
            Ok(json!({"fargateProfile": fargate_profile_json(c, found)}))
        }
    }
}

fn tags_of<'a>(
    state: &'a mut State,
    ctx: &Ctx,
    arn: &str,
) -> Result<&'a mut BTreeMap<String, String>, ApiError> {
    let not_found = || {
        ApiError::new(
            404,
            "NotFoundException",
            format!("Resource not found: {arn}"),
        )
    };
    let name = cluster_of_arn(arn).ok_or_else(not_found)?;
    let idx = state
        .find_cluster(&ctx.account, &ctx.region, &name)
        .ok_or_else(not_found)?;
    let c = &mut state.clusters[idx];
    if c.arn == arn {
        return Ok(&mut c.tags);
    }
    c.access_entries
        .values_mut()
        .find(|e| e.access_entry_arn == arn)
        .map(|e| &mut e.tags)
        .ok_or_else(not_found)
}

fn update_cluster_config(
    state: &mut State,
    ctx: &Ctx,
    name: &str,
    body: &[u8],
) -> Result<Value, ApiError> {
    let idx = cluster_idx(state, ctx, name)?;
    let m = parse_body(body)?;
    let target = match m.get("accessConfig") {
        Some(Value::Object(ac)) => opt_str(ac, "authenticationMode")?,
        _ => None,
    };
    let Some(target) = target else {
        return Err(ApiError::invalid_request(
            "The emulator only supports UpdateClusterConfig with accessConfig.authenticationMode.",
        ));
    };
    let duration = state.update_duration_ms;
    let id = state.next_uuid();
    let c = &mut state.clusters[idx];
    if let Some(u) = c.update_in_progress() {
        return Err(ApiError::in_use(format!(
            "Cannot AccessConfigUpdate because cluster {} currently has update {} in progress",
            c.name, u.id
        )));
    }
    let from = c.authentication_mode.clone();
    let allowed = matches!(
        (from.as_str(), target.as_str()),
        (MODE_CONFIG_MAP, MODE_BOTH) | (MODE_BOTH, MODE_API)
    );
    if !allowed {
        return Err(ApiError::invalid_parameter(format!(
            "Unsupported authentication mode update from {from} to {target}"
        )));
    }
    let t = now();
    let update = Update {
        id,
        status: "InProgress".into(),
        update_type: "AccessConfigUpdate".into(),
        params: vec![("AuthenticationMode".into(), target.clone())],
        created_at: t,
        finish_at: t + duration as f64 / 1000.0,
        target_mode: target,
    };
    let out = json!({"update": update_json(&update)});
    c.updates.push(update);
    c.status = "UPDATING".into();
    Ok(out)
}

fn create_access_entry(
    state: &mut State,
    ctx: &Ctx,
    name: &str,
    body: &[u8],
) -> Result<Value, ApiError> {
    let idx = entry_cluster(state, ctx, name)?;
    let m = parse_body(body)?;
    let principal_arn = opt_str(&m, "principalArn")?
        .ok_or_else(|| ApiError::invalid_parameter("The principalArn parameter is required."))?;
    let principal = validate_principal_format(&principal_arn)?;
    let entry_type = opt_str(&m, "type")?.unwrap_or_else(|| "STANDARD".into());
    if !ENTRY_TYPES.contains(&entry_type.as_str()) {
        return Err(ApiError::invalid_parameter(format!(
            "The type parameter value {entry_type} is not valid. Valid values: {}.",
            ENTRY_TYPES.join(", ")
        )));
    }
    let groups = opt_str_list(&m, "kubernetesGroups")?.unwrap_or_default();
    let username = opt_str(&m, "username")?;
    let token = opt_str(&m, "clientRequestToken")?;
    let tags = opt_tags(&m)?;
    let cluster_account = state.clusters[idx].account.clone();
    validate_type_fields(
        &entry_type,
        &principal,
        &cluster_account,
        &groups,
        username.as_deref(),
    )?;
    if !state.principal_exists(&principal) {
        return Err(ApiError::invalid_parameter(MSG_INVALID_PRINCIPAL));
    }
    if let Some(existing) = state.clusters[idx].access_entries.get(&principal_arn) {
        if token.is_some() && existing.client_request_token == token {
            let c = &state.clusters[idx];
            return Ok(json!({"accessEntry": entry_json(c, existing)}));
        }
        return Err(ApiError::in_use(MSG_IN_USE));
    }
    let arn = state.entry_arn(idx, &principal_arn);
    let t = now();
    let e = Entry {
        principal_arn: principal_arn.clone(),
        entry_type,
        username,
        kubernetes_groups: groups,
        access_entry_arn: arn,
        created_at: t,
        modified_at: t,
        tags,
        policies: BTreeMap::new(),
        client_request_token: token,
        created_by_eks: false,
    };
    let c = &mut state.clusters[idx];
    let out = json!({"accessEntry": entry_json(c, &e)});
    c.access_entries.insert(principal_arn, e);
    Ok(out)
}

fn update_access_entry(
    state: &mut State,
    ctx: &Ctx,
    name: &str,
    principal_arn: &str,
    body: &[u8],
) -> Result<Value, ApiError> {
    let idx = entry_cluster(state, ctx, name)?;
    let m = parse_body(body)?;
    let groups = opt_str_list(&m, "kubernetesGroups")?.unwrap_or_default();
    let username = opt_str(&m, "username")?;
    let c = &mut state.clusters[idx];
    let cluster_account = c.account.clone();
    let e = c
        .access_entries
        .get_mut(principal_arn)
        .ok_or_else(|| ApiError::not_found(MSG_NO_ENTRY))?;
    if let Ok(principal) = IamPrincipal::parse(principal_arn) {
        validate_type_fields(
            &e.entry_type,
            &principal,
            &cluster_account,
            &groups,
            username.as_deref(),
        )?;
    } else {
        validate_groups(&groups)?;
        if let Some(u) = &username {
            validate_username(u)?;
        }
    }
    // Omitted fields are reset to EKS's defaults.
    e.kubernetes_groups = groups;
    e.username = username;
    e.modified_at = now();
    let e = e.clone();
    Ok(json!({"accessEntry": entry_json(&state.clusters[idx], &e)}))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::{self, Seed};

    const A: &str = "111122223333";

    fn world(mode: &str) -> State {
        let seed = Seed::default()
            .with_caller("AKID", A, "arn:aws:iam::111122223333:user/admin")
            .with_role(A, "/", "dev")
            .with_role(A, "/sso/", "Admin")
            .with_role("444455556666", "/", "other")
            .with_user(A, "/", "bob")
            .with_cluster(seed::Cluster::new("c1", A, "us-east-1").mode(mode));
        State::from_seed(&seed, "http://127.0.0.1:1").expect("seed")
    }

    fn ctx() -> Ctx {
        Ctx {
            account: A.into(),
            region: "us-east-1".into(),
        }
    }

    fn call(s: &mut State, method: &str, path: &str, body: &str) -> Result<Value, ApiError> {
        let segs: Vec<String> = path
            .trim_start_matches('/')
            .split('/')
            .map(|p| {
                percent_encoding::percent_decode_str(p)
                    .decode_utf8_lossy()
                    .into_owned()
            })
            .collect();
        let r = route(method, &segs).expect("route");
        handle(s, &ctx(), &r, &[], body.as_bytes())
    }

    fn enc(s: &str) -> String {
        percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
    }

    #[test]
    fn routes_decoded_labels() {
        let segs: Vec<String> = [
            "clusters",
            "c",
            "access-entries",
            "arn:aws:iam::1:role/a/b",
            "access-policies",
            "arn:x/y",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(
            route("DELETE", &segs),
            Some(Route::DisassociateAccessPolicy(
                "c".into(),
                "arn:aws:iam::1:role/a/b".into(),
                "arn:x/y".into()
            ))
        );
    }

    #[test]
    fn config_map_mode_refuses_entry_calls() {
        let mut s = world(MODE_CONFIG_MAP);
        let e = call(&mut s, "GET", "/clusters/c1/access-entries", "").unwrap_err();
        assert_eq!(
            (e.status, e.code.as_str(), e.message.as_str()),
            (400, "InvalidRequestException", MSG_MODE)
        );
    }

    #[test]
    fn create_rules() {
        let mut s = world(MODE_BOTH);
        let p = "/clusters/c1/access-entries";
        let cases = [
            (r#"{"principalArn":"arn:aws:sts::111122223333:assumed-role/dev/x"}"#, MSG_BAD_FORMAT.to_string()),
            (r#"{"principalArn":"arn:aws:iam::111122223333:role/aws-service-role/emr.amazonaws.com/x"}"#, MSG_SLR.to_string()),
            (r#"{"principalArn":"arn:aws:iam::111122223333:role/Admin"}"#, MSG_INVALID_PRINCIPAL.to_string()),
            (r#"{"principalArn":"arn:aws:iam::111122223333:role/dev","kubernetesGroups":["system:masters"]}"#,
             "The kubernetes group name system:masters is invalid, it cannot start with system:".to_string()),
            (r#"{"principalArn":"arn:aws:iam::111122223333:role/dev","username":"eks:x"}"#, "The username must not begin with eks:".to_string()),
            (r#"{"principalArn":"arn:aws:iam::111122223333:role/dev","username":"john{{SessionName}}"}"#,
             "The username john{{SessionName}} is invalid: {{SessionName}} must be preceded by a ':'.".to_string()),
            (r#"{"principalArn":"arn:aws:iam::111122223333:role/dev","type":"EC2_LINUX","kubernetesGroups":["a"]}"#,
             "Kubernetes groups cannot be specified for access entries of type EC2_LINUX.".to_string()),
            (r#"{"principalArn":"arn:aws:iam::444455556666:role/other","type":"FARGATE_LINUX"}"#,
             "The principalArn of an access entry of type FARGATE_LINUX must belong to the cluster's account 111122223333.".to_string()),
        ];
        for (body, msg) in cases {
            let e = call(&mut s, "POST", p, body).unwrap_err();
            assert_eq!(
                (e.status, e.code.as_str()),
                (400, "InvalidParameterException"),
                "{body}"
            );
            assert_eq!(e.message, msg, "{body}");
        }
        let ok = call(&mut s, "POST", p, r#"{"principalArn":"arn:aws:iam::111122223333:role/sso/admin","username":"jo:hn{{SessionName}}","clientRequestToken":"t1"}"#).expect("create");
        assert_eq!(ok["accessEntry"]["username"], "jo:hn{{SessionName}}");
        let again = call(&mut s, "POST", p, r#"{"principalArn":"arn:aws:iam::111122223333:role/sso/admin","clientRequestToken":"t1"}"#).expect("idempotent");
        assert_eq!(
            again["accessEntry"]["accessEntryArn"],
            ok["accessEntry"]["accessEntryArn"]
        );
        let dup = call(&mut s, "POST", p, r#"{"principalArn":"arn:aws:iam::111122223333:role/sso/admin","clientRequestToken":"t2"}"#).unwrap_err();
        assert_eq!((dup.status, dup.message.as_str()), (409, MSG_IN_USE));
    }

    #[test]
    fn update_resets_omitted_fields_and_node_entries_refuse_policies() {
        let mut s = world(MODE_API);
        let role = "arn:aws:iam::111122223333:role/dev";
        call(
            &mut s,
            "POST",
            "/clusters/c1/access-entries",
            &format!(r#"{{"principalArn":"{role}","username":"dev","kubernetesGroups":["g"]}}"#),
        )
        .expect("create");
        let u = call(
            &mut s,
            "POST",
            &format!("/clusters/c1/access-entries/{}", enc(role)),
            "{}",
        )
        .expect("update");
        assert_eq!(u["accessEntry"]["kubernetesGroups"], json!([]));
        assert_eq!(
            u["accessEntry"]["username"],
            "arn:aws:sts::111122223333:assumed-role/dev/{{SessionName}}"
        );
        call(
            &mut s,
            "DELETE",
            &format!("/clusters/c1/access-entries/{}", enc(role)),
            "",
        )
        .expect("delete");
        call(
            &mut s,
            "POST",
            "/clusters/c1/access-entries",
            &format!(r#"{{"principalArn":"{role}","type":"EC2_LINUX"}}"#),
        )
        .expect("node");
        let e = call(&mut s, "POST", &format!("/clusters/c1/access-entries/{}/access-policies", enc(role)),
            r#"{"policyArn":"arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy","accessScope":{"type":"cluster"}}"#).unwrap_err();
        assert_eq!(e.message, MSG_NOT_STANDARD);
    }

    #[test]
    fn mode_changes_are_forward_one_step() {
        let mut s = world(MODE_CONFIG_MAP);
        let e = call(
            &mut s,
            "POST",
            "/clusters/c1/update-config",
            r#"{"accessConfig":{"authenticationMode":"API"}}"#,
        )
        .unwrap_err();
        assert_eq!(
            e.message,
            "Unsupported authentication mode update from CONFIG_MAP to API"
        );
        let ok = call(
            &mut s,
            "POST",
            "/clusters/c1/update-config",
            r#"{"accessConfig":{"authenticationMode":"API_AND_CONFIG_MAP"}}"#,
        )
        .expect("update");
        assert_eq!(ok["update"]["status"], "InProgress");
        let busy = call(
            &mut s,
            "POST",
            "/clusters/c1/update-config",
            r#"{"accessConfig":{"authenticationMode":"API_AND_CONFIG_MAP"}}"#,
        )
        .unwrap_err();
        assert_eq!(busy.status, 409);
        assert_eq!(
            busy.message,
            format!(
                "Cannot AccessConfigUpdate because cluster c1 currently has update {} in progress",
                ok["update"]["id"].as_str().unwrap_or("")
            )
        );
    }

    #[test]
    fn node_groups_and_fargate_profiles_come_from_the_seed() {
        let seed = Seed::default()
            .with_caller("AKID", A, "arn:aws:iam::111122223333:user/admin")
            .with_cluster(
                seed::Cluster::new("c1", A, "us-east-1")
                    .node_group("lin", "arn:aws:iam::111122223333:role/node", false)
                    .node_group("win", "arn:aws:iam::111122223333:role/winnode", true)
                    .node_group("gpu", "arn:aws:iam::111122223333:role/gpu", false)
                    .fargate_profile("fp", "arn:aws:iam::111122223333:role/fargate"),
            );
        let mut s = State::from_seed(&seed, "http://127.0.0.1:1").expect("seed");
        let segs = |p: &str| p.split('/').map(str::to_string).collect::<Vec<_>>();
        assert_eq!(
            route("GET", &segs("clusters/c1/node-groups/win")),
            Some(Route::DescribeNodegroup("c1".into(), "win".into()))
        );
        assert_eq!(
            route("GET", &segs("clusters/c1/fargate-profiles")).map(|r| r.operation()),
            Some("ListFargateProfiles")
        );
        assert_eq!(route("POST", &segs("clusters/c1/node-groups")), None);

        let mut q = vec![("maxResults".to_string(), "2".to_string())];
        let first =
            handle(&mut s, &ctx(), &Route::ListNodegroups("c1".into()), &q, b"").expect("page 1");
        assert_eq!(first["nodegroups"], json!(["lin", "win"]));
        let token = first["nextToken"].as_str().expect("token").to_string();
        q.push(("nextToken".into(), token));
        let second =
            handle(&mut s, &ctx(), &Route::ListNodegroups("c1".into()), &q, b"").expect("page 2");
        assert_eq!(second, json!({"nodegroups": ["gpu"]}));

        let win = call(&mut s, "GET", "/clusters/c1/node-groups/win", "").expect("win");
        let ng = &win["nodegroup"];
        assert_eq!(ng["amiType"], "WINDOWS_CORE_2022_x86_64");
        assert_eq!(ng["nodeRole"], "arn:aws:iam::111122223333:role/winnode");
        assert_eq!(ng["status"], "ACTIVE");
        assert_eq!(ng["clusterName"], "c1");
        let arn = ng["nodegroupArn"].as_str().unwrap_or_default();
        assert!(
            arn.starts_with("arn:aws:eks:us-east-1:111122223333:nodegroup/c1/win/"),
            "{arn}"
        );
        let again = call(&mut s, "GET", "/clusters/c1/node-groups/win", "").expect("again");
        assert_eq!(again["nodegroup"]["nodegroupArn"], ng["nodegroupArn"]);
        let lin = call(&mut s, "GET", "/clusters/c1/node-groups/lin", "").expect("lin");
        assert_eq!(lin["nodegroup"]["amiType"], "AL2023_x86_64_STANDARD");

        let fp = call(&mut s, "GET", "/clusters/c1/fargate-profiles/fp", "").expect("fp");
        assert_eq!(
            fp["fargateProfile"]["podExecutionRoleArn"],
            "arn:aws:iam::111122223333:role/fargate"
        );
        assert_eq!(fp["fargateProfile"]["status"], "ACTIVE");

        for (path, msg) in [
            (
                "/clusters/c1/node-groups/nope",
                "No node group found for name: nope.",
            ),
            (
                "/clusters/c1/fargate-profiles/nope",
                "No Fargate Profile found with name: nope.",
            ),
            ("/clusters/zz/node-groups", "No cluster found for name: zz."),
            (
                "/clusters/zz/fargate-profiles/fp",
                "No cluster found for name: zz.",
            ),
        ] {
            let e = call(&mut s, "GET", path, "").unwrap_err();
            assert_eq!(
                (e.status, e.code.as_str(), e.message.as_str()),
                (404, "ResourceNotFoundException", msg),
                "{path}"
            );
        }
    }

    #[test]
    fn username_validation_table() {
        for ok in [
            "a",
            "jo:hn{{SessionName}}",
            "x:{{SessionNameRaw}}",
            "admin:{{SessionName}}:{{SessionName}}",
        ] {
            assert!(validate_username(ok).is_ok(), "{ok}");
        }
        for bad in [
            "system:x",
            "aws:x",
            "amazon:x",
            "iam:x",
            "{{SessionName}}",
            "a{{SessionNameRaw}}",
        ] {
            assert!(validate_username(bad).is_err(), "{bad}");
        }
    }
}
