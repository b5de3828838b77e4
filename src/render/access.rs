//! The access verdicts of a plan, for the table and Markdown renderers:
//! a short cell per principal and the details of every principal that is
//! not `same` (docs/access-equivalence.md).

use std::collections::HashMap;

use crate::core::access_report::{AccessReport, PrincipalAccess};
use crate::core::rbac::compare::Verdict;

/// Details shown per principal before pointing at `plan --explain`.
const SHOWN: usize = 6;

/// Each principal's cell, by ARN: `same`, `gains 2`, `loses 3`,
/// `unproven` (one pass, so a table of thousands of entries does not search
/// the report once per row).
pub(crate) fn verdict_cells(report: &AccessReport) -> HashMap<&str, String> {
    report
        .principals
        .iter()
        .map(|p| {
            let c = &p.comparison;
            let cell = match c.verdict {
                Verdict::Same => "same".into(),
                Verdict::Gains => format!("gains {}", c.gains.len()),
                Verdict::Loses => format!("loses {}", c.loses.len()),
                Verdict::Unproven => "unproven".into(),
            };
            (p.principal_arn.as_str(), cell)
        })
        .collect()
}

/// A principal's cell from [`verdict_cells`]; `-` when it has no verdict.
pub(crate) fn cell_of<'a>(cells: &'a HashMap<&str, String>, arn: &str) -> &'a str {
    cells.get(arn).map_or("-", String::as_str)
}

/// The heading line of the access section.
pub(crate) fn heading(report: &AccessReport) -> String {
    let s = &report.summary;
    let mut from = match &report.rbac.path {
        Some(p) => format!("RBAC from {p}"),
        None => format!("RBAC from the {}", report.rbac.kind),
    };
    if !report.rbac.skipped.is_empty() {
        from.push_str(&format!(
            " ({} objects that are not RBAC left out)",
            report.rbac.skipped.len()
        ));
    }
    format!(
        "Access equivalence ({from}: {} roles, {} bindings; access policy rules as published on {}): {} same, {} gain, {} lose, {} unproven",
        report.rbac.roles,
        report.rbac.bindings,
        report.policies_checked,
        s.same,
        s.gains,
        s.loses,
        s.unproven
    )
}

/// The lines that explain one principal's verdict: `- ` lost, `+ ` gained,
/// `? ` unproven, `note: `; at most [`SHOWN`] of each kind.
pub(crate) fn detail_lines(p: &PrincipalAccess) -> Vec<String> {
    lines(p, SHOWN)
}

/// Every detail line, none left out.
pub(crate) fn all_detail_lines(p: &PrincipalAccess) -> Vec<String> {
    lines(p, usize::MAX)
}

fn lines(p: &PrincipalAccess, shown: usize) -> Vec<String> {
    let c = &p.comparison;
    let mut out = Vec::new();
    let mut push = |prefix: &str, items: Vec<String>| {
        let n = items.len();
        for item in items.into_iter().take(shown) {
            out.push(format!("{prefix}{item}"));
        }
        if n > shown {
            out.push(format!(
                "{prefix}… {} more (plan --explain {})",
                n - shown,
                p.principal_arn
            ));
        }
    };
    push(
        "- loses: ",
        c.loses
            .iter()
            .map(|l| {
                let mut t = format!("{} (via {})", l.text(), l.via);
                if let Some(e) = &l.example {
                    t.push_str(&format!("; e.g. {e}"));
                }
                t
            })
            .collect(),
    );
    push("? unproven: ", c.unproven.clone());
    push(
        "+ gains: ",
        c.gains
            .iter()
            .map(|g| format!("{} (via {})", g.text(), g.via))
            .collect(),
    );
    push("note: ", c.notes.clone());
    out
}

/// The principals to detail: every one that is not `same`, losses first.
pub(crate) fn noteworthy(report: &AccessReport) -> Vec<&PrincipalAccess> {
    let mut out: Vec<&PrincipalAccess> = report
        .principals
        .iter()
        .filter(|p| p.comparison.verdict != Verdict::Same)
        .collect();
    out.sort_by_key(|p| std::cmp::Reverse(p.comparison.verdict));
    out
}

/// Warnings: what of RBAC could not be read (the analysis is incomplete).
pub(crate) fn incomplete_lines(report: &AccessReport) -> Vec<String> {
    report
        .rbac
        .incomplete
        .iter()
        .map(|i| format!("RBAC incomplete, no principal can be shown `same`: {i}"))
        .collect()
}

/// The line about groups bound to nothing.
pub(crate) fn unbound_line(report: &AccessReport) -> Option<String> {
    (!report.unbound_groups.is_empty()).then(|| {
        format!(
            "Groups bound to nothing (they grant nothing, before or after): {}",
            report.unbound_groups.join(", ")
        )
    })
}
