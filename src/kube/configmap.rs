//! Writing kube-system/aws-auth: read it, replace its data (with the
//! resourceVersion read, so a concurrent edit is a 409, never lost), delete
//! it on condition, recreate it from a backup. The Kubernetes errors become
//! [`WriteError`]s; what a write should find first is checked by the caller
//! (`apply::configmap`).

use std::collections::BTreeMap;

use ::kube::api::{DeleteParams, PostParams, Preconditions};
use ::kube::{Api, Client};
use k8s_openapi::api::core::v1::ConfigMap;

use super::{client_for, KubeError, KubeTarget, KUBE_ATTEMPTS};
use crate::core::steps::ConfigMapBackup;

const NAME: &str = "aws-auth";
const NAMESPACE: &str = "kube-system";
/// aws-auth as the request log names it.
const TARGET: &str = "configmaps/kube-system/aws-auth";

/// A kube client for one cluster's aws-auth.
#[derive(Clone)]
pub struct Target {
    pub client: Client,
    pub cluster: String,
    pub context: String,
    /// Why the context could not be tied to the cluster, when it is used
    /// anyway (`--allow-unverified-context`, or a dry run): the command
    /// says it as a notice.
    pub notice: Option<String>,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("cluster", &self.cluster)
            .field("context", &self.context)
            .finish()
    }
}

/// Why a write failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WriteError {
    /// 409 on a PUT: someone wrote aws-auth since it was read.
    #[error("aws-auth was changed by someone else since it was read (409 Conflict: {0})")]
    Conflict(String),
    /// The `ConfigMap` is not as the step expects.
    #[error("{0}")]
    Precondition(String),
    #[error("{call} kube-system/aws-auth on cluster {cluster}: {message}")]
    Api {
        call: String,
        cluster: String,
        code: u16,
        message: String,
    },
}

impl WriteError {
    /// The code journaled with a failed step.
    pub fn code(&self) -> String {
        match self {
            WriteError::Conflict(_) => "Conflict".into(),
            WriteError::Precondition(_) => "Diverged".into(),
            WriteError::Api { code, .. } => format!("HTTP{code}"),
        }
    }
}

/// The `ConfigMap` as read (absent or the whole object).
#[derive(Debug, Clone)]
pub struct Observed {
    object: Option<ConfigMap>,
}

impl Observed {
    /// True when aws-auth exists.
    pub fn exists(&self) -> bool {
        self.object.is_some()
    }

    /// Its data (None when absent).
    pub fn data(&self) -> Option<BTreeMap<String, String>> {
        self.object
            .as_ref()
            .map(|c| c.data.clone().unwrap_or_default())
    }

    pub fn resource_version(&self) -> Option<String> {
        self.object
            .as_ref()
            .and_then(|c| c.metadata.resource_version.clone())
    }

    /// The backup of the whole `ConfigMap` as observed.
    pub fn backup(&self) -> Option<ConfigMapBackup> {
        let c = self.object.as_ref()?;
        Some(ConfigMapBackup {
            data: c.data.clone().unwrap_or_default(),
            labels: c.metadata.labels.clone().unwrap_or_default(),
            annotations: c.metadata.annotations.clone().unwrap_or_default(),
            resource_version: c.metadata.resource_version.clone(),
        })
    }

    /// True when the `ConfigMap` has binaryData, which a backup does not hold.
    pub fn has_binary_data(&self) -> bool {
        self.object
            .as_ref()
            .and_then(|c| c.binary_data.as_ref())
            .is_some_and(|b| !b.is_empty())
    }
}

impl Target {
    /// The client for the cluster, from the kubeconfig flags (or their
    /// defaults).
    pub async fn connect(
        kube_target: &KubeTarget,
        cluster: &str,
        cluster_arn: &str,
        endpoint: Option<&str>,
    ) -> Result<Target, KubeError> {
        let conn = client_for(kube_target, cluster, cluster_arn, endpoint).await?;
        Ok(Target {
            client: conn.client,
            cluster: cluster.to_string(),
            context: conn.context,
            notice: conn.unmatched,
        })
    }

    fn api(&self) -> Api<ConfigMap> {
        Api::namespaced(self.client.clone(), NAMESPACE)
    }

    fn api_error(&self, call: &str, e: ::kube::Error) -> WriteError {
        match e {
            ::kube::Error::Api(s) => WriteError::Api {
                call: call.into(),
                cluster: self.cluster.clone(),
                code: s.code,
                message: s.message.clone(),
            },
            other => WriteError::Api {
                call: call.into(),
                cluster: self.cluster.clone(),
                code: 0,
                message: other.to_string(),
            },
        }
    }

    /// GET aws-auth (absent: not [`Observed::exists`]); retried on 429/5xx.
    pub async fn observe(&self) -> Result<Observed, WriteError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match super::logged("GET", TARGET, self.api().get_opt(NAME)).await {
                Ok(object) => return Ok(Observed { object }),
                Err(::kube::Error::Api(s))
                    if attempt < KUBE_ATTEMPTS && (s.code == 429 || s.code >= 500) =>
                {
                    super::back_off("GET", TARGET, attempt, s.code).await;
                }
                Err(e) => return Err(self.api_error("GET", e)),
            }
        }
    }

    /// PUT the object read (`read`), with `data` as its data and the
    /// resourceVersion it was read at. Returns the new resourceVersion.
    pub async fn replace_data(
        &self,
        read: &Observed,
        data: &BTreeMap<String, String>,
    ) -> Result<Option<String>, WriteError> {
        let Some(read) = &read.object else {
            return Err(WriteError::Precondition("aws-auth no longer exists".into()));
        };
        let mut cm = read.clone();
        cm.data = Some(data.clone());
        cm.metadata.managed_fields = None;
        let (api, params) = (self.api(), PostParams::default());
        match super::logged("PUT", TARGET, api.replace(NAME, &params, &cm)).await {
            Ok(done) => Ok(done.metadata.resource_version),
            Err(::kube::Error::Api(s)) if s.code == 409 => Err(WriteError::Conflict(s.message)),
            Err(e) => Err(self.api_error("PUT", e)),
        }
    }

    /// DELETE aws-auth, on condition that it is still at `resource_version`.
    pub async fn delete(&self, resource_version: Option<String>) -> Result<(), WriteError> {
        let dp = DeleteParams {
            preconditions: Some(Preconditions {
                resource_version,
                uid: None,
            }),
            ..DeleteParams::default()
        };
        match super::logged("DELETE", TARGET, self.api().delete(NAME, &dp)).await {
            Ok(_) => Ok(()),
            Err(::kube::Error::Api(s)) if s.code == 409 => Err(WriteError::Conflict(s.message)),
            Err(e) => Err(self.api_error("DELETE", e)),
        }
    }

    /// POST aws-auth from a backup: the same data, labels and annotations.
    pub async fn create(&self, backup: &ConfigMapBackup) -> Result<Option<String>, WriteError> {
        let mut cm = ConfigMap::default();
        cm.metadata.name = Some(NAME.into());
        cm.metadata.namespace = Some(NAMESPACE.into());
        if !backup.labels.is_empty() {
            cm.metadata.labels = Some(backup.labels.clone());
        }
        if !backup.annotations.is_empty() {
            cm.metadata.annotations = Some(backup.annotations.clone());
        }
        cm.data = Some(backup.data.clone());
        let (api, params) = (self.api(), PostParams::default());
        match super::logged("POST", TARGET, api.create(&params, &cm)).await {
            Ok(done) => Ok(done.metadata.resource_version),
            Err(::kube::Error::Api(s)) if s.code == 409 => Err(WriteError::Precondition(format!(
                "aws-auth exists again (someone recreated it): {}",
                s.message
            ))),
            Err(e) => Err(self.api_error("POST", e)),
        }
    }
}
