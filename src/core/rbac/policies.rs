//! The rules of EKS access policies (placeholder; see the helper task).

use super::model::PolicyRule;

/// When the tables were last checked against the EKS user guide.
pub(crate) const CHECKED: &str = "unchecked";

/// The rules of an access policy by short name; `None` when the EKS user
/// guide does not publish them (the analysis cannot prove anything about it).
pub(crate) fn rules_of(name: &str) -> Option<Vec<PolicyRule>> {
    match name {
        "AmazonEKSClusterAdminPolicy" => Some(vec![
            PolicyRule::resource(&["*"], &["*"], &["*"]),
            PolicyRule::urls(&["*"], &["*"]),
        ]),
        _ => None,
    }
}
