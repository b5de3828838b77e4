//! The plan as terminal tables (tabled), readable at 100 columns: cells are
//! wrapped at natural break points (`/`, `,`, `:`, spaces) to a budget per
//! column, so ARNs and policy lists stay legible.

use tabled::builder::Builder;
use tabled::settings::Style;

use super::access;
use super::{
    groups_label, lossy_rows, policies_label, principal_label, skipped_rows, summary_line,
    username_label,
};
use crate::core::access_report::AccessReport;
use crate::core::plan::{Action, Entry, Fidelity, Plan};
use crate::core::rbac::compare::Verdict;
use crate::core::reason::Severity;

#[derive(Debug, Clone, Copy)]
pub(crate) struct TableStyle {
    pub color: bool,
    pub width: usize,
}

fn paint(text: &str, code: &str, on: bool) -> String {
    if on {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

pub(crate) fn action_color(a: Action) -> &'static str {
    match a {
        Action::Create => "32",
        Action::Update => "33",
        Action::Noop => "2",
        Action::Conflict => "31",
        Action::Skip => "35",
        Action::Unmanaged => "36",
    }
}

/// Wraps `text` to `width` columns, breaking after `/ , : _ -` or at spaces
/// where it can, mid-token where it must. Existing newlines are kept.
pub(crate) fn wrap(text: &str, width: usize) -> String {
    let width = width.max(8);
    let mut out = Vec::new();
    for para in text.split('\n') {
        let chars: Vec<char> = para.chars().collect();
        let mut start = 0;
        while chars.len() - start > width {
            let window = &chars[start..start + width];
            let cut = window
                .iter()
                .rposition(|c| " /,:_-".contains(*c))
                .filter(|i| *i >= width / 3)
                .map_or(width, |i| i + 1);
            let line: String = chars[start..start + cut].iter().collect();
            out.push(line.trim_end().to_string());
            start += cut;
            while start < chars.len() && chars[start] == ' ' {
                start += 1;
            }
        }
        out.push(chars[start..].iter().collect());
    }
    out.join("\n")
}

/// Column budgets: fixed columns keep their natural width, the rest share
/// what is left in the given proportions.
fn budgets(width: usize, fixed: &[usize], shares: &[usize]) -> Vec<usize> {
    let columns = fixed.len() + shares.len();
    let overhead = columns * 3 + 1;
    let left = width
        .saturating_sub(overhead + fixed.iter().sum::<usize>())
        .max(shares.len() * 10);
    let total: usize = shares.iter().sum();
    shares.iter().map(|s| left * s / total.max(1)).collect()
}

fn access_cell(e: &Entry) -> String {
    if e.entry_type.is_node() {
        return "(node identity)".into();
    }
    let mut lines = vec![format!("user: {}", username_label(e))];
    if !e.kubernetes_groups.is_empty() {
        lines.push(format!("groups: {}", groups_label(e)));
    }
    if !e.policies.is_empty() {
        lines.push(format!("policies: {}", policies_label(e)));
    }
    lines.join("\n")
}

pub(crate) fn render(plan: &Plan, style: TableStyle) -> String {
    let mut out = String::new();
    out.push_str(&wrap(&header(plan), style.width));
    out.push('\n');
    for n in &plan.notices {
        out.push_str(&paint(
            &wrap(&format!("! {n}"), style.width),
            "33",
            style.color,
        ));
        out.push('\n');
    }
    if let Some(l) = &plan.lockout {
        let caller = l.caller_arn.as_deref().unwrap_or("unknown");
        if l.caller_admin_after {
            out.push_str(&wrap(
                &format!(
                    "Caller {caller} stays cluster admin through the access entry of {}",
                    l.caller_admin_entry.as_deref().unwrap_or("?")
                ),
                style.width,
            ));
            out.push('\n');
        }
        for w in &l.warnings {
            out.push_str(&paint(
                &wrap(&format!("! {w}"), style.width),
                "31",
                style.color,
            ));
            out.push('\n');
        }
        for r in &l.node_roles_at_risk {
            out.push_str(&paint(
                &format!("  node role at risk: {r}"),
                "31",
                style.color,
            ));
            out.push('\n');
        }
    }
    out.push('\n');
    let account = plan.cluster.account.as_deref();
    if plan.entries.is_empty() {
        out.push_str("No access entries to plan.\n");
    } else {
        let rights = plan.access.as_ref();
        let fixed: &[usize] = if rights.is_some() {
            &[9, 13, 8, 11]
        } else {
            &[9, 13, 8]
        };
        let b = budgets(style.width, fixed, &[11, 10]);
        let mut t = Builder::default();
        let mut head = vec!["Action", "Type", "Principal", "Access", "Fidelity"];
        if rights.is_some() {
            head.push("Rights");
        }
        t.push_record(head);
        for e in &plan.entries {
            let fidelity = match e.fidelity {
                Fidelity::Exact => "exact".to_string(),
                Fidelity::Lossy => paint("lossy", "33", style.color),
            };
            let mut row = vec![
                paint(e.action.as_str(), action_color(e.action), style.color),
                e.entry_type.as_str().to_string(),
                wrap(&principal_label(&e.principal_arn, account), b[0]),
                wrap(&access_cell(e), b[1]),
                fidelity,
            ];
            if let Some(r) = rights {
                let v = access::verdict_cell(r, &e.principal_arn);
                let code = if v.starts_with("loses") {
                    "31"
                } else if v == "unproven" {
                    "33"
                } else {
                    "32"
                };
                row.push(paint(&v, code, style.color));
            }
            t.push_record(row);
        }
        out.push_str(&t.build().with(Style::sharp()).to_string());
        out.push('\n');
    }
    let skipped = skipped_rows(plan);
    if !skipped.is_empty() {
        out.push_str(&format!("\nSkipped aws-auth rows ({}):\n", skipped.len()));
        let b = budgets(style.width, &[], &[14, 28, 40]);
        let mut t = Builder::default();
        t.push_record(["Row", "ARN", "Reason"]);
        for (section, row, line, what, text) in skipped {
            let at = if line == "-" {
                format!("{section} #{row}")
            } else {
                format!("{section} #{row}, line {line}")
            };
            t.push_record([wrap(&at, b[0]), wrap(&what, b[1]), wrap(&text, b[2])]);
        }
        out.push_str(&t.build().with(Style::sharp()).to_string());
        out.push('\n');
    }
    let lossy: Vec<_> = plan.entries.iter().filter(|e| e.is_lossy()).collect();
    if !lossy.is_empty() {
        out.push_str(&format!("\nLossy entries ({}):\n", lossy.len()));
        for e in lossy {
            out.push_str(&format!(
                "  {}\n",
                principal_label(&e.principal_arn, account)
            ));
            for r in e.reasons.iter().filter(|r| r.severity >= Severity::Lossy) {
                let text = wrap(
                    &format!("{}: {}", r.code.as_str(), r.message),
                    style.width.saturating_sub(4),
                );
                for line in text.lines() {
                    out.push_str(&format!("    {line}\n"));
                }
            }
        }
    }
    let rows = lossy_rows(plan);
    if !rows.is_empty() {
        out.push_str(&format!(
            "\nLossy rows, no access entry possible ({}):\n",
            rows.len()
        ));
        for (id, arn, reasons) in rows {
            out.push_str(&format!("  {id} {arn}\n"));
            for r in reasons {
                let text = wrap(&r, style.width.saturating_sub(4));
                for line in text.lines() {
                    out.push_str(&format!("    {line}\n"));
                }
            }
        }
    }
    if let Some(report) = &plan.access {
        out.push_str(&access_section(plan, report, style));
    }
    out.push('\n');
    out.push_str(&wrap(&summary_line(plan), style.width));
    out.push('\n');
    out
}

fn access_section(plan: &Plan, report: &AccessReport, style: TableStyle) -> String {
    let account = plan.cluster.account.as_deref();
    let mut out = format!("\n{}\n", wrap(&access::heading(report), style.width));
    for line in access::incomplete_lines(report) {
        out.push_str(&paint(
            &wrap(&format!("! {line}"), style.width),
            "31",
            style.color,
        ));
        out.push('\n');
    }
    if let Some(line) = access::unbound_line(report) {
        out.push_str(&wrap(&line, style.width));
        out.push('\n');
    }
    for p in access::noteworthy(report) {
        let verdict = p.comparison.verdict.as_str();
        let code = match p.comparison.verdict {
            Verdict::Loses => "31",
            Verdict::Unproven => "33",
            _ => "32",
        };
        out.push_str(&format!(
            "  {} {}\n",
            paint(verdict, code, style.color),
            principal_label(&p.principal_arn, account)
        ));
        for line in access::detail_lines(p) {
            for l in wrap(&line, style.width.saturating_sub(4)).lines() {
                out.push_str(&format!("    {l}\n"));
            }
        }
    }
    out
}

pub(crate) fn header(plan: &Plan) -> String {
    let c = &plan.cluster;
    let account = c.account.as_deref().unwrap_or("unknown");
    match &c.name {
        Some(name) => format!(
            "Cluster {name} ({}, account {account}, partition {}, authentication mode {})",
            c.region.as_deref().unwrap_or("?"),
            c.partition,
            c.authentication_mode.as_ref().map_or("?", |m| m.as_str())
        ),
        None => format!(
            "aws-auth from {} (account {account} {}, partition {}; offline plan)",
            plan.source.path.as_deref().unwrap_or("stdin"),
            if c.account_source == "flag" {
                "from --account"
            } else {
                "inferred from the ARNs"
            },
            c.partition
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_breaks_at_natural_points() {
        assert_eq!(
            wrap("role/AWSReservedSSO_ReadOnly_0123", 16),
            "role/AWSReserved\nSSO_ReadOnly_\n0123"
        );
        assert_eq!(
            wrap("role/eks-nodegroup-general", 16),
            "role/eks-\nnodegroup-\ngeneral"
        );
        assert_eq!(wrap("short", 16), "short");
        assert_eq!(wrap("aaaaaaaaaaaaaaaaaaaa", 8), "aaaaaaaa\naaaaaaaa\naaaa");
        assert_eq!(wrap("one two three", 9), "one two\nthree");
    }

    #[test]
    fn budgets_share_what_is_left() {
        let b = budgets(100, &[9, 13, 8], &[11, 10]);
        assert_eq!(b.iter().sum::<usize>() + 9 + 13 + 8 + 16, 99);
    }
}
