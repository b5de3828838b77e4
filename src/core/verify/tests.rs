use std::collections::BTreeMap;

use super::rows::matches_no_one;
use super::*;
use crate::core::diff::{self, ExistingEntry};
use crate::core::input::Section;
use crate::core::plan::Plan;
use crate::core::planner::{self, SourceInfo};
use crate::core::policy;
use crate::core::policy::{policy_arn, AccessScope, PolicyAssociation};
use crate::core::reason::Code;
use crate::core::resolve::Lookup;
use crate::core::translate::Options;

const A: &str = "111122223333";
const CALLER: &str = "arn:aws:iam::111122223333:user/admin";

fn plan_of(map_roles: &str, map_users: &str, extra: &str, existing: Vec<ExistingEntry>) -> Plan {
    let doc = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\n  namespace: kube-system\ndata:\n  mapRoles: |\n{}  mapUsers: |\n{}{extra}",
        indent(map_roles),
        indent(map_users)
    );
    let opts = Options {
        account: Some(A.into()),
        partition: Some("aws".into()),
        allow_lossy: true,
        ..Options::default()
    };
    let mut plan = planner::plan_offline(
        doc.as_bytes(),
        SourceInfo {
            kind: "file".into(),
            path: None,
        },
        &opts,
    )
    .unwrap();
    plan.cluster.authentication_mode = Some("API_AND_CONFIG_MAP".into());
    diff::diff(&mut plan.entries, &existing, false);
    plan.existing = Some(existing);
    plan.summarize();
    plan
}

fn indent(s: &str) -> String {
    s.lines().map(|l| format!("    {l}\n")).collect()
}

fn standard(arn: &str, username: Option<&str>, groups: &[&str]) -> ExistingEntry {
    ExistingEntry {
        principal_arn: arn.into(),
        entry_type: "STANDARD".into(),
        username: username.map(str::to_string),
        kubernetes_groups: groups
            .iter()
            .map(std::string::ToString::to_string)
            .collect(),
        policies: vec![],
        tags: Default::default(),
    }
}

fn admin(arn: &str) -> ExistingEntry {
    let mut e = standard(arn, None, &[]);
    e.policies = vec![PolicyAssociation {
        policy_arn: policy_arn("aws", policy::CLUSTER_ADMIN),
        access_scope: AccessScope::cluster(),
    }];
    e
}

fn node(arn: &str) -> ExistingEntry {
    ExistingEntry {
        principal_arn: arn.into(),
        entry_type: "EC2_LINUX".into(),
        username: Some("system:node:{{EC2PrivateDNSName}}".into()),
        kubernetes_groups: vec!["system:nodes".into()],
        policies: vec![],
        tags: Default::default(),
    }
}

fn row<'a>(v: &'a Verification, id: &str) -> &'a RowCheck {
    v.rows
        .iter()
        .find(|r| r.id == id)
        .unwrap_or_else(|| panic!("no row {id}: {:#?}", v.rows))
}

const ROLES: &str = "- rolearn: arn:aws:iam::111122223333:role/node\n  username: system:node:{{EC2PrivateDNSName}}\n  groups: [system:bootstrappers, system:nodes]\n- rolearn: arn:aws:iam::111122223333:role/dev\n  username: dev\n  groups: [devs, ops]\n- rolearn: arn:aws:iam::111122223333:role/team/x\n  groups: [devs]\n";

#[test]
fn row_ids_round_trip_and_refuse_nonsense() {
    let id: RowId = "mapRoles#3".parse().unwrap();
    assert_eq!(id.section, Section::MapRoles);
    assert_eq!(id.number, Some(3));
    assert_eq!(id.to_string(), "mapRoles#3");
    assert_eq!("mapUsers".parse::<RowId>().unwrap().to_string(), "mapUsers");
    assert!("mapRoles#0".parse::<RowId>().is_err());
    assert!("maproles#1".parse::<RowId>().is_err());
    assert!("mapRoles#x".parse::<RowId>().is_err());
    let ids = parse_row_ids(&["mapRoles#1, mapAccounts#2".into(), "mapRoles#1".into()]).unwrap();
    assert_eq!(
        ids.iter()
            .map(std::string::ToString::to_string)
            .collect::<Vec<_>>(),
        vec!["mapRoles#1", "mapAccounts#2"]
    );
}

#[test]
fn parity_when_every_row_has_an_equal_entry() {
    let existing = vec![
        node("arn:aws:iam::111122223333:role/node"),
        standard(
            "arn:aws:iam::111122223333:role/dev",
            Some("dev"),
            &["ops", "devs"],
        ),
        admin(CALLER),
    ];
    let plan = plan_of(ROLES, "", "", existing);
    let v = verify(&plan, &BTreeMap::new(), Some(CALLER), &[]).unwrap();
    assert!(v.parity, "{:#?}", v.rows);
    assert_eq!(row(&v, "mapRoles#1").status, RowStatus::Migrated);
    assert_eq!(row(&v, "mapRoles#2").status, RowStatus::Migrated);
    // A role with a path never matches today: ignored, not a gap, kept.
    let r3 = row(&v, "mapRoles#3");
    assert_eq!(r3.status, RowStatus::Ignored);
    assert_eq!(r3.code.as_deref(), Some("role-arn-has-path"));
    assert!(!r3.prunable);
    assert!(row(&v, "mapRoles#1").prunable && row(&v, "mapRoles#2").prunable);
    assert_eq!(v.summary.migrated, 2);
    assert_eq!(v.summary.ignored, 1);
    assert_eq!(v.summary.blocking, 0);
    let l = v.lockout.as_ref().unwrap();
    assert!(l.caller_admin_after);
    assert!(l.node_roles_at_risk.is_empty());
    assert!(finalize_blockers(&v, &"API_AND_CONFIG_MAP".into(), None, &[]).is_empty());
}

#[test]
fn differing_or_missing_entries_are_gaps() {
    let existing = vec![
        // Lacks group ops.
        standard("arn:aws:iam::111122223333:role/dev", Some("dev"), &["devs"]),
    ];
    let plan = plan_of(ROLES, "", "", existing);
    let v = verify(&plan, &BTreeMap::new(), Some(CALLER), &[]).unwrap();
    assert!(!v.parity);
    let node_row = row(&v, "mapRoles#1");
    assert_eq!(node_row.status, RowStatus::Gap);
    assert_eq!(node_row.code.as_deref(), Some("no-entry"));
    let dev = row(&v, "mapRoles#2");
    assert_eq!(dev.status, RowStatus::Gap);
    assert_eq!(dev.code.as_deref(), Some("entry-differs"));
    assert_eq!(dev.detail, "the entry lacks groups ops");
    assert!(!dev.prunable);
    let blockers = finalize_blockers(&v, &"API_AND_CONFIG_MAP".into(), None, &[]);
    assert_eq!(blockers.len(), 4, "{blockers:#?}");
    assert!(blockers[2]
        .starts_with("the caller arn:aws:iam::111122223333:user/admin has no access entry"));
    assert_eq!(
        blockers[3],
        "node role arn:aws:iam::111122223333:role/node (in aws-auth) has no node-type access entry: its nodes could not join in API mode; create its node entry (apply), or remove the row from aws-auth if no node uses the role (--accept-gaps does not waive a node role)"
    );
}

#[test]
fn username_must_match_and_extra_groups_are_a_note() {
    let roles = "- rolearn: arn:aws:iam::111122223333:role/dev\n  groups: [devs]\n- rolearn: arn:aws:iam::111122223333:role/ops\n  username: ops\n  groups: [ops]\n";
    let existing = vec![
        // Default username reported by EKS, extra group.
        standard(
            "arn:aws:iam::111122223333:role/dev",
            Some("arn:aws:sts::111122223333:assumed-role/dev/{{SessionName}}"),
            &["devs", "more"],
        ),
        standard(
            "arn:aws:iam::111122223333:role/ops",
            Some("other"),
            &["ops"],
        ),
    ];
    let plan = plan_of(roles, "", "", existing);
    let v = verify(&plan, &BTreeMap::new(), Some(CALLER), &[]).unwrap();
    let dev = row(&v, "mapRoles#1");
    assert_eq!(dev.status, RowStatus::Migrated);
    assert!(
        dev.detail.ends_with("; the entry also has groups more"),
        "{}",
        dev.detail
    );
    let ops = row(&v, "mapRoles#2");
    assert_eq!(ops.status, RowStatus::Gap);
    assert_eq!(
        ops.detail,
        "the entry's username is other, the row's is ops"
    );
}

#[test]
fn lossy_accounts_and_accepted_gaps() {
    let roles = "- rolearn: arn:aws:iam::111122223333:role/mon\n  username: mon\n  groups: [system:monitoring]\n";
    let extra = "  mapAccounts: |\n    - \"444455556666\"\n";
    let existing = vec![admin(CALLER)];
    let plan = plan_of(roles, "", extra, existing);
    let v = verify(&plan, &BTreeMap::new(), Some(CALLER), &[]).unwrap();
    let mon = row(&v, "mapRoles#1");
    assert_eq!(mon.status, RowStatus::Lossy);
    assert_eq!(mon.code.as_deref(), Some("system-group-not-allowed"));
    let acc = row(&v, "mapAccounts#1");
    assert_eq!(acc.status, RowStatus::Gap);
    assert_eq!(acc.code.as_deref(), Some("map-accounts"));
    assert_eq!(v.summary.blocking, 2);
    let blockers = finalize_blockers(&v, &"API_AND_CONFIG_MAP".into(), None, &[]);
    assert_eq!(blockers.len(), 2, "{blockers:#?}");
    assert!(blockers[0].starts_with(
        "mapRoles#1 (arn:aws:iam::111122223333:role/mon) is lossy: system-group-not-allowed: "
    ));
    assert!(blockers[1].starts_with("mapAccounts#1 (account 444455556666) is gap: map-accounts: "));

    // Accepting only one leaves the other blocking.
    let one = verify(
        &plan,
        &BTreeMap::new(),
        Some(CALLER),
        &["mapAccounts#1".parse().unwrap()],
    )
    .unwrap();
    assert!(!one.parity);
    assert_eq!(one.summary.accepted, 1);
    let both = verify(
        &plan,
        &BTreeMap::new(),
        Some(CALLER),
        &parse_row_ids(&["mapRoles#1,mapAccounts#1".into()]).unwrap(),
    )
    .unwrap();
    assert!(both.parity);
    assert!(finalize_blockers(&both, &"API_AND_CONFIG_MAP".into(), None, &[]).is_empty());

    // An id that is not a gap, or no row, is refused.
    let err = verify(
        &plan,
        &BTreeMap::new(),
        Some(CALLER),
        &["mapRoles#2".parse().unwrap()],
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("aws-auth has no such row"), "{err}");
}

/// Rows that match a caller today and that no entry can carry are
/// lossy (never ignored), named with what they lose, and block until
/// accepted; the assumed-role row, which matches no one, is ignored.
#[test]
fn root_and_federated_rows_are_lossy_not_ignored() {
    let users = "- userarn: arn:aws:iam::111122223333:root\n  username: root-admin\n  groups: [system:masters]\n- userarn: arn:aws:sts::111122223333:federated-user/alice\n  username: alice\n  groups: [devs]\n- userarn: arn:aws:sts::111122223333:assumed-role/admin/bob\n  username: bob\n";
    let plan = plan_of("", users, "", vec![admin(CALLER)]);
    let v = verify(&plan, &BTreeMap::new(), Some(CALLER), &[]).unwrap();
    let root = row(&v, "mapUsers#1");
    assert_eq!(root.status, RowStatus::Lossy);
    assert_eq!(root.code.as_deref(), Some("root-user"));
    assert!(root
        .detail
        .contains("username \"root-admin\" and groups system:masters"));
    assert!(!root.prunable);
    let fed = row(&v, "mapUsers#2");
    assert_eq!(fed.status, RowStatus::Lossy);
    assert_eq!(fed.code.as_deref(), Some("federated-user"));
    let sts = row(&v, "mapUsers#3");
    assert_eq!(sts.status, RowStatus::Ignored);
    assert_eq!(sts.code.as_deref(), Some("sts-arn"));
    assert!(!v.parity);
    assert_eq!(v.summary.lossy, 2);
    assert_eq!(v.summary.blocking, 2);
    let blockers = finalize_blockers(&v, &"API_AND_CONFIG_MAP".into(), None, &[]);
    assert_eq!(blockers.len(), 2, "{blockers:#?}");
    assert!(blockers[0]
        .starts_with("mapUsers#1 (arn:aws:iam::111122223333:root) is lossy: root-user: "));
    let accepted = verify(
        &plan,
        &BTreeMap::new(),
        Some(CALLER),
        &parse_row_ids(&["mapUsers#1,mapUsers#2".into()]).unwrap(),
    )
    .unwrap();
    assert!(accepted.parity);
    assert!(finalize_blockers(&accepted, &"API_AND_CONFIG_MAP".into(), None, &[]).is_empty());
}

/// The audit of docs/mapping-rules.md ("Which rows match a caller
/// today"): one row per reason, what the plan says and what verify
/// concludes. `ignored` only for rows the authenticator never matches.
#[test]
fn audit_every_reason_against_the_authenticator() {
    let roles = "\
- rolearn: arn:aws:iam::111122223333:role/admin
  sso: {permissionSetName: Admin, accountID: \"111122223333\"}
- username: nobody
- rolearn: arn:iam:bob
- rolearn: arn:aws:sts::111122223333:assumed-role/admin/bob
- rolearn: arn:aws:iam::111122223333:role/team/x
- rolearn: arn:aws:iam::111122223333:role/AWSServiceRoleForAmazonEMRContainers
  username: emr-containers
- rolearn: arn:aws:iam::999988887777:role/nodes
  username: system:node:{{EC2PrivateDNSName}}
  groups: [system:bootstrappers, system:nodes]
- rolearn: arn:aws:iam::111122223333:role/dup
  username: old
- rolearn: arn:aws:iam::111122223333:role/DUP
  username: new
- rolearn: arn:aws:iam::111122223333:role/mon
  username: mon
  groups: [system:monitoring]
";
    let users = "\
- userarn: arn:aws:iam::111122223333:root
  username: root-admin
  groups: [system:masters]
- userarn: arn:aws:sts::111122223333:federated-user/alice
  username: alice
- userarn: arn:aws:iam::111122223333:user/Bob
  username: b1
- userarn: arn:aws:iam::111122223333:user/bob
  username: b2
";
    let extra = "  mapAccounts: |\n    - \"444455556666\"\n";
    let plan = plan_of(roles, users, extra, vec![admin(CALLER)]);
    let v = verify(&plan, &BTreeMap::new(), Some(CALLER), &[]).unwrap();
    let expect = [
        ("mapRoles#1", "sso-block", RowStatus::Ignored),
        ("mapRoles#2", "missing-arn", RowStatus::Ignored),
        ("mapRoles#3", "invalid-arn", RowStatus::Ignored),
        ("mapRoles#4", "sts-arn", RowStatus::Ignored),
        ("mapRoles#5", "role-arn-has-path", RowStatus::Ignored),
        ("mapRoles#6", "service-linked-role", RowStatus::Gap),
        ("mapRoles#7", "cross-account-node-role", RowStatus::Gap),
        ("mapRoles#8", "duplicate", RowStatus::Superseded),
        ("mapRoles#9", "no-entry", RowStatus::Gap),
        ("mapRoles#10", "system-group-not-allowed", RowStatus::Lossy),
        ("mapUsers#1", "root-user", RowStatus::Lossy),
        ("mapUsers#2", "federated-user", RowStatus::Lossy),
        ("mapUsers#3", "duplicate", RowStatus::Superseded),
        ("mapUsers#4", "ambiguous-duplicate", RowStatus::Lossy),
        ("mapAccounts#1", "map-accounts", RowStatus::Gap),
    ];
    for (id, code, status) in expect {
        let r = row(&v, id);
        assert_eq!(
            (r.code.as_deref(), r.status),
            (Some(code), status),
            "{id}: {}",
            r.detail
        );
        if status == RowStatus::Ignored {
            assert!(
                plan.mappings
                    .iter()
                    .filter(|m| RowId::of(m).to_string() == id)
                    .all(matches_no_one),
                "{id}"
            );
        } else {
            assert!(!r.detail.contains("matches no one"), "{id}: {}", r.detail);
        }
    }
    assert_eq!(v.rows.len(), expect.len());

    // A section the authenticator cannot load: ignored as a whole.
    let broken = plan_of(
        "- rolearn: arn:aws:iam::111122223333:role/x\n  username: {{SessionName}}\n",
        "",
        "",
        vec![],
    );
    let v = verify(&broken, &BTreeMap::new(), Some(CALLER), &[]).unwrap();
    let r = row(&v, "mapRoles");
    assert_eq!(r.status, RowStatus::Ignored);
    assert_eq!(r.code.as_deref(), Some("section-unparseable"));
}

/// IGNORED is decided from the row, not only from the plan's reason: a
/// row whose ARN some caller can match is a gap whatever code it has.
#[test]
fn an_ignore_code_on_a_row_that_matches_is_a_gap() {
    let users = "- userarn: arn:aws:iam::111122223333:root\n  username: r\n- userarn: arn:aws:iam::111122223333:user/u\n  username: u\n";
    let mut plan = plan_of("", users, "", vec![admin(CALLER)]);
    // A plan from a tool that called these rows dead.
    for m in &mut plan.mappings {
        m.reasons = vec![super::super::reason::Reason::new(
            Code::InvalidArn,
            "matches no one",
        )];
    }
    plan.entries.clear();
    let v = verify(&plan, &BTreeMap::new(), Some(CALLER), &[]).unwrap();
    for id in ["mapUsers#1", "mapUsers#2"] {
        assert_eq!(row(&v, id).status, RowStatus::Gap, "{id}");
        assert_eq!(row(&v, id).code.as_deref(), Some("invalid-arn"));
    }
    assert_eq!(v.summary.ignored, 0);
    assert!(!v.parity);
}

/// User ARNs match case-insensitively (strings.EqualFold): a superseded
/// case variant of a migrated user goes with it.
#[test]
fn user_case_variants_are_pruned_with_the_migrated_one() {
    let users = "- userarn: arn:aws:iam::111122223333:user/Bob\n  username: bob\n  groups: [devs]\n- userarn: arn:aws:iam::111122223333:user/bob\n  username: bob\n  groups: [devs]\n";
    let existing = vec![standard(
        "arn:aws:iam::111122223333:user/bob",
        Some("bob"),
        &["devs"],
    )];
    let plan = plan_of("", users, "", existing);
    let v = verify(&plan, &BTreeMap::new(), Some(CALLER), &[]).unwrap();
    assert_eq!(row(&v, "mapUsers#1").status, RowStatus::Superseded);
    assert_eq!(row(&v, "mapUsers#2").status, RowStatus::Migrated);
    assert!(row(&v, "mapUsers#1").prunable);
}

#[test]
fn duplicates_of_a_migrated_principal_are_pruned_with_it() {
    let roles = "- rolearn: arn:aws:iam::111122223333:role/dev\n  username: old\n  groups: [old]\n- rolearn: arn:aws:iam::111122223333:role/DEV\n  username: dev\n  groups: [devs]\n";
    let existing = vec![standard(
        "arn:aws:iam::111122223333:role/DEV",
        Some("dev"),
        &["devs"],
    )];
    let plan = plan_of(roles, "", "", existing);
    let v = verify(&plan, &BTreeMap::new(), Some(CALLER), &[]).unwrap();
    let first = row(&v, "mapRoles#1");
    assert_eq!(first.status, RowStatus::Superseded);
    assert!(first.prunable);
    assert!(row(&v, "mapRoles#2").prunable);
    // Superseded rows are not gaps.
    assert_eq!(v.summary.blocking, 0);
}

#[test]
fn orphans_and_compute_roles() {
    let gone = "arn:aws:iam::111122223333:role/gone";
    let existing = vec![standard(gone, None, &["x"]), admin(CALLER)];
    let plan = plan_of("", "", "", existing.clone());
    let lookups = BTreeMap::from([
        (gone.to_string(), Lookup::NotFound),
        (CALLER.to_string(), Lookup::Found { arn: CALLER.into() }),
    ]);
    let v = verify(&plan, &lookups, Some(CALLER), &[]).unwrap();
    assert_eq!(v.orphan_entries.len(), 1);
    assert_eq!(v.orphan_entries[0].principal_arn, gone);
    assert!(v.parity);
    let swapped = vec![(
        "arn:aws:iam::111122223333:role/ng".to_string(),
        "managed node group ng-1".to_string(),
    )];
    let missing = compute_roles_without_entry(&swapped, &existing);
    assert_eq!(missing, swapped);
    let mut with_node = existing.clone();
    with_node.push(node("arn:aws:iam::111122223333:role/NG"));
    assert!(compute_roles_without_entry(&swapped, &with_node).is_empty());
    let b = finalize_blockers(&v, &"API_AND_CONFIG_MAP".into(), Some("u-1"), &missing);
    assert_eq!(
        b,
        vec![
            "cluster update u-1 is in progress: wait for it to finish".to_string(),
            "managed node group ng-1 uses role arn:aws:iam::111122223333:role/ng, which has no node-type access entry: its nodes or pods could not join in API mode".to_string(),
        ]
    );
    assert_eq!(
        finalize_blockers(&v, &"CONFIG_MAP".into(), None, &[]).len(),
        1
    );
}

/// The refusals are typed; their texts are the ones users have seen.
#[test]
fn refusals_keep_their_texts() {
    assert_eq!(
        "mapRoles#0".parse::<RowId>().unwrap_err().to_string(),
        "\"mapRoles#0\": the row number after # must be a whole number from 1"
    );
    assert_eq!(
        " maproles#1".parse::<RowId>().unwrap_err().to_string(),
        "\"maproles#1\" is not a row id: expected mapRoles#N, mapUsers#N or mapAccounts#N"
    );
    let plan = plan_of(ROLES, "", "", vec![]);
    let err = verify(
        &plan,
        &BTreeMap::new(),
        Some(CALLER),
        &parse_row_ids(&["mapRoles#3,mapRoles#9".into()]).unwrap(),
    )
    .unwrap_err();
    assert_eq!(err.0.len(), 2);
    assert_eq!(
        err.to_string(),
        "--accept-gaps mapRoles#3: that row is ignored, not a gap (arn:aws:iam::111122223333:role/team/x); --accept-gaps mapRoles#9: aws-auth has no such row (row ids are positions in the current ConfigMap: take them from the latest verify)"
    );
}
