use serde_json::{json, Value};

use super::*;
use crate::kube::{handle, operation};
use crate::seed::{self, RbacSubject, Seed};

const CALLER: &str = "arn:aws:iam::111122223333:user/admin";

fn world(cluster: seed::Cluster) -> State {
    let seed = Seed::default()
        .with_caller("AKIDADMIN", "111122223333", CALLER)
        .with_cluster(cluster);
    State::from_seed(&seed, "http://127.0.0.1:1").expect("seed")
}

fn cluster() -> seed::Cluster {
    seed::Cluster::new("c1", "111122223333", "us-east-1")
}

fn get(s: &mut State, path: &str, query: &[(&str, &str)]) -> KubeResponse {
    let segs: Vec<&str> = path.split('/').filter(|x| !x.is_empty()).collect();
    let q: Vec<(String, String)> = query
        .iter()
        .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
        .collect();
    handle(s, 0, "GET", &segs, &q, "", b"")
}

const CR: &str = "/apis/rbac.authorization.k8s.io/v1/clusterroles";

fn names(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|i| {
                    let m = &i["metadata"];
                    match m["namespace"].as_str() {
                        Some(ns) => format!("{ns}/{}", m["name"].as_str().unwrap_or_default()),
                        None => m["name"].as_str().unwrap_or_default().to_string(),
                    }
                })
                .collect()
        })
        .unwrap_or_default()
}

fn served_rules(list: &Value, name: &str) -> Vec<Value> {
    list["items"]
        .as_array()
        .and_then(|items| items.iter().find(|i| i["metadata"]["name"] == name))
        .and_then(|i| i["rules"].as_array().cloned())
        .unwrap_or_default()
}

fn rules_of(role: &str) -> Vec<Value> {
    bootstrap()
        .cluster_roles
        .iter()
        .find(|r| r.name == role)
        .map(|r| r.rules.iter().map(rule_json).collect())
        .unwrap_or_default()
}

#[test]
fn aggregated_roles_are_filled_as_the_controller_fills_them() {
    let crd_view = RbacRule::new(&["stable.example.com"], &["crontabs"], &["get", "list"]);
    let mut s = world(
        cluster()
            .bootstrap_rbac()
            .cluster_role(
                RbacRole::cluster("crontab-reader", vec![crd_view.clone()])
                    .labelled("rbac.authorization.k8s.io/aggregate-to-view", "true"),
            )
            // An aggregated role's own rules are replaced, and a selector
            // matching nothing leaves it empty.
            .cluster_role(
                RbacRole::cluster("lonely", vec![RbacRule::new(&[""], &["pods"], &["get"])])
                    .aggregating(&[("nobody", "here")]),
            ),
    );
    let list = get(&mut s, CR, &[]).body;
    let crd = rule_json(&crd_view);
    // By name: crontab-reader before system:aggregate-to-view.
    let mut view = vec![crd];
    view.extend(rules_of("system:aggregate-to-view"));
    assert_eq!(served_rules(&list, "view"), view);
    // edit ← [system:aggregate-to-edit, view] (by name), admin ← [edit, system:aggregate-to-admin].
    let mut edit = rules_of("system:aggregate-to-edit");
    edit.extend(view.iter().cloned());
    assert_eq!(served_rules(&list, "edit"), edit);
    let mut admin = edit.clone();
    admin.extend(rules_of("system:aggregate-to-admin"));
    assert_eq!(served_rules(&list, "admin"), admin);
    assert!(served_rules(&list, "lonely").is_empty());
    let admin_item = list["items"]
        .as_array()
        .and_then(|i| i.iter().find(|x| x["metadata"]["name"] == "admin"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        admin_item["aggregationRule"],
        json!({"clusterRoleSelectors": [{"matchLabels": {"rbac.authorization.k8s.io/aggregate-to-admin": "true"}}]})
    );
    assert_eq!(
        admin_item["metadata"]["labels"],
        json!({"kubernetes.io/bootstrapping": "rbac-defaults"})
    );
    assert_eq!(
        served_rules(&list, "cluster-admin"),
        [
            json!({"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}),
            json!({"verbs": ["*"], "nonResourceURLs": ["*"]})
        ]
    );
    // No rule twice, though view's rules reach admin through edit too.
    let mut seen = Vec::new();
    for r in served_rules(&list, "admin") {
        assert!(!seen.contains(&r), "{r}");
        seen.push(r);
    }
}

#[test]
fn aggregation_settles_on_cycles_and_self_matches() {
    let rule = RbacRule::new(&[""], &["pods"], &["get"]);
    let mut roles = vec![
        RbacRole::cluster("a", vec![])
            .labelled("x", "1")
            .aggregating(&[("x", "1")]),
        RbacRole::cluster("b", vec![])
            .labelled("x", "1")
            .aggregating(&[("x", "1")]),
        RbacRole::cluster("c", vec![rule.clone()]).labelled("x", "1"),
    ];
    aggregate(&mut roles);
    assert_eq!(roles[0].rules, roles[1].rules);
    assert_eq!(roles[1].rules, [rule]);
}

#[test]
fn lists_page_by_limit_and_continue() {
    let mut s = world(
        cluster()
            .bootstrap_rbac()
            .role(RbacRole::namespaced("team-b", "r2", vec![]))
            .role(RbacRole::namespaced("team-a", "r1", vec![]))
            .role(RbacRole::namespaced("team-a", "r0", vec![]))
            .role(RbacRole::cluster("in-default", vec![])),
    );
    let all = get(&mut s, CR, &[]).body;
    assert!(all["metadata"].get("continue").is_none(), "{all}");
    let everything = names(&all);
    assert_eq!(everything.len(), 10);
    let mut sorted = everything.clone();
    sorted.sort();
    assert_eq!(everything, sorted);

    let mut got = Vec::new();
    let mut token = String::new();
    let mut rvs = Vec::new();
    for page in 0.. {
        let mut q = vec![("limit", "3")];
        if !token.is_empty() {
            q.push(("continue", token.as_str()));
        }
        let r = get(&mut s, CR, &q);
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["kind"], "ClusterRoleList");
        got.extend(names(&r.body));
        rvs.push(r.body["metadata"]["resourceVersion"].clone());
        match r.body["metadata"]["continue"].as_str() {
            Some(t) => {
                assert_eq!(
                    r.body["metadata"]["remainingItemCount"],
                    json!(7 - 3 * page)
                );
                token = t.to_string();
            }
            None => {
                assert!(r.body["metadata"].get("remainingItemCount").is_none());
                assert_eq!(page, 3);
                break;
            }
        }
    }
    assert_eq!(got, everything);
    // Every page carries the first page's resourceVersion.
    assert!(rvs.iter().all(|rv| *rv == rvs[0]), "{rvs:?}");

    // Roles across namespaces in key order, and of one namespace.
    let roles = "/apis/rbac.authorization.k8s.io/v1/roles";
    let r = get(&mut s, roles, &[("limit", "2")]).body;
    assert_eq!(r["kind"], "RoleList");
    assert_eq!(names(&r), ["default/in-default", "team-a/r0"]);
    let token = r["metadata"]["continue"].as_str().unwrap_or_default();
    let r = get(&mut s, roles, &[("limit", "2"), ("continue", token)]).body;
    assert_eq!(names(&r), ["team-a/r1", "team-b/r2"]);
    assert!(r["metadata"].get("continue").is_none());
    let ns = get(
        &mut s,
        "/apis/rbac.authorization.k8s.io/v1/namespaces/team-a/roles",
        &[("limit", "1")],
    )
    .body;
    assert_eq!(names(&ns), ["team-a/r0"]);
    assert_eq!(ns["metadata"]["remainingItemCount"], 1);

    // A token the server did not issue, an unreadable limit: 400.
    for q in [("continue", "abc"), ("limit", "ten")] {
        let r = get(&mut s, CR, &[q]);
        assert_eq!(
            (r.status, r.body["reason"].as_str()),
            (400, Some("BadRequest"))
        );
    }
    // limit=0 is no limit.
    assert_eq!(names(&get(&mut s, CR, &[("limit", "0")]).body).len(), 10);
}

#[test]
fn bindings_page_and_bootstrap_bindings_are_served() {
    let mut s = world(
        cluster()
            .bootstrap_rbac()
            .cluster_role_binding(RbacBinding::new("devs-view", "view", &[("Group", "devs")])),
    );
    let crb = "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings";
    let all = get(&mut s, crb, &[]).body;
    assert_eq!(
        names(&all),
        [
            "cluster-admin",
            "devs-view",
            "system:basic-user",
            "system:discovery",
            "system:public-info-viewer"
        ]
    );
    assert_eq!(
        all["items"][0]["subjects"],
        json!([{"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "system:masters"}])
    );
    let page = get(&mut s, crb, &[("limit", "4")]).body;
    assert_eq!(names(&page).len(), 4);
    let token = page["metadata"]["continue"].as_str().unwrap_or_default();
    let last = get(&mut s, crb, &[("limit", "4"), ("continue", token)]).body;
    assert_eq!(names(&last), ["system:public-info-viewer"]);

    // Without bootstrap: only the seed's objects, as before.
    let mut plain = world(
        cluster().role_binding(
            RbacBinding {
                subjects: vec![RbacSubject {
                    kind: "ServiceAccount".into(),
                    name: "ci".into(),
                    namespace: None,
                }],
                ..RbacBinding::new("ci-edit", "edit", &[])
            }
            .in_namespace("ci"),
        ),
    );
    assert!(names(&get(&mut plain, crb, &[]).body).is_empty());
    assert!(names(&get(&mut plain, CR, &[]).body).is_empty());
    let rb = get(
        &mut plain,
        "/apis/rbac.authorization.k8s.io/v1/rolebindings",
        &[],
    )
    .body;
    assert_eq!(rb["kind"], "RoleBindingList");
    assert_eq!(
        rb["items"][0]["subjects"],
        json!([{"kind": "ServiceAccount", "name": "ci", "namespace": "default"}])
    );
}

#[test]
fn a_forbidden_list_is_the_api_servers_403() {
    let mut s = world(
        cluster()
            .bootstrap_rbac()
            .forbid_rbac_list("roles")
            .forbid_rbac_list("clusterrolebindings"),
    );
    let r = get(&mut s, "/apis/rbac.authorization.k8s.io/v1/roles", &[]);
    assert_eq!(r.status, 403);
    assert_eq!(
        r.body,
        json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": "roles.rbac.authorization.k8s.io is forbidden: User \"arn:aws:iam::111122223333:user/admin\" cannot list resource \"roles\" in API group \"rbac.authorization.k8s.io\" at the cluster scope",
            "reason": "Forbidden",
            "details": {"group": "rbac.authorization.k8s.io", "kind": "roles"},
            "code": 403,
        })
    );
    let ns = get(
        &mut s,
        "/apis/rbac.authorization.k8s.io/v1/namespaces/team-a/roles",
        &[],
    );
    assert_eq!(ns.status, 403);
    assert!(ns.body["message"]
        .as_str()
        .unwrap_or_default()
        .ends_with("in API group \"rbac.authorization.k8s.io\" in the namespace \"team-a\""));
    let crb = get(
        &mut s,
        "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
        &[],
    );
    assert_eq!(crb.body["details"]["kind"], "clusterrolebindings");
    // The others still list.
    assert_eq!(get(&mut s, CR, &[]).status, 200);
    // A typo in forbid is a seed error, not a silent no-op.
    let bad = Seed::default().with_cluster(cluster().forbid_rbac_list("role"));
    assert!(State::from_seed(&bad, "http://127.0.0.1:1").is_err());
}

#[test]
fn operations_are_named_and_other_rbac_paths_are_404() {
    let op = |p: &str| {
        let segs: Vec<&str> = p.split('/').filter(|x| !x.is_empty()).collect();
        operation("GET", &segs)
    };
    assert_eq!(op(CR), "kube:ListClusterRoles");
    assert_eq!(
        op("/apis/rbac.authorization.k8s.io/v1/namespaces/a/roles"),
        "kube:ListRoles"
    );
    assert_eq!(
        op("/apis/rbac.authorization.k8s.io/v1/roles"),
        "kube:ListRoles"
    );
    assert_eq!(
        op("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings"),
        "kube:ListClusterRoleBindings"
    );
    let mut s = world(cluster());
    for p in [
        "/apis/rbac.authorization.k8s.io/v1/namespaces/a/clusterroles",
        "/apis/rbac.authorization.k8s.io/v1/widgets",
    ] {
        assert_eq!(get(&mut s, p, &[]).status, 404, "{p}");
    }
}

#[test]
fn the_documented_seed_shape_parses() {
    let seed = Seed::from_yaml(
        r#"
clusters:
  - name: c1
    account: "111122223333"
    rbac:
      bootstrap: true
      forbid: [rolebindings]
      cluster_roles:
        - name: crontab-reader
          labels: {rbac.authorization.k8s.io/aggregate-to-view: "true"}
          rules:
            - {api_groups: [stable.example.com], resources: [crontabs], verbs: [get, list, watch]}
        - name: team-admin
          aggregate_from:
            - {example.com/aggregate-to-team-admin: "true"}
        - name: health
          rules:
            - {non_resource_urls: [/healthz], verbs: [get]}
      roles:
        - name: config-reader
          namespace: team-a
          rules:
            - {api_groups: [""], resources: [configmaps], resource_names: [settings], verbs: [get]}
"#,
    )
    .expect("parses");
    let rbac = &seed.clusters[0].rbac;
    assert!(rbac.bootstrap);
    assert_eq!(rbac.forbid, ["rolebindings"]);
    assert_eq!(
        rbac.cluster_roles[0],
        RbacRole::cluster(
            "crontab-reader",
            vec![RbacRule::new(
                &["stable.example.com"],
                &["crontabs"],
                &["get", "list", "watch"]
            )]
        )
        .labelled("rbac.authorization.k8s.io/aggregate-to-view", "true")
    );
    assert_eq!(
        rbac.cluster_roles[1],
        RbacRole::cluster("team-admin", vec![])
            .aggregating(&[("example.com/aggregate-to-team-admin", "true")])
    );
    assert_eq!(
        rbac.cluster_roles[2].rules,
        [RbacRule::urls(&["/healthz"], &["get"])]
    );
    assert_eq!(
        rbac.roles[0],
        RbacRole::namespaced(
            "team-a",
            "config-reader",
            vec![RbacRule::new(&[""], &["configmaps"], &["get"]).named(&["settings"])]
        )
    );
    assert!(Seed::from_yaml(
        "clusters: [{name: c, account: '111122223333', rbac: {cluster_roles: [{name: x, rulez: []}]}}]"
    )
    .is_err());
}
