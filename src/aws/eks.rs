//! EKS: the cluster's facts and the access entries that exist.

use std::collections::BTreeMap;
use std::sync::Arc;

use aws_config::SdkConfig;
use aws_sdk_eks::types::{AccessScopeType, AssociatedAccessPolicy, AuthenticationMode};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::error::{classify, AwsError};
use crate::core::cluster::{AuthMode, ClusterStatus};
use crate::core::diff::ExistingEntry;
use crate::core::policy::{AccessScope, PolicyAssociation};

/// What `DescribeCluster` says about a cluster, as the planner needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterFacts {
    pub name: String,
    pub arn: String,
    pub region: String,
    /// From the cluster ARN.
    pub account: String,
    /// From the cluster ARN.
    pub partition: String,
    /// `CONFIG_MAP` when `DescribeCluster` reports no access config.
    pub authentication_mode: AuthMode,
    pub version: String,
    pub platform_version: String,
    /// None when `DescribeCluster` reports none.
    pub status: Option<ClusterStatus>,
    /// The Kubernetes API server URL.
    pub endpoint: Option<String>,
    /// `certificateAuthority.data`: the API server's CA, base64 of PEM.
    pub certificate_authority: Option<String>,
}

impl ClusterFacts {
    /// True when the cluster reads access entries (API or `API_AND_CONFIG_MAP`).
    pub fn has_access_entries(&self) -> bool {
        self.authentication_mode.has_access_entries()
    }

    /// True while the cluster reports `UPDATING`.
    pub fn is_updating(&self) -> bool {
        self.status == Some(ClusterStatus::Updating)
    }
}

/// The mode of a cluster's access config; clusters made before access
/// entries report none: they read aws-auth only.
pub(crate) fn auth_mode(mode: Option<&AuthenticationMode>) -> AuthMode {
    mode.map_or(AuthMode::ConfigMap, |m| AuthMode::parse(m.as_str()))
}

/// A cluster's status as `DescribeCluster` reports it.
pub(crate) fn cluster_status(
    status: Option<&aws_sdk_eks::types::ClusterStatus>,
) -> Option<ClusterStatus> {
    status.map(|s| ClusterStatus::parse(s.as_str()))
}

/// The minimum platform version for access entries, per Kubernetes minor
/// version (1.23 to 1.30); 1.31 and later all have them.
pub(crate) const MIN_PLATFORM: [(u32, u32); 8] = [
    (30, 2),
    (29, 1),
    (28, 6),
    (27, 10),
    (26, 11),
    (25, 12),
    (24, 15),
    (23, 17),
];

/// Why a cluster cannot have access entries (`check_platform`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum PlatformError {
    #[error("cluster {name} reports Kubernetes version {version:?}, which this tool cannot read; access entries need 1.23 or later at a minimum platform version")]
    UnreadableVersion { name: String, version: String },
    #[error("cluster {name} runs Kubernetes 1.{minor}: access entries need Kubernetes 1.23 or later; upgrade the cluster first")]
    KubernetesTooOld { name: String, minor: u32 },
    #[error("cluster {name} runs Kubernetes 1.{minor} at platform version {platform}: access entries need eks.{need} or later; wait for EKS to update the platform version (or upgrade the cluster)")]
    PlatformTooOld {
        name: String,
        minor: u32,
        platform: String,
        need: u32,
    },
    #[error("cluster {name} reports platform version {platform:?}, which this tool cannot read; Kubernetes 1.{minor} needs eks.{need} or later for access entries")]
    UnreadablePlatform {
        name: String,
        minor: u32,
        platform: String,
        need: u32,
    },
}

/// Whether a cluster of this Kubernetes and platform version supports access
/// entries; the error says why not.
pub(crate) fn check_platform(
    name: &str,
    version: &str,
    platform: &str,
) -> Result<(), PlatformError> {
    let minor = version
        .strip_prefix("1.")
        .and_then(|m| m.split('.').next())
        .and_then(|m| m.parse::<u32>().ok());
    let Some(minor) = minor else {
        return Err(PlatformError::UnreadableVersion {
            name: name.to_string(),
            version: version.to_string(),
        });
    };
    if minor >= 31 {
        return Ok(());
    }
    let Some(&(_, need)) = MIN_PLATFORM.iter().find(|(m, _)| *m == minor) else {
        return Err(PlatformError::KubernetesTooOld {
            name: name.to_string(),
            minor,
        });
    };
    let have = platform
        .strip_prefix("eks.")
        .and_then(|p| p.split('.').next())
        .and_then(|p| p.parse::<u32>().ok());
    let (name, platform) = (name.to_string(), platform.to_string());
    match have {
        Some(h) if h >= need => Ok(()),
        Some(_) => Err(PlatformError::PlatformTooOld {
            name,
            minor,
            platform,
            need,
        }),
        None => Err(PlatformError::UnreadablePlatform {
            name,
            minor,
            platform,
            need,
        }),
    }
}

/// The partition and account of a cluster ARN
/// (`arn:aws:eks:eu-west-1:111122223333:cluster/prod`).
pub(crate) fn cluster_arn_parts(arn: &str) -> Option<(String, String)> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if parts.len() != 6 || parts[0] != "arn" || parts[2] != "eks" {
        return None;
    }
    if parts[4].len() != 12 || !parts[4].bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((parts[1].to_string(), parts[4].to_string()))
}

#[derive(Debug, Clone)]
pub struct Eks {
    client: aws_sdk_eks::Client,
    region: String,
}

impl Eks {
    pub fn new(conf: &SdkConfig) -> Eks {
        Eks {
            client: aws_sdk_eks::Client::from_conf(
                aws_sdk_eks::config::Builder::from(conf)
                    .interceptor(super::log::RequestLog)
                    .build(),
            ),
            region: super::config::region(conf),
        }
    }

    pub fn client(&self) -> &aws_sdk_eks::Client {
        &self.client
    }

    /// `DescribeCluster`, checked: the cluster exists and its ARN reads.
    pub async fn describe_cluster(&self, name: &str) -> Result<ClusterFacts, AwsError> {
        let call = format!("DescribeCluster {name}");
        let out = self
            .client
            .describe_cluster()
            .name(name)
            .send()
            .await
            .map_err(|e| match e.as_service_error() {
                Some(se) if se.is_resource_not_found_exception() => AwsError::ClusterNotFound {
                    call: call.clone(),
                    cluster: name.to_string(),
                    region: self.region.clone(),
                    message: aws_sdk_eks::error::ProvideErrorMetadata::message(se)
                        .unwrap_or("not found")
                        .to_string(),
                },
                _ => classify(call.clone(), "eks:DescribeCluster", e),
            })?;
        let Some(c) = out.cluster() else {
            return Err(AwsError::Other {
                call,
                message: "the answer holds no cluster".into(),
            });
        };
        let arn = c.arn().unwrap_or_default().to_string();
        let (partition, account) = cluster_arn_parts(&arn).ok_or_else(|| AwsError::Other {
            call: call.clone(),
            message: format!(
                "the cluster ARN {arn:?} is not arn:PARTITION:eks:REGION:ACCOUNT:cluster/NAME"
            ),
        })?;
        let authentication_mode =
            auth_mode(c.access_config().and_then(|a| a.authentication_mode()));
        Ok(ClusterFacts {
            name: c.name().unwrap_or(name).to_string(),
            arn,
            region: self.region.clone(),
            account,
            partition,
            authentication_mode,
            version: c.version().unwrap_or_default().to_string(),
            platform_version: c.platform_version().unwrap_or_default().to_string(),
            status: cluster_status(c.status()),
            endpoint: c.endpoint().map(str::to_string),
            certificate_authority: c
                .certificate_authority()
                .and_then(|ca| ca.data())
                .filter(|d| !d.is_empty())
                .map(str::to_string),
        })
    }

    /// `ListAccessEntries`, every page; sorted.
    pub async fn list_access_entries(&self, cluster: &str) -> Result<Vec<String>, AwsError> {
        let mut pages = self
            .client
            .list_access_entries()
            .cluster_name(cluster)
            .into_paginator()
            .send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| {
                classify(
                    format!("ListAccessEntries {cluster}"),
                    "eks:ListAccessEntries",
                    e,
                )
            })?;
            out.extend(page.access_entries().iter().cloned());
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// `DescribeAccessEntry` and `ListAssociatedAccessPolicies` (every page) of
    /// one principal; `None` when the entry went away in between.
    pub async fn existing_entry(
        &self,
        cluster: &str,
        principal_arn: &str,
    ) -> Result<Option<ExistingEntry>, AwsError> {
        let out = match self
            .client
            .describe_access_entry()
            .cluster_name(cluster)
            .principal_arn(principal_arn)
            .send()
            .await
        {
            Ok(o) => o,
            Err(e)
                if e.as_service_error()
                    .is_some_and(aws_sdk_eks::operation::describe_access_entry::DescribeAccessEntryError::is_resource_not_found_exception) =>
            {
                return Ok(None)
            }
            Err(e) => {
                return Err(classify(
                    format!("DescribeAccessEntry {principal_arn}"),
                    "eks:DescribeAccessEntry",
                    e,
                ))
            }
        };
        let Some(entry) = out.access_entry() else {
            return Ok(None);
        };
        let mut groups: Vec<String> = entry.kubernetes_groups().to_vec();
        groups.sort();
        groups.dedup();
        let tags: BTreeMap<String, String> = entry
            .tags()
            .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        let policies = match self.associated_policies(cluster, principal_arn).await {
            Ok(p) => p,
            Err(None) => return Ok(None),
            Err(Some(e)) => return Err(e),
        };
        Ok(Some(ExistingEntry {
            principal_arn: entry.principal_arn().unwrap_or(principal_arn).to_string(),
            entry_type: entry.r#type().unwrap_or("STANDARD").to_string(),
            username: entry.username().map(str::to_string),
            kubernetes_groups: groups,
            policies,
            tags,
        }))
    }

    /// `ListAssociatedAccessPolicies`, every page; sorted. `Err(None)`: the
    /// entry is gone.
    async fn associated_policies(
        &self,
        cluster: &str,
        principal_arn: &str,
    ) -> Result<Vec<PolicyAssociation>, Option<AwsError>> {
        let mut pages = self
            .client
            .list_associated_access_policies()
            .cluster_name(cluster)
            .principal_arn(principal_arn)
            .into_paginator()
            .send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page = match page {
                Ok(p) => p,
                Err(e)
                    if e.as_service_error()
                        .is_some_and(aws_sdk_eks::operation::list_associated_access_policies::ListAssociatedAccessPoliciesError::is_resource_not_found_exception) =>
                {
                    return Err(None)
                }
                Err(e) => {
                    return Err(Some(classify(
                        format!("ListAssociatedAccessPolicies {principal_arn}"),
                        "eks:ListAssociatedAccessPolicies",
                        e,
                    )))
                }
            };
            out.extend(page.associated_access_policies().iter().map(association));
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// Every access entry of the cluster with its policies: one
    /// `ListAccessEntries` (per page of 100), then `DescribeAccessEntry` and
    /// `ListAssociatedAccessPolicies` per entry, `concurrency` principals at a
    /// time. Sorted by principal ARN.
    pub async fn existing_entries(
        &self,
        cluster: &str,
        concurrency: std::num::NonZeroUsize,
    ) -> Result<Vec<ExistingEntry>, AwsError> {
        let arns = self.list_access_entries(cluster).await?;
        let permits = Arc::new(Semaphore::new(concurrency.get()));
        let mut tasks = JoinSet::new();
        for arn in arns {
            let eks = self.clone();
            let cluster = cluster.to_string();
            let permits = permits.clone();
            tasks.spawn(async move {
                let _permit = permits.acquire_owned().await.ok();
                eks.existing_entry(&cluster, &arn).await
            });
        }
        let mut out = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            let result = joined.map_err(|e| AwsError::Other {
                call: "DescribeAccessEntry".into(),
                message: e.to_string(),
            })?;
            match result {
                Ok(Some(e)) => out.push(e),
                Ok(None) => {}
                Err(e) => {
                    tasks.abort_all();
                    return Err(e);
                }
            }
        }
        out.sort_by(|a, b| a.principal_arn.cmp(&b.principal_arn));
        Ok(out)
    }
}

fn association(p: &AssociatedAccessPolicy) -> PolicyAssociation {
    let scope = match p.access_scope() {
        Some(s) => match s.r#type() {
            Some(AccessScopeType::Cluster) | None => AccessScope::cluster(),
            Some(_) => AccessScope::namespaces(s.namespaces().to_vec()),
        },
        None => AccessScope::cluster(),
    };
    PolicyAssociation {
        policy_arn: p.policy_arn().unwrap_or_default().to_string(),
        access_scope: scope,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platform_minimums() {
        assert!(check_platform("c", "1.30", "eks.2").is_ok());
        assert!(check_platform("c", "1.30", "eks.1").is_err());
        assert!(check_platform("c", "1.28", "eks.6").is_ok());
        assert!(check_platform("c", "1.28", "eks.5").is_err());
        assert!(check_platform("c", "1.23", "eks.17").is_ok());
        assert!(check_platform("c", "1.23", "eks.16").is_err());
        assert!(check_platform("c", "1.31", "eks.1").is_ok());
        assert!(check_platform("c", "1.33", "eks.1").is_ok());
        assert!(check_platform("c", "1.22", "eks.99").is_err());
        assert!(check_platform("c", "1.29", "eks.1").is_ok());
        assert!(check_platform("c", "1.27", "eks.10").is_ok());
        assert!(check_platform("c", "1.26", "eks.10").is_err());
        assert!(check_platform("c", "1.25", "eks.12").is_ok());
        assert!(check_platform("c", "1.24", "eks.14").is_err());
        assert!(check_platform("c", "banana", "eks.1").is_err());
        assert!(check_platform("c", "1.28", "").is_err());
        assert_eq!(
            check_platform("prod", "1.28", "eks.5")
                .unwrap_err()
                .to_string(),
            "cluster prod runs Kubernetes 1.28 at platform version eks.5: access entries need eks.6 or later; wait for EKS to update the platform version (or upgrade the cluster)"
        );
    }

    /// The refusals are typed; their texts are the ones users have seen.
    #[test]
    fn platform_refusals_keep_their_texts() {
        let text = |v: &str, p: &str| check_platform("prod", v, p).unwrap_err().to_string();
        assert_eq!(
            text("banana", "eks.1"),
            "cluster prod reports Kubernetes version \"banana\", which this tool cannot read; access entries need 1.23 or later at a minimum platform version"
        );
        assert_eq!(
            text("1.22", "eks.99"),
            "cluster prod runs Kubernetes 1.22: access entries need Kubernetes 1.23 or later; upgrade the cluster first"
        );
        assert_eq!(
            text("1.28", ""),
            "cluster prod reports platform version \"\", which this tool cannot read; Kubernetes 1.28 needs eks.6 or later for access entries"
        );
    }

    #[test]
    fn cluster_arns() {
        assert_eq!(
            cluster_arn_parts("arn:aws-cn:eks:cn-north-1:111122223333:cluster/prod"),
            Some(("aws-cn".into(), "111122223333".into()))
        );
        assert_eq!(cluster_arn_parts("arn:aws:iam::111122223333:role/x"), None);
        assert_eq!(cluster_arn_parts("prod"), None);
    }
}
