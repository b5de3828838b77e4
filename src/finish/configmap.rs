//! Writing kube-system/aws-auth: replace its data (with the resourceVersion
//! read, so a concurrent edit is a 409, never lost), delete it, recreate it
//! from a backup. Every write checks first that the ConfigMap holds what
//! the step expects ([`steps::still_as_left_configmap`]).

use std::collections::BTreeMap;

use ::kube::api::{DeleteParams, PostParams, Preconditions};
use ::kube::{Api, Client};
use k8s_openapi::api::core::v1::ConfigMap;
use serde_json::json;

use crate::aws::ClusterFacts;
use crate::core::cluster::AuthMode;
use crate::core::steps::{self, ConfigMapBackup, Outcome, Step};
use crate::kube::{self, KubeTarget};

const NAME: &str = "aws-auth";
const NAMESPACE: &str = "kube-system";

/// A kube client for one cluster's aws-auth.
#[derive(Clone)]
pub struct Target {
    pub client: Client,
    pub cluster: String,
    pub context: String,
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
    /// The ConfigMap is not as the step expects.
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
    pub fn code(&self) -> String {
        match self {
            WriteError::Conflict(_) => "Conflict".into(),
            WriteError::Precondition(_) => "Diverged".into(),
            WriteError::Api { code, .. } => format!("HTTP{code}"),
        }
    }
}

/// The ConfigMap's state: its data (None when absent) and the whole object.
#[derive(Debug, Clone)]
pub struct Observed {
    pub object: Option<ConfigMap>,
}

impl Observed {
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

    /// The backup of the whole ConfigMap as observed.
    pub fn backup(&self) -> Option<ConfigMapBackup> {
        let c = self.object.as_ref()?;
        Some(ConfigMapBackup {
            data: c.data.clone().unwrap_or_default(),
            labels: c.metadata.labels.clone().unwrap_or_default(),
            annotations: c.metadata.annotations.clone().unwrap_or_default(),
            resource_version: c.metadata.resource_version.clone(),
        })
    }

    /// True when the ConfigMap has binaryData, which a backup does not hold.
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
    pub async fn connect(kube_target: &KubeTarget, facts: &ClusterFacts) -> anyhow::Result<Target> {
        let conn = kube::client_for(
            kube_target,
            &facts.name,
            &facts.arn,
            facts.endpoint.as_deref(),
        )
        .await?;
        if let Some(notice) = &conn.unmatched {
            // Allowed (--allow-unverified-context, or a dry run): said on
            // every command that uses it.
            eprintln!("notice: {notice}");
        }
        Ok(Target {
            client: conn.client,
            cluster: facts.name.clone(),
            context: conn.context,
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

    /// GET aws-auth (absent: `object` None); retried on 429/5xx.
    pub async fn observe(&self) -> Result<Observed, WriteError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.api().get_opt(NAME).await {
                Ok(object) => return Ok(Observed { object }),
                Err(::kube::Error::Api(s))
                    if attempt < kube::KUBE_ATTEMPTS && (s.code == 429 || s.code >= 500) =>
                {
                    tokio::time::sleep(std::time::Duration::from_millis(200 << attempt)).await;
                }
                Err(e) => return Err(self.api_error("GET", e)),
            }
        }
    }

    /// PUT the object read (`read`), with `data` as its data and the
    /// resourceVersion it was read at. Returns the new resourceVersion.
    pub async fn replace_data(
        &self,
        read: &ConfigMap,
        data: &BTreeMap<String, String>,
    ) -> Result<Option<String>, WriteError> {
        let mut cm = read.clone();
        cm.data = Some(data.clone());
        cm.metadata.managed_fields = None;
        match self.api().replace(NAME, &PostParams::default(), &cm).await {
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
        match self.api().delete(NAME, &dp).await {
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
        match self.api().create(&PostParams::default(), &cm).await {
            Ok(done) => Ok(done.metadata.resource_version),
            Err(::kube::Error::Api(s)) if s.code == 409 => Err(WriteError::Precondition(format!(
                "aws-auth exists again (someone recreated it): {}",
                s.message
            ))),
            Err(e) => Err(self.api_error("POST", e)),
        }
    }

    /// Runs one aws-auth step: reads the ConfigMap, checks it holds what the
    /// step expects, and writes. The resourceVersion of that read guards the
    /// write, so nothing written in between is lost.
    pub async fn run_step(&self, step: &Step) -> Result<serde_json::Value, WriteError> {
        let observed = self.observe().await?;
        let data = observed.data();
        steps::still_as_left_configmap(step, data.as_ref())
            .map_err(|e| WriteError::Precondition(e.to_string()))?;
        match step {
            Step::PutConfigMap { new_data, .. } => {
                let Some(read) = &observed.object else {
                    return Err(WriteError::Precondition("aws-auth no longer exists".into()));
                };
                let rv = self.replace_data(read, new_data).await?;
                Ok(
                    json!({"resource_version": rv, "previous_resource_version": observed.resource_version()}),
                )
            }
            Step::DeleteConfigMap { .. } => {
                self.delete(observed.resource_version()).await?;
                Ok(
                    json!({"deleted": true, "previous_resource_version": observed.resource_version()}),
                )
            }
            Step::CreateConfigMap { backup } => {
                let rv = self.create(backup).await?;
                Ok(json!({"created": true, "resource_version": rv}))
            }
            other => Err(WriteError::Precondition(format!(
                "{} is not an aws-auth step",
                other.op()
            ))),
        }
    }
}

/// The outcome to journal for a step's result.
pub fn outcome_of(result: &Result<serde_json::Value, WriteError>) -> Outcome {
    match result {
        Ok(response) => Outcome::Done {
            response: response.clone(),
        },
        Err(e) => Outcome::Failed {
            code: e.code(),
            message: e.to_string(),
        },
    }
}

/// For the apply/rollback executor: runs an aws-auth step against the
/// cluster, with a kube client from the default kubeconfig (`KUBECONFIG` or
/// `~/.kube/config`; the context named by or pointing at the cluster).
pub async fn run_step(facts: &ClusterFacts, step: &Step) -> Result<serde_json::Value, String> {
    let target = Target::connect(&KubeTarget::default(), facts)
        .await
        .map_err(|e| crate::exit::one_line(&e))?;
    target.run_step(step).await.map_err(|e| e.to_string())
}

/// As [`run_step`], for an executor that holds only an EKS client and the
/// cluster name: DescribeCluster gives the ARN and endpoint that pick the
/// kubeconfig context.
pub async fn run_step_with(
    eks: &aws_sdk_eks::Client,
    cluster: &str,
    step: &Step,
) -> Result<serde_json::Value, String> {
    let out = eks
        .describe_cluster()
        .name(cluster)
        .send()
        .await
        .map_err(|e| {
            crate::aws::error::classify(
                format!("DescribeCluster {cluster}"),
                "eks:DescribeCluster",
                e,
            )
            .to_string()
        })?;
    let c = out
        .cluster()
        .ok_or_else(|| format!("DescribeCluster {cluster}: the answer holds no cluster"))?;
    let facts = ClusterFacts {
        name: cluster.to_string(),
        arn: c.arn().unwrap_or_default().to_string(),
        region: String::new(),
        account: String::new(),
        partition: String::new(),
        authentication_mode: AuthMode::Other(String::new()),
        version: String::new(),
        platform_version: String::new(),
        status: None,
        endpoint: c.endpoint().map(str::to_string),
    };
    run_step(&facts, step).await
}
