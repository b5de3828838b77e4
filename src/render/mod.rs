//! Rendering one plan three ways: a terminal table, JSON, and Markdown for
//! pull requests. Each renderer is a pure function of the plan.

pub(crate) mod access;
pub(crate) mod diff;
pub(crate) mod explain;
pub(crate) mod json;
pub(crate) mod markdown;
pub(crate) mod table;

use crate::core::arn::{self, ArnClass};
use crate::core::plan::{Action, Entry, Plan};
use crate::core::policy::{self, PolicyAssociation};

/// `role/name`, with the account when it is not the cluster's.
pub(crate) fn principal_label(arn: &str, cluster_account: Option<&str>) -> String {
    match arn::classify(arn) {
        ArnClass::Principal(p) => {
            let base = format!("{}{}{}", p.kind, p.path, p.name);
            if Some(p.account.as_str()) == cluster_account {
                base
            } else {
                format!("{base} ({})", p.account)
            }
        }
        _ => arn.to_string(),
    }
}

/// `ClusterAdmin@cluster`, `View@ns:a,b`.
pub(crate) fn policy_label(p: &PolicyAssociation) -> String {
    let name = policy::short_name(&p.policy_arn);
    let short = name
        .strip_prefix("AmazonEKS")
        .and_then(|n| n.strip_suffix("Policy"))
        .filter(|n| !n.is_empty())
        .unwrap_or(name);
    format!("{short}@{}", p.access_scope)
}

pub(crate) fn policies_label(e: &Entry) -> String {
    if e.policies.is_empty() {
        return "-".into();
    }
    e.policies
        .iter()
        .map(policy_label)
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) fn groups_label(e: &Entry) -> String {
    if e.kubernetes_groups.is_empty() {
        "-".into()
    } else {
        e.kubernetes_groups.join(", ")
    }
}

pub(crate) fn username_label(e: &Entry) -> String {
    if e.entry_type.is_node() {
        return "(node)".into();
    }
    e.username.clone().unwrap_or_else(|| "(default)".into())
}

/// One line that says what the plan would do.
pub(crate) fn summary_line(plan: &Plan) -> String {
    let s = &plan.summary;
    let mut parts = vec![
        format!("{} to create", s.create),
        format!("{} to update", s.update),
    ];
    if s.noop > 0 {
        parts.push(format!("{} unchanged", s.noop));
    }
    if s.conflict > 0 {
        parts.push(format!("{} in conflict", s.conflict));
    }
    if s.unmanaged > 0 {
        parts.push(format!("{} unmanaged", s.unmanaged));
    }
    let held = plan
        .entries
        .iter()
        .filter(|e| e.action == Action::Skip)
        .count();
    let mut line = format!(
        "Plan: {} ({} policy associations); {} of {} aws-auth rows skipped",
        parts.join(", "),
        s.policies,
        s.skipped,
        s.rows
    );
    if held > 0 {
        line.push_str(&format!(
            "; {held} lossy entr{} held back (--allow-lossy to include)",
            if held == 1 { "y" } else { "ies" }
        ));
    }
    if s.lossy_rows > 0 {
        line.push_str(&format!(
            "; {} lossy row{} that no access entry can carry",
            s.lossy_rows,
            if s.lossy_rows == 1 { "" } else { "s" }
        ));
    }
    line.push('.');
    line
}

/// The rows whose access no entry can carry (root-user, federated-user):
/// `mapUsers#1`, the ARN, and the lossy reasons.
pub(crate) fn lossy_rows(plan: &Plan) -> Vec<(String, String, Vec<String>)> {
    use crate::core::reason::Severity;
    plan.lossy_rows()
        .into_iter()
        .map(|i| {
            let m = &plan.mappings[i];
            let id = format!("{}#{}", m.section, m.index.map_or(0, |i| i + 1));
            let reasons = m
                .reasons
                .iter()
                .filter(|r| r.severity == Severity::Lossy)
                .map(|r| format!("{}: {}", r.code.as_str(), r.message))
                .collect();
            (id, m.arn.clone().unwrap_or_default(), reasons)
        })
        .collect()
}

/// The rows that are not migrated, with their deciding reason first.
pub(crate) fn skipped_rows(plan: &Plan) -> Vec<(String, String, String, String, String)> {
    use crate::core::plan::Outcome;
    use crate::core::reason::Severity;
    plan.mappings
        .iter()
        .filter(|m| m.outcome == Outcome::Skip)
        .map(|m| {
            let row = m.index.map_or_else(|| "-".into(), |i| (i + 1).to_string());
            let line = match (m.section_line, m.line) {
                (Some(n), _) => format!("{} line {n}", m.section),
                (None, Some(l)) => l.to_string(),
                (None, None) => "-".into(),
            };
            let what = m
                .arn
                .clone()
                .filter(|a| !a.is_empty())
                .or_else(|| m.account.clone().map(|a| format!("account {a}")))
                .unwrap_or_else(|| "-".into());
            let mut reasons: Vec<_> = m
                .reasons
                .iter()
                .filter(|r| r.severity >= Severity::Lossy)
                .collect();
            reasons.sort_by_key(|r| std::cmp::Reverse(r.severity));
            let text = reasons
                .iter()
                .map(|r| format!("{}: {}", r.code.as_str(), r.message))
                .collect::<Vec<_>>()
                .join("\n");
            (m.section.to_string(), row, line, what, text)
        })
        .collect()
}
