//! The aggregation controller's work (placeholder; see the helper task).

use std::collections::BTreeSet;

use super::model::Snapshot;

/// Fills each aggregated ClusterRole's rules from the ClusterRoles its
/// selectors match; returns the names of the aggregated ClusterRoles.
pub(crate) fn aggregate(snapshot: &mut Snapshot) -> BTreeSet<String> {
    snapshot
        .roles
        .iter()
        .filter(|r| r.is_aggregated())
        .map(|r| r.metadata.name.clone())
        .collect()
}
