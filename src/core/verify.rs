//! Parity: does every aws-auth row have an access entry that gives the same
//! access? Computed from a live plan (see `live::plan`) made with lossy
//! entries included, so every row's entry is compared with what exists.
//! Pure: no I/O. docs/verify-and-finalize.md describes the rules.
//!
//! The parts: [`row_id`] (the names `--accept-gaps` takes), [`report`] (the
//! verification report), [`rows`] (each row's status), [`blockers`] (why
//! `finalize` may not switch); `verify` below puts them together.

mod access;
mod blockers;
mod report;
mod row_id;
mod rows;

use std::collections::BTreeMap;

pub(crate) use access::{add_access, no_analysis};
pub(crate) use blockers::{compute_roles_without_entry, finalize_blockers};
pub(crate) use report::{
    row_label, OrphanEntry, RowCheck, RowStatus, Verification, VerifySummary, FORMAT_VERSION,
};
pub(crate) use row_id::{parse_row_ids, RowId};

use crate::core::cluster::AuthMode;
use crate::core::existing::ExistingEntry;
use crate::core::lockout::{self, Lockout};
use crate::core::plan::{Plan, Tool};
use crate::core::resolve::Lookup;

/// Why verify refuses: rows `--accept-gaps` names that are not gaps.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
pub(crate) struct VerifyError(pub Vec<NotAGap>);

/// A row `--accept-gaps` names that cannot be accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum NotAGap {
    /// The row exists and loses nothing.
    #[error("--accept-gaps {id}: that row is {}, not a gap ({label})", .status.as_str())]
    NotAGap {
        id: String,
        status: RowStatus,
        /// The row's ARN, its account, or `-`.
        label: String,
    },
    /// aws-auth has no row of that id.
    #[error("--accept-gaps {id}: aws-auth has no such row (row ids are positions in the current ConfigMap: take them from the latest verify)")]
    NoSuchRow { id: String },
}

/// Checks every row of a live plan (made with lossy entries included and
/// `merge_existing` off) against the entries that exist. `existing_lookups`
/// are IAM's answers for the existing entries' principals (keyed by ARN);
/// `accepted` the rows `--accept-gaps` names, each of which must be a gap.
pub(crate) fn verify(
    plan: &Plan,
    existing_lookups: &BTreeMap<String, Lookup>,
    caller: Option<&str>,
    accepted: &[RowId],
) -> Result<Verification, VerifyError> {
    let mut rows = rows::check_rows(plan);
    rows::mark_prunable(&mut rows);
    accept_gaps(&mut rows, accepted)?;
    let existing: &[ExistingEntry] = plan.existing.as_deref().unwrap_or(&[]);
    let orphans = orphan_entries(existing, existing_lookups);
    let summary = summarize(&rows, &orphans);
    Ok(Verification {
        format_version: FORMAT_VERSION.to_string(),
        tool: Tool::default(),
        cluster: plan.cluster.clone(),
        source: plan.source.clone(),
        parity: summary.blocking == 0,
        summary,
        rows,
        orphan_entries: orphans,
        notices: notices(plan),
        lockout: Some(lockout_now(plan, caller)),
        access: None,
    })
}

/// Marks the rows `--accept-gaps` names as accepted; each must name a row
/// that is a gap.
fn accept_gaps(rows: &mut [RowCheck], accepted: &[RowId]) -> Result<(), VerifyError> {
    let mut errors = Vec::new();
    for a in accepted {
        let id = a.to_string();
        match rows.iter_mut().find(|r| r.id == id) {
            Some(r) if r.status.is_gap() => r.accepted = true,
            Some(r) => errors.push(NotAGap::NotAGap {
                label: r
                    .arn
                    .as_deref()
                    .or(r.account.as_deref())
                    .unwrap_or("-")
                    .to_string(),
                status: r.status,
                id,
            }),
            None => errors.push(NotAGap::NoSuchRow { id }),
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(VerifyError(errors))
    }
}

/// The existing entries whose principal IAM no longer has (by IAM's
/// answers, keyed by ARN).
fn orphan_entries(
    existing: &[ExistingEntry],
    lookups: &BTreeMap<String, Lookup>,
) -> Vec<OrphanEntry> {
    let mut orphans = Vec::new();
    for x in existing {
        let detail = match lookups.get(&x.principal_arn) {
            Some(Lookup::NotFound) => (
                "IAM has no such principal: it was deleted (a principal recreated under the same ARN is a new one that this entry does not match); delete the entry"
            ).to_string(),
            Some(Lookup::Found { arn }) if !arn.eq_ignore_ascii_case(&x.principal_arn) => {
                format!("IAM's principal of that name is {arn}: this entry's ARN matches no one")
            }
            _ => continue,
        };
        orphans.push(OrphanEntry {
            principal_arn: x.principal_arn.clone(),
            entry_type: x.entry_type.clone(),
            detail,
        });
    }
    orphans
}

fn notices(plan: &Plan) -> Vec<String> {
    let mut notices = Vec::new();
    if plan.cluster.authentication_mode == Some(AuthMode::ConfigMap) {
        notices.push(
            "the cluster is in CONFIG_MAP mode: no access entries exist yet; run apply first"
                .to_string(),
        );
    }
    notices
}

fn summarize(rows: &[RowCheck], orphans: &[OrphanEntry]) -> VerifySummary {
    let count = |s: RowStatus| rows.iter().filter(|r| r.status == s).count();
    VerifySummary {
        rows: rows.len(),
        migrated: count(RowStatus::Migrated),
        gaps: count(RowStatus::Gap),
        lossy: count(RowStatus::Lossy),
        accepted: rows.iter().filter(|r| r.accepted).count(),
        ignored: count(RowStatus::Ignored),
        superseded: count(RowStatus::Superseded),
        orphan_entries: orphans.len(),
        blocking: rows
            .iter()
            .filter(|r| r.status.is_gap() && !r.accepted)
            .count(),
        access_losses: None,
        access_unproven: None,
    }
}

/// The lockout analysis from the entries that exist now: the caller is an
/// admin only through an existing entry, a node role is covered only by an
/// existing node entry. `--accept-gaps` does not waive a node role: what
/// it would lose is not one principal's access but every node that joins
/// with the role, and the switch cannot be undone.
fn lockout_now(plan: &Plan, caller: Option<&str>) -> Lockout {
    let existing = plan.existing.as_deref().unwrap_or(&[]);
    let node_rows = lockout::node_rows(&plan.entries, &plan.mappings);
    lockout::analyse(caller, &[], existing, &node_rows)
}

#[cfg(test)]
mod tests;
