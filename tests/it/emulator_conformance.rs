//! Conformance of the emulator with the real clients: aws-sdk-eks, aws-sdk-iam,
//! aws-sdk-sts and kube talk to it exactly as to AWS and a cluster.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::time::{Duration, Instant};

use aws_sdk_eks::error::ProvideErrorMetadata;
use aws_sdk_eks::types::{
    AccessScope, AccessScopeType, AuthenticationMode, UpdateAccessConfigRequest,
};
use eks_emulator::seed::{AccessEntry, Cluster, RbacBinding, Seed};
use eks_emulator::{Emulator, FaultRule, Faults};
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::api::rbac::v1::{ClusterRoleBinding, RoleBinding};
use kube::api::{Api, DeleteParams, ListParams, PostParams};

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

#[tokio::test]
async fn describe_cluster_and_mode_switch_creates_the_eks_made_entries() {
    let emu = start(base_seed());
    let c = eks(&emu, ADMIN_KEY, REGION);

    let d = c
        .describe_cluster()
        .name("legacy")
        .send()
        .await
        .expect("describe");
    let cl = d.cluster().expect("cluster");
    assert_eq!(
        cl.arn(),
        Some("arn:aws:eks:us-east-1:111122223333:cluster/legacy")
    );
    assert_eq!(cl.version(), Some("1.30"));
    assert_eq!(cl.platform_version(), Some("eks.8"));
    assert_eq!(cl.status().map(|s| s.as_str()), Some("ACTIVE"));
    assert_eq!(
        cl.endpoint(),
        Some(emu.kube_url("legacy").expect("url").as_str())
    );
    let ac = cl.access_config().expect("access config");
    assert_eq!(
        ac.authentication_mode(),
        Some(&AuthenticationMode::ConfigMap)
    );
    assert_eq!(ac.bootstrap_cluster_creator_admin_permissions(), Some(true));

    // CONFIG_MAP refuses access-entry calls.
    let e = c
        .list_access_entries()
        .cluster_name("legacy")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(&e), ("InvalidRequestException".into(), "The cluster's authentication mode must be set to one of [API, API_AND_CONFIG_MAP] to perform this operation.".into()));

    let to = |m: AuthenticationMode| {
        UpdateAccessConfigRequest::builder()
            .authentication_mode(m)
            .build()
    };
    let e = c
        .update_cluster_config()
        .name("legacy")
        .access_config(to(AuthenticationMode::Api))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err_of(&e),
        (
            "InvalidParameterException".into(),
            "Unsupported authentication mode update from CONFIG_MAP to API".into()
        )
    );

    let u = c
        .update_cluster_config()
        .name("legacy")
        .access_config(to(AuthenticationMode::ApiAndConfigMap))
        .send()
        .await
        .expect("update");
    let update = u.update().expect("update");
    let id = update.id().expect("id").to_string();
    assert_eq!(update.status().map(|s| s.as_str()), Some("InProgress"));
    assert_eq!(
        update.r#type().map(|t| t.as_str()),
        Some("AccessConfigUpdate")
    );
    let p = &update.params()[0];
    assert_eq!(
        (p.r#type().map(|t| t.as_str()), p.value()),
        (Some("AuthenticationMode"), Some("API_AND_CONFIG_MAP"))
    );

    let e = c
        .update_cluster_config()
        .name("legacy")
        .access_config(to(AuthenticationMode::ApiAndConfigMap))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(&e), ("ResourceInUseException".into(), format!("Cannot AccessConfigUpdate because cluster legacy currently has update {id} in progress")));

    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let d = c
            .describe_update()
            .name("legacy")
            .update_id(&id)
            .send()
            .await
            .expect("describe update");
        let status = d
            .update()
            .and_then(|u| u.status())
            .map(|s| s.as_str().to_string());
        if status.as_deref() == Some("Successful") {
            break;
        }
        assert_eq!(status.as_deref(), Some("InProgress"));
        assert!(Instant::now() < deadline, "update never finished");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let d = c
        .describe_cluster()
        .name("legacy")
        .send()
        .await
        .expect("describe");
    assert_eq!(
        d.cluster()
            .and_then(|c| c.access_config())
            .and_then(|a| a.authentication_mode()),
        Some(&AuthenticationMode::ApiAndConfigMap)
    );

    let list = c
        .list_access_entries()
        .cluster_name("legacy")
        .send()
        .await
        .expect("list");
    let mut got = list.access_entries().to_vec();
    got.sort();
    let mut want = vec![
        role(A, "creator"),
        role(A, "fargate"),
        role(A, "node"),
        role(A, "winnode"),
    ];
    want.sort();
    assert_eq!(got, want);

    let check = |t: &str, user: &str, groups: Vec<&str>| {
        (
            t.to_string(),
            user.to_string(),
            groups.into_iter().map(String::from).collect::<Vec<_>>(),
        )
    };
    for (principal, want) in [
        (
            role(A, "node"),
            check(
                "EC2_LINUX",
                "system:node:{{EC2PrivateDNSName}}",
                vec!["system:nodes"],
            ),
        ),
        (
            role(A, "winnode"),
            check(
                "EC2_WINDOWS",
                "system:node:{{EC2PrivateDNSName}}",
                vec!["system:nodes"],
            ),
        ),
        (
            role(A, "fargate"),
            check("FARGATE_LINUX", "system:node:{{SessionName}}", vec![]),
        ),
        (
            role(A, "creator"),
            check(
                "STANDARD",
                "arn:aws:sts::111122223333:assumed-role/creator/{{SessionName}}",
                vec![],
            ),
        ),
    ] {
        let e = c
            .describe_access_entry()
            .cluster_name("legacy")
            .principal_arn(&principal)
            .send()
            .await
            .expect("describe entry");
        let e = e.access_entry().expect("entry");
        assert_eq!(
            check(
                e.r#type().unwrap_or_default(),
                e.username().unwrap_or_default(),
                e.kubernetes_groups().iter().map(String::as_str).collect()
            ),
            want,
            "{principal}"
        );
    }
    let pol = c
        .list_associated_access_policies()
        .cluster_name("legacy")
        .principal_arn(role(A, "creator"))
        .send()
        .await
        .expect("policies");
    let pols = pol.associated_access_policies();
    assert_eq!(pols.len(), 1);
    assert_eq!(pols[0].policy_arn(), Some(CLUSTER_ADMIN));
    assert_eq!(
        pols[0].access_scope().and_then(|s| s.r#type()),
        Some(&AccessScopeType::Cluster)
    );

    let typed = emu.cluster_state("legacy").expect("cluster state");
    assert_eq!(typed.authentication_mode, "API_AND_CONFIG_MAP");
    assert!(typed.access_entries.values().all(|e| e.created_by_eks));
    assert_eq!(typed.updates.len(), 1);
    assert_eq!(typed.updates[0].status, "Successful");

    // Same mode again, and backwards, are refused.
    let e = c
        .update_cluster_config()
        .name("legacy")
        .access_config(to(AuthenticationMode::ApiAndConfigMap))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err_of(&e).1,
        "Unsupported authentication mode update from API_AND_CONFIG_MAP to API_AND_CONFIG_MAP"
    );
    let e = c
        .update_cluster_config()
        .name("legacy")
        .access_config(to(AuthenticationMode::ConfigMap))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err_of(&e).1,
        "Unsupported authentication mode update from API_AND_CONFIG_MAP to CONFIG_MAP"
    );

    let e = c.describe_cluster().name("nope").send().await.unwrap_err();
    assert_eq!(
        err_of(&e),
        (
            "ResourceNotFoundException".into(),
            "No cluster found for name: nope.".into()
        )
    );
    let e = c
        .describe_update()
        .name("legacy")
        .update_id("missing")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(&e).0, "ResourceNotFoundException");
}

#[tokio::test]
async fn access_entry_lifecycle() {
    let emu = start(base_seed());
    let c = eks(&emu, ADMIN_KEY, REGION);
    let dev = role(A, "dev");

    let created = c
        .create_access_entry()
        .cluster_name("api")
        .principal_arn(&dev)
        .kubernetes_groups("devs")
        .username("dev:{{SessionName}}")
        .tags("team", "a")
        .client_request_token("tok-1")
        .send()
        .await
        .expect("create");
    let e = created.access_entry().expect("entry");
    assert_eq!(e.principal_arn(), Some(dev.as_str()));
    assert_eq!(e.cluster_name(), Some("api"));
    assert_eq!(e.kubernetes_groups(), ["devs".to_string()]);
    assert_eq!(e.username(), Some("dev:{{SessionName}}"));
    assert_eq!(e.r#type(), Some("STANDARD"));
    assert_eq!(
        e.tags().and_then(|t| t.get("team")).map(String::as_str),
        Some("a")
    );
    let entry_arn = e.access_entry_arn().expect("arn").to_string();
    assert!(
        entry_arn.starts_with(
            "arn:aws:eks:us-east-1:111122223333:access-entry/api/role/111122223333/dev/"
        ),
        "{entry_arn}"
    );
    assert!(e.created_at().is_some() && e.modified_at().is_some());

    // Re-sending the same request token is idempotent; a new token is a conflict.
    let again = c
        .create_access_entry()
        .cluster_name("api")
        .principal_arn(&dev)
        .client_request_token("tok-1")
        .send()
        .await
        .expect("idempotent");
    assert_eq!(
        again.access_entry().and_then(|e| e.access_entry_arn()),
        Some(entry_arn.as_str())
    );
    let e = c
        .create_access_entry()
        .cluster_name("api")
        .principal_arn(&dev)
        .client_request_token("tok-2")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err_of(&e),
        (
            "ResourceInUseException".into(),
            "The specified access entry resource is already in use on this cluster.".into()
        )
    );

    let d = c
        .describe_access_entry()
        .cluster_name("api")
        .principal_arn(&dev)
        .send()
        .await
        .expect("describe");
    assert_eq!(
        d.access_entry().and_then(|e| e.username()),
        Some("dev:{{SessionName}}")
    );

    // Update with nothing resets groups and username to defaults.
    let u = c
        .update_access_entry()
        .cluster_name("api")
        .principal_arn(&dev)
        .send()
        .await
        .expect("update");
    let ue = u.access_entry().expect("entry");
    assert!(ue.kubernetes_groups().is_empty());
    assert_eq!(
        ue.username(),
        Some("arn:aws:sts::111122223333:assumed-role/dev/{{SessionName}}")
    );
    let u = c
        .update_access_entry()
        .cluster_name("api")
        .principal_arn(&dev)
        .kubernetes_groups("g1")
        .kubernetes_groups("g2")
        .username("devuser")
        .send()
        .await
        .expect("update");
    assert_eq!(
        u.access_entry().map(|e| e.kubernetes_groups().to_vec()),
        Some(vec!["g1".to_string(), "g2".to_string()])
    );

    // Associate, then re-associate: the scope is replaced (upsert).
    let a1 = c
        .associate_access_policy()
        .cluster_name("api")
        .principal_arn(&dev)
        .policy_arn(VIEW)
        .access_scope(scope_ns(&["dev-*", "team-a"]))
        .send()
        .await
        .expect("associate");
    let assoc = a1.associated_access_policy().expect("assoc");
    assert_eq!(
        assoc.access_scope().map(|s| s.namespaces().to_vec()),
        Some(vec!["dev-*".to_string(), "team-a".to_string()])
    );
    c.associate_access_policy()
        .cluster_name("api")
        .principal_arn(&dev)
        .policy_arn(VIEW)
        .access_scope(scope_cluster())
        .send()
        .await
        .expect("re-associate");
    c.associate_access_policy()
        .cluster_name("api")
        .principal_arn(&dev)
        .policy_arn(EDIT)
        .access_scope(scope_ns(&["x"]))
        .send()
        .await
        .expect("associate edit");
    let l = c
        .list_associated_access_policies()
        .cluster_name("api")
        .principal_arn(&dev)
        .send()
        .await
        .expect("list");
    let mut pols: Vec<(String, String, Vec<String>)> = l
        .associated_access_policies()
        .iter()
        .map(|p| {
            let s = p.access_scope().expect("scope");
            (
                p.policy_arn().unwrap_or_default().to_string(),
                s.r#type()
                    .map(|t| t.as_str().to_string())
                    .unwrap_or_default(),
                s.namespaces().to_vec(),
            )
        })
        .collect();
    pols.sort();
    assert_eq!(
        pols,
        vec![
            (
                EDIT.to_string(),
                "namespace".to_string(),
                vec!["x".to_string()]
            ),
            (VIEW.to_string(), "cluster".to_string(), vec![]),
        ]
    );
    assert_eq!(l.cluster_name(), Some("api"));
    assert_eq!(l.principal_arn(), Some(dev.as_str()));

    // associatedPolicyArn filter.
    c.create_access_entry()
        .cluster_name("api")
        .principal_arn(role(A, "node"))
        .send()
        .await
        .expect("second entry");
    let f = c
        .list_access_entries()
        .cluster_name("api")
        .associated_policy_arn(EDIT)
        .send()
        .await
        .expect("filter");
    assert_eq!(f.access_entries(), std::slice::from_ref(&dev));
    let all = c
        .list_access_entries()
        .cluster_name("api")
        .send()
        .await
        .expect("all");
    assert_eq!(all.access_entries().len(), 2);

    // Bad policy and bad scopes.
    let e = c
        .associate_access_policy()
        .cluster_name("api")
        .principal_arn(&dev)
        .policy_arn("arn:aws:eks::aws:cluster-access-policy/Nope")
        .access_scope(scope_cluster())
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(&e).0, "InvalidParameterException");
    let e = c
        .associate_access_policy()
        .cluster_name("api")
        .principal_arn(&dev)
        .policy_arn(VIEW)
        .access_scope(scope_ns(&[]))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err_of(&e),
        (
            "InvalidParameterException".into(),
            "At least one namespace must be specified when the access scope type is namespace."
                .into()
        )
    );

    c.disassociate_access_policy()
        .cluster_name("api")
        .principal_arn(&dev)
        .policy_arn(EDIT)
        .send()
        .await
        .expect("disassociate");
    let e = c
        .disassociate_access_policy()
        .cluster_name("api")
        .principal_arn(&dev)
        .policy_arn(EDIT)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(&e).0, "ResourceNotFoundException");
    let f = c
        .list_access_entries()
        .cluster_name("api")
        .associated_policy_arn(EDIT)
        .send()
        .await
        .expect("filter");
    assert!(f.access_entries().is_empty());

    // Delete removes the entry and its associations.
    c.delete_access_entry()
        .cluster_name("api")
        .principal_arn(&dev)
        .send()
        .await
        .expect("delete");
    let missing = "The specified principalArn could not be found. You can view your available access entries with 'list-access-entries'.";
    let e = c
        .describe_access_entry()
        .cluster_name("api")
        .principal_arn(&dev)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err_of(&e),
        ("ResourceNotFoundException".into(), missing.into())
    );
    let e = c
        .delete_access_entry()
        .cluster_name("api")
        .principal_arn(&dev)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(&e).1, missing);
    c.create_access_entry()
        .cluster_name("api")
        .principal_arn(&dev)
        .send()
        .await
        .expect("recreate");
    let l = c
        .list_associated_access_policies()
        .cluster_name("api")
        .principal_arn(&dev)
        .send()
        .await
        .expect("list");
    assert!(l.associated_access_policies().is_empty());

    let state = emu.state();
    let api = state["clusters"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["name"] == "api"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(api["access_entries"][&dev]["entry_type"], "STANDARD");
}

/// (what, principal, type, groups, username, expected message)
type RuleCase = (
    &'static str,
    String,
    Option<&'static str>,
    Vec<&'static str>,
    Option<&'static str>,
    &'static str,
);

#[tokio::test]
async fn create_rules_answer_the_reference_errors() {
    let emu = start(base_seed());
    let c = eks(&emu, ADMIN_KEY, REGION);
    let cases: Vec<RuleCase> = vec![
        ("system group", role(A, "dev"), None, vec!["system:masters"], None, "The kubernetes group name system:masters is invalid, it cannot start with system:"),
        ("system username", role(A, "dev"), None, vec![], Some("system:admin"), "The username must not begin with system:"),
        ("eks username", role(A, "dev"), None, vec![], Some("eks:x"), "The username must not begin with eks:"),
        ("aws username", role(A, "dev"), None, vec![], Some("aws:x"), "The username must not begin with aws:"),
        ("amazon username", role(A, "dev"), None, vec![], Some("amazon:x"), "The username must not begin with amazon:"),
        ("iam username", role(A, "dev"), None, vec![], Some("iam:x"), "The username must not begin with iam:"),
        ("session without colon", role(A, "dev"), None, vec![], Some("john{{SessionName}}"), "The username john{{SessionName}} is invalid: {{SessionName}} must be preceded by a ':'."),
        ("raw session without colon", role(A, "dev"), None, vec![], Some("x{{SessionNameRaw}}"), "The username x{{SessionNameRaw}} is invalid: {{SessionNameRaw}} must be preceded by a ':'."),
        ("assumed role", "arn:aws:sts::111122223333:assumed-role/dev/s".into(), None, vec![], None, "The principalArn parameter format is not valid"),
        ("federated user", "arn:aws:sts::111122223333:federated-user/bob".into(), None, vec![], None, "The principalArn parameter format is not valid"),
        ("service linked", role(A, "aws-service-role/emr-containers.amazonaws.com/AWSServiceRoleForAmazonEMRContainers"), None, vec![], None, "The caller is not allowed to modify access entries with a principalArn value of a Service Linked Role"),
        ("path stripped", role(A, "AWSReservedSSO_Admin_abc123"), None, vec![], None, "The specified principalArn is invalid: invalid principal."),
        ("unknown role", role(A, "ghost"), None, vec![], None, "The specified principalArn is invalid: invalid principal."),
        ("user wrong path", "arn:aws:iam::111122223333:user/bob".into(), None, vec![], None, "The specified principalArn is invalid: invalid principal."),
        ("node with groups", role(A, "node"), Some("EC2_LINUX"), vec!["g"], None, "Kubernetes groups cannot be specified for access entries of type EC2_LINUX."),
        ("node with username", role(A, "node"), Some("FARGATE_LINUX"), vec![], Some("x"), "A username cannot be specified for access entries of type FARGATE_LINUX."),
        ("node other account", role(B, "cross"), Some("EC2_WINDOWS"), vec![], None, "The principalArn of an access entry of type EC2_WINDOWS must belong to the cluster's account 111122223333."),
    ];
    for (what, principal, t, groups, username, message) in cases {
        let mut req = c
            .create_access_entry()
            .cluster_name("api")
            .principal_arn(&principal)
            .set_username(username.map(String::from))
            .set_type(t.map(String::from));
        for g in groups {
            req = req.kubernetes_groups(g);
        }
        let e = req.send().await.expect_err(what);
        assert_eq!(
            err_of(&e),
            ("InvalidParameterException".to_string(), message.to_string()),
            "{what}"
        );
        assert_eq!(
            e.raw_response().map(|r| r.status().as_u16()),
            Some(400),
            "{what}"
        );
    }
    // Valid: path included and name case-insensitive, cross-account STANDARD, user default username.
    let sso = role(
        A,
        "aws-reserved/sso.amazonaws.com/awsreservedsso_admin_ABC123",
    );
    c.create_access_entry()
        .cluster_name("api")
        .principal_arn(&sso)
        .username("sso:{{SessionName}}")
        .send()
        .await
        .expect("sso with path");
    c.create_access_entry()
        .cluster_name("api")
        .principal_arn(role(B, "cross"))
        .send()
        .await
        .expect("cross-account standard");
    let u = c
        .create_access_entry()
        .cluster_name("api")
        .principal_arn("arn:aws:iam::111122223333:user/ops/bob")
        .send()
        .await
        .expect("user");
    assert_eq!(
        u.access_entry().and_then(|e| e.username()),
        Some("arn:aws:iam::111122223333:user/ops/bob")
    );
    // Node entries: no policy calls.
    c.create_access_entry()
        .cluster_name("api")
        .principal_arn(role(A, "node"))
        .r#type("EC2_LINUX")
        .send()
        .await
        .expect("node");
    let e = c
        .associate_access_policy()
        .cluster_name("api")
        .principal_arn(role(A, "node"))
        .policy_arn(VIEW)
        .access_scope(scope_cluster())
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err_of(&e),
        (
            "InvalidParameterException".into(),
            "This operation can only be performed on Access Entries with a type of \"STANDARD\"."
                .into()
        )
    );
    let e = c
        .update_access_entry()
        .cluster_name("api")
        .principal_arn(role(A, "node"))
        .kubernetes_groups("x")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err_of(&e).1,
        "Kubernetes groups cannot be specified for access entries of type EC2_LINUX."
    );
    let e = c
        .update_access_entry()
        .cluster_name("api")
        .principal_arn(role(A, "dev"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(&e).0, "ResourceNotFoundException");
}

#[tokio::test]
async fn paginators_follow_next_token() {
    let mut cl = Cluster::new("big", A, REGION).mode("API");
    let mut seed = base_seed();
    for i in 0..230 {
        let name = format!("r{i:03}");
        seed = seed.with_role(A, "/", &name);
        cl = cl.access_entry(AccessEntry::new(&role(A, &name)));
    }
    let names = [
        "AmazonEKSViewPolicy",
        "AmazonEKSEditPolicy",
        "AmazonEKSAdminPolicy",
        "AmazonEKSAdminViewPolicy",
        "AmazonEKSClusterAdminPolicy",
        "AmazonEKSHybridPolicy",
    ];
    let mut many = AccessEntry::new(&role(A, "dev"));
    for n in names {
        many = many.namespace_policy(n, &["ns"]);
    }
    let emu = start(seed.with_cluster(cl.access_entry(many)));
    let c = eks(&emu, ADMIN_KEY, REGION);

    let pages: Vec<_> = c
        .list_access_entries()
        .cluster_name("big")
        .max_results(7)
        .into_paginator()
        .send()
        .try_collect()
        .await
        .expect("pages");
    assert_eq!(pages.len(), 33);
    let entries: Vec<String> = pages
        .iter()
        .flat_map(|p| p.access_entries().to_vec())
        .collect();
    assert_eq!(entries.len(), 231);
    let unique: std::collections::BTreeSet<_> = entries.iter().collect();
    assert_eq!(unique.len(), 231);

    let e = c
        .list_access_entries()
        .cluster_name("big")
        .max_results(101)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(&e).0, "InvalidParameterException");
    let first = c
        .list_access_entries()
        .cluster_name("big")
        .send()
        .await
        .expect("default page");
    assert_eq!(first.access_entries().len(), 100);
    assert!(first.next_token().is_some());

    let pol_pages: Vec<_> = c
        .list_associated_access_policies()
        .cluster_name("big")
        .principal_arn(role(A, "dev"))
        .max_results(4)
        .into_paginator()
        .send()
        .try_collect()
        .await
        .expect("assoc pages");
    assert_eq!(pol_pages.len(), 2);
    let pols: Vec<String> = pol_pages
        .iter()
        .flat_map(|p| {
            p.associated_access_policies()
                .iter()
                .filter_map(|a| a.policy_arn().map(String::from))
        })
        .collect();
    assert_eq!(pols.len(), 6);

    let ap_pages: Vec<_> = c
        .list_access_policies()
        .max_results(5)
        .into_paginator()
        .send()
        .try_collect()
        .await
        .expect("policy pages");
    let policies: Vec<(String, String)> = ap_pages
        .iter()
        .flat_map(|p| {
            p.access_policies().iter().map(|a| {
                (
                    a.name().unwrap_or_default().to_string(),
                    a.arn().unwrap_or_default().to_string(),
                )
            })
        })
        .collect();
    assert!(ap_pages.len() >= 4);
    for n in [
        "AmazonEKSClusterAdminPolicy",
        "AmazonEKSAdminPolicy",
        "AmazonEKSEditPolicy",
        "AmazonEKSViewPolicy",
        "AmazonEKSAdminViewPolicy",
        "AmazonEKSAutoNodePolicy",
        "AmazonEKSHybridPolicy",
        "AmazonEKSNetworkingPolicy",
    ] {
        assert!(
            policies.contains(&(
                n.to_string(),
                format!("arn:aws:eks::aws:cluster-access-policy/{n}")
            )),
            "{n}"
        );
    }
}

#[tokio::test]
async fn node_groups_and_fargate_profiles() {
    use aws_sdk_eks::types::{AmiTypes, FargateProfileStatus, NodegroupStatus};

    let emu = start(base_seed());
    let c = eks(&emu, ADMIN_KEY, REGION);

    let pages: Vec<_> = c
        .list_nodegroups()
        .cluster_name("legacy")
        .max_results(1)
        .into_paginator()
        .send()
        .try_collect()
        .await
        .expect("node group pages");
    assert_eq!(pages.len(), 2);
    let names: Vec<String> = pages.iter().flat_map(|p| p.nodegroups().to_vec()).collect();
    assert_eq!(names, vec!["linux", "windows"]);
    let all = c
        .list_nodegroups()
        .cluster_name("legacy")
        .send()
        .await
        .expect("one page");
    assert_eq!(all.nodegroups(), ["linux", "windows"]);
    assert_eq!(all.next_token(), None);
    let e = c
        .list_nodegroups()
        .cluster_name("legacy")
        .max_results(101)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(&e).0, "InvalidParameterException");

    let win = c
        .describe_nodegroup()
        .cluster_name("legacy")
        .nodegroup_name("windows")
        .send()
        .await
        .expect("describe windows");
    let ng = win.nodegroup().expect("nodegroup");
    assert_eq!(ng.nodegroup_name(), Some("windows"));
    assert_eq!(ng.cluster_name(), Some("legacy"));
    assert_eq!(ng.node_role(), Some(role(A, "winnode").as_str()));
    assert_eq!(ng.status(), Some(&NodegroupStatus::Active));
    assert_eq!(ng.ami_type(), Some(&AmiTypes::WindowsCore2022X8664));
    assert_eq!(ng.version(), Some("1.30"));
    assert!(ng.created_at().is_some());
    assert!(
        ng.nodegroup_arn()
            .unwrap_or_default()
            .starts_with("arn:aws:eks:us-east-1:111122223333:nodegroup/legacy/windows/"),
        "{:?}",
        ng.nodegroup_arn()
    );
    let linux = c
        .describe_nodegroup()
        .cluster_name("legacy")
        .nodegroup_name("linux")
        .send()
        .await
        .expect("describe linux");
    let ng = linux.nodegroup().expect("nodegroup");
    assert_eq!(ng.ami_type(), Some(&AmiTypes::Al2023X8664Standard));
    assert_eq!(ng.node_role(), Some(role(A, "node").as_str()));

    let fps = c
        .list_fargate_profiles()
        .cluster_name("legacy")
        .send()
        .await
        .expect("fargate profiles");
    assert_eq!(fps.fargate_profile_names(), ["fp"]);
    let fp = c
        .describe_fargate_profile()
        .cluster_name("legacy")
        .fargate_profile_name("fp")
        .send()
        .await
        .expect("describe fp");
    let p = fp.fargate_profile().expect("profile");
    assert_eq!(p.fargate_profile_name(), Some("fp"));
    assert_eq!(p.cluster_name(), Some("legacy"));
    assert_eq!(
        p.pod_execution_role_arn(),
        Some(role(A, "fargate").as_str())
    );
    assert_eq!(p.status(), Some(&FargateProfileStatus::Active));
    assert!(
        p.fargate_profile_arn()
            .unwrap_or_default()
            .starts_with("arn:aws:eks:us-east-1:111122223333:fargateprofile/legacy/fp/"),
        "{:?}",
        p.fargate_profile_arn()
    );

    // A cluster without any: empty lists.
    let none = c
        .list_nodegroups()
        .cluster_name("api")
        .send()
        .await
        .expect("empty");
    assert!(none.nodegroups().is_empty());
    let none = c
        .list_fargate_profiles()
        .cluster_name("api")
        .send()
        .await
        .expect("empty");
    assert!(none.fargate_profile_names().is_empty());

    // Unknown names: 404 ResourceNotFoundException, typed by the SDK.
    let e = c
        .describe_nodegroup()
        .cluster_name("legacy")
        .nodegroup_name("nope")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.raw_response().map(|r| r.status().as_u16()), Some(404));
    assert!(e
        .as_service_error()
        .is_some_and(|s| s.is_resource_not_found_exception()));
    assert_eq!(
        err_of(&e),
        (
            "ResourceNotFoundException".into(),
            "No node group found for name: nope.".into()
        )
    );
    let e = c
        .describe_fargate_profile()
        .cluster_name("legacy")
        .fargate_profile_name("nope")
        .send()
        .await
        .unwrap_err();
    assert!(e
        .as_service_error()
        .is_some_and(|s| s.is_resource_not_found_exception()));
    assert_eq!(err_of(&e).1, "No Fargate Profile found with name: nope.");
    let e = c
        .list_nodegroups()
        .cluster_name("missing")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err_of(&e),
        (
            "ResourceNotFoundException".into(),
            "No cluster found for name: missing.".into()
        )
    );
    // Another account does not see the cluster.
    let e = eks(&emu, B_KEY, REGION)
        .list_fargate_profiles()
        .cluster_name("legacy")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(&e).0, "ResourceNotFoundException");

    // Counted and faulted like every operation, per cluster.
    let calls = emu.calls();
    assert_eq!(calls.count_on("ListNodegroups", "legacy"), 4);
    assert_eq!(calls.count_on("ListNodegroups", "api"), 1);
    assert_eq!(calls.count_on("DescribeNodegroup", "legacy"), 3);
    assert_eq!(calls.count_on("ListFargateProfiles", "legacy"), 2);
    assert_eq!(calls.count_on("DescribeFargateProfile", "legacy"), 2);
    emu.set_faults(Faults::new(
        1,
        vec![
            FaultRule::new("DescribeNodegroup")
                .on_cluster("legacy")
                .fail_nth(1, 403, "AccessDeniedException"),
            FaultRule::new("ListFargateProfiles").throttle_probability(1.0),
        ],
    ));
    let e = c
        .describe_nodegroup()
        .cluster_name("legacy")
        .nodegroup_name("linux")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(&e).0, "AccessDeniedException");
    assert_eq!(e.raw_response().map(|r| r.status().as_u16()), Some(403));
    assert!(c
        .describe_nodegroup()
        .cluster_name("legacy")
        .nodegroup_name("linux")
        .send()
        .await
        .is_ok());
    let e = c
        .list_fargate_profiles()
        .cluster_name("legacy")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(&e).0, "ThrottlingException");
    assert_eq!(emu.calls().count_on("DescribeNodegroup", "legacy"), 5);
}

#[tokio::test]
async fn tags_on_clusters_and_entries() {
    let emu = start(base_seed());
    let c = eks(&emu, ADMIN_KEY, REGION);
    let cluster_arn = emu.cluster_arn("api").expect("arn");
    c.tag_resource()
        .resource_arn(&cluster_arn)
        .tags("env", "prod")
        .tags("owner", "me")
        .send()
        .await
        .expect("tag");
    c.untag_resource()
        .resource_arn(&cluster_arn)
        .tag_keys("owner")
        .send()
        .await
        .expect("untag");
    let t = c
        .list_tags_for_resource()
        .resource_arn(&cluster_arn)
        .send()
        .await
        .expect("list");
    assert_eq!(
        t.tags().cloned().unwrap_or_default(),
        [("env".to_string(), "prod".to_string())]
            .into_iter()
            .collect()
    );
    let d = c
        .describe_cluster()
        .name("api")
        .send()
        .await
        .expect("describe");
    assert_eq!(
        d.cluster()
            .and_then(|c| c.tags())
            .and_then(|t| t.get("env"))
            .map(String::as_str),
        Some("prod")
    );

    let e = c
        .create_access_entry()
        .cluster_name("api")
        .principal_arn(role(A, "dev"))
        .tags("a", "1")
        .send()
        .await
        .expect("create");
    let entry_arn = e
        .access_entry()
        .and_then(|e| e.access_entry_arn())
        .expect("arn")
        .to_string();
    c.tag_resource()
        .resource_arn(&entry_arn)
        .tags("b", "2")
        .send()
        .await
        .expect("tag entry");
    let d = c
        .describe_access_entry()
        .cluster_name("api")
        .principal_arn(role(A, "dev"))
        .send()
        .await
        .expect("describe");
    let tags = d
        .access_entry()
        .and_then(|e| e.tags())
        .cloned()
        .unwrap_or_default();
    assert_eq!(tags.len(), 2);
    let e = c
        .list_tags_for_resource()
        .resource_arn("arn:aws:eks:us-east-1:111122223333:cluster/none")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(&e).0, "NotFoundException");
}

#[tokio::test]
async fn callers_see_only_their_account_and_region() {
    let emu = start(base_seed());
    let a_east = eks(&emu, ADMIN_KEY, REGION);
    let a_west = eks(&emu, ADMIN_KEY, "eu-west-1");
    let b_east = eks(&emu, B_KEY, REGION);
    let e = a_east
        .describe_cluster()
        .name("eu")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(&e).1, "No cluster found for name: eu.");
    assert!(a_west.describe_cluster().name("eu").send().await.is_ok());
    let e = b_east
        .describe_cluster()
        .name("api")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(&e).0, "ResourceNotFoundException");
    let d = b_east
        .describe_cluster()
        .name("b-cluster")
        .send()
        .await
        .expect("b cluster");
    assert_eq!(
        d.cluster().and_then(|c| c.arn()),
        Some("arn:aws:eks:us-east-1:444455556666:cluster/b-cluster")
    );
    let l = a_east.list_clusters().send().await.expect("list clusters");
    assert_eq!(l.clusters(), ["api".to_string(), "legacy".to_string()]);
    // An unknown key is the default caller (account A).
    let anon = eks(&emu, "AKIDUNKNOWN", REGION);
    assert!(anon.describe_cluster().name("api").send().await.is_ok());
}

#[tokio::test]
async fn iam_lookups_and_paging() {
    let emu = start(
        base_seed().with_account(
            eks_emulator::seed::Account::new(A)
                .role("/team/", "t1")
                .role("/team/", "t2")
                .role("/team/sub/", "t3"),
        ),
    );
    let i = iam(&emu, ADMIN_KEY);
    let r = i
        .get_role()
        .role_name("AWSReservedSSO_Admin_abc123")
        .send()
        .await
        .expect("get role");
    let role = r.role().expect("role");
    assert_eq!(role.path(), "/aws-reserved/sso.amazonaws.com/");
    assert_eq!(
        role.arn(),
        "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_abc123"
    );
    assert!(role.role_id().starts_with("AROA"));
    let e = i.get_role().role_name("cross").send().await.unwrap_err();
    assert_eq!(
        err_of(&e),
        (
            "NoSuchEntity".into(),
            "The role with name cross cannot be found.".into()
        )
    );
    assert_eq!(e.raw_response().map(|r| r.status().as_u16()), Some(404));
    let u = i
        .get_user()
        .user_name("bob")
        .send()
        .await
        .expect("get user");
    assert_eq!(
        u.user().map(|u| u.arn()),
        Some("arn:aws:iam::111122223333:user/ops/bob")
    );
    let me = i.get_user().send().await.expect("caller user");
    assert_eq!(me.user().map(|u| u.user_name()), Some("admin"));

    let pages: Vec<_> = i
        .list_roles()
        .path_prefix("/team/")
        .max_items(2)
        .into_paginator()
        .send()
        .try_collect()
        .await
        .expect("pages");
    assert_eq!(pages.len(), 2);
    assert!(pages[0].is_truncated());
    let names: Vec<String> = pages
        .iter()
        .flat_map(|p| p.roles().iter().map(|r| r.role_name().to_string()))
        .collect();
    assert_eq!(names, ["t1", "t2", "t3"]);
    let all = i.list_roles().send().await.expect("all");
    assert_eq!(all.roles().len(), 9);
    assert!(!all.is_truncated());

    let b = iam(&emu, B_KEY);
    let r = b.get_role().role_name("dev").send().await.expect("b dev");
    assert_eq!(
        r.role().map(|r| r.arn()),
        Some("arn:aws:iam::444455556666:role/dev")
    );
}

#[tokio::test]
async fn assume_role_then_caller_identity() {
    let emu = start(base_seed());
    let s = sts(&emu, ADMIN_KEY, "secret", None);
    let me = s.get_caller_identity().send().await.expect("whoami");
    assert_eq!(me.arn(), Some(ADMIN_ARN));
    assert_eq!(me.account(), Some(A));
    assert!(me.user_id().is_some_and(|u| u.starts_with("AIDA")));

    let out = s
        .assume_role()
        .role_arn(role(B, "cross"))
        .role_session_name("migrator")
        .send()
        .await
        .expect("assume");
    let creds = out.credentials().expect("creds");
    assert!(creds.access_key_id().starts_with("ASIA"));
    assert_eq!(
        out.assumed_role_user().map(|u| u.arn()),
        Some("arn:aws:sts::444455556666:assumed-role/cross/migrator")
    );
    let assumed = sts(
        &emu,
        creds.access_key_id(),
        creds.secret_access_key(),
        Some(creds.session_token().to_string()),
    );
    let who = assumed
        .get_caller_identity()
        .send()
        .await
        .expect("whoami assumed");
    assert_eq!(
        who.arn(),
        Some("arn:aws:sts::444455556666:assumed-role/cross/migrator")
    );
    assert_eq!(who.account(), Some(B));
    assert!(who.user_id().is_some_and(|u| u.ends_with(":migrator")));
    // The temporary keys act in the role's account.
    let c = eks(&emu, creds.access_key_id(), REGION);
    assert!(c.describe_cluster().name("b-cluster").send().await.is_ok());

    let e = s
        .assume_role()
        .role_arn(role(A, "ghost"))
        .role_session_name("x1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(&e), ("AccessDenied".into(), format!("User: {ADMIN_ARN} is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::111122223333:role/ghost")));
    assert_eq!(e.raw_response().map(|r| r.status().as_u16()), Some(403));
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

#[tokio::test]
async fn kube_aws_auth_get_put_conflict_and_not_found() {
    let emu = start(base_seed());
    let client = kube_client(&emu, "legacy").await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "kube-system");
    let cm = cms.get("aws-auth").await.expect("get");
    let original =
        "- rolearn: arn:aws:iam::111122223333:role/dev\n  username: dev\n  groups:\n    - devs\n";
    assert_eq!(
        cm.data
            .as_ref()
            .and_then(|d| d.get("mapRoles"))
            .map(String::as_str),
        Some(original)
    );
    let rv = cm.metadata.resource_version.clone().expect("rv");

    let mut next = cm.clone();
    let exact = "- rolearn: x\n  groups: [\"a\"]\t\n\u{e9}  \n";
    next.data
        .get_or_insert_with(BTreeMap::new)
        .insert("mapUsers".into(), exact.into());
    let replaced = cms
        .replace("aws-auth", &PostParams::default(), &next)
        .await
        .expect("replace");
    let rv2 = replaced.metadata.resource_version.clone().expect("rv2");
    assert_ne!(rv, rv2);
    assert_eq!(
        emu.aws_auth("legacy")
            .expect("cluster")
            .and_then(|d| d.get("mapUsers").cloned())
            .as_deref(),
        Some(exact)
    );

    // A stale resourceVersion is a 409 Conflict.
    let e = cms
        .replace("aws-auth", &PostParams::default(), &next)
        .await
        .unwrap_err();
    match e {
        kube::Error::Api(s) => {
            assert_eq!((s.code, s.reason.as_str()), (409, "Conflict"));
            assert_eq!(s.message, "Operation cannot be fulfilled on configmaps \"aws-auth\": the object has been modified; please apply your changes to the latest version and try again");
        }
        other => panic!("expected a Status, got {other:?}"),
    }

    // Edited behind our back: resourceVersion moves.
    emu.put_aws_auth(
        "legacy",
        [("mapRoles".to_string(), "[]".to_string())]
            .into_iter()
            .collect(),
    )
    .expect("put");
    let again = cms.get("aws-auth").await.expect("get");
    assert_ne!(
        again.metadata.resource_version.as_deref(),
        Some(rv2.as_str())
    );
    assert_eq!(again.data.map(|d| d.len()), Some(1));

    cms.delete("aws-auth", &DeleteParams::default())
        .await
        .expect("delete");
    match cms.get("aws-auth").await.unwrap_err() {
        kube::Error::Api(s) => {
            assert_eq!(
                (s.code, s.reason.as_str(), s.message.as_str()),
                (404, "NotFound", "configmaps \"aws-auth\" not found")
            );
        }
        other => panic!("expected a Status, got {other:?}"),
    }
    assert_eq!(emu.aws_auth("legacy").expect("cluster"), None);
    let mut fresh = ConfigMap::default();
    fresh.metadata.name = Some("aws-auth".into());
    fresh.data = Some(
        [("mapRoles".to_string(), original.to_string())]
            .into_iter()
            .collect(),
    );
    cms.create(&PostParams::default(), &fresh)
        .await
        .expect("create");
    match cms
        .create(&PostParams::default(), &fresh)
        .await
        .unwrap_err()
    {
        kube::Error::Api(s) => assert_eq!((s.code, s.reason.as_str()), (409, "AlreadyExists")),
        other => panic!("expected a Status, got {other:?}"),
    }
    let listed = cms.list(&ListParams::default()).await.expect("list");
    assert_eq!(listed.items.len(), 1);

    let crbs: Api<ClusterRoleBinding> = Api::all(client.clone());
    let crb = crbs.list(&ListParams::default()).await.expect("crbs");
    assert_eq!(crb.items.len(), 1);
    assert_eq!(crb.items[0].role_ref.name, "view");
    assert_eq!(
        crb.items[0]
            .subjects
            .as_ref()
            .map(|s| s[0].name.clone())
            .as_deref(),
        Some("devs")
    );
    let rbs: Api<RoleBinding> = Api::all(client.clone());
    let rb = rbs.list(&ListParams::default()).await.expect("rbs");
    assert_eq!(rb.items[0].metadata.namespace.as_deref(), Some("team-a"));

    // A cluster with no aws-auth at all.
    let api_client = kube_client(&emu, "api").await;
    let api_cms: Api<ConfigMap> = Api::namespaced(api_client, "kube-system");
    assert!(matches!(api_cms.get("aws-auth").await, Err(kube::Error::Api(s)) if s.code == 404));
}

#[tokio::test]
async fn faults_and_call_counters() {
    let emu = start(base_seed());
    let c = eks(&emu, ADMIN_KEY, REGION);
    emu.set_faults(Faults::new(
        7,
        vec![
            FaultRule::new("*")
                .on_cluster("legacy")
                .rate_limit(0.001, 1.0),
            FaultRule::new("DescribeCluster")
                .on_cluster("api")
                .fail_nth(2, 503, "ServiceUnavailableException"),
        ],
    ));
    assert!(c.describe_cluster().name("legacy").send().await.is_ok());
    let e = c
        .describe_cluster()
        .name("legacy")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err_of(&e),
        ("ThrottlingException".into(), "Rate exceeded".into())
    );
    assert_eq!(e.raw_response().map(|r| r.status().as_u16()), Some(429));
    assert!(c.describe_cluster().name("api").send().await.is_ok());
    let e = c.describe_cluster().name("api").send().await.unwrap_err();
    assert_eq!(err_of(&e).0, "ServiceUnavailableException");
    assert!(c.describe_cluster().name("api").send().await.is_ok());

    let calls = emu.calls();
    assert_eq!(calls.count("DescribeCluster"), 5);
    assert_eq!(calls.count_on("DescribeCluster", "legacy"), 2);
    assert_eq!(calls.count_on("DescribeCluster", "api"), 3);

    // Random 500s with a fixed seed, and a connection cut mid-response.
    emu.set_faults(Faults::new(
        1,
        vec![FaultRule::new("ListAccessPolicies").error_probability(1.0)],
    ));
    let e = c.list_access_policies().send().await.unwrap_err();
    assert_eq!(err_of(&e).0, "ServerException");
    emu.set_faults(Faults::new(
        1,
        vec![FaultRule::new("ListAccessPolicies").disconnect_probability(1.0)],
    ));
    let e = c.list_access_policies().send().await.unwrap_err();
    assert!(
        matches!(
            e,
            aws_sdk_eks::error::SdkError::DispatchFailure(_)
                | aws_sdk_eks::error::SdkError::ResponseError(_)
        ),
        "{e:?}"
    );
    emu.set_faults(Faults::new(
        1,
        vec![FaultRule::new("ListAccessPolicies").latency_ms(150)],
    ));
    let t = Instant::now();
    c.list_access_policies()
        .send()
        .await
        .expect("slow but fine");
    assert!(t.elapsed() >= Duration::from_millis(150));

    // Throttling in the query protocol (IAM) and as a Kubernetes Status.
    emu.set_faults(Faults::new(
        5,
        vec![
            FaultRule::new("GetRole").throttle_probability(1.0),
            FaultRule::new("kube:*").fail_nth(1, 500, "InternalError"),
            FaultRule::new("kube:*").fail_nth(3, 429, "TooManyRequests"),
        ],
    ));
    let e = iam(&emu, ADMIN_KEY)
        .get_role()
        .role_name("dev")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(&e), ("Throttling".into(), "Rate exceeded".into()));
    assert_eq!(e.raw_response().map(|r| r.status().as_u16()), Some(429));
    let cms: Api<ConfigMap> = Api::namespaced(kube_client(&emu, "legacy").await, "kube-system");
    match cms.get("aws-auth").await.unwrap_err() {
        kube::Error::Api(s) => assert_eq!((s.code, s.reason.as_str()), (500, "InternalError")),
        other => panic!("expected a Status, got {other:?}"),
    }
    emu.reset_calls();
    assert!(cms.get("aws-auth").await.is_ok());
    // Call 3 was a 429 Status with Retry-After; kube retried it by itself.
    assert!(cms.get("aws-auth").await.is_ok());
    assert_eq!(emu.calls().count("kube:GetConfigMap"), 3);

    // Admin endpoints over HTTP.
    emu.reset_calls();
    assert_eq!(emu.calls().total(), 0);
    let (status, _) = http(
        &emu,
        "PUT",
        "/_emulator/faults",
        r#"{"seed":3,"rules":[{"operation":"kube:GetConfigMap","fail_nth":{"n":1,"status":500}}]}"#,
    );
    assert_eq!(status, 200);
    assert_eq!(emu.faults().rules[0].operation, "kube:GetConfigMap");
    let (status, body) = http(
        &emu,
        "PUT",
        "/_emulator/clusters/api/access-entries",
        r#"{"principal_arn":"arn:aws:iam::111122223333:role/dev","kubernetes_groups":["sneaky"]}"#,
    );
    assert_eq!((status, body.as_str()), (200, "{}"));
    let d = c
        .describe_access_entry()
        .cluster_name("api")
        .principal_arn(role(A, "dev"))
        .send()
        .await
        .expect("edited entry");
    assert_eq!(
        d.access_entry().map(|e| e.kubernetes_groups().to_vec()),
        Some(vec!["sneaky".to_string()])
    );
    let (status, _) = http(
        &emu,
        "PUT",
        "/_emulator/clusters/api/aws-auth",
        r#"{"mapRoles":"- x\n"}"#,
    );
    assert_eq!(status, 200);
    let (status, state) = http(&emu, "GET", "/_emulator/state", "");
    assert_eq!(status, 200);
    let state: serde_json::Value = serde_json::from_str(&state).expect("state json");
    let api = state["clusters"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["name"] == "api"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(api["aws_auth"]["data"]["mapRoles"], "- x\n");
    let (status, calls) = http(&emu, "GET", "/_emulator/calls", "");
    assert_eq!(status, 200);
    let calls: serde_json::Value = serde_json::from_str(&calls).expect("calls json");
    assert_eq!(calls["by_operation"]["DescribeAccessEntry"], 1);
    assert_eq!(http(&emu, "POST", "/_emulator/calls/reset", "").0, 200);
    assert_eq!(emu.calls().total(), 0);
}

#[test]
fn starts_from_plain_test_and_writes_kubeconfig() {
    let emu = start(base_seed());
    let text = std::fs::read_to_string(emu.kubeconfig_path()).expect("kubeconfig");
    let doc: serde_yaml::Value = serde_yaml::from_str(&text).expect("yaml");
    assert_eq!(
        doc["current-context"].as_str(),
        Some("arn:aws:eks:us-east-1:111122223333:cluster/api")
    );
    assert_eq!(doc["contexts"].as_sequence().map(|s| s.len()), Some(4));
    assert_eq!(
        doc["clusters"][1]["cluster"]["server"].as_str(),
        Some(format!("{}/k8s/111122223333/us-east-1/legacy", emu.endpoint_url()).as_str())
    );
    let dir = emu
        .kubeconfig_path()
        .parent()
        .map(|p| p.to_path_buf())
        .expect("dir");
    drop(emu);
    assert!(!dir.exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fleet_of_36_clusters_in_3_accounts_and_2_regions_with_one_throttled() {
    let accounts = ["111122223333", "444455556666", "777788889999"];
    let regions = ["us-east-1", "eu-west-1"];
    let mut seed = Seed::default().with_update_duration_ms(50);
    for (ai, a) in accounts.iter().enumerate() {
        seed = seed
            .with_credential(
                &format!("AKIDFLEET{ai}"),
                a,
                &format!("arn:aws:iam::{a}:user/admin"),
            )
            .with_user(a, "/", "admin")
            .with_role(a, "/", "dev");
        for (ri, r) in regions.iter().enumerate() {
            for n in 0..6 {
                seed = seed
                    .with_cluster(Cluster::new(&format!("fleet-{ai}-{ri}-{n}"), a, r).mode("API"));
            }
        }
    }
    let emu = start(seed.with_faults(Faults::new(
        1,
        vec![FaultRule::new("*").on_cluster("fleet-1-1-3").rate_limit(0.001, 2.0)],
    )));
    let mut tasks = tokio::task::JoinSet::new();
    for (ai, a) in accounts.iter().enumerate() {
        for (ri, r) in regions.iter().enumerate() {
            for n in 0..6 {
                let name = format!("fleet-{ai}-{ri}-{n}");
                let client = eks(&emu, &format!("AKIDFLEET{ai}"), r);
                let dev = role(a, "dev");
                tasks.spawn(async move {
                    let listed = client
                        .list_access_entries()
                        .cluster_name(&name)
                        .send()
                        .await
                        .map(|l| l.access_entries().len());
                    let created = client
                        .create_access_entry()
                        .cluster_name(&name)
                        .principal_arn(&dev)
                        .send()
                        .await
                        .is_ok();
                    let described = client
                        .describe_access_entry()
                        .cluster_name(&name)
                        .principal_arn(&dev)
                        .send()
                        .await;
                    (
                        name,
                        listed.ok(),
                        created,
                        described.map(|_| ()).map_err(|e| err_of(&e).0),
                    )
                });
            }
        }
    }
    let mut results = Vec::new();
    while let Some(r) = tasks.join_next().await {
        results.push(r.expect("task"));
    }
    results.sort();
    assert_eq!(results.len(), 36);
    for (name, listed, created, described) in &results {
        assert_eq!(*listed, Some(0), "{name}");
        assert!(*created, "{name}");
        if name == "fleet-1-1-3" {
            assert_eq!(described.clone(), Err("ThrottlingException".to_string()));
        } else {
            assert_eq!(described.clone(), Ok(()), "{name}");
        }
    }
    let calls = emu.calls();
    assert_eq!(calls.count("CreateAccessEntry"), 36);
    assert_eq!(calls.count_on("DescribeAccessEntry", "fleet-2-0-5"), 1);
    // A cluster of one account is invisible to another account's keys.
    let other = eks(&emu, "AKIDFLEET0", "us-east-1");
    let e = other
        .describe_cluster()
        .name("fleet-1-0-0")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(&e).1, "No cluster found for name: fleet-1-0-0.");
    let state = emu.state();
    assert_eq!(state["clusters"].as_array().map(Vec::len), Some(36));
}

#[tokio::test]
async fn dropping_the_emulator_with_a_live_client_does_not_hang() {
    let emu = start(base_seed());
    let c = eks(&emu, ADMIN_KEY, REGION);
    c.list_clusters().send().await.expect("list");
    let t = Instant::now();
    drop(emu);
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    assert!(c.list_clusters().send().await.is_err());
}
