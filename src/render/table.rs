//! The plan as terminal tables (tabled), readable at 100 columns.

use tabled::builder::Builder;
use tabled::settings::peaker::Priority;
use tabled::settings::{Style, Width};

use super::{
    groups_label, policies_label, principal_label, skipped_rows, summary_line, username_label,
};
use crate::core::plan::{Action, Fidelity, Plan};

#[derive(Debug, Clone, Copy)]
pub struct TableStyle {
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

pub fn action_color(a: Action) -> &'static str {
    match a {
        Action::Create => "32",
        Action::Update => "33",
        Action::Noop => "2",
        Action::Conflict => "31",
        Action::Skip => "35",
        Action::Unmanaged => "36",
    }
}

pub fn render(plan: &Plan, style: TableStyle) -> String {
    let mut out = String::new();
    out.push_str(&header(plan));
    out.push('\n');
    for n in &plan.notices {
        out.push_str(&paint(&format!("! {n}"), "33", style.color));
        out.push('\n');
    }
    if let Some(l) = &plan.lockout {
        let caller = l.caller_arn.as_deref().unwrap_or("unknown");
        if l.caller_admin_after {
            out.push_str(&format!(
                "Caller {caller}: stays cluster admin through the access entry of {}\n",
                l.caller_admin_entry.as_deref().unwrap_or("?")
            ));
        }
        for w in &l.warnings {
            out.push_str(&paint(&format!("! {w}"), "31", style.color));
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
        let mut b = Builder::default();
        b.push_record([
            "Action",
            "Type",
            "Principal",
            "Username",
            "Groups",
            "Policies",
            "Fidelity",
        ]);
        for e in &plan.entries {
            let fidelity = match e.fidelity {
                Fidelity::Exact => "exact".to_string(),
                Fidelity::Lossy => paint("lossy", "33", style.color),
            };
            b.push_record([
                paint(e.action.as_str(), action_color(e.action), style.color),
                e.entry_type.as_str().to_string(),
                principal_label(&e.principal_arn, account),
                username_label(e),
                groups_label(e),
                policies_label(e),
                fidelity,
            ]);
        }
        out.push_str(&fit(b, style.width));
        out.push('\n');
    }
    let skipped = skipped_rows(plan);
    if !skipped.is_empty() {
        out.push_str(&format!("\nSkipped aws-auth rows ({}):\n", skipped.len()));
        let mut b = Builder::default();
        b.push_record(["Section", "Row", "Line", "ARN", "Reason"]);
        for (section, row, line, what, text) in skipped {
            b.push_record([section, row, line, what, text]);
        }
        out.push_str(&fit(b, style.width));
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
            for r in e
                .reasons
                .iter()
                .filter(|r| r.severity >= crate::core::reason::Severity::Lossy)
            {
                out.push_str(&format!("    {}: {}\n", r.code.as_str(), r.message));
            }
        }
    }
    out.push('\n');
    out.push_str(&summary_line(plan));
    out.push('\n');
    out
}

fn fit(b: Builder, width: usize) -> String {
    let mut table = b.build();
    table.with(Style::sharp());
    table.with(
        Width::wrap(width.max(40))
            .priority(Priority::max(true))
            .keep_words(true),
    );
    table.to_string()
}

pub fn header(plan: &Plan) -> String {
    let c = &plan.cluster;
    let account = c.account.as_deref().unwrap_or("unknown");
    match &c.name {
        Some(name) => format!(
            "Cluster {name} ({}, account {account}, partition {}, authentication mode {})",
            c.region.as_deref().unwrap_or("?"),
            c.partition,
            c.authentication_mode.as_deref().unwrap_or("?")
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
