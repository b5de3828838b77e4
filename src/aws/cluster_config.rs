//! The EKS calls of `finalize` and of the aws-auth steps: the roles of the
//! managed node groups and Fargate profiles, the switch of the
//! authentication mode to API and the update it starts, and the ARN and
//! endpoint that tie a cluster to a kubeconfig context.

use aws_sdk_eks::types::{AuthenticationMode, UpdateAccessConfigRequest};

use super::access::AccessWriter;
use super::error::{classify, AwsError};
use super::Eks;

/// How an EKS update stands (`DescribeUpdate`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateStatus {
    InProgress,
    Successful,
    /// Ended otherwise (`Failed`, `Cancelled`...): as EKS spells it.
    Ended(String),
}

impl UpdateStatus {
    pub fn as_str(&self) -> &str {
        match self {
            UpdateStatus::InProgress => "InProgress",
            UpdateStatus::Successful => "Successful",
            UpdateStatus::Ended(s) => s,
        }
    }
}

/// What ties a cluster to a kubeconfig context (`DescribeCluster`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ClusterEndpoint {
    pub arn: String,
    pub endpoint: Option<String>,
}

/// `DescribeCluster` for its ARN and endpoint only: unlike
/// [`Eks::describe_cluster`], the ARN is not checked.
pub(crate) async fn cluster_endpoint(
    client: &aws_sdk_eks::Client,
    cluster: &str,
) -> Result<ClusterEndpoint, AwsError> {
    let call = format!("DescribeCluster {cluster}");
    let out = client
        .describe_cluster()
        .name(cluster)
        .send()
        .await
        .map_err(|e| classify(call.clone(), "eks:DescribeCluster", e))?;
    let Some(c) = out.cluster() else {
        return Err(AwsError::Other {
            call,
            message: "the answer holds no cluster".into(),
        });
    };
    Ok(ClusterEndpoint {
        arn: c.arn().unwrap_or_default().to_string(),
        endpoint: c.endpoint().map(str::to_string),
    })
}

/// What can look up a cluster's ARN and endpoint: our [`Eks`], or the
/// apply executor's [`AccessWriter`].
pub(crate) trait DescribeEndpoint {
    fn cluster_endpoint(
        &self,
        cluster: &str,
    ) -> impl std::future::Future<Output = Result<ClusterEndpoint, AwsError>> + Send;
}

impl DescribeEndpoint for AccessWriter {
    async fn cluster_endpoint(&self, cluster: &str) -> Result<ClusterEndpoint, AwsError> {
        cluster_endpoint(self.sdk_client(), cluster).await
    }
}

impl DescribeEndpoint for Eks {
    async fn cluster_endpoint(&self, cluster: &str) -> Result<ClusterEndpoint, AwsError> {
        cluster_endpoint(self.client(), cluster).await
    }
}

impl Eks {
    /// The roles of managed node groups and Fargate profiles, each with
    /// what uses it: `ListNodegroups` + `DescribeNodegroup`, `ListFargateProfiles`
    /// + `DescribeFargateProfile`.
    pub async fn compute_roles(&self, cluster: &str) -> Result<Vec<(String, String)>, AwsError> {
        let eks = self.client();
        let mut out = Vec::new();
        let mut names = Vec::new();
        let mut pages = eks
            .list_nodegroups()
            .cluster_name(cluster)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| {
                classify(format!("ListNodegroups {cluster}"), "eks:ListNodegroups", e)
            })?;
            names.extend(page.nodegroups().iter().cloned());
        }
        for ng in names {
            let d = eks
                .describe_nodegroup()
                .cluster_name(cluster)
                .nodegroup_name(&ng)
                .send()
                .await
                .map_err(|e| {
                    classify(
                        format!("DescribeNodegroup {ng}"),
                        "eks:DescribeNodegroup",
                        e,
                    )
                })?;
            if let Some(role) = d.nodegroup().and_then(|n| n.node_role()) {
                out.push((role.to_string(), format!("managed node group {ng}")));
            }
        }
        let mut names = Vec::new();
        let mut pages = eks
            .list_fargate_profiles()
            .cluster_name(cluster)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| {
                classify(
                    format!("ListFargateProfiles {cluster}"),
                    "eks:ListFargateProfiles",
                    e,
                )
            })?;
            names.extend(page.fargate_profile_names().iter().cloned());
        }
        for fp in names {
            let d = eks
                .describe_fargate_profile()
                .cluster_name(cluster)
                .fargate_profile_name(&fp)
                .send()
                .await
                .map_err(|e| {
                    classify(
                        format!("DescribeFargateProfile {fp}"),
                        "eks:DescribeFargateProfile",
                        e,
                    )
                })?;
            if let Some(role) = d.fargate_profile().and_then(|p| p.pod_execution_role_arn()) {
                out.push((role.to_string(), format!("Fargate profile {fp}")));
            }
        }
        Ok(out)
    }

    /// `UpdateClusterConfig` to the API authentication mode; returns the id
    /// of the update it started (empty when EKS answers none).
    pub async fn start_switch_to_api(&self, cluster: &str) -> Result<String, AwsError> {
        send_mode_update(self.client(), cluster, AuthenticationMode::Api).await
    }

    /// `DescribeUpdate`: how update `id` stands (no status: in progress).
    pub async fn update_status(&self, cluster: &str, id: &str) -> Result<UpdateStatus, AwsError> {
        Ok(
            match describe_update(self.client(), cluster, id)
                .await?
                .as_deref()
            {
                None | Some("InProgress") => UpdateStatus::InProgress,
                Some("Successful") => UpdateStatus::Successful,
                Some(other) => UpdateStatus::Ended(other.to_string()),
            },
        )
    }
}

/// `UpdateClusterConfig` to `mode` (the one call behind both switches:
/// apply's to `API_AND_CONFIG_MAP`, finalize's to `API`); returns the id of
/// the update it started (empty when EKS answers none).
pub(super) async fn send_mode_update(
    client: &aws_sdk_eks::Client,
    cluster: &str,
    mode: AuthenticationMode,
) -> Result<String, AwsError> {
    let sent = client
        .update_cluster_config()
        .name(cluster)
        .access_config(
            UpdateAccessConfigRequest::builder()
                .authentication_mode(mode)
                .build(),
        )
        .send()
        .await
        .map_err(|e| {
            classify(
                format!("UpdateClusterConfig {cluster}"),
                "eks:UpdateClusterConfig",
                e,
            )
        })?;
    Ok(sent
        .update()
        .and_then(|u| u.id())
        .unwrap_or_default()
        .to_string())
}

/// `DescribeUpdate`: the update's status as EKS names it (`InProgress`,
/// `Successful`, `Failed`, `Cancelled`); `None` when it gives none.
pub(super) async fn describe_update(
    client: &aws_sdk_eks::Client,
    cluster: &str,
    id: &str,
) -> Result<Option<String>, AwsError> {
    let d = client
        .describe_update()
        .name(cluster)
        .update_id(id)
        .send()
        .await
        .map_err(|e| classify(format!("DescribeUpdate {id}"), "eks:DescribeUpdate", e))?;
    Ok(d.update()
        .and_then(|u| u.status())
        .map(|s| s.as_str().to_string()))
}
