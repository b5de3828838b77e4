//! Plans for the export tests: examples/aws-auth.yaml planned offline, and
//! a live-like plan whose cluster already has some entries.

use crate::core::diff;
use crate::core::existing::ExistingEntry;
use crate::core::plan::Plan;
use crate::core::planner::{self, SourceInfo};
use crate::core::policy::{policy_arn, AccessScope, PolicyAssociation};
use crate::core::policy_map::PolicyMap;
use crate::core::translate::Options;

pub(crate) const EXAMPLE: &str = include_str!("../../../examples/aws-auth.yaml");
pub(crate) const POLICY_MAP: &str = include_str!("../../../examples/policy-map.yaml");

fn source() -> SourceInfo {
    SourceInfo {
        kind: "file".into(),
        path: Some("examples/aws-auth.yaml".into()),
    }
}

/// `plan --file examples/aws-auth.yaml` (with `--policy-map
/// examples/policy-map.yaml` when `mapped`).
pub(crate) fn offline(mapped: bool) -> Plan {
    let opts = Options {
        policy_map: if mapped {
            PolicyMap::parse(POLICY_MAP).expect("the example policy map parses")
        } else {
            PolicyMap::default()
        },
        ..Options::default()
    };
    planner::plan_offline(EXAMPLE.as_bytes(), source(), &opts).expect("the example plans")
}

pub(crate) fn assoc(name: &str, namespaces: &[&str]) -> PolicyAssociation {
    PolicyAssociation {
        policy_arn: policy_arn("aws", name),
        access_scope: if namespaces.is_empty() {
            AccessScope::cluster()
        } else {
            AccessScope::namespaces(namespaces.iter().map(|n| (*n).to_string()).collect())
        },
    }
}

pub(crate) fn existing(
    arn: &str,
    entry_type: &str,
    username: Option<&str>,
    groups: &[&str],
    policies: Vec<PolicyAssociation>,
) -> ExistingEntry {
    ExistingEntry {
        principal_arn: arn.into(),
        entry_type: entry_type.into(),
        username: username.map(str::to_string),
        kubernetes_groups: groups.iter().map(|g| (*g).to_string()).collect(),
        policies,
        tags: Default::default(),
    }
}

/// The example, with the policy map, planned against cluster "prod" that
/// has: the creator's admin entry and an Auto Mode node entry (neither in
/// aws-auth), a HyperPod entry (a type the Terraform provider lacks), the
/// general node group's entry and platform-admin's (matching), alice's
/// (spelled `Alice`, matching), bob's (lacking a namespace of the View
/// policy: updated, as with --merge-existing) and ci-deployer's (another type: conflict).
pub(crate) fn live() -> Plan {
    const A: &str = "arn:aws:iam::111122223333";
    let existing = vec![
        existing(
            &format!("{A}:role/Admin"),
            "STANDARD",
            Some(&format!("{A}:role/Admin")),
            &[],
            vec![assoc("AmazonEKSClusterAdminPolicy", &[])],
        ),
        existing(
            &format!("{A}:role/eks-auto-node"),
            "EC2",
            Some("system:node:{{EC2PrivateDNSName}}"),
            &[],
            vec![assoc("AmazonEKSAutoNodePolicy", &[])],
        ),
        existing(
            &format!("{A}:role/hyperpod"),
            "HYPERPOD_LINUX",
            Some("system:node:{{SessionName}}"),
            &["system:nodes"],
            vec![],
        ),
        existing(
            &format!("{A}:role/eks-nodegroup-general"),
            "EC2_LINUX",
            Some("system:node:{{EC2PrivateDNSName}}"),
            &["system:nodes"],
            vec![],
        ),
        existing(
            &format!("{A}:role/platform-admin"),
            "STANDARD",
            Some("platform-admin:{{SessionName}}"),
            &["platform"],
            vec![assoc("AmazonEKSClusterAdminPolicy", &[])],
        ),
        existing(
            &format!("{A}:user/Alice"),
            "STANDARD",
            Some("alice"),
            &[],
            vec![assoc("AmazonEKSClusterAdminPolicy", &[])],
        ),
        existing(
            &format!("{A}:user/bob"),
            "STANDARD",
            Some("bob"),
            &[],
            vec![assoc("AmazonEKSViewPolicy", &["default"])],
        ),
        existing(
            "arn:aws:iam::444455556666:role/ci-deployer",
            "EC2_LINUX",
            None,
            &[],
            vec![],
        ),
    ];
    let mut plan = offline(true);
    plan.cluster.name = Some("prod".into());
    plan.cluster.region = Some("eu-west-1".into());
    diff::diff(&mut plan.entries, &existing, true);
    plan.existing = Some(existing);
    plan.summarize();
    plan
}
