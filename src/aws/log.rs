//! The request log of `-vv` (and `-v` for retries): every attempt of every
//! AWS call, with its service and operation, HTTP method, target (the path:
//! cluster, entry, role), status and time, and the wait before a retry.
//! Never headers, query strings or bodies: they carry the signature, the
//! session token and, in STS answers, credentials.

use std::time::{Duration, Instant};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::retries::RequestAttempts;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};

/// The interceptor every client of [`super`] carries.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct RequestLog;

/// The current attempt: its method and path, when it was sent, and when the
/// last one ended. The request itself is gone once sent.
#[derive(Debug, Clone)]
struct Attempt {
    method: String,
    target: String,
    sent: Instant,
    ended: Option<Instant>,
}

impl Storable for Attempt {
    type Storer = StoreReplace<Self>;
}

fn names(cfg: &ConfigBag) -> (String, String) {
    cfg.load::<Metadata>().map_or_else(
        || (String::new(), String::new()),
        |m| (m.service().to_string(), m.name().to_string()),
    )
}

fn attempt(cfg: &ConfigBag) -> u32 {
    cfg.load::<RequestAttempts>()
        .map_or(1, RequestAttempts::attempts)
}

/// The path of a URI, without scheme, host or query.
fn path_of(uri: &str) -> &str {
    let rest = uri.split_once("://").map_or(uri, |(_, r)| r);
    let path = rest.find('/').map_or("/", |at| &rest[at..]);
    path.split(['?', '#']).next().unwrap_or("/")
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl Intercept for RequestLog {
    fn name(&self) -> &'static str {
        "aws-auth-migrate request log"
    }

    fn read_before_transmit(
        &self,
        ctx: &BeforeTransmitInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let now = Instant::now();
        let attempt = attempt(cfg);
        if attempt > 1 {
            if let Some(ended) = cfg.load::<Attempt>().and_then(|t| t.ended) {
                let (service, operation) = names(cfg);
                tracing::info!(
                    service,
                    operation,
                    attempt,
                    waited_ms = ms(now - ended),
                    "AWS retry"
                );
            }
        }
        let request = ctx.request();
        cfg.interceptor_state().store_put(Attempt {
            method: request.method().to_string(),
            target: path_of(request.uri()).to_string(),
            sent: now,
            ended: None,
        });
        Ok(())
    }

    fn read_after_attempt(
        &self,
        ctx: &FinalizerInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let now = Instant::now();
        // None: the attempt failed before it was sent (no credentials...).
        let Some(sent) = cfg.load::<Attempt>().cloned() else {
            return Ok(());
        };
        let (method, target, elapsed_ms) = (
            sent.method.clone(),
            sent.target.clone(),
            ms(now - sent.sent),
        );
        cfg.interceptor_state().store_put(Attempt {
            ended: Some(now),
            ..sent
        });
        let (service, operation) = names(cfg);
        let attempt = attempt(cfg);
        match ctx.response().map(|r| r.status().as_u16()) {
            Some(status) => tracing::debug!(
                service,
                operation,
                method,
                target,
                status,
                attempt,
                elapsed_ms,
                "AWS request"
            ),
            None => tracing::debug!(
                service,
                operation,
                method,
                target,
                attempt,
                elapsed_ms,
                "AWS request got no answer"
            ),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::path_of;

    #[test]
    fn the_target_is_the_path_alone() {
        assert_eq!(
            path_of("https://eks.eu-west-1.amazonaws.com/clusters/prod/access-entries?maxResults=100&nextToken=x"),
            "/clusters/prod/access-entries"
        );
        assert_eq!(path_of("http://127.0.0.1:9/"), "/");
        assert_eq!(path_of("http://127.0.0.1:9"), "/");
        assert_eq!(path_of("/clusters/a#f"), "/clusters/a");
    }
}
