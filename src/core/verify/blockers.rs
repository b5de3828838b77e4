//! What stands between a verified cluster and API mode: the reasons
//! `finalize` refuses to switch.

use super::report::{row_label, Verification};
use crate::core::cluster::AuthMode;
use crate::core::existing::ExistingEntry;
use crate::core::plan::EntryType;

/// The roles EKS's own compute uses (managed node groups, Fargate
/// profiles) that have no node-type access entry now.
pub(crate) fn compute_roles_without_entry(
    roles: &[(String, String)],
    existing: &[ExistingEntry],
) -> Vec<(String, String)> {
    roles
        .iter()
        .filter(|(role, _)| {
            !existing.iter().any(|x| {
                x.principal_arn.eq_ignore_ascii_case(role)
                    && EntryType::parse(&x.entry_type).is_node()
            })
        })
        .cloned()
        .collect()
}

/// Why `finalize` must not switch the cluster to API mode; empty when it
/// may. `compute_missing` are node group / Fargate roles without a node
/// entry (by [`compute_roles_without_entry`]), each with what uses it.
pub(crate) fn finalize_blockers(
    v: &Verification,
    mode: &AuthMode,
    update_in_progress: Option<&str>,
    compute_missing: &[(String, String)],
) -> Vec<String> {
    let mut out = Vec::new();
    if *mode == AuthMode::ConfigMap {
        out.push("the cluster is in CONFIG_MAP mode: create the access entries first (apply), which switches it to API_AND_CONFIG_MAP".into());
    }
    if let Some(id) = update_in_progress {
        out.push(format!(
            "cluster update {id} is in progress: wait for it to finish"
        ));
    }
    for r in v.blocking() {
        out.push(format!(
            "{} ({}) is {}: {}{}",
            r.id,
            row_label(r),
            r.status.as_str(),
            r.code
                .as_deref()
                .map(|c| format!("{c}: "))
                .unwrap_or_default(),
            r.detail
        ));
    }
    out.extend(super::access::blocking_lines(v));
    if let Some(l) = &v.lockout {
        if !l.caller_admin_after {
            out.push(format!(
                "the caller {} has no access entry with AmazonEKSClusterAdminPolicy at cluster scope: in API mode it could lose admin access; create one (or run as a principal that has one)",
                l.caller_arn.as_deref().unwrap_or("(unknown)")
            ));
        }
        for n in &l.node_roles_at_risk {
            out.push(format!(
                "node role {n} (in aws-auth) has no node-type access entry: its nodes could not join in API mode; create its node entry (apply), or remove the row from aws-auth if no node uses the role (--accept-gaps does not waive a node role)"
            ));
        }
    }
    for (role, what) in compute_missing {
        out.push(format!(
            "{what} uses role {role}, which has no node-type access entry: its nodes or pods could not join in API mode"
        ));
    }
    out
}
