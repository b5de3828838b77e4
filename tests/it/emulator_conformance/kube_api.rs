//! The Kubernetes API: aws-auth get, put, conflict and not found; the RBAC
//! lists (paged, aggregated, forbidden).

use std::collections::BTreeMap;

use eks_emulator::seed::{Cluster, RbacRole, RbacRule};
use eks_emulator::{FaultRule, Faults};
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use kube::api::{Api, DeleteParams, ListParams, PostParams};

use super::{base_seed, kube_client, start, A, ADMIN_ARN, REGION};

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

/// Every item of a list, page by page with `limit`; asserts each page's size
/// and that only the last page lacks a continue token.
async fn list_paged<K>(api: &Api<K>, limit: u32) -> (Vec<K>, usize)
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let mut items = Vec::new();
    let mut pages = 0;
    let mut params = ListParams::default().limit(limit);
    loop {
        let page = api.list(&params).await.expect("list page");
        pages += 1;
        assert!(page.items.len() <= limit as usize);
        let n = page.items.len();
        items.extend(page.items);
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(token) => {
                assert_eq!(n, limit as usize, "a full page before a continue token");
                params = ListParams::default().limit(limit).continue_token(&token);
            }
            None => return (items, pages),
        }
    }
}

fn name_of<K: kube::Resource>(k: &K) -> String {
    let m = k.meta();
    match &m.namespace {
        Some(ns) => format!("{ns}/{}", m.name.clone().unwrap_or_default()),
        None => m.name.clone().unwrap_or_default(),
    }
}

#[tokio::test]
async fn kube_rbac_lists_page_aggregate_and_forbid() {
    let crontabs = RbacRule::new(
        &["stable.example.com"],
        &["crontabs"],
        &["get", "list", "watch"],
    );
    let emu = start(
        base_seed().with_cluster(
            Cluster::new("rbac", A, REGION)
                .bootstrap_rbac()
                .cluster_role(
                    RbacRole::cluster("crontab-reader", vec![crontabs])
                        .labelled("rbac.authorization.k8s.io/aggregate-to-view", "true"),
                )
                .role(RbacRole::namespaced(
                    "team-a",
                    "config-reader",
                    vec![RbacRule::new(&[""], &["configmaps"], &["get"]).named(&["settings"])],
                ))
                .role(RbacRole::namespaced(
                    "team-b",
                    "pod-reader",
                    vec![RbacRule::new(&[""], &["pods"], &["get", "list"])],
                ))
                .role(RbacRole::namespaced("team-a", "lease-user", vec![]))
                .forbid_rbac_list("rolebindings"),
        ),
    );
    let client = kube_client(&emu, "rbac").await;

    // ClusterRoles in pages of 3: the same objects, in name order, as one list.
    let crs: Api<ClusterRole> = Api::all(client.clone());
    let whole = crs.list(&ListParams::default()).await.expect("list");
    assert!(whole.metadata.continue_.is_none());
    let (paged, pages) = list_paged(&crs, 3).await;
    assert_eq!(pages, 4);
    let names: Vec<String> = paged.iter().map(name_of).collect();
    assert_eq!(names, whole.items.iter().map(name_of).collect::<Vec<_>>());
    assert_eq!(
        names,
        [
            "admin",
            "cluster-admin",
            "crontab-reader",
            "edit",
            "system:aggregate-to-admin",
            "system:aggregate-to-edit",
            "system:aggregate-to-view",
            "system:basic-user",
            "system:discovery",
            "system:public-info-viewer",
            "view",
        ]
    );

    // Aggregation: the CRD's read rule reaches view, edit and admin.
    let by_name = |n: &str| paged.iter().find(|r| name_of(*r) == n).expect(n).clone();
    let has_crontabs = |r: &ClusterRole| {
        r.rules.iter().flatten().any(|rule| {
            rule.resources.as_deref() == Some(&["crontabs".to_string()][..])
                && rule.verbs == ["get", "list", "watch"]
        })
    };
    for aggregated in ["view", "edit", "admin"] {
        assert!(has_crontabs(&by_name(aggregated)), "{aggregated}");
    }
    assert!(!has_crontabs(&by_name("cluster-admin")));
    let admin = by_name("admin");
    let selectors = admin
        .aggregation_rule
        .and_then(|a| a.cluster_role_selectors)
        .unwrap_or_default();
    assert_eq!(
        selectors[0]
            .match_labels
            .as_ref()
            .and_then(|m| m.get("rbac.authorization.k8s.io/aggregate-to-admin"))
            .map(String::as_str),
        Some("true")
    );
    // admin = edit's rules (view's included) + system:aggregate-to-admin's.
    let rules_len = |r: ClusterRole| r.rules.map_or(0, |v| v.len());
    assert_eq!(
        rules_len(by_name("admin")),
        rules_len(by_name("edit")) + rules_len(by_name("system:aggregate-to-admin"))
    );

    // Roles across namespaces in pages of 2, and of one namespace.
    let roles: Api<Role> = Api::all(client.clone());
    let (all_roles, pages) = list_paged(&roles, 2).await;
    assert_eq!(pages, 2);
    assert_eq!(
        all_roles.iter().map(name_of).collect::<Vec<_>>(),
        [
            "team-a/config-reader",
            "team-a/lease-user",
            "team-b/pod-reader"
        ]
    );
    let team_a: Api<Role> = Api::namespaced(client.clone(), "team-a");
    let (a_roles, _) = list_paged(&team_a, 1).await;
    assert_eq!(a_roles.len(), 2);
    assert_eq!(
        a_roles[0]
            .rules
            .as_ref()
            .and_then(|r| r[0].resource_names.clone()),
        Some(vec!["settings".to_string()])
    );

    // The bootstrap bindings are listed; RoleBindings are forbidden.
    let crbs: Api<ClusterRoleBinding> = Api::all(client.clone());
    let (bindings, _) = list_paged(&crbs, 500).await;
    assert_eq!(
        bindings.iter().map(name_of).collect::<Vec<_>>(),
        [
            "cluster-admin",
            "system:basic-user",
            "system:discovery",
            "system:public-info-viewer"
        ]
    );
    let rbs: Api<RoleBinding> = Api::all(client.clone());
    match rbs.list(&ListParams::default().limit(500)).await {
        Err(kube::Error::Api(s)) => {
            assert_eq!((s.code, s.reason.as_str()), (403, "Forbidden"));
            assert_eq!(
                s.message,
                format!("rolebindings.rbac.authorization.k8s.io is forbidden: User \"{ADMIN_ARN}\" cannot list resource \"rolebindings\" in API group \"rbac.authorization.k8s.io\" at the cluster scope")
            );
            let details = s.details.clone().expect("details");
            assert_eq!(
                (details.group.as_str(), details.kind.as_str()),
                ("rbac.authorization.k8s.io", "rolebindings")
            );
        }
        other => panic!("expected a 403 Status, got {other:?}"),
    }

    // The lists are operations faults can target and calls are counted under.
    assert_eq!(emu.calls().count_on("kube:ListClusterRoles", "rbac"), 5);
    assert_eq!(emu.calls().count_on("kube:ListRoles", "rbac"), 4);
    emu.set_faults(Faults::new(
        1,
        vec![FaultRule::new("kube:ListClusterRoles").fail_nth(1, 500, "InternalError")],
    ));
    assert!(matches!(
        crs.list(&ListParams::default()).await,
        Err(kube::Error::Api(s)) if s.code == 500
    ));
    assert!(crs.list(&ListParams::default()).await.is_ok());
}
