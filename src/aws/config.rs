//! Loading the AWS configuration: the standard chain (environment, profile,
//! SSO, process credentials, web identity, IMDS), `--profile`, `--region`,
//! an optional role to assume, and adaptive retries.
//!
//! Endpoints: aws-config reads `AWS_ENDPOINT_URL` and the per-service
//! variables (`AWS_ENDPOINT_URL_EKS`, `AWS_ENDPOINT_URL_IAM`,
//! `AWS_ENDPOINT_URL_STS`) and the profile's `endpoint_url` by itself; the
//! tests run against the emulator through these variables only.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::sts::AssumeRoleProvider;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_types::sdk_config::SharedCredentialsProvider;

use super::error::AwsError;

/// Attempts per call (the first and the retries). Throttling is retried
/// with backoff and a client-side rate limiter (adaptive mode), so a busy
/// account slows the plan down instead of failing it.
pub(crate) const MAX_ATTEMPTS: u32 = 8;

pub(crate) const SESSION_NAME: &str = "aws-auth-migrate";

#[derive(Debug, Clone, Default)]
pub struct AwsOptions {
    pub profile: Option<String>,
    pub region: Option<String>,
    /// A role to assume for every call (EKS, IAM, STS).
    pub role_arn: Option<String>,
}

/// The retry policy of every client: adaptive, [`MAX_ATTEMPTS`] attempts.
/// `AWS_AUTH_MIGRATE_INITIAL_BACKOFF_MS` shortens the first backoff (the
/// tests use it to keep throttled runs quick); the default is the SDK's 1 s.
/// `AWS_RETRY_MODE=standard` (the SDKs' own variable) chooses plain
/// exponential backoff instead, still with [`MAX_ATTEMPTS`] attempts.
pub(crate) fn retry_config() -> RetryConfig {
    let standard =
        std::env::var("AWS_RETRY_MODE").is_ok_and(|m| m.eq_ignore_ascii_case("standard"));
    let mut retry = if standard {
        RetryConfig::standard()
    } else {
        RetryConfig::adaptive()
    }
    .with_max_attempts(MAX_ATTEMPTS);
    if let Some(ms) = std::env::var("AWS_AUTH_MIGRATE_INITIAL_BACKOFF_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        retry = retry
            .with_initial_backoff(Duration::from_millis(ms))
            .with_max_backoff(Duration::from_millis(ms.saturating_mul(20).max(1)));
    }
    retry
}

/// Loads the configuration the clients share. Fails when no region is set.
pub(crate) async fn load(opts: &AwsOptions) -> Result<SdkConfig, AwsError> {
    check_profile(opts.profile.as_deref()).await?;
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).retry_config(retry_config());
    if let Some(p) = &opts.profile {
        loader = loader.profile_name(p);
    }
    if let Some(r) = &opts.region {
        loader = loader.region(Region::new(r.clone()));
    }
    let base = loader.load().await;
    if base.region().is_none() {
        return Err(AwsError::NoRegion);
    }
    match &opts.role_arn {
        None => Ok(base),
        Some(role) => Ok(assume(&base, role).await),
    }
}

/// Fails with [`AwsError::UnknownProfile`] when `--profile` (or else
/// `AWS_PROFILE`) names a profile that neither the config nor the
/// credentials file defines. `default` may be absent (the SDK allows it);
/// files that cannot be read or parsed are left to the SDK to report.
// aws-config's alias of aws-runtime's `EnvConfigFiles`: aws-runtime is not
// a direct dependency, and the alias names the same type.
#[allow(deprecated)]
async fn check_profile(flag: Option<&str>) -> Result<(), AwsError> {
    use aws_config::profile::profile_file::ProfileFiles;
    use aws_types::os_shim_internal::{Env, Fs};
    let (profile, setting) = match flag {
        Some(p) => (p.to_string(), "--profile"),
        None => match std::env::var("AWS_PROFILE") {
            Ok(p) if !p.trim().is_empty() => (p, "AWS_PROFILE"),
            _ => return Ok(()),
        },
    };
    if profile == "default" {
        return Ok(());
    }
    let Ok(set) =
        aws_config::profile::load(&Fs::real(), &Env::real(), &ProfileFiles::default(), None).await
    else {
        return Ok(());
    };
    if set.get_profile(&profile).is_some() {
        return Ok(());
    }
    Err(AwsError::UnknownProfile {
        profile,
        setting: setting.to_string(),
        files: super::error::profile_files(),
    })
}

/// The same configuration with credentials from assuming `role_arn`
/// (through STS `AssumeRole`, refreshed as they expire).
pub(crate) async fn assume(base: &SdkConfig, role_arn: &str) -> SdkConfig {
    let provider = AssumeRoleProvider::builder(role_arn)
        .session_name(SESSION_NAME)
        .configure(base)
        .build()
        .await;
    base.to_builder()
        .credentials_provider(SharedCredentialsProvider::new(provider))
        .build()
}

/// The region the configuration resolved to.
pub(crate) fn region(conf: &SdkConfig) -> String {
    conf.region()
        .map(std::string::ToString::to_string)
        .unwrap_or_default()
}
