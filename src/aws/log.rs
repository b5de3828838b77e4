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

/// When the current attempt was sent, and when the last one ended.
#[derive(Debug, Clone, Copy)]
struct Times {
    sent: Instant,
    ended: Option<Instant>,
}

impl Storable for Times {
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
        _ctx: &BeforeTransmitInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let now = Instant::now();
        let attempt = attempt(cfg);
        if attempt > 1 {
            if let Some(ended) = cfg.load::<Times>().and_then(|t| t.ended) {
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
        cfg.interceptor_state().store_put(Times {
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
        let sent = cfg.load::<Times>().map_or(now, |t| t.sent);
        cfg.interceptor_state().store_put(Times {
            sent,
            ended: Some(now),
        });
        let (service, operation) = names(cfg);
        let attempt = attempt(cfg);
        let (method, target) = ctx.request().map_or_else(
            || (String::new(), String::new()),
            |r| (r.method().to_string(), path_of(r.uri()).to_string()),
        );
        let elapsed_ms = ms(now - sent);
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
