//! The Terraform-style block under the plan's table for each entry that
//! exists and differs (`update` or `conflict`): what the entry holds now
//! against what aws-auth asks for, told as apply would act on it.
//!
//! An `update` (`--merge-existing`) only adds: the groups and policies the
//! entry lacks are marked `+` (a policy held at a narrower scope is widened,
//! `~`); its own username and extra groups are kept, and said to be kept
//! (core/diff.rs `merge_into`). A `conflict` is left as it is by apply: the
//! block is the difference from the entry to the aws-auth row, `-` for what
//! only the entry has, `+` for what only the row has.

use super::principal_label;
use crate::core::existing::EntryDiff;
use crate::core::plan::{Action, Entry};
use crate::core::policy::{self, PolicyAssociation};

/// The entries that get a block, with their lines (the first is the heading).
pub(crate) fn blocks(entries: &[Entry], account: Option<&str>) -> Vec<Vec<String>> {
    entries
        .iter()
        .filter_map(|e| {
            let d = e.diff.as_ref()?;
            match e.action {
                Action::Update => Some(update_block(e, d, account)),
                Action::Conflict => Some(conflict_block(e, d, account)),
                _ => None,
            }
        })
        .collect()
}

fn quoted(username: Option<&str>) -> String {
    username.map_or_else(|| "(default)".to_string(), |u| format!("{u:?}"))
}

fn policy_line(sign: char, p: &PolicyAssociation) -> String {
    format!(
        "  {sign} policy {} ({})",
        policy::short_name(&p.policy_arn),
        p.access_scope
    )
}

/// `+` for a policy the entry lacks, `~` for one it holds at a narrower scope.
fn missing_policy_lines(d: &EntryDiff) -> Vec<String> {
    d.missing_policies
        .iter()
        .map(|p| {
            match d
                .existing
                .policies
                .iter()
                .find(|f| f.policy_arn == p.policy_arn)
            {
                Some(f) => format!(
                    "  ~ policy {}: {} -> {}",
                    policy::short_name(&p.policy_arn),
                    f.access_scope,
                    p.access_scope
                ),
                None => policy_line('+', p),
            }
        })
        .collect()
}

fn update_block(e: &Entry, d: &EntryDiff, account: Option<&str>) -> Vec<String> {
    let mut out = vec![format!(
        "~ {} (update: apply adds what is marked +, keeps the rest)",
        principal_label(&e.principal_arn, account)
    )];
    if d.username_differs {
        out.push(format!(
            "    username: {} (kept: the aws-auth row maps another, and usernames are not merged)",
            quoted(d.existing.username.as_deref())
        ));
    }
    out.extend(d.missing_groups.iter().map(|g| format!("  + group {g}")));
    out.extend(
        d.extra_groups
            .iter()
            .map(|g| format!("    group {g} (kept: not in aws-auth, apply removes no group)")),
    );
    out.extend(missing_policy_lines(d));
    out
}

fn conflict_block(e: &Entry, d: &EntryDiff, account: Option<&str>) -> Vec<String> {
    let mut out = vec![format!(
        "! {} (conflict: apply leaves the entry as it is; from the entry to the aws-auth row)",
        principal_label(&e.principal_arn, account)
    )];
    if d.type_differs {
        out.push(format!(
            "    type: {:?} -> {:?} (an entry's type cannot change)",
            d.existing.entry_type,
            e.entry_type.as_str()
        ));
    }
    if d.username_differs {
        out.push(format!(
            "    username: {} -> {}",
            quoted(d.existing.username.as_deref()),
            quoted(e.username.as_deref())
        ));
    }
    out.extend(d.missing_groups.iter().map(|g| format!("  + group {g}")));
    out.extend(d.extra_groups.iter().map(|g| format!("  - group {g}")));
    out.extend(missing_policy_lines(d));
    out.extend(
        d.existing
            .policies
            .iter()
            .filter(|f| !e.policies.iter().any(|p| p.policy_arn == f.policy_arn))
            .map(|f| policy_line('-', f)),
    );
    out
}
