use super::*;
use crate::core::access_report::RbacSource;
use crate::core::planner::{self, SourceInfo};
use crate::core::rbac::compare::Change;
use crate::core::rbac::model::{Binding, PolicyRule, Role, RoleKind, Snapshot, Subject};
use crate::core::translate::Options;

fn change_lines(changes: &[Change]) -> Vec<String> {
    changes.iter().map(Change::text).collect()
}

const AWS_AUTH: &str = r"
apiVersion: v1
kind: ConfigMap
metadata: {name: aws-auth, namespace: kube-system}
data:
  mapRoles: |
    - rolearn: arn:aws:iam::111122223333:role/admin
      username: admin
      groups: [system:masters]
    - rolearn: arn:aws:iam::111122223333:role/dev
      username: dev:{{SessionName}}
      groups: [devs]
    - rolearn: arn:aws:iam::111122223333:role/nobody
      username: nobody
      groups: [unbound]
    - rolearn: arn:aws:iam::111122223333:role/node
      username: system:node:{{EC2PrivateDNSName}}
      groups: [system:bootstrappers, system:nodes]
  mapUsers: |
    - userarn: arn:aws:iam::111122223333:user/ops
      username: ops
      groups: [ops]
";

fn plan() -> Plan {
    let source = SourceInfo {
        kind: "file".into(),
        path: None,
    };
    planner::plan_offline(AWS_AUTH.as_bytes(), source, &Options::default()).unwrap()
}

fn rbac() -> Snapshot {
    Snapshot {
        roles: vec![Role::cluster_role(
            "reader",
            vec![PolicyRule::resource(&[""], &["pods"], &["get", "list"])],
        )],
        bindings: vec![
            Binding::cluster("devs", "reader", vec![Subject::group("devs")]),
            Binding::namespaced(
                "team",
                "ops",
                RoleKind::ClusterRole,
                "reader",
                vec![Subject::user("ops")],
            ),
        ],
        incomplete: vec![],
    }
}

fn source() -> RbacSource {
    RbacSource {
        kind: "file".into(),
        path: Some("rbac.yaml".into()),
        roles: 1,
        bindings: 2,
        incomplete: vec![],
        skipped: vec![],
    }
}

#[test]
fn every_principal_gets_a_verdict() {
    let plan = plan();
    let index = Index::new(&rbac());
    let report = analyse(&plan, &index, source(), AfterFrom::Planned);
    let verdicts: Vec<(&str, Verdict)> = report
        .principals
        .iter()
        .map(|p| (p.principal_arn.as_str(), p.comparison.verdict))
        .collect();
    assert_eq!(
        verdicts,
        vec![
            ("arn:aws:iam::111122223333:role/admin", Verdict::Same),
            ("arn:aws:iam::111122223333:role/dev", Verdict::Same),
            ("arn:aws:iam::111122223333:role/nobody", Verdict::Same),
            ("arn:aws:iam::111122223333:role/node", Verdict::Same),
            ("arn:aws:iam::111122223333:user/ops", Verdict::Same),
        ]
    );
    assert_eq!(
        report.unbound_groups,
        vec!["ops".to_string(), "unbound".to_string()]
    );
    assert_eq!(report.summary.same, 5);
}

#[test]
fn an_existing_entry_with_another_username_loses_the_user_binding() {
    let mut plan = plan();
    plan.existing = Some(vec![ExistingEntry {
        principal_arn: "arn:aws:iam::111122223333:user/ops".into(),
        entry_type: "STANDARD".into(),
        username: None,
        kubernetes_groups: vec!["ops".into()],
        policies: vec![],
        tags: Default::default(),
    }]);
    let index = Index::new(&rbac());
    let report = analyse(&plan, &index, source(), AfterFrom::Existing);
    let ops = report.of("arn:aws:iam::111122223333:user/ops").unwrap();
    assert_eq!(ops.comparison.verdict, Verdict::Loses);
    assert_eq!(
        ops.after.as_ref().unwrap().username,
        "arn:aws:iam::111122223333:user/ops"
    );
    assert_eq!(
        change_lines(&ops.comparison.loses),
        vec!["get,list pods in namespace team"]
    );
    // No entry at all: everything is lost, even signing in.
    let admin = report.of("arn:aws:iam::111122223333:role/admin").unwrap();
    assert_eq!(admin.comparison.verdict, Verdict::Loses);
    assert!(admin.after.is_none());
    let nobody = report.of("arn:aws:iam::111122223333:role/nobody").unwrap();
    assert_eq!(
        change_lines(&nobody.comparison.loses),
        vec!["sign-in the cluster cluster-wide"]
    );
}

#[test]
fn default_usernames_follow_eks() {
    assert_eq!(
        default_username(EntryType::Standard, "arn:aws:iam::111122223333:role/a/b/r"),
        "arn:aws:sts::111122223333:assumed-role/r/{{SessionName}}"
    );
    assert_eq!(
        default_username(EntryType::Standard, "arn:aws:iam::111122223333:user/u"),
        "arn:aws:iam::111122223333:user/u"
    );
    assert_eq!(
        default_username(EntryType::FargateLinux, "arn:aws:iam::111122223333:role/f"),
        "system:node:{{SessionName}}"
    );
}
