//! Admin endpoints under `/_emulator/` (no auth) and the same operations for
//! the library: dump state, count calls, set faults, edit state behind a tool's back.

use std::collections::BTreeMap;

use axum::response::Response;
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::faults::{FaultEngine, Faults};
use crate::response::json_response;
use crate::seed;
use crate::shared::{lock, Calls, Shared};
use crate::state::{now, MODE_API, MODE_BOTH, MODE_CONFIG_MAP};

fn not_found(what: &str) -> ApiError {
    ApiError::new(404, "NotFound", what.to_string())
}

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::new(400, "BadRequest", message)
}

/// Find a cluster by name (optionally narrowed by account and region).
pub(crate) fn cluster_index(
    shared: &Shared,
    name: &str,
    account: Option<&str>,
    region: Option<&str>,
) -> Result<usize, ApiError> {
    let state = lock(&shared.state);
    state
        .clusters
        .iter()
        .position(|c| {
            c.name == name
                && account.is_none_or(|a| c.account == a)
                && region.is_none_or(|r| c.region == r)
        })
        .ok_or_else(|| not_found(&format!("no cluster named {name}")))
}

pub(crate) fn state_dump(shared: &Shared) -> Value {
    let mut state = lock(&shared.state);
    state.tick(now());
    state.dump()
}

pub(crate) fn calls(shared: &Shared) -> Calls {
    lock(&shared.calls).clone()
}

pub(crate) fn reset_calls(shared: &Shared) {
    *lock(&shared.calls) = Calls::default();
}

pub(crate) fn set_faults(shared: &Shared, faults: Faults) {
    *lock(&shared.faults) = FaultEngine::new(faults);
}

pub(crate) fn faults(shared: &Shared) -> Faults {
    lock(&shared.faults).config().clone()
}

pub(crate) fn write_kubeconfig(shared: &Shared) -> std::io::Result<()> {
    let text = crate::kubeconfig::render(&lock(&shared.state));
    std::fs::write(&shared.kubeconfig_path, text)
}

pub(crate) fn add_cluster(shared: &Shared, cluster: &seed::Cluster) -> Result<(), ApiError> {
    lock(&shared.state)
        .add_cluster(cluster)
        .map_err(|e| bad(e.to_string()))?;
    write_kubeconfig(shared).map_err(|e| ApiError::new(500, "InternalError", e.to_string()))
}

pub(crate) fn put_aws_auth(shared: &Shared, idx: usize, data: BTreeMap<String, String>) {
    lock(&shared.state).put_aws_auth(idx, data);
}

pub(crate) fn delete_aws_auth(shared: &Shared, idx: usize) {
    lock(&shared.state).clusters[idx].aws_auth = None;
}

pub(crate) fn upsert_access_entry(shared: &Shared, idx: usize, entry: &seed::AccessEntry) {
    lock(&shared.state).put_entry(idx, entry);
}

pub(crate) fn delete_access_entry(shared: &Shared, idx: usize, principal_arn: &str) -> bool {
    lock(&shared.state).clusters[idx]
        .access_entries
        .remove(principal_arn)
        .is_some()
}

pub(crate) fn set_authentication_mode(
    shared: &Shared,
    idx: usize,
    mode: &str,
) -> Result<(), ApiError> {
    if ![MODE_CONFIG_MAP, MODE_BOTH, MODE_API].contains(&mode) {
        return Err(bad(format!("unknown authentication mode {mode}")));
    }
    lock(&shared.state).clusters[idx].authentication_mode = mode.to_string();
    Ok(())
}

pub(crate) fn add_role(shared: &Shared, account: &str, role: &seed::Role) -> Result<(), ApiError> {
    lock(&shared.state)
        .add_role(account, role)
        .map_err(|e| bad(e.to_string()))
}

pub(crate) fn add_user(shared: &Shared, account: &str, user: &seed::User) -> Result<(), ApiError> {
    lock(&shared.state)
        .add_user(account, user)
        .map_err(|e| bad(e.to_string()))
}

pub(crate) fn delete_role(shared: &Shared, account: &str, name: &str) -> bool {
    let mut state = lock(&shared.state);
    let Some(a) = state.accounts.get_mut(account) else {
        return false;
    };
    let before = a.roles.len();
    a.roles.retain(|r| !r.name.eq_ignore_ascii_case(name));
    before != a.roles.len()
}

fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| bad(format!("invalid JSON body: {e}")))
}

fn q<'a>(query: &'a [(String, String)], key: &str) -> Option<&'a str> {
    query
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn route(
    shared: &Shared,
    method: &str,
    segs: &[&str],
    query: &[(String, String)],
    body: &[u8],
) -> Result<Value, ApiError> {
    let cluster = |name: &str| cluster_index(shared, name, q(query, "account"), q(query, "region"));
    // POST edits state like PUT, except where POST has its own meaning.
    let method = match (method, segs) {
        ("POST", ["calls", "reset"] | ["clusters"]) => "POST",
        ("POST", _) => "PUT",
        (m, _) => m,
    };
    match (method, segs) {
        ("GET", ["health"]) => Ok(json!({"ok": true})),
        ("GET", ["state"]) => Ok(state_dump(shared)),
        ("GET", ["calls"]) => Ok(serde_json::to_value(calls(shared)).unwrap_or_default()),
        ("POST", ["calls", "reset"]) => {
            reset_calls(shared);
            Ok(json!({}))
        }
        ("GET", ["faults"]) => Ok(serde_json::to_value(faults(shared)).unwrap_or_default()),
        ("PUT", ["faults"]) => {
            set_faults(shared, parse(body)?);
            Ok(json!({}))
        }
        ("POST", ["clusters"]) => {
            add_cluster(shared, &parse::<seed::Cluster>(body)?)?;
            Ok(json!({}))
        }
        ("PUT", ["clusters", name, "aws-auth"]) => {
            let idx = cluster(name)?;
            put_aws_auth(shared, idx, parse(body)?);
            Ok(json!({}))
        }
        ("DELETE", ["clusters", name, "aws-auth"]) => {
            let idx = cluster(name)?;
            delete_aws_auth(shared, idx);
            Ok(json!({}))
        }
        ("PUT", ["clusters", name, "access-entries"]) => {
            let idx = cluster(name)?;
            upsert_access_entry(shared, idx, &parse::<seed::AccessEntry>(body)?);
            Ok(json!({}))
        }
        ("DELETE", ["clusters", name, "access-entries", principal @ ..]) => {
            let idx = cluster(name)?;
            if delete_access_entry(shared, idx, &principal.join("/")) {
                Ok(json!({}))
            } else {
                Err(not_found("no such access entry"))
            }
        }
        ("PUT", ["clusters", name, "authentication-mode"]) => {
            let idx = cluster(name)?;
            let v: Value = parse(body)?;
            set_authentication_mode(shared, idx, v["mode"].as_str().unwrap_or_default())?;
            Ok(json!({}))
        }
        ("PUT", ["iam", account, "roles"]) => {
            add_role(shared, account, &parse::<seed::Role>(body)?)?;
            Ok(json!({}))
        }
        ("PUT", ["iam", account, "users"]) => {
            add_user(shared, account, &parse::<seed::User>(body)?)?;
            Ok(json!({}))
        }
        ("DELETE", ["iam", account, "roles", name]) => {
            if delete_role(shared, account, name) {
                Ok(json!({}))
            } else {
                Err(not_found("no such role"))
            }
        }
        _ => Err(not_found(&format!(
            "no admin endpoint {method} /_emulator/{}",
            segs.join("/")
        ))),
    }
}

/// Serve `/_emulator/...`.
pub(crate) async fn handle(
    shared: &Shared,
    method: &str,
    segs: &[String],
    query: &[(String, String)],
    body: &[u8],
) -> Response {
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    match route(shared, method, &segs, query, body) {
        Ok(v) => json_response(200, &v),
        Err(e) => json_response(e.status, &json!({"error": e.code, "message": e.message})),
    }
}
