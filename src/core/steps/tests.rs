//! Unit tests of the step model, its inverses, settling and reconciling.

use std::collections::BTreeMap;

use super::*;

/// `still_as_left`, with the error as its message: the tests compare texts.
fn still_as_left(undo: &Undo, observed: Option<&ExistingEntry>) -> Result<(), String> {
    super::still_as_left(undo, observed).map_err(|e| e.to_string())
}
use crate::core::cluster::AuthMode;
use crate::core::existing::{sha256_hex, EntryDiff, ExistingEntry};
use crate::core::plan::{Action, EntryType, Plan};
use crate::core::plan::{ClusterRef, Entry, Fidelity, Source, Summary, Tool};
use crate::core::policy::policy_arn;
use crate::core::policy::{AccessScope, PolicyAssociation};

const ROLE: &str = "arn:aws:iam::111122223333:role/dev";
const ADMIN: &str = "arn:aws:iam::111122223333:role/team/admin";
const OPS: &str = "arn:aws:iam::111122223333:user/ops";
const MID: &str = "m-20261128-1";

fn view() -> String {
    policy_arn("aws", "AmazonEKSViewPolicy")
}
fn edit() -> String {
    policy_arn("aws", "AmazonEKSEditPolicy")
}
fn admin() -> String {
    policy_arn("aws", "AmazonEKSClusterAdminPolicy")
}
fn ns(list: &[&str]) -> AccessScope {
    AccessScope::namespaces(list.iter().map(std::string::ToString::to_string).collect())
}
fn assoc(policy: String, scope: AccessScope) -> PolicyAssociation {
    PolicyAssociation {
        policy_arn: policy,
        access_scope: scope,
    }
}
fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(std::string::ToString::to_string).collect()
}
fn tags() -> BTreeMap<String, String> {
    [
        (TAG_MIGRATION_ID.to_string(), MID.to_string()),
        (TAG_VERSION.to_string(), "0.1.0".to_string()),
    ]
    .into()
}
fn done() -> Outcome {
    Outcome::Done {
        response: serde_json::json!({}),
    }
}
fn failed() -> Outcome {
    Outcome::Failed {
        code: "ThrottlingException".into(),
        message: "Rate exceeded".into(),
    }
}

fn entry(arn: &str, action: Action, groups: &[&str], policies: Vec<PolicyAssociation>) -> Entry {
    Entry {
        principal_arn: arn.to_string(),
        entry_type: EntryType::Standard,
        username: None,
        kubernetes_groups: strings(groups),
        policies,
        fidelity: Fidelity::Exact,
        reasons: vec![],
        action,
        from: vec![0],
        diff: None,
    }
}

fn existing(
    arn: &str,
    username: Option<&str>,
    groups: &[&str],
    policies: Vec<PolicyAssociation>,
) -> ExistingEntry {
    ExistingEntry {
        principal_arn: arn.to_string(),
        entry_type: "STANDARD".to_string(),
        username: username.map(str::to_string),
        kubernetes_groups: strings(groups),
        policies,
        tags: BTreeMap::new(),
    }
}

fn plan(entries: Vec<Entry>, mode: Option<&str>) -> Plan {
    Plan {
        format_version: "1".into(),
        tool: Tool::default(),
        source: Source {
            kind: "cluster".into(),
            path: None,
            sha256: "00".into(),
            resource_version: None,
        },
        cluster: ClusterRef {
            name: Some("prod".into()),
            region: Some("eu-west-1".into()),
            account: Some("111122223333".into()),
            partition: "aws".into(),
            account_source: "cluster".into(),
            authentication_mode: mode.map(AuthMode::from),
        },
        allow_lossy: false,
        sections: vec![],
        notices: vec![],
        mappings: vec![],
        entries,
        summary: Summary::default(),
        existing: None,
        lockout: None,
        fingerprint: None,
        digest: None,
        access: None,
    }
}

/// An `update` entry for ADMIN: it exists with group `ops`, view on ns a,
/// and lacks group `dev`, view on ns b (merged to a,b) and edit on ns c.
/// The entry itself shows the state after the update, as `core::diff`
/// leaves it.
fn update_entry() -> Entry {
    let have = existing(
        ADMIN,
        Some("admin"),
        &["ops"],
        vec![assoc(view(), ns(&["a"]))],
    );
    let mut e = entry(
        ADMIN,
        Action::Update,
        &["dev", "ops"],
        vec![assoc(edit(), ns(&["c"])), assoc(view(), ns(&["a", "b"]))],
    );
    e.username = Some("admin".into());
    e.diff = Some(EntryDiff {
        existing: have,
        missing_groups: strings(&["dev"]),
        extra_groups: strings(&["ops"]),
        // As core::diff reports it: the narrower policy widened to the union.
        missing_policies: vec![assoc(view(), ns(&["a", "b"])), assoc(edit(), ns(&["c"]))],
        username_differs: false,
        type_differs: false,
    });
    e
}

fn create_dev() -> Step {
    Step::CreateEntry {
        principal_arn: ROLE.into(),
        entry_type: EntryType::Standard,
        username: None,
        kubernetes_groups: strings(&["dev"]),
        tags: tags(),
        client_request_token: client_request_token(MID, ROLE),
    }
}
fn assoc_dev() -> Step {
    Step::AssociatePolicy {
        principal_arn: ROLE.into(),
        policy_arn: view(),
        access_scope: AccessScope::cluster(),
        prior_scope: None,
        on_created_entry: true,
    }
}
fn update_admin() -> Step {
    Step::UpdateEntry {
        principal_arn: ADMIN.into(),
        username: Some("admin".into()),
        kubernetes_groups: strings(&["dev", "ops"]),
        prior_username: Some("admin".into()),
        prior_groups: strings(&["ops"]),
    }
}
fn widen_admin_view() -> Step {
    Step::AssociatePolicy {
        principal_arn: ADMIN.into(),
        policy_arn: view(),
        access_scope: ns(&["a", "b"]),
        prior_scope: Some(ns(&["a"])),
        on_created_entry: false,
    }
}
fn add_admin_edit() -> Step {
    Step::AssociatePolicy {
        principal_arn: ADMIN.into(),
        policy_arn: edit(),
        access_scope: ns(&["c"]),
        prior_scope: None,
        on_created_entry: false,
    }
}

#[test]
fn token_is_deterministic_32_hex() {
    let t = client_request_token(MID, ROLE);
    assert_eq!(t.len(), 32);
    assert!(t
        .chars()
        .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
    assert_eq!(t, client_request_token(MID, ROLE));
    assert_eq!(
        t,
        sha256_hex(format!("{MID}\n{ROLE}").as_bytes())[..32].to_string()
    );
    assert_ne!(t, client_request_token(MID, ADMIN));
    assert_ne!(t, client_request_token("m-other", ROLE));
}

#[test]
fn steps_in_order_creates_then_updates() {
    let p = plan(
        vec![
            update_entry(),
            entry(
                ROLE,
                Action::Create,
                &["dev"],
                vec![assoc(view(), AccessScope::cluster())],
            ),
            entry(OPS, Action::Noop, &[], vec![]),
            entry(
                "arn:aws:iam::111122223333:role/x",
                Action::Conflict,
                &[],
                vec![],
            ),
            entry(
                "arn:aws:iam::111122223333:role/cluster-creator",
                Action::Unmanaged,
                &[],
                vec![],
            ),
        ],
        Some("API_AND_CONFIG_MAP"),
    );
    let steps = steps_for(&p, MID, "0.1.0").unwrap();
    assert_eq!(
        steps,
        vec![
            create_dev(),
            assoc_dev(),
            update_admin(),
            widen_admin_view(),
            add_admin_edit()
        ]
    );
    // A diff listing only the wanted (narrower) scope still widens, never narrows.
    let mut legacy = update_entry();
    legacy.diff.as_mut().unwrap().missing_policies[0] = assoc(view(), ns(&["b"]));
    assert_eq!(
        steps_for(&plan(vec![legacy], None), MID, "0.1.0").unwrap(),
        vec![update_admin(), widen_admin_view(), add_admin_edit()]
    );
}

#[test]
fn create_with_several_policies_and_node_entry() {
    let mut node = entry(
        "arn:aws:iam::111122223333:role/nodes",
        Action::Create,
        &[],
        vec![],
    );
    node.entry_type = EntryType::Ec2Linux;
    let mut ops = entry(
        OPS,
        Action::Create,
        &[],
        vec![
            assoc(admin(), AccessScope::cluster()),
            assoc(view(), ns(&["x"])),
        ],
    );
    ops.username = Some("ops".into());
    let steps = steps_for(&plan(vec![ops, node], None), MID, "9.9.9").unwrap();
    let ops_tags: BTreeMap<String, String> = [
        (TAG_MIGRATION_ID.to_string(), MID.to_string()),
        (TAG_VERSION.to_string(), "9.9.9".to_string()),
    ]
    .into();
    assert_eq!(steps.len(), 4);
    assert_eq!(
        steps[0],
        Step::CreateEntry {
            principal_arn: OPS.into(),
            entry_type: EntryType::Standard,
            username: Some("ops".into()),
            kubernetes_groups: vec![],
            tags: ops_tags.clone(),
            client_request_token: client_request_token(MID, OPS),
        }
    );
    assert_eq!(steps[1].op(), "associate-policy");
    assert_eq!(steps[2].op(), "associate-policy");
    assert_eq!(
        steps[3],
        Step::CreateEntry {
            principal_arn: "arn:aws:iam::111122223333:role/nodes".into(),
            entry_type: EntryType::Ec2Linux,
            username: None,
            kubernetes_groups: vec![],
            tags: ops_tags,
            client_request_token: client_request_token(MID, "arn:aws:iam::111122223333:role/nodes"),
        }
    );
}

#[test]
fn update_without_diff_is_refused_and_policy_only_update_has_no_update_step() {
    let mut e = update_entry();
    e.diff = None;
    assert_eq!(
        steps_for(&plan(vec![e], None), MID, "0.1.0")
            .unwrap_err()
            .to_string(),
        format!("the plan updates {ADMIN} but does not say what exists now; re-plan against the cluster")
    );
    let mut e = update_entry();
    e.diff.as_mut().unwrap().missing_groups.clear();
    let steps = steps_for(&plan(vec![e], None), MID, "0.1.0").unwrap();
    assert_eq!(steps, vec![widen_admin_view(), add_admin_edit()]);
}

#[test]
fn mode_step_only_from_config_map() {
    assert_eq!(
        mode_step(&plan(vec![], Some("CONFIG_MAP"))),
        Some(Step::EnableAccessEntries {
            from_mode: "CONFIG_MAP".into()
        })
    );
    assert_eq!(mode_step(&plan(vec![], Some("API_AND_CONFIG_MAP"))), None);
    assert_eq!(mode_step(&plan(vec![], Some("API"))), None);
    assert_eq!(mode_step(&plan(vec![], None)), None);
}

#[test]
fn serialised_form() {
    let v = serde_json::to_value(create_dev()).unwrap();
    assert_eq!(
        v,
        serde_json::json!({
            "op": "create-entry",
            "principal_arn": ROLE,
            "type": "STANDARD",
            "username": null,
            "kubernetes_groups": ["dev"],
            "tags": {"aws-auth-migrate/migration-id": MID, "aws-auth-migrate/version": "0.1.0"},
            "client_request_token": client_request_token(MID, ROLE),
        })
    );
    assert_eq!(
        serde_json::to_value(Step::EnableAccessEntries {
            from_mode: "CONFIG_MAP".into()
        })
        .unwrap(),
        serde_json::json!({"op": "enable-access-entries", "from_mode": "CONFIG_MAP"})
    );
    assert_eq!(
        serde_json::to_value(widen_admin_view()).unwrap(),
        serde_json::json!({
            "op": "associate-policy",
            "principal_arn": ADMIN,
            "policy_arn": view(),
            "access_scope": {"type": "namespace", "namespaces": ["a", "b"]},
            "prior_scope": {"type": "namespace", "namespaces": ["a"]},
            "on_created_entry": false,
        })
    );
    assert_eq!(
        serde_json::to_value(create_dev().inverse()).unwrap(),
        serde_json::json!({
            "kind": "undo",
            "step": {"op": "delete-entry", "principal_arn": ROLE, "tags": tags()},
        })
    );
    assert_eq!(
        serde_json::to_value(failed()).unwrap(),
        serde_json::json!({"status": "failed", "code": "ThrottlingException", "message": "Rate exceeded"})
    );
    for s in [
        create_dev(),
        assoc_dev(),
        update_admin(),
        widen_admin_view(),
        add_admin_edit(),
        Step::EnableAccessEntries {
            from_mode: "CONFIG_MAP".into(),
        },
    ] {
        let back: Step = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        assert_eq!(back, s);
        let inv: Inverse =
            serde_json::from_str(&serde_json::to_string(&s.inverse()).unwrap()).unwrap();
        assert_eq!(inv, s.inverse());
    }
}

#[test]
fn inverses() {
    assert_eq!(
        create_dev().inverse(),
        Inverse::Undo {
            step: Step::DeleteEntry {
                principal_arn: ROLE.into(),
                tags: tags()
            }
        }
    );
    assert_eq!(
        assoc_dev().inverse(),
        Inverse::Covered {
            principal_arn: ROLE.into()
        }
    );
    assert_eq!(
        add_admin_edit().inverse(),
        Inverse::Undo {
            step: Step::DisassociatePolicy {
                principal_arn: ADMIN.into(),
                policy_arn: edit(),
                access_scope: ns(&["c"]),
            }
        }
    );
    assert_eq!(
        widen_admin_view().inverse(),
        Inverse::Undo {
            step: Step::AssociatePolicy {
                principal_arn: ADMIN.into(),
                policy_arn: view(),
                access_scope: ns(&["a"]),
                prior_scope: Some(ns(&["a", "b"])),
                on_created_entry: false,
            }
        }
    );
    assert_eq!(
        update_admin().inverse(),
        Inverse::Undo {
            step: Step::UpdateEntry {
                principal_arn: ADMIN.into(),
                username: Some("admin".into()),
                kubernetes_groups: strings(&["ops"]),
                prior_username: Some("admin".into()),
                prior_groups: strings(&["dev", "ops"]),
            }
        }
    );
    assert_eq!(
        Step::EnableAccessEntries {
            from_mode: "CONFIG_MAP".into()
        }
        .inverse(),
        Inverse::Irreversible {
            reason: "EKS authentication modes only move forward: CONFIG_MAP cannot be restored"
                .into()
        }
    );
    let del = Step::DeleteEntry {
        principal_arn: ROLE.into(),
        tags: tags(),
    };
    assert_eq!(
        del.inverse(),
        Inverse::Irreversible {
            reason: "a rollback step is not itself undone".into()
        }
    );
}

#[test]
fn principals_and_runs() {
    assert_eq!(create_dev().principal_arn(), Some(ROLE));
    assert_eq!(
        Step::EnableAccessEntries {
            from_mode: "CONFIG_MAP".into()
        }
        .principal_arn(),
        None
    );
    let enable = Step::EnableAccessEntries {
        from_mode: "CONFIG_MAP".into(),
    };
    let runs = by_principal(&[
        enable.clone(),
        create_dev(),
        update_admin(),
        assoc_dev(),
        widen_admin_view(),
    ]);
    assert_eq!(
        runs,
        vec![
            vec![enable],
            vec![create_dev(), assoc_dev()],
            vec![update_admin(), widen_admin_view()],
        ]
    );
}

#[test]
fn rollback_reverses_effective_steps_and_folds_associations() {
    let enable = Step::EnableAccessEntries {
        from_mode: "CONFIG_MAP".into(),
    };
    let ops_create = Step::CreateEntry {
        principal_arn: OPS.into(),
        entry_type: EntryType::Standard,
        username: None,
        kubernetes_groups: vec![],
        tags: tags(),
        client_request_token: client_request_token(MID, OPS),
    };
    let done_list = vec![
        (enable.clone(), done()),
        (create_dev(), done()),
        (assoc_dev(), done()),
        (ops_create, failed()),
        (update_admin(), done()),
        (widen_admin_view(), done()),
        (add_admin_edit(), Outcome::skipped("x")),
    ];
    let undos = rollback_steps(&done_list);
    assert_eq!(
        undos,
        vec![
            Undo {
                index: 5,
                step: widen_admin_view(),
                inverse: widen_admin_view().inverse(),
                covers: vec![],
            },
            Undo {
                index: 4,
                step: update_admin(),
                inverse: update_admin().inverse(),
                covers: vec![],
            },
            Undo {
                index: 1,
                step: create_dev(),
                inverse: create_dev().inverse(),
                covers: vec![assoc(view(), AccessScope::cluster())],
            },
            Undo {
                index: 0,
                step: enable.clone(),
                inverse: enable.inverse(),
                covers: vec![],
            },
        ]
    );
    assert!(rollback_steps(&[]).is_empty());
}

#[test]
fn rollback_disassociates_when_the_creation_is_not_recorded() {
    let undos = rollback_steps(&[(create_dev(), failed()), (assoc_dev(), done())]);
    assert_eq!(
        undos,
        vec![Undo {
            index: 1,
            step: assoc_dev(),
            inverse: Inverse::Undo {
                step: Step::DisassociatePolicy {
                    principal_arn: ROLE.into(),
                    policy_arn: view(),
                    access_scope: AccessScope::cluster(),
                }
            },
            covers: vec![],
        }]
    );
}

fn ours(e: ExistingEntry) -> ExistingEntry {
    ExistingEntry { tags: tags(), ..e }
}

#[test]
fn settle_create() {
    let s = create_dev();
    assert_eq!(settle(&s, None), Settled::NotDone);
    let made = ours(existing(
        ROLE,
        Some("arn:aws:sts::111122223333:assumed-role/dev/{{SessionName}}"),
        &["dev"],
        vec![],
    ));
    assert_eq!(settle(&s, Some(&made)), Settled::Done);
    let theirs = existing(ROLE, None, &["dev"], vec![]);
    assert_eq!(
        settle(&s, Some(&theirs)),
        Settled::Diverged(format!(
            "an entry for {ROLE} exists without this migration's tags: someone else created it"
        ))
    );
    let changed = ours(existing(ROLE, None, &["dev", "more"], vec![]));
    assert_eq!(
        settle(&s, Some(&changed)),
        Settled::Diverged(format!(
            "the entry for {ROLE} was created by this migration but changed since: its groups are [dev, more]"
        ))
    );
    let renamed = ours(existing(ROLE, Some("someone"), &["dev"], vec![]));
    assert_eq!(
        settle(&s, Some(&renamed)),
        Settled::Diverged(format!(
            "the entry for {ROLE} was created by this migration but changed since: its username is someone"
        ))
    );
    // Node entries: EKS fills in username and groups; only the type counts.
    let nodes = "arn:aws:iam::111122223333:role/nodes";
    let node_step = Step::CreateEntry {
        principal_arn: nodes.into(),
        entry_type: EntryType::Ec2Linux,
        username: None,
        kubernetes_groups: vec![],
        tags: tags(),
        client_request_token: client_request_token(MID, nodes),
    };
    let mut node = ours(existing(
        nodes,
        Some("system:node:{{EC2PrivateDNSName}}"),
        &["system:nodes"],
        vec![],
    ));
    node.entry_type = "EC2_LINUX".into();
    assert_eq!(settle(&node_step, Some(&node)), Settled::Done);
    assert_eq!(
        still_as_left(&undo_of(node_step.clone(), vec![]), Some(&node)),
        Ok(())
    );
    node.entry_type = "STANDARD".into();
    assert_eq!(
        settle(&node_step, Some(&node)),
        Settled::Diverged(format!(
            "the entry for {nodes} was created by this migration but changed since: its type is STANDARD"
        ))
    );
}

#[test]
fn reconcile_runs_adopts_or_reports() {
    let group = vec![create_dev(), assoc_dev()];
    // Nothing there: everything runs.
    assert_eq!(
        reconcile(&group, None),
        vec![Reconciled::Run, Reconciled::Run]
    );
    // Someone else's entry, as planned (a wider scope covers): adopted.
    let wide = existing(
        ROLE,
        None,
        &["dev"],
        vec![assoc(view(), AccessScope::cluster())],
    );
    let adopted = reconcile(&group, Some(&wide));
    assert_eq!(adopted.len(), 2);
    assert!(
        matches!(&adopted[0], Reconciled::Adopted(w) if w.contains("adopted")),
        "{adopted:?}"
    );
    // Someone else's entry lacking the policy, or with other groups: diverged, once.
    let bare = existing(ROLE, None, &["dev"], vec![]);
    assert_eq!(
        reconcile(&group, Some(&bare)),
        vec![Reconciled::Diverged(format!(
            "an entry for {ROLE} made by someone else exists and differs from the plan: {} has scope none, the plan needs cluster; it is left as it is",
            view()
        ))]
    );
    let other = existing(
        ROLE,
        None,
        &["ops"],
        vec![assoc(view(), AccessScope::cluster())],
    );
    assert!(matches!(
        &reconcile(&group, Some(&other))[..],
        [Reconciled::Diverged(w)] if w.contains("its groups are [ops]")
    ));
    // Our own entry (a lost success): done; its association still runs.
    let mine = ours(existing(ROLE, None, &["dev"], vec![]));
    assert_eq!(
        reconcile(&group, Some(&mine)),
        vec![Reconciled::Done, Reconciled::Run]
    );
    // An association whose scope someone changed: diverged, not redone.
    let moved = ours(existing(
        ROLE,
        None,
        &["dev"],
        vec![assoc(view(), ns(&["x"]))],
    ));
    assert!(matches!(
        &reconcile(&[assoc_dev()], Some(&moved))[..],
        [Reconciled::Diverged(w)] if w.contains("has scope ns:x")
    ));
    // Our entry deleted since: its association is diverged.
    assert!(matches!(
        &reconcile(&[assoc_dev()], None)[..],
        [Reconciled::Diverged(w)] if w.contains("no longer exists")
    ));
    // Merge steps on an entry still as before run; the first diverged
    // one stops the principal.
    let admin = existing(
        ADMIN,
        Some("admin"),
        &["ops"],
        vec![assoc(view(), ns(&["a"]))],
    );
    let merge = vec![update_admin(), widen_admin_view(), add_admin_edit()];
    assert_eq!(reconcile(&merge, Some(&admin)), vec![Reconciled::Run; 3]);
    let renamed = existing(ADMIN, Some("root"), &["ops"], vec![]);
    assert!(matches!(
        &reconcile(&merge, Some(&renamed))[..],
        [Reconciled::Diverged(_)]
    ));
}

#[test]
fn settle_associate() {
    let s = add_admin_edit();
    let before = existing(ADMIN, Some("admin"), &["ops"], vec![]);
    let after = existing(
        ADMIN,
        Some("admin"),
        &["ops"],
        vec![assoc(edit(), ns(&["c"]))],
    );
    let other = existing(
        ADMIN,
        Some("admin"),
        &["ops"],
        vec![assoc(edit(), ns(&["z"]))],
    );
    assert_eq!(settle(&s, Some(&before)), Settled::NotDone);
    assert_eq!(settle(&s, Some(&after)), Settled::Done);
    assert_eq!(
        settle(&s, Some(&other)),
        Settled::Diverged(format!(
            "{} on {ADMIN} has scope ns:z, neither none (before) nor ns:c (after)",
            edit()
        ))
    );
    assert_eq!(
        settle(&s, None),
        Settled::Diverged(format!("the entry for {ADMIN} no longer exists"))
    );
    let w = widen_admin_view();
    let prior = existing(ADMIN, None, &[], vec![assoc(view(), ns(&["a"]))]);
    let widened = existing(ADMIN, None, &[], vec![assoc(view(), ns(&["b", "a"]))]);
    let removed = existing(ADMIN, None, &[], vec![]);
    assert_eq!(settle(&w, Some(&prior)), Settled::NotDone);
    assert_eq!(settle(&w, Some(&widened)), Settled::Done);
    assert_eq!(
        settle(&w, Some(&removed)),
        Settled::Diverged(format!(
            "{} on {ADMIN} has scope none, neither ns:a (before) nor ns:a,b (after)",
            view()
        ))
    );
}

#[test]
fn settle_update() {
    let s = update_admin();
    let before = existing(ADMIN, Some("admin"), &["ops"], vec![]);
    let after = existing(ADMIN, Some("admin"), &["dev", "ops"], vec![]);
    let neither = existing(ADMIN, Some("admin"), &["other"], vec![]);
    assert_eq!(settle(&s, Some(&before)), Settled::NotDone);
    assert_eq!(settle(&s, Some(&after)), Settled::Done);
    assert_eq!(
        settle(&s, Some(&neither)),
        Settled::Diverged(format!(
            "the entry for {ADMIN} has username admin and groups [other], neither the state before nor after the update"
        ))
    );
    assert_eq!(
        settle(&s, None),
        Settled::Diverged(format!("the entry for {ADMIN} no longer exists"))
    );
}

#[test]
fn settle_rollback_steps() {
    let del = Step::DeleteEntry {
        principal_arn: ROLE.into(),
        tags: tags(),
    };
    assert_eq!(settle(&del, None), Settled::Done);
    let mine = ours(existing(ROLE, None, &["dev"], vec![]));
    assert_eq!(settle(&del, Some(&mine)), Settled::NotDone);
    assert!(matches!(
        settle(&del, Some(&existing(ROLE, None, &[], vec![]))),
        Settled::Diverged(_)
    ));
    let dis = Step::DisassociatePolicy {
        principal_arn: ADMIN.into(),
        policy_arn: edit(),
        access_scope: ns(&["c"]),
    };
    assert_eq!(
        settle(&dis, Some(&existing(ADMIN, None, &[], vec![]))),
        Settled::Done
    );
    assert_eq!(
        settle(
            &dis,
            Some(&existing(ADMIN, None, &[], vec![assoc(edit(), ns(&["c"]))]))
        ),
        Settled::NotDone
    );
    assert_eq!(
        settle(
            &dis,
            Some(&existing(
                ADMIN,
                None,
                &[],
                vec![assoc(edit(), AccessScope::cluster())]
            ))
        ),
        Settled::Diverged(format!("{} on {ADMIN} has scope cluster, not ns:c", edit()))
    );
    assert!(matches!(settle(&dis, None), Settled::Diverged(_)));
}

#[test]
fn settle_mode_switch() {
    let s = Step::EnableAccessEntries {
        from_mode: "CONFIG_MAP".into(),
    };
    assert_eq!(
        settle_mode(&s, &"API_AND_CONFIG_MAP".into(), false),
        Settled::Done
    );
    assert_eq!(settle_mode(&s, &"API".into(), false), Settled::Done);
    assert_eq!(
        settle_mode(&s, &"CONFIG_MAP".into(), true),
        Settled::InProgress
    );
    assert_eq!(
        settle_mode(&s, &"CONFIG_MAP".into(), false),
        Settled::NotDone
    );
    assert_eq!(
        settle_mode(&s, &"WEIRD".into(), false),
        Settled::Diverged(
            "the authentication mode is WEIRD, expected CONFIG_MAP or API_AND_CONFIG_MAP".into()
        )
    );
    assert_eq!(
        settle_mode(&create_dev(), &"API".into(), false),
        Settled::Diverged("create-entry is settled from the principal's entry (settle)".into())
    );
    assert!(matches!(settle(&s, None), Settled::Diverged(_)));
}

#[test]
fn settled_outcomes() {
    assert_eq!(
        Settled::Done.to_outcome(),
        Some(Outcome::Done {
            response: serde_json::json!({"settled": "observed on resume"})
        })
    );
    assert_eq!(
        Settled::NotDone.to_outcome(),
        Some(Outcome::Failed {
            code: "NotDone".into(),
            message: "interrupted before it took effect (observed on resume)".into()
        })
    );
    assert_eq!(
        Settled::Diverged("x".into()).to_outcome(),
        Some(Outcome::Failed {
            code: "Diverged".into(),
            message: "x".into()
        })
    );
    assert_eq!(Settled::InProgress.to_outcome(), None);
    assert!(done().took_effect());
    assert!(!failed().took_effect());
    assert!(!Outcome::skipped("r").took_effect());
}

fn undo_of(step: Step, covers: Vec<PolicyAssociation>) -> Undo {
    Undo {
        index: 0,
        inverse: step.inverse(),
        step,
        covers,
    }
}

#[test]
fn still_as_left_created_entry() {
    let u = undo_of(create_dev(), vec![assoc(view(), AccessScope::cluster())]);
    let left = ours(existing(
        ROLE,
        None,
        &["dev"],
        vec![assoc(view(), AccessScope::cluster())],
    ));
    assert_eq!(still_as_left(&u, Some(&left)), Ok(()));
    assert_eq!(
        still_as_left(&u, None),
        Err(format!("the entry for {ROLE} no longer exists"))
    );
    let mut touched = left.clone();
    touched.kubernetes_groups.push("extra".into());
    touched
        .policies
        .push(assoc(admin(), AccessScope::cluster()));
    touched.policies[0].access_scope = ns(&["q"]);
    assert_eq!(
        still_as_left(&u, Some(&touched)),
        Err(format!(
            "the entry for {ROLE} changed since this migration created it: its groups are [dev, extra]; {} now has scope ns:q; {} was associated by someone else",
            view(),
            admin()
        ))
    );
    let mut retagged = left;
    retagged.tags.clear();
    retagged.username = Some("x".into());
    assert_eq!(
        still_as_left(&u, Some(&retagged)),
        Err(format!(
            "the entry for {ROLE} changed since this migration created it: its tags no longer name this migration; its username is x"
        ))
    );
}

#[test]
fn still_as_left_association_and_update() {
    let a = undo_of(add_admin_edit(), vec![]);
    let left = existing(
        ADMIN,
        Some("admin"),
        &["ops", "dev"],
        vec![assoc(edit(), ns(&["c"]))],
    );
    assert_eq!(still_as_left(&a, Some(&left)), Ok(()));
    let widened = existing(
        ADMIN,
        Some("admin"),
        &["ops", "dev"],
        vec![assoc(edit(), ns(&["c", "d"]))],
    );
    assert_eq!(
        still_as_left(&a, Some(&widened)),
        Err(format!(
            "{} on {ADMIN} has scope ns:c,d since, not ns:c as left",
            edit()
        ))
    );
    assert_eq!(
        still_as_left(&a, Some(&existing(ADMIN, None, &[], vec![]))),
        Err(format!(
            "{} on {ADMIN} has scope none since, not ns:c as left",
            edit()
        ))
    );
    let u = undo_of(update_admin(), vec![]);
    assert_eq!(still_as_left(&u, Some(&left)), Ok(()));
    let edited = existing(ADMIN, Some("admin"), &["ops"], vec![]);
    assert_eq!(
        still_as_left(&u, Some(&edited)),
        Err(format!(
            "the entry for {ADMIN} changed since this migration updated it: username admin, groups [ops]"
        ))
    );
    assert_eq!(
        still_as_left(&u, None),
        Err(format!("the entry for {ADMIN} no longer exists"))
    );
    let irreversible = undo_of(
        Step::EnableAccessEntries {
            from_mode: "CONFIG_MAP".into(),
        },
        vec![],
    );
    assert_eq!(still_as_left(&irreversible, None), Ok(()));
}

/// A journal written by another version, naming a mode this one does not
/// know, still reads and writes back unchanged.
#[test]
fn unknown_modes_in_a_journal_round_trip() {
    let line = serde_json::json!({"op": "switch-to-api", "from_mode": "SOME_FUTURE_MODE"});
    let step: Step = serde_json::from_value(line.clone()).unwrap();
    assert_eq!(
        step,
        Step::SwitchToApi {
            from_mode: AuthMode::Other("SOME_FUTURE_MODE".into())
        }
    );
    assert_eq!(serde_json::to_value(&step).unwrap(), line);
    let known: Step = serde_json::from_value(
        serde_json::json!({"op": "enable-access-entries", "from_mode": "CONFIG_MAP"}),
    )
    .unwrap();
    assert_eq!(
        known,
        Step::EnableAccessEntries {
            from_mode: AuthMode::ConfigMap
        }
    );
}
