//! Answers in each protocol's shape: EKS restJson1 errors, AWS query (XML)
//! errors, Kubernetes `Status` objects and the admin endpoints' JSON.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::{kube, xml};

pub(crate) fn with_headers(mut resp: Response, request_id: &str, content_type: &str) -> Response {
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert("x-amzn-RequestId", v);
    }
    if let Ok(v) = HeaderValue::from_str(content_type) {
        h.insert("content-type", v);
    }
    resp
}

pub(crate) fn status_code(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

pub(crate) fn eks_error(err: &ApiError, request_id: &str) -> Response {
    let body = json!({"message": err.message}).to_string();
    let mut resp = with_headers(
        (status_code(err.status), body).into_response(),
        request_id,
        "application/json",
    );
    if let Ok(v) = HeaderValue::from_str(&err.code) {
        resp.headers_mut().insert("x-amzn-ErrorType", v);
    }
    resp
}

pub(crate) fn query_error(err: &ApiError, request_id: &str) -> Response {
    with_headers(
        (
            status_code(err.status),
            xml::error_document(err, request_id),
        )
            .into_response(),
        request_id,
        "text/xml",
    )
}

pub(crate) fn kube_response(k: kube::KubeResponse, request_id: &str) -> Response {
    let mut resp = with_headers(
        (status_code(k.status), k.body.to_string()).into_response(),
        request_id,
        "application/json",
    );
    if k.status == 429 {
        resp.headers_mut()
            .insert("retry-after", HeaderValue::from_static("1"));
    }
    resp
}

/// JSON answer for admin endpoints.
pub(crate) fn json_response(status: u16, v: &Value) -> Response {
    let mut resp = (status_code(status), v.to_string()).into_response();
    resp.headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    resp
}
