use super::*;
use crate::core::export::check::check_module;
use crate::core::export::fixtures;
use crate::core::export::{export, ExportFormat};

fn checked(state: &TargetState) -> String {
    let problems = check_module(&body(state), LOCAL, MODULE);
    assert!(problems.is_empty(), "{problems:#?}");
    let files = render(state);
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].name, FILE);
    files[0].text.clone()
}

#[test]
fn offline_example() {
    let state = TargetState::of(&fixtures::offline(true));
    let out = checked(&state);
    assert!(!out.contains("import {"));
    insta::assert_snapshot!("terraform_module_offline_policy_map", out);
}

#[test]
fn live_plan_imports_at_the_module_addresses() {
    let plan = fixtures::live();
    let state = TargetState::of(&plan);
    let out = checked(&state);
    for want in [
        "to = module.eks.aws_eks_access_entry.this[\"role_admin\"]\n  id = \"prod:arn:aws:iam::111122223333:role/Admin\"",
        "to = module.eks.aws_eks_access_policy_association.this[\"role_admin_cluster_admin\"]\n  id = \"prod#arn:aws:iam::111122223333:role/Admin#arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy\"",
        "The cluster creator's entry is exported (role_admin",
    ] {
        assert!(out.contains(want), "{want}\n{out}");
    }
    assert_eq!(
        export(&plan, ExportFormat::TerraformModule).expect("the export passes its check"),
        render(&state)
    );
    insta::assert_snapshot!("terraform_module_live", out);
}

#[test]
fn odd_data_passes_the_check() {
    let state = crate::core::export::terraform::tests::odd_state();
    let out = checked(&state);
    assert!(
        out.contains("id = \"we\\\"ird$${x}:arn:aws:iam::111122223333:role/reserved\""),
        "{out}"
    );
}

#[test]
fn without_a_cluster_name_ids_use_the_variable() {
    let mut state = TargetState::of(&fixtures::live());
    state.cluster = None;
    let out = checked(&state);
    assert!(out.contains("id = \"${var.cluster_name}:arn:aws:iam::111122223333:role/Admin\""));
    assert!(out.contains("Terraform >= 1.6"));
}
