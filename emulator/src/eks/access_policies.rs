//! Access policies: the list EKS offers (`ListAccessPolicies`) and their
//! associations with entries (Associate/Disassociate/ListAssociatedAccessPolicies).

use serde_json::{json, Map, Value};

use super::access_entries::{entry, MSG_NO_ENTRY};
use super::request::{opt_str, opt_str_list, page, paging, parse_body, with_token};
use super::{entry_cluster, Ctx};
use crate::error::ApiError;
use crate::policies::{self, ACCESS_POLICY_NAMES};
use crate::seed::AccessScope;
use crate::state::{now, Association, State, NODE_TYPES};

pub(super) const MSG_NOT_STANDARD: &str =
    "This operation can only be performed on Access Entries with a type of \"STANDARD\".";

pub(super) fn scope_json(s: &AccessScope) -> Value {
    if s.scope_type == "namespace" {
        json!({"type": s.scope_type, "namespaces": s.namespaces})
    } else {
        json!({"type": s.scope_type})
    }
}

pub(super) fn association_json(arn: &str, a: &Association) -> Value {
    json!({
        "policyArn": arn,
        "accessScope": scope_json(&a.scope),
        "associatedAt": a.associated_at,
        "modifiedAt": a.modified_at,
    })
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

/// `AssociateAccessPolicy` (an upsert) on a STANDARD entry.
pub(super) fn associate_access_policy(
    state: &mut State,
    ctx: &Ctx,
    name: &str,
    principal: &str,
    body: &[u8],
) -> Result<Value, ApiError> {
    let idx = entry_cluster(state, ctx, name)?;
    let m = parse_body(body)?;
    let partition = state.clusters[idx].partition.clone();
    let c = &mut state.clusters[idx];
    let e = c
        .access_entries
        .get_mut(principal)
        .ok_or_else(|| ApiError::not_found(MSG_NO_ENTRY))?;
    if NODE_TYPES.contains(&e.entry_type.as_str()) {
        return Err(ApiError::invalid_parameter(MSG_NOT_STANDARD));
    }
    let policy = opt_str(&m, "policyArn")?
        .ok_or_else(|| ApiError::invalid_parameter("The policyArn parameter is required."))?;
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

/// `ListAssociatedAccessPolicies` (allowed on node types: their list is empty).
pub(super) fn list_associated_access_policies(
    state: &State,
    ctx: &Ctx,
    name: &str,
    principal: &str,
    query: &[(String, String)],
) -> Result<Value, ApiError> {
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

/// `DisassociateAccessPolicy`.
pub(super) fn disassociate_access_policy(
    state: &mut State,
    ctx: &Ctx,
    name: &str,
    principal: &str,
    policy: &str,
) -> Result<Value, ApiError> {
    let idx = entry_cluster(state, ctx, name)?;
    let e = state.clusters[idx]
        .access_entries
        .get_mut(principal)
        .ok_or_else(|| ApiError::not_found(MSG_NO_ENTRY))?;
    if NODE_TYPES.contains(&e.entry_type.as_str()) {
        return Err(ApiError::invalid_parameter(MSG_NOT_STANDARD));
    }
    e.policies.remove(policy).ok_or_else(|| {
        ApiError::not_found(format!(
            "The access policy {policy} is not associated with the specified principalArn."
        ))
    })?;
    Ok(json!({}))
}

/// `ListAccessPolicies`, in the caller's partition.
pub(super) fn list_access_policies(
    state: &State,
    ctx: &Ctx,
    query: &[(String, String)],
) -> Result<Value, ApiError> {
    let partition = state.partition_of(&ctx.account);
    let all: Vec<Value> = ACCESS_POLICY_NAMES
        .iter()
        .map(|n| json!({"name": n, "arn": policies::policy_arn(&partition, n)}))
        .collect();
    let (offset, size) = paging(query, 100)?;
    let (items, next) = page(&all, offset, size);
    Ok(with_token(json!({"accessPolicies": items}), next))
}
