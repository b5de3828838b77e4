use super::*;
use crate::core::rbac::model::{Binding, PolicyRule, Role, RoleKind, Snapshot, Subject};
use crate::core::rbac::rights::MASTERS;

const RBAC: &str = "rbac.authorization.k8s.io";

fn reader() -> Role {
    Role::cluster_role(
        "reader",
        vec![
            PolicyRule::resource(&[""], &["pods", "services"], &["get", "list", "watch"]),
            PolicyRule::resource(&["apps"], &["deployments"], &["get", "list", "watch"]),
        ],
    )
}

fn ns_admin() -> Role {
    Role::cluster_role(
        "ns-admin",
        vec![
            PolicyRule::resource(&[""], &["pods", "services", "secrets"], &["*"]),
            PolicyRule::resource(&[RBAC], &["roles", "rolebindings"], &["*"]),
        ],
    )
}

fn world() -> Snapshot {
    Snapshot {
        roles: vec![
            reader(),
            ns_admin(),
            Role::cluster_role(
                "apps-all",
                vec![PolicyRule::resource(&["apps"], &["*"], &["get"])],
            ),
        ],
        bindings: vec![
            Binding::cluster("readers", "reader", vec![Subject::group("readers")]),
            Binding::namespaced(
                "team-a",
                "admins",
                RoleKind::ClusterRole,
                "ns-admin",
                vec![Subject::group("team-a-admins")],
            ),
            Binding::namespaced(
                "team-a",
                "alice",
                RoleKind::ClusterRole,
                "reader",
                vec![Subject::user("alice")],
            ),
            Binding::cluster("apps", "apps-all", vec![Subject::group("apps")]),
            Binding::cluster("sso", "reader", vec![Subject::user("sso:bob")]),
        ],
        incomplete: vec![],
    }
}

fn after(username: &str, groups: &[&str], policies: &[(&str, Scope)]) -> After {
    After {
        identity: Identity::new(username, groups),
        policies: policies
            .iter()
            .map(|(p, s)| ((*p).to_string(), s.clone()))
            .collect(),
    }
}

fn ns(s: &str) -> Scope {
    Scope::Namespace(s.into())
}

#[test]
fn the_same_identity_keeps_the_same_rights() {
    let index = Index::new(&world());
    let mut cmp = Comparer::new(&index);
    let c = cmp.compare(
        &Identity::new("x", &["readers"]),
        &after("x", &["readers"], &[]),
    );
    assert_eq!(c.verdict, Verdict::Same);
    assert!(c.loses.is_empty() && c.gains.is_empty() && c.unproven.is_empty());
}

#[test]
fn a_dropped_group_loses_its_rules_one_change_per_target() {
    let index = Index::new(&world());
    let mut cmp = Comparer::new(&index);
    let c = cmp.compare(&Identity::new("x", &["readers"]), &after("x", &[], &[]));
    assert_eq!(c.verdict, Verdict::Loses);
    let texts: Vec<String> = c.loses.iter().map(Change::text).collect();
    assert_eq!(
        texts,
        vec![
            "get,list,watch apps/deployments cluster-wide",
            "get,list,watch pods cluster-wide",
            "get,list,watch services cluster-wide",
        ]
    );
    assert_eq!(
        c.loses[0].via,
        "ClusterRoleBinding readers → ClusterRole reader"
    );
}

#[test]
fn a_user_binding_is_lost_when_the_username_changes() {
    let index = Index::new(&world());
    let mut cmp = Comparer::new(&index);
    let c = cmp.compare(&Identity::new("alice", &[]), &after("alice2", &[], &[]));
    assert_eq!(c.verdict, Verdict::Loses);
    assert_eq!(c.loses.len(), 3);
    assert!(c.loses.iter().all(|l| l.scope == "namespace team-a"));
}

#[test]
fn a_policy_that_covers_the_lost_binding_gives_gains_not_losses() {
    let index = Index::new(&world());
    let mut cmp = Comparer::new(&index);
    let c = cmp.compare(
        &Identity::new("alice", &[]),
        &after(
            "alice2",
            &[],
            &[("AmazonEKSClusterAdminPolicy", ns("team-*"))],
        ),
    );
    assert_eq!(c.verdict, Verdict::Gains, "{c:?}");
    assert!(c.loses.is_empty());
    assert_eq!(c.gains[0].scope, "namespace team-*");
}

#[test]
fn masters_need_every_wildcard_after() {
    let index = Index::new(&world());
    let mut cmp = Comparer::new(&index);
    let same = cmp.compare(
        &Identity::new("admin", &[MASTERS]),
        &after(
            "admin",
            &[],
            &[("AmazonEKSClusterAdminPolicy", Scope::Cluster)],
        ),
    );
    assert_eq!(same.verdict, Verdict::Same);
    assert_eq!(same.notes.len(), 1);
    let lost = cmp.compare(
        &Identity::new("admin", &[MASTERS]),
        &after("admin", &["readers"], &[]),
    );
    assert_eq!(lost.verdict, Verdict::Loses);
    assert_eq!(lost.loses.len(), 2);
    assert_eq!(
        lost.loses[0].example.as_deref(),
        Some("create bindings cluster-wide")
    );
    let narrow = cmp.compare(
        &Identity::new("admin", &[MASTERS]),
        &after(
            "admin",
            &[],
            &[("AmazonEKSClusterAdminPolicy", ns("default"))],
        ),
    );
    assert_eq!(narrow.verdict, Verdict::Loses);
}

#[test]
fn a_wildcard_replaced_by_an_explicit_list_is_unproven_not_same() {
    let mut snap = world();
    // A group no access policy names: its one known resource is listed.
    snap.roles.push(Role::cluster_role(
        "widgets-all",
        vec![PolicyRule::resource(&["example.com"], &["*"], &["get"])],
    ));
    snap.bindings.push(Binding::cluster(
        "widgets",
        "widgets-all",
        vec![Subject::group("widgets")],
    ));
    snap.roles.push(Role::cluster_role(
        "apps-listed",
        vec![PolicyRule::resource(
            &["example.com"],
            &["widgets"],
            &["get"],
        )],
    ));
    snap.bindings.push(Binding::cluster(
        "apps-listed",
        "apps-listed",
        vec![Subject::group("apps-listed")],
    ));
    let index = Index::new(&snap);
    let mut cmp = Comparer::new(&index);
    let c = cmp.compare(
        &Identity::new("x", &["widgets"]),
        &after("x", &["apps-listed"], &[]),
    );
    assert_eq!(c.verdict, Verdict::Unproven, "{c:?}");
    assert_eq!(
        c.unproven,
        vec!["get example.com/* cluster-wide through ClusterRoleBinding widgets → ClusterRole widgets-all: a `*` that the after side grants only as an explicit list"]
    );
    // Without any explicit grant, the `*` is a concrete loss with an example.
    let lost = cmp.compare(&Identity::new("x", &["apps"]), &after("x", &[], &[]));
    assert_eq!(lost.verdict, Verdict::Loses);
    assert_eq!(
        lost.loses[0].example.as_deref(),
        Some("get apps/controllerrevisions cluster-wide")
    );
}

#[test]
fn a_templated_username_bound_by_a_user_subject_is_unproven_when_it_changes() {
    let index = Index::new(&world());
    let mut cmp = Comparer::new(&index);
    let changed = cmp.compare(
        &Identity::new("sso:{{SessionName}}", &[]),
        &after(
            "arn:aws:sts::111122223333:assumed-role/sso/{{SessionName}}",
            &[],
            &[],
        ),
    );
    assert_eq!(changed.verdict, Verdict::Unproven);
    assert!(changed.unproven[0].contains("sso:bob"), "{changed:?}");
    let kept = cmp.compare(
        &Identity::new("sso:{{SessionName}}", &[]),
        &after("sso:{{SessionName}}", &[], &[]),
    );
    assert_eq!(kept.verdict, Verdict::Same);
}

#[test]
fn a_policy_admin_cannot_grant_roles_an_rbac_admin_could() {
    let index = Index::new(&world());
    let mut cmp = Comparer::new(&index);
    // Same rules through a policy-like grant: modelled with a Role bound to
    // the new identity would keep delegation; a policy does not.
    let c = cmp.compare(
        &Identity::new("x", &["team-a-admins"]),
        &after("x", &[], &[("AmazonEKSClusterAdminPolicy", ns("team-a"))]),
    );
    assert_eq!(
        c.verdict,
        Verdict::Gains,
        "cluster-admin policy includes bind: {c:?}"
    );
    let mut snap = world();
    snap.roles.push(Role::cluster_role(
        "ns-admin-copy",
        vec![
            PolicyRule::resource(&[""], &["pods", "services", "secrets"], &["*"]),
            PolicyRule::resource(&[RBAC], &["roles", "rolebindings"], &["*"]),
        ],
    ));
    let index = Index::new(&snap);
    let mut cmp = Comparer::new(&index);
    let kept = cmp.compare(
        &Identity::new("x", &["team-a-admins"]),
        &after("x", &["team-a-admins"], &[]),
    );
    assert_eq!(kept.verdict, Verdict::Same);
}

#[test]
fn an_incomplete_snapshot_is_never_same() {
    let mut snap = world();
    snap.incomplete.push("cannot list roles".into());
    let index = Index::new(&snap);
    let mut cmp = Comparer::new(&index);
    let c = cmp.compare(
        &Identity::new("x", &["readers"]),
        &after("x", &["readers"], &[]),
    );
    assert_eq!(c.verdict, Verdict::Unproven);
    assert_eq!(
        c.unproven,
        vec!["RBAC was not read in full (cannot list roles)"]
    );
}

#[test]
fn unpublished_policies_are_gains_of_unknown_extent() {
    let index = Index::new(&world());
    let mut cmp = Comparer::new(&index);
    let c = cmp.compare(
        &Identity::new("x", &[]),
        &after("x", &[], &[("AmazonEKSAutoNodePolicy", Scope::Cluster)]),
    );
    assert_eq!(c.verdict, Verdict::Gains);
    assert_eq!(c.gains[0].target, "what AmazonEKSAutoNodePolicy grants");
}

#[test]
fn a_role_binding_to_cluster_scoped_resources_is_not_a_loss() {
    let mut snap = world();
    snap.roles.push(Role::cluster_role(
        "nodes",
        vec![PolicyRule::resource(&[""], &["nodes"], &["get"])],
    ));
    snap.bindings.push(Binding::namespaced(
        "team-a",
        "nodes",
        RoleKind::ClusterRole,
        "nodes",
        vec![Subject::group("n")],
    ));
    let index = Index::new(&snap);
    let mut cmp = Comparer::new(&index);
    let c = cmp.compare(&Identity::new("x", &["n"]), &after("x", &[], &[]));
    assert_eq!(c.verdict, Verdict::Same, "{c:?}");
}

#[test]
fn results_are_cached_by_bindings_and_policies() {
    let index = Index::new(&world());
    let mut cmp = Comparer::new(&index);
    for i in 0..50 {
        let name = format!("u{i}");
        let c = cmp.compare(&Identity::new(&name, &["readers"]), &after(&name, &[], &[]));
        assert_eq!(c.verdict, Verdict::Loses);
    }
    assert_eq!(cmp.cache.len(), 1);
}

#[test]
fn an_admin_policy_cannot_pass_on_roles_an_rbac_binding_could() {
    let index = Index::new(&world());
    let mut cmp = Comparer::new(&index);
    let c = cmp.compare(
        &Identity::new("x", &["team-a-admins"]),
        &after("x", &[], &[("AmazonEKSAdminPolicy", ns("team-a"))]),
    );
    assert_eq!(c.verdict, Verdict::Loses, "{c:?}");
    let bind: Vec<&Change> = c.loses.iter().filter(|l| l.verbs == ["bind"]).collect();
    assert_eq!(bind.len(), 1, "{c:?}");
    assert_eq!(bind[0].scope, "namespace team-a");
    assert!(bind[0]
        .target
        .starts_with("rolebindings granting the roles it held through RBAC"));
    // And writing Roles with those rules needs `escalate` now.
    let escalate: Vec<&Change> = c.loses.iter().filter(|l| l.verbs == ["escalate"]).collect();
    assert_eq!(escalate.len(), 1, "{c:?}");
    assert!(escalate[0]
        .target
        .starts_with("roles holding the rules it held through RBAC"));
}

#[test]
fn view_policy_for_a_reader_group_keeps_everything_and_says_what_it_adds() {
    let index = Index::new(&world());
    let mut cmp = Comparer::new(&index);
    let c = cmp.compare(
        &Identity::new("x", &["readers"]),
        &after("x", &[], &[("AmazonEKSViewPolicy", Scope::Cluster)]),
    );
    assert_eq!(c.verdict, Verdict::Gains, "{c:?}");
    assert!(c.loses.is_empty());
    assert!(c
        .gains
        .iter()
        .any(|g| g.target == "configmaps" && g.via == "access policy AmazonEKSViewPolicy"));
    // View has no secrets: a group that read them loses that.
    let mut snap = world();
    snap.roles.push(Role::cluster_role(
        "secret-reader",
        vec![PolicyRule::resource(&[""], &["secrets"], &["get"])],
    ));
    snap.bindings.push(Binding::cluster(
        "s",
        "secret-reader",
        vec![Subject::group("s")],
    ));
    let index = Index::new(&snap);
    let mut cmp = Comparer::new(&index);
    let c = cmp.compare(
        &Identity::new("x", &["s"]),
        &after("x", &[], &[("AmazonEKSViewPolicy", Scope::Cluster)]),
    );
    assert_eq!(c.verdict, Verdict::Loses);
    assert_eq!(c.loses[0].text(), "get secrets cluster-wide");
}
