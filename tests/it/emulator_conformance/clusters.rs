//! Clusters: `DescribeCluster`, the authentication-mode switch and the entries
//! EKS makes, and which clusters a caller sees.

use std::time::{Duration, Instant};

use aws_sdk_eks::types::{AccessScopeType, AuthenticationMode, UpdateAccessConfigRequest};

use super::{base_seed, eks, err_of, role, start, A, ADMIN_KEY, B_KEY, CLUSTER_ADMIN, REGION};

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
    assert_eq!(
        cl.status().map(aws_sdk_eks::types::ClusterStatus::as_str),
        Some("ACTIVE")
    );
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
    assert_eq!(
        update
            .status()
            .map(aws_sdk_eks::types::UpdateStatus::as_str),
        Some("InProgress")
    );
    assert_eq!(
        update.r#type().map(aws_sdk_eks::types::UpdateType::as_str),
        Some("AccessConfigUpdate")
    );
    let p = &update.params()[0];
    assert_eq!(
        (
            p.r#type().map(aws_sdk_eks::types::UpdateParamType::as_str),
            p.value()
        ),
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
