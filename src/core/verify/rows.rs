//! Checking each aws-auth row against the access entries: which status a
//! row gets (migrated, gap, lossy, ignored, superseded), why, and which
//! rows prune-configmap may remove.

use std::collections::{BTreeMap, BTreeSet};

use super::report::{RowCheck, RowStatus};
use super::row_id::RowId;
use crate::core::arn;
use crate::core::input::Section;
use crate::core::plan::{Action, Entry, Fidelity, Mapping, Plan};
use crate::core::policy;
use crate::core::reason::{Code, Reason, Severity};

/// Skip reasons under which the authenticator ignores a row today: it
/// grants nothing, so nothing is lost by leaving aws-auth. Each was checked
/// against aws-iam-authenticator's source (docs/mapping-rules.md, "Which
/// rows match a caller today"); a row is `ignored` only when, besides, it
/// names nothing a caller can match ([`matches_no_one`]).
const IGNORED: [Code; 5] = [
    Code::MissingArn,
    Code::InvalidArn,
    Code::StsArn,
    Code::RoleArnHasPath,
    Code::SsoBlock,
];

/// Checked again from the row itself, whatever reason the plan gave: the
/// row is dropped when it loads (no ARN, or an `sso` block: dropped by
/// `Validate`, or matched only by the SSO feature gate, off by default and
/// on EKS), or its ARN equals no caller's canonical ARN.
pub(super) fn matches_no_one(m: &Mapping) -> bool {
    if m.section == Section::MapAccounts {
        return false;
    }
    if m.reasons.iter().any(|r| r.code == Code::SsoBlock) {
        return true;
    }
    match m.arn.as_deref() {
        None | Some("") => true,
        Some(a) => !arn::classify(a).can_match_a_caller(),
    }
}

/// What the authenticator matches a row's ARN by: lowercased, for roles
/// and users alike (`strings.EqualFold` in pkg/config/mapper.go).
fn match_key(arn: &str) -> Option<String> {
    arn::classify(arn).match_key()
}

/// How an existing entry falls short of the planned one; empty when it
/// gives at least the planned access. Notes say what it gives beyond.
fn shortfalls(e: &Entry) -> (Vec<String>, Vec<String>) {
    let Some(d) = &e.diff else {
        return (
            vec![format!("no access entry for {}", e.principal_arn)],
            vec![],
        );
    };
    let mut short = Vec::new();
    let mut notes = Vec::new();
    if d.type_differs {
        short.push(format!(
            "the entry's type is {}, the row needs {}",
            d.existing.entry_type,
            e.entry_type.as_str()
        ));
    }
    if d.username_differs {
        short.push(format!(
            "the entry's username is {}, the row's is {}",
            d.existing.username.as_deref().unwrap_or("(default)"),
            e.username.as_deref().unwrap_or("(default)")
        ));
    }
    if !d.missing_groups.is_empty() {
        short.push(format!(
            "the entry lacks groups {}",
            d.missing_groups.join(", ")
        ));
    }
    if !d.missing_policies.is_empty() {
        let names: Vec<String> = d
            .missing_policies
            .iter()
            .map(|p| format!("{} ({})", policy::short_name(&p.policy_arn), p.access_scope))
            .collect();
        short.push(format!("the entry lacks policies {}", names.join(", ")));
    }
    if !d.extra_groups.is_empty() {
        notes.push(format!(
            "the entry also has groups {}",
            d.extra_groups.join(", ")
        ));
    }
    (short, notes)
}

fn first_skip_code(m: &Mapping) -> Option<Code> {
    m.reasons
        .iter()
        .find(|r| r.severity == Severity::Skip)
        .map(|r| r.code)
}

/// What verify concludes about one row, before it is put in the report.
struct Verdict {
    status: RowStatus,
    /// The deciding reason code; None for a migrated row.
    code: Option<String>,
    detail: String,
    /// The access entry that carries (or should carry) the row.
    entry: Option<String>,
}

impl Verdict {
    fn new(status: RowStatus, code: Option<String>, detail: String, entry: Option<String>) -> Self {
        Verdict {
            status,
            code,
            detail,
            entry,
        }
    }
}

/// Every row of the plan, checked against the entry planned for it (and
/// compared with the one that exists).
pub(super) fn check_rows(plan: &Plan) -> Vec<RowCheck> {
    let by_mapping: BTreeMap<usize, &Entry> = plan
        .entries
        .iter()
        .filter(|e| e.action != Action::Unmanaged)
        .flat_map(|e| e.from.iter().map(move |&i| (i, e)))
        .collect();
    plan.mappings
        .iter()
        .enumerate()
        .map(|(mi, m)| {
            let verdict = if m.index.is_none() {
                unreadable_section(m)
            } else if let Some(e) = by_mapping.get(&mi) {
                against_entry(e)
            } else {
                without_entry(m)
            };
            row_check(m, verdict)
        })
        .collect()
}

fn row_check(m: &Mapping, v: Verdict) -> RowCheck {
    RowCheck {
        id: RowId::of(m).to_string(),
        section: m.section,
        index: m.index,
        line: m.line,
        arn: m.arn.clone().filter(|a| !a.is_empty()),
        account: m.account.clone(),
        username: m.username.clone(),
        groups: m.groups.clone(),
        status: v.status,
        code: v.code,
        detail: v.detail,
        entry: v.entry,
        accepted: false,
        prunable: false,
    }
}

/// A whole section the authenticator cannot read: it grants nothing.
fn unreadable_section(m: &Mapping) -> Verdict {
    Verdict::new(
        RowStatus::Ignored,
        Some(Code::SectionUnparseable.as_str().into()),
        m.reasons
            .first()
            .map(|r| r.message.clone())
            .unwrap_or_default(),
        None,
    )
}

/// A row planned as an entry: a gap when its principal is gone, lossy
/// when the entry cannot carry it exactly, else compared with the entry
/// that exists.
fn against_entry(e: &Entry) -> Verdict {
    let carrier = Some(e.principal_arn.clone());
    if let Some(r) = e.reasons.iter().find(|r| r.code == Code::PrincipalNotFound) {
        return Verdict::new(
            RowStatus::Gap,
            Some(r.code.as_str().into()),
            r.message.clone(),
            carrier,
        );
    }
    if e.fidelity == Fidelity::Lossy {
        return lossy_entry(e);
    }
    let (short, notes) = shortfalls(e);
    if !short.is_empty() {
        let code = if e.diff.is_none() {
            "no-entry"
        } else {
            "entry-differs"
        };
        return Verdict::new(RowStatus::Gap, Some(code.into()), short.join("; "), carrier);
    }
    let mut detail = if e.entry_type.is_node() {
        format!(
            "carried by the {} access entry {}",
            e.entry_type.as_str(),
            e.principal_arn
        )
    } else {
        format!("carried by the access entry {}", e.principal_arn)
    };
    for n in notes {
        detail.push_str("; ");
        detail.push_str(&n);
    }
    Verdict::new(RowStatus::Migrated, None, detail, carrier)
}

/// A row whose planned entry is lossy: named with every lossy reason.
fn lossy_entry(e: &Entry) -> Verdict {
    let lossy: Vec<&Reason> = e
        .reasons
        .iter()
        .filter(|r| r.severity == Severity::Lossy)
        .collect();
    let (short, _) = shortfalls(e);
    // The first reason's code is the row's code, which every output prints
    // before the detail: only the others are named here.
    let mut detail = lossy
        .iter()
        .enumerate()
        .map(|(i, r)| match i {
            0 => r.message.clone(),
            _ => format!("{}: {}", r.code.as_str(), r.message),
        })
        .collect::<Vec<_>>()
        .join("; ");
    if short.is_empty() {
        detail.push_str("; the lossy entry exists as planned");
    }
    Verdict::new(
        RowStatus::Lossy,
        lossy.first().map(|r| r.code.as_str().to_string()),
        detail,
        Some(e.principal_arn.clone()),
    )
}

/// A row no entry is planned for: lossy when it matches a caller today
/// and no entry can carry it, superseded when a duplicate, ignored when
/// the authenticator ignores it, else a gap.
fn without_entry(m: &Mapping) -> Verdict {
    if let Some(r) = m.reasons.iter().find(|r| r.severity == Severity::Lossy) {
        // Matches a caller today, and no entry can carry it (root-user,
        // federated-user): lost in API mode.
        return Verdict::new(
            RowStatus::Lossy,
            Some(r.code.as_str().into()),
            r.message.clone(),
            None,
        );
    }
    let message = |c: Code| {
        m.reasons
            .iter()
            .find(|r| r.code == c)
            .map(|r| r.message.clone())
            .unwrap_or_default()
    };
    match first_skip_code(m) {
        Some(Code::Duplicate) => Verdict::new(
            RowStatus::Superseded,
            Some(Code::Duplicate.as_str().into()),
            message(Code::Duplicate),
            None,
        ),
        Some(c) if IGNORED.contains(&c) && matches_no_one(m) => Verdict::new(
            RowStatus::Ignored,
            Some(c.as_str().into()),
            message(c),
            None,
        ),
        Some(c) => Verdict::new(RowStatus::Gap, Some(c.as_str().into()), message(c), None),
        None => Verdict::new(
            RowStatus::Gap,
            Some("no-entry".into()),
            "the row was not planned as an entry".into(),
            None,
        ),
    }
}

/// Prunable: migrated rows, and the duplicates of a migrated principal
/// (left alone, one of them would start to count if the migrated row were
/// gone).
pub(super) fn mark_prunable(rows: &mut [RowCheck]) {
    let migrated_keys: BTreeSet<String> = rows
        .iter()
        .filter(|r| r.status == RowStatus::Migrated)
        .filter_map(|r| r.arn.as_deref().and_then(match_key))
        .collect();
    for r in rows.iter_mut() {
        r.prunable = match r.status {
            RowStatus::Migrated => true,
            RowStatus::Superseded => r
                .arn
                .as_deref()
                .and_then(match_key)
                .is_some_and(|k| migrated_keys.contains(&k)),
            _ => false,
        };
    }
}
