use super::*;
use crate::core::policy_map;
use crate::core::rbac::model::{Binding, PolicyRule, Role, RoleKind, Snapshot, Subject};

fn snap() -> Snapshot {
    Snapshot {
        roles: vec![
            Role::cluster_role(
                "cluster-admin",
                vec![
                    PolicyRule::resource(&["*"], &["*"], &["*"]),
                    PolicyRule::urls(&["*"], &["*"]),
                ],
            ),
            Role::cluster_role(
                "tiny",
                vec![PolicyRule::resource(&[""], &["pods"], &["get"])],
            ),
            Role::namespaced(
                "team-a",
                "own",
                vec![PolicyRule::resource(&[""], &["pods"], &["get"])],
            ),
        ],
        bindings: vec![
            Binding::cluster("admins", "cluster-admin", vec![Subject::group("admins")]),
            Binding::namespaced(
                "team-a",
                "a",
                RoleKind::ClusterRole,
                "cluster-admin",
                vec![Subject::group("ns-admins")],
            ),
            Binding::namespaced(
                "team-b",
                "b",
                RoleKind::ClusterRole,
                "cluster-admin",
                vec![Subject::group("ns-admins")],
            ),
            Binding::namespaced(
                "team-a",
                "own",
                RoleKind::Role,
                "own",
                vec![Subject::group("own")],
            ),
            Binding::cluster("tiny", "tiny", vec![Subject::group("tiny")]),
            Binding::cluster("mixed", "tiny", vec![Subject::group("mixed")]),
            Binding::namespaced(
                "team-a",
                "mixed",
                RoleKind::ClusterRole,
                "tiny",
                vec![Subject::group("mixed")],
            ),
        ],
        incomplete: vec![],
    }
}

fn groups(g: &[&str]) -> Vec<String> {
    g.iter().map(|s| (*s).to_string()).collect()
}

#[test]
fn groups_get_the_smallest_policy_that_loses_nothing() {
    let index = Index::new(&snap());
    let s = suggest(
        &index,
        &groups(&[
            "admins",
            "ns-admins",
            "own",
            "tiny",
            "mixed",
            "nobody",
            "system:masters",
        ]),
    );
    let found: Vec<(&str, &str, Vec<String>)> = s
        .suggestions
        .iter()
        .map(|x| (x.group.as_str(), x.policy.as_str(), x.namespaces.clone()))
        .collect();
    assert_eq!(
        found,
        vec![
            ("admins", "AmazonEKSClusterAdminPolicy", vec![]),
            (
                "ns-admins",
                "AmazonEKSClusterAdminPolicy",
                groups(&["team-a", "team-b"])
            ),
        ]
    );
    assert_eq!(s.unbound, groups(&["nobody"]));
    let kept: Vec<&str> = s.kept.iter().map(|(g, _)| g.as_str()).collect();
    assert_eq!(kept, vec!["mixed", "own", "tiny"]);
    assert_eq!(
        s.kept[1].1,
        "RoleBinding team-a/own → Role own: a namespace's own Role has no access policy"
    );
}

#[test]
fn the_map_reads_back_as_a_policy_map() {
    let index = Index::new(&snap());
    let s = suggest(&index, &groups(&["admins", "ns-admins", "nobody"]));
    let yaml = policy_map_yaml(&s);
    let map = policy_map::PolicyMap::parse(&yaml).expect("the suggested map parses");
    assert_eq!(map.groups.len(), 2);
    assert!(yaml.contains("# Bound to nothing (they grant nothing, before or after): nobody\n"));
    assert!(yaml.contains("        namespaces: [\"team-a\", \"team-b\"]\n"));
}
