//! Access entries: Create/List/Describe/Update/DeleteAccessEntry, and the
//! rules an entry's principal, type, groups and username must follow.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::request::{
    opt_str, opt_str_list, opt_tags, page, paging, parse_body, query_get, with_token,
};
use super::{entry_cluster, Ctx};
use crate::arn::{IamPrincipal, PrincipalFormat, PrincipalKind};
use crate::error::ApiError;
use crate::state::{now, Cluster, Entry, State, ENTRY_TYPES, NODE_TYPES};

pub(super) const MSG_IN_USE: &str =
    "The specified access entry resource is already in use on this cluster.";
pub(super) const MSG_BAD_FORMAT: &str = "The principalArn parameter format is not valid";
pub(super) const MSG_INVALID_PRINCIPAL: &str =
    "The specified principalArn is invalid: invalid principal.";
pub(super) const MSG_SLR: &str = "The caller is not allowed to modify access entries with a principalArn value of a Service Linked Role";
pub(super) const MSG_NO_ENTRY: &str = "The specified principalArn could not be found. You can view your available access entries with 'list-access-entries'.";
pub(super) const RESERVED_USERNAME_PREFIXES: &[&str] =
    &["system:", "eks:", "aws:", "amazon:", "iam:"];

pub(super) fn entry_json(c: &Cluster, e: &Entry) -> Value {
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

/// Validate a kubernetes group list.
pub(super) fn validate_groups(groups: &[String]) -> Result<(), ApiError> {
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
pub(super) fn validate_username(username: &str) -> Result<(), ApiError> {
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
pub(super) fn validate_principal_format(principal: &str) -> Result<IamPrincipal, ApiError> {
    IamPrincipal::parse(principal).map_err(|e| match e {
        PrincipalFormat::Invalid => ApiError::invalid_parameter(MSG_BAD_FORMAT),
        PrincipalFormat::ServiceLinked => ApiError::invalid_parameter(MSG_SLR),
    })
}

/// Validate groups/username/principal for an entry type; returns the principal.
pub(super) fn validate_type_fields(
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

pub(super) fn entry<'a>(c: &'a Cluster, principal: &str) -> Result<&'a Entry, ApiError> {
    c.access_entries
        .get(principal)
        .ok_or_else(|| ApiError::not_found(MSG_NO_ENTRY))
}

/// `CreateAccessEntry`, checking in the order of docs/emulator.md.
pub(super) fn create_access_entry(
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

/// `ListAccessEntries` (optionally only those with `associatedPolicyArn`).
pub(super) fn list_access_entries(
    state: &State,
    ctx: &Ctx,
    name: &str,
    query: &[(String, String)],
) -> Result<Value, ApiError> {
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

/// `DescribeAccessEntry`.
pub(super) fn describe_access_entry(
    state: &State,
    ctx: &Ctx,
    name: &str,
    principal: &str,
) -> Result<Value, ApiError> {
    let idx = entry_cluster(state, ctx, name)?;
    let c = &state.clusters[idx];
    Ok(json!({"accessEntry": entry_json(c, entry(c, principal)?)}))
}

/// `UpdateAccessEntry`: omitted fields go back to EKS's defaults.
pub(super) fn update_access_entry(
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

/// `DeleteAccessEntry`.
pub(super) fn delete_access_entry(
    state: &mut State,
    ctx: &Ctx,
    name: &str,
    principal: &str,
) -> Result<Value, ApiError> {
    let idx = entry_cluster(state, ctx, name)?;
    let c = &mut state.clusters[idx];
    c.access_entries
        .remove(principal)
        .ok_or_else(|| ApiError::not_found(MSG_NO_ENTRY))?;
    Ok(json!({}))
}
