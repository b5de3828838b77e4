//! Clusters: `ListClusters`, `DescribeCluster`, and authentication-mode updates
//! (`UpdateClusterConfig`, `DescribeUpdate`).

use serde_json::{json, Value};

use super::request::{opt_str, page, paging, parse_body, with_token};
use super::{cluster_idx, Ctx};
use crate::error::ApiError;
use crate::state::{now, Cluster, State, Update, MODE_API, MODE_BOTH, MODE_CONFIG_MAP};

pub(super) fn update_json(u: &Update) -> Value {
    json!({
        "id": u.id,
        "status": u.status,
        "type": u.update_type,
        "params": u.params.iter().map(|(t, v)| json!({"type": t, "value": v})).collect::<Vec<_>>(),
        "createdAt": u.created_at,
        "errors": [],
    })
}

pub(super) fn cluster_json(c: &Cluster) -> Value {
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

/// `ListClusters`: the names of the caller's clusters in its region.
pub(super) fn list_clusters(
    state: &State,
    ctx: &Ctx,
    query: &[(String, String)],
) -> Result<Value, ApiError> {
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

/// `DescribeCluster`.
pub(super) fn describe_cluster(state: &State, ctx: &Ctx, name: &str) -> Result<Value, ApiError> {
    let idx = cluster_idx(state, ctx, name)?;
    Ok(json!({"cluster": cluster_json(&state.clusters[idx])}))
}

/// `UpdateClusterConfig`: start a one-step authentication-mode switch.
pub(super) fn update_cluster_config(
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

/// `DescribeUpdate`: one of the cluster's mode updates.
pub(super) fn describe_update(
    state: &State,
    ctx: &Ctx,
    name: &str,
    id: &str,
) -> Result<Value, ApiError> {
    let idx = cluster_idx(state, ctx, name)?;
    let u = state.clusters[idx]
        .updates
        .iter()
        .find(|u| u.id == id)
        .ok_or_else(|| ApiError::not_found(format!("No update found for ID: {id}.")))?;
    Ok(json!({"update": update_json(u)}))
}
