//! The one HTTP front door: tells EKS, IAM, STS, Kubernetes and admin calls
//! apart, counts them, applies faults and hands each call to its protocol's handler.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State as AxState};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::faults::Outcome;
use crate::response::{eks_error, kube_response, query_error, with_headers};
use crate::shared::{lock, Shared};
use crate::{admin, eks, eks_token, iam, kube, sigv4, sts, xml};

/// Sleeps `d`, to within a fraction of a millisecond: tokio's timer counts
/// whole milliseconds and rounds up (a 25 ms sleep took 26–27 ms), which
/// would add ~8 % to every injected latency. The last 4 ms are slept on a
/// blocking thread, where the OS sleeps to the microsecond.
pub(crate) async fn sleep_precisely(d: std::time::Duration) {
    const COARSE_MARGIN: std::time::Duration = std::time::Duration::from_millis(4);
    let deadline = std::time::Instant::now() + d;
    if d > COARSE_MARGIN {
        tokio::time::sleep(d.checked_sub(COARSE_MARGIN).unwrap()).await;
    }
    let rest = deadline.saturating_duration_since(std::time::Instant::now());
    if !rest.is_zero() {
        let _ = tokio::task::spawn_blocking(move || std::thread::sleep(rest)).await;
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Protocol {
    Eks,
    Query,
    Kube,
}

enum Call {
    Eks(eks::Route),
    Iam(String, Vec<(String, String)>),
    Sts(String, Vec<(String, String)>),
    Kube {
        account: String,
        region: String,
        cluster: String,
        rest: Vec<String>,
    },
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

fn decode_segments(path: &str) -> Option<Vec<String>> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .ok()
                .map(std::borrow::Cow::into_owned)
        })
        .collect()
}

fn reason_for(status: u16) -> &'static str {
    match status {
        400 => "BadRequest",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "NotFound",
        409 => "Conflict",
        429 => "TooManyRequests",
        503 => "ServiceUnavailable",
        504 => "Timeout",
        _ => "InternalError",
    }
}

/// The error a fault produces, in the call's protocol.
fn fault_response(protocol: Protocol, outcome: &Outcome, request_id: &str) -> Option<Response> {
    let (status, code, message) = match outcome {
        Outcome::Proceed | Outcome::Disconnect => return None,
        Outcome::Throttle => (429, None, "Rate exceeded".to_string()),
        Outcome::ServerError => (
            500,
            None,
            "An internal error occurred (injected fault).".to_string(),
        ),
        Outcome::Fail {
            status,
            error_type,
            message,
        } => (
            *status,
            error_type.clone(),
            message
                .clone()
                .unwrap_or_else(|| "Injected failure.".to_string()),
        ),
    };
    let default_code = match (protocol, status) {
        (Protocol::Eks, 429) => "ThrottlingException",
        (Protocol::Eks, s) if s >= 500 => "ServerException",
        (Protocol::Eks, _) => "InvalidRequestException",
        (Protocol::Query, 429) => "Throttling",
        (Protocol::Query, s) if s >= 500 => "ServiceFailure",
        (Protocol::Query, _) => "ValidationError",
        (Protocol::Kube, s) => reason_for(s),
    };
    let code = code.unwrap_or_else(|| default_code.to_string());
    let err = ApiError::new(status, &code, message);
    Some(match protocol {
        Protocol::Eks => eks_error(&err, request_id),
        Protocol::Query => query_error(&err, request_id),
        Protocol::Kube => kube_response(
            kube::status_failure(status, &code, &err.message, None),
            request_id,
        ),
    })
}

/// Replace the body with one that breaks off halfway through.
fn cut_off(resp: Response) -> Response {
    let (parts, body) = resp.into_parts();
    let stream = futures_util::stream::once(async move {
        let bytes = axum::body::to_bytes(body, usize::MAX)
            .await
            .unwrap_or_default();
        bytes
    });
    let chunks = futures_util::StreamExt::flat_map(stream, |bytes: Bytes| {
        let half = bytes.slice(..bytes.len() / 2);
        futures_util::stream::iter(vec![
            Ok::<Bytes, std::io::Error>(half),
            Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "injected disconnect",
            )),
        ])
    });
    let mut resp = Response::from_parts(parts, Body::from_stream(chunks));
    resp.headers_mut().remove("content-length");
    resp
}

/// A request as read off the wire, path labels percent-decoded.
struct Incoming {
    method: String,
    raw_path: String,
    query: Vec<(String, String)>,
    body: Bytes,
    segs: Vec<String>,
}

/// The single request handler behind every path: read the request, serve
/// admin calls, classify the rest, count them, apply faults, dispatch.
pub(crate) async fn handle(AxState(shared): AxState<Arc<Shared>>, req: Request) -> Response {
    let request_id = shared.request_id();
    let (parts, body) = req.into_parts();
    let req = match read_request(&parts, body).await {
        Ok(r) => r,
        Err(e) => return eks_error(&e, &request_id),
    };

    if req.segs.first().map(String::as_str) == Some("_emulator") {
        return admin::handle(&shared, &req.method, &req.segs[1..], &req.query, &req.body).await;
    }

    let scope = sigv4::parse_authorization(header(&parts.headers, "authorization"));
    let content_type = header(&parts.headers, "content-type").to_string();

    let call = match classify(&req, scope.as_ref()) {
        Ok(c) => c,
        Err(e) => return eks_error(&e, &request_id),
    };
    let (protocol, operation, cluster) = labels(&call, &req.method);

    lock(&shared.calls).record(&operation, cluster.as_deref());
    let decision = lock(&shared.faults).decide(&operation, cluster.as_deref());
    if !decision.latency.is_zero() {
        sleep_precisely(decision.latency).await;
    }
    if let Some(resp) = fault_response(protocol, &decision.outcome, &request_id) {
        return resp;
    }

    let resp = dispatch(
        &shared,
        call,
        &req,
        header(&parts.headers, "authorization"),
        scope.as_ref(),
        &content_type,
        &request_id,
    );
    if decision.outcome == Outcome::Disconnect {
        return cut_off(resp);
    }
    resp
}

/// Method, path, query and body (up to 16 MiB); a 400 when unreadable.
async fn read_request(parts: &Parts, body: Body) -> Result<Incoming, ApiError> {
    let method = parts.method.as_str().to_string();
    let raw_path = parts.uri.path().to_string();
    let query: Vec<(String, String)> = parts
        .uri
        .query()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    let Ok(body) = axum::body::to_bytes(body, 16 * 1024 * 1024).await else {
        return Err(ApiError::new(
            400,
            "BadRequestException",
            "Request body too large or unreadable.",
        ));
    };
    let Some(segs) = decode_segments(&raw_path) else {
        return Err(ApiError::new(
            400,
            "BadRequestException",
            "The request path is not valid UTF-8.",
        ));
    };
    Ok(Incoming {
        method,
        raw_path,
        query,
        body,
        segs,
    })
}

/// Which service the call is for: kube by path prefix, IAM or STS by a form
/// POST to `/` (the `SigV4` scope's service, else the action), else EKS by route;
/// an unknown EKS path is a 404 `UnknownOperationException`.
fn classify(req: &Incoming, scope: Option<&sigv4::Scope>) -> Result<Call, ApiError> {
    let Incoming {
        method,
        raw_path,
        query,
        body,
        segs,
    } = req;
    let call = if segs.first().map(String::as_str) == Some("k8s") && segs.len() >= 4 {
        Call::Kube {
            account: segs[1].clone(),
            region: segs[2].clone(),
            cluster: segs[3].clone(),
            rest: segs[4..].to_vec(),
        }
    } else if segs.is_empty() && method == "POST" {
        let mut params: Vec<(String, String)> = form_urlencoded::parse(body).into_owned().collect();
        params.extend(query.iter().cloned());
        let action = xml::param(&params, "Action")
            .unwrap_or_default()
            .to_string();
        let service = scope.map_or("", |s| s.service.as_str());
        if service == "sts" || (service != "iam" && sts::is_sts_action(&action)) {
            Call::Sts(action, params)
        } else {
            Call::Iam(action, params)
        }
    } else {
        match eks::route(method, segs) {
            Some(r) => Call::Eks(r),
            None => {
                return Err(ApiError::new(
                    404,
                    "UnknownOperationException",
                    format!("The emulator does not serve {method} {raw_path}"),
                ))
            }
        }
    };
    Ok(call)
}

/// The protocol, operation name and cluster name a call is counted and faulted under.
fn labels(call: &Call, method: &str) -> (Protocol, String, Option<String>) {
    match call {
        Call::Eks(r) => (Protocol::Eks, r.operation().to_string(), r.cluster()),
        Call::Iam(a, _) | Call::Sts(a, _) => (Protocol::Query, a.clone(), None),
        Call::Kube { cluster, rest, .. } => {
            let rest: Vec<&str> = rest.iter().map(String::as_str).collect();
            (
                Protocol::Kube,
                kube::operation(method, &rest).to_string(),
                Some(cluster.clone()),
            )
        }
    }
}

/// Hand the call to its service, as the caller its access key maps to, and
/// render the answer in the service's protocol.
fn dispatch(
    shared: &Shared,
    call: Call,
    req: &Incoming,
    authorization: &str,
    scope: Option<&sigv4::Scope>,
    content_type: &str,
    request_id: &str,
) -> Response {
    let Incoming {
        method,
        query,
        body,
        ..
    } = req;
    let mut state = lock(&shared.state);
    let caller = state.caller(scope.map(|s| s.access_key_id.as_str()));
    match call {
        Call::Eks(route) => {
            let ctx = eks::Ctx {
                account: caller.account.clone(),
                region: scope.map_or_else(|| state.default_region.clone(), |s| s.region.clone()),
            };
            match eks::handle(&mut state, &ctx, &route, query, body) {
                Ok(v) => with_headers(
                    (StatusCode::OK, v.to_string()).into_response(),
                    request_id,
                    "application/json",
                ),
                Err(e) => eks_error(&e, request_id),
            }
        }
        Call::Iam(action, params) => {
            match iam::handle(&state, &caller, &action, &params, request_id) {
                Ok(x) => with_headers((StatusCode::OK, x).into_response(), request_id, "text/xml"),
                Err(e) => query_error(&e, request_id),
            }
        }
        Call::Sts(action, params) => {
            match sts::handle(&mut state, &caller, &action, &params, request_id) {
                Ok(x) => with_headers((StatusCode::OK, x).into_response(), request_id, "text/xml"),
                Err(e) => query_error(&e, request_id),
            }
        }
        Call::Kube {
            account,
            region,
            cluster,
            rest,
        } => match state.find_cluster(&account, &region, &cluster) {
            None => kube_response(
                kube::status_failure(
                    404,
                    "NotFound",
                    &format!("no emulated cluster {account}/{region}/{cluster}"),
                    None,
                ),
                request_id,
            ),
            Some(idx) => {
                if let Err(k) = check_eks_token(&mut state, idx, authorization) {
                    return kube_response(k, request_id);
                }
                let rest: Vec<&str> = rest.iter().map(String::as_str).collect();
                let k = kube::handle(&mut state, idx, method, &rest, query, content_type, body);
                kube_response(k, request_id)
            }
        },
    }
}

/// An EKS token (`Bearer k8s-aws-v1.…`) is checked as EKS would check it
/// (see [`eks_token`]): a 401 when it is not good for this cluster, else
/// the request is its key's identity's, recorded in `token_callers`. Other
/// bearer tokens (the kubeconfig's static one) are accepted as before.
fn check_eks_token(
    state: &mut crate::state::State,
    idx: usize,
    authorization: &str,
) -> Result<(), kube::KubeResponse> {
    let Some(token) = authorization
        .trim()
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|t| t.starts_with(eks_token::PREFIX))
    else {
        return Ok(());
    };
    let cluster = state.clusters[idx].name.clone();
    let base = state.base_url.clone();
    let sts_host = base.split_once("://").map_or(base.as_str(), |(_, h)| h);
    let key = eks_token::verify(token, &cluster, sts_host, chrono::Utc::now(), |k| {
        state.secret_of(k)
    })
    .map_err(|why| {
        kube::status_failure(401, "Unauthorized", &format!("Unauthorized: {why}"), None)
    })?;
    let arn = state.caller(Some(&key)).arn;
    let callers = &mut state.clusters[idx].token_callers;
    if !callers.contains(&arn) {
        callers.push(arn);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::sleep_precisely;
    use std::time::{Duration, Instant};

    #[tokio::test]
    async fn a_precise_sleep_never_ends_early() {
        for ms in [0u64, 1, 3, 4, 5, 25] {
            let want = Duration::from_millis(ms);
            let t = Instant::now();
            sleep_precisely(want).await;
            assert!(t.elapsed() >= want, "{ms} ms: woke after {:?}", t.elapsed());
        }
    }
}
