use super::*;
use crate::core::export::check::check_terraform;
use crate::core::export::fixtures::{self, assoc};
use crate::core::export::model::LeftOut;
use crate::core::export::{export, ExportFormat};

fn text(state: &TargetState) -> String {
    let files = render(state);
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].name, FILE);
    files[0].text.clone()
}

fn checked(state: &TargetState) -> String {
    let problems = check_terraform(&body(state));
    assert!(problems.is_empty(), "{problems:#?}");
    text(state)
}

#[test]
fn offline_example() {
    let state = TargetState::of(&fixtures::offline(false));
    let out = checked(&state);
    assert!(!out.contains("import {"));
    assert!(!out.contains("default     ="), "no cluster name offline");
    insta::assert_snapshot!("terraform_offline", out);
}

#[test]
fn offline_example_with_policy_map() {
    let state = TargetState::of(&fixtures::offline(true));
    insta::assert_snapshot!("terraform_offline_policy_map", checked(&state));
}

#[test]
fn live_plan_imports_what_exists() {
    let plan = fixtures::live();
    let state = TargetState::of(&plan);
    let out = checked(&state);
    // The creator (unmanaged), alice (spelled as EKS holds her), a node entry.
    for id in [
        "id = \"${var.cluster_name}:arn:aws:iam::111122223333:role/Admin\"",
        "id = \"${var.cluster_name}:arn:aws:iam::111122223333:user/Alice\"",
        "id = \"${var.cluster_name}:arn:aws:iam::111122223333:role/eks-nodegroup-general\"",
        "id = \"${var.cluster_name}#arn:aws:iam::111122223333:user/bob#arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy\"",
    ] {
        assert!(out.contains(id), "{id}\n{out}");
    }
    assert!(!out.contains("user/alice\""), "{out}");
    // HyperPod's type is not the provider's; the conflict is left out.
    assert!(out.contains("# - arn:aws:iam::111122223333:role/hyperpod: type HYPERPOD_LINUX"));
    assert!(!out.contains("\"arn:aws:iam::444455556666:role/ci-deployer\""));
    assert!(out.contains("default     = \"prod\""));
    assert_eq!(out, text(&TargetState::of(&plan)), "deterministic");
    assert_eq!(
        export(&plan, ExportFormat::Terraform).expect("the export passes its check"),
        render(&state)
    );
    insta::assert_snapshot!("terraform_live", out);
}

fn entry(name: &str, arn: &str, entry_type: &str) -> TargetEntry {
    TargetEntry {
        name: name.into(),
        principal_arn: arn.into(),
        entry_type: entry_type.into(),
        username: None,
        kubernetes_groups: vec![],
        tags: std::collections::BTreeMap::new(),
        associations: vec![],
        exists: false,
        action: Action::Create,
    }
}

/// Data no plan of ours makes, as a hand-edited saved plan could hold.
pub(crate) fn odd_state() -> TargetState {
    let mut tricky = entry(
        "role_tricky",
        "arn:aws:iam::111122223333:role/tricky",
        "STANDARD",
    );
    tricky.username = Some("a\"b\\c ${x} %{y} {{SessionName}}".into());
    tricky.kubernetes_groups = vec!["g${1}".into()];
    let mut empty_ns = assoc("AmazonEKSViewPolicy", &["x"]);
    empty_ns.access_scope.namespaces.clear();
    tricky.associations = vec![
        TargetAssociation {
            policy: assoc("AmazonEKSEditPolicy", &["apps"]),
            exists: false,
        },
        TargetAssociation {
            policy: empty_ns,
            exists: false,
        },
        TargetAssociation {
            policy: PolicyAssociation {
                policy_arn: "arn:aws:iam::aws:policy/AdministratorAccess".into(),
                access_scope: AccessScope::cluster(),
            },
            exists: false,
        },
    ];
    let mut reserved = entry(
        "role_reserved",
        "arn:aws:iam::111122223333:role/reserved",
        "STANDARD",
    );
    reserved.username = Some("system:admin".into());
    reserved.exists = true;
    reserved.action = Action::Unmanaged;
    let mut node = entry(
        "role_node",
        "arn:aws:iam::111122223333:role/node",
        "EC2_LINUX",
    );
    node.username = Some("system:node:{{EC2PrivateDNSName}}".into());
    node.kubernetes_groups = vec!["system:nodes".into()];
    node.associations = vec![TargetAssociation {
        policy: assoc("AmazonEKSViewPolicy", &[]),
        exists: false,
    }];
    TargetState {
        cluster: Some("we\"ird${x}".into()),
        region: None,
        partition: "aws".into(),
        entries: vec![
            node,
            entry("p_12345", "12345", "STANDARD"),
            reserved,
            tricky,
            entry(
                "role_x",
                "arn:aws:iam::111122223333:role/x",
                "HYPERPOD_LINUX",
            ),
        ],
        left_out: vec![LeftOut {
            what: "mapRoles[3] (line 12)".into(),
            why: "line one\nline two\u{7}".into(),
        }],
        live: true,
    }
}

use crate::core::policy::{AccessScope, PolicyAssociation};

#[test]
fn odd_data_becomes_comments_and_strings_are_escaped() {
    let out = checked(&odd_state());
    assert!(
        out.contains("user_name         = \"a\\\"b\\\\c $${x} %%{y} {{SessionName}}\""),
        "{out}"
    );
    assert!(out.contains("kubernetes_groups = [\"g$${1}\"]"), "{out}");
    assert!(out.contains("default     = \"we\\\"ird$${x}\""), "{out}");
    assert!(out.contains("# - 12345: not an IAM role or user ARN"));
    assert!(out.contains(
        "# username \"system:admin\" not written: EKS refuses usernames starting with system:"
    ));
    assert!(
        out.contains("#   line two"),
        "a multi-line reason stays a comment: {out}"
    );
    assert!(!out.contains('\u{7}'));
    insta::assert_snapshot!("terraform_odd", out);
}

#[test]
fn check_catches_what_the_provider_would_refuse() {
    use crate::core::export::hcl::{Expr, Item};
    let mut b = body(&TargetState::of(&fixtures::live()));
    assert!(check_terraform(&b).is_empty());
    // Break one thing at a time and see the check say so.
    let mut broken = 0;
    for item in &mut b {
        let Item::Block(block) = item else { continue };
        if block.kind == "resource" && block.labels[1] == "role_platform_admin" {
            block
                .body
                .push(Item::Attr("username".into(), Expr::str("x")));
            for i in &mut block.body {
                if let Item::Attr(k, v) = i {
                    if k == "type" {
                        *v = Expr::str("BOGUS");
                    }
                    if k == "user_name" {
                        *v = Expr::str("eks:x");
                    }
                }
            }
            broken += 1;
        }
        if block.kind == "import" && broken == 0 {
            if let Some(Item::Attr(_, v)) = block.body.get_mut(1) {
                *v = Expr::str("prod:arn:aws:iam::111122223333:role/other");
            }
            broken += 1;
        }
    }
    assert_eq!(broken, 2);
    let problems: Vec<String> = check_terraform(&b)
        .iter()
        .map(ToString::to_string)
        .collect();
    let all = problems.join("\n");
    for want in [
        "username is not an argument",
        "starts with eks:",
        "type \"BOGUS\" is not in the provider's enum",
        "is not the provider's ID of this resource",
    ] {
        assert!(all.contains(want), "{want}\n{all}");
    }
}

#[test]
fn policy_keys_are_readable() {
    let k = |n: &str| policy_key(&crate::core::policy::policy_arn("aws", n));
    assert_eq!(k("AmazonEKSClusterAdminPolicy"), "cluster_admin");
    assert_eq!(k("AmazonEKSViewPolicy"), "view");
    assert_eq!(k("AmazonEMRJobPolicy"), "amazon_emr_job");
    assert_eq!(k("AmazonAIOpsAssistantPolicy"), "amazon_ai_ops_assistant");
    assert_eq!(
        k("AmazonSagemakerHyperpodClusterPolicy"),
        "amazon_sagemaker_hyperpod_cluster"
    );
}
