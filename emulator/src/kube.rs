//! A sliver of the Kubernetes API per cluster: the `kube-system/aws-auth`
//! `ConfigMap` (get, list, create, replace, patch, delete with resourceVersion
//! conflicts) and the read-only RBAC lists ([`crate::kube_rbac`]). Served
//! under `/k8s/{account}/{region}/{cluster}`.

use serde_json::{json, Map, Value};

use crate::kube_rbac::{self, Kind};
use crate::state::State;

/// A Kubernetes answer: status and JSON body.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct KubeResponse {
    pub status: u16,
    pub body: Value,
}

const NS: &str = "kube-system";
const NAME: &str = "aws-auth";
const RBAC: &str = "rbac.authorization.k8s.io";
/// The API server's limit on a `ConfigMap`'s data.
pub(crate) const MAX_CONFIGMAP_BYTES: usize = 1024 * 1024;

/// A Kubernetes `Status` failure.
pub(crate) fn status_failure(
    code: u16,
    reason: &str,
    message: &str,
    details: Option<(&str, &str)>,
) -> KubeResponse {
    let mut body = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    });
    if let (Some((name, kind)), Some(m)) = (details, body.as_object_mut()) {
        m.insert("details".into(), json!({"name": name, "kind": kind}));
    }
    KubeResponse { status: code, body }
}

fn not_found(name: &str) -> KubeResponse {
    status_failure(
        404,
        "NotFound",
        &format!("configmaps \"{name}\" not found"),
        Some((name, "configmaps")),
    )
}

fn ok(body: Value) -> KubeResponse {
    KubeResponse { status: 200, body }
}

/// The kube operation name of a request under the cluster prefix.
pub(crate) fn operation(method: &str, segs: &[&str]) -> &'static str {
    match (method, segs) {
        ("GET", ["version"]) => "kube:GetVersion",
        ("GET", ["api", "v1", "namespaces", _, "configmaps"] | ["api", "v1", "configmaps"]) => {
            "kube:ListConfigMaps"
        }
        ("POST", ["api", "v1", "namespaces", _, "configmaps"]) => "kube:CreateConfigMap",
        ("GET", ["api", "v1", "namespaces", _, "configmaps", _]) => "kube:GetConfigMap",
        ("PUT", ["api", "v1", "namespaces", _, "configmaps", _]) => "kube:ReplaceConfigMap",
        ("PATCH", ["api", "v1", "namespaces", _, "configmaps", _]) => "kube:PatchConfigMap",
        ("DELETE", ["api", "v1", "namespaces", _, "configmaps", _]) => "kube:DeleteConfigMap",
        ("GET", ["apis", RBAC, "v1", "clusterroles"]) => "kube:ListClusterRoles",
        ("GET", ["apis", RBAC, "v1", "clusterrolebindings"]) => "kube:ListClusterRoleBindings",
        ("GET", ["apis", RBAC, "v1", "roles"] | ["apis", RBAC, "v1", "namespaces", _, "roles"]) => {
            "kube:ListRoles"
        }
        (
            "GET",
            ["apis", RBAC, "v1", "rolebindings"]
            | ["apis", RBAC, "v1", "namespaces", _, "rolebindings"],
        ) => "kube:ListRoleBindings",
        _ => "kube:Unsupported",
    }
}

/// RFC 7386 JSON merge patch.
pub(crate) fn merge_patch(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                *target = Value::Object(Map::new());
            }
            if let Some(t) = target.as_object_mut() {
                for (k, v) in p {
                    if v.is_null() {
                        t.remove(k);
                    } else {
                        merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
                    }
                }
            }
        }
        other => *target = other.clone(),
    }
}

fn dry_run(query: &[(String, String)]) -> bool {
    query.iter().any(|(k, v)| k == "dryRun" && v == "All")
}

/// Check an incoming `ConfigMap` and build the object to store.
fn build_object(
    incoming: &Value,
    existing: Option<&Value>,
    rv: String,
    uid: String,
    created: String,
) -> Result<Value, KubeResponse> {
    let Some(obj) = incoming.as_object() else {
        return Err(status_failure(
            400,
            "BadRequest",
            "the body of the request was not a ConfigMap object",
            None,
        ));
    };
    let meta = obj.get("metadata").and_then(Value::as_object);
    let name = meta
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .unwrap_or(NAME);
    if name != NAME {
        return Err(status_failure(
            400,
            "BadRequest",
            &format!("the name of the object ({name}) does not match the name on the URL ({NAME})"),
            None,
        ));
    }
    if let Some(data) = obj.get("data") {
        let valid = data.is_null()
            || data
                .as_object()
                .is_some_and(|m| m.values().all(Value::is_string));
        if !valid {
            return Err(status_failure(
                400,
                "BadRequest",
                "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: data values must be strings",
                None,
            ));
        }
    }
    let size: usize = ["data", "binaryData"]
        .iter()
        .filter_map(|k| obj.get(*k).and_then(Value::as_object))
        .flat_map(|m| m.iter())
        .map(|(k, v)| k.len() + v.as_str().map_or(0, str::len))
        .sum();
    if size > MAX_CONFIGMAP_BYTES {
        return Err(status_failure(
            422,
            "Invalid",
            &format!("ConfigMap \"{NAME}\" is invalid: []: Too long: must have at most {MAX_CONFIGMAP_BYTES} bytes"),
            Some((NAME, "ConfigMap")),
        ));
    }
    let (uid, created) = match existing {
        Some(e) => (
            e["metadata"]["uid"].as_str().map_or(uid, str::to_string),
            e["metadata"]["creationTimestamp"]
                .as_str()
                .map_or(created, str::to_string),
        ),
        None => (uid, created),
    };
    let mut metadata = json!({
        "name": NAME,
        "namespace": NS,
        "uid": uid,
        "resourceVersion": rv,
        "creationTimestamp": created,
    });
    for key in ["labels", "annotations"] {
        if let (Some(v), Some(m)) = (meta.and_then(|m| m.get(key)), metadata.as_object_mut()) {
            if v.is_object() {
                m.insert(key.into(), v.clone());
            }
        }
    }
    let mut out = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata});
    if let (Some(data), Some(m)) = (
        obj.get("data").filter(|d| !d.is_null()),
        out.as_object_mut(),
    ) {
        m.insert("data".into(), data.clone());
    }
    if let (Some(bd), Some(m)) = (
        obj.get("binaryData").filter(|d| !d.is_null()),
        out.as_object_mut(),
    ) {
        m.insert("binaryData".into(), bd.clone());
    }
    Ok(out)
}

fn conflict() -> KubeResponse {
    status_failure(
        409,
        "Conflict",
        &format!("Operation cannot be fulfilled on configmaps \"{NAME}\": the object has been modified; please apply your changes to the latest version and try again"),
        Some((NAME, "configmaps")),
    )
}

fn parse_json(body: &[u8], content_type: &str) -> Result<Value, KubeResponse> {
    let parsed = if content_type.contains("yaml") {
        serde_yaml::from_slice::<Value>(body).map_err(|e| e.to_string())
    } else {
        serde_json::from_slice::<Value>(body).map_err(|e| e.to_string())
    };
    parsed.map_err(|e| {
        status_failure(
            400,
            "BadRequest",
            &format!("error decoding request body: {e}"),
            None,
        )
    })
}

/// A write request's method, query and body.
#[derive(Clone, Copy)]
struct Incoming<'a> {
    method: &'a str,
    query: &'a [(String, String)],
    content_type: &'a str,
    body: &'a [u8],
}

/// Handle one request under a cluster's prefix.
pub(crate) fn handle(
    state: &mut State,
    idx: usize,
    method: &str,
    segs: &[&str],
    query: &[(String, String)],
    content_type: &str,
    body: &[u8],
) -> KubeResponse {
    let list_rv = state.next_resource_version();
    let req = Incoming {
        method,
        query,
        content_type,
        body,
    };
    match (method, segs) {
        ("GET", ["version"]) => get_version(state, idx),
        ("GET", ["api", "v1", "namespaces", ns, "configmaps"]) => {
            list_namespace_configmaps(state, idx, ns, &list_rv)
        }
        ("GET", ["api", "v1", "configmaps"]) => list_all_configmaps(state, idx, &list_rv),
        ("GET", ["api", "v1", "namespaces", ns, "configmaps", name]) => {
            get_configmap(state, idx, ns, name)
        }
        ("POST", ["api", "v1", "namespaces", ns, "configmaps"]) => {
            create_configmap(state, idx, ns, &req)
        }
        ("PUT" | "PATCH", ["api", "v1", "namespaces", ns, "configmaps", name]) => {
            replace_or_patch_configmap(state, idx, ns, name, &req)
        }
        ("DELETE", ["api", "v1", "namespaces", ns, "configmaps", name]) => {
            delete_configmap(state, idx, ns, name, query)
        }
        ("GET", ["apis", RBAC, "v1", resource]) => match rbac_kind(resource) {
            Some(kind) => kube_rbac::list(state, idx, kind, None, query, &list_rv),
            None => not_served(),
        },
        ("GET", ["apis", RBAC, "v1", "namespaces", ns, resource]) => match rbac_kind(resource) {
            Some(kind @ (Kind::Roles | Kind::RoleBindings)) => {
                kube_rbac::list(state, idx, kind, Some(ns), query, &list_rv)
            }
            _ => not_served(),
        },
        _ => not_served(),
    }
}

/// The API server's answer to a path it does not serve.
fn not_served() -> KubeResponse {
    status_failure(
        404,
        "NotFound",
        "the server could not find the requested resource",
        None,
    )
}

/// The RBAC list a resource name in a URL is.
fn rbac_kind(resource: &str) -> Option<Kind> {
    Kind::ALL.into_iter().find(|k| k.resource() == resource)
}

/// GET /version: the cluster's version.
fn get_version(state: &State, idx: usize) -> KubeResponse {
    let c = &state.clusters[idx];
    let (major, minor) = c.version.split_once('.').unwrap_or(("1", "30"));
    ok(json!({
        "major": major, "minor": minor,
        "gitVersion": format!("v{}.0-{}", c.version, c.platform_version),
        "platform": "linux/amd64",
    }))
}

/// List the `ConfigMaps` of one namespace (aws-auth in kube-system, else none).
fn list_namespace_configmaps(state: &State, idx: usize, ns: &str, list_rv: &str) -> KubeResponse {
    let items: Vec<Value> = match (&state.clusters[idx].aws_auth, ns == NS) {
        (Some(cm), true) => vec![cm.clone()],
        _ => vec![],
    };
    ok(
        json!({"apiVersion": "v1", "kind": "ConfigMapList", "metadata": {"resourceVersion": list_rv}, "items": items}),
    )
}

/// List the `ConfigMaps` of every namespace.
fn list_all_configmaps(state: &State, idx: usize, list_rv: &str) -> KubeResponse {
    let items: Vec<Value> = state.clusters[idx].aws_auth.iter().cloned().collect();
    ok(
        json!({"apiVersion": "v1", "kind": "ConfigMapList", "metadata": {"resourceVersion": list_rv}, "items": items}),
    )
}

/// GET one `ConfigMap`.
fn get_configmap(state: &State, idx: usize, ns: &str, name: &str) -> KubeResponse {
    match (&state.clusters[idx].aws_auth, ns == NS && name == NAME) {
        (Some(cm), true) => ok(cm.clone()),
        _ => not_found(name),
    }
}

/// POST a `ConfigMap`: only kube-system/aws-auth, and only when absent.
fn create_configmap(state: &mut State, idx: usize, ns: &str, req: &Incoming) -> KubeResponse {
    let Incoming {
        method: _,
        query,
        content_type,
        body,
    } = *req;
    let incoming = match parse_json(body, content_type) {
        Ok(v) => v,
        Err(e) => return e,
    };
    let name = incoming["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    if ns != NS || name != NAME {
        return status_failure(
            403,
            "Forbidden",
            "the emulator stores only kube-system/aws-auth",
            None,
        );
    }
    if state.clusters[idx].aws_auth.is_some() {
        return status_failure(
            409,
            "AlreadyExists",
            &format!("configmaps \"{NAME}\" already exists"),
            Some((NAME, "configmaps")),
        );
    }
    let rv = state.next_resource_version();
    let uid = state.next_uuid();
    match build_object(
        &incoming,
        None,
        rv,
        uid,
        crate::state::rfc3339(crate::state::now()),
    ) {
        Ok(obj) => {
            if !dry_run(query) {
                state.clusters[idx].aws_auth = Some(obj.clone());
            }
            KubeResponse {
                status: 201,
                body: obj,
            }
        }
        Err(e) => e,
    }
}

/// PUT or PATCH aws-auth, refusing a stale `metadata.resourceVersion`.
fn replace_or_patch_configmap(
    state: &mut State,
    idx: usize,
    ns: &str,
    name: &str,
    req: &Incoming,
) -> KubeResponse {
    let Incoming {
        method,
        query,
        content_type,
        body,
    } = *req;
    if ns != NS || name != NAME {
        return status_failure(
            403,
            "Forbidden",
            "the emulator stores only kube-system/aws-auth",
            None,
        );
    }
    let incoming = match parse_json(body, content_type) {
        Ok(v) => v,
        Err(e) => return e,
    };
    let existing = state.clusters[idx].aws_auth.clone();
    let is_apply = content_type.contains("apply-patch");
    if method == "PATCH" && content_type.contains("json-patch") {
        return status_failure(
            415,
            "UnsupportedMediaType",
            "the emulator supports merge, strategic-merge and apply patches",
            None,
        );
    }
    let candidate = match (&existing, method) {
        (None, "PATCH") if is_apply => incoming.clone(),
        (None, _) => return not_found(name),
        (Some(cur), "PATCH") => {
            let mut merged = cur.clone();
            merge_patch(&mut merged, &incoming);
            merged
        }
        (Some(_), _) => incoming.clone(),
    };
    let current_rv = existing.as_ref().and_then(|c| {
        c["metadata"]["resourceVersion"]
            .as_str()
            .map(str::to_string)
    });
    if let Some(sent) = incoming["metadata"]["resourceVersion"].as_str() {
        if !sent.is_empty() && Some(sent) != current_rv.as_deref() {
            return conflict();
        }
    }
    let rv = state.next_resource_version();
    let uid = state.next_uuid();
    match build_object(
        &candidate,
        existing.as_ref(),
        rv,
        uid,
        crate::state::rfc3339(crate::state::now()),
    ) {
        Ok(obj) => {
            if !dry_run(query) {
                state.clusters[idx].aws_auth = Some(obj.clone());
            }
            ok(obj)
        }
        Err(e) => e,
    }
}

/// DELETE aws-auth.
fn delete_configmap(
    state: &mut State,
    idx: usize,
    ns: &str,
    name: &str,
    query: &[(String, String)],
) -> KubeResponse {
    if ns != NS || name != NAME || state.clusters[idx].aws_auth.is_none() {
        return not_found(name);
    }
    let uid = state.clusters[idx]
        .aws_auth
        .as_ref()
        .and_then(|c| c["metadata"]["uid"].as_str().map(str::to_string))
        .unwrap_or_default();
    if !dry_run(query) {
        state.clusters[idx].aws_auth = None;
    }
    ok(json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
        "details": {"name": NAME, "kind": "configmaps", "uid": uid},
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::{self, Seed};

    fn world() -> State {
        let seed = Seed::default().with_cluster(
            seed::Cluster::new("c1", "111122223333", "us-east-1")
                .aws_auth([("mapRoles", "- rolearn: a\n  groups: [x]\n")]),
        );
        State::from_seed(&seed, "http://127.0.0.1:1").expect("seed")
    }

    const PATH: [&str; 6] = [
        "api",
        "v1",
        "namespaces",
        "kube-system",
        "configmaps",
        "aws-auth",
    ];

    #[test]
    fn stale_put_conflicts_and_fresh_put_bumps_version() {
        let mut s = world();
        let got = handle(&mut s, 0, "GET", &PATH, &[], "", b"");
        assert_eq!(got.status, 200);
        let rv = got.body["metadata"]["resourceVersion"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let mut next = got.body.clone();
        next["data"]["mapUsers"] = json!("[]\n");
        let put = handle(
            &mut s,
            0,
            "PUT",
            &PATH,
            &[],
            "application/json",
            next.to_string().as_bytes(),
        );
        assert_eq!(put.status, 200);
        assert_ne!(
            put.body["metadata"]["resourceVersion"].as_str(),
            Some(rv.as_str())
        );
        let stale = handle(
            &mut s,
            0,
            "PUT",
            &PATH,
            &[],
            "application/json",
            next.to_string().as_bytes(),
        );
        assert_eq!(stale.status, 409);
        assert_eq!(stale.body["reason"], "Conflict");
        assert_eq!(s.aws_auth_data(0).map(|d| d.len()), Some(2));
    }

    #[test]
    fn absent_configmap_is_a_404_status_and_post_twice_conflicts() {
        let mut s = world();
        assert_eq!(handle(&mut s, 0, "DELETE", &PATH, &[], "", b"").status, 200);
        let missing = handle(&mut s, 0, "GET", &PATH, &[], "", b"");
        assert_eq!(
            missing.body,
            json!({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"configmaps \"aws-auth\" not found","reason":"NotFound","details":{"name":"aws-auth","kind":"configmaps"},"code":404})
        );
        let body = br#"{"metadata":{"name":"aws-auth","namespace":"kube-system"},"data":{"mapRoles":"x"}}"#;
        let post = &PATH[..5];
        assert_eq!(
            handle(&mut s, 0, "POST", post, &[], "application/json", body).status,
            201
        );
        assert_eq!(
            handle(&mut s, 0, "POST", post, &[], "application/json", body).body["reason"],
            "AlreadyExists"
        );
    }

    #[test]
    fn configmap_over_one_mebibyte_is_invalid() {
        let mut s = world();
        let big = "x".repeat(MAX_CONFIGMAP_BYTES);
        let body = json!({"metadata": {"name": "aws-auth"}, "data": {"mapRoles": big}}).to_string();
        let r = handle(
            &mut s,
            0,
            "PUT",
            &PATH,
            &[],
            "application/json",
            body.as_bytes(),
        );
        assert_eq!(
            (r.status, r.body["reason"].as_str()),
            (422, Some("Invalid"))
        );
    }

    #[test]
    fn merge_patch_removes_nulls() {
        let mut t = json!({"a": 1, "b": {"c": 2, "d": 3}});
        merge_patch(&mut t, &json!({"a": null, "b": {"c": 5}}));
        assert_eq!(t, json!({"b": {"c": 5, "d": 3}}));
    }
}
