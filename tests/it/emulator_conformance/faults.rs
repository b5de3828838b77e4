//! Faults and call counters, alone and across a fleet.

use std::time::{Duration, Instant};

use eks_emulator::seed::{Cluster, Seed};
use eks_emulator::{FaultRule, Faults};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::Api;

use super::{base_seed, eks, err_of, http, iam, kube_client, role, start, A, ADMIN_KEY, REGION};

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
