//! The target state as a CloudFormation template: one
//! `AWS::EKS::AccessEntry` per entry, its policies inline
//! (`AccessPolicies`), the cluster as the `ClusterName` parameter.
//!
//! Entries that exist already are imported, never created (creating one
//! fails with 409). An `IMPORT` change set may only add the resources it
//! imports — it creates and changes nothing — so a live plan with entries
//! that exist gives two more files: `import-template.cfn.yaml` (only those
//! entries; an entry the plan updates appears without what it lacks, so
//! the later deploy of the full template sees the difference and makes the
//! update, which it would not if the stack recorded the target shape at
//! import) and `import-resources.json` (their identifiers, for
//! `--resources-to-import`). Imported entries carry `DeletionPolicy` and
//! `UpdateReplacePolicy: Retain` (import needs a deletion policy; Retain
//! also keeps the entry if it leaves the stack).
//!
//! The YAML is written by hand rather than with `serde_yaml`: the template
//! needs comments (why rows are left out, what each resource is) and the
//! `!Ref` tag, and every string scalar is double-quoted with YAML's escapes
//! ([`yaml_str`]) so no value (`{{SessionName}}`, `yes`, `0123`, a `#`) is
//! read as anything but a string. Same state, same bytes.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::model::{ExportFile, TargetEntry, TargetState};
use crate::core::plan::{Action, EntryType};
use crate::core::policy::ScopeType;

/// The template with every entry of the target state.
pub(crate) const TEMPLATE: &str = "access-entries.cfn.yaml";
/// The entries that exist, as they are, for the `IMPORT` change set.
pub(crate) const IMPORT_TEMPLATE: &str = "import-template.cfn.yaml";
/// `--resources-to-import` for the `IMPORT` change set.
pub(crate) const IMPORT_RESOURCES: &str = "import-resources.json";

const RESOURCE_TYPE: &str = "AWS::EKS::AccessEntry";
const PARAMETER: &str = "ClusterName";
/// CloudFormation needs at least one resource: an empty target state gets
/// this no-op handle.
const PLACEHOLDER: &str = "NoAccessEntries";
/// Stands for the cluster's name in `import-resources.json` when the plan
/// does not know it (a live plan always does).
const CLUSTER_PLACEHOLDER: &str = "REPLACE_WITH_CLUSTER_NAME";

/// Renders the target state.
pub(crate) fn render(state: &TargetState) -> Vec<ExportFile> {
    let ids = logical_ids(&state.entries);
    let mut files = vec![ExportFile {
        name: TEMPLATE.into(),
        text: template(state, &ids, Kind::Target),
    }];
    if state.entries.iter().any(|e| e.exists) {
        files.push(ExportFile {
            name: IMPORT_TEMPLATE.into(),
            text: template(state, &ids, Kind::Import),
        });
        files.push(ExportFile {
            name: IMPORT_RESOURCES.into(),
            text: resources_to_import(state, &ids),
        });
    }
    files
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Every entry, as the plan wants it.
    Target,
    /// The entries that exist, as they are.
    Import,
}

/// A logical ID per entry (same order): the entry's name in CamelCase,
/// alphanumeric. Names that meet in CamelCase (`a_1`, `a1`) get a counter,
/// in the entries' order (sorted by name), so IDs are stable.
fn logical_ids(entries: &[TargetEntry]) -> Vec<String> {
    let mut taken: BTreeSet<String> = [PARAMETER, PLACEHOLDER]
        .iter()
        .map(|s| (*s).to_string())
        .collect();
    entries
        .iter()
        .map(|e| {
            let base = camel(&e.name);
            let mut id = base.clone();
            let mut n = 2;
            while taken.contains(&id) {
                id = format!("{base}{n}");
                n += 1;
            }
            taken.insert(id.clone());
            id
        })
        .collect()
}

fn camel(name: &str) -> String {
    let mut out = String::new();
    for part in name.split(|c: char| !c.is_ascii_alphanumeric()) {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            out.push(first.to_ascii_uppercase());
            out.extend(chars);
        }
    }
    if out.starts_with(|c: char| c.is_ascii_alphabetic()) {
        out
    } else {
        format!("Entry{out}")
    }
}

fn template(state: &TargetState, ids: &[String], kind: Kind) -> String {
    let mut out = String::new();
    header(&mut out, state, kind);
    out.push_str("AWSTemplateFormatVersion: \"2010-09-09\"\n");
    let description = match kind {
        Kind::Target => "EKS access entries migrated from aws-auth (aws-auth-migrate)",
        Kind::Import => {
            "EKS access entries that exist already, to import before deploying access-entries.cfn.yaml (aws-auth-migrate)"
        }
    };
    let _ = writeln!(out, "Description: {}", yaml_str(description));
    let entries: Vec<(&TargetEntry, &String)> = state
        .entries
        .iter()
        .zip(ids)
        .filter(|(e, _)| kind == Kind::Target || e.exists)
        .collect();
    // An unused parameter draws cfn-lint's W2001.
    if !entries.is_empty() {
        out.push_str("Parameters:\n");
        let _ = writeln!(out, "  {PARAMETER}:");
        out.push_str("    Type: \"String\"\n");
        out.push_str("    Description: \"Name of the EKS cluster the access entries belong to\"\n");
        if let Some(cluster) = &state.cluster {
            let _ = writeln!(out, "    Default: {}", yaml_str(cluster));
        }
    }
    out.push_str("Resources:\n");
    for (e, id) in &entries {
        resource(&mut out, e, id, kind);
    }
    if entries.is_empty() {
        out.push_str("  # Nothing to export; CloudFormation needs at least one resource.\n");
        let _ = writeln!(out, "  {PLACEHOLDER}:");
        out.push_str("    Type: \"AWS::CloudFormation::WaitConditionHandle\"\n");
    }
    if kind == Kind::Target && !state.left_out.is_empty() {
        let _ = writeln!(out, "\n# Left out, no resource ({}):", state.left_out.len());
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

fn header(out: &mut String, state: &TargetState, kind: Kind) {
    let cluster = match (&state.cluster, &state.region) {
        (Some(c), Some(r)) => format!("cluster {} ({})", comment_text(c), comment_text(r)),
        (Some(c), None) => format!("cluster {}", comment_text(c)),
        (None, _) => "a cluster the plan does not name".to_string(),
    };
    let params = if state.cluster.is_some() || state.entries.is_empty() {
        ""
    } else {
        " --parameter-overrides ClusterName=CLUSTER"
    };
    let existing = state.entries.iter().filter(|e| e.exists).count();
    let import_steps = |out: &mut String| {
        out.push_str("#   aws cloudformation create-change-set --change-set-type IMPORT \\\n");
        out.push_str("#     --stack-name STACK --change-set-name import-access-entries \\\n");
        let _ = writeln!(
            out,
            "#     --template-body file://{IMPORT_TEMPLATE} --resources-to-import file://{IMPORT_RESOURCES}{}",
            if state.cluster.is_some() {
                ""
            } else {
                " \\\n#     --parameters ParameterKey=ClusterName,ParameterValue=CLUSTER"
            }
        );
        out.push_str(
            "#   aws cloudformation execute-change-set --stack-name STACK --change-set-name import-access-entries\n",
        );
    };
    match kind {
        Kind::Target => {
            let _ = writeln!(
                out,
                "# EKS access entries for {cluster}: the target state of an aws-auth migration plan,"
            );
            out.push_str("# exported by aws-auth-migrate.\n#\n");
            if !state.live {
                out.push_str("# Offline plan: which entries exist on the cluster already is not known, and creating\n");
                out.push_str("# one that exists (the cluster creator's, say) fails with 409 ResourceInUseException.\n");
                out.push_str("# Export from the cluster to import those instead. To deploy:\n");
            } else if existing == 0 {
                out.push_str("# None of these entries exists on the cluster yet. To deploy:\n");
            } else {
                let _ = writeln!(
                    out,
                    "# {existing} of these entries exist on the cluster already: import them into the stack"
                );
                let _ = writeln!(
                    out,
                    "# first ({IMPORT_TEMPLATE} holds them as they are), then deploy this template,"
                );
                out.push_str("# which creates the others and adds what the updated ones lack:\n");
                import_steps(out);
            }
            let _ = writeln!(
                out,
                "#   aws cloudformation deploy --stack-name STACK --template-file {TEMPLATE}{params}"
            );
        }
        Kind::Import => {
            let _ = writeln!(
                out,
                "# The EKS access entries of {cluster} that exist already, for a CloudFormation IMPORT"
            );
            out.push_str("# change set, which may not create or change anything: those the plan updates appear
");
            let _ = writeln!(
                out,
                "# without groups and policies, so that step 2 ({TEMPLATE}) sets them. Step 1:"
            );
            import_steps(out);
            let _ = writeln!(
                out,
                "# Step 2: aws cloudformation deploy --stack-name STACK --template-file {TEMPLATE}"
            );
        }
    }
    out.push_str("#\n");
}

fn resource(out: &mut String, e: &TargetEntry, id: &str, kind: Kind) {
    let note = match (e.exists, e.action) {
        (false, _) => "to create".to_string(),
        (true, Action::Update) if kind == Kind::Import => {
            "exists, lacks part of the plan (update): imported without groups and policies; deploying access-entries.cfn.yaml sets them".to_string()
        }
        (true, Action::Update) => {
            let adds: Vec<String> = e
                .associations
                .iter()
                .filter(|a| !a.exists)
                .map(|a| {
                    format!(
                        "{} ({})",
                        crate::core::policy::short_name(&a.policy.policy_arn),
                        a.policy.access_scope
                    )
                })
                .collect();
            if adds.is_empty() {
                "exists, lacks part of the plan (update): imported, then updated".to_string()
            } else {
                format!(
                    "exists, lacks part of the plan (update): imported, then updated; adds {}",
                    adds.join(", ")
                )
            }
        }
        (true, Action::Unmanaged) => {
            "exists, not in aws-auth (unmanaged): imported as it is".to_string()
        }
        (true, a) => format!("exists ({}): imported", a.as_str()),
    };
    let _ = writeln!(out, "  # {}", comment_text(&note));
    let _ = writeln!(out, "  {id}:");
    let _ = writeln!(out, "    Type: {}", yaml_str(RESOURCE_TYPE));
    if e.exists {
        out.push_str("    DeletionPolicy: \"Retain\"\n");
        out.push_str("    UpdateReplacePolicy: \"Retain\"\n");
    }
    out.push_str("    Properties:\n");
    let _ = writeln!(out, "      ClusterName: !Ref {PARAMETER}");
    let _ = writeln!(out, "      PrincipalArn: {}", yaml_str(&e.principal_arn));
    let _ = writeln!(out, "      Type: {}", yaml_str(&e.entry_type));
    if !e.tags.is_empty() {
        out.push_str("      Tags:\n");
        for (k, v) in &e.tags {
            let _ = writeln!(out, "        - Key: {}", yaml_str(k));
            let _ = writeln!(out, "          Value: {}", yaml_str(v));
        }
    }
    // Node types take no username, groups or policies.
    if EntryType::parse(&e.entry_type).is_node() {
        return;
    }
    if let Some(u) = &e.username {
        let _ = writeln!(out, "      Username: {}", yaml_str(u));
    }
    if kind == Kind::Import && e.action == Action::Update {
        return;
    }
    if !e.kubernetes_groups.is_empty() {
        out.push_str("      KubernetesGroups:\n");
        for g in &e.kubernetes_groups {
            let _ = writeln!(out, "        - {}", yaml_str(g));
        }
    }
    if !e.associations.is_empty() {
        out.push_str("      AccessPolicies:\n");
        for a in &e.associations {
            let _ = writeln!(
                out,
                "        - PolicyArn: {}",
                yaml_str(&a.policy.policy_arn)
            );
            out.push_str("          AccessScope:\n");
            let scope = &a.policy.access_scope;
            match scope.scope_type {
                ScopeType::Cluster => out.push_str("            Type: \"cluster\"\n"),
                ScopeType::Namespace => {
                    out.push_str("            Type: \"namespace\"\n");
                    out.push_str("            Namespaces:\n");
                    for n in &scope.namespaces {
                        let _ = writeln!(out, "              - {}", yaml_str(n));
                    }
                }
            }
        }
    }
}

/// `import-resources.json`: the `ResourcesToImport` list, one item per
/// entry that exists, identified as the resource type's primary
/// identifier says (`PrincipalArn`, `ClusterName`).
fn resources_to_import(state: &TargetState, ids: &[String]) -> String {
    let cluster = state.cluster.as_deref().unwrap_or(CLUSTER_PLACEHOLDER);
    let items: Vec<String> = state
        .entries
        .iter()
        .zip(ids)
        .filter(|(e, _)| e.exists)
        .map(|(e, id)| {
            format!(
                "  {{\n    \"ResourceType\": {},\n    \"LogicalResourceId\": {},\n    \"ResourceIdentifier\": {{\n      \"PrincipalArn\": {},\n      \"ClusterName\": {}\n    }}\n  }}",
                json_str(RESOURCE_TYPE),
                json_str(id),
                json_str(&e.principal_arn),
                json_str(cluster)
            )
        })
        .collect();
    if items.is_empty() {
        return "[]\n".into();
    }
    format!("[\n{}\n]\n", items.join(",\n"))
}

fn json_str(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

/// A YAML double-quoted scalar: always a string, whatever it holds.
/// Escapes `"`, `\`, and every character YAML (1.1 and 1.2) does not take
/// raw or reads as a line break (C0/C1 controls, DEL, NEL, U+2028/9, BOM,
/// U+FFFE/F).
pub(super) fn yaml_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if needs_escape(c) => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn needs_escape(c: char) -> bool {
    matches!(
        u32::from(c),
        0..=0x1F | 0x7F..=0x9F | 0x2028 | 0x2029 | 0xFEFF | 0xFFFE | 0xFFFF
    )
}

/// Text safe inside a `#` comment: one line, printable (a line break in
/// outside data would otherwise end the comment and inject YAML).
pub(super) fn comment_text(s: &str) -> String {
    s.chars()
        .map(|c| if needs_escape(c) { ' ' } else { c })
        .collect()
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::core::diff::{self, ExistingEntry};
    use crate::core::export::model::LeftOut;
    use crate::core::export::{export, ExportFormat};
    use crate::core::plan::Plan;
    use crate::core::planner::{self, SourceInfo};
    use crate::core::policy::{policy_arn, AccessScope, PolicyAssociation};
    use crate::core::translate::Options;

    const EXAMPLE: &[u8] = include_bytes!("../../../examples/aws-auth.yaml");

    /// The example aws-auth, planned offline: nothing is known to exist.
    pub(in crate::core::export) fn offline_plan() -> Plan {
        planner::plan_offline(
            EXAMPLE,
            SourceInfo {
                kind: "file".into(),
                path: Some("examples/aws-auth.yaml".into()),
            },
            &Options::default(),
        )
        .unwrap()
    }

    const LIVE_AWS_AUTH: &str = r"apiVersion: v1
kind: ConfigMap
metadata:
  name: aws-auth
  namespace: kube-system
data:
  mapRoles: |
    - rolearn: arn:aws:iam::111122223333:role/eks-admins
      username: admin:{{SessionName}}
      groups:
        - system:masters
    - rolearn: arn:aws:iam::111122223333:role/developers
      username: dev:{{SessionName}}
      groups:
        - developers
    - rolearn: arn:aws:iam::111122223333:role/viewers
      username: viewer
      groups:
        - viewers
    - rolearn: arn:aws:iam::111122223333:role/eks-nodes
      username: system:node:{{EC2PrivateDNSName}}
      groups:
        - system:bootstrappers
        - system:nodes
    - rolearn: arn:aws:iam::111122223333:role/new-team
      username: new-team
      groups:
        - team
    - rolearn: arn:aws:iam::111122223333:role/fargate-pods
      username: someone
      groups:
        - other
    - rolearn: arn:aws:iam::111122223333:role/monitoring
      username: monitoring
      groups:
        - system:monitoring
  mapUsers: |
    - userarn: arn:aws:iam::111122223333:user/alice
      username: alice
      groups:
        - system:masters
";

    fn existing(
        arn: &str,
        ty: &str,
        username: Option<&str>,
        groups: &[&str],
        policies: Vec<PolicyAssociation>,
    ) -> ExistingEntry {
        ExistingEntry {
            principal_arn: arn.into(),
            entry_type: ty.into(),
            username: username.map(str::to_string),
            kubernetes_groups: groups.iter().map(|g| (*g).to_string()).collect(),
            policies,
            tags: Default::default(),
        }
    }

    fn assoc(name: &str, scope: AccessScope) -> PolicyAssociation {
        PolicyAssociation {
            policy_arn: policy_arn("aws", name),
            access_scope: scope,
        }
    }

    /// A live plan (merging into what exists) against a cluster that has:
    /// the admins' entry as planned (noop), the developers' without their
    /// group (update), the viewers' with an extra group (noop: kept as it
    /// is), the node role's (noop), a Fargate entry where the plan wants a
    /// standard one (conflict), and three entries aws-auth does not name
    /// (the creator, a Karpenter node role as EKS reports it, a
    /// namespace-scoped viewer).
    pub(in crate::core::export) fn live_plan() -> Plan {
        let admin = || assoc("AmazonEKSClusterAdminPolicy", AccessScope::cluster());
        let have = vec![
            existing(
                "arn:aws:iam::111122223333:role/eks-admins",
                "STANDARD",
                Some("admin:{{SessionName}}"),
                &[],
                vec![admin()],
            ),
            existing(
                "arn:aws:iam::111122223333:role/developers",
                "STANDARD",
                Some("dev:{{SessionName}}"),
                &[],
                vec![assoc(
                    "AmazonEKSViewPolicy",
                    AccessScope::namespaces(vec!["dev".into()]),
                )],
            ),
            existing(
                "arn:aws:iam::111122223333:role/viewers",
                "STANDARD",
                Some("viewer"),
                &["viewers", "auditors"],
                vec![],
            ),
            existing(
                "arn:aws:iam::111122223333:role/eks-nodes",
                "EC2_LINUX",
                Some("system:node:{{EC2PrivateDNSName}}"),
                &["system:nodes"],
                vec![],
            ),
            existing(
                "arn:aws:iam::111122223333:role/fargate-pods",
                "FARGATE_LINUX",
                Some("system:node:{{SessionName}}"),
                &["system:nodes"],
                vec![],
            ),
            existing(
                "arn:aws:iam::111122223333:role/cluster-creator",
                "STANDARD",
                Some("arn:aws:sts::111122223333:assumed-role/cluster-creator/{{SessionName}}"),
                &[],
                vec![admin()],
            ),
            existing(
                "arn:aws:iam::111122223333:role/KarpenterNodeRole-prod",
                "EC2_LINUX",
                Some("system:node:{{EC2PrivateDNSName}}"),
                &["system:nodes"],
                vec![],
            ),
            existing(
                "arn:aws:iam::111122223333:role/ns-viewer",
                "STANDARD",
                Some("ns-viewer"),
                &[],
                vec![assoc(
                    "AmazonEKSViewPolicy",
                    AccessScope::namespaces(vec!["prod".into(), "dev".into()]),
                )],
            ),
        ];
        let opts = Options {
            account: Some("111122223333".into()),
            partition: Some("aws".into()),
            ..Options::default()
        };
        let mut plan = planner::plan_offline(
            LIVE_AWS_AUTH.as_bytes(),
            SourceInfo {
                kind: "cluster".into(),
                path: None,
            },
            &opts,
        )
        .unwrap();
        plan.cluster.name = Some("prod".into());
        plan.cluster.region = Some("eu-west-1".into());
        // The developers also need a policy they lack.
        for e in &mut plan.entries {
            if e.principal_arn.ends_with("role/developers") {
                e.policies.push(assoc(
                    "AmazonEKSEditPolicy",
                    AccessScope::namespaces(vec!["dev".into()]),
                ));
            }
        }
        diff::diff(&mut plan.entries, &have, true);
        plan.existing = Some(have);
        plan.summarize();
        plan
    }

    fn file<'a>(files: &'a [ExportFile], name: &str) -> &'a str {
        files
            .iter()
            .find(|f| f.name == name)
            .map_or_else(|| panic!("no file {name}"), |f| f.text.as_str())
    }

    fn names(files: &[ExportFile]) -> Vec<&str> {
        files.iter().map(|f| f.name.as_str()).collect()
    }

    #[test]
    fn offline_example() {
        let files = export(&offline_plan(), ExportFormat::CloudFormation)
            .expect("the export passes its check");
        assert_eq!(names(&files), [TEMPLATE]);
        let text = file(&files, TEMPLATE);
        assert!(!text.contains("DeletionPolicy"));
        insta::assert_snapshot!("cfn_offline_example", text);
    }

    #[test]
    fn live_with_existing_entries() {
        let plan = live_plan();
        let files =
            export(&plan, ExportFormat::CloudFormation).expect("the export passes its check");
        assert_eq!(names(&files), [TEMPLATE, IMPORT_TEMPLATE, IMPORT_RESOURCES]);
        insta::assert_snapshot!("cfn_live_template", file(&files, TEMPLATE));
        insta::assert_snapshot!("cfn_live_import_template", file(&files, IMPORT_TEMPLATE));
        insta::assert_snapshot!("cfn_live_import_resources", file(&files, IMPORT_RESOURCES));
        // Same plan, same bytes.
        assert_eq!(
            files,
            export(&plan, ExportFormat::CloudFormation).expect("the export passes its check")
        );
    }

    /// A target state of one entry, for the tests that need odd values.
    pub(in crate::core::export) fn one_entry(
        principal: &str,
        entry_type: &str,
        username: Option<&str>,
        groups: &[&str],
        associations: Vec<PolicyAssociation>,
        exists: bool,
    ) -> TargetState {
        TargetState {
            cluster: Some("prod".into()),
            region: Some("eu-west-1".into()),
            partition: "aws".into(),
            entries: vec![TargetEntry {
                name: "role_odd".into(),
                principal_arn: principal.into(),
                entry_type: entry_type.into(),
                username: username.map(str::to_string),
                kubernetes_groups: groups.iter().map(|g| (*g).to_string()).collect(),
                tags: std::collections::BTreeMap::new(),
                associations: associations
                    .into_iter()
                    .map(|policy| crate::core::export::model::TargetAssociation { policy, exists })
                    .collect(),
                exists,
                action: if exists { Action::Noop } else { Action::Create },
            }],
            left_out: vec![],
            live: true,
        }
    }

    /// Strings YAML would read as something else unquoted, or that need
    /// escapes.
    pub(in crate::core::export) const ODD: [&str; 18] = [
        "{{SessionName}}",
        "admin:{{SessionName}}",
        "yes",
        "null",
        "~",
        "0123",
        "1e3",
        "a # b",
        "key: value",
        "- item",
        "\"quoted\" and \\back\\slash",
        "line\nbreak\r\ttab",
        "nel\u{85}ls\u{2028}ps\u{2029}",
        "bom\u{feff}del\u{7f}bell\u{7}",
        "é 漢字 🙂",
        "",
        " leading and trailing ",
        "!Ref ClusterName",
    ];

    #[test]
    fn every_string_reads_back_as_itself() {
        for s in ODD {
            let doc = format!("k: {}\n", yaml_str(s));
            let v: serde_yaml::Value = serde_yaml::from_str(&doc).unwrap();
            assert_eq!(v["k"].as_str(), Some(s), "{doc}");
            // Nothing YAML 1.1 takes as a line break or refuses stays raw.
            assert!(!yaml_str(s).chars().any(needs_escape), "{s:?}");
        }
    }

    #[test]
    fn comments_stay_one_line() {
        for s in ODD {
            let c = comment_text(s);
            assert!(!c.chars().any(needs_escape), "{s:?}");
            let doc = format!("# {c}\nk: 1\n");
            let v: serde_yaml::Value = serde_yaml::from_str(&doc).unwrap();
            assert_eq!(v["k"].as_u64(), Some(1), "{doc}");
        }
    }

    #[test]
    fn odd_values_round_trip_through_the_template() {
        for s in ODD {
            let state = one_entry(
                &format!("arn:aws:iam::111122223333:role/{s}"),
                "STANDARD",
                Some(s),
                &[s],
                vec![PolicyAssociation {
                    policy_arn: policy_arn("aws", "AmazonEKSViewPolicy"),
                    access_scope: AccessScope::namespaces(vec![s.to_string()]),
                }],
                false,
            );
            let files = render(&state);
            let v: serde_yaml::Value = serde_yaml::from_str(file(&files, TEMPLATE)).unwrap();
            let p = &v["Resources"]["RoleOdd"]["Properties"];
            assert_eq!(
                p["PrincipalArn"].as_str(),
                Some(format!("arn:aws:iam::111122223333:role/{s}").as_str())
            );
            assert_eq!(p["Username"].as_str(), Some(s));
            assert_eq!(p["KubernetesGroups"][0].as_str(), Some(s));
            assert_eq!(
                p["AccessPolicies"][0]["AccessScope"]["Namespaces"][0].as_str(),
                Some(s)
            );
        }
    }

    #[test]
    fn logical_ids_are_camel_case_unique_and_stable() {
        let mk = |name: &str| TargetEntry {
            name: name.into(),
            principal_arn: String::new(),
            entry_type: "STANDARD".into(),
            username: None,
            kubernetes_groups: vec![],
            tags: std::collections::BTreeMap::new(),
            associations: vec![],
            exists: false,
            action: Action::Create,
        };
        let entries: Vec<TargetEntry> = [
            "cluster_name",
            "role_a1",
            "role_a_1",
            "role_eks_admins",
            "p_123",
        ]
        .iter()
        .map(|n| mk(n))
        .collect();
        let ids = logical_ids(&entries);
        assert_eq!(
            ids,
            ["ClusterName2", "RoleA1", "RoleA12", "RoleEksAdmins", "P123"]
        );
        assert!(ids
            .iter()
            .all(|i| i.chars().all(|c| c.is_ascii_alphanumeric())));
        assert_eq!(camel("9lives"), "Entry9lives");
    }

    /// The resources of a template, parsed.
    fn resources(text: &str) -> serde_yaml::Mapping {
        let v: serde_yaml::Value = serde_yaml::from_str(text).unwrap();
        v["Resources"].as_mapping().unwrap().clone()
    }

    #[test]
    fn existing_entries_are_imported_and_retained() {
        let plan = live_plan();
        let state = TargetState::of(&plan);
        let files = render(&state);
        let ids = logical_ids(&state.entries);
        let all = resources(file(&files, TEMPLATE));
        assert_eq!(all.len(), state.entries.len());
        let import = resources(file(&files, IMPORT_TEMPLATE));
        let list: serde_json::Value = serde_json::from_str(file(&files, IMPORT_RESOURCES)).unwrap();
        let listed: Vec<&str> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                assert_eq!(i["ResourceType"], RESOURCE_TYPE);
                assert_eq!(i["ResourceIdentifier"]["ClusterName"], "prod");
                i["LogicalResourceId"].as_str().unwrap()
            })
            .collect();
        for (e, id) in state.entries.iter().zip(&ids) {
            let r = &all[id.as_str()];
            assert_eq!(r["Type"].as_str(), Some(RESOURCE_TYPE));
            let p = &r["Properties"];
            assert_eq!(p["PrincipalArn"].as_str(), Some(e.principal_arn.as_str()));
            let tagged = match &p["ClusterName"] {
                serde_yaml::Value::Tagged(t) => t.clone(),
                other => panic!("ClusterName is not !Ref: {other:?}"),
            };
            assert_eq!(tagged.tag, serde_yaml::value::Tag::new("Ref"));
            assert_eq!(tagged.value.as_str(), Some(PARAMETER));
            let retained = r["DeletionPolicy"].as_str() == Some("Retain")
                && r["UpdateReplacePolicy"].as_str() == Some("Retain");
            assert_eq!(retained, e.exists, "{id}");
            assert_eq!(import.contains_key(id.as_str()), e.exists, "{id}");
            assert_eq!(listed.contains(&id.as_str()), e.exists, "{id}");
            if EntryType::parse(&e.entry_type).is_node() {
                for k in ["Username", "KubernetesGroups", "AccessPolicies"] {
                    assert!(p.get(k).is_none(), "{id} has {k}");
                }
            }
            // Imported as it is: an update's additions come with the deploy.
            let ip = &import
                .get(id.as_str())
                .map(|r| r["Properties"].clone())
                .unwrap_or_default();
            if e.action == Action::Update {
                assert!(ip.get("KubernetesGroups").is_none() && ip.get("AccessPolicies").is_none());
                assert_ne!(ip, p);
            } else if e.exists {
                assert_eq!(ip, p, "{id}");
            }
        }
        // The noop entry with an extra group keeps it; the node entries EKS
        // reports with a username and groups carry neither.
        assert_eq!(
            all["RoleViewers"]["Properties"]["KubernetesGroups"],
            serde_yaml::from_str::<serde_yaml::Value>("[auditors, viewers]").unwrap()
        );
        assert!(all["RoleKarpenternoderoleProd"]["Properties"]
            .get("Username")
            .is_none());
    }

    #[test]
    fn nothing_to_export_is_still_a_template() {
        let mut state = one_entry(
            "arn:aws:iam::111122223333:role/x",
            "STANDARD",
            None,
            &[],
            vec![],
            false,
        );
        state.entries.clear();
        state.cluster = None;
        state.left_out.push(LeftOut {
            what: "mapRoles[0]".into(),
            why: "why\nnot # here".into(),
        });
        let files = render(&state);
        assert_eq!(names(&files), [TEMPLATE]);
        let text = file(&files, TEMPLATE);
        let r = resources(text);
        assert_eq!(
            r[PLACEHOLDER]["Type"].as_str(),
            Some("AWS::CloudFormation::WaitConditionHandle")
        );
        assert!(!text.contains("Parameters:"));
        assert!(text.ends_with("#   mapRoles[0]: why not # here\n"));
    }
}
