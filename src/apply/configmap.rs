//! Running the aws-auth steps (prune-configmap, finalize and their undo, for
//! the executor and for `finish`): every write checks first that the `ConfigMap`
//! holds what the step expects ([`steps::still_as_left_configmap`]), then
//! writes through the Kubernetes adapter (`kube::configmap`) with
//! the resourceVersion of that read, so nothing written in between is lost.

use serde_json::json;

use crate::aws::cluster_config::DescribeEndpoint;
use crate::aws::{AwsError, ClusterFacts};
use crate::core::steps::{self, Outcome, Step};
use crate::kube;

/// The Kubernetes adapter's client for aws-auth, what it reads and why a
/// write fails (see `kube::configmap`).
pub(crate) type Target = kube::configmap::Target;
pub(crate) type WriteError = kube::configmap::WriteError;

/// Why an aws-auth step run for the apply/rollback executor failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StepError {
    /// Looking the cluster up (`DescribeCluster`).
    #[error("{0}")]
    Aws(AwsError),
    /// Connecting to the cluster's API server.
    #[error("{0}")]
    Connect(String),
    #[error("{0}")]
    Write(WriteError),
}

/// The client for the cluster of `facts`, from the kubeconfig flags (or
/// their defaults), or with an EKS token minted from `clients`'
/// credentials when there is no kubeconfig context for the cluster (see
/// [`crate::live::with_eks_access`]). Its `notice` is for the caller to show.
pub(crate) async fn connect(
    clients: &crate::aws::Clients,
    kube_target: &kube::KubeTarget,
    facts: &ClusterFacts,
) -> anyhow::Result<Target> {
    let kube_target = crate::live::with_eks_access(clients, kube_target, facts).await?;
    Ok(Target::connect(
        &kube_target,
        &facts.name,
        &facts.arn,
        facts.endpoint.as_deref(),
    )
    .await?)
}

/// Runs one aws-auth step: reads the `ConfigMap`, checks it holds what the
/// step expects, and writes. The resourceVersion of that read guards the
/// write, so nothing written in between is lost.
pub(crate) async fn run_on(target: &Target, step: &Step) -> Result<serde_json::Value, WriteError> {
    let observed = target.observe().await?;
    let data = observed.data();
    steps::still_as_left_configmap(step, data.as_ref())
        .map_err(|e| WriteError::Precondition(e.to_string()))?;
    match step {
        Step::PutConfigMap { new_data, .. } => {
            let rv = target.replace_data(&observed, new_data).await?;
            Ok(
                json!({"resource_version": rv, "previous_resource_version": observed.resource_version()}),
            )
        }
        Step::DeleteConfigMap { .. } => {
            target.delete(observed.resource_version()).await?;
            Ok(json!({"deleted": true, "previous_resource_version": observed.resource_version()}))
        }
        Step::CreateConfigMap { backup } => {
            let rv = target.create(backup).await?;
            Ok(json!({"created": true, "resource_version": rv}))
        }
        other => Err(WriteError::Precondition(format!(
            "{} is not an aws-auth step",
            other.op()
        ))),
    }
}

/// The outcome to journal for a step's result.
pub(crate) fn outcome_of(result: &Result<serde_json::Value, WriteError>) -> Outcome {
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

/// As [`run_step`], for an executor that holds only an EKS client and the
/// cluster name: `DescribeCluster` gives the ARN and endpoint that pick the
/// kubeconfig context.
pub(crate) async fn run_step_with(
    eks: &impl DescribeEndpoint,
    cluster: &str,
    step: &Step,
) -> Result<serde_json::Value, StepError> {
    let found = eks
        .cluster_endpoint(cluster)
        .await
        .map_err(StepError::Aws)?;
    let target = Target::connect(
        &kube::KubeTarget::default(),
        cluster,
        &found.arn,
        found.endpoint.as_deref(),
    )
    .await
    .map_err(|e| StepError::Connect(crate::outcome::one_line(&e.into())))?;
    run_on(&target, step).await.map_err(StepError::Write)
}
