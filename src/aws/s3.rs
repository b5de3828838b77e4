//! S3, for the shared state backend (`--state s3://BUCKET/PREFIX`): whole
//! objects put, got, listed and deleted, with the conditional writes
//! (`If-None-Match: *`, `If-Match: ETAG`) that locks and journals rely on.
//!
//! The endpoint comes from the same settings as every other client
//! (`AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL`, the profile's
//! `endpoint_url`); with a custom endpoint, requests use path-style
//! addresses (`http://host:port/BUCKET/KEY`), which S3-compatible servers
//! and loopback addresses need.

use aws_config::SdkConfig;
use aws_sdk_eks::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;

use super::error::{classify, AwsError};

/// How a put may replace what is there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Put {
    /// Only if no object has the key (`If-None-Match: *`).
    Create,
    /// Only if the object is still the version with this ETag (`If-Match`).
    Replace(String),
    /// Whatever is there.
    Overwrite,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum S3Error {
    /// A conditional write or delete lost: the object exists (Create) or
    /// changed (Replace).
    #[error("s3://{bucket}/{key} was changed by another run (a conditional write failed)")]
    Precondition { bucket: String, key: String },
    #[error(transparent)]
    Aws(#[from] AwsError),
}

/// An object read back.
#[derive(Debug, Clone)]
pub(crate) struct Object {
    pub(crate) body: Vec<u8>,
    pub(crate) etag: String,
}

/// One bucket's client.
#[derive(Debug, Clone)]
pub(crate) struct S3 {
    client: aws_sdk_s3::Client,
    bucket: String,
}

/// Whether a custom endpoint is set for S3 (then path-style addresses).
fn custom_endpoint(conf: &SdkConfig) -> bool {
    let set = |v: &str| std::env::var(v).is_ok_and(|s| !s.trim().is_empty());
    conf.endpoint_url().is_some() || set("AWS_ENDPOINT_URL_S3") || set("AWS_ENDPOINT_URL")
}

impl S3 {
    pub(crate) fn new(conf: &SdkConfig, bucket: &str) -> S3 {
        let config = aws_sdk_s3::config::Builder::from(conf)
            .force_path_style(custom_endpoint(conf))
            .interceptor(super::log::RequestLog)
            .build();
        S3 {
            client: aws_sdk_s3::Client::from_conf(config),
            bucket: bucket.to_string(),
        }
    }

    pub(crate) fn bucket(&self) -> &str {
        &self.bucket
    }

    fn precondition(&self, key: &str) -> S3Error {
        S3Error::Precondition {
            bucket: self.bucket.clone(),
            key: key.to_string(),
        }
    }

    fn call(&self, op: &str, key: &str) -> String {
        format!("S3 {op} s3://{}/{key}", self.bucket)
    }

    /// `PutObject`; returns the new version's ETag.
    pub(crate) async fn put(&self, key: &str, body: Vec<u8>, how: Put) -> Result<String, S3Error> {
        let mut req = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .body(ByteStream::from(body));
        req = match &how {
            Put::Create => req.if_none_match("*"),
            Put::Replace(etag) => req.if_match(etag),
            Put::Overwrite => req,
        };
        match req.send().await {
            Ok(out) => Ok(out.e_tag().unwrap_or_default().to_string()),
            Err(e) if lost_condition(e.code(), status_of(&e)) => Err(self.precondition(key)),
            Err(e) => Err(classify(self.call("PutObject", key), "s3:PutObject", e).into()),
        }
    }

    /// `GetObject`; `None` when no object has the key.
    pub(crate) async fn get(&self, key: &str) -> Result<Option<Object>, S3Error> {
        let out = match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) if e.code() == Some("NoSuchKey") || status_of(&e) == Some(404) => {
                return Ok(None)
            }
            Err(e) => return Err(classify(self.call("GetObject", key), "s3:GetObject", e).into()),
        };
        let etag = out.e_tag().unwrap_or_default().to_string();
        let body = out.body.collect().await.map_err(|e| AwsError::Other {
            call: self.call("GetObject", key),
            message: e.to_string(),
        })?;
        Ok(Some(Object {
            body: body.into_bytes().to_vec(),
            etag,
        }))
    }

    /// `DeleteObject`, only of the version with `etag` when one is given
    /// (a conditional delete). Deleting a missing key succeeds.
    pub(crate) async fn delete(&self, key: &str, etag: Option<&str>) -> Result<(), S3Error> {
        let mut req = self.client.delete_object().bucket(&self.bucket).key(key);
        if let Some(etag) = etag {
            req = req.if_match(etag);
        }
        match req.send().await {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some("NoSuchKey") || status_of(&e) == Some(404) => Ok(()),
            Err(e) if lost_condition(e.code(), status_of(&e)) => Err(self.precondition(key)),
            Err(e) => Err(classify(self.call("DeleteObject", key), "s3:DeleteObject", e).into()),
        }
    }

    /// Every key under `prefix` (`ListObjectsV2`, all pages), sorted.
    pub(crate) async fn list(&self, prefix: &str) -> Result<Vec<String>, S3Error> {
        let mut keys = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let out = self
                .client
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(prefix)
                .set_continuation_token(token.take())
                .send()
                .await
                .map_err(|e| classify(self.call("ListObjectsV2", prefix), "s3:ListBucket", e))?;
            keys.extend(
                out.contents()
                    .iter()
                    .filter_map(|o| o.key().map(str::to_string)),
            );
            match out.next_continuation_token() {
                Some(t) if out.is_truncated() == Some(true) => token = Some(t.to_string()),
                _ => break,
            }
        }
        keys.sort();
        Ok(keys)
    }
}

fn status_of<E, R>(e: &aws_sdk_s3::error::SdkError<E, R>) -> Option<u16>
where
    R: HasStatus,
{
    e.raw_response().map(HasStatus::status_code)
}

/// The status of a raw HTTP response (for [`status_of`]).
trait HasStatus {
    fn status_code(&self) -> u16;
}

impl HasStatus for aws_smithy_runtime_api::http::Response {
    fn status_code(&self) -> u16 {
        self.status().as_u16()
    }
}

/// 412 PreconditionFailed, or 409 ConditionalRequestConflict (two
/// conditional writes of one key at once: S3 lets one win).
fn lost_condition(code: Option<&str>, status: Option<u16>) -> bool {
    matches!(
        code,
        Some("PreconditionFailed" | "ConditionalRequestConflict")
    ) || matches!(status, Some(412 | 409))
}

#[cfg(test)]
mod tests {
    use super::lost_condition;

    #[test]
    fn a_lost_condition_is_412_or_409() {
        assert!(lost_condition(Some("PreconditionFailed"), Some(412)));
        assert!(lost_condition(Some("ConditionalRequestConflict"), None));
        assert!(lost_condition(None, Some(409)));
        assert!(!lost_condition(Some("AccessDenied"), Some(403)));
        assert!(!lost_condition(None, None));
    }
}
