//! The target state of a plan (what every export format renders): the
//! access entries and associations the migration wants, which of them
//! exist already (to import, never re-create), stable resource names, and
//! the rows that get no resource, with why.

use std::collections::{BTreeMap, BTreeSet};

use crate::core::existing::ExistingEntry;
use crate::core::plan::{Action, Entry, EntryType, Fidelity, Outcome, Plan};
use crate::core::policy::PolicyAssociation;

/// The IaC formats `export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ExportFormat {
    /// `aws_eks_access_entry` / `aws_eks_access_policy_association`
    /// resources, a `cluster_name` variable and `import {}` blocks.
    Terraform,
    /// The `access_entries` input of terraform-aws-eks (v20+), and the
    /// `import {}` blocks for the module's addresses.
    TerraformModule,
    /// `AWS::EKS::AccessEntry` resources with their `AccessPolicies`.
    CloudFormation,
    /// An eksctl ClusterConfig with `accessConfig.accessEntries`.
    Eksctl,
}

/// One file of an export: its name (for `--out DIR`) and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ExportFile {
    pub(crate) name: String,
    pub(crate) text: String,
}

/// The migration's target state, ready to render.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TargetState {
    /// The cluster's name when the plan knows it (live or saved plans);
    /// formats take it as a variable or parameter either way.
    pub(crate) cluster: Option<String>,
    pub(crate) region: Option<String>,
    pub(crate) partition: String,
    /// Access entries, sorted by resource name.
    pub(crate) entries: Vec<TargetEntry>,
    /// Rows and entries that get no resource, with why (comments).
    pub(crate) left_out: Vec<LeftOut>,
    /// True when the plan was made against the cluster (so `exists` is
    /// known); an offline plan knows nothing of what exists.
    pub(crate) live: bool,
}

/// One access entry of the target state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TargetEntry {
    /// A stable, readable identifier derived from the principal
    /// (`role_eks_admins`), unique in the export: `[a-z0-9_]`, starts
    /// with a letter.
    pub(crate) name: String,
    pub(crate) principal_arn: String,
    /// EKS's type name (`STANDARD`, `EC2_LINUX`...).
    pub(crate) entry_type: String,
    pub(crate) username: Option<String>,
    /// Sorted, no duplicates; empty for node types.
    pub(crate) kubernetes_groups: Vec<String>,
    /// The tags of an entry that exists (this tool's own
    /// `aws-auth-migrate/*` tags among them), so that the code matches it;
    /// none for an entry to create.
    pub(crate) tags: BTreeMap<String, String>,
    /// Empty for node types.
    pub(crate) associations: Vec<TargetAssociation>,
    /// The entry exists on the cluster: import it, do not create it.
    pub(crate) exists: bool,
    /// Why it is in the target state: from aws-auth (`create`, `update`,
    /// `noop`), or an existing entry aws-auth does not name (`unmanaged`).
    pub(crate) action: Action,
}

/// One policy association of an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TargetAssociation {
    pub(crate) policy: PolicyAssociation,
    /// The entry has this policy already (import it).
    pub(crate) exists: bool,
}

/// What gets no resource, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LeftOut {
    /// The principal, or the row (`mapRoles[3]`, line 12) when it has none.
    pub(crate) what: String,
    pub(crate) why: String,
}

impl TargetState {
    /// The target state of a plan.
    pub(crate) fn of(plan: &Plan) -> TargetState {
        let live = plan.existing.is_some();
        let existing = plan.existing.as_deref().unwrap_or(&[]);
        let mut entries = Vec::new();
        let mut left_out = Vec::new();
        for e in &plan.entries {
            match e.action {
                Action::Create | Action::Update | Action::Noop if e.fidelity == Fidelity::Exact || plan.allow_lossy => {
                    let found = find(existing, &e.principal_arn);
                    entries.push(match (e.action, found) {
                        // A noop entry grants at least what the row does
                        // (more groups or policies, a wider scope): the
                        // target is what exists, never narrowed to the row.
                        (Action::Noop, Some(x)) => TargetEntry {
                            action: Action::Noop,
                            ..existing_entry(x)
                        },
                        _ => target_entry(e, found),
                    });
                }
                Action::Unmanaged => {
                    if let Some(x) = find(existing, &e.principal_arn) {
                        entries.push(existing_entry(x));
                    }
                }
                Action::Conflict => left_out.push(LeftOut {
                    what: e.principal_arn.clone(),
                    why: format!(
                        "conflict with the entry that exists: {} (resolve it by hand; IaC would replace the entry)",
                        reasons(e)
                    ),
                }),
                _ => left_out.push(LeftOut {
                    what: e.principal_arn.clone(),
                    why: format!("{}: {}", e.action.as_str(), reasons(e)),
                }),
            }
        }
        // A skipped row an entry stands for is said once, by the entry.
        let by_entry: BTreeSet<usize> = plan
            .entries
            .iter()
            .flat_map(|e| e.from.iter().copied())
            .collect();
        for (_, m) in plan
            .mappings
            .iter()
            .enumerate()
            .filter(|(i, m)| m.outcome == Outcome::Skip && !by_entry.contains(i))
        {
            let what = m.arn.clone().unwrap_or_else(|| {
                format!(
                    "{}[{}]{}",
                    m.section.key(),
                    m.index.map_or_else(|| "?".into(), |i| i.to_string()),
                    m.location().map_or_else(String::new, |l| format!(" ({l})"))
                )
            });
            let why = m
                .reasons
                .iter()
                .map(|r| format!("{}: {}", r.code.as_str(), r.message))
                .collect::<Vec<_>>()
                .join("; ");
            left_out.push(LeftOut { what, why });
        }
        name_entries(&mut entries);
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        TargetState {
            cluster: plan.cluster.name.clone(),
            region: plan.cluster.region.clone(),
            partition: plan.cluster.partition.clone(),
            entries,
            left_out,
            live,
        }
    }
}

/// The existing entry of a principal, matched as the diff matches them
/// (case-insensitively).
fn find<'a>(existing: &'a [ExistingEntry], arn: &str) -> Option<&'a ExistingEntry> {
    existing
        .iter()
        .find(|x| x.principal_arn.eq_ignore_ascii_case(arn))
}

fn reasons(e: &Entry) -> String {
    if e.reasons.is_empty() {
        return "no reason recorded".into();
    }
    e.reasons
        .iter()
        .map(|r| format!("{}: {}", r.code.as_str(), r.message))
        .collect::<Vec<_>>()
        .join("; ")
}

fn target_entry(e: &Entry, existing: Option<&ExistingEntry>) -> TargetEntry {
    let node = e.entry_type.is_node();
    let groups: BTreeSet<String> = if node {
        BTreeSet::new()
    } else {
        e.kubernetes_groups.iter().cloned().collect()
    };
    let associations = if node {
        Vec::new()
    } else {
        let mut list: Vec<TargetAssociation> = e
            .policies
            .iter()
            .map(|p| TargetAssociation {
                policy: p.clone(),
                exists: existing
                    .is_some_and(|x| x.policies.iter().any(|q| q.policy_arn == p.policy_arn)),
            })
            .collect();
        list.sort_by(|a, b| a.policy.cmp(&b.policy));
        list
    };
    TargetEntry {
        name: String::new(),
        // An entry that exists keeps EKS's spelling: a principal_arn that
        // differs (even in case) would replace it.
        principal_arn: existing
            .map_or_else(|| e.principal_arn.clone(), |x| x.principal_arn.clone()),
        entry_type: e.entry_type.as_str().to_string(),
        username: if node { None } else { e.username.clone() },
        kubernetes_groups: groups.into_iter().collect(),
        tags: existing.map(|x| x.tags.clone()).unwrap_or_default(),
        associations,
        exists: existing.is_some(),
        action: e.action,
    }
}

fn existing_entry(x: &ExistingEntry) -> TargetEntry {
    // EKS fills in the username and groups of node entries itself; they
    // are not part of what a node entry is created with.
    let node = EntryType::parse(&x.entry_type).is_node();
    let mut associations: Vec<TargetAssociation> = x
        .policies
        .iter()
        .filter(|_| !node)
        .map(|p| TargetAssociation {
            policy: p.clone(),
            exists: true,
        })
        .collect();
    associations.sort_by(|a, b| a.policy.cmp(&b.policy));
    let groups: BTreeSet<String> = if node {
        BTreeSet::new()
    } else {
        x.kubernetes_groups.iter().cloned().collect()
    };
    TargetEntry {
        name: String::new(),
        principal_arn: x.principal_arn.clone(),
        entry_type: x.entry_type.clone(),
        username: if node { None } else { x.username.clone() },
        kubernetes_groups: groups.into_iter().collect(),
        tags: x.tags.clone(),
        associations,
        exists: true,
        action: Action::Unmanaged,
    }
}

/// Gives every entry a unique, stable name: `role_`/`user_` and the last
/// part of the ARN, lowercased, anything else `_`. Entries whose names
/// collide get the account, then a counter in ARN order, so the names do
/// not depend on the order of the plan.
fn name_entries(entries: &mut [TargetEntry]) {
    let base: Vec<String> = entries
        .iter()
        .map(|e| base_name(&e.principal_arn))
        .collect();
    let mut order: Vec<usize> = (0..entries.len()).collect();
    order.sort_by(|&a, &b| entries[a].principal_arn.cmp(&entries[b].principal_arn));
    let mut taken: BTreeSet<String> = BTreeSet::new();
    let count = |name: &str| base.iter().filter(|b| *b == name).count();
    for i in order {
        let mut name = base[i].clone();
        if count(&base[i]) > 1 {
            if let Some(account) = entries[i]
                .principal_arn
                .split(':')
                .nth(4)
                .filter(|a| !a.is_empty())
            {
                name = format!("{name}_{account}");
            }
        }
        let mut candidate = name.clone();
        let mut n = 2;
        while taken.contains(&candidate) {
            candidate = format!("{name}_{n}");
            n += 1;
        }
        taken.insert(candidate.clone());
        entries[i].name = candidate;
    }
}

fn base_name(arn: &str) -> String {
    let resource = arn.splitn(6, ':').nth(5).unwrap_or(arn);
    let (kind, rest) = resource.split_once('/').unwrap_or(("principal", resource));
    let last = rest.rsplit('/').next().unwrap_or(rest);
    let mut out = String::new();
    for c in format!("{kind}_{last}").chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    let out = out.trim_end_matches('_').to_string();
    if out.starts_with(|c: char| c.is_ascii_alphabetic()) {
        out
    } else {
        format!("p_{out}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_readable_and_unique() {
        assert_eq!(
            base_name("arn:aws:iam::111122223333:role/eks-admins"),
            "role_eks_admins"
        );
        assert_eq!(
            base_name("arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Admin_0123"),
            "role_awsreservedsso_admin_0123"
        );
        assert_eq!(
            base_name("arn:aws:iam::111122223333:user/Alice.Smith"),
            "user_alice_smith"
        );
        let mk = |arn: &str| TargetEntry {
            name: String::new(),
            principal_arn: arn.into(),
            entry_type: "STANDARD".into(),
            username: None,
            kubernetes_groups: vec![],
            tags: std::collections::BTreeMap::new(),
            associations: vec![],
            exists: false,
            action: Action::Create,
        };
        let mut e = vec![
            mk("arn:aws:iam::222222222222:role/ops"),
            mk("arn:aws:iam::111111111111:role/ops"),
            mk("arn:aws:iam::111111111111:role/path/ops"),
            mk("arn:aws:iam::111111111111:role/dev"),
        ];
        name_entries(&mut e);
        let names: Vec<&str> = e.iter().map(|x| x.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "role_ops_222222222222",
                "role_ops_111111111111",
                "role_ops_111111111111_2",
                "role_dev"
            ]
        );
        // The same entries in another order get the same names.
        let mut r: Vec<TargetEntry> = e.iter().rev().cloned().collect();
        for x in &mut r {
            x.name.clear();
        }
        name_entries(&mut r);
        let mut again: Vec<(String, String)> = r
            .iter()
            .map(|x| (x.principal_arn.clone(), x.name.clone()))
            .collect();
        let mut first: Vec<(String, String)> = e
            .iter()
            .map(|x| (x.principal_arn.clone(), x.name.clone()))
            .collect();
        again.sort();
        first.sort();
        assert_eq!(again, first);
    }
}
