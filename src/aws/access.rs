//! EKS calls that change a cluster's access: the access entries, their
//! policy associations and the switch to `API_AND_CONFIG_MAP`. Used by the
//! apply and rollback executor. The SDK's own retries are off: the executor
//! retries itself, with the journal in between and idempotent re-sends.

use super::cluster_config::{describe_update, send_mode_update};
use crate::core::cluster::{AuthMode, ClusterStatus};
use std::collections::BTreeMap;

use aws_sdk_eks::types::{AccessScopeType, AuthenticationMode};

use super::error::{classify, AwsError};
use super::Clients;
use crate::core::policy::{AccessScope, ScopeType};

/// A `CreateAccessEntry` request.
#[derive(Debug, Clone, Copy)]
pub struct NewEntry<'a> {
    pub principal_arn: &'a str,
    /// `STANDARD`, `EC2_LINUX`...
    pub entry_type: &'a str,
    /// None: EKS chooses its default username.
    pub username: Option<&'a str>,
    pub kubernetes_groups: &'a [String],
    pub tags: &'a BTreeMap<String, String>,
    /// Makes a re-send of the same create idempotent.
    pub client_request_token: &'a str,
}

/// What a delete or disassociate found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    Removed,
    /// Nothing to remove (ResourceNotFoundException): already gone.
    AlreadyGone,
}

/// The cluster's authentication mode and status, as `DescribeCluster` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModeStatus {
    /// `CONFIG_MAP` when the cluster reports no access config.
    pub mode: AuthMode,
    pub status: Option<ClusterStatus>,
}

impl ModeStatus {
    /// True while an update runs on the cluster.
    pub fn is_updating(&self) -> bool {
        self.status == Some(ClusterStatus::Updating)
    }
}

/// An EKS client for mutations (no SDK retries).
#[derive(Debug, Clone)]
pub struct AccessWriter {
    client: aws_sdk_eks::Client,
}

impl Clients {
    /// The EKS client for mutations, from the same configuration.
    pub fn access_writer(&self) -> AccessWriter {
        let conf = aws_sdk_eks::config::Builder::from(&self.config)
            .retry_config(aws_config::retry::RetryConfig::disabled())
            .interceptor(super::log::RequestLog)
            .build();
        AccessWriter {
            client: aws_sdk_eks::Client::from_conf(conf),
        }
    }
}

impl AccessWriter {
    /// The SDK client itself, for the other calls of the adapter.
    pub(super) fn sdk_client(&self) -> &aws_sdk_eks::Client {
        &self.client
    }

    /// `CreateAccessEntry`; returns the new entry's ARN (empty if EKS gave none).
    pub async fn create_access_entry(
        &self,
        cluster: &str,
        entry: NewEntry<'_>,
    ) -> Result<String, AwsError> {
        let principal_arn = entry.principal_arn;
        let mut req = self
            .client
            .create_access_entry()
            .cluster_name(cluster)
            .principal_arn(principal_arn)
            .r#type(entry.entry_type)
            .client_request_token(entry.client_request_token)
            .set_username(entry.username.map(str::to_string));
        if !entry.kubernetes_groups.is_empty() {
            req = req.set_kubernetes_groups(Some(entry.kubernetes_groups.to_vec()));
        }
        for (k, v) in entry.tags {
            req = req.tags(k, v);
        }
        let out = req.send().await.map_err(|e| {
            classify(
                format!("CreateAccessEntry {principal_arn}"),
                "eks:CreateAccessEntry",
                e,
            )
        })?;
        Ok(out
            .access_entry()
            .and_then(|e| e.access_entry_arn())
            .unwrap_or_default()
            .to_string())
    }

    /// `AssociateAccessPolicy` (an upsert of the policy's scope).
    pub async fn associate_access_policy(
        &self,
        cluster: &str,
        principal_arn: &str,
        policy_arn: &str,
        scope: &AccessScope,
    ) -> Result<(), AwsError> {
        self.client
            .associate_access_policy()
            .cluster_name(cluster)
            .principal_arn(principal_arn)
            .policy_arn(policy_arn)
            .access_scope(sdk_scope(scope))
            .send()
            .await
            .map_err(|e| {
                classify(
                    format!("AssociateAccessPolicy {principal_arn}"),
                    "eks:AssociateAccessPolicy",
                    e,
                )
            })?;
        Ok(())
    }

    /// `UpdateAccessEntry`; both fields are sent (EKS resets omitted ones).
    pub async fn update_access_entry(
        &self,
        cluster: &str,
        principal_arn: &str,
        username: Option<&str>,
        kubernetes_groups: &[String],
    ) -> Result<(), AwsError> {
        self.client
            .update_access_entry()
            .cluster_name(cluster)
            .principal_arn(principal_arn)
            .set_username(username.map(str::to_string))
            .set_kubernetes_groups(Some(kubernetes_groups.to_vec()))
            .send()
            .await
            .map_err(|e| {
                classify(
                    format!("UpdateAccessEntry {principal_arn}"),
                    "eks:UpdateAccessEntry",
                    e,
                )
            })?;
        Ok(())
    }

    /// `DeleteAccessEntry`; an entry that is not there is already gone.
    pub async fn delete_access_entry(
        &self,
        cluster: &str,
        principal_arn: &str,
    ) -> Result<Removal, AwsError> {
        match self
            .client
            .delete_access_entry()
            .cluster_name(cluster)
            .principal_arn(principal_arn)
            .send()
            .await
        {
            Ok(_) => Ok(Removal::Removed),
            Err(e)
                if e.as_service_error()
                    .is_some_and(aws_sdk_eks::operation::delete_access_entry::DeleteAccessEntryError::is_resource_not_found_exception) =>
            {
                Ok(Removal::AlreadyGone)
            }
            Err(e) => Err(classify(
                format!("DeleteAccessEntry {principal_arn}"),
                "eks:DeleteAccessEntry",
                e,
            )),
        }
    }

    /// `DisassociateAccessPolicy`; an association that is not there is
    /// already gone.
    pub async fn disassociate_access_policy(
        &self,
        cluster: &str,
        principal_arn: &str,
        policy_arn: &str,
    ) -> Result<Removal, AwsError> {
        match self
            .client
            .disassociate_access_policy()
            .cluster_name(cluster)
            .principal_arn(principal_arn)
            .policy_arn(policy_arn)
            .send()
            .await
        {
            Ok(_) => Ok(Removal::Removed),
            Err(e)
                if e.as_service_error()
                    .is_some_and(aws_sdk_eks::operation::disassociate_access_policy::DisassociateAccessPolicyError::is_resource_not_found_exception) =>
            {
                Ok(Removal::AlreadyGone)
            }
            Err(e) => Err(classify(
                format!("DisassociateAccessPolicy {principal_arn}"),
                "eks:DisassociateAccessPolicy",
                e,
            )),
        }
    }

    /// `UpdateClusterConfig` to `API_AND_CONFIG_MAP`; returns the update's id
    /// (empty if EKS gave none).
    pub async fn enable_access_entries(&self, cluster: &str) -> Result<String, AwsError> {
        send_mode_update(&self.client, cluster, AuthenticationMode::ApiAndConfigMap).await
    }

    /// `DescribeUpdate`: the update's status (`InProgress`, `Successful`,
    /// `Failed`, `Cancelled`; empty if EKS gave none).
    pub async fn update_status(&self, cluster: &str, update_id: &str) -> Result<String, AwsError> {
        Ok(describe_update(&self.client, cluster, update_id)
            .await?
            .unwrap_or_default())
    }

    /// `DescribeCluster`: the authentication mode and status only.
    pub async fn mode_status(&self, cluster: &str) -> Result<ModeStatus, AwsError> {
        let out = self
            .client
            .describe_cluster()
            .name(cluster)
            .send()
            .await
            .map_err(|e| {
                classify(
                    format!("DescribeCluster {cluster}"),
                    "eks:DescribeCluster",
                    e,
                )
            })?;
        let c = out.cluster();
        Ok(ModeStatus {
            mode: super::eks::auth_mode(
                c.and_then(|c| c.access_config())
                    .and_then(|a| a.authentication_mode()),
            ),
            status: super::eks::cluster_status(c.and_then(|c| c.status())),
        })
    }
}

/// Our access scope as the SDK's.
fn sdk_scope(scope: &AccessScope) -> aws_sdk_eks::types::AccessScope {
    let b = aws_sdk_eks::types::AccessScope::builder();
    match scope.scope_type {
        ScopeType::Cluster => b.r#type(AccessScopeType::Cluster).build(),
        ScopeType::Namespace => b
            .r#type(AccessScopeType::Namespace)
            .set_namespaces(Some(scope.namespaces.clone()))
            .build(),
    }
}
