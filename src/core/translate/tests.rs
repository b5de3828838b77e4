use super::*;
use crate::core::aws_auth;
use crate::core::input::locate;
use crate::core::plan::EntryType;
use crate::core::policy::{self, PolicyAssociation, ScopeType};

const A: &str = "111122223333";

fn run(data: &str, opts: &Options) -> Translation {
    let auth = aws_auth::parse(&locate(data).expect("locates"));
    translate(&auth, opts)
}

fn roles(rows: &str) -> Translation {
    run(
        &format!("data:\n  mapRoles: |\n{}", indent(rows)),
        &Options::default(),
    )
}

fn indent(s: &str) -> String {
    s.lines().map(|l| format!("    {l}\n")).collect()
}

fn codes(reasons: &[Reason]) -> Vec<&'static str> {
    reasons.iter().map(|r| r.code.as_str()).collect()
}

fn only_entry(t: &Translation) -> &Entry {
    assert_eq!(t.entries.len(), 1, "{:#?}", t.entries);
    &t.entries[0]
}

#[test]
fn linux_node_role() {
    let t = roles(&format!("- rolearn: arn:aws:iam::{A}:role/nodes\n  username: system:node:{{{{EC2PrivateDNSName}}}}\n  groups: [system:bootstrappers, system:nodes]"));
    let e = only_entry(&t);
    assert_eq!(e.entry_type, EntryType::Ec2Linux);
    assert_eq!(e.username, None);
    assert!(e.kubernetes_groups.is_empty() && e.policies.is_empty());
    assert_eq!(e.fidelity, Fidelity::Exact);
    assert_eq!(e.action, Action::Create);
    assert_eq!(codes(&e.reasons), vec!["node-role"]);
}

#[test]
fn windows_fargate_hybrid_nodes() {
    let t = roles(&format!(
        "- rolearn: arn:aws:iam::{A}:role/win\n  username: system:node:{{{{EC2PrivateDNSName}}}}\n  groups: [system:bootstrappers, system:nodes, eks:kube-proxy-windows]\n\
         - rolearn: arn:aws:iam::{A}:role/fargate\n  username: system:node:{{{{SessionName}}}}\n  groups: [system:bootstrappers, system:nodes, system:node-proxier]\n\
         - rolearn: arn:aws:iam::{A}:role/hybrid\n  username: system:node:{{{{SessionName}}}}\n  groups: [system:bootstrappers, system:nodes]"
    ));
    let types: Vec<_> = t.entries.iter().map(|e| e.entry_type).collect();
    assert_eq!(
        types,
        vec![
            EntryType::Ec2Windows,
            EntryType::FargateLinux,
            EntryType::HybridLinux
        ]
    );
    assert!(t.entries.iter().all(|e| e.fidelity == Fidelity::Exact));
}

#[test]
fn node_role_with_extra_groups_is_lossy() {
    let t = roles(&format!("- rolearn: arn:aws:iam::{A}:role/nodes\n  username: system:node:{{{{EC2PrivateDNSName}}}}\n  groups: [system:bootstrappers, system:nodes, monitoring]"));
    let e = only_entry(&t);
    assert_eq!(e.fidelity, Fidelity::Lossy);
    assert_eq!(e.action, Action::Skip);
    assert!(codes(&e.reasons).contains(&"node-extra-groups"));
}

#[test]
fn cross_account_node_role_is_skipped() {
    let t = run(
        "data:\n  mapRoles: |\n    - rolearn: arn:aws:iam::999988887777:role/nodes\n      username: system:node:{{EC2PrivateDNSName}}\n      groups: [system:bootstrappers, system:nodes]\n",
        &Options { account: Some(A.into()), ..Options::default() },
    );
    assert!(t.entries.is_empty());
    assert_eq!(
        codes(&t.mappings[0].reasons),
        vec!["cross-account-node-role"]
    );
    assert_eq!(t.mappings[0].outcome, Outcome::Skip);
}

#[test]
fn masters_becomes_cluster_admin_and_keeps_the_rest() {
    let t = run(
        &format!("data:\n  mapRoles: |\n    - rolearn: arn:aws-cn:iam::{A}:role/admin\n      username: admin\n      groups: [system:masters, ops, system:bootstrappers]\n"),
        &Options::default(),
    );
    let e = only_entry(&t);
    assert_eq!(e.entry_type, EntryType::Standard);
    assert_eq!(e.username.as_deref(), Some("admin"));
    assert_eq!(e.kubernetes_groups, vec!["ops"]);
    assert_eq!(e.policies.len(), 1);
    assert_eq!(
        e.policies[0].policy_arn,
        "arn:aws-cn:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
    );
    assert_eq!(e.policies[0].access_scope.scope_type, ScopeType::Cluster);
    assert_eq!(e.fidelity, Fidelity::Exact);
    assert_eq!(
        codes(&e.reasons),
        vec!["masters-to-cluster-admin", "system-group-dropped"]
    );
}

#[test]
fn system_authenticated_is_dropped_losslessly() {
    let t = roles(&format!("- rolearn: arn:aws:iam::{A}:role/dev\n  username: dev\n  groups: [system:authenticated, devs]"));
    let e = only_entry(&t);
    assert_eq!(e.kubernetes_groups, vec!["devs"]);
    assert_eq!(e.fidelity, Fidelity::Exact);
    assert_eq!(codes(&e.reasons), vec!["system-group-dropped"]);
}

#[test]
fn other_system_groups_make_the_row_lossy_unless_mapped() {
    let rows = format!(
        "- rolearn: arn:aws:iam::{A}:role/mon\n  username: mon\n  groups: [system:monitoring]"
    );
    let t = roles(&rows);
    let e = only_entry(&t);
    assert_eq!(e.fidelity, Fidelity::Lossy);
    assert_eq!(e.action, Action::Skip);
    assert_eq!(t.mappings[0].outcome, Outcome::Skip);
    assert_eq!(codes(&e.reasons), vec!["system-group-not-allowed"]);

    let lossy_ok = run(
        &format!("data:\n  mapRoles: |\n{}", indent(&rows)),
        &Options {
            allow_lossy: true,
            ..Options::default()
        },
    );
    assert_eq!(only_entry(&lossy_ok).action, Action::Create);

    let map = PolicyMap::parse("groups:\n  system:monitoring:\n    rename: monitoring\n    policies: [AmazonEKSViewPolicy]\n").unwrap();
    let mapped = run(
        &format!("data:\n  mapRoles: |\n{}", indent(&rows)),
        &Options {
            policy_map: map,
            ..Options::default()
        },
    );
    let e = only_entry(&mapped);
    assert_eq!(e.fidelity, Fidelity::Exact);
    assert_eq!(e.kubernetes_groups, vec!["monitoring"]);
    assert_eq!(short(&e.policies), vec!["AmazonEKSViewPolicy@cluster"]);
    assert_eq!(codes(&e.reasons), vec!["group-mapped"]);
}

fn short(p: &[PolicyAssociation]) -> Vec<String> {
    p.iter()
        .map(|p| format!("{}@{}", policy::short_name(&p.policy_arn), p.access_scope))
        .collect()
}

#[test]
fn policy_map_overrides_masters_and_adds_policies_to_groups() {
    let map = PolicyMap::parse("groups:\n  system:masters:\n    policies: [AmazonEKSAdminPolicy]\n  viewers:\n    policies: [{policy: AmazonEKSViewPolicy, namespaces: [dev, \"team-*\"]}]\n    keep_group: false\n").unwrap();
    let t = run(
        &format!("data:\n  mapRoles: |\n    - rolearn: arn:aws:iam::{A}:role/a\n      username: a\n      groups: [system:masters, viewers]\n"),
        &Options { policy_map: map, ..Options::default() },
    );
    let e = only_entry(&t);
    assert!(e.kubernetes_groups.is_empty());
    assert_eq!(
        short(&e.policies),
        vec![
            "AmazonEKSAdminPolicy@cluster",
            "AmazonEKSViewPolicy@ns:dev,team-*"
        ]
    );
}

#[test]
fn usernames_follow_eks_rules() {
    let cases = [
        ("system:admin", Some("username-reserved-prefix")),
        ("eks:thing", Some("username-reserved-prefix")),
        ("amazon:x", Some("username-reserved-prefix")),
        ("{{SessionName}}", Some("username-session-colon")),
        ("john{{SessionName}}", Some("username-session-colon")),
        ("jo:hn{{SessionName}}", None),
        ("sso:{{SessionNameRaw}}", None),
        ("key:{{AccessKeyID}}", Some("username-template-unsupported")),
        (
            "n:{{EC2PrivateDNSName}}",
            Some("username-template-unsupported"),
        ),
    ];
    for (username, code) in cases {
        let t = roles(&format!(
            "- rolearn: arn:aws:iam::{A}:role/r\n  username: \"{username}\"\n  groups: [g]"
        ));
        let e = only_entry(&t);
        if let Some(c) = code {
            assert!(
                codes(&e.reasons).contains(&c),
                "{username}: {:?}",
                e.reasons
            );
            assert_eq!(e.fidelity, Fidelity::Lossy, "{username}");
            assert_eq!(e.username, None);
        } else {
            assert_eq!(e.fidelity, Fidelity::Exact, "{username}: {:?}", e.reasons);
            assert_eq!(e.username.as_deref(), Some(username));
        }
    }
}

#[test]
fn account_id_is_rendered_from_the_principal() {
    let t = roles("- rolearn: arn:aws:iam::444455556666:role/r\n  username: \"admin:{{AccountID}}:{{SessionName}}\"\n  groups: [\"team-{{AccountID}}\"]");
    let e = only_entry(&t);
    assert_eq!(
        e.username.as_deref(),
        Some("admin:444455556666:{{SessionName}}")
    );
    assert_eq!(e.kubernetes_groups, vec!["team-444455556666"]);
    assert_eq!(e.fidelity, Fidelity::Exact);
    assert!(codes(&e.reasons).contains(&"account-id-rendered"));
}

#[test]
fn missing_username_is_left_to_eks() {
    let t = roles(&format!(
        "- rolearn: arn:aws:iam::{A}:role/r\n  groups: [g]"
    ));
    let e = only_entry(&t);
    assert_eq!(e.username, None);
    assert_eq!(codes(&e.reasons), vec!["username-defaulted"]);
    assert_eq!(e.fidelity, Fidelity::Exact);
}

#[test]
fn skipped_rows_say_why() {
    let t = run(
        &format!(
            "data:\n  mapRoles: |\n\
             \x20   - rolearn: arn:aws:iam::{A}:role/AWSServiceRoleForAmazonEMRContainers\n      username: emr-containers\n\
             \x20   - rolearn: arn:aws:iam::{A}:role/aws-service-role/emr-containers.amazonaws.com/AWSServiceRoleForAmazonEMRContainers\n      username: emr-containers\n\
             \x20   - rolearn: arn:aws:iam::{A}:role/team/dev/x\n      username: x\n\
             \x20   - rolearn: arn:aws:sts::{A}:assumed-role/admin/bob\n      username: bob\n\
             \x20   - rolearn: arn:iam:bob\n\
             \x20   - username: nobody\n\
             \x20   - sso: {{permissionSetName: Admin, accountID: \"{A}\"}}\n      username: s\n\
             \x20 mapAccounts: |\n    - \"{A}\"\n"
        ),
        &Options::default(),
    );
    assert!(t.entries.is_empty());
    let got: Vec<Vec<&str>> = t.mappings.iter().map(|m| codes(&m.reasons)).collect();
    assert_eq!(
        got,
        vec![
            vec!["service-linked-role"],
            vec!["role-arn-has-path"],
            vec!["role-arn-has-path"],
            vec!["sts-arn"],
            vec!["invalid-arn"],
            vec!["missing-arn"],
            vec!["sso-block"],
            vec!["map-accounts"],
        ]
    );
    assert!(t.mappings.iter().all(|m| m.outcome == Outcome::Skip));
}

#[test]
fn root_and_federated_rows_are_lossy_without_an_entry() {
    let t = run(
        &format!(
            "data:\n  mapUsers: |\n\
             \x20   - userarn: arn:aws:iam::{A}:root\n      username: root-admin\n      groups: [system:masters]\n\
             \x20   - userarn: arn:aws-cn:sts::{A}:federated-user/alice\n      username: alice\n      groups: [devs]\n\
             \x20   - userarn: arn:aws:sts::{A}:assumed-role/admin/bob\n      username: bob\n"
        ),
        // Even with --allow-lossy: no entry can name them.
        &Options {
            allow_lossy: true,
            ..Options::default()
        },
    );
    assert!(t.entries.is_empty(), "{:#?}", t.entries);
    let got: Vec<Vec<&str>> = t.mappings.iter().map(|m| codes(&m.reasons)).collect();
    assert_eq!(
        got,
        vec![vec!["root-user"], vec!["federated-user"], vec!["sts-arn"]]
    );
    assert!(t.mappings.iter().all(|m| m.outcome == Outcome::Skip));
    let root = &t.mappings[0].reasons[0];
    assert_eq!(root.severity, Severity::Lossy);
    assert!(
        root.message
            .contains("username \"root-admin\" and groups system:masters"),
        "{}",
        root.message
    );
    assert!(root.message.contains("API_AND_CONFIG_MAP"));
    assert!(!root.message.contains("matches no one"));
    let fed = &t.mappings[1].reasons[0];
    assert!(
        fed.message.contains("username \"alice\" and groups devs"),
        "{}",
        fed.message
    );
    assert!(fed.message.contains("EKS refuses STS principals"));
}

#[test]
fn root_rows_are_deduplicated_like_other_principals() {
    // The authenticator compares case-insensitively (strings.EqualFold)
    // and tries mapRoles first: the mapRoles row is the one used.
    let t = run(
        &format!(
            "data:\n  mapRoles: |\n    - rolearn: arn:aws:iam::{A}:ROOT\n      username: via-roles\n  mapUsers: |\n    - userarn: arn:aws:iam::{A}:root\n      username: via-users\n"
        ),
        &Options::default(),
    );
    assert_eq!(codes(&t.mappings[0].reasons), vec!["root-user"]);
    assert!(t.mappings[0].reasons[0].message.contains("via-roles"));
    assert_eq!(codes(&t.mappings[1].reasons), vec!["duplicate"]);
}

#[test]
fn unparseable_sections_are_reported() {
    let t = run("data:\n  mapRoles: |\n    - rolearn: x\n      username: {{SessionName}}\n  mapUsers: |\n    - userarn: arn:aws:iam::111122223333:user/u\n", &Options::default());
    assert_eq!(codes(&t.mappings[0].reasons), vec!["section-unparseable"]);
    assert_eq!(t.mappings[0].index, None);
    assert_eq!(t.entries.len(), 1);
}

#[test]
fn role_duplicates_last_row_wins_case_insensitively() {
    let t = roles(&format!(
        "- rolearn: arn:aws:iam::{A}:role/Admin\n  username: first\n  groups: [a]\n- rolearn: arn:aws:iam::{A}:role/admin\n  username: second\n  groups: [b]"
    ));
    let e = only_entry(&t);
    assert_eq!(e.username.as_deref(), Some("second"));
    assert_eq!(e.from, vec![1]);
    assert_eq!(codes(&t.mappings[0].reasons), vec!["duplicate"]);
    assert_eq!(t.mappings[0].outcome, Outcome::Skip);
}

#[test]
fn roles_win_over_users_and_user_case_variants_are_ambiguous() {
    let t = run(
        &format!(
            "data:\n  mapRoles: |\n    - rolearn: arn:aws:iam::{A}:user/u\n      username: via-roles\n  mapUsers: |\n    - userarn: arn:aws:iam::{A}:user/u\n      username: via-users\n    - userarn: arn:aws:iam::{A}:user/Bob\n      username: b1\n    - userarn: arn:aws:iam::{A}:user/bob\n      username: b2\n    - userarn: arn:aws:iam::{A}:user/bob\n      username: b3\n"
        ),
        &Options::default(),
    );
    assert_eq!(t.entries.len(), 2);
    assert_eq!(t.entries[0].username.as_deref(), Some("via-roles"));
    assert_eq!(codes(&t.mappings[1].reasons), vec!["duplicate"]);
    let bob = &t.entries[1];
    assert_eq!(bob.username.as_deref(), Some("b3"));
    assert!(codes(&bob.reasons).contains(&"ambiguous-duplicate"));
    assert_eq!(bob.fidelity, Fidelity::Lossy);
}

#[test]
fn sso_roles_need_iam_resolution_offline() {
    let t = roles(&format!("- rolearn: arn:aws:iam::{A}:role/AWSReservedSSO_Admin_0123456789abcdef\n  username: \"sso:{{{{SessionName}}}}\"\n  groups: [system:masters]"));
    let e = only_entry(&t);
    assert!(codes(&e.reasons).contains(&"needs-iam-resolution"));
    assert_eq!(e.action, Action::Create);
}

#[test]
fn wrong_typed_fields_carry_over_what_the_authenticator_sees() {
    let t = roles(&format!(
        "- rolearn: arn:aws:iam::{A}:role/r\n  username: yes\n  groups: [123, devs]"
    ));
    let e = only_entry(&t);
    assert_eq!(e.username, None);
    assert_eq!(e.kubernetes_groups, vec!["devs"]);
    assert!(codes(&t.mappings[0].reasons).contains(&"field-zeroed"));
    assert!(codes(&e.reasons).contains(&"empty-group-dropped"));
}

#[test]
fn account_and_partition_are_inferred() {
    let t = run(
        "data:\n  mapRoles: |\n    - rolearn: arn:aws-us-gov:iam::222233334444:role/n\n      username: system:node:{{EC2PrivateDNSName}}\n      groups: [system:nodes]\n    - rolearn: arn:aws-us-gov:iam::555566667777:role/a\n      username: a\n",
        &Options::default(),
    );
    assert_eq!(t.account.as_deref(), Some("222233334444"));
    assert_eq!(t.partition, "aws-us-gov");
    assert_eq!(t.notices.len(), 1);
}
