//! Reading EKS requests: the JSON body's fields, query parameters and paging.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::error::ApiError;

pub(super) fn parse_body(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(ApiError::new(
            400,
            "BadRequestException",
            "The request body is not a valid JSON object.",
        )),
    }
}

pub(super) fn opt_str(m: &Map<String, Value>, key: &str) -> Result<Option<String>, ApiError> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::invalid_parameter(format!(
            "The {key} parameter must be a string."
        ))),
    }
}

pub(super) fn opt_str_list(
    m: &Map<String, Value>,
    key: &str,
) -> Result<Option<Vec<String>>, ApiError> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str().map(str::to_string).ok_or_else(|| {
                    ApiError::invalid_parameter(format!(
                        "The {key} parameter must be a list of strings."
                    ))
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(ApiError::invalid_parameter(format!(
            "The {key} parameter must be a list of strings."
        ))),
    }
}

pub(super) fn opt_tags(m: &Map<String, Value>) -> Result<BTreeMap<String, String>, ApiError> {
    match m.get("tags") {
        None | Some(Value::Null) => Ok(BTreeMap::new()),
        Some(Value::Object(t)) => t
            .iter()
            .map(|(k, v)| match v.as_str() {
                Some(s) => Ok((k.clone(), s.to_string())),
                None => Err(ApiError::invalid_parameter("Tag values must be strings.")),
            })
            .collect(),
        Some(_) => Err(ApiError::invalid_parameter(
            "The tags parameter must be a map.",
        )),
    }
}

pub(super) fn query_get<'a>(query: &'a [(String, String)], key: &str) -> Option<&'a str> {
    query
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// (offset, page size) from `maxResults` (1..=max, default max) and `nextToken`.
pub(super) fn paging(query: &[(String, String)], max: usize) -> Result<(usize, usize), ApiError> {
    let size = match query_get(query, "maxResults") {
        None => max,
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (1..=max).contains(&n) => n,
            _ => {
                return Err(ApiError::invalid_parameter(format!(
                    "The maxResults parameter must be between 1 and {max}."
                )))
            }
        },
    };
    let offset = match query_get(query, "nextToken") {
        None | Some("") => 0,
        Some(t) => decode_token(t)
            .ok_or_else(|| ApiError::invalid_parameter("The nextToken parameter is not valid."))?,
    };
    Ok((offset, size))
}

fn encode_token(offset: usize) -> String {
    format!("emu-page-{offset:08}")
}

fn decode_token(token: &str) -> Option<usize> {
    token.strip_prefix("emu-page-")?.parse().ok()
}

/// Slice a page and produce the next token.
pub(super) fn page<T: Clone>(items: &[T], offset: usize, size: usize) -> (Vec<T>, Option<String>) {
    let start = offset.min(items.len());
    let end = start.saturating_add(size).min(items.len());
    let next = (end < items.len()).then(|| encode_token(end));
    (items[start..end].to_vec(), next)
}

pub(super) fn with_token(mut v: Value, token: Option<String>) -> Value {
    if let (Some(t), Some(m)) = (token, v.as_object_mut()) {
        m.insert("nextToken".into(), Value::String(t));
    }
    v
}
