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
    #[error("no context of the kubeconfig is for cluster {cluster} ({arn}, endpoint {endpoint}), and the current context {current} points at {server}: aws-auth would be read from another cluster; pass --context {current} if it is this cluster after all, or run aws eks update-kubeconfig --name {cluster}")]
    NoContextFor {
        cluster: String,
        arn: String,
        endpoint: String,
        current: String,
        server: String,
    },
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

/// The context of `kc` that belongs to the cluster (see [`belongs_to`]);
/// one named by the ARN first.
pub fn context_for(kc: &Kubeconfig, cluster_arn: &str, endpoint: Option<&str>) -> Option<String> {
    if let Some(c) = kc.contexts.iter().find(|c| c.name == cluster_arn) {
        return Some(c.name.clone());
    }
    kc.contexts
        .iter()
        .find(|c| belongs_to(kc, &c.name, cluster_arn, endpoint))
        .map(|c| c.name.clone())
}

/// Whether the context `name` is the cluster's: named by its ARN, or its
/// cluster entry is named by its ARN, or its server is the endpoint.
fn belongs_to(kc: &Kubeconfig, name: &str, cluster_arn: &str, endpoint: Option<&str>) -> bool {
    let Some(c) = kc.contexts.iter().find(|c| c.name == name) else {
        return false;
    };
    c.name == cluster_arn
        || c.context.as_ref().is_some_and(|x| x.cluster == cluster_arn)
        || matches!((server_of(kc, name), endpoint), (Some(s), Some(e)) if same_url(s, e))
}

/// The server URL of a context's cluster entry.
fn server_of<'a>(kc: &'a Kubeconfig, context: &str) -> Option<&'a str> {
    let cluster = kc
        .contexts
        .iter()
        .find(|c| c.name == context)?
        .context
        .as_ref()?
        .cluster
        .as_str();
    kc.clusters
        .iter()
        .find(|k| k.name == cluster)?
        .cluster
        .as_ref()?
        .server
        .as_deref()
}

/// A kube client for a cluster: the client, the context it uses (or
/// `in-cluster`), and, when `--context` named a context that cannot be
/// matched to the cluster (by ARN or endpoint: a proxy or a tunnel), a
/// notice saying so.
pub struct Connection {
    pub client: Client,
    pub context: String,
    pub unmatched: Option<String>,
}

/// Which context reads `cluster_arn`: `--context` if given (trusted, with a
/// notice when it cannot be matched), else the one [`context_for`] finds,
/// else the current context only when it is that cluster's too. The
/// current context of another cluster is refused: silently reading another
/// cluster's aws-auth is how a migration grants the wrong people access.
pub fn choose_context(
    kc: &Kubeconfig,
    explicit: Option<&str>,
    cluster_name: &str,
    cluster_arn: &str,
    endpoint: Option<&str>,
) -> Result<(String, Option<String>), KubeError> {
    let server = |ctx: &str| server_of(kc, ctx).unwrap_or("no server").to_string();
    if let Some(ctx) = explicit {
        let notice = (!belongs_to(kc, ctx, cluster_arn, endpoint)).then(|| {
            format!(
                "aws-auth is read through --context {ctx} (server {}), which the kubeconfig does not tie to cluster {cluster_name} ({cluster_arn}, endpoint {}): make sure it is that cluster",
                server(ctx),
                endpoint.unwrap_or("unknown")
            )
        });
        return Ok((ctx.to_string(), notice));
    }
    if let Some(ctx) = context_for(kc, cluster_arn, endpoint) {
        return Ok((ctx, None));
    }
    match kc.current_context.as_deref().filter(|c| !c.is_empty()) {
        Some(current) => Err(KubeError::NoContextFor {
            cluster: cluster_name.to_string(),
            arn: cluster_arn.to_string(),
            endpoint: endpoint.unwrap_or("unknown").to_string(),
            current: current.to_string(),
            server: server(current),
        }),
        None => Err(KubeError::Context {
            context: String::new(),
            message: format!(
                "the kubeconfig has no context for cluster {cluster_name} ({cluster_arn}) and no current context; pass --context, or run aws eks update-kubeconfig --name {cluster_name}"
            ),
        }),
    }
}

fn same_url(a: &str, b: &str) -> bool {
    let norm = |s: &str| s.trim_end_matches('/').to_ascii_lowercase();
    norm(a) == norm(b)
}

/// A kube client for the cluster (see [`choose_context`]).
pub async fn client_for(
    target: &KubeTarget,
    cluster_name: &str,
    cluster_arn: &str,
    endpoint: Option<&str>,
) -> Result<Connection, KubeError> {
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
    let (config, context, unmatched) = match kubeconfig {
        Some(kc) => {
            let (context, unmatched) = choose_context(
                &kc,
                target.context.as_deref(),
                cluster_name,
                cluster_arn,
                endpoint,
            )?;
            let options = KubeConfigOptions {
                context: Some(context.clone()),
                ..Default::default()
            };
            let config = Config::from_custom_kubeconfig(kc, &options)
                .await
                .map_err(|e| KubeError::Context {
                    context: context.clone(),
                    message: e.to_string(),
                })?;
            (config, context, unmatched)
        }
        None => {
            let config = Config::infer().await.map_err(|e| KubeError::NoConfig {
                cluster: cluster_name.to_string(),
                message: e.to_string(),
            })?;
            (config, "in-cluster".to_string(), None)
        }
    };
    let client = Client::try_from(config).map_err(|e| KubeError::Context {
        context: context.clone(),
        message: e.to_string(),
    })?;
    Ok(Connection {
        client,
        context,
        unmatched,
    })
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
    fn another_clusters_current_context_is_refused_an_explicit_one_noticed() {
        let kc = kubeconfig();
        let z = "arn:aws:eks:eu-west-1:111122223333:cluster/z";
        // Nothing ties a context to z: the current context (of cluster a)
        // is not silently used.
        let err = choose_context(&kc, None, "z", z, Some("https://z.example")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "no context of the kubeconfig is for cluster z (arn:aws:eks:eu-west-1:111122223333:cluster/z, endpoint https://z.example), and the current context ctx-a points at https://A.example/: aws-auth would be read from another cluster; pass --context ctx-a if it is this cluster after all, or run aws eks update-kubeconfig --name z"
        );
        // Named with --context: used, with a notice for the plan.
        let (ctx, notice) =
            choose_context(&kc, Some("ctx-a"), "z", z, Some("https://z.example")).unwrap();
        assert_eq!(ctx, "ctx-a");
        assert_eq!(
            notice.as_deref(),
            Some("aws-auth is read through --context ctx-a (server https://A.example/), which the kubeconfig does not tie to cluster z (arn:aws:eks:eu-west-1:111122223333:cluster/z, endpoint https://z.example): make sure it is that cluster")
        );
        // --context of the cluster itself (by ARN, cluster entry or server): no notice.
        let b = "arn:aws:eks:eu-west-1:111122223333:cluster/b";
        assert_eq!(
            choose_context(&kc, Some("ctx-b"), "b", b, None).unwrap(),
            ("ctx-b".to_string(), None)
        );
        assert_eq!(
            choose_context(&kc, Some("ctx-a"), "y", z, Some("https://a.example")).unwrap(),
            ("ctx-a".to_string(), None)
        );
        // Found without --context.
        assert_eq!(
            choose_context(&kc, None, "b", b, None).unwrap(),
            ("ctx-b".to_string(), None)
        );
        // No current context either.
        let mut none = kubeconfig();
        none.current_context = None;
        assert!(matches!(
            choose_context(&none, None, "z", z, None),
            Err(KubeError::Context { .. })
        ));
    }

    fn kubeconfig() -> Kubeconfig {
        serde_yaml::from_str(
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
        .unwrap()
    }

    #[test]
    fn context_by_arn_cluster_or_server() {
        let kc = kubeconfig();
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
