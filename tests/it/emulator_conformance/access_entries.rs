//! Access entries: their lifecycle, the create rules' errors, paging and tags.

use eks_emulator::seed::{AccessEntry, Cluster};

use super::{
    base_seed, eks, err_of, role, scope_cluster, scope_ns, start, A, ADMIN_KEY, B, EDIT, REGION,
    VIEW,
};

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
