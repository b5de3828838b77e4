//! From aws-auth rows to access entries: the mapping rules of
//! docs/mapping-rules.md. Pure: no I/O, no clock.
//!
//! The parts: [`eligibility`] (which rows name a caller an entry can
//! hold), [`entry`] (the entry for one principal's row); `translate` below
//! groups the rows by the caller they match, picks the row the
//! authenticator uses, and plans its entry.

mod eligibility;
mod entry;

use std::collections::BTreeMap;

pub use entry::{EC2_NODE_USERNAME, RESERVED_USERNAME_PREFIXES, SESSION_NODE_USERNAME};

use crate::core::arn::{self, ArnClass};
use crate::core::aws_auth::{AwsAuth, Row, SectionStatus};
use crate::core::input::Section;
use crate::core::plan::{Action, Entry, Fidelity, Mapping, Outcome};
use crate::core::policy_map::PolicyMap;
use crate::core::reason::{Code, Reason, Severity};
use eligibility::{eligibility, Target};
use entry::{node_shape, Ctx};

#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The cluster's account; inferred from the ARNs when `None`.
    pub account: Option<String>,
    /// The cluster's partition; inferred from the ARNs when `None`.
    pub partition: Option<String>,
    pub allow_lossy: bool,
    pub policy_map: PolicyMap,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Translation {
    pub mappings: Vec<Mapping>,
    pub entries: Vec<Entry>,
    pub account: Option<String>,
    pub partition: String,
    pub account_source: String,
    pub notices: Vec<String>,
}

/// One row that can match a caller: its mapping's index, the row, and
/// what it names.
struct Member<'a> {
    mapping: usize,
    row: &'a Row,
    target: Target,
}

pub fn translate(auth: &AwsAuth, opts: &Options) -> Translation {
    let mut notices = Vec::new();
    let (account, account_source) = cluster_account(auth, opts, &mut notices);
    let partition = opts
        .partition
        .clone()
        .unwrap_or_else(|| infer_partition(auth));
    let ctx = Ctx {
        account: account.clone(),
        partition: partition.clone(),
        policy_map: &opts.policy_map,
    };
    // Unreadable sections first, where a reviewer looks.
    let mut mappings = unreadable_sections(auth);
    let callers = rows_by_caller(auth, &mut mappings);
    let entries = callers
        .iter()
        .filter_map(|members| plan_caller(&ctx, members, &mut mappings, opts.allow_lossy))
        .collect();
    Translation {
        mappings,
        entries,
        account,
        partition,
        account_source,
        notices,
    }
}

/// The cluster's account (from `--account`, else inferred from the ARNs,
/// with a notice when they name several) and where it came from.
fn cluster_account(
    auth: &AwsAuth,
    opts: &Options,
    notices: &mut Vec<String>,
) -> (Option<String>, String) {
    if let Some(a) = &opts.account {
        return (Some(a.clone()), "flag".to_string());
    }
    let a = infer_account(auth);
    if let Some((acct, others)) = &a {
        if *others {
            notices.push(format!(
                "the ARNs name several accounts; the cluster's account is taken to be {acct} (most node roles). Pass --account to say which"
            ));
        }
    }
    (a.map(|(acct, _)| acct), "inferred".to_string())
}

/// A mapping for each section the authenticator cannot read.
fn unreadable_sections(auth: &AwsAuth) -> Vec<Mapping> {
    auth.sections
        .iter()
        .filter(|s| s.status == SectionStatus::Unparseable)
        .map(|s| Mapping {
            section: s.section,
            index: None,
            line: s.line,
            section_line: None,
            arn: None,
            account: None,
            username: None,
            groups: Vec::new(),
            outcome: Outcome::Skip,
            reasons: vec![Reason::new(
                Code::SectionUnparseable,
                format!(
                    "the authenticator ignores all of {} today: {}",
                    s.section,
                    s.error.as_deref().unwrap_or("it cannot be read")
                ),
            )],
        })
        .collect()
}

/// Adds a mapping for every row; returns the rows that can match a caller,
/// grouped by what the authenticator matches on (the lowercased ARN), the
/// groups in order of first appearance, each in input order.
fn rows_by_caller<'a>(auth: &'a AwsAuth, mappings: &mut Vec<Mapping>) -> Vec<Vec<Member<'a>>> {
    let mut callers: Vec<Vec<Member<'a>>> = Vec::new();
    let mut by_key: BTreeMap<String, usize> = BTreeMap::new();
    for row in &auth.rows {
        let mut mapping = Mapping {
            section: row.section,
            index: Some(row.index),
            line: row.line,
            section_line: row.section_line,
            arn: (row.section != Section::MapAccounts).then(|| row.arn.clone()),
            account: row.account.clone(),
            username: (!row.username.is_empty()).then(|| row.username.clone()),
            groups: row.groups.clone(),
            outcome: Outcome::Skip,
            reasons: row.notes.clone(),
        };
        match eligibility(row) {
            Err(reason) => mapping.reasons.push(reason),
            Ok(target) => {
                let at = *by_key.entry(target.key()).or_insert_with(|| {
                    callers.push(Vec::new());
                    callers.len() - 1
                });
                callers[at].push(Member {
                    mapping: mappings.len(),
                    row,
                    target,
                });
            }
        }
        mappings.push(mapping);
    }
    callers
}

/// Plans the rows of one caller: the row the authenticator uses gets the
/// entry (or the reason it gets none), the others are superseded.
fn plan_caller(
    ctx: &Ctx<'_>,
    members: &[Member<'_>],
    mappings: &mut [Mapping],
    allow_lossy: bool,
) -> Option<Entry> {
    // Roles are tried before users; within mapRoles the last row wins
    // (pkg/mapper/configmap/mapper.go Map; configmap.go saveMap).
    let role_rows: Vec<&Member> = members
        .iter()
        .filter(|m| m.row.section == Section::MapRoles)
        .collect();
    let winner = role_rows.last().copied().or(members.last())?;
    let extra = if role_rows.is_empty() {
        ambiguous_spellings(members, winner.row)
    } else {
        Vec::new()
    };
    mark_superseded(members, winner, mappings);
    let principal = match &winner.target {
        Target::Principal(p) => p,
        Target::Unholdable { reason, .. } => {
            // Matches today, no entry can carry it: lossy, no entry.
            let reasons = &mut mappings[winner.mapping].reasons;
            reasons.extend(extra);
            reasons.push(reason.clone());
            return None;
        }
    };
    match ctx.entry_for(winner.row, principal) {
        Err(reason) => {
            mappings[winner.mapping].reasons.push(reason);
            None
        }
        Ok(mut entry) => {
            entry.reasons.splice(0..0, extra);
            finish(&mut entry, allow_lossy);
            entry.from = vec![winner.mapping];
            let mapping = &mut mappings[winner.mapping];
            mapping.reasons.extend(entry.reasons.iter().cloned());
            if entry.action != Action::Skip {
                mapping.outcome = Outcome::Migrate;
            }
            Some(entry)
        }
    }
}

/// mapUsers keeps exact-ARN keys: case variants are separate rows, all
/// matching (strings.EqualFold), and which one is used is not determined
/// (Go map order). The reason to add when they give different access.
fn ambiguous_spellings(members: &[Member<'_>], winner: &Row) -> Vec<Reason> {
    let mut last_per_arn: BTreeMap<&str, &Row> = BTreeMap::new();
    for m in members {
        last_per_arn.insert(m.row.arn.as_str(), m.row);
    }
    let differ = last_per_arn
        .values()
        .any(|r| r.username != winner.username || r.groups != winner.groups);
    if last_per_arn.len() > 1 && differ {
        vec![Reason::new(
            Code::AmbiguousDuplicate,
            format!(
                "mapUsers has {} spellings of this ARN with different access; which one the authenticator uses is not determined. The last row is planned",
                last_per_arn.len()
            ),
        )]
    } else {
        Vec::new()
    }
}

/// Marks every row of the caller but the winner as superseded by it.
fn mark_superseded(members: &[Member<'_>], winner: &Member<'_>, mappings: &mut [Mapping]) {
    let w = winner.row;
    for m in members.iter().filter(|m| m.mapping != winner.mapping) {
        mappings[m.mapping].reasons.push(Reason::new(
            Code::Duplicate,
            format!(
                "superseded by {} row {}{}: the authenticator uses one row per principal",
                w.section,
                w.index + 1,
                w.location().map(|l| format!(" ({l})")).unwrap_or_default()
            ),
        ));
    }
}

/// Sets fidelity and the offline action from the reasons.
pub fn finish(entry: &mut Entry, allow_lossy: bool) {
    entry.fidelity = if entry.reasons.iter().any(|r| r.severity == Severity::Lossy) {
        Fidelity::Lossy
    } else {
        Fidelity::Exact
    };
    entry.action = if entry.fidelity == Fidelity::Lossy && !allow_lossy {
        Action::Skip
    } else {
        Action::Create
    };
}

/// The most frequent account among node roles (else among all principals),
/// and whether other accounts appear too.
fn infer_account(auth: &AwsAuth) -> Option<(String, bool)> {
    let mut node_counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut all_counts: BTreeMap<String, usize> = BTreeMap::new();
    for row in &auth.rows {
        if let ArnClass::Principal(p) = arn::classify(&row.arn) {
            *all_counts.entry(p.account.clone()).or_default() += 1;
            if node_shape(row, &p).is_some() {
                *node_counts.entry(p.account.clone()).or_default() += 1;
            }
        }
    }
    let counts = if node_counts.is_empty() {
        &all_counts
    } else {
        &node_counts
    };
    let best = counts
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
        .map(|(a, _)| a.clone())?;
    Some((best, all_counts.len() > 1))
}

fn infer_partition(auth: &AwsAuth) -> String {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for row in &auth.rows {
        if let Some((p, _)) = arn::partition_and_account(&row.arn) {
            *counts.entry(p).or_default() += 1;
        }
    }
    counts
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
        .map_or_else(|| "aws".to_string(), |(p, _)| p)
}

#[cfg(test)]
mod tests;
