//! The verification report as a terminal table, JSON and Markdown; what
//! prune-configmap and finalize say while they run and when they end, as
//! lines for standard output or standard error. Pure.

use super::finalize::{Deletion, FinalizeReport};
use super::progress::Event;
use super::prune::PruneReport;
use crate::core::access_report::AccessReport;
use crate::core::verify::{row_label, RowCheck, RowStatus, Verification};
use crate::render::access;
use crate::render::table::{wrap, Grid, TableStyle};

pub(crate) fn json(v: &Verification) -> String {
    let mut s = serde_json::to_string_pretty(v)
        .unwrap_or_else(|e| format!("{{\"error\": {:?}}}", e.to_string()));
    s.push('\n');
    s
}

/// One line: parity or not, and the counts.
pub(crate) fn summary_line(v: &Verification) -> String {
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
    let head = match (v.parity, s.access_losses) {
        (true, Some(_)) => "Parity: every aws-auth row's access is carried by an access entry, and every principal keeps its rights (RBAC-aware)".to_string(),
        (true, None) => "Parity: every aws-auth row's access is carried by an access entry".to_string(),
        (false, access) => {
            let mut parts = Vec::new();
            if s.blocking > 0 || access.is_none_or(|n| n == 0) {
                parts.push(format!(
                    "{} aws-auth row{} would lose access",
                    s.blocking,
                    if s.blocking == 1 { "" } else { "s" }
                ));
            }
            if let Some(n) = access.filter(|n| *n > 0) {
                parts.push(format!(
                    "{n} principal{} would lose rights or cannot be shown to keep them",
                    if n == 1 { "" } else { "s" }
                ));
            }
            format!("Gaps: {}", parts.join("; "))
        }
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

pub(crate) fn table(v: &Verification, style: TableStyle) -> String {
    let mut out = String::new();
    out.push_str(&header(v));
    out.push_str("\n\n");
    for n in &v.notices {
        out.push_str(&format!("notice: {n}\n"));
    }
    if !v.rows.is_empty() {
        let rows = v
            .rows
            .iter()
            .map(|r| {
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
                vec![r.id.clone(), row_label(r), status, detail_cell(r)]
            })
            .collect();
        // The principal is never split; the detail is wrapped at words.
        let grid = Grid {
            head: ["row", "principal", "status", "detail"]
                .map(String::from)
                .to_vec(),
            rows,
            principal: 1,
            prose: vec![(3, 1)],
        };
        out.push_str(&grid.render(style.width.max(60)));
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
    if let Some(report) = &v.access {
        out.push('\n');
        for line in access_lines(report) {
            out.push_str(&wrap(&line, style.width.max(60)));
            out.push('\n');
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

pub(crate) fn markdown(v: &Verification) -> String {
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
    if let Some(report) = &v.access {
        out.push_str("#### Rights (RBAC-aware)\n\n");
        for line in access_lines(report) {
            out.push_str(&format!("- {}\n", md_cell(&line)));
        }
        out.push('\n');
    }
    for l in lockout_lines(v) {
        out.push_str(&format!("- {}\n", md_cell(&l)));
    }
    out
}

/// The access analysis: its heading, then each principal that is not
/// `same` with what differs.
fn access_lines(report: &AccessReport) -> Vec<String> {
    let mut out = vec![access::heading(report)];
    out.extend(access::incomplete_lines(report));
    out.extend(access::unbound_line(report));
    for p in access::noteworthy(report) {
        let mark = if p.accepted { " (accepted)" } else { "" };
        out.push(format!(
            "{}{mark} {}",
            p.comparison.verdict.as_str(),
            p.principal_arn
        ));
        out.extend(
            access::detail_lines(p)
                .into_iter()
                .map(|l| format!("  {l}")),
        );
    }
    out
}

/// Where a line goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stream {
    Out,
    Err,
}

/// One line to print (without its newline).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Line {
    pub stream: Stream,
    pub text: String,
}

fn out(text: impl Into<String>) -> Line {
    Line {
        stream: Stream::Out,
        text: text.into(),
    }
}

fn err(text: impl Into<String>) -> Line {
    Line {
        stream: Stream::Err,
        text: text.into(),
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// What an event of a prune-configmap or finalize run shows.
pub(crate) fn event(e: &Event<'_>) -> Vec<Line> {
    match *e {
        Event::ContextNotice(notice) => vec![err(format!("notice: {notice}"))],
        Event::LockTakenOver(message) => vec![err(message)],
        Event::Journal(path) => vec![err(format!("journal: {}", path.display()))],
        Event::Diverged { op, seq, why } => vec![err(format!("{op} (seq {seq}): {why}"))],
        Event::PutTookEffect { seq } => vec![err(format!(
            "the interrupted put-configmap (seq {seq}) took effect"
        ))],
        Event::FinalizePlan {
            cluster,
            region,
            from_mode,
            delete_configmap,
            skip_compute_check,
            verification: v,
        } => finalize_plan(
            cluster,
            region,
            from_mode,
            delete_configmap,
            skip_compute_check,
            v,
        ),
        Event::DeletePlan { cluster } => vec![out(format!(
            "Cluster {cluster} is in API mode: aws-auth is ignored. It will be backed up into the journal and deleted (rollback recreates it)."
        ))],
        Event::Switching => vec![out("Switching to API mode (waiting for the update)...")],
        Event::Switched { cluster } => vec![out(format!("Cluster {cluster} is in API mode."))],
        Event::PrunePlan {
            cluster,
            rows,
            kept,
        } => {
            let mut lines = vec![out(format!(
                "Removing {} row{} from kube-system/aws-auth of cluster {cluster} (verified migrated):",
                rows.len(),
                plural(rows.len()),
            ))];
            lines.extend(rows.iter().map(|s| out(format!("  - {s}"))));
            lines.push(out(format!(
                "{kept} other row(s), comments and formatting are kept."
            )));
            lines
        }
        Event::PruneRetry { ids } => vec![out(format!(
            "aws-auth changed meanwhile; verified again: removing {}",
            ids.join(", ")
        ))],
        Event::PruneConflict { message } => vec![err(format!(
            "aws-auth was changed by someone else while pruning ({message}); reading it again"
        ))],
    }
}

fn finalize_plan(
    cluster: &str,
    region: &str,
    from_mode: &str,
    delete_configmap: bool,
    skip_compute_check: bool,
    v: &Verification,
) -> Vec<Line> {
    let mut lines = vec![
        out(format!("Finalize cluster {cluster} ({region}):")),
        out(format!(
            "  1. switch the authentication mode from {from_mode} to API: aws-auth stops being read; access comes from access entries only."
        )),
        out("     THIS CANNOT BE UNDONE: EKS authentication modes only move forward."),
    ];
    if delete_configmap {
        lines.push(out("  2. back up aws-auth into the journal, then delete it (rollback recreates it from the backup)."));
    }
    lines.push(out(format!(
        "Checks passed: {} rows migrated, caller {} stays cluster admin through its access entry, every node role has a node entry{}.",
        v.summary.migrated,
        v.lockout.as_ref().and_then(|l| l.caller_arn.as_deref()).unwrap_or("-"),
        if skip_compute_check { " (managed node groups and Fargate profiles NOT checked: --skip-compute-check)" } else { "" }
    )));
    for r in v.rows.iter().filter(|r| r.accepted) {
        lines.push(out(format!(
            "  accepted gap {} ({}): its access is LOST in API mode: {}{}",
            r.id,
            row_label(r),
            r.code
                .as_deref()
                .map(|c| format!("{c}: "))
                .unwrap_or_default(),
            r.detail
        )));
    }
    lines
}

/// What finalize says when it ends.
pub(crate) fn finalize_report(r: &FinalizeReport) -> Vec<Line> {
    match r {
        FinalizeReport::AlreadyApi {
            cluster,
            configmap_present,
        } => vec![out(format!(
            "Cluster {cluster} is already in API mode{}.",
            if *configmap_present {
                "; aws-auth is ignored (pass --delete-configmap to delete it)"
            } else {
                " and has no aws-auth"
            }
        ))],
        FinalizeReport::ConfigMapDeleted { journal } => vec![out(format!(
            "Deleted aws-auth (backup in journal {}).",
            journal.display()
        ))],
        FinalizeReport::Refused {
            cluster,
            mode,
            blockers,
        } => {
            let mut lines = vec![err(format!(
                "finalize refused: cluster {cluster} stays in {mode} mode; nothing was changed."
            ))];
            lines.extend(blockers.iter().map(|b| err(format!("  - {b}"))));
            lines.push(err("Run verify for the full report."));
            lines
        }
        FinalizeReport::Switched { journal, configmap } => match configmap {
            None => Vec::new(),
            Some(Deletion::Deleted) => vec![out(format!(
                "Deleted aws-auth (backup in journal {}).",
                journal.display()
            ))],
            Some(Deletion::Absent) => vec![out("aws-auth no longer exists: nothing to delete.")],
            Some(Deletion::Failed(why)) => vec![err(format!(
                "error: the cluster is in API mode, but deleting aws-auth failed: {why}; run finalize --delete-configmap --resume {} to retry",
                journal.display()
            ))],
        },
    }
}

/// A prune-configmap or finalize report as one JSON document (`--output
/// json`): `{"command", "report", "exit_code"}`, as apply's summary event
/// without its `event`.
pub(crate) fn report_json(command: &str, report: &impl serde::Serialize, exit_code: i32) -> String {
    let doc = serde_json::json!({"command": command, "report": report, "exit_code": exit_code});
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_else(|e| {
        serde_json::json!({"command": command, "error": e.to_string()}).to_string()
    });
    s.push('\n');
    s
}

/// What prune-configmap says when it ends.
pub(crate) fn prune_report(r: &PruneReport) -> Vec<Line> {
    match r {
        PruneReport::Nothing => vec![out(
            "Nothing to prune: no aws-auth row is proven migrated (run verify to see why).",
        )],
        PruneReport::DryRun { .. } => Vec::new(),
        PruneReport::Pruned {
            rows,
            journal,
            resource_version,
        } => vec![out(format!(
            "Pruned {} row{}; aws-auth is now at resourceVersion {}. Undo with rollback of journal {}.",
            rows.len(),
            plural(rows.len()),
            resource_version.as_deref().unwrap_or("-"),
            journal.display()
        ))],
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;

    fn texts(lines: &[Line], stream: Stream) -> Vec<&str> {
        lines
            .iter()
            .filter(|l| l.stream == stream)
            .map(|l| l.text.as_str())
            .collect()
    }

    #[test]
    fn events_go_to_their_stream() {
        let journal = Path::new("/tmp/j.jsonl");
        assert_eq!(
            event(&Event::Journal(journal)),
            vec![err("journal: /tmp/j.jsonl")]
        );
        assert_eq!(
            event(&Event::ContextNotice("why")),
            vec![err("notice: why")]
        );
        assert_eq!(
            event(&Event::Diverged {
                op: "put-configmap",
                seq: 3,
                why: "changed"
            }),
            vec![err("put-configmap (seq 3): changed")]
        );
        let rows = vec!["mapRoles#1 arn:a (migrated)".to_string()];
        let plan = event(&Event::PrunePlan {
            cluster: "prod",
            rows: &rows,
            kept: 2,
        });
        assert_eq!(
            texts(&plan, Stream::Out),
            vec![
                "Removing 1 row from kube-system/aws-auth of cluster prod (verified migrated):",
                "  - mapRoles#1 arn:a (migrated)",
                "2 other row(s), comments and formatting are kept.",
            ]
        );
        assert_eq!(
            event(&Event::PruneConflict { message: "409" }),
            vec![err(
                "aws-auth was changed by someone else while pruning (409); reading it again"
            )]
        );
    }

    #[test]
    fn finalize_reports_and_their_outcomes() {
        let journal = PathBuf::from("/tmp/f.jsonl");
        let refused = FinalizeReport::Refused {
            cluster: "prod".into(),
            mode: "API_AND_CONFIG_MAP".into(),
            blockers: vec!["a gap".into()],
        };
        assert_eq!(refused.outcome(), crate::outcome::Outcome::Error);
        assert_eq!(
            texts(&finalize_report(&refused), Stream::Err),
            vec![
                "finalize refused: cluster prod stays in API_AND_CONFIG_MAP mode; nothing was changed.",
                "  - a gap",
                "Run verify for the full report.",
            ]
        );
        let partial = FinalizeReport::Switched {
            journal: journal.clone(),
            configmap: Some(Deletion::Failed("boom".into())),
        };
        assert_eq!(partial.outcome(), crate::outcome::Outcome::Partial);
        assert_eq!(
            finalize_report(&partial),
            vec![err("error: the cluster is in API mode, but deleting aws-auth failed: boom; run finalize --delete-configmap --resume /tmp/f.jsonl to retry")]
        );
        let done = FinalizeReport::Switched {
            journal,
            configmap: None,
        };
        assert_eq!(done.outcome(), crate::outcome::Outcome::Ok);
        assert!(finalize_report(&done).is_empty());
        assert_eq!(
            finalize_report(&FinalizeReport::AlreadyApi {
                cluster: "prod".into(),
                configmap_present: false
            }),
            vec![out(
                "Cluster prod is already in API mode and has no aws-auth."
            )]
        );
    }

    #[test]
    fn prune_reports() {
        assert_eq!(
            prune_report(&PruneReport::Pruned {
                rows: vec!["a".into(), "b".into()],
                journal: PathBuf::from("/tmp/p.jsonl"),
                resource_version: None,
            }),
            vec![out("Pruned 2 rows; aws-auth is now at resourceVersion -. Undo with rollback of journal /tmp/p.jsonl.")]
        );
        assert!(prune_report(&PruneReport::DryRun { rows: vec![] }).is_empty());
    }
}
