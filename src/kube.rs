//! The Kubernetes side: finding the cluster in a kubeconfig and reading the
//! aws-auth ConfigMap. The ConfigMap's data is handed to the core as a JSON
//! manifest, so it is parsed exactly as a file would be.

use std::collections::BTreeMap;
use std::path::PathBuf;

use ::kube::config::{KubeConfigOptions, Kubeconfig};
use ::kube::{Api, Client, Config};
use k8s_openapi::api::core::v1::ConfigMap;

/// Where the kube client comes from.
#[derive(Debug, Clone, Default)]
pub struct KubeTarget {
    /// `--kubeconfig`; default: `KUBECONFIG` or `~/.kube/config`, else the
    /// in-cluster service account.
    pub kubeconfig: Option<PathBuf>,
    /// `--context`; default: the context named by (or pointing at) the
    /// cluster, else the current context.
    pub context: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum KubeError {
    #[error("cannot read the kubeconfig {path}: {message}")]
    Kubeconfig { path: String, message: String },
    #[error("no kubeconfig and not running in a cluster ({message}); pass --kubeconfig, or run aws eks update-kubeconfig --name {cluster}")]
    NoConfig { cluster: String, message: String },
    #[error("kubeconfig context {context:?}: {message}")]
    Context { context: String, message: String },
    #[error("the aws-auth ConfigMap does not exist in kube-system of cluster {cluster} (context {context}): the cluster has no aws-auth to migrate; check --context, or pass --file to plan from a saved copy")]
    NotFound { cluster: String, context: String },
    #[error(
        "GET configmap kube-system/aws-auth on cluster {cluster} (context {context}): {message}"
    )]
    Api {
        cluster: String,
        context: String,
        message: String,
    },
}

/// The aws-auth ConfigMap as read from the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedAwsAuth {
    /// Every key of `data` (not only the three the authenticator reads).
    pub data: BTreeMap<String, String>,
    pub resource_version: Option<String>,
    /// The kubeconfig context used (`in-cluster` for the service account).
    pub context: String,
}

impl FetchedAwsAuth {
    /// The ConfigMap as a JSON manifest, for the core's input reader.
    pub fn manifest(&self) -> String {
        manifest(&self.data, self.resource_version.as_deref())
    }

    /// The content the fingerprint hashes: the data alone, canonical JSON
    /// (sorted keys), so a rewrite with the same content hashes the same.
    pub fn content(&self) -> String {
        manifest(&self.data, None)
    }
}

/// A ConfigMap manifest holding `data` (keys sorted), as JSON.
pub fn manifest(data: &BTreeMap<String, String>, resource_version: Option<&str>) -> String {
    let mut metadata = serde_json::Map::new();
    metadata.insert("name".into(), "aws-auth".into());
    metadata.insert("namespace".into(), "kube-system".into());
    if let Some(rv) = resource_version {
        metadata.insert("resourceVersion".into(), rv.into());
    }
    let doc = serde_json::json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": metadata,
        "data": data,
    });
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}

/// The context of `kc` that belongs to the cluster: named by its ARN, or
/// whose cluster entry is named by its ARN, or whose server is its endpoint.
pub fn context_for(kc: &Kubeconfig, cluster_arn: &str, endpoint: Option<&str>) -> Option<String> {
    if let Some(c) = kc.contexts.iter().find(|c| c.name == cluster_arn) {
        return Some(c.name.clone());
    }
    let norm = |s: &str| s.trim_end_matches('/').to_ascii_lowercase();
    kc.contexts
        .iter()
        .find(|c| {
            let Some(ctx) = &c.context else {
                return false;
            };
            if ctx.cluster == cluster_arn {
                return true;
            }
            let server = kc
                .clusters
                .iter()
                .find(|k| k.name == ctx.cluster)
                .and_then(|k| k.cluster.as_ref())
                .and_then(|k| k.server.as_deref());
            matches!((server, endpoint), (Some(s), Some(e)) if norm(s) == norm(e))
        })
        .map(|c| c.name.clone())
}

/// A kube client for the cluster, and the name of the context it uses.
pub async fn client_for(
    target: &KubeTarget,
    cluster_name: &str,
    cluster_arn: &str,
    endpoint: Option<&str>,
) -> Result<(Client, String), KubeError> {
    let kubeconfig = match &target.kubeconfig {
        Some(path) => Some(
            Kubeconfig::read_from(path).map_err(|e| KubeError::Kubeconfig {
                path: path.display().to_string(),
                message: e.to_string(),
            })?,
        ),
        None => match Kubeconfig::read() {
            Ok(kc) => Some(kc),
            Err(e) if target.context.is_some() => {
                return Err(KubeError::Kubeconfig {
                    path: std::env::var("KUBECONFIG").unwrap_or_else(|_| "~/.kube/config".into()),
                    message: e.to_string(),
                })
            }
            Err(_) => None,
        },
    };
    let (config, context) = match kubeconfig {
        Some(kc) => {
            let context = target
                .context
                .clone()
                .or_else(|| context_for(&kc, cluster_arn, endpoint))
                .or_else(|| kc.current_context.clone())
                .unwrap_or_default();
            let options = KubeConfigOptions {
                context: (!context.is_empty()).then(|| context.clone()),
                ..Default::default()
            };
            let config = Config::from_custom_kubeconfig(kc, &options)
                .await
                .map_err(|e| KubeError::Context {
                    context: context.clone(),
                    message: e.to_string(),
                })?;
            (config, context)
        }
        None => {
            let config = Config::infer().await.map_err(|e| KubeError::NoConfig {
                cluster: cluster_name.to_string(),
                message: e.to_string(),
            })?;
            (config, "in-cluster".to_string())
        }
    };
    let client = Client::try_from(config).map_err(|e| KubeError::Context {
        context: context.clone(),
        message: e.to_string(),
    })?;
    Ok((client, context))
}

/// Tries of the aws-auth GET when the API server throttles or fails.
pub const KUBE_ATTEMPTS: u32 = 4;

/// GET kube-system/aws-auth. A 404 is [`KubeError::NotFound`].
pub async fn get_aws_auth(
    client: Client,
    cluster_name: &str,
    context: &str,
) -> Result<FetchedAwsAuth, KubeError> {
    let api: Api<ConfigMap> = Api::namespaced(client, "kube-system");
    // The API server may throttle (429) or be briefly unavailable (5xx):
    // a few tries with backoff, as for the AWS calls.
    let mut attempt = 0;
    let got = loop {
        attempt += 1;
        match api.get_opt("aws-auth").await {
            Err(::kube::Error::Api(s))
                if attempt < KUBE_ATTEMPTS && (s.code == 429 || s.code >= 500) =>
            {
                tokio::time::sleep(std::time::Duration::from_millis(200 << attempt)).await;
            }
            other => break other,
        }
    };
    let cm = got.map_err(|e| KubeError::Api {
        cluster: cluster_name.to_string(),
        context: context.to_string(),
        message: match &e {
            ::kube::Error::Api(s) if s.code == 401 => format!(
                "unauthorized ({}): the kubeconfig's credentials are not accepted; refresh them (aws eks update-kubeconfig)",
                s.message
            ),
            ::kube::Error::Api(s) if s.code == 403 => format!(
                "forbidden ({}): the kubeconfig's user may not read ConfigMaps in kube-system",
                s.message
            ),
            ::kube::Error::Api(s) => format!("HTTP {}: {}", s.code, s.message),
            other => other.to_string(),
        },
    })?;
    let Some(cm) = cm else {
        return Err(KubeError::NotFound {
            cluster: cluster_name.to_string(),
            context: context.to_string(),
        });
    };
    Ok(FetchedAwsAuth {
        data: cm.data.unwrap_or_default(),
        resource_version: cm.metadata.resource_version,
        context: context.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::{aws_auth, input};

    #[test]
    fn manifest_reads_back_through_the_core() {
        let data = BTreeMap::from([
            (
                "mapRoles".to_string(),
                "- rolearn: arn:aws:iam::111122223333:role/dev\n  username: dev\n  groups:\n    - dev\n"
                    .to_string(),
            ),
            ("mapAccounts".to_string(), "- \"011122223333\"\n".to_string()),
        ]);
        let text = manifest(&data, Some("42"));
        let located = input::locate(&text).unwrap();
        assert_eq!(located.resource_version.as_deref(), Some("42"));
        let auth = aws_auth::parse(&located);
        assert_eq!(auth.rows.len(), 2);
        assert_eq!(auth.rows[0].arn, "arn:aws:iam::111122223333:role/dev");
        assert_eq!(auth.rows[1].account.as_deref(), Some("011122223333"));
        // Content ignores the resourceVersion.
        assert_eq!(manifest(&data, None), manifest(&data, None));
        assert!(!manifest(&data, None).contains("resourceVersion"));
    }

    #[test]
    fn context_by_arn_cluster_or_server() {
        let kc: Kubeconfig = serde_yaml::from_str(
            r#"
apiVersion: v1
kind: Config
clusters:
- name: a
  cluster: {server: "https://A.example/"}
- name: arn:aws:eks:eu-west-1:111122223333:cluster/b
  cluster: {server: "https://b.example"}
contexts:
- name: ctx-a
  context: {cluster: a, user: u}
- name: ctx-b
  context: {cluster: "arn:aws:eks:eu-west-1:111122223333:cluster/b", user: u}
- name: arn:aws:eks:eu-west-1:111122223333:cluster/c
  context: {cluster: a, user: u}
current-context: ctx-a
users:
- name: u
  user: {token: t}
"#,
        )
        .unwrap();
        assert_eq!(
            context_for(&kc, "arn:aws:eks:eu-west-1:111122223333:cluster/c", None).as_deref(),
            Some("arn:aws:eks:eu-west-1:111122223333:cluster/c")
        );
        assert_eq!(
            context_for(&kc, "arn:aws:eks:eu-west-1:111122223333:cluster/b", None).as_deref(),
            Some("ctx-b")
        );
        assert_eq!(
            context_for(
                &kc,
                "arn:aws:eks:eu-west-1:111122223333:cluster/z",
                Some("https://a.example")
            )
            .as_deref(),
            Some("ctx-a")
        );
        assert_eq!(
            context_for(&kc, "arn:aws:eks:eu-west-1:111122223333:cluster/z", None),
            None
        );
    }
}
