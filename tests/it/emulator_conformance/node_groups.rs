//! Managed node groups and Fargate profiles.

use eks_emulator::{FaultRule, Faults};

use super::{base_seed, eks, err_of, role, start, A, ADMIN_KEY, B_KEY, REGION};

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
        .is_some_and(aws_sdk_eks::operation::describe_nodegroup::DescribeNodegroupError::is_resource_not_found_exception));
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
        .is_some_and(aws_sdk_eks::operation::describe_fargate_profile::DescribeFargateProfileError::is_resource_not_found_exception));
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
