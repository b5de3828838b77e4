use super::*;
use crate::core::rbac::model::{LabelRequirement, LabelSelector};

/// `kubectl get clusterroles,clusterrolebindings,roles,rolebindings -A -o yaml`
/// of a small EKS cluster (trimmed bootstrap rules; see tests/fixtures/README.md).
const EKS_DUMP: &str = include_str!("../../../tests/fixtures/rbac/eks-dump.yaml");
/// `helm template` of a chart's RBAC, with a ServiceAccount and a Deployment.
const HELM: &str = include_str!("../../../tests/fixtures/rbac/helm-template.yaml");

fn ok(input: &str) -> Parsed {
    match parse(input.as_bytes()) {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    }
}

fn err(input: &str) -> String {
    parse(input.as_bytes()).unwrap_err().to_string()
}

fn role<'a>(p: &'a Parsed, kind: RoleKind, name: &str) -> &'a Role {
    p.snapshot
        .roles
        .iter()
        .find(|r| r.kind == kind && r.metadata.name == name)
        .unwrap_or_else(|| panic!("no {kind:?} {name}"))
}

fn binding<'a>(p: &'a Parsed, kind: BindingKind, name: &str) -> &'a Binding {
    p.snapshot
        .bindings
        .iter()
        .find(|b| b.kind == kind && b.metadata.name == name)
        .unwrap_or_else(|| panic!("no {kind:?} {name}"))
}

fn labels(pairs: &[(&str, &str)]) -> std::collections::BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
        .collect()
}

const AGGREGATE_TO: &str = "rbac.authorization.k8s.io/aggregate-to-";

#[test]
fn a_kubectl_dump_gives_every_role_and_binding() {
    let p = ok(EKS_DUMP);
    assert!(p.skipped.is_empty());
    assert!(p.snapshot.incomplete.is_empty());
    let count_roles = |k| p.snapshot.roles.iter().filter(|r| r.kind == k).count();
    let count_bindings = |k| p.snapshot.bindings.iter().filter(|b| b.kind == k).count();
    assert_eq!(count_roles(RoleKind::ClusterRole), 14);
    assert_eq!(count_roles(RoleKind::Role), 2);
    assert_eq!(count_bindings(BindingKind::ClusterRoleBinding), 7);
    assert_eq!(count_bindings(BindingKind::RoleBinding), 4);
    // In the dump's order.
    assert_eq!(p.snapshot.roles[0].metadata.name, "admin");
    assert_eq!(p.snapshot.bindings[10].metadata.name, "team-a-view");

    let admin = role(&p, RoleKind::ClusterRole, "admin");
    assert_eq!(admin.metadata.namespace, None);
    assert_eq!(
        admin.metadata.labels,
        labels(&[("kubernetes.io/bootstrapping", "rbac-defaults")])
    );
    assert_eq!(admin.rules.len(), 11);
    assert_eq!(
        admin.rules[0],
        PolicyRule::resource(
            &[""],
            &["pods/attach", "pods/exec", "pods/portforward", "secrets"],
            &["get", "list", "watch"]
        )
    );
    let selectors = &admin
        .aggregation_rule
        .as_ref()
        .unwrap()
        .cluster_role_selectors;
    assert_eq!(selectors.len(), 1);
    assert_eq!(
        selectors[0].match_labels,
        labels(&[(&format!("{AGGREGATE_TO}admin"), "true")])
    );
    let edit = role(&p, RoleKind::ClusterRole, "edit");
    assert_eq!(
        edit.metadata.labels[&format!("{AGGREGATE_TO}admin")],
        "true"
    );
    assert_eq!(
        role(&p, RoleKind::ClusterRole, "platform-readonly")
            .aggregation_rule
            .as_ref()
            .unwrap()
            .cluster_role_selectors,
        vec![LabelSelector {
            match_expressions: vec![LabelRequirement {
                key: "rbac.example.com/aggregate-to-readonly".into(),
                operator: "Exists".into(),
                values: vec![],
            }],
            ..LabelSelector::default()
        }]
    );
    assert_eq!(
        role(&p, RoleKind::ClusterRole, "cluster-admin").rules,
        vec![
            PolicyRule::resource(&["*"], &["*"], &["*"]),
            PolicyRule::urls(&["*"], &["*"]),
        ]
    );
    assert!(role(&p, RoleKind::ClusterRole, "aws-node")
        .aggregation_rule
        .is_none());

    let authenticator = role(&p, RoleKind::Role, "eks:authenticator");
    assert_eq!(
        authenticator.metadata.namespace.as_deref(),
        Some("kube-system")
    );
    assert_eq!(
        authenticator.rules,
        vec![
            PolicyRule::resource(&[""], &["configmaps"], &["get", "list", "watch"]),
            PolicyRule::resource(&[""], &["configmaps"], &["update"]).named(&["aws-auth"]),
        ]
    );

    assert_eq!(
        *binding(&p, BindingKind::RoleBinding, "team-a-view"),
        Binding::namespaced(
            "team-a",
            "team-a-view",
            RoleKind::ClusterRole,
            "view",
            vec![
                Subject::group("team-a-auditors"),
                Subject::user("arn:aws:iam::111122223333:role/Auditor"),
            ]
        )
    );
    let deployer = binding(&p, BindingKind::RoleBinding, "deployer");
    assert_eq!(deployer.role_ref.kind, RoleKind::Role);
    assert_eq!(
        deployer.subjects,
        vec![Subject {
            kind: "ServiceAccount".into(),
            name: "deployer".into(),
            namespace: Some("ci".into()),
        }]
    );
    let masters = binding(&p, BindingKind::ClusterRoleBinding, "cluster-admin");
    assert_eq!(
        masters.role_ref,
        Binding::cluster("x", "cluster-admin", vec![]).role_ref
    );
    assert_eq!(masters.subjects, vec![Subject::group("system:masters")]);
    assert_eq!(masters.metadata.namespace, None);
}

#[test]
fn json_reads_as_the_same_objects() {
    // `-o json` of the same dump (written here from the YAML, keys as kubectl's).
    let value: serde_json::Value = serde_yaml::from_str(EKS_DUMP).unwrap();
    let json = serde_json::to_string_pretty(&value).unwrap();
    assert_eq!(ok(&json), ok(EKS_DUMP));
    // On one line, and as the YAML parser would read it.
    let compact = serde_json::to_string(&value).unwrap();
    assert_eq!(ok(&compact), ok(EKS_DUMP));
    let mut walk = Walk::default();
    yaml_documents(json.as_bytes(), &mut walk).unwrap();
    assert_eq!(walk.parsed, ok(EKS_DUMP));
}

#[test]
fn json_streams_and_escapes_outside_the_bmp_are_read() {
    // `kubectl get rolebindings -A -o json | jq -c '.items[]'`, with an emoji
    // escaped as JSON writers do (a YAML parser refuses the surrogates).
    let stream = concat!(
        r#"{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding","#,
        r#""metadata":{"annotations":{"note":"\ud83d\ude80 ship it"},"name":"a","namespace":"n"},"#,
        r#""roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"edit"},"#,
        r#""subjects":[{"apiGroup":"rbac.authorization.k8s.io","kind":"Group","name":"devs"}]}"#,
        "\n",
        r#"{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding","#,
        r#""metadata":{"name":"b","namespace":"n"},"#,
        r#""roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"view"}}"#,
        "\n"
    );
    let p = ok(stream);
    assert_eq!(
        p.snapshot.bindings,
        vec![
            Binding::namespaced(
                "n",
                "a",
                RoleKind::ClusterRole,
                "edit",
                vec![Subject::group("devs")]
            ),
            Binding::namespaced("n", "b", RoleKind::ClusterRole, "view", vec![]),
        ]
    );
    // A JSON error names the value it is in, as documents are.
    assert_eq!(
        err(&format!(
            "{stream}{{\"kind\": \"List\", \"items\": [{{}}]}}"
        )),
        "document 3, items[0]: kind is missing"
    );
}

#[test]
fn a_typed_list_gives_its_items_their_kind_and_api_version() {
    // `kubectl get --raw /apis/rbac.authorization.k8s.io/v1/clusterroles`:
    // the API server's list leaves them out of the items.
    let raw = r#"{"kind":"ClusterRoleList","apiVersion":"rbac.authorization.k8s.io/v1",
        "metadata":{"resourceVersion":"9001"},
        "items":[{"metadata":{"name":"reader"},"rules":[{"verbs":["get"],"apiGroups":[""],"resources":["pods"]}]},
                 {"metadata":{"name":"agg"},"aggregationRule":{"clusterRoleSelectors":[{"matchLabels":{"a":"b"}}]},"rules":null}]}"#;
    let p = ok(raw);
    assert_eq!(
        p.snapshot.roles[0],
        Role::cluster_role(
            "reader",
            vec![PolicyRule::resource(&[""], &["pods"], &["get"])]
        )
    );
    assert!(p.snapshot.roles[1].is_aggregated());
    assert!(p.snapshot.roles[1].rules.is_empty());
    // A List's items must say their kind.
    assert_eq!(
        err(r#"{"kind":"List","apiVersion":"v1","items":[{"metadata":{"name":"reader"}}]}"#),
        "document 1, items[0]: kind is missing"
    );
    // A typed list's item may still say it (a wrong apiVersion is refused).
    assert_eq!(
        err("kind: RoleBindingList\napiVersion: rbac.authorization.k8s.io/v1\nitems:\n\
             - metadata: {name: x, namespace: n}\n  roleRef: {kind: Role, name: r}\n\
             - apiVersion: v1\n  metadata: {name: y, namespace: n}\n  roleRef: {kind: Role, name: r}\n"),
        "document 1, items[1] (RoleBinding n/y): apiVersion is v1, not rbac.authorization.k8s.io/v1"
    );
}

#[test]
fn a_helm_template_is_read_document_by_document() {
    let p = ok(HELM);
    assert_eq!(
        p.skipped,
        vec![
            "document 1 (ServiceAccount widgets/widgets-controller)",
            "document 10 (Deployment widgets/widgets-controller)",
        ]
    );
    let names: Vec<_> = p
        .snapshot
        .roles
        .iter()
        .map(|r| r.metadata.name.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "widgets-viewer",
            "widgets-editor",
            "widgets-admin",
            "widgets-controller",
            "widgets-leader-election"
        ]
    );
    assert_eq!(p.snapshot.bindings.len(), 2);
    let admin = role(&p, RoleKind::ClusterRole, "widgets-admin");
    assert!(admin.is_aggregated());
    assert!(admin.rules.is_empty());
    assert_eq!(
        role(&p, RoleKind::Role, "widgets-leader-election").rules[1],
        PolicyRule::resource(&["coordination.k8s.io"], &["leases"], &["delete"])
            .named(&["widgets-controller"])
    );
    // A ServiceAccount without a namespace in a RoleBinding is the binding's.
    let rb = binding(&p, BindingKind::RoleBinding, "widgets-leader-election");
    assert_eq!(rb.subjects[0].namespace, None);
    assert_eq!(rb.metadata.namespace.as_deref(), Some("widgets"));
}

#[test]
fn a_single_object_and_lists_inside_documents() {
    let one = "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\n\
               metadata:\n  name: reader\nrules:\n- apiGroups: ['']\n  resources: [pods]\n  verbs: [get]\n";
    assert_eq!(
        ok(one).snapshot.roles,
        vec![Role::cluster_role(
            "reader",
            vec![PolicyRule::resource(&[""], &["pods"], &["get"])]
        )]
    );
    // Two dumps concatenated, one of them a List holding a typed list.
    let nested = format!(
        "{one}---\napiVersion: v1\nkind: List\nitems:\n\
         - apiVersion: rbac.authorization.k8s.io/v1\n  kind: RoleList\n  items:\n\
         \x20 - metadata: {{name: r, namespace: n}}\n\
         - apiVersion: v1\n  kind: ConfigMap\n  metadata: {{name: aws-auth, namespace: kube-system}}\n"
    );
    let p = ok(&nested);
    assert_eq!(p.snapshot.roles.len(), 2);
    assert_eq!(p.snapshot.roles[1], Role::namespaced("n", "r", vec![]));
    assert_eq!(
        p.skipped,
        vec!["document 2, items[1] (ConfigMap kube-system/aws-auth)"]
    );
    // An item of a nested list is named by its path.
    assert_eq!(
        err("kind: List\nitems:\n- kind: List\n  items:\n  - kind: RoleList\n    items: [{metadata: {name: x}}]\n"),
        "document 1, items[0].items[0].items[0] (Role x): apiVersion is missing (expected rbac.authorization.k8s.io/v1)"
    );
}

#[test]
fn empty_inputs_and_empty_documents_hold_nothing() {
    for input in [
        "",
        "\n",
        "# only a comment\n",
        "---",
        "---\n---\n",
        "--- # c\n...\n",
        "null\n",
    ] {
        assert_eq!(ok(input), Parsed::default(), "{input:?}");
    }
    let with_empty = "---\n---\nkind: ClusterRole\napiVersion: rbac.authorization.k8s.io/v1\n\
                      metadata: {name: a}\n---\n";
    assert_eq!(ok(with_empty).snapshot.roles.len(), 1);
    assert_eq!(
        ok("kind: List\napiVersion: v1\nitems: []\n"),
        Parsed::default()
    );
    assert_eq!(
        ok("kind: List\napiVersion: v1\nitems: null\n"),
        Parsed::default()
    );
}

#[test]
fn syntax_errors_give_the_document_and_line() {
    assert_eq!(
        err("kind: List\nitems:\n- kind: Role\n  metadata: {name: x\n  rules: []\n"),
        "document 1, line 5, column 8: not valid YAML: did not find expected ',' or '}', \
         while parsing a flow mapping at line 4 column 13"
    );
    assert_eq!(
        err("kind: List\n---\nkind: List\n\titems: []\n"),
        "document 2, line 4, column 1: not valid YAML: found a tab character that violates \
         indentation, while scanning a plain scalar at line 3 column 7"
    );
    assert_eq!(
        err("kind: List\nmetadata: {a: 1, a: 2}\n"),
        "document 1, line 2, column 11: not valid YAML: metadata: duplicate key a"
    );
    assert_eq!(
        err("kind: !custom List\n"),
        "document 1, line 1, column 7: not valid YAML: kind: YAML tags are not read (!custom)"
    );
    assert_eq!(
        parse(b"kind: \xff List\n").unwrap_err().to_string(),
        "document 1, line 1, column 1: not valid YAML: invalid leading UTF-8 octet at position 6"
    );
    assert_eq!(
        err(&"[".repeat(200)),
        "document 1, line 1, column 129: not valid YAML: recursion limit exceeded"
    );
    assert!(matches!(
        parse(b"a: [\n"),
        Err(RbacInputError::Syntax {
            document: 1,
            location: Some((2, 1)),
            ..
        })
    ));
}

#[test]
fn documents_that_are_not_objects_are_refused() {
    assert_eq!(
        err("hello\n"),
        "document 1: a string is not a Kubernetes object (a mapping with apiVersion and kind)"
    );
    assert_eq!(
        err("---\nkind: List\n---\n42\n"),
        "document 2: a number is not a Kubernetes object (a mapping with apiVersion and kind)"
    );
    assert_eq!(
        err("- kind: Role\n"),
        "document 1: a list is not a Kubernetes object (a mapping with apiVersion and kind)"
    );
    assert_eq!(
        err("kind: List\nitems:\n- true\n"),
        "document 1, items[0]: a boolean is not a Kubernetes object (a mapping with apiVersion and kind)"
    );
    assert_eq!(err("metadata: {name: x}\n"), "document 1: kind is missing");
    assert_eq!(
        err("kind: [Role]\n"),
        "document 1: kind is a list, not a string"
    );
    assert_eq!(
        err("kind: List\nitems: {}\n"),
        "document 1: items is a mapping, not a list"
    );
}

const RB: &str = "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\n";

#[test]
fn rbac_objects_that_are_not_valid_are_refused_with_the_field() {
    let dump = "apiVersion: v1\nkind: List\nitems:\n\
         - apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: c, namespace: team-a}\n\
         - apiVersion: rbac.authorization.k8s.io/v1\n  kind: RoleBinding\n  metadata: {name: x, namespace: team-a}\n\
         \x20 subjects: [{kind: Group, name: g}]\n";
    assert_eq!(
        err(dump),
        "document 1, items[1] (RoleBinding team-a/x): roleRef is missing"
    );
    let cases: &[(&str, &str)] = &[
        (
            "apiVersion: v1\nkind: ClusterRole\nmetadata: {name: r}\n",
            "document 1 (ClusterRole r): apiVersion is v1, not rbac.authorization.k8s.io/v1",
        ),
        (
            "kind: ClusterRole\nmetadata: {name: r}\n",
            "document 1 (ClusterRole r): apiVersion is missing (expected rbac.authorization.k8s.io/v1)",
        ),
        (
            "apiVersion: 1\nkind: ClusterRole\nmetadata: {name: r}\n",
            "document 1: apiVersion is a number, not a string",
        ),
        (
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\n",
            "document 1 (ClusterRole without a name): metadata is missing",
        ),
        (
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {namespace: x}\n",
            "document 1 (ClusterRole without a name): metadata.name is missing",
        ),
        (
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: [r]}\n",
            "document 1 (ClusterRole without a name): metadata.name: invalid type: sequence, expected a string",
        ),
        (
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: r}\n",
            "document 1 (Role r): metadata.namespace is missing (kubectl shows it; a manifest applied \
             with `-n` or a Helm chart's must say it)",
        ),
        (
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: r, labels: {v: 1}}\n",
            "document 1 (ClusterRole r): metadata.labels: invalid type: integer `1`, expected a string",
        ),
        (
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: r}\n\
             rules:\n- verbs: [get]\n- verbs: get\n",
            "document 1 (ClusterRole r): rules[1]: invalid type: string \"get\", expected a sequence",
        ),
        (
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: r}\nrules: {}\n",
            "document 1 (ClusterRole r): rules is a mapping, not a list",
        ),
        (
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: r}\n\
             aggregationRule:\n  clusterRoleSelectors:\n  - matchLabels: {a: b}\n\
             \x20 - matchExpressions: [{key: a, operator: In, values: [x]}, {key: b, operator: Equals}]\n",
            "document 1 (ClusterRole r): aggregationRule.clusterRoleSelectors[1].matchExpressions[1]: \
             operator `Equals` is not In, NotIn, Exists or DoesNotExist",
        ),
        (
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: r}\n\
             aggregationRule: {clusterRoleSelectors: [{matchExpressions: [{key: a, operator: NotIn}]}]}\n",
            "document 1 (ClusterRole r): aggregationRule.clusterRoleSelectors[0].matchExpressions[0]: \
             operator NotIn needs at least one value",
        ),
        (
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: r}\n\
             aggregationRule: {}\n",
            "document 1 (ClusterRole r): aggregationRule.clusterRoleSelectors: at least one selector \
             is required",
        ),
        (
            &format!("{RB}metadata: {{name: x, namespace: n}}\nroleRef: {{kind: Role}}\n"),
            "document 1 (RoleBinding n/x): roleRef: missing field `name`",
        ),
        (
            &format!("{RB}metadata: {{name: x, namespace: n}}\nroleRef: {{kind: Group, name: g}}\n"),
            "document 1 (RoleBinding n/x): roleRef: unknown variant `Group`, expected `Role` or `ClusterRole`",
        ),
        (
            &format!("{RB}metadata: {{name: x, namespace: n}}\nroleRef: {{kind: Role, name: ''}}\n"),
            "document 1 (RoleBinding n/x): roleRef.name is empty",
        ),
        (
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: x}\n\
             roleRef: {kind: Role, name: r}\n",
            "document 1 (ClusterRoleBinding x): roleRef names Role r: a ClusterRoleBinding can only \
             refer to a ClusterRole",
        ),
        (
            &format!(
                "{RB}metadata: {{name: x, namespace: n}}\nroleRef: {{kind: Role, name: r}}\n\
                 subjects: [{{kind: User, name: a}}, {{kind: User}}]\n"
            ),
            "document 1 (RoleBinding n/x): subjects[1]: missing field `name`",
        ),
    ];
    for (input, expected) in cases {
        assert_eq!(err(input), *expected, "{input}");
    }
}

#[test]
fn the_same_object_twice_is_refused() {
    let role =
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: r, namespace: n}\n";
    assert_eq!(
        err(&format!(
            "{role}---\nkind: List\nitems:\n- {}",
            role.replace('\n', "\n  ")
        )),
        "document 2, items[0] (Role n/r): defined twice (first at document 1 (Role n/r))"
    );
    // The same name in another namespace, or of another kind, is another object.
    let other = role.replace("namespace: n", "namespace: m");
    let cluster = role.replace("kind: Role", "kind: ClusterRole");
    assert_eq!(
        ok(&format!("{role}---\n{other}---\n{cluster}"))
            .snapshot
            .roles
            .len(),
        3
    );
}

#[test]
fn nulls_are_fields_left_out_and_the_api_server_drops_what_it_would() {
    let input = "apiVersion: rbac.authorization.k8s.io/v1beta1\nkind: List\nitems:\n\
        - apiVersion: rbac.authorization.k8s.io/v1beta1\n  kind: ClusterRole\n\
        \x20 metadata: {name: a, namespace: stray, labels: null, annotations: null}\n  rules: null\n\
        \x20 aggregationRule: null\n\
        - apiVersion: rbac.authorization.k8s.io/v1alpha1\n  kind: Role\n  metadata: {name: r, namespace: n}\n\
        \x20 rules: [{apiGroups: null, resources: [pods], verbs: [get], resourceNames: null}]\n\
        \x20 aggregationRule: {clusterRoleSelectors: [{}]}\n\
        - apiVersion: rbac.authorization.k8s.io/v1\n  kind: RoleBinding\n  metadata: {name: b, namespace: n}\n\
        \x20 roleRef: {apiGroup: null, kind: Role, name: r}\n  subjects: null\n\
        - apiVersion: rbac.authorization.k8s.io/v1\n  kind: ClusterRoleBinding\n  metadata: {name: c, namespace: ''}\n\
        \x20 roleRef: {kind: ClusterRole, name: a}\n  subjects: [{kind: ServiceAccount, name: s, namespace: ''}]\n";
    let p = ok(input);
    assert_eq!(p.snapshot.roles[0], Role::cluster_role("a", vec![]));
    assert_eq!(
        p.snapshot.roles[1],
        Role::namespaced(
            "n",
            "r",
            vec![PolicyRule::resource(&[], &["pods"], &["get"])]
        )
    );
    let mut b = Binding::namespaced("n", "b", RoleKind::Role, "r", vec![]);
    b.role_ref.api_group = String::new();
    assert_eq!(p.snapshot.bindings[0], b);
    assert_eq!(p.snapshot.bindings[1].metadata.namespace, None);
    assert_eq!(p.snapshot.bindings[1].subjects[0].namespace, None);
}

#[test]
fn merge_keys_and_aliases_are_read() {
    let input =
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: r}\n\
        rules:\n- &read {apiGroups: [''], resources: [pods], verbs: [get, list]}\n\
        - <<: *read\n  resources: [services]\n";
    assert_eq!(
        ok(input).snapshot.roles[0].rules,
        vec![
            PolicyRule::resource(&[""], &["pods"], &["get", "list"]),
            PolicyRule::resource(&[""], &["services"], &["get", "list"]),
        ]
    );
}

#[test]
fn utf16_and_a_byte_order_mark_are_read() {
    let text = "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: r}\n";
    let expected = ok(text);
    let mut le = vec![0xFF, 0xFE];
    let mut be = vec![0xFE, 0xFF];
    for unit in text.encode_utf16() {
        le.extend_from_slice(&unit.to_le_bytes());
        be.extend_from_slice(&unit.to_be_bytes());
    }
    assert_eq!(parse(&le).unwrap(), expected);
    assert_eq!(parse(&be).unwrap(), expected);
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(text.as_bytes());
    assert_eq!(parse(&bom).unwrap(), expected);
    let json = format!("\u{feff}{}", r#"{"kind": "List", "items": []}"#);
    assert_eq!(ok(&json), Parsed::default());
    le.push(b'x');
    assert_eq!(
        parse(&le).unwrap_err().to_string(),
        "document 1: not valid YAML: the input starts with a UTF-16 byte order mark but is not UTF-16"
    );
}

#[test]
fn aliases_cannot_expand_a_small_text_into_a_large_one() {
    // Nested: serde_yaml's own bound.
    let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    for (name, prev) in ["b", "c", "d", "e", "f", "g", "h"]
        .iter()
        .zip(["a", "b", "c", "d", "e", "f", "g"])
    {
        bomb.push_str(&format!(
            "{name}: &{name} [{}]\n",
            vec![format!("*{prev}"); 10].join(", ")
        ));
    }
    assert_eq!(
        parse(bomb.as_bytes()).unwrap_err().to_string(),
        "document 1: its aliases expand to too many copies (serde_yaml's repetition limit); \
         write the values out instead of aliasing them"
    );
    // Flat: a long string aliased a few thousand times (within serde_yaml's
    // bound, but gigabytes of copies). The place is the anchor's.
    let mut flat = format!("kind: List\nx: &s {}\nitems:\n", "y".repeat(100_000));
    flat.push_str(&"- *s\n".repeat(3000));
    let e = parse(flat.as_bytes()).unwrap_err();
    assert!(
        matches!(e, RbacInputError::TooLarge { document: 1, .. }),
        "{e}"
    );
    assert_eq!(
        e.to_string(),
        format!(
            "document 1, line 2, column 4: its aliases expand to more than {} bytes of text; \
             write the values out instead of aliasing them",
            2 * flat.len() + 1024 * 1024
        )
    );
    let wide = format!(
        "kind: List\nx: &s [{}]\nitems:\n{}",
        "a,".repeat(50_000),
        "- *s\n".repeat(30)
    );
    assert_eq!(
        parse(wide.as_bytes()).unwrap_err().to_string(),
        format!(
            "document 1, line 2, column 97456: its aliases expand to more than {} values; \
             write the values out instead of aliasing them",
            wide.len() + 1024 * 1024
        )
    );
}

#[test]
fn the_number_of_objects_and_the_depth_of_lists_are_bounded() {
    let mut many = String::from("{kind: List, items: [");
    many.push_str(&"{kind: X},".repeat(MAX_OBJECTS));
    many.push_str("]}");
    assert_eq!(
        err(&many),
        format!(
            "document 1, items[{}]: more than {MAX_OBJECTS} objects; split the input",
            MAX_OBJECTS - 1
        )
    );
    let deep = |n: usize| format!("{}{}", "{kind: List, items: [".repeat(n), "]}".repeat(n));
    assert_eq!(ok(&deep(MAX_LIST_DEPTH)), Parsed::default());
    assert_eq!(
        err(&deep(MAX_LIST_DEPTH + 1)),
        "document 1, items[0].items[0].items[0]: a List nested more than 3 deep"
    );
}
