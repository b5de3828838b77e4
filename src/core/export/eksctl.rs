//! The target state as an eksctl `ClusterConfig` (`eksctl.io/v1alpha5`)
//! with `accessConfig.accessEntries`, for
//! `eksctl create accessentry -f eksctl-access-entries.yaml`.
//!
//! Decisions (also said in the file's header comment):
//! - `accessEntries` holds only the entries to create. eksctl has no
//!   import: it makes one CloudFormation stack per entry, and an entry that
//!   exists already fails with 409 and stops the command. The entries that
//!   exist are listed after it as commented-out YAML in the same shape
//!   (their target state: uncomment them into the ClusterConfig of a new
//!   cluster); eksctl cannot update an entry, so those the plan updates
//!   say how to apply it. An offline plan knows of no existing entry: the
//!   header says so.
//! - `metadata.region` (required by eksctl's schema) and `metadata.name`
//!   are the plan's when it knows them, else a placeholder
//!   (`REPLACE_WITH_REGION`) the header tells the user to replace: the
//!   export of an offline plan stays useful, and eksctl fails on the
//!   placeholder rather than picking a default region.
//! - An entry to create of a type eksctl's schema does not list
//!   (`HYBRID_LINUX`...) is commented out too, with what to run instead:
//!   eksctl checks types, and one it does not know would stop the file.
//! - eksctl's Go-side rules hold by construction: node types carry no
//!   groups, username or policies; a `cluster` scope has no namespaces, a
//!   `namespace` scope at least one (an association that would break this
//!   is left out, with a comment); principals are unique.
//!
//! Written by hand, every string scalar double-quoted, like the
//! CloudFormation template (see there for why).

use std::fmt::Write as _;

use super::cloudformation::{comment_text, yaml_str};
use super::model::{ExportFile, TargetEntry, TargetState};
use crate::core::plan::{Action, EntryType};
use crate::core::policy::ScopeType;

/// The file's name.
pub(crate) const FILE: &str = "eksctl-access-entries.yaml";
const CLUSTER_PLACEHOLDER: &str = "REPLACE_WITH_CLUSTER_NAME";
const REGION_PLACEHOLDER: &str = "REPLACE_WITH_REGION";
/// The entry types eksctl takes (its schema's `type`, v0.230.0); its Go
/// side rejects others, which would stop the whole file.
const EKSCTL_TYPES: [&str; 4] = ["STANDARD", "EC2_LINUX", "EC2_WINDOWS", "FARGATE_LINUX"];

/// Renders the target state.
pub(crate) fn render(state: &TargetState) -> Vec<ExportFile> {
    vec![ExportFile {
        name: FILE.into(),
        text: config(state),
    }]
}

fn config(state: &TargetState) -> String {
    let create: Vec<&TargetEntry> = state
        .entries
        .iter()
        .filter(|e| !e.exists && EKSCTL_TYPES.contains(&e.entry_type.as_str()))
        .collect();
    let unsupported: Vec<&TargetEntry> = state
        .entries
        .iter()
        .filter(|e| !e.exists && !EKSCTL_TYPES.contains(&e.entry_type.as_str()))
        .collect();
    let exist: Vec<&TargetEntry> = state.entries.iter().filter(|e| e.exists).collect();
    let mut out = String::new();
    out.push_str(
        "# EKS access entries migrated from aws-auth, as an eksctl ClusterConfig, exported by\n",
    );
    out.push_str("# aws-auth-migrate. Create them with:\n");
    let _ = writeln!(out, "#   eksctl create accessentry -f {FILE}");
    let placeholders: Vec<&str> = [
        (state.cluster.is_none(), CLUSTER_PLACEHOLDER),
        (state.region.is_none(), REGION_PLACEHOLDER),
    ]
    .iter()
    .filter(|(missing, _)| *missing)
    .map(|(_, p)| *p)
    .collect();
    if !placeholders.is_empty() {
        let _ = writeln!(
            out,
            "# The plan does not know the cluster's name or region: replace {} below first.",
            placeholders.join(" and ")
        );
    }
    if !state.live {
        out.push_str(
            "# Offline plan: which entries exist on the cluster already is not known. eksctl\n",
        );
        out.push_str(
            "# cannot import: one that exists (the cluster creator's, say) fails with 409\n",
        );
        out.push_str("# ResourceInUseException; export from the cluster to list those apart.\n");
    } else if !exist.is_empty() {
        let _ = writeln!(
            out,
            "# accessEntries holds the {} entries to create. The {} that exist already are listed",
            create.len(),
            exist.len()
        );
        out.push_str(
            "# after it, commented out: eksctl cannot import them (creating one fails with 409\n",
        );
        out.push_str("# ResourceInUseException) nor update them.\n");
    }
    if !unsupported.is_empty() {
        let _ = writeln!(
            out,
            "# {} of a type eksctl does not take: listed at the end, commented out.",
            if unsupported.len() == 1 {
                "1 entry is".to_string()
            } else {
                format!("{} entries are", unsupported.len())
            }
        );
    }
    out.push_str("#\n");
    out.push_str("apiVersion: \"eksctl.io/v1alpha5\"\n");
    out.push_str("kind: \"ClusterConfig\"\n");
    out.push_str("metadata:\n");
    let _ = writeln!(
        out,
        "  name: {}",
        yaml_str(state.cluster.as_deref().unwrap_or(CLUSTER_PLACEHOLDER))
    );
    let _ = writeln!(
        out,
        "  region: {}",
        yaml_str(state.region.as_deref().unwrap_or(REGION_PLACEHOLDER))
    );
    out.push_str("accessConfig:\n");
    if create.is_empty() {
        out.push_str("  accessEntries: []\n");
    } else {
        out.push_str("  accessEntries:\n");
        for e in &create {
            for line in entry(e) {
                let _ = writeln!(out, "{line}");
            }
        }
    }
    if !exist.is_empty() {
        let _ = writeln!(
            out,
            "\n# Entries that exist on the cluster already ({}), not for `eksctl create accessentry`{}:",
            exist.len(),
            if create.is_empty() {
                " (uncommented, they replace the [] above)"
            } else {
                ""
            }
        );
        for e in &exist {
            let note = match e.action {
                Action::Update => {
                    "exists but lacks part of this (update): eksctl cannot update an entry; \
                     apply it with `aws-auth-migrate apply`, or aws eks update-access-entry and \
                     associate-access-policy"
                        .to_string()
                }
                Action::Unmanaged => "exists, not in aws-auth (unmanaged)".to_string(),
                a => format!("exists ({})", a.as_str()),
            };
            let _ = writeln!(out, "#  # {}", comment_text(&note));
            for line in entry(e) {
                let _ = writeln!(out, "#{line}");
            }
        }
    }
    if !unsupported.is_empty() {
        let _ = writeln!(
            out,
            "\n# Entries of a type eksctl does not take ({}; it knows {}): create them with\n# aws eks create-access-entry --type TYPE, or `aws-auth-migrate apply`:",
            unsupported.len(),
            EKSCTL_TYPES.join(", ")
        );
        for e in &unsupported {
            for line in entry(e) {
                let _ = writeln!(out, "#{line}");
            }
        }
    }
    if !state.left_out.is_empty() {
        let _ = writeln!(
            out,
            "\n# Left out, no access entry ({}):",
            state.left_out.len()
        );
        for l in &state.left_out {
            let _ = writeln!(
                out,
                "#   {}: {}",
                comment_text(&l.what),
                comment_text(&l.why)
            );
        }
    }
    out
}

/// One item of `accessEntries`, as lines indented for it.
fn entry(e: &TargetEntry) -> Vec<String> {
    let mut lines = vec![
        format!("    - principalARN: {}", yaml_str(&e.principal_arn)),
        format!("      type: {}", yaml_str(&e.entry_type)),
    ];
    // Node types take no username, groups or policies.
    if EntryType::parse(&e.entry_type).is_node() {
        return lines;
    }
    if let Some(u) = &e.username {
        lines.push(format!("      kubernetesUsername: {}", yaml_str(u)));
    }
    if !e.kubernetes_groups.is_empty() {
        lines.push("      kubernetesGroups:".into());
        for g in &e.kubernetes_groups {
            lines.push(format!("        - {}", yaml_str(g)));
        }
    }
    let mut policies = Vec::new();
    for a in &e.associations {
        let scope = &a.policy.access_scope;
        if scope.scope_type == ScopeType::Namespace && scope.namespaces.is_empty() {
            lines.push(format!(
                "      # left out: {} at namespace scope with no namespace (eksctl needs one)",
                comment_text(&a.policy.policy_arn)
            ));
            continue;
        }
        policies.push(format!(
            "        - policyARN: {}",
            yaml_str(&a.policy.policy_arn)
        ));
        policies.push("          accessScope:".into());
        match scope.scope_type {
            ScopeType::Cluster => policies.push("            type: \"cluster\"".into()),
            ScopeType::Namespace => {
                policies.push("            type: \"namespace\"".into());
                policies.push("            namespaces:".into());
                for n in &scope.namespaces {
                    policies.push(format!("              - {}", yaml_str(n)));
                }
            }
        }
    }
    if !policies.is_empty() {
        lines.push("      accessPolicies:".into());
        lines.extend(policies);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::export::cloudformation::tests::{live_plan, offline_plan, one_entry, ODD};
    use crate::core::export::{export, ExportFormat};
    use crate::core::policy::{policy_arn, AccessScope, PolicyAssociation};

    fn text(plan: &crate::core::plan::Plan) -> String {
        let files = export(plan, ExportFormat::Eksctl).expect("the export passes its check");
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].name, FILE);
        files[0].text.clone()
    }

    /// eksctl's `validateAccessEntries` (v1alpha5/access_entry.go) and
    /// its type list, on a parsed ClusterConfig: a principal ARN, a known
    /// type, nothing but the type on a node entry, cluster-access-policy
    /// ARNs, no namespaces at cluster scope and some at namespace scope,
    /// no duplicate principal. Returns the principals.
    fn check_go_rules(text: &str) -> Vec<String> {
        let v: serde_yaml::Value = serde_yaml::from_str(text).unwrap();
        assert_eq!(v["apiVersion"].as_str(), Some("eksctl.io/v1alpha5"));
        assert_eq!(v["kind"].as_str(), Some("ClusterConfig"));
        assert!(v["metadata"]["name"]
            .as_str()
            .is_some_and(|s| !s.is_empty()));
        assert!(v["metadata"]["region"]
            .as_str()
            .is_some_and(|s| !s.is_empty()));
        let mut seen = Vec::new();
        for e in v["accessConfig"]["accessEntries"].as_sequence().unwrap() {
            let arn = e["principalARN"].as_str().unwrap();
            assert!(
                arn.starts_with("arn:") && arn.splitn(6, ':').count() == 6,
                "{arn}"
            );
            assert!(!seen.contains(&arn.to_string()), "duplicate {arn}");
            seen.push(arn.to_string());
            let ty = e["type"].as_str().unwrap();
            assert!(EKSCTL_TYPES.contains(&ty), "{ty}");
            if EntryType::parse(ty).is_node() {
                for k in ["kubernetesGroups", "kubernetesUsername", "accessPolicies"] {
                    assert!(e.get(k).is_none(), "{arn}: {k} on a node entry");
                }
            }
            for p in e["accessPolicies"]
                .as_sequence()
                .map_or(&[][..], |s| s.as_slice())
            {
                let resource = p["policyARN"]
                    .as_str()
                    .unwrap()
                    .splitn(6, ':')
                    .nth(5)
                    .unwrap();
                assert!(resource.starts_with("cluster-access-policy/"), "{resource}");
                let scope = &p["accessScope"];
                let namespaces = scope["namespaces"].as_sequence().map_or(0, Vec::len);
                match scope["type"].as_str() {
                    Some("cluster") => assert_eq!(namespaces, 0),
                    Some("namespace") => assert!(namespaces > 0),
                    other => panic!("scope type {other:?}"),
                }
            }
        }
        seen
    }

    /// The file with its commented-out entries put back.
    fn uncommented(text: &str) -> String {
        text.lines()
            .map(|l| {
                l.strip_prefix('#')
                    .filter(|r| r.starts_with("    "))
                    .unwrap_or(l)
            })
            .collect::<Vec<_>>()
            .join("\n")
            .replace("accessEntries: []\n", "accessEntries:\n")
    }

    #[test]
    fn eksctl_rules_hold() {
        let offline = text(&offline_plan());
        let created = check_go_rules(&offline);
        // Offline, every entry of a type eksctl takes is to create.
        let state = TargetState::of(&offline_plan());
        let want: Vec<&str> = state
            .entries
            .iter()
            .filter(|e| EKSCTL_TYPES.contains(&e.entry_type.as_str()))
            .map(|e| e.principal_arn.as_str())
            .collect();
        assert_eq!(created, want);
        assert!(offline
            .contains("name: \"REPLACE_WITH_CLUSTER_NAME\"\n  region: \"REPLACE_WITH_REGION\"\n"));
        assert!(offline
            .contains("#    - principalARN: \"arn:aws:iam::111122223333:role/eks-hybrid-nodes\""));

        let plan = live_plan();
        let live = text(&plan);
        let created = check_go_rules(&live);
        let state = TargetState::of(&plan);
        let want: Vec<&str> = state
            .entries
            .iter()
            .filter(|e| !e.exists)
            .map(|e| e.principal_arn.as_str())
            .collect();
        assert_eq!(created, want);
        assert!(live.contains("name: \"prod\"\n  region: \"eu-west-1\"\n"));
        // Put back, the entries that exist are valid too: all of them.
        let all = check_go_rules(&uncommented(&live));
        assert_eq!(all.len(), state.entries.len());
    }

    #[test]
    fn nothing_to_create_is_an_empty_list() {
        let state = one_entry(
            "arn:aws:iam::111122223333:role/admin",
            "STANDARD",
            Some("admin"),
            &[],
            vec![],
            true,
        );
        let t = &render(&state)[0].text;
        assert!(t.contains("  accessEntries: []\n"));
        assert!(check_go_rules(t).is_empty());
        assert_eq!(check_go_rules(&uncommented(t)).len(), 1);
    }

    #[test]
    fn a_namespace_scope_without_namespaces_is_left_out() {
        let state = one_entry(
            "arn:aws:iam::111122223333:role/dev",
            "STANDARD",
            None,
            &["dev"],
            vec![
                PolicyAssociation {
                    policy_arn: policy_arn("aws", "AmazonEKSViewPolicy"),
                    access_scope: AccessScope::namespaces(vec![]),
                },
                PolicyAssociation {
                    policy_arn: policy_arn("aws", "AmazonEKSEditPolicy"),
                    access_scope: AccessScope::namespaces(vec!["dev".into()]),
                },
            ],
            false,
        );
        let t = &render(&state)[0].text;
        check_go_rules(t);
        assert!(t.contains("# left out: arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy at namespace scope"));
        assert!(
            t.contains("policyARN: \"arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy\"")
        );
    }

    #[test]
    fn odd_values_round_trip() {
        for s in ODD {
            let state = one_entry(
                "arn:aws:iam::111122223333:role/odd",
                "STANDARD",
                Some(s),
                &[s],
                vec![],
                false,
            );
            let t = &render(&state)[0].text;
            let v: serde_yaml::Value = serde_yaml::from_str(t).unwrap();
            let e = &v["accessConfig"]["accessEntries"][0];
            assert_eq!(e["kubernetesUsername"].as_str(), Some(s));
            assert_eq!(e["kubernetesGroups"][0].as_str(), Some(s));
        }
    }

    #[test]
    fn offline_example() {
        insta::assert_snapshot!("eksctl_offline_example", text(&offline_plan()));
    }

    #[test]
    fn live_with_existing_entries() {
        let plan = live_plan();
        let t = text(&plan);
        insta::assert_snapshot!("eksctl_live", t);
        assert_eq!(t, text(&plan));
    }
}
