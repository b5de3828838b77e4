use super::*;
use crate::core::rbac::model::{AggregationRule, Meta, Role};
use crate::core::rbac::parse::parse;

const EKS_DUMP: &str = include_str!("../../../tests/fixtures/rbac/eks-dump.yaml");
const TO: &str = "rbac.authorization.k8s.io/aggregate-to-";

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
        .collect()
}

fn cluster_role(name: &str, pairs: &[(&str, &str)], rules: Vec<PolicyRule>) -> Role {
    let mut role = Role::cluster_role(name, rules);
    role.metadata.labels = labels(pairs);
    role
}

fn aggregated(name: &str, pairs: &[(&str, &str)], selectors: Vec<LabelSelector>) -> Role {
    let mut role = cluster_role(name, pairs, vec![]);
    role.aggregation_rule = Some(AggregationRule {
        cluster_role_selectors: selectors,
    });
    role
}

fn match_labels(pairs: &[(&str, &str)]) -> LabelSelector {
    LabelSelector {
        match_labels: labels(pairs),
        ..LabelSelector::default()
    }
}

fn requirement(key: &str, operator: &str, values: &[&str]) -> LabelRequirement {
    LabelRequirement {
        key: key.into(),
        operator: operator.into(),
        values: values.iter().map(|v| (*v).to_string()).collect(),
    }
}

fn expression(key: &str, operator: &str, values: &[&str]) -> LabelSelector {
    LabelSelector {
        match_expressions: vec![requirement(key, operator, values)],
        ..LabelSelector::default()
    }
}

/// A rule telling where it came from: `get` on the resource `name`.
fn rule(name: &str) -> PolicyRule {
    PolicyRule::resource(&[""], &[name], &["get"])
}

fn rules(names: &[&str]) -> Vec<PolicyRule> {
    names.iter().map(|n| rule(n)).collect()
}

fn snapshot(roles: Vec<Role>) -> Snapshot {
    Snapshot {
        roles,
        ..Snapshot::default()
    }
}

fn rules_of<'a>(s: &'a Snapshot, name: &str) -> &'a [PolicyRule] {
    &s.roles
        .iter()
        .find(|r| r.kind == RoleKind::ClusterRole && r.metadata.name == name)
        .unwrap_or_else(|| panic!("no ClusterRole {name}"))
        .rules
}

fn names(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|n| (*n).to_string()).collect()
}

#[test]
fn match_labels_must_all_be_equal() {
    let mut s = snapshot(vec![
        aggregated("target", &[], vec![match_labels(&[("a", "x"), ("b", "y")])]),
        cluster_role("both", &[("a", "x"), ("b", "y")], rules(&["both"])),
        cluster_role("one", &[("a", "x")], rules(&["one"])),
        cluster_role(
            "other-value",
            &[("a", "x"), ("b", "z")],
            rules(&["other-value"]),
        ),
        cluster_role(
            "more",
            &[("a", "x"), ("b", "y"), ("c", "w")],
            rules(&["more"]),
        ),
        cluster_role(
            "empty-value",
            &[("a", ""), ("b", "y")],
            rules(&["empty-value"]),
        ),
    ]);
    assert_eq!(aggregate(&mut s), names(&["target"]));
    assert_eq!(rules_of(&s, "target"), rules(&["both", "more"]));
    assert!(s.incomplete.is_empty());
}

#[test]
fn each_operator_matches_as_kubernetes_label_selectors_do() {
    let none = labels(&[]);
    let x = labels(&[("k", "x")]);
    let z = labels(&[("k", "z")]);
    let empty = labels(&[("k", "")]);
    let cases: &[(LabelSelector, &BTreeMap<String, String>, bool)] = &[
        (expression("k", "In", &["x", "y"]), &x, true),
        (expression("k", "In", &["x", "y"]), &z, false),
        (expression("k", "In", &["x", "y"]), &none, false),
        (expression("k", "In", &[""]), &empty, true),
        (expression("k", "NotIn", &["x"]), &x, false),
        (expression("k", "NotIn", &["x"]), &z, true),
        // NotIn holds when the label is absent.
        (expression("k", "NotIn", &["x"]), &none, true),
        (expression("k", "Exists", &[]), &empty, true),
        (expression("k", "Exists", &[]), &none, false),
        (expression("k", "DoesNotExist", &[]), &x, false),
        (expression("k", "DoesNotExist", &[]), &none, true),
        // An empty selector matches everything.
        (LabelSelector::default(), &none, true),
        (LabelSelector::default(), &x, true),
        // Not valid, and never matched.
        (expression("k", "Equals", &["x"]), &x, false),
    ];
    for (selector, labels, expected) in cases {
        assert_eq!(
            selector_matches(selector, labels),
            *expected,
            "{selector:?} on {labels:?}"
        );
    }
    // matchLabels and every expression must hold.
    let mut and = match_labels(&[("k", "x")]);
    and.match_expressions = vec![
        requirement("team", "Exists", &[]),
        requirement("tier", "NotIn", &["prod"]),
    ];
    assert!(selector_matches(
        &and,
        &labels(&[("k", "x"), ("team", "a")])
    ));
    assert!(!selector_matches(
        &and,
        &labels(&[("k", "x"), ("team", "a"), ("tier", "prod")])
    ));
    assert!(!selector_matches(&and, &labels(&[("k", "x")])));
    assert!(!selector_matches(
        &and,
        &labels(&[("k", "z"), ("team", "a")])
    ));
}

#[test]
fn operators_select_through_aggregate() {
    let mut s = snapshot(vec![
        aggregated(
            "in",
            &[],
            vec![expression("tier", "In", &["gold", "silver"])],
        ),
        aggregated("not-in", &[], vec![expression("tier", "NotIn", &["gold"])]),
        aggregated("exists", &[], vec![expression("tier", "Exists", &[])]),
        aggregated("absent", &[], vec![expression("tier", "DoesNotExist", &[])]),
        cluster_role("gold", &[("tier", "gold")], rules(&["gold"])),
        cluster_role("silver", &[("tier", "silver")], rules(&["silver"])),
        cluster_role("bronze", &[("tier", "bronze")], rules(&["bronze"])),
        cluster_role("plain", &[], rules(&["plain"])),
    ]);
    aggregate(&mut s);
    assert_eq!(rules_of(&s, "in"), rules(&["gold", "silver"]));
    // The aggregated roles have no tier label, so NotIn and DoesNotExist
    // select them too (and one another: they settle on the same rules).
    assert_eq!(
        rules_of(&s, "not-in"),
        rules(&["bronze", "gold", "silver", "plain"])
    );
    assert_eq!(rules_of(&s, "exists"), rules(&["bronze", "gold", "silver"]));
    assert_eq!(
        rules_of(&s, "absent"),
        rules(&["bronze", "gold", "silver", "plain"])
    );
    assert!(s.incomplete.is_empty());
}

#[test]
fn selectors_are_taken_in_order_then_roles_by_name_each_rule_once() {
    let mut s = snapshot(vec![
        aggregated(
            "target",
            &[],
            vec![match_labels(&[("s", "2")]), match_labels(&[("s", "1")])],
        ),
        cluster_role("c", &[("s", "1")], rules(&["c", "shared"])),
        cluster_role("a", &[("s", "1")], rules(&["a"])),
        cluster_role("b", &[("s", "2")], rules(&["shared", "b"])),
    ]);
    aggregate(&mut s);
    assert_eq!(rules_of(&s, "target"), rules(&["shared", "b", "a", "c"]));
}

/// The bootstrap roles as manifests (no rules in the aggregated ones),
/// listed so that one pass is not enough: admin before edit before view.
fn bootstrap() -> Vec<Role> {
    vec![
        aggregated(
            "admin",
            &[],
            vec![match_labels(&[(&format!("{TO}admin"), "true")])],
        ),
        aggregated(
            "edit",
            &[(&format!("{TO}admin"), "true")],
            vec![match_labels(&[(&format!("{TO}edit"), "true")])],
        ),
        aggregated(
            "view",
            &[(&format!("{TO}edit"), "true")],
            vec![match_labels(&[(&format!("{TO}view"), "true")])],
        ),
        cluster_role(
            "system:aggregate-to-admin",
            &[(&format!("{TO}admin"), "true")],
            rules(&["roles"]),
        ),
        cluster_role(
            "system:aggregate-to-edit",
            &[(&format!("{TO}edit"), "true")],
            rules(&["secrets"]),
        ),
        cluster_role(
            "system:aggregate-to-view",
            &[(&format!("{TO}view"), "true")],
            rules(&["pods", "services"]),
        ),
        cluster_role(
            "system:aggregated-metrics-reader",
            &[
                (&format!("{TO}admin"), "true"),
                (&format!("{TO}edit"), "true"),
                (&format!("{TO}view"), "true"),
            ],
            rules(&["metrics"]),
        ),
        cluster_role("cluster-admin", &[], rules(&["*"])),
    ]
}

#[test]
fn aggregated_roles_feed_one_another_view_edit_admin() {
    let mut s = snapshot(bootstrap());
    assert_eq!(aggregate(&mut s), names(&["admin", "edit", "view"]));
    assert_eq!(
        rules_of(&s, "view"),
        rules(&["pods", "services", "metrics"])
    );
    assert_eq!(
        rules_of(&s, "edit"),
        rules(&["secrets", "metrics", "pods", "services"])
    );
    assert_eq!(
        rules_of(&s, "admin"),
        rules(&["secrets", "metrics", "pods", "services", "roles"])
    );
    assert_eq!(rules_of(&s, "cluster-admin"), rules(&["*"]));
    assert!(s.incomplete.is_empty());
    // Settled: once more changes nothing.
    let again = s.clone();
    aggregate(&mut s);
    assert_eq!(s, again);
}

#[test]
fn a_complete_live_dump_is_left_as_the_controller_filled_it() {
    let live = parse(EKS_DUMP.as_bytes()).unwrap().snapshot;
    let mut s = live.clone();
    assert_eq!(
        aggregate(&mut s),
        names(&["admin", "edit", "platform-readonly", "view"])
    );
    assert_eq!(s, live);
    // The same objects as manifests (aggregated rules empty) give them back.
    let mut manifests = live.clone();
    for role in &mut manifests.roles {
        if role.is_aggregated() {
            role.rules.clear();
        }
    }
    aggregate(&mut manifests);
    assert_eq!(manifests, live);
}

#[test]
fn rules_shown_are_kept_when_the_sources_are_missing() {
    let live = parse(EKS_DUMP.as_bytes()).unwrap().snapshot;
    let mut partial = live.clone();
    partial
        .roles
        .retain(|r| !r.metadata.name.starts_with("system:aggregate"));
    let expected = partial.clone();
    aggregate(&mut partial);
    assert_eq!(partial, expected);

    // A new source is added after what is shown, and flows up the chain.
    let backups = cluster_role(
        "backups-viewer",
        &[(&format!("{TO}view"), "true")],
        rules(&["backups"]),
    );
    partial.roles.push(backups);
    aggregate(&mut partial);
    for name in ["view", "edit", "admin"] {
        let mut shown = rules_of(&expected, name).to_vec();
        shown.push(rule("backups"));
        assert_eq!(rules_of(&partial, name), shown, "{name}");
    }
    assert_eq!(
        rules_of(&partial, "platform-readonly"),
        rules_of(&live, "platform-readonly")
    );
}

#[test]
fn a_manifest_with_rules_of_its_own_keeps_them_first() {
    let mut target = aggregated("target", &[], vec![match_labels(&[("a", "b")])]);
    target.rules = rules(&["stale", "source"]);
    let mut s = snapshot(vec![
        target,
        cluster_role("src", &[("a", "b")], rules(&["source", "new"])),
    ]);
    aggregate(&mut s);
    assert_eq!(rules_of(&s, "target"), rules(&["stale", "source", "new"]));
}

#[test]
fn a_role_never_aggregates_itself_nor_namespaced_roles() {
    let mut target = aggregated("target", &[("a", "b")], vec![match_labels(&[("a", "b")])]);
    target.rules = rules(&["own"]);
    let mut namespaced = Role::namespaced("ns", "local", rules(&["local"]));
    namespaced.metadata.labels = labels(&[("a", "b")]);
    let mut s = snapshot(vec![
        target,
        namespaced,
        cluster_role("src", &[("a", "b")], rules(&["src"])),
    ]);
    aggregate(&mut s);
    assert_eq!(rules_of(&s, "target"), rules(&["own", "src"]));
}

#[test]
fn a_role_with_a_selector_that_is_not_valid_is_left_alone() {
    let mut bad = aggregated(
        "bad",
        &[],
        vec![match_labels(&[("a", "b")]), expression("a", "In", &[])],
    );
    bad.rules = rules(&["shown"]);
    let mut s = snapshot(vec![
        bad,
        cluster_role("src", &[("a", "b")], rules(&["src"])),
    ]);
    assert_eq!(aggregate(&mut s), names(&["bad"]));
    assert_eq!(rules_of(&s, "bad"), rules(&["shown"]));
    assert!(s.incomplete.is_empty());
    let problems = [
        (
            expression("a", "In", &[]),
            "matchExpressions[0]: operator In needs at least one value",
        ),
        (
            expression("a", "Exists", &["x"]),
            "matchExpressions[0]: operator Exists takes no values",
        ),
        (
            expression("", "Exists", &[]),
            "matchExpressions[0]: key is empty",
        ),
        (
            expression("a", "in", &["x"]),
            "matchExpressions[0]: operator `in` is not In, NotIn, Exists or DoesNotExist",
        ),
        (match_labels(&[("", "x")]), "matchLabels: a key is empty"),
    ];
    for (selector, problem) in problems {
        assert_eq!(selector_problem(&selector).as_deref(), Some(problem));
    }
    assert_eq!(selector_problem(&LabelSelector::default()), None);
}

#[test]
fn roles_that_select_each_other_settle_on_the_union() {
    let mut s = snapshot(vec![
        aggregated("a", &[("x", "b")], vec![match_labels(&[("x", "a")])]),
        aggregated("b", &[("x", "a")], vec![match_labels(&[("x", "b")])]),
        cluster_role("for-a", &[("x", "a")], rules(&["one"])),
        cluster_role("for-b", &[("x", "b")], rules(&["two"])),
    ]);
    aggregate(&mut s);
    let sorted = |name| {
        let mut r = rules_of(&s, name).to_vec();
        r.sort();
        r
    };
    assert_eq!(sorted("a"), rules(&["one", "two"]));
    assert_eq!(sorted("b"), rules(&["one", "two"]));
    assert!(s.incomplete.is_empty());
}

#[test]
fn the_work_is_bounded_and_an_unfinished_aggregation_marks_the_snapshot() {
    // Every one of 1,500 aggregated roles selects every ClusterRole.
    let roles: Vec<Role> = (0..1500)
        .map(|i| {
            let mut r = aggregated(&format!("r{i:04}"), &[], vec![LabelSelector::default()]);
            r.rules = rules(&[&format!("own{i}")]);
            r
        })
        .collect();
    let mut s = snapshot(roles.clone());
    assert_eq!(aggregate(&mut s).len(), 1500);
    assert_eq!(
        s.incomplete,
        vec![format!(
            "aggregated ClusterRoles: more than {MAX_AGGREGATION_STEPS} steps to aggregate 1500 \
             roles; their rules are those shown plus what was aggregated before stopping"
        )]
    );
    // Nothing shown was dropped.
    for (before, after) in roles.iter().zip(&s.roles) {
        assert!(before.rules.iter().all(|r| after.rules.contains(r)));
    }
    // A hundred of them settle within the bound.
    let mut small = snapshot(roles[..100].to_vec());
    aggregate(&mut small);
    assert!(small.incomplete.is_empty());
    assert_eq!(small.roles[0].rules.len(), 100);
}

#[test]
fn names_are_those_of_aggregated_cluster_roles_only() {
    let mut empty_selectors = cluster_role("no-selectors", &[], rules(&["x"]));
    empty_selectors.aggregation_rule = Some(AggregationRule::default());
    let mut s = snapshot(vec![
        empty_selectors,
        Role {
            kind: RoleKind::Role,
            metadata: Meta {
                name: "ns-role".into(),
                namespace: Some("n".into()),
                ..Meta::default()
            },
            rules: vec![],
            aggregation_rule: Some(AggregationRule {
                cluster_role_selectors: vec![LabelSelector::default()],
            }),
        },
    ]);
    let before = s.clone();
    assert!(aggregate(&mut s).is_empty());
    assert_eq!(s, before);
}
