//! Reaching a cluster's API server without a kubeconfig: its endpoint and
//! CA (from DescribeCluster) and a bearer token (the EKS token, minted by
//! the caller: this module knows nothing of AWS), and when that route is
//! taken ([`KubeAuth`], [`uses_eks_token`]).

use ::kube::config::{KubeConfigOptions, Kubeconfig};
use ::kube::{Client, Config};

use super::{context_for, tie, KubeError, KubeTarget, Tie};

/// `--kube-auth`: how the Kubernetes API is reached (`kube_auth` in run
/// files and fleet files: `auto`, `kubeconfig`, `eks-token`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KubeAuth {
    /// The kubeconfig when one of its contexts belongs to the cluster (or
    /// `--context` is given), else the EKS token; a current context of
    /// another cluster is still refused. The default.
    #[default]
    Auto,
    /// Always the kubeconfig (the in-cluster service account without one).
    Kubeconfig,
    /// Always the endpoint and CA of DescribeCluster with an EKS token.
    EksToken,
}

/// The connection's name in plans and messages when the EKS token is used.
pub(crate) const EKS_TOKEN_CONTEXT: &str = "eks-token";

/// The endpoint, CA and token the EKS-token route connects with.
#[derive(Clone, PartialEq, Eq)]
pub struct EksAccess {
    pub endpoint: String,
    /// Base64 of the CA's PEM (`certificateAuthority.data`); None: the
    /// system's roots (or a plain-HTTP endpoint, as the emulator's).
    pub certificate_authority: Option<String>,
    /// `k8s-aws-v1.…`: a credential, never shown.
    pub token: String,
}

impl std::fmt::Debug for EksAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EksAccess")
            .field("endpoint", &self.endpoint)
            .field(
                "certificate_authority",
                &self.certificate_authority.is_some(),
            )
            .field("token", &"<hidden>")
            .finish()
    }
}

/// Whether `target` reaches the cluster with the EKS token: always under
/// [`KubeAuth::EksToken`], never under [`KubeAuth::Kubeconfig`]; under
/// [`KubeAuth::Auto`], when no `--context` is given, the endpoint is known,
/// and there is no kubeconfig or none of its contexts belongs to the
/// cluster while its current context is not recognisably another
/// cluster's (that one stays refused, by [`super::choose_context`]).
pub(crate) fn uses_eks_token(
    target: &KubeTarget,
    cluster_arn: &str,
    endpoint: Option<&str>,
) -> bool {
    match target.auth {
        KubeAuth::EksToken => return true,
        KubeAuth::Kubeconfig => return false,
        KubeAuth::Auto => {}
    }
    if target.context.is_some() || endpoint.is_none() {
        return false;
    }
    let kc = match &target.kubeconfig {
        // An unreadable --kubeconfig is reported by the kubeconfig route.
        Some(path) => match Kubeconfig::read_from(path) {
            Ok(kc) => kc,
            Err(_) => return false,
        },
        None => match Kubeconfig::read() {
            Ok(kc) => kc,
            Err(_) => return true,
        },
    };
    if context_for(&kc, cluster_arn, endpoint).is_some() {
        return false;
    }
    match kc.current_context.as_deref().filter(|c| !c.is_empty()) {
        Some(current) => !matches!(tie(&kc, current, cluster_arn, endpoint), Tie::Other(_)),
        None => true,
    }
}

/// A client for `access`: its endpoint, its CA (when given) and its token.
pub(crate) async fn client(access: &EksAccess) -> Result<Client, KubeError> {
    let err = |message: String| KubeError::Context {
        context: EKS_TOKEN_CONTEXT.into(),
        message,
    };
    let mut cluster = serde_json::json!({ "server": access.endpoint });
    if let Some(ca) = &access.certificate_authority {
        cluster["certificate-authority-data"] = ca.clone().into();
    }
    let doc = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "eks", "cluster": cluster}],
        "users": [{"name": "eks", "user": {"token": access.token}}],
        "contexts": [{"name": EKS_TOKEN_CONTEXT, "context": {"cluster": "eks", "user": "eks"}}],
        "current-context": EKS_TOKEN_CONTEXT,
    });
    // JSON is YAML; no message below can hold the token (kube's errors
    // name files and fields, not values).
    let kc = Kubeconfig::from_yaml(&doc.to_string())
        .map_err(|_| err("the endpoint or CA of DescribeCluster is not usable".into()))?;
    let options = KubeConfigOptions {
        context: Some(EKS_TOKEN_CONTEXT.into()),
        ..Default::default()
    };
    let config = Config::from_custom_kubeconfig(kc, &options)
        .await
        .map_err(|e| err(format!("the endpoint {} or its CA: {e}", access.endpoint)))?;
    Client::try_from(config).map_err(|e| err(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_not_in_debug_output() {
        let a = EksAccess {
            endpoint: "https://x".into(),
            certificate_authority: None,
            token: "k8s-aws-v1.secret".into(),
        };
        assert!(!format!("{a:?}").contains("secret"));
    }

    #[tokio::test]
    async fn a_client_from_endpoint_and_token_and_a_bad_ca_said_without_the_token() {
        let mut a = EksAccess {
            endpoint: "http://127.0.0.1:1/k8s/x".into(),
            certificate_authority: None,
            token: "k8s-aws-v1.secret".into(),
        };
        assert!(client(&a).await.is_ok());
        a.endpoint = "https://127.0.0.1:1".into();
        a.certificate_authority = Some("not base64 PEM".into());
        let e = client(&a)
            .await
            .err()
            .expect("a bad CA is an error")
            .to_string();
        assert!(e.contains("context \"eks-token\""), "{e}");
        assert!(!e.contains("secret"), "{e}");
    }

    #[test]
    fn explicit_choices_win() {
        let mut t = KubeTarget {
            auth: KubeAuth::EksToken,
            ..Default::default()
        };
        assert!(uses_eks_token(&t, "arn", None));
        t.auth = KubeAuth::Kubeconfig;
        assert!(!uses_eks_token(&t, "arn", Some("https://x")));
        t.auth = KubeAuth::Auto;
        t.context = Some("c".into());
        assert!(!uses_eks_token(&t, "arn", Some("https://x")));
    }

    #[test]
    fn auto_takes_the_token_only_where_no_context_belongs_and_none_is_refused() {
        let dir = std::env::temp_dir().join(format!("kube-auth-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let arn = "arn:aws:eks:eu-west-1:111122223333:cluster/z";
        let other = "arn:aws:eks:eu-west-1:111122223333:cluster/o";
        let write = |name: &str, server: &str, ctx: &str| {
            let p = dir.join(name);
            std::fs::write(
                &p,
                format!("apiVersion: v1\nkind: Config\nclusters: [{{name: c, cluster: {{server: \"{server}\"}}}}]\nusers: [{{name: u, user: {{token: t}}}}]\ncontexts: [{{name: \"{ctx}\", context: {{cluster: c, user: u}}}}]\ncurrent-context: \"{ctx}\"\n"),
            )
            .unwrap();
            p
        };
        let t = |p: std::path::PathBuf| KubeTarget {
            kubeconfig: Some(p),
            ..Default::default()
        };
        let ours = write("ours", "https://z.example", "z");
        assert!(!uses_eks_token(&t(ours), arn, Some("https://z.example")));
        let proxy = write("proxy", "https://proxy.example", "p");
        assert!(uses_eks_token(
            &t(proxy.clone()),
            arn,
            Some("https://z.example")
        ));
        assert!(!uses_eks_token(&t(proxy), arn, None), "no endpoint");
        let others = write("others", "https://o.example", other);
        assert!(!uses_eks_token(&t(others), arn, Some("https://z.example")));
        assert!(!uses_eks_token(
            &t(dir.join("missing")),
            arn,
            Some("https://z.example")
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
