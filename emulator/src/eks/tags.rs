//! Tags on clusters and access entries: `TagResource`, `UntagResource`,
//! `ListTagsForResource`.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::request::{opt_tags, parse_body};
use super::route::cluster_of_arn;
use super::Ctx;
use crate::error::ApiError;
use crate::state::State;

/// The tags of a cluster or access-entry ARN of the caller's account and region.
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

/// `TagResource`: add or overwrite tags.
pub(super) fn tag_resource(
    state: &mut State,
    ctx: &Ctx,
    arn: &str,
    body: &[u8],
) -> Result<Value, ApiError> {
    let m = parse_body(body)?;
    let tags = opt_tags(&m)?;
    let target = tags_of(state, ctx, arn)?;
    target.extend(tags);
    Ok(json!({}))
}

/// `UntagResource`: remove the `tagKeys`.
pub(super) fn untag_resource(
    state: &mut State,
    ctx: &Ctx,
    arn: &str,
    query: &[(String, String)],
) -> Result<Value, ApiError> {
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

/// `ListTagsForResource`.
pub(super) fn list_tags_for_resource(
    state: &mut State,
    ctx: &Ctx,
    arn: &str,
) -> Result<Value, ApiError> {
    let target = tags_of(state, ctx, arn)?;
    Ok(json!({"tags": target.clone()}))
}
