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

    /// [`AwsError::AccessDenied`] once the caller is known (STS
    /// GetCallerIdentity): the principal that was refused.
    #[error("{call}: access denied for {principal} ({message}); grant {permission} to that principal, or run as one that has it")]
    AccessDeniedFor {
        call: String,
        permission: String,
        principal: String,
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

    #[error("{call}: cannot reach {endpoint} ({message}); check that this host can reach it (network, VPN, HTTPS_PROXY/NO_PROXY), or point AWS_ENDPOINT_URL (or --region) at a reachable endpoint")]
    Unreachable {
        call: String,
        endpoint: String,
        message: String,
    },

    #[error("no AWS profile named {profile} (from {setting}) in {files}; check the name (aws configure list-profiles), or add it (aws configure --profile {profile})")]
    UnknownProfile {
        profile: String,
        setting: String,
        files: String,
    },

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
                    endpoint: endpoint_of::<E>(),
                    message: source_chain(&err),
                };
            }
            if let Some(e) = credentials_failure(&call, &err, &text) {
                return e;
            }
            return AwsError::Unreachable {
                call,
                endpoint: endpoint_of::<E>(),
                message: source_chain(&err),
            };
        }
        SdkError::TimeoutError(_) => {
            return AwsError::Unreachable {
                call,
                endpoint: endpoint_of::<E>(),
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
            AwsError::AccessDenied { .. } | AwsError::AccessDeniedFor { .. } => "AccessDenied",
            AwsError::ClusterNotFound { .. } => "ClusterNotFound",
            AwsError::Throttled { .. } => "Throttled",
            AwsError::Unreachable { .. } => "Unreachable",
            AwsError::UnknownProfile { .. } => "UnknownProfile",
            AwsError::Service { .. } => "Service",
            AwsError::Other { .. } => "Error",
            AwsError::NoRegion => "NoRegion",
        }
    }

    /// An EKS access denial names the principal refused: `caller_arn`, the
    /// caller STS reported, which makes every EKS call. Other errors, and
    /// IAM's (made with the roles of `--iam-role-for` in other accounts),
    /// are kept as they are.
    pub(crate) fn for_caller(self, caller_arn: &str) -> AwsError {
        match self {
            AwsError::AccessDenied {
                call,
                permission,
                message,
            } if permission.starts_with("eks:") && !caller_arn.is_empty() => {
                AwsError::AccessDeniedFor {
                    call,
                    permission,
                    principal: caller_arn.to_string(),
                    message,
                }
            }
            other => other,
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
        message: if text.contains("no credentials found in chain") {
            format!(
                "tried the environment (AWS_ACCESS_KEY_ID), the profile (--profile, AWS_PROFILE or default) in {}, web identity (AWS_WEB_IDENTITY_TOKEN_FILE), the ECS container and EC2 instance metadata",
                profile_files()
            )
        } else {
            source_chain(err)
        },
    })
}

/// The endpoint a client of the service behind `E` talks to, and the
/// setting it comes from: `http://127.0.0.1:9 (from AWS_ENDPOINT_URL)`.
/// The service is read from the SDK crate of the operation's error type.
fn endpoint_of<E>() -> String {
    let ty = std::any::type_name::<E>();
    let (service, var) = if ty.starts_with("aws_sdk_iam::") {
        ("IAM", "AWS_ENDPOINT_URL_IAM")
    } else if ty.starts_with("aws_sdk_sts::") {
        ("STS", "AWS_ENDPOINT_URL_STS")
    } else {
        ("EKS", "AWS_ENDPOINT_URL_EKS")
    };
    endpoint_from_env(service, var, |k| std::env::var(k).ok())
}

/// The pure part of [`endpoint_of`], over a lookup of environment variables.
fn endpoint_from_env(service: &str, var: &str, env: impl Fn(&str) -> Option<String>) -> String {
    let set = |k: &str| env(k).filter(|v| !v.trim().is_empty());
    let ignored =
        set("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    if ignored {
        return format!(
            "the region's default {service} endpoint (AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is true)"
        );
    }
    for k in [var, "AWS_ENDPOINT_URL"] {
        if let Some(url) = set(k) {
            return format!("{} (from {k})", url.trim());
        }
    }
    format!("the region's default {service} endpoint (neither {var} nor AWS_ENDPOINT_URL is set)")
}

/// Where profiles are read: `~/.aws/config or ~/.aws/credentials`, or the
/// files of `AWS_CONFIG_FILE` and `AWS_SHARED_CREDENTIALS_FILE`.
pub(crate) fn profile_files() -> String {
    profile_files_from(|k| std::env::var(k).ok())
}

fn profile_files_from(env: impl Fn(&str) -> Option<String>) -> String {
    let file = |var: &str, default: &str| match env(var).filter(|v| !v.trim().is_empty()) {
        Some(path) => format!("{path} ({var})"),
        None => default.to_string(),
    };
    format!(
        "{} or {}",
        file("AWS_CONFIG_FILE", "~/.aws/config"),
        file("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials")
    )
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

    #[test]
    fn an_eks_denial_names_the_caller() {
        let caller = "arn:aws:iam::111122223333:user/x";
        let e = parts(Some("AccessDeniedException"), Some(403)).for_caller(caller);
        assert_eq!(
            e.to_string(),
            "DescribeCluster prod: access denied for arn:aws:iam::111122223333:user/x (m); grant eks:DescribeCluster to that principal, or run as one that has it"
        );
        assert_eq!(e.kind(), "AccessDenied");
        // IAM calls may run as another principal (--iam-role-for): unchanged.
        let iam = || {
            from_parts(
                "GetRole r".into(),
                "iam:GetRole",
                Some("AccessDenied"),
                Some(403),
                "m".into(),
            )
        };
        assert_eq!(iam().for_caller(caller), iam());
        let other = || parts(Some("ThrottlingException"), Some(400));
        assert_eq!(other().for_caller(caller), other());
    }

    #[test]
    fn the_endpoint_names_its_setting() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                vars.iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| (*v).to_string())
            }
        };
        let eks = |vars| endpoint_from_env("EKS", "AWS_ENDPOINT_URL_EKS", env(vars));
        assert_eq!(
            eks(&[("AWS_ENDPOINT_URL", "http://127.0.0.1:9")]),
            "http://127.0.0.1:9 (from AWS_ENDPOINT_URL)"
        );
        assert_eq!(
            eks(&[
                ("AWS_ENDPOINT_URL", "http://a:1"),
                ("AWS_ENDPOINT_URL_EKS", "http://b:2")
            ]),
            "http://b:2 (from AWS_ENDPOINT_URL_EKS)"
        );
        assert_eq!(
            eks(&[
                ("AWS_ENDPOINT_URL", "http://a:1"),
                ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true")
            ]),
            "the region's default EKS endpoint (AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is true)"
        );
        assert_eq!(
            eks(&[]),
            "the region's default EKS endpoint (neither AWS_ENDPOINT_URL_EKS nor AWS_ENDPOINT_URL is set)"
        );
        assert_eq!(
            profile_files_from(env(&[("AWS_CONFIG_FILE", "/c")])),
            "/c (AWS_CONFIG_FILE) or ~/.aws/credentials"
        );
        assert_eq!(
            std::any::type_name::<aws_sdk_iam::operation::get_role::GetRoleError>()
                .split("::")
                .next(),
            Some("aws_sdk_iam"),
            "endpoint_of reads the service from the error type's crate"
        );
    }
}
