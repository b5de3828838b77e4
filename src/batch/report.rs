//! The fleet report: one row per cluster, as a terminal table, JSON
//! (`format_version` "1", docs/batch.md) or Markdown for a pull request.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::core::plan::Plan;
use crate::core::verify::Verification;
use crate::outcome::{one_line, Outcome};
use crate::render;
use crate::render::markdown::COMMENT_LIMIT;
use crate::render::table::{wrap, Grid};

/// How one cluster ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Done, nothing left to do (plan: no changes; verify: parity).
    Ok,
    /// `plan`: changes are planned.
    Changes,
    /// `verify`: rows whose access would be lost.
    Gaps,
    /// Some steps took effect, not all (resume or roll back).
    Partial,
    /// Nothing could be done for this cluster (unreachable, stale plan...).
    Failed,
    /// Not started: `--fail-fast` stopped the run first.
    NotRun,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Changes => "changes",
            Status::Gaps => "gaps",
            Status::Partial => "partial",
            Status::Failed => "failed",
            Status::NotRun => "not run",
        }
    }

    pub fn failed(self) -> bool {
        matches!(self, Status::Partial | Status::Failed | Status::NotRun)
    }
}

/// What the cluster's plan says (the live plan made or re-read).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub create: usize,
    pub update: usize,
    pub noop: usize,
    pub conflict: usize,
    /// aws-auth rows not migrated.
    pub skipped: usize,
    /// Entries that cannot carry their row exactly.
    pub lossy: usize,
    /// Lockout warnings plus node roles at risk.
    pub lockout_warnings: usize,
    pub policies: usize,
}

impl Counts {
    pub fn of(plan: &Plan) -> Counts {
        let s = &plan.summary;
        Counts {
            create: s.create,
            update: s.update,
            noop: s.noop,
            conflict: s.conflict,
            skipped: s.skipped,
            lossy: s.lossy,
            lockout_warnings: plan
                .lockout
                .as_ref()
                .map_or(0, |l| l.warnings.len() + l.node_roles_at_risk.len()),
            policies: s.policies,
        }
    }

    fn add(&mut self, o: &Counts) {
        self.create += o.create;
        self.update += o.update;
        self.noop += o.noop;
        self.conflict += o.conflict;
        self.skipped += o.skipped;
        self.lossy += o.lossy;
        self.lockout_warnings += o.lockout_warnings;
        self.policies += o.policies;
    }
}

/// Steps of an apply or rollback.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Steps {
    pub migration_id: Option<String>,
    pub steps: usize,
    pub done: usize,
    pub failed: usize,
    pub skipped: usize,
    pub not_attempted: usize,
}

/// Verify's figures.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Parity {
    pub parity: bool,
    pub rows: usize,
    pub migrated: usize,
    pub gaps: usize,
    pub blocking: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterResult {
    pub name: String,
    pub region: Option<String>,
    pub account: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub status: Status,
    /// What happened, in a few words (`3 of 3 steps done`, `no changes`).
    pub note: String,
    /// Authentication mode when the cluster was read.
    pub mode: Option<String>,
    pub counts: Option<Counts>,
    pub plan_file: Option<PathBuf>,
    pub journal: Option<PathBuf>,
    pub steps: Option<Steps>,
    pub verify: Option<Parity>,
    pub error: Option<String>,
    pub elapsed_ms: u64,
    /// For the Markdown report: the cluster's plan or verification.
    #[serde(skip)]
    pub plan: Option<Plan>,
    #[serde(skip)]
    pub verification: Option<Verification>,
    /// For the Markdown report: the apply or rollback report as text.
    #[serde(skip)]
    pub text: Option<String>,
}

impl ClusterResult {
    pub fn new(name: &str, region: Option<String>, labels: BTreeMap<String, String>) -> Self {
        ClusterResult {
            name: name.to_string(),
            region,
            account: None,
            labels,
            status: Status::Failed,
            note: String::new(),
            mode: None,
            counts: None,
            plan_file: None,
            journal: None,
            steps: None,
            verify: None,
            error: None,
            elapsed_ms: 0,
            plan: None,
            verification: None,
            text: None,
        }
    }

    pub fn fail(mut self, error: &anyhow::Error) -> Self {
        self.status = Status::Failed;
        self.note = String::new();
        self.error = Some(one_line(error));
        self
    }

    /// Takes cluster, mode and counts from a live plan.
    pub fn with_plan(mut self, plan: &Plan) -> Self {
        self.region = plan.cluster.region.clone().or(self.region);
        self.account.clone_from(&plan.cluster.account);
        self.mode = plan
            .cluster
            .authentication_mode
            .as_ref()
            .map(ToString::to_string);
        self.counts = Some(Counts::of(plan));
        self
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FleetSummary {
    pub clusters: usize,
    pub ok: usize,
    pub changes: usize,
    pub gaps: usize,
    pub partial: usize,
    pub failed: usize,
    pub not_run: usize,
    /// Sums over the clusters that have a plan.
    pub totals: Counts,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FleetReport {
    pub format_version: String,
    /// `plan`, `apply`, `verify`, `finalize` or `rollback`.
    pub command: String,
    pub out_dir: PathBuf,
    pub summary: FleetSummary,
    pub clusters: Vec<ClusterResult>,
    /// The exit code of the run's [`Outcome`] (an integer in the JSON).
    pub exit_code: i32,
}

impl FleetReport {
    pub fn new(command: &str, out_dir: PathBuf, clusters: Vec<ClusterResult>) -> FleetReport {
        let mut s = FleetSummary {
            clusters: clusters.len(),
            ..FleetSummary::default()
        };
        for c in &clusters {
            match c.status {
                Status::Ok => s.ok += 1,
                Status::Changes => s.changes += 1,
                Status::Gaps => s.gaps += 1,
                Status::Partial => s.partial += 1,
                Status::Failed => s.failed += 1,
                Status::NotRun => s.not_run += 1,
            }
            if let Some(counts) = &c.counts {
                s.totals.add(counts);
            }
        }
        let outcome = if clusters.iter().any(|c| c.status.failed()) {
            Outcome::Partial
        } else if s.changes + s.gaps > 0 {
            Outcome::Changes
        } else {
            Outcome::Ok
        };
        FleetReport {
            format_version: "1".into(),
            command: command.to_string(),
            out_dir,
            summary: s,
            clusters,
            exit_code: outcome.code(),
        }
    }

    /// `Fleet plan: 30 clusters: 28 with changes, 1 ok, 1 failed; 120 entries to create, ...`
    pub fn summary_line(&self) -> String {
        let s = &self.summary;
        let mut parts = Vec::new();
        for (n, what) in [
            (s.changes, "with changes"),
            (s.gaps, "with gaps"),
            (s.ok, "ok"),
            (s.partial, "partial"),
            (s.failed, "failed"),
            (s.not_run, "not run"),
        ] {
            if n > 0 {
                parts.push(format!("{n} {what}"));
            }
        }
        let t = &s.totals;
        let mut line = format!(
            "Fleet {}: {} cluster{}: {}",
            self.command,
            s.clusters,
            if s.clusters == 1 { "" } else { "s" },
            parts.join(", ")
        );
        if self.clusters.iter().any(|c| c.counts.is_some()) {
            line.push_str(&format!(
                "; entries: {} to create, {} to update, {} unchanged, {} in conflict; {} aws-auth rows skipped, {} lossy, {} lockout warnings",
                t.create, t.update, t.noop, t.conflict, t.skipped, t.lossy, t.lockout_warnings
            ));
        }
        line.push('.');
        line
    }

    fn rows(&self) -> Vec<[String; 12]> {
        self.clusters
            .iter()
            .map(|c| {
                let n = |f: fn(&Counts) -> usize| {
                    c.counts
                        .as_ref()
                        .map_or_else(|| "-".into(), |k| f(k).to_string())
                };
                [
                    c.name.clone(),
                    c.account.clone().unwrap_or_else(|| "-".into()),
                    c.region.clone().unwrap_or_else(|| "-".into()),
                    c.mode.clone().unwrap_or_else(|| "-".into()),
                    n(|k| k.create),
                    n(|k| k.update),
                    n(|k| k.noop),
                    n(|k| k.conflict),
                    n(|k| k.skipped),
                    n(|k| k.lossy),
                    n(|k| k.lockout_warnings),
                    if c.note.is_empty() {
                        c.status.as_str().to_string()
                    } else {
                        format!("{} ({})", c.status.as_str(), c.note)
                    },
                ]
            })
            .collect()
    }

    const HEADER: [&'static str; 12] = [
        "Cluster", "Account", "Region", "Mode", "Create", "Update", "Noop", "Conflict", "Skipped",
        "Lossy", "Lockout", "Status",
    ];

    /// The fleet table for a terminal, within `width` columns (100 by
    /// default): the counts folded into two cells, the cluster name never
    /// split, the status wrapped at words.
    pub fn table(&self, width: usize) -> String {
        let rows = self
            .clusters
            .iter()
            .map(|c| {
                let (entries, warnings) = c.counts.as_ref().map_or_else(
                    || ("-".to_string(), "-".to_string()),
                    |k| {
                        let list = |parts: &[(usize, &str)]| {
                            let lines: Vec<String> = parts
                                .iter()
                                .filter(|(n, _)| *n > 0)
                                .map(|(n, what)| format!("{n} {what}"))
                                .collect();
                            if lines.is_empty() {
                                "none".to_string()
                            } else {
                                lines.join("\n")
                            }
                        };
                        (
                            list(&[
                                (k.create, "to create"),
                                (k.update, "to update"),
                                (k.noop, "unchanged"),
                                (k.conflict, "in conflict"),
                            ]),
                            list(&[
                                (k.skipped, "skipped"),
                                (k.lossy, "lossy"),
                                (k.lockout_warnings, "lockout"),
                            ]),
                        )
                    },
                );
                vec![
                    c.name.clone(),
                    format!(
                        "{}\n{}",
                        c.account.as_deref().unwrap_or("-"),
                        c.region.as_deref().unwrap_or("-")
                    ),
                    c.mode.as_deref().unwrap_or("-").replace("_AND_", "_AND_\n"),
                    entries,
                    warnings,
                    if c.note.is_empty() {
                        c.status.as_str().to_string()
                    } else {
                        format!("{} ({})", c.status.as_str(), c.note)
                    },
                ]
            })
            .collect();
        // Warnings: aws-auth rows skipped, lossy rows, lockout warnings.
        let grid = Grid {
            head: [
                "Cluster",
                "Account\nRegion",
                "Mode",
                "Entries",
                "Warnings",
                "Status",
            ]
            .map(String::from)
            .to_vec(),
            rows,
            principal: 0,
            prose: vec![(5, 1)],
        };
        let mut out = grid.render(width);
        out.push('\n');
        let failed: Vec<_> = self.clusters.iter().filter(|c| c.error.is_some()).collect();
        if !failed.is_empty() {
            out.push_str("\nErrors:\n");
            for c in failed {
                let text = wrap(
                    &format!("{}: {}", c.name, c.error.as_deref().unwrap_or("")),
                    width.saturating_sub(2).max(40),
                );
                for (i, line) in text.lines().enumerate() {
                    out.push_str(if i == 0 { "  " } else { "    " });
                    out.push_str(line);
                    out.push('\n');
                }
            }
        }
        out.push('\n');
        out.push_str(&wrap(&self.summary_line(), width));
        out.push('\n');
        out
    }

    pub fn json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self)
            .unwrap_or_else(|e| format!("{{\"error\": {:?}}}", e.to_string()));
        s.push('\n');
        s
    }

    /// For a pull request: the summary line, the fleet table, then one
    /// section per cluster with its plan (or verification, or apply
    /// report) folded in `<details>`. A report longer than a GitHub comment
    /// can be ([`COMMENT_LIMIT`]) is told in its summary-only form.
    pub fn markdown(&self) -> String {
        self.markdown_within(COMMENT_LIMIT)
    }

    /// [`Self::markdown`] within `limit` bytes (bytes: GitHub counts
    /// characters, of which there are never more). Beyond it: the summary
    /// line, the table (unlinked) and the errors, and a line that says the
    /// details were left out; the table itself is cut if even that is over.
    pub fn markdown_within(&self, limit: usize) -> String {
        let full = self.markdown_full();
        if full.len() <= limit {
            return full;
        }
        let mut out = format!("## aws-auth-migrate batch: {}\n\n", self.summary_line());
        out.push_str(&format!(
            "> ℹ️ Summary only: with each cluster's details this report is {} characters, over the {limit} a GitHub comment can hold. Each cluster's plan is in the output folder ({}), and `--format json` gives every figure.\n\n",
            full.len(),
            self.out_dir.display()
        ));
        let mut tail = String::new();
        let failed: Vec<_> = self.clusters.iter().filter(|c| c.error.is_some()).collect();
        if !failed.is_empty() {
            tail.push_str("**Errors**\n\n");
            for c in failed {
                tail.push_str(&format!(
                    "- `{}`: {}\n",
                    c.name,
                    md_cell(c.error.as_deref().unwrap_or(""))
                ));
            }
            tail.push('\n');
        }
        let rows = self.markdown_rows(false);
        let header = self.markdown_header();
        let mut table = header.clone();
        let mut shown = 0;
        for r in &rows {
            // Room for the note on the rows left out.
            if out.len() + table.len() + r.len() + tail.len() + 200 > limit {
                break;
            }
            table.push_str(r);
            shown += 1;
        }
        out.push_str(&table);
        if shown < rows.len() {
            out.push_str(&format!(
                "\n_{} more clusters are left out to fit; `--format json` lists them all._\n",
                rows.len() - shown
            ));
        }
        out.push('\n');
        if out.len() + tail.len() <= limit {
            out.push_str(&tail);
        }
        out
    }

    fn markdown_header(&self) -> String {
        format!(
            "| {} |\n|{}\n",
            Self::HEADER.join(" | "),
            "---|".repeat(Self::HEADER.len())
        )
    }

    /// The fleet table's rows, the names linked to their sections or not.
    fn markdown_rows(&self, link: bool) -> Vec<String> {
        self.rows()
            .into_iter()
            .map(|mut r| {
                if link {
                    r[0] = format!("[{}](#{})", r[0], anchor(&r[0]));
                }
                r[11] = format!("{} {}", icon(c_status(&r[11])), r[11]);
                format!(
                    "| {} |\n",
                    r.iter().map(|c| md_cell(c)).collect::<Vec<_>>().join(" | ")
                )
            })
            .collect()
    }

    fn markdown_full(&self) -> String {
        let mut out = format!("## aws-auth-migrate batch: {}\n\n", self.summary_line());
        out.push_str(&self.markdown_header());
        for r in self.markdown_rows(true) {
            out.push_str(&r);
        }
        out.push('\n');
        for c in &self.clusters {
            out.push_str(&format!(
                "### {}\n\n{} **{}**{} · account {} · {} · mode {}\n\n",
                c.name,
                icon(c.status.as_str()),
                c.status.as_str(),
                if c.note.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", c.note)
                },
                c.account.as_deref().unwrap_or("?"),
                c.region.as_deref().unwrap_or("?"),
                c.mode.as_deref().unwrap_or("?"),
            ));
            if let Some(e) = &c.error {
                out.push_str(&format!("> ❌ {}\n\n", md_cell(e)));
            }
            if let Some(text) = &c.text {
                out.push_str(&format!(
                    "<details><summary>Report</summary>\n\n```text\n{text}```\n\n</details>\n\n"
                ));
            }
            if let Some(v) = &c.verification {
                out.push_str(&format!(
                    "<details><summary>{}</summary>\n\n{}\n</details>\n\n",
                    md_cell(&crate::finish::render::summary_line(v)),
                    without_heading(&crate::finish::render::markdown(v))
                ));
            } else if let Some(p) = &c.plan {
                out.push_str(&format!(
                    "<details><summary>{}</summary>\n\n{}\n</details>\n\n",
                    md_cell(&render::summary_line(p)),
                    without_heading(&render::markdown::render(p))
                ));
            }
        }
        out
    }
}

fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', "<br>")
}

/// A single-cluster report without its `###` heading: the `<summary>`
/// line above it says the same.
fn without_heading(md: &str) -> String {
    match md.split_once('\n') {
        Some((first, rest)) if first.starts_with('#') => rest.trim_start_matches('\n').to_string(),
        _ => md.to_string(),
    }
}

/// The status word at the start of a status cell.
fn c_status(cell: &str) -> &str {
    cell.split(" (").next().unwrap_or(cell)
}

fn icon(status: &str) -> &'static str {
    match status.trim() {
        "ok" => "✅",
        "changes" => "📝",
        "gaps" => "⚠️",
        "partial" => "🟠",
        "not run" => "⏭️",
        _ => "❌",
    }
}

/// GitHub's heading anchor: lowercase, spaces to `-`, punctuation dropped.
fn anchor(name: &str) -> String {
    name.to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(name: &str, status: Status, create: usize) -> ClusterResult {
        let mut r = ClusterResult::new(name, Some("eu-west-1".into()), BTreeMap::new());
        r.status = status;
        if status != Status::Failed {
            r.counts = Some(Counts {
                create,
                ..Counts::default()
            });
        }
        r
    }

    #[test]
    fn exit_codes() {
        let r = |v: Vec<ClusterResult>| FleetReport::new("plan", PathBuf::from("d"), v).exit_code;
        assert_eq!(r(vec![result("a", Status::Ok, 0)]), 0);
        assert_eq!(
            r(vec![
                result("a", Status::Ok, 0),
                result("b", Status::Changes, 2)
            ]),
            2
        );
        assert_eq!(
            r(vec![
                result("a", Status::Changes, 1),
                result("b", Status::Failed, 0)
            ]),
            3
        );
        assert_eq!(r(vec![result("a", Status::NotRun, 0)]), 3);
    }

    #[test]
    fn summary_line_counts() {
        let rep = FleetReport::new(
            "plan",
            PathBuf::from("d"),
            vec![
                result("a", Status::Changes, 2),
                result("b", Status::Changes, 3),
                result("c", Status::Failed, 0),
            ],
        );
        assert_eq!(
            rep.summary_line(),
            "Fleet plan: 3 clusters: 2 with changes, 1 failed; entries: 5 to create, 0 to update, 0 unchanged, 0 in conflict; 0 aws-auth rows skipped, 0 lossy, 0 lockout warnings."
        );
        assert_eq!(anchor("Prod East.1"), "prod-east1");
    }

    /// A plan like a real cluster's: nodes, a few teams, one skipped row.
    fn plan(name: &str) -> Plan {
        use crate::core::planner::{plan_offline, SourceInfo};
        use crate::core::translate::Options;
        let mut yaml = String::from("data:\n  mapRoles: |\n");
        yaml.push_str("    - rolearn: arn:aws:iam::111122223333:role/nodes\n      username: system:node:{{EC2PrivateDNSName}}\n      groups:\n        - system:bootstrappers\n        - system:nodes\n");
        for team in ["dev", "ops", "data", "payments", "platform"] {
            yaml.push_str(&format!(
                "    - rolearn: arn:aws:iam::111122223333:role/{team}-{name}\n      username: {team}\n      groups:\n        - {team}\n"
            ));
        }
        yaml.push_str("    - rolearn: arn:aws:iam::111122223333:role/monitoring\n      username: monitoring\n      groups:\n        - system:monitoring\n");
        let mut plan = plan_offline(
            yaml.as_bytes(),
            SourceInfo {
                kind: "cluster".into(),
                path: None,
            },
            &Options {
                account: Some("111122223333".into()),
                partition: Some("aws".into()),
                allow_lossy: false,
                policy_map: Default::default(),
            },
        )
        .unwrap();
        plan.cluster.name = Some(name.into());
        plan.cluster.region = Some("eu-west-1".into());
        plan
    }

    fn fleet(n: usize) -> FleetReport {
        let clusters = (0..n)
            .map(|i| {
                let name = format!("prod-payments-{i:03}");
                let p = plan(&name);
                let mut r = ClusterResult::new(&name, Some("eu-west-1".into()), BTreeMap::new())
                    .with_plan(&p);
                r.status = Status::Changes;
                r.note = "plan saved".into();
                r.plan = Some(p);
                r
            })
            .collect();
        FleetReport::new("plan", PathBuf::from("fleet-out"), clusters)
    }

    #[test]
    fn a_small_fleet_gets_every_clusters_details() {
        let md = fleet(3).markdown();
        assert!(md.len() < COMMENT_LIMIT);
        assert_eq!(md.matches("### prod-payments-").count(), 3);
        assert!(md.contains("<details><summary>Plan: "), "{md}");
        assert!(!md.contains("Summary only"));
    }

    #[test]
    fn two_hundred_clusters_fit_a_comment_as_a_summary() {
        let report = fleet(200);
        let full = report.markdown_full();
        // Measured: about 2 kB of details per cluster, 391 kB in all; the
        // summary-only form is 22 kB.
        assert!(full.len() > COMMENT_LIMIT, "{}", full.len());
        let md = report.markdown();
        assert!(md.len() <= COMMENT_LIMIT, "{}", md.len());
        assert!(md.contains("Summary only"), "{md}");
        // Every cluster keeps its row; no section links to nothing.
        assert_eq!(md.matches("| prod-payments-").count(), 200, "{md}");
        assert!(!md.contains("](#"));
        assert!(!md.contains("more clusters are left out"));
        // A fleet too big even for the table says how many rows it left out.
        let cut = report.markdown_within(10_000);
        assert!(cut.len() <= 10_000, "{}", cut.len());
        assert!(cut.contains("more clusters are left out"), "{cut}");
    }

    #[test]
    fn the_terminal_table_fits_100_columns() {
        let mut report = fleet(3);
        report.clusters[1].counts = None;
        report.clusters[1].status = Status::Failed;
        report.clusters[1].error = Some(
            "DescribeCluster prod-payments-001: no cluster named prod-payments-001 in eu-west-1"
                .into(),
        );
        let text = report.table(100);
        for line in text.lines() {
            assert!(line.chars().count() <= 100, "{line}\n{text}");
        }
        assert!(text.contains("│ prod-payments-000 │"), "{text}");
    }
}
