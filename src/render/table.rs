//! The plan as terminal tables (tabled), readable at 100 columns: cells are
//! wrapped at natural break points (`/`, `,`, `:`, spaces) to a budget per
//! column, so ARNs and policy lists stay legible.

use tabled::builder::Builder;
use tabled::settings::object::Cell;
use tabled::settings::{Span, Style};

use super::access;
use super::diff;
use super::{
    groups_label, lossy_rows, policies_label, principal_label, skipped_rows, summary_line,
    username_label,
};
use crate::core::access_report::AccessReport;
use crate::core::plan::{Action, Entry, EntryType, Fidelity, Plan};
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

/// Wraps prose to `width` columns at spaces: a word is not split, except
/// a list (`get,list,watch`, not an ARN) longer than the width, after its
/// commas. So an ARN, a username or a flag stays whole; one longer than the
/// width stands on its own line and the column grows. A line's indent and
/// existing newlines are kept.
///
/// tabled's own `Width::wrap(..).keep_words(true)` was tried: it splits a
/// word longer than the width mid-word (an ARN in a hint), which is what
/// this must not do.
pub(crate) fn wrap(text: &str, width: usize) -> String {
    let width = width.max(8);
    let mut out = Vec::new();
    for para in text.split('\n') {
        let body = para.trim_start_matches(' ');
        let indent = &para[..para.len() - body.len()];
        let mut line = indent.to_string();
        let mut len = indent.len();
        let words = body
            .split(' ')
            .filter(|w| !w.is_empty())
            .flat_map(|w| split_list(w, width));
        for word in words {
            let n = visible_width(word);
            if len > indent.len() && len + 1 + n > width {
                out.push(std::mem::replace(&mut line, indent.to_string()));
                len = indent.len();
            }
            if len > indent.len() {
                line.push(' ');
                len += 1;
            }
            line.push_str(word);
            len += n;
        }
        out.push(line);
    }
    out.join("\n")
}

/// A comma-separated list longer than `width`, in pieces that end after a
/// comma; any other word (an ARN above all) whole.
fn split_list(word: &str, width: usize) -> Vec<&str> {
    if visible_width(word) <= width || word.starts_with("arn:") || !word.contains(',') {
        return vec![word];
    }
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut last_cut = 0;
    for (i, c) in word.char_indices() {
        if c == ',' {
            if i + 1 - start > width && last_cut > start {
                pieces.push(&word[start..last_cut]);
                start = last_cut;
            }
            last_cut = i + 1;
        }
    }
    if word.len() - start > width && last_cut > start && last_cut < word.len() {
        pieces.push(&word[start..last_cut]);
        start = last_cut;
    }
    pieces.push(&word[start..]);
    pieces
}

/// Columns a cell's widest line takes on a terminal (colour codes take none).
pub(crate) fn visible_width(text: &str) -> usize {
    text.split('\n')
        .map(|line| {
            let mut n = 0;
            let mut escape = false;
            for c in line.chars() {
                match (escape, c) {
                    (false, '\x1b') => escape = true,
                    (true, 'm') => escape = false,
                    (true, _) => {}
                    (false, _) => n += 1,
                }
            }
            n
        })
        .max()
        .unwrap_or(0)
}

/// A table whose `principal` column is never wrapped and whose `prose`
/// columns (index, share) share the width that is left, wrapped at words.
/// A principal too long for its column (so long that the prose would get
/// less than [`PROSE_MIN`] columns) is moved to a row of its own, spanning
/// the columns right of the first, above its row (whose cell says `↑`).
pub(crate) struct Grid {
    pub head: Vec<String>,
    pub rows: Vec<Vec<String>>,
    pub principal: usize,
    pub prose: Vec<(usize, usize)>,
}

const PROSE_MIN: usize = 20;

impl Grid {
    /// The table, and whether it fits: no principal moved to a row of its
    /// own, no line wider than `width`.
    pub(crate) fn render(self, width: usize) -> String {
        self.render_checked(width).0
    }

    pub(crate) fn render_checked(self, width: usize) -> (String, bool) {
        let columns = self.head.len();
        let overhead = columns * 3 + 1;
        let natural = |c: usize| {
            self.rows
                .iter()
                .map(|r| visible_width(&r[c]))
                .chain([visible_width(&self.head[c])])
                .max()
                .unwrap_or(0)
        };
        let is_prose = |c: usize| self.prose.iter().any(|(p, _)| *p == c);
        let fixed: usize = (0..columns)
            .filter(|c| *c != self.principal && !is_prose(*c))
            .map(natural)
            .sum();
        // A prose column needs at least its longest word (never split).
        let prose_min: usize = self
            .prose
            .iter()
            .map(|(c, _)| {
                self.rows
                    .iter()
                    .flat_map(|r| r[*c].split([' ', '\n']).map(visible_width))
                    .max()
                    .unwrap_or(0)
                    .max(PROSE_MIN)
            })
            .sum();
        let cap = width
            .saturating_sub(overhead + fixed + prose_min)
            .max(visible_width(&self.head[self.principal]))
            .max(16);
        // The widest principal that fits; the longer ones get a row of their own.
        let principal_width = self
            .rows
            .iter()
            .map(|r| visible_width(&r[self.principal]))
            .filter(|w| *w <= cap)
            .chain([visible_width(&self.head[self.principal])])
            .max()
            .unwrap_or(0);
        let left = width
            .saturating_sub(overhead + fixed + principal_width)
            .max(prose_min);
        let total: usize = self.prose.iter().map(|(_, s)| s).sum();
        let mut b = Builder::default();
        b.push_record(self.head.clone());
        let mut spans = Vec::new();
        for mut row in self.rows {
            for (c, share) in &self.prose {
                row[*c] = wrap(&row[*c], left * share / total.max(1));
            }
            // (A first column that is too long just widens the table.)
            if visible_width(&row[self.principal]) > principal_width && self.principal > 0 {
                let long = std::mem::replace(&mut row[self.principal], "↑".into());
                let mut above = vec![String::new(); columns];
                above[0] = std::mem::take(&mut row[0]);
                above[1] = long;
                spans.push(b.count_records());
                b.push_record(above);
            }
            b.push_record(row);
        }
        let mut t = b.build();
        t.with(Style::sharp());
        let span = isize::try_from(columns - 1).unwrap_or(1);
        let fits = spans.is_empty();
        for r in spans {
            t.modify(Cell::new(r, 1), Span::column(span));
        }
        let text = t.to_string();
        let fits = fits && text.lines().all(|l| visible_width(l) <= width);
        (text, fits)
    }
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
        out.push_str(&entries_table(plan, style));
        out.push('\n');
    }
    let blocks = diff::blocks(&plan.entries, account);
    if !blocks.is_empty() {
        out.push_str(&format!(
            "\nExisting entries that differ ({}):\n",
            blocks.len()
        ));
        for block in blocks {
            for (i, line) in block.iter().enumerate() {
                let code = match line.trim_start().chars().next() {
                    Some('+') => "32",
                    Some('-' | '!') => "31",
                    Some('~') => "33",
                    _ => "0",
                };
                let text = if i == 0 {
                    wrap(line, style.width)
                } else {
                    line.clone()
                };
                out.push_str(&paint(&text, code, style.color && code != "0"));
                out.push('\n');
            }
        }
    }
    let skipped = skipped_rows(plan);
    if !skipped.is_empty() {
        out.push_str(&format!("\nSkipped aws-auth rows ({}):\n", skipped.len()));
        let rows = skipped
            .into_iter()
            .map(|(section, row, line, what, text)| {
                let at = match line.as_str() {
                    "-" => format!("{section} #{row}"),
                    l if l.starts_with(char::is_numeric) => format!("{section} #{row},\nline {l}"),
                    l => format!("{section} #{row},\n{l}"),
                };
                let who = if what.starts_with("arn:") {
                    principal_label(&what, account)
                } else {
                    what
                };
                vec![at, who, text]
            })
            .collect();
        let grid = Grid {
            head: vec!["Row".into(), "Principal".into(), "Reason".into()],
            rows,
            principal: 1,
            prose: vec![(2, 1)],
        };
        out.push_str(&grid.render(style.width));
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

/// Below [`COMPACT_BELOW`] columns, or when a principal would not fit its
/// cell: Action, Principal and Access only, the type, fidelity and rights
/// as lines of the Access cell.
pub(crate) const COMPACT_BELOW: usize = 100;

/// The wide layout when the width allows it and every principal fits in
/// its cell; the compact one otherwise.
fn entries_table(plan: &Plan, style: TableStyle) -> String {
    if style.width >= COMPACT_BELOW {
        let (text, fits) = entries_grid(plan, style, false).render_checked(style.width);
        if fits {
            return text;
        }
    }
    entries_grid(plan, style, true).render(style.width)
}

fn entries_grid(plan: &Plan, style: TableStyle, compact: bool) -> Grid {
    let account = plan.cluster.account.as_deref();
    let rights = plan.access.as_ref().map(access::verdict_cells);
    let mut head = vec!["Action", "Type", "Principal", "Access", "Fidelity"];
    if compact {
        head = vec!["Action", "Principal", "Access"];
    } else if rights.is_some() {
        head.push("Rights");
    }
    let mut rows = Vec::new();
    for e in &plan.entries {
        let action = paint(e.action.as_str(), action_color(e.action), style.color);
        let principal = principal_label(&e.principal_arn, account);
        let verdict = rights.as_ref().map(|r| {
            let v = access::cell_of(r, &e.principal_arn);
            let code = if v.starts_with("loses") {
                "31"
            } else if v == "unproven" {
                "33"
            } else {
                "32"
            };
            (v, code)
        });
        if compact {
            let mut cell = access_cell(e);
            if e.entry_type.is_node() {
                cell = format!("{} node identity", e.entry_type.as_str());
            } else if e.entry_type != EntryType::Standard {
                cell = format!("type: {}\n{cell}", e.entry_type.as_str());
            }
            if e.is_lossy() {
                cell.push_str(&format!("\n{}", paint("lossy", "33", style.color)));
            }
            if let Some((v, code)) = verdict {
                cell.push_str(&format!("\nrights: {}", paint(v, code, style.color)));
            }
            rows.push(vec![action, principal, cell]);
            continue;
        }
        let fidelity = match e.fidelity {
            Fidelity::Exact => "exact".to_string(),
            Fidelity::Lossy => paint("lossy", "33", style.color),
        };
        let mut row = vec![
            action,
            e.entry_type.as_str().to_string(),
            principal,
            access_cell(e),
            fidelity,
        ];
        if let Some((v, code)) = verdict {
            row.push(paint(v, code, style.color));
        }
        rows.push(row);
    }
    let (principal, prose) = if compact {
        (1, vec![(2, 1)])
    } else {
        (2, vec![(3, 1)])
    };
    Grid {
        head: head.into_iter().map(String::from).collect(),
        rows,
        principal,
        prose,
    }
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
    fn wrap_breaks_only_at_spaces() {
        assert_eq!(wrap("short", 16), "short");
        assert_eq!(wrap("one two three", 9), "one two\nthree");
        // Words are never split, however long: the column grows.
        let arn = "arn:aws:iam::111122223333:role/team/legacy-admin";
        assert_eq!(
            wrap(&format!("write it as {arn} to give access"), 20),
            format!("write it as\n{arn}\nto give access")
        );
        assert_eq!(
            wrap("system:monitoring: EKS", 10),
            "system:monitoring:\nEKS"
        );
        assert_eq!(wrap("a\nb c", 8), "a\nb c");
        // The indent is kept; a long list breaks after its commas.
        assert_eq!(wrap("  one two three", 9), "  one two\n  three");
        assert_eq!(
            wrap("get pods,services,endpoints,nodes", 16),
            "get\npods,services,\nendpoints,nodes"
        );
        // Colour codes take no width.
        assert_eq!(visible_width("\x1b[32mcreate\x1b[0m"), 6);
    }

    fn grid(principals: &[&str], width: usize) -> String {
        Grid {
            head: vec!["Action".into(), "Principal".into(), "Reason".into()],
            rows: principals
                .iter()
                .map(|p| {
                    vec![
                        "create".into(),
                        (*p).to_string(),
                        "some prose that is long enough to be wrapped more than once".into(),
                    ]
                })
                .collect(),
            principal: 1,
            prose: vec![(2, 1)],
        }
        .render(width)
    }

    #[test]
    fn principals_stay_whole_and_long_ones_get_their_own_row() {
        let long = "role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_View_def456";
        let out = grid(&["role/dev", long], 90);
        assert!(out.lines().any(|l| l.contains(long)), "{out}");
        assert!(out.contains("↑"), "{out}");
        assert!(out.lines().all(|l| l.chars().count() <= 90), "{out}");
        // Short ones keep their cell, and the table fits.
        let out = grid(
            &["role/dev", "role/AWSReservedSSO_ReadOnly_0123456789abcdef"],
            90,
        );
        assert!(!out.contains("↑"), "{out}");
        assert!(out.contains("role/AWSReservedSSO_ReadOnly_0123456789abcdef"));
        assert!(out.lines().all(|l| l.chars().count() <= 90), "{out}");
    }
}
