//! The Kubernetes side: finding the cluster in a kubeconfig and reading the
//! aws-auth `ConfigMap`. The `ConfigMap`'s data is handed to the core as a JSON
//! manifest, so it is parsed exactly as a file would be. Writing aws-auth
//! (replace, delete, recreate) is in [`configmap`]; reading RBAC objects for
//! the access analysis in [`rbac`].

pub(crate) mod configmap;
pub(crate) mod direct;
pub(crate) mod rbac;

pub(crate) use direct::{uses_eks_token, EksAccess, KubeAuth};

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
    /// cluster, else the current context when it is that cluster's.
    pub context: Option<String>,
    /// What to do with a context (or the in-cluster service account) that
    /// cannot be tied to the cluster either way.
    pub unverified: Unverified,
    /// `--kube-auth`: the kubeconfig, the EKS token, or either (see
    /// [`uses_eks_token`]).
    pub auth: KubeAuth,
    /// The endpoint, CA and token to use instead of the kubeconfig: set by
    /// the caller (who mints the token) when [`uses_eks_token`] says so.
    /// Boxed: most targets have none.
    pub eks_access: Option<Box<EksAccess>>,
}

/// How a kube connection that cannot be tied to the cluster is treated.
/// A context recognisably of *another* cluster is always refused.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Unverified {
    /// Refused: commands that change the cluster, without
    /// `--allow-unverified-context`. The default.
    #[default]
    Refuse,
    /// Used, with a notice: read-only commands, or
    /// `--allow-unverified-context`.
    Notice,
}

impl Unverified {
    /// `Notice` when the flag is given or the command changes nothing.
    pub fn from_flag(allow: bool, changes_cluster: bool) -> Unverified {
        if allow || !changes_cluster {
            Unverified::Notice
        } else {
            Unverified::Refuse
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KubeError {
    #[error("cannot read the kubeconfig {path}: {message}")]
    Kubeconfig { path: String, message: String },
    #[error("no kubeconfig and not running in a cluster ({message}); pass --kubeconfig, or run aws eks update-kubeconfig --name {cluster}")]
    NoConfig { cluster: String, message: String },
    #[error("kubeconfig context {context:?}: {message}")]
    Context { context: String, message: String },
    #[error("no context of the kubeconfig is for cluster {cluster} ({arn}, endpoint {endpoint}), and the current context {current}: aws-auth would be read from another cluster; {hint}")]
    NoContextFor {
        cluster: String,
        arn: String,
        endpoint: String,
        /// `CTX points at SERVER`.
        current: String,
        hint: String,
    },
    #[error("{what} is for another cluster, {other}, not for cluster {cluster} ({arn}, endpoint {endpoint}): aws-auth would be read from (and written to) the wrong cluster; pass --context with cluster {cluster}'s context, or run aws eks update-kubeconfig --name {cluster}")]
    OtherCluster {
        /// `--context X (server S)`.
        what: String,
        other: String,
        cluster: String,
        arn: String,
        endpoint: String,
    },
    #[error("{what} cannot be tied to cluster {cluster} ({arn}, endpoint {endpoint}): its server is not the cluster's endpoint and its name is not the cluster's ARN, so it may be another cluster; use the context aws eks update-kubeconfig --name {cluster} writes, or, if it is this cluster (a proxy or tunnel), pass --allow-unverified-context (dangerous: the wrong cluster's aws-auth would be migrated)")]
    Unverified {
        /// `--context X (server S)` or `the in-cluster service account`.
        what: String,
        cluster: String,
        arn: String,
        endpoint: String,
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
    /// Listing an RBAC kind failed otherwise than by a 403 (which is recorded
    /// in the snapshot as incomplete instead).
    #[error("list {resource}.rbac.authorization.k8s.io: {message}")]
    RbacList { resource: String, message: String },
}

/// The aws-auth `ConfigMap` as read from the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FetchedAwsAuth {
    /// Every key of `data` (not only the three the authenticator reads).
    pub data: BTreeMap<String, String>,
    pub resource_version: Option<String>,
    /// The kubeconfig context used (`in-cluster` for the service account).
    pub context: String,
}

impl FetchedAwsAuth {
    /// The `ConfigMap` as a JSON manifest, for the core's input reader.
    pub(crate) fn manifest(&self) -> String {
        manifest(&self.data, self.resource_version.as_deref())
    }

    /// The content the fingerprint hashes: the data alone, canonical JSON
    /// (sorted keys), so a rewrite with the same content hashes the same.
    pub(crate) fn content(&self) -> String {
        manifest(&self.data, None)
    }
}

/// A `ConfigMap` manifest holding `data` (keys sorted), as JSON.
pub(crate) fn manifest(data: &BTreeMap<String, String>, resource_version: Option<&str>) -> String {
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

/// The context of `kc` that belongs to the cluster ([`tie`] is
/// [`Tie::Ours`]); one named by the ARN first.
pub(crate) fn context_for(
    kc: &Kubeconfig,
    cluster_arn: &str,
    endpoint: Option<&str>,
) -> Option<String> {
    let ours = |name: &str| tie(kc, name, cluster_arn, endpoint) == Tie::Ours;
    if let Some(c) = kc
        .contexts
        .iter()
        .find(|c| c.name == cluster_arn && ours(&c.name))
    {
        return Some(c.name.clone());
    }
    kc.contexts
        .iter()
        .find(|c| ours(&c.name))
        .map(|c| c.name.clone())
}

/// What ties a kubeconfig context to a cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tie {
    /// Its server is the cluster's endpoint, or it (or its cluster entry)
    /// is named by the cluster's ARN, and nothing says otherwise.
    Ours,
    /// Recognisably another cluster: named by another EKS cluster's ARN,
    /// or its server is another EKS endpoint (or another API server on the
    /// endpoint's host). Says which.
    Other(String),
    /// Nothing says either way: a proxy, a tunnel, Rancher, Teleport.
    Unknown,
}

/// How the context `name` relates to the cluster. Evidence of another
/// cluster wins over evidence of this one: a context named by this
/// cluster's ARN whose server is another cluster's endpoint is another
/// cluster's.
pub(crate) fn tie(kc: &Kubeconfig, name: &str, cluster_arn: &str, endpoint: Option<&str>) -> Tie {
    let Some(c) = kc.contexts.iter().find(|c| c.name == name) else {
        return Tie::Unknown;
    };
    let mut ours = false;
    let names =
        std::iter::once(c.name.as_str()).chain(c.context.as_ref().map(|x| x.cluster.as_str()));
    for n in names {
        if n == cluster_arn {
            ours = true;
        } else if is_eks_cluster_arn(n) {
            return Tie::Other(n.to_string());
        }
    }
    if let Some(server) = server_of(kc, name) {
        match server_tie(server, endpoint) {
            Tie::Ours => ours = true,
            Tie::Other(o) => return Tie::Other(o),
            Tie::Unknown => {}
        }
    }
    if ours {
        Tie::Ours
    } else {
        Tie::Unknown
    }
}

/// A server URL against the cluster's endpoint: the endpoint itself;
/// another EKS endpoint (`https://<id>.<zone>.<region>.eks.amazonaws.com`);
/// another path on the endpoint's own host (the emulator serves each
/// cluster under its own path); or something else (unknown).
fn server_tie(server: &str, endpoint: Option<&str>) -> Tie {
    let Some(endpoint) = endpoint else {
        return Tie::Unknown;
    };
    if same_url(server, endpoint) {
        return Tie::Ours;
    }
    let (Some(s), Some(e)) = (Url::parse(server), Url::parse(endpoint)) else {
        return Tie::Unknown;
    };
    if is_eks_host(&s.host) || (s.origin() == e.origin() && s.path != e.path) {
        return Tie::Other(format!("the cluster at {server}"));
    }
    Tie::Unknown
}

/// `arn:PARTITION:eks:REGION:ACCOUNT:cluster/NAME`.
fn is_eks_cluster_arn(s: &str) -> bool {
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    matches!(parts.as_slice(), ["arn", p, "eks", r, a, res]
        if p.starts_with("aws") && !r.is_empty() && a.len() == 12
            && a.bytes().all(|b| b.is_ascii_digit())
            && res.strip_prefix("cluster/").is_some_and(|n| !n.is_empty()))
}

/// An EKS API server host name (`….eks.amazonaws.com`, `….eks.amazonaws.com.cn`).
fn is_eks_host(host: &str) -> bool {
    host.ends_with(".eks.amazonaws.com") || host.ends_with(".eks.amazonaws.com.cn")
}

/// The parts of a URL that say which server it is.
#[derive(Debug, PartialEq, Eq)]
struct Url {
    scheme: String,
    host: String,
    port: u16,
    /// Without a trailing `/`.
    path: String,
}

impl Url {
    fn parse(s: &str) -> Option<Url> {
        let (scheme, rest) = s.trim().split_once("://")?;
        let scheme = scheme.to_ascii_lowercase();
        let (authority, path) = match rest.find(['/', '?', '#']) {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        let path = path.split(['?', '#']).next().unwrap_or("");
        let authority = authority.rsplit('@').next().unwrap_or(authority);
        let (host, port) = if let Some(end) = authority.find(']') {
            // [IPv6]:port
            let (h, rest) = authority.split_at(end + 1);
            match rest.strip_prefix(':') {
                Some(p) => (h, Some(p.parse::<u16>().ok()?)),
                None if rest.is_empty() => (h, None),
                None => return None,
            }
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h, Some(p.parse::<u16>().ok()?)),
                None => (authority, None),
            }
        };
        if host.is_empty() {
            return None;
        }
        let default = match scheme.as_str() {
            "https" => 443,
            "http" => 80,
            _ => 0,
        };
        Some(Url {
            port: port.unwrap_or(default),
            host: host.to_ascii_lowercase(),
            path: path.trim_end_matches('/').to_string(),
            scheme,
        })
    }

    fn origin(&self) -> (&str, &str, u16) {
        (&self.scheme, &self.host, self.port)
    }
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
/// `in-cluster`), and, when the connection cannot be tied to the cluster
/// (a `--context` through a proxy or a tunnel, the in-cluster service
/// account) and that is allowed, a notice saying so.
pub(crate) struct Connection {
    pub client: Client,
    pub context: String,
    pub unmatched: Option<String>,
}

/// The notice for a connection that cannot be tied to the cluster.
fn unverified_notice(
    what: &str,
    cluster_name: &str,
    cluster_arn: &str,
    endpoint: Option<&str>,
) -> String {
    format!(
        "aws-auth is read through {what}, which cannot be tied to cluster {cluster_name} ({cluster_arn}, endpoint {}): make sure it is that cluster",
        endpoint.unwrap_or("unknown")
    )
}

/// Which context reads `cluster_arn`, and a notice when it cannot be tied
/// to the cluster. An explicit `--context`: refused when it is recognisably
/// another cluster's ([`Tie::Other`]); when nothing ties it either way,
/// refused under [`Unverified::Refuse`], used with a notice under
/// [`Unverified::Notice`]. Without `--context`: the one [`context_for`]
/// finds, else the current context is refused (silently reading another
/// cluster's aws-auth is how a migration grants the wrong people access).
pub(crate) fn choose_context(
    kc: &Kubeconfig,
    explicit: Option<&str>,
    cluster_name: &str,
    cluster_arn: &str,
    endpoint: Option<&str>,
    unverified: Unverified,
) -> Result<(String, Option<String>), KubeError> {
    let server = |ctx: &str| server_of(kc, ctx).unwrap_or("no server").to_string();
    let shown_endpoint = endpoint.unwrap_or("unknown").to_string();
    if let Some(ctx) = explicit {
        let what = format!("--context {ctx} (server {})", server(ctx));
        return match tie(kc, ctx, cluster_arn, endpoint) {
            Tie::Ours => Ok((ctx.to_string(), None)),
            Tie::Other(other) => Err(KubeError::OtherCluster {
                what,
                other,
                cluster: cluster_name.to_string(),
                arn: cluster_arn.to_string(),
                endpoint: shown_endpoint,
            }),
            Tie::Unknown if unverified == Unverified::Notice => Ok((
                ctx.to_string(),
                Some(unverified_notice(
                    &what,
                    cluster_name,
                    cluster_arn,
                    endpoint,
                )),
            )),
            Tie::Unknown => Err(KubeError::Unverified {
                what,
                cluster: cluster_name.to_string(),
                arn: cluster_arn.to_string(),
                endpoint: shown_endpoint,
            }),
        };
    }
    if let Some(ctx) = context_for(kc, cluster_arn, endpoint) {
        return Ok((ctx, None));
    }
    match kc.current_context.as_deref().filter(|c| !c.is_empty()) {
        Some(current) => Err(KubeError::NoContextFor {
            cluster: cluster_name.to_string(),
            arn: cluster_arn.to_string(),
            endpoint: shown_endpoint,
            current: format!("{current} points at {}", server(current)),
            hint: match tie(kc, current, cluster_arn, endpoint) {
                Tie::Other(other) => format!(
                    "it is for {other}; run aws eks update-kubeconfig --name {cluster_name}"
                ),
                _ => format!(
                    "pass --context {current} --allow-unverified-context if it is this cluster after all, or run aws eks update-kubeconfig --name {cluster_name}"
                ),
            },
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
    if let (Some(x), Some(y)) = (Url::parse(a), Url::parse(b)) {
        x == y
    } else {
        let norm = |s: &str| s.trim_end_matches('/').to_ascii_lowercase();
        norm(a) == norm(b)
    }
}

/// A kube client for the cluster (see [`choose_context`]).
pub(crate) async fn client_for(
    target: &KubeTarget,
    cluster_name: &str,
    cluster_arn: &str,
    endpoint: Option<&str>,
) -> Result<Connection, KubeError> {
    if let Some(access) = &target.eks_access {
        return Ok(Connection {
            client: direct::client(access).await?,
            context: direct::EKS_TOKEN_CONTEXT.into(),
            unmatched: None,
        });
    }
    if target.auth == KubeAuth::EksToken {
        return Err(KubeError::Context {
            context: direct::EKS_TOKEN_CONTEXT.into(),
            message: format!(
                "--kube-auth eks-token needs the endpoint of cluster {cluster_name} from DescribeCluster, and it reports none"
            ),
        });
    }
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
    let (config, context, unmatched) = if let Some(kc) = kubeconfig {
        let (context, unmatched) = choose_context(
            &kc,
            target.context.as_deref(),
            cluster_name,
            cluster_arn,
            endpoint,
            target.unverified,
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
    } else {
        let config = Config::infer().await.map_err(|e| KubeError::NoConfig {
            cluster: cluster_name.to_string(),
            message: e.to_string(),
        })?;
        // The in-cluster API server (kubernetes.default.svc) is the
        // cluster the tool runs in, which nothing ties to --cluster.
        let what = "the in-cluster service account";
        if target.unverified == Unverified::Refuse {
            return Err(KubeError::Unverified {
                what: what.into(),
                cluster: cluster_name.to_string(),
                arn: cluster_arn.to_string(),
                endpoint: endpoint.unwrap_or("unknown").to_string(),
            });
        }
        let notice = unverified_notice(what, cluster_name, cluster_arn, endpoint);
        (config, "in-cluster".to_string(), Some(notice))
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

/// Runs one Kubernetes request and logs it (`-vv`): method, target,
/// status and time; never the request or its answer.
pub(crate) async fn logged<T>(
    method: &str,
    target: &str,
    call: impl std::future::Future<Output = Result<T, ::kube::Error>>,
) -> Result<T, ::kube::Error> {
    let started = std::time::Instant::now();
    let result = call.await;
    let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    match &result {
        Ok(_) => tracing::debug!(
            method,
            target,
            status = "ok",
            elapsed_ms,
            "Kubernetes request"
        ),
        Err(::kube::Error::Api(s)) => {
            tracing::debug!(
                method,
                target,
                status = s.code,
                elapsed_ms,
                "Kubernetes request"
            );
        }
        Err(e) => tracing::debug!(
            method,
            target,
            error = %e,
            elapsed_ms,
            "Kubernetes request got no answer"
        ),
    }
    result
}

/// Waits before another try of a Kubernetes request the API server
/// throttled or failed (`-v` tells it).
pub(crate) async fn back_off(method: &str, target: &str, attempt: u32, status: u16) {
    let wait = std::time::Duration::from_millis(200 << attempt);
    tracing::info!(
        method,
        target,
        status,
        attempt = attempt + 1,
        backoff_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
        "retrying the Kubernetes request"
    );
    tokio::time::sleep(wait).await;
}

/// aws-auth as the request log names it.
const AWS_AUTH: &str = "configmaps/kube-system/aws-auth";

/// Tries of the aws-auth GET when the API server throttles or fails.
pub(crate) const KUBE_ATTEMPTS: u32 = 4;

/// GET kube-system/aws-auth. A 404 is [`KubeError::NotFound`].
pub(crate) async fn get_aws_auth(
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
        match logged("GET", AWS_AUTH, api.get_opt("aws-auth")).await {
            Err(::kube::Error::Api(s))
                if attempt < KUBE_ATTEMPTS && (s.code == 429 || s.code >= 500) =>
            {
                back_off("GET", AWS_AUTH, attempt, s.code).await;
            }
            other => break other,
        }
    };
    let cm = got.map_err(|e| KubeError::Api {
        cluster: cluster_name.to_string(),
        context: context.to_string(),
        message: match &e {
            ::kube::Error::Api(s) if s.code == 401 && context == direct::EKS_TOKEN_CONTEXT => format!(
                "unauthorized ({}): the EKS token of the AWS credentials is not accepted; check the credentials (and --role-arn), the region and the cluster",
                s.message
            ),
            ::kube::Error::Api(s) if s.code == 403 && context == direct::EKS_TOKEN_CONTEXT => format!(
                "forbidden ({}): the AWS identity may not read ConfigMaps in kube-system; give it an access entry (or an aws-auth row) that may",
                s.message
            ),
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
    fn another_clusters_current_context_is_refused_an_unverifiable_one_noticed() {
        let kc = kubeconfig();
        let z = "arn:aws:eks:eu-west-1:111122223333:cluster/z";
        // Nothing ties a context to z: the current context (of cluster a,
        // whose server says nothing either way) is not silently used.
        let err = choose_context(
            &kc,
            None,
            "z",
            z,
            Some("https://z.example"),
            Unverified::Notice,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "no context of the kubeconfig is for cluster z (arn:aws:eks:eu-west-1:111122223333:cluster/z, endpoint https://z.example), and the current context ctx-a points at https://A.example/: aws-auth would be read from another cluster; pass --context ctx-a --allow-unverified-context if it is this cluster after all, or run aws eks update-kubeconfig --name z"
        );
        // Named with --context: used with a notice by a read...
        let (ctx, notice) = choose_context(
            &kc,
            Some("ctx-a"),
            "z",
            z,
            Some("https://z.example"),
            Unverified::Notice,
        )
        .unwrap();
        assert_eq!(ctx, "ctx-a");
        assert_eq!(
            notice.as_deref(),
            Some("aws-auth is read through --context ctx-a (server https://A.example/), which cannot be tied to cluster z (arn:aws:eks:eu-west-1:111122223333:cluster/z, endpoint https://z.example): make sure it is that cluster")
        );
        // ...refused by a change without --allow-unverified-context.
        let err = choose_context(
            &kc,
            Some("ctx-a"),
            "z",
            z,
            Some("https://z.example"),
            Unverified::Refuse,
        )
        .unwrap_err();
        assert!(matches!(err, KubeError::Unverified { .. }), "{err}");
        assert!(
            err.to_string().starts_with(
                "--context ctx-a (server https://A.example/) cannot be tied to cluster z ("
            ),
            "{err}"
        );
        // --context of the cluster itself (by ARN, cluster entry or server): no notice.
        let b = "arn:aws:eks:eu-west-1:111122223333:cluster/b";
        assert_eq!(
            choose_context(&kc, Some("ctx-b"), "b", b, None, Unverified::Refuse).unwrap(),
            ("ctx-b".to_string(), None)
        );
        assert_eq!(
            choose_context(
                &kc,
                Some("ctx-a"),
                "y",
                z,
                Some("https://a.example:443"),
                Unverified::Refuse
            )
            .unwrap(),
            ("ctx-a".to_string(), None)
        );
        // Found without --context.
        assert_eq!(
            choose_context(&kc, None, "b", b, None, Unverified::Refuse).unwrap(),
            ("ctx-b".to_string(), None)
        );
        // No current context either.
        let mut none = kubeconfig();
        none.current_context = None;
        assert!(matches!(
            choose_context(&none, None, "z", z, None, Unverified::Notice),
            Err(KubeError::Context { .. })
        ));
    }

    #[test]
    fn another_clusters_context_is_refused_even_when_allowed() {
        let kc = kubeconfig();
        // ctx-b is named by cluster b's ARN: refused for z, with both named.
        let z = "arn:aws:eks:eu-west-1:111122223333:cluster/z";
        let err = choose_context(
            &kc,
            Some("ctx-b"),
            "z",
            z,
            Some("https://z.example"),
            Unverified::Notice,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "--context ctx-b (server https://b.example) is for another cluster, arn:aws:eks:eu-west-1:111122223333:cluster/b, not for cluster z (arn:aws:eks:eu-west-1:111122223333:cluster/z, endpoint https://z.example): aws-auth would be read from (and written to) the wrong cluster; pass --context with cluster z's context, or run aws eks update-kubeconfig --name z"
        );
        // The current context of another EKS cluster: the hint does not
        // suggest using it.
        let mut cur_b = kubeconfig();
        cur_b.current_context = Some("ctx-b".into());
        let err = choose_context(&cur_b, None, "z", z, None, Unverified::Notice).unwrap_err();
        assert!(err.to_string().ends_with("aws-auth would be read from another cluster; it is for arn:aws:eks:eu-west-1:111122223333:cluster/b; run aws eks update-kubeconfig --name z"), "{err}");
        // A context named and pointing as anyone likes, whose server is
        // another EKS endpoint: refused.
        let prod = "arn:aws:eks:eu-west-1:111122223333:cluster/prod";
        let prod_ep = "https://0123456789ABCDEF0123456789ABCDEF.gr7.eu-west-1.eks.amazonaws.com";
        assert_eq!(
            tie(&kc, "staging", prod, Some(prod_ep)),
            Tie::Other("the cluster at https://FEDCBA9876543210FEDCBA9876543210.yl4.eu-west-1.eks.amazonaws.com".into())
        );
        assert_eq!(tie(&kc, "prod-alias", prod, Some(prod_ep)), Tie::Ours);
        // Named by prod's ARN but pointing at staging's endpoint: another cluster.
        assert!(matches!(tie(&kc, prod, prod, Some(prod_ep)), Tie::Other(_)));
        // The emulator: one host, a path per cluster.
        assert_eq!(
            server_tie(
                "http://127.0.0.1:9/k8s/1/r/staging",
                Some("http://127.0.0.1:9/k8s/1/r/prod")
            ),
            Tie::Other("the cluster at http://127.0.0.1:9/k8s/1/r/staging".into())
        );
        assert_eq!(
            server_tie(
                "http://localhost:9/k8s/1/r/prod",
                Some("http://127.0.0.1:9/k8s/1/r/prod")
            ),
            Tie::Unknown
        );
        assert_eq!(
            server_tie("https://rancher.example/k8s/clusters/c-1", Some(prod_ep)),
            Tie::Unknown
        );
        // Without an endpoint, a server says nothing.
        assert_eq!(server_tie(prod_ep, None), Tie::Unknown);
        // context_for never picks another cluster's context.
        assert_eq!(
            context_for(&kc, prod, Some(prod_ep)).as_deref(),
            Some("prod-alias")
        );
    }

    #[test]
    fn urls_and_arns() {
        assert!(same_url("https://A.example:443/", "https://a.example"));
        assert!(!same_url("https://a.example:8443", "https://a.example"));
        assert!(same_url("http://[::1]:80/x/", "http://[::1]/x"));
        assert!(is_eks_cluster_arn(
            "arn:aws-cn:eks:cn-north-1:111122223333:cluster/a"
        ));
        assert!(!is_eks_cluster_arn(
            "arn:aws:eks:eu-west-1:111122223333:nodegroup/a/b/c"
        ));
        assert!(!is_eks_cluster_arn("prod"));
        assert!(is_eks_host("abc.sk1.cn-north-1.eks.amazonaws.com.cn"));
        assert!(Url::parse("not a url").is_none());
        assert!(Url::parse("https://h:notaport").is_none());
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
- name: staging-cluster
  cluster: {server: "https://FEDCBA9876543210FEDCBA9876543210.yl4.eu-west-1.eks.amazonaws.com"}
- name: prod-cluster
  cluster: {server: "https://0123456789abcdef0123456789abcdef.gr7.eu-west-1.eks.amazonaws.com/"}
contexts:
- name: ctx-a
  context: {cluster: a, user: u}
- name: ctx-b
  context: {cluster: "arn:aws:eks:eu-west-1:111122223333:cluster/b", user: u}
- name: arn:aws:eks:eu-west-1:111122223333:cluster/c
  context: {cluster: a, user: u}
- name: staging
  context: {cluster: staging-cluster, user: u}
- name: prod-alias
  context: {cluster: prod-cluster, user: u}
- name: arn:aws:eks:eu-west-1:111122223333:cluster/prod
  context: {cluster: staging-cluster, user: u}
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
