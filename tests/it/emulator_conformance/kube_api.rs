//! The Kubernetes API: aws-auth get, put, conflict and not found.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::api::rbac::v1::{ClusterRoleBinding, RoleBinding};
use kube::api::{Api, DeleteParams, ListParams, PostParams};

use super::{base_seed, kube_client, start};

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
