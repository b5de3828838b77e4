//! The plan as Markdown for a pull-request comment: a summary line, the
//! entries table, and the details folded.

use super::access;
use super::{
    groups_label, lossy_rows, policies_label, principal_label, skipped_rows, summary_line,
    table::header, username_label,
};
use crate::core::access_report::AccessReport;
use crate::core::plan::Plan;
use crate::core::rbac::compare::Verdict;
use crate::core::reason::Severity;

/// GitHub refuses comments longer than this.
pub(crate) const COMMENT_LIMIT: usize = 65_535;

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', "<br>")
}

fn access_section(report: &AccessReport) -> String {
    let mut out = format!("**{}**\n\n", cell(&access::heading(report)));
    for line in access::incomplete_lines(report) {
        out.push_str(&format!("> 🛑 {}\n\n", cell(&line)));
    }
    if let Some(line) = access::unbound_line(report) {
        out.push_str(&format!("{}\n\n", cell(&line)));
    }
    let noteworthy = access::noteworthy(report);
    if !noteworthy.is_empty() {
        for p in noteworthy {
            let mark = match p.comparison.verdict {
                Verdict::Loses => "🛑",
                Verdict::Unproven => "❔",
                _ => "➕",
            };
            out.push_str(&format!(
                "- {mark} **{}** `{}`\n",
                p.comparison.verdict.as_str(),
                p.principal_arn
            ));
            for line in access::detail_lines(p) {
                // The list marks the item; the text's own sign is redundant.
                let text = ["- ", "+ ", "? "]
                    .iter()
                    .find_map(|sign| line.strip_prefix(sign))
                    .unwrap_or(&line);
                out.push_str(&format!("  - {}\n", cell(text)));
            }
        }
        out.push('\n');
    }
    out
}

pub(crate) fn render(plan: &Plan) -> String {
    let mut out = String::new();
    out.push_str(&format!("### aws-auth-migrate: {}\n\n", summary_line(plan)));
    out.push_str(&format!("{}\n\n", header(plan)));
    for n in &plan.notices {
        out.push_str(&format!("> ⚠️ {}\n", cell(n)));
    }
    if let Some(l) = &plan.lockout {
        for w in &l.warnings {
            out.push_str(&format!("> 🛑 {}\n", cell(w)));
        }
        for r in &l.node_roles_at_risk {
            out.push_str(&format!("> 🛑 node role at risk: `{r}`\n"));
        }
        if l.caller_admin_after {
            out.push_str(&format!(
                "> ✅ caller `{}` stays cluster admin through `{}`\n",
                l.caller_arn.as_deref().unwrap_or("?"),
                l.caller_admin_entry.as_deref().unwrap_or("?")
            ));
        }
    }
    if !plan.notices.is_empty() || plan.lockout.is_some() {
        out.push('\n');
    }
    let account = plan.cluster.account.as_deref();
    if !plan.entries.is_empty() {
        let rights = plan.access.as_ref().map(access::verdict_cells);
        if rights.is_some() {
            out.push_str("| Action | Type | Principal | Username | Groups | Policies | Fidelity | Rights |\n");
            out.push_str("|---|---|---|---|---|---|---|---|\n");
        } else {
            out.push_str(
                "| Action | Type | Principal | Username | Groups | Policies | Fidelity |\n",
            );
            out.push_str("|---|---|---|---|---|---|---|\n");
        }
        for e in &plan.entries {
            let verdict = rights.as_ref().map_or(String::new(), |r| {
                format!(" {} |", access::cell_of(r, &e.principal_arn))
            });
            out.push_str(&format!(
                "| {} | {} | `{}` | {} | {} | {} | {} |{verdict}\n",
                e.action.as_str(),
                e.entry_type.as_str(),
                cell(&principal_label(&e.principal_arn, account)),
                cell(&username_label(e)),
                cell(&groups_label(e)),
                cell(&policies_label(e)),
                if e.is_lossy() {
                    "⚠️ lossy"
                } else {
                    "exact"
                }
            ));
        }
        out.push('\n');
    }
    let blocks = super::diff::blocks(&plan.entries, account);
    if !blocks.is_empty() {
        out.push_str(&format!(
            "**Existing entries that differ ({})**\n\n```diff\n",
            blocks.len()
        ));
        for line in blocks.iter().flatten() {
            out.push_str(line);
            out.push('\n');
        }
        out.push_str("```\n\n");
    }
    if let Some(report) = &plan.access {
        out.push_str(&access_section(report));
    }
    let rows = lossy_rows(plan);
    if !rows.is_empty() {
        out.push_str(&format!(
            "**⚠️ Lossy rows, no access entry possible ({})**\n\n| Row | ARN | What is lost |\n|---|---|---|\n",
            rows.len()
        ));
        for (id, arn, reasons) in rows {
            out.push_str(&format!(
                "| {id} | `{}` | {} |\n",
                cell(&arn),
                cell(&reasons.join("\n"))
            ));
        }
        out.push('\n');
    }
    let skipped = skipped_rows(plan);
    if !skipped.is_empty() {
        out.push_str(&format!(
            "<details><summary>Skipped aws-auth rows ({})</summary>\n\n",
            skipped.len()
        ));
        out.push_str("| Section | Row | Line | ARN | Reason |\n|---|---|---|---|---|\n");
        for (section, row, line, what, text) in skipped {
            out.push_str(&format!(
                "| {section} | {row} | {line} | `{}` | {} |\n",
                cell(&what),
                cell(&text)
            ));
        }
        out.push_str("\n</details>\n\n");
    }
    let noted: Vec<_> = plan
        .entries
        .iter()
        .filter(|e| !e.reasons.is_empty())
        .collect();
    if !noted.is_empty() {
        out.push_str("<details><summary>Why each entry looks as it does</summary>\n\n");
        for e in noted {
            out.push_str(&format!("- `{}`\n", e.principal_arn));
            for r in &e.reasons {
                let mark = match r.severity {
                    Severity::Info => "",
                    Severity::Lossy => "⚠️ ",
                    Severity::Skip => "⛔ ",
                };
                out.push_str(&format!(
                    "  - {mark}`{}`: {}\n",
                    r.code.as_str(),
                    cell(&r.message)
                ));
            }
        }
        out.push_str("\n</details>\n");
    }
    if out.len() > COMMENT_LIMIT {
        let cut = COMMENT_LIMIT - 200;
        let mut end = cut;
        while !out.is_char_boundary(end) {
            end -= 1;
        }
        out.truncate(end);
        out.push_str("\n\n</details>\n\n_Truncated to fit a pull-request comment: use `--output json` or `--out` for the whole plan._\n");
    }
    out
}
