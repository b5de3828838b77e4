//! Conformance of the emulator with the real clients: aws-sdk-eks, aws-sdk-iam,
//! aws-sdk-sts and kube talk to it exactly as to AWS and a cluster.

mod access_entries;
mod clusters;
mod faults;
mod iam_sts;
mod kube_api;
mod node_groups;
mod startup;

use std::io::{Read, Write};

use aws_sdk_eks::error::ProvideErrorMetadata;
use aws_sdk_eks::types::{AccessScope, AccessScopeType};
use eks_emulator::seed::{Cluster, RbacBinding, Seed};
use eks_emulator::Emulator;

const A: &str = "111122223333";
const B: &str = "444455556666";
const REGION: &str = "us-east-1";
const ADMIN_KEY: &str = "AKIDADMIN";
const B_KEY: &str = "AKIDBADMIN";
const ADMIN_ARN: &str = "arn:aws:iam::111122223333:user/admin";
const VIEW: &str = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy";
const EDIT: &str = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy";
const CLUSTER_ADMIN: &str = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";

fn role(account: &str, path_and_name: &str) -> String {
    format!("arn:aws:iam::{account}:role/{path_and_name}")
}

fn base_seed() -> Seed {
    Seed::default()
        .with_caller(ADMIN_KEY, A, ADMIN_ARN)
        .with_credential(B_KEY, B, "arn:aws:iam::444455556666:user/badmin")
        .with_user(A, "/", "admin")
        .with_user(A, "/ops/", "bob")
        .with_role(A, "/", "dev")
        .with_role(A, "/", "node")
        .with_role(A, "/", "winnode")
        .with_role(A, "/", "fargate")
        .with_role(A, "/", "creator")
        .with_role(A, "/aws-reserved/sso.amazonaws.com/", "AWSReservedSSO_Admin_abc123")
        .with_role(B, "/", "cross")
        .with_role(B, "/", "dev")
        .with_user(B, "/", "badmin")
        .with_update_duration_ms(200)
        .with_cluster(Cluster::new("api", A, REGION).mode("API_AND_CONFIG_MAP"))
        .with_cluster(
            Cluster::new("legacy", A, REGION)
                .creator(&role(A, "creator"), true)
                .node_group("linux", &role(A, "node"), false)
                .node_group("windows", &role(A, "winnode"), true)
                .fargate_profile("fp", &role(A, "fargate"))
                .aws_auth([("mapRoles", "- rolearn: arn:aws:iam::111122223333:role/dev\n  username: dev\n  groups:\n    - devs\n")])
                .cluster_role_binding(RbacBinding::new("devs-view", "view", &[("Group", "devs")]))
                .role_binding(RbacBinding::new("ops-edit", "edit", &[("User", "ops")]).in_namespace("team-a")),
        )
        .with_cluster(Cluster::new("eu", A, "eu-west-1").mode("API"))
        .with_cluster(Cluster::new("b-cluster", B, REGION).mode("API"))
}

fn start(seed: Seed) -> Emulator {
    Emulator::start(seed).expect("emulator starts")
}

fn eks(emu: &Emulator, key: &str, region: &str) -> aws_sdk_eks::Client {
    let conf = aws_sdk_eks::Config::builder()
        .behavior_version(aws_sdk_eks::config::BehaviorVersion::latest())
        .credentials_provider(aws_sdk_eks::config::Credentials::new(
            key, "secret", None, None, "test",
        ))
        .region(aws_sdk_eks::config::Region::new(region.to_string()))
        .endpoint_url(emu.endpoint_url())
        .retry_config(aws_sdk_eks::config::retry::RetryConfig::disabled())
        .build();
    aws_sdk_eks::Client::from_conf(conf)
}

fn iam(emu: &Emulator, key: &str) -> aws_sdk_iam::Client {
    let conf = aws_sdk_iam::Config::builder()
        .behavior_version(aws_sdk_iam::config::BehaviorVersion::latest())
        .credentials_provider(aws_sdk_iam::config::Credentials::new(
            key, "secret", None, None, "test",
        ))
        .region(aws_sdk_iam::config::Region::new(REGION))
        .endpoint_url(emu.endpoint_url())
        .build();
    aws_sdk_iam::Client::from_conf(conf)
}

fn sts(emu: &Emulator, key: &str, secret: &str, token: Option<String>) -> aws_sdk_sts::Client {
    let conf = aws_sdk_sts::Config::builder()
        .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
        .credentials_provider(aws_sdk_sts::config::Credentials::new(
            key, secret, token, None, "test",
        ))
        .region(aws_sdk_sts::config::Region::new(REGION))
        .endpoint_url(emu.endpoint_url())
        .build();
    aws_sdk_sts::Client::from_conf(conf)
}

fn err_of<E: ProvideErrorMetadata>(e: &E) -> (String, String) {
    (
        e.code().unwrap_or_default().to_string(),
        e.message().unwrap_or_default().to_string(),
    )
}

fn scope_cluster() -> AccessScope {
    AccessScope::builder()
        .r#type(AccessScopeType::Cluster)
        .build()
}

fn scope_ns(namespaces: &[&str]) -> AccessScope {
    let mut b = AccessScope::builder().r#type(AccessScopeType::Namespace);
    for n in namespaces {
        b = b.namespaces(*n);
    }
    b.build()
}

/// Raw HTTP/1.1 for the admin endpoints (no client of our own in the test deps).
fn http(emu: &Emulator, method: &str, path: &str, body: &str) -> (u16, String) {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", emu.port())).expect("connect");
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).expect("write");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("read");
    let status = out.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = out
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

async fn kube_client(emu: &Emulator, cluster: &str) -> kube::Client {
    let kc = kube::config::Kubeconfig::read_from(emu.kubeconfig_path()).expect("kubeconfig");
    assert_eq!(
        kc.current_context.as_deref(),
        Some(emu.cluster_arn("api").expect("arn").as_str())
    );
    let opts = kube::config::KubeConfigOptions {
        context: Some(emu.cluster_arn(cluster).expect("arn")),
        ..Default::default()
    };
    let config = kube::Config::from_custom_kubeconfig(kc, &opts)
        .await
        .expect("config");
    kube::Client::try_from(config).expect("client")
}
