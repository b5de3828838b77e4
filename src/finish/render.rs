//! The verification report as a terminal table, JSON and Markdown. Pure.

use tabled::builder::Builder;
use tabled::settings::Style;

use crate::core::verify::{row_label, RowCheck, RowStatus, Verification};
use crate::render::table::{wrap, TableStyle};

pub fn json(v: &Verification) -> String {
    let mut s = serde_json::to_string_pretty(v)
        .unwrap_or_else(|e| format!("{{\"error\": {:?}}}", e.to_string()));
    s.push('\n');
    s
}

/// One line: parity or not, and the counts.
pub fn summary_line(v: &Verification) -> String {
    let s = &v.summary;
    let mut parts = vec![format!("{} migrated", s.migrated)];
    parts.push(format!("{} gaps", s.gaps));
    parts.push(format!("{} lossy", s.lossy));
    if s.accepted > 0 {
        parts.push(format!("{} accepted", s.accepted));
    }
    parts.push(format!("{} ignored", s.ignored));
    if s.superseded > 0 {
        parts.push(format!("{} superseded", s.superseded));
    }
    let head = if v.parity {
        "Parity: every aws-auth row's access is carried by an access entry".to_string()
    } else {
        format!(
            "Gaps: {} aws-auth row{} would lose access",
            s.blocking,
            if s.blocking == 1 { "" } else { "s" }
        )
    };
    let mut line = format!("{head} ({} of {} rows).", parts.join(", "), s.rows);
    if s.orphan_entries > 0 {
        line.push_str(&format!(
            " {} access entr{} name{} a principal IAM no longer has.",
            s.orphan_entries,
            if s.orphan_entries == 1 { "y" } else { "ies" },
            if s.orphan_entries == 1 { "s" } else { "" }
        ));
    }
    line
}

fn status_cell(r: &RowCheck) -> String {
    let mut s = r.status.as_str().to_string();
    if r.accepted {
        s.push_str(" (accepted)");
    }
    s
}

fn detail_cell(r: &RowCheck) -> String {
    match &r.code {
        Some(c) => format!("{c}: {}", r.detail),
        None => r.detail.clone(),
    }
}

fn header(v: &Verification) -> String {
    format!(
        "Cluster {} ({}), authentication mode {}; aws-auth resourceVersion {}",
        v.cluster.name.as_deref().unwrap_or("-"),
        v.cluster.region.as_deref().unwrap_or("-"),
        v.cluster
            .authentication_mode
            .as_ref()
            .map_or("-", |m| m.as_str()),
        v.source.resource_version.as_deref().unwrap_or("-")
    )
}

fn lockout_lines(v: &Verification) -> Vec<String> {
    let Some(l) = &v.lockout else {
        return Vec::new();
    };
    let mut out = Vec::new();
    match (&l.caller_admin_entry, &l.caller_arn) {
        (Some(e), Some(c)) => out.push(format!(
            "Caller {c}: cluster admin through the access entry {e}."
        )),
        _ => out.push(format!(
            "Caller {}: NO access entry gives it AmazonEKSClusterAdminPolicy at cluster scope (finalize refuses).",
            l.caller_arn.as_deref().unwrap_or("(unknown)")
        )),
    }
    for n in &l.node_roles_at_risk {
        out.push(format!(
            "Node role {n}: no node-type access entry (finalize refuses, even with --accept-gaps: create its node entry, or remove the row if no node uses the role)."
        ));
    }
    out
}

pub fn table(v: &Verification, style: TableStyle) -> String {
    let mut out = String::new();
    out.push_str(&header(v));
    out.push_str("\n\n");
    for n in &v.notices {
        out.push_str(&format!("notice: {n}\n"));
    }
    if !v.rows.is_empty() {
        let w = style.width.max(60);
        let (id_w, st_w) = (14, 12);
        let rest = w.saturating_sub(id_w + st_w + 13);
        let (p_w, d_w) = (rest * 2 / 5, rest - rest * 2 / 5);
        let mut b = Builder::default();
        b.push_record(["row", "principal", "status", "detail"]);
        for r in &v.rows {
            let status = status_cell(r);
            let status = if style.color {
                let code = match r.status {
                    RowStatus::Migrated => "32",
                    RowStatus::Gap | RowStatus::Lossy if !r.accepted => "31",
                    _ => "2",
                };
                format!("\x1b[{code}m{status}\x1b[0m")
            } else {
                status
            };
            b.push_record([
                wrap(&r.id, id_w),
                wrap(&row_label(r), p_w.max(10)),
                status,
                wrap(&detail_cell(r), d_w.max(10)),
            ]);
        }
        let mut t = b.build();
        t.with(Style::sharp());
        out.push_str(&t.to_string());
        out.push('\n');
    }
    if !v.orphan_entries.is_empty() {
        out.push_str("\nAccess entries whose principal IAM no longer has:\n");
        for o in &v.orphan_entries {
            out.push_str(&format!(
                "  {} ({}): {}\n",
                o.principal_arn, o.entry_type, o.detail
            ));
        }
    }
    let lock = lockout_lines(v);
    if !lock.is_empty() {
        out.push('\n');
        for l in lock {
            out.push_str(&l);
            out.push('\n');
        }
    }
    out.push('\n');
    out.push_str(&summary_line(v));
    out.push('\n');
    out
}

fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', "<br>")
}

pub fn markdown(v: &Verification) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "### aws-auth-migrate verify: {}\n\n",
        if v.parity { "parity" } else { "gaps remain" }
    ));
    out.push_str(&format!("**{}**\n\n", summary_line(v)));
    out.push_str(&format!("{}\n\n", header(v)));
    for n in &v.notices {
        out.push_str(&format!("> {}\n\n", md_cell(n)));
    }
    let (open, rest): (Vec<&RowCheck>, Vec<&RowCheck>) = v
        .rows
        .iter()
        .partition(|r| r.status.is_gap() && !r.accepted);
    let table = |rows: &[&RowCheck]| {
        let mut t =
            String::from("| row | principal | status | detail |\n| --- | --- | --- | --- |\n");
        for r in rows {
            t.push_str(&format!(
                "| `{}` | `{}` | {} | {} |\n",
                r.id,
                md_cell(&row_label(r)),
                status_cell(r),
                md_cell(&detail_cell(r))
            ));
        }
        t
    };
    if !open.is_empty() {
        out.push_str("#### Rows that would lose access\n\n");
        out.push_str(&table(&open));
        out.push('\n');
    }
    if !rest.is_empty() {
        out.push_str(&format!(
            "<details><summary>Other rows ({})</summary>\n\n",
            rest.len()
        ));
        out.push_str(&table(&rest));
        out.push_str("\n</details>\n\n");
    }
    if !v.orphan_entries.is_empty() {
        out.push_str("#### Access entries whose principal IAM no longer has\n\n");
        for o in &v.orphan_entries {
            out.push_str(&format!(
                "- `{}` ({}): {}\n",
                o.principal_arn,
                o.entry_type,
                md_cell(&o.detail)
            ));
        }
        out.push('\n');
    }
    for l in lockout_lines(v) {
        out.push_str(&format!("- {}\n", md_cell(&l)));
    }
    out
}
