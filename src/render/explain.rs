//! `plan --explain ARN`: a principal's rights before and after, side by
//! side, then the verdict and what differs.

use tabled::builder::Builder;
use tabled::settings::Style;

use super::access::all_detail_lines;
use super::table::wrap;
use crate::core::access_report::PrincipalAccess;
use crate::core::rbac::explain::SideRights;

fn side_lines(s: &SideRights) -> Vec<String> {
    let mut out = vec![format!("user: {}", s.username)];
    if !s.groups.is_empty() {
        out.push(format!("groups: {}", s.groups.join(", ")));
    }
    if !s.policies.is_empty() {
        out.push(format!("policies: {}", s.policies.join(", ")));
    }
    out.push(String::new());
    if s.masters {
        out.push("system:masters: everything, before any authorizer".into());
    }
    for (via, rules) in &s.grants {
        out.push(format!("{via}:"));
        for r in rules {
            out.push(format!("  {r}"));
        }
    }
    for p in &s.opaque {
        out.push(format!("{p}: rules not published by AWS"));
    }
    if !s.masters && s.grants.is_empty() && s.opaque.is_empty() {
        out.push("(no rights)".into());
    }
    out
}

/// The explanation as text, `width` columns wide.
pub(crate) fn render(
    p: &PrincipalAccess,
    before: &SideRights,
    after: Option<&SideRights>,
    width: usize,
) -> String {
    let half = width.saturating_sub(7) / 2;
    let left = wrap(&side_lines(before).join("\n"), half);
    let right = match after {
        Some(a) => wrap(&side_lines(a).join("\n"), half),
        None => "no access entry: the principal can no longer sign in".into(),
    };
    let mut t = Builder::default();
    t.push_record([
        "Before (aws-auth + RBAC)",
        "After (access entry + RBAC + policies)",
    ]);
    t.push_record([left, right]);
    let mut out = format!("{}\n", p.principal_arn);
    out.push_str(&t.build().with(Style::sharp()).to_string());
    out.push_str(&format!("\n\nVerdict: {}\n", p.comparison.verdict.as_str()));
    for line in all_detail_lines(p) {
        out.push_str(&wrap(&format!("  {line}"), width));
        out.push('\n');
    }
    out
}
