//! Managed node groups and Fargate profiles, read-only from the seed:
//! `ListNodegroups`, `DescribeNodegroup`, `ListFargateProfiles`, `DescribeFargateProfile`.

use serde_json::{json, Value};

use super::request::{page, paging, with_token};
use super::{cluster_idx, Ctx};
use crate::error::ApiError;
use crate::seed::{FargateProfile, NodeGroup};
use crate::state::{stable_uuid, Cluster, State};

pub(super) fn msg_no_nodegroup(name: &str) -> String {
    format!("No node group found for name: {name}.")
}
pub(super) fn msg_no_fargate_profile(name: &str) -> String {
    format!("No Fargate Profile found with name: {name}.")
}

/// The AMI type `DescribeNodegroup` shows for a seeded node group.
pub(super) fn ami_type(ng: &NodeGroup) -> &'static str {
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

/// `ListNodegroups`, in seed order.
pub(super) fn list_nodegroups(
    state: &State,
    ctx: &Ctx,
    name: &str,
    query: &[(String, String)],
) -> Result<Value, ApiError> {
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

/// `DescribeNodegroup`.
pub(super) fn describe_nodegroup(
    state: &State,
    ctx: &Ctx,
    name: &str,
    ng: &str,
) -> Result<Value, ApiError> {
    let idx = cluster_idx(state, ctx, name)?;
    let c = &state.clusters[idx];
    let found = c
        .managed_node_groups
        .iter()
        .find(|n| n.name == ng)
        .ok_or_else(|| ApiError::not_found(msg_no_nodegroup(ng)))?;
    Ok(json!({"nodegroup": nodegroup_json(c, found)}))
}

/// `ListFargateProfiles`, in seed order.
pub(super) fn list_fargate_profiles(
    state: &State,
    ctx: &Ctx,
    name: &str,
    query: &[(String, String)],
) -> Result<Value, ApiError> {
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

/// `DescribeFargateProfile`.
pub(super) fn describe_fargate_profile(
    state: &State,
    ctx: &Ctx,
    name: &str,
    fp: &str,
) -> Result<Value, ApiError> {
    let idx = cluster_idx(state, ctx, name)?;
    let c = &state.clusters[idx];
    let found = c
        .fargate_profiles
        .iter()
        .find(|p| p.name == fp)
        .ok_or_else(|| ApiError::not_found(msg_no_fargate_profile(fp)))?;
    Ok(json!({"fargateProfile": fargate_profile_json(c, found)}))
}
