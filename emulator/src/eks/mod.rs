//! The EKS restJson1 API, enforcing the rules of `eks-access-entries.md`: the
//! routing of paths to operations (`route`), reading requests (`request`),
//! and the operations by concept: `clusters` (and mode updates),
//! `access_entries`, `access_policies` (and associations), `tags`, and
//! `compute` (node groups and Fargate profiles).

mod access_entries;
mod access_policies;
mod clusters;
mod compute;
mod request;
mod route;
mod tags;
#[cfg(test)]
mod tests;

use serde_json::Value;

use crate::error::ApiError;
use crate::state::{now, State, MODE_CONFIG_MAP};

pub(crate) use route::{route, Route};

/// The caller as EKS sees it: clusters of (account, region) only.
#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    pub account: String,
    pub region: String,
}

fn msg_no_cluster(name: &str) -> String {
    format!("No cluster found for name: {name}.")
}
const MSG_MODE: &str = "The cluster's authentication mode must be set to one of [API, API_AND_CONFIG_MAP] to perform this operation.";

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

/// Handle one EKS call; returns the JSON body of the 200 answer.
pub(crate) fn handle(
    state: &mut State,
    ctx: &Ctx,
    route: &Route,
    query: &[(String, String)],
    body: &[u8],
) -> Result<Value, ApiError> {
    state.tick(now());
    match route {
        Route::ListClusters => clusters::list_clusters(state, ctx, query),
        Route::DescribeCluster(name) => clusters::describe_cluster(state, ctx, name),
        Route::UpdateClusterConfig(name) => clusters::update_cluster_config(state, ctx, name, body),
        Route::DescribeUpdate(name, id) => clusters::describe_update(state, ctx, name, id),
        Route::CreateAccessEntry(name) => {
            access_entries::create_access_entry(state, ctx, name, body)
        }
        Route::ListAccessEntries(name) => {
            access_entries::list_access_entries(state, ctx, name, query)
        }
        Route::DescribeAccessEntry(name, principal) => {
            access_entries::describe_access_entry(state, ctx, name, principal)
        }
        Route::UpdateAccessEntry(name, principal) => {
            access_entries::update_access_entry(state, ctx, name, principal, body)
        }
        Route::DeleteAccessEntry(name, principal) => {
            access_entries::delete_access_entry(state, ctx, name, principal)
        }
        Route::AssociateAccessPolicy(name, principal) => {
            access_policies::associate_access_policy(state, ctx, name, principal, body)
        }
        Route::ListAssociatedAccessPolicies(name, principal) => {
            access_policies::list_associated_access_policies(state, ctx, name, principal, query)
        }
        Route::DisassociateAccessPolicy(name, principal, policy) => {
            access_policies::disassociate_access_policy(state, ctx, name, principal, policy)
        }
        Route::ListAccessPolicies => access_policies::list_access_policies(state, ctx, query),
        Route::TagResource(arn) => tags::tag_resource(state, ctx, arn, body),
        Route::UntagResource(arn) => tags::untag_resource(state, ctx, arn, query),
        Route::ListTagsForResource(arn) => tags::list_tags_for_resource(state, ctx, arn),
        Route::ListNodegroups(name) => compute::list_nodegroups(state, ctx, name, query),
        Route::DescribeNodegroup(name, ng) => compute::describe_nodegroup(state, ctx, name, ng),
        Route::ListFargateProfiles(name) => compute::list_fargate_profiles(state, ctx, name, query),
        Route::DescribeFargateProfile(name, fp) => {
            compute::describe_fargate_profile(state, ctx, name, fp)
        }
    }
}
