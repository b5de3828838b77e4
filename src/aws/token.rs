//! The bearer token of an EKS cluster's Kubernetes API, minted as
//! `aws eks get-token` mints it: a presigned STS `GetCallerIdentity` URL
//! whose signature covers the header `x-k8s-aws-id: CLUSTER`, base64url
//! without padding, after `k8s-aws-v1.`. The API server's authenticator
//! calls that URL and treats the request as made by the identity STS names.
//!
//! The credentials are those of the configuration the EKS client was built
//! from (so an assumed `--role-arn` too), and the STS endpoint is the one
//! the STS client uses (`AWS_ENDPOINT_URL_STS`, `AWS_ENDPOINT_URL`, the
//! profile's `endpoint_url`, else `https://sts.REGION.amazonaws.com`).
//! The token is a credential: it is never logged.

use std::time::{Duration, SystemTime};

use aws_config::SdkConfig;
use aws_credential_types::provider::ProvideCredentials;
use aws_sigv4::http_request::{
    sign, SignableBody, SignableRequest, SignatureLocation, SigningSettings,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use aws_types::service_config::ServiceConfigKey;

use super::error::AwsError;

/// The token's prefix (`k8s-aws-v1.`).
pub(crate) const PREFIX: &str = "k8s-aws-v1.";

/// The header naming the cluster, signed into the token.
pub(crate) const CLUSTER_ID_HEADER: &str = "x-k8s-aws-id";

/// How long the presigned URL says it is valid (EKS accepts a token for
/// 15 minutes from its signing time whatever this says; the CLI sends 60).
const EXPIRES: Duration = Duration::from_secs(60);

const CALL: &str = "EKS token (presigned sts:GetCallerIdentity)";

/// A token for cluster `cluster` from the credentials of `conf`, signed now.
pub(crate) async fn eks_token(conf: &SdkConfig, cluster: &str) -> Result<String, AwsError> {
    let provider = conf
        .credentials_provider()
        .ok_or_else(|| AwsError::NoCredentials {
            call: CALL.into(),
            message: "no credentials provider is configured".into(),
        })?;
    let creds = provider
        .provide_credentials()
        .await
        .map_err(|e| AwsError::NoCredentials {
            call: CALL.into(),
            message: e.to_string(),
        })?;
    let region = super::config::region(conf);
    let base = sts_endpoint(conf, &region);
    presign(
        &Identity::from(creds),
        &region,
        &base,
        cluster,
        SystemTime::now(),
    )
}

/// The STS endpoint the STS client would use (see the module's doc): the
/// same lookup as `aws_sdk_sts::config::Builder::from(&SdkConfig)` makes
/// (`AWS_ENDPOINT_URL_STS`, the profile's `services` section, then the
/// global `AWS_ENDPOINT_URL` or `endpoint_url`), else the regional one.
fn sts_endpoint(conf: &SdkConfig, region: &str) -> String {
    let key = ServiceConfigKey::builder()
        .service_id("STS")
        .env("AWS_ENDPOINT_URL")
        .profile("endpoint_url")
        .build();
    key.ok()
        .and_then(|key| conf.service_config().and_then(|sc| sc.load_config(key)))
        .or_else(|| conf.endpoint_url().map(str::to_string))
        .filter(|url| !url.trim().is_empty())
        .unwrap_or_else(|| {
            let suffix = if region.starts_with("cn-") {
                "amazonaws.com.cn"
            } else {
                "amazonaws.com"
            };
            format!("https://sts.{region}.{suffix}")
        })
}

/// The presigned URL as a token.
fn presign(
    identity: &Identity,
    region: &str,
    base: &str,
    cluster: &str,
    time: SystemTime,
) -> Result<String, AwsError> {
    let failed = |message: String| AwsError::Other {
        call: CALL.into(),
        message,
    };
    let url = format!(
        "{}/?Action=GetCallerIdentity&Version=2011-06-15",
        base.trim_end_matches('/')
    );
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(EXPIRES);
    let params = v4::SigningParams::builder()
        .identity(identity)
        .region(region)
        .name("sts")
        .time(time)
        .settings(settings)
        .build()
        .map_err(|e| failed(e.to_string()))?
        .into();
    let request = SignableRequest::new(
        "GET",
        url.as_str(),
        std::iter::once((CLUSTER_ID_HEADER, cluster)),
        SignableBody::Bytes(&[]),
    )
    .map_err(|e| failed(format!("the STS endpoint {base:?}: {e}")))?;
    let (instructions, _signature) = sign(request, &params)
        .map_err(|e| failed(e.to_string()))?
        .into_parts();
    let mut presigned = url;
    for (name, value) in instructions.params() {
        presigned.push('&');
        presigned.push_str(&encode(name));
        presigned.push('=');
        presigned.push_str(&encode(value));
    }
    Ok(format!("{PREFIX}{}", base64url(presigned.as_bytes())))
}

/// Percent-encoding of a query component: all but RFC 3986's unreserved.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Base64url without padding.
fn base64url(bytes: &[u8]) -> String {
    aws_smithy_types::base64::encode(bytes)
        .trim_end_matches('=')
        .chars()
        .map(|c| match c {
            '+' => '-',
            '/' => '_',
            c => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_credential_types::Credentials;

    fn decode(token: &str) -> String {
        let b64: String = token
            .strip_prefix(PREFIX)
            .unwrap()
            .chars()
            .map(|c| match c {
                '-' => '+',
                '_' => '/',
                c => c,
            })
            .collect();
        let padded = format!("{b64}{}", "=".repeat((4 - b64.len() % 4) % 4));
        String::from_utf8(aws_smithy_types::base64::decode(padded).unwrap()).unwrap()
    }

    #[test]
    fn the_token_is_a_presigned_get_caller_identity_for_the_cluster() {
        let creds = Credentials::new("AKIDEXAMPLE", "secret", Some("tok+/=".into()), None, "t");
        let time = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let token = presign(
            &Identity::from(creds),
            "eu-west-1",
            "http://127.0.0.1:4566/",
            "prod",
            time,
        )
        .unwrap();
        assert!(token.starts_with("k8s-aws-v1."), "{token}");
        assert!(!token.contains('='), "no padding: {token}");
        let url = decode(&token);
        assert!(
            url.starts_with("http://127.0.0.1:4566/?Action=GetCallerIdentity&Version=2011-06-15&"),
            "{url}"
        );
        for part in [
            "X-Amz-Algorithm=AWS4-HMAC-SHA256",
            "X-Amz-Credential=AKIDEXAMPLE%2F20231114%2Feu-west-1%2Fsts%2Faws4_request",
            "X-Amz-Date=20231114T221320Z",
            "X-Amz-Expires=60",
            "X-Amz-SignedHeaders=host%3Bx-k8s-aws-id",
            "X-Amz-Security-Token=tok%2B%2F%3D",
            "X-Amz-Signature=",
        ] {
            assert!(url.contains(part), "{part} in {url}");
        }
    }

    #[test]
    fn the_sts_endpoint_defaults_to_the_regional_one() {
        // No service config (it is what reads AWS_ENDPOINT_URL_STS).
        let conf = SdkConfig::builder().build();
        assert_eq!(
            sts_endpoint(&conf, "eu-west-1"),
            "https://sts.eu-west-1.amazonaws.com"
        );
        assert_eq!(
            sts_endpoint(&conf, "cn-north-1"),
            "https://sts.cn-north-1.amazonaws.com.cn"
        );
        let conf = SdkConfig::builder().endpoint_url("http://x:1").build();
        assert_eq!(sts_endpoint(&conf, "eu-west-1"), "http://x:1");
    }
}
