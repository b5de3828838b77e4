//! The kubeconfig the emulator writes: one context per cluster, named by the
//! cluster ARN, all using one static bearer token.

use serde_json::json;

use crate::state::State;

/// The bearer token every emulated cluster accepts.
pub(crate) const TOKEN: &str = "eks-emulator-token";

/// Render the kubeconfig YAML for every cluster of `state`.
pub(crate) fn render(state: &State) -> String {
    let clusters: Vec<_> = state
        .clusters
        .iter()
        .map(|c| json!({"name": c.arn, "cluster": {"server": c.endpoint}}))
        .collect();
    let users: Vec<_> = state
        .clusters
        .iter()
        .map(|c| json!({"name": c.arn, "user": {"token": TOKEN}}))
        .collect();
    let contexts: Vec<_> = state
        .clusters
        .iter()
        .map(|c| json!({"name": c.arn, "context": {"cluster": c.arn, "user": c.arn}}))
        .collect();
    let current = state
        .clusters
        .first()
        .map(|c| c.arn.clone())
        .unwrap_or_default();
    let doc = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": clusters,
        "users": users,
        "contexts": contexts,
        "current-context": current,
    });
    serde_yaml::to_string(&doc).unwrap_or_default()
}
