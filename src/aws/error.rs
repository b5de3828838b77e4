//! AWS errors as one clear line: which call failed, why, and what to do.
//!
//! Every adapter call maps the SDK's error through [`classify`], so the edge
//! prints `error: <call> ...: <fix>` and never a debug dump.

use aws_sdk_eks::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AwsError {
    #[error("{call}: the AWS credentials have expired ({message}); refresh them (aws sso login, or new temporary keys) and run again")]
    ExpiredCredentials { call: String, message: String },

    #[error("{call}: the AWS credentials are not valid ({message}); check the access key, AWS_PROFILE or --profile")]
    InvalidCredentials { call: String, message: String },

    #[error("{call}: no AWS credentials found ({message}); set AWS_PROFILE or pass --profile, or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")]
    NoCredentials { call: String, message: String },

    #[error("{call}: assuming the role of --role-arn or --iam-role-for failed ({code}: {message}); check that the role exists, that its trust policy lets the caller assume it, and that the caller has sts:AssumeRole on it")]
    AssumeRole {
        call: String,
        code: String,
        message: String,
    },

    #[error("{call}: access denied ({message}); the caller needs {permission}")]
    AccessDenied {
        call: String,
        permission: String,
        message: String,
    },

    #[error("{call}: no cluster named {cluster} in {region} ({message}); check --cluster and --region (or AWS_REGION)")]
    ClusterNotFound {
        call: String,
        cluster: String,
        region: String,
        message: String,
    },

    #[error("{call}: still throttled after every retry ({message}); run again later or with a lower --concurrency")]
    Throttled { call: String, message: String },

    #[error("{call}: cannot reach the AWS endpoint ({message}); check the network, a proxy, or AWS_ENDPOINT_URL")]
    Unreachable { call: String, message: String },

    #[error("{call}: {code}: {message}")]
    Service {
        call: String,
        code: String,
        message: String,
    },

    #[error("{call}: {message}")]
    Other { call: String, message: String },

    #[error("no AWS region: pass --region or set AWS_REGION (or a region in the profile)")]
    NoRegion,
}

/// The codes AWS answers for throttling (EKS, IAM and STS spell it differently).
const THROTTLING: [&str; 7] = [
    "ThrottlingException",
    "Throttling",
    "ThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "SlowDown",
];

/// Turns an SDK error into an [`AwsError`]. `call` names the operation and
/// its target (`DescribeCluster prod`); `permission` is the IAM action the
/// caller needs, for access-denied errors.
pub(crate) fn classify<E>(call: impl Into<String>, permission: &str, err: SdkError<E>) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let call = call.into();
    let status = err.raw_response().map(|r| r.status().as_u16());
    let code = err.code().map(str::to_string);
    let message = err.message().map_or_else(
        || one_line(&DisplayErrorContext(&err).to_string()),
        str::to_string,
    );
    match &err {
        SdkError::DispatchFailure(d) => {
            let text = one_line(&DisplayErrorContext(&err).to_string());
            if d.is_io() || d.is_timeout() {
                return AwsError::Unreachable {
                    call,
                    message: text,
                };
            }
            if let Some(e) = credentials_failure(&call, &err, &text) {
                return e;
            }
            return AwsError::Unreachable {
                call,
                message: text,
            };
        }
        SdkError::TimeoutError(_) => {
            return AwsError::Unreachable {
                call,
                message: "timed out".into(),
            }
        }
        SdkError::ConstructionFailure(_) => {
            let text = one_line(&DisplayErrorContext(&err).to_string());
            if let Some(e) = credentials_failure(&call, &err, &text) {
                return e;
            }
            return AwsError::Other {
                call,
                message: text,
            };
        }
        _ => {}
    }
    from_parts(call, permission, code.as_deref(), status, message)
}

/// The pure part of [`classify`]: from an error code, status and message.
pub(crate) fn from_parts(
    call: String,
    permission: &str,
    code: Option<&str>,
    status: Option<u16>,
    message: String,
) -> AwsError {
    match code {
        Some(
            "ExpiredToken" | "ExpiredTokenException" | "RequestExpired" | "TokenRefreshRequired",
        ) => AwsError::ExpiredCredentials { call, message },
        Some(
            "InvalidClientTokenId"
            | "UnrecognizedClientException"
            | "SignatureDoesNotMatch"
            | "InvalidSignatureException"
            | "IncompleteSignature"
            | "MissingAuthenticationToken",
        ) => AwsError::InvalidCredentials { call, message },
        Some("AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation") => {
            AwsError::AccessDenied {
                call,
                permission: permission.to_string(),
                message,
            }
        }
        Some(c) if THROTTLING.contains(&c) => AwsError::Throttled { call, message },
        None if status == Some(429) => AwsError::Throttled { call, message },
        None if status == Some(403) => AwsError::AccessDenied {
            call,
            permission: permission.to_string(),
            message,
        },
        Some(c) => AwsError::Service {
            call,
            code: c.to_string(),
            message,
        },
        None => AwsError::Other {
            call,
            message: match status {
                Some(s) => format!("HTTP {s}: {message}"),
                None => message,
            },
        },
    }
}

impl AwsError {
    /// A short name for the kind of failure, for journals and reports.
    pub fn kind(&self) -> &'static str {
        match self {
            AwsError::ExpiredCredentials { .. } => "ExpiredCredentials",
            AwsError::InvalidCredentials { .. } => "InvalidCredentials",
            AwsError::NoCredentials { .. } => "NoCredentials",
            AwsError::AssumeRole { .. } => "AssumeRole",
            AwsError::AccessDenied { .. } => "AccessDenied",
            AwsError::ClusterNotFound { .. } => "ClusterNotFound",
            AwsError::Throttled { .. } => "Throttled",
            AwsError::Unreachable { .. } => "Unreachable",
            AwsError::Service { .. } => "Service",
            AwsError::Other { .. } => "Error",
            AwsError::NoRegion => "NoRegion",
        }
    }

    /// The service's error code, when AWS answered with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            AwsError::Service { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// A request that failed before it was sent because its credentials could
/// not be had: the role of `--role-arn`/`--iam-role-for` was refused (or
/// the credentials assuming it are expired or invalid), or there are none.
fn credentials_failure(
    call: &str,
    err: &(dyn std::error::Error + 'static),
    text: &str,
) -> Option<AwsError> {
    let call = call.to_string();
    if let Some((code, message)) = assume_role_failure(err) {
        // The caller's own credentials expired or invalid: said as such.
        let own = from_parts(
            call.clone(),
            "sts:AssumeRole",
            Some(&code),
            None,
            message.clone(),
        );
        return Some(match own {
            AwsError::ExpiredCredentials { .. } | AwsError::InvalidCredentials { .. } => own,
            _ => AwsError::AssumeRole {
                call,
                code,
                message,
            },
        });
    }
    (text.contains("credentials") || text.contains("identity")).then(|| AwsError::NoCredentials {
        call,
        message: source_chain(err),
    })
}

/// The STS answer behind a credentials failure, when the credentials come
/// from `AssumeRole` (`--role-arn`, `--iam-role-for`): its code and message.
fn assume_role_failure(err: &(dyn std::error::Error + 'static)) -> Option<(String, String)> {
    use aws_sdk_sts::operation::assume_role::AssumeRoleError;
    let mut cur = err.source();
    while let Some(e) = cur {
        if let Some(sdk) = e.downcast_ref::<aws_sdk_sts::error::SdkError<AssumeRoleError>>() {
            let code = sdk.code().unwrap_or("Error").to_string();
            let message = sdk.message().map_or_else(
                || one_line(&DisplayErrorContext(sdk).to_string()),
                str::to_string,
            );
            return Some((code, message));
        }
        cur = e.source();
    }
    None
}

/// The messages of an error and its sources, without debug dumps:
/// `dispatch failure: an error occurred while loading credentials: ...`.
fn source_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur = Some(err);
    while let Some(e) = cur {
        let text = one_line(&e.to_string());
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cur = e.source();
    }
    parts.join(": ")
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("{text}")]
    struct Chain {
        text: &'static str,
        #[source]
        next: Option<Box<Chain>>,
    }

    #[test]
    fn source_chain_joins_messages_once_without_debug_dumps() {
        let err = Chain {
            text: "dispatch failure",
            next: Some(Box::new(Chain {
                text: "an error   occurred\nwhile loading credentials",
                next: Some(Box::new(Chain {
                    text: "while loading credentials",
                    next: None,
                })),
            })),
        };
        assert_eq!(
            source_chain(&err),
            "dispatch failure: an error occurred while loading credentials"
        );
        assert_eq!(assume_role_failure(&err), None);
    }

    fn parts(code: Option<&str>, status: Option<u16>) -> AwsError {
        from_parts(
            "DescribeCluster prod".into(),
            "eks:DescribeCluster",
            code,
            status,
            "m".into(),
        )
    }

    #[test]
    fn codes_become_kinds() {
        assert!(matches!(
            parts(Some("ExpiredTokenException"), Some(403)),
            AwsError::ExpiredCredentials { .. }
        ));
        assert!(matches!(
            parts(Some("ExpiredToken"), Some(400)),
            AwsError::ExpiredCredentials { .. }
        ));
        assert!(matches!(
            parts(Some("InvalidClientTokenId"), Some(403)),
            AwsError::InvalidCredentials { .. }
        ));
        assert!(matches!(
            parts(Some("AccessDeniedException"), Some(403)),
            AwsError::AccessDenied { .. }
        ));
        assert!(matches!(
            parts(Some("ThrottlingException"), Some(429)),
            AwsError::Throttled { .. }
        ));
        assert!(matches!(
            parts(Some("Throttling"), Some(400)),
            AwsError::Throttled { .. }
        ));
        assert!(matches!(parts(None, Some(429)), AwsError::Throttled { .. }));
        assert_eq!(
            parts(Some("InvalidParameterException"), Some(400)).code(),
            Some("InvalidParameterException")
        );
    }

    #[test]
    fn messages_name_the_call_and_the_fix() {
        let e = parts(Some("AccessDeniedException"), Some(403)).to_string();
        assert_eq!(
            e,
            "DescribeCluster prod: access denied (m); the caller needs eks:DescribeCluster"
        );
        let e = parts(Some("ExpiredTokenException"), None).to_string();
        assert!(
            e.starts_with("DescribeCluster prod: the AWS credentials have expired"),
            "{e}"
        );
        assert!(!e.contains('\n'));
    }
}
