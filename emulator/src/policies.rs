//! The EKS cluster access policies answered by `ListAccessPolicies`.
//!
//! Names from the Amazon EKS user guide page "Review access policy permissions"
//! (access-policy-permissions), as listed there in 2025–2026. The real list grows.

pub(crate) const ACCESS_POLICY_NAMES: &[&str] = &[
    "AmazonAIOpsAssistantPolicy",
    "AmazonARCRegionSwitchScalingPolicy",
    "AmazonEKSAdminPolicy",
    "AmazonEKSAdminViewPolicy",
    "AmazonEKSAutoNodePolicy",
    "AmazonEKSBlockStorageClusterPolicy",
    "AmazonEKSBlockStoragePolicy",
    "AmazonEKSClusterAdminPolicy",
    "AmazonEKSClusterInsightsPolicy",
    "AmazonEKSComputeClusterPolicy",
    "AmazonEKSComputePolicy",
    "AmazonEKSEditPolicy",
    "AmazonEKSHybridPolicy",
    "AmazonEKSLoadBalancingClusterPolicy",
    "AmazonEKSLoadBalancingPolicy",
    "AmazonEKSNetworkingClusterPolicy",
    "AmazonEKSNetworkingPolicy",
    "AmazonEKSViewPolicy",
    "AmazonEMRJobPolicy",
    "AmazonSagemakerHyperpodClusterPolicy",
    "AmazonSagemakerHyperpodControllerPolicy",
    "AmazonSagemakerHyperpodSystemNamespacePolicy",
];

/// `arn:{partition}:eks::aws:cluster-access-policy/{name}`
pub(crate) fn policy_arn(partition: &str, name: &str) -> String {
    format!("arn:{partition}:eks::aws:cluster-access-policy/{name}")
}

/// Is `arn` a known access policy ARN of `partition`?
pub(crate) fn is_known_policy(partition: &str, arn: &str) -> bool {
    let prefix = format!("arn:{partition}:eks::aws:cluster-access-policy/");
    arn.strip_prefix(&prefix)
        .is_some_and(|name| ACCESS_POLICY_NAMES.contains(&name))
}

/// Complete a bare policy name into an ARN; ARNs pass through.
pub(crate) fn resolve(partition: &str, name_or_arn: &str) -> String {
    if name_or_arn.starts_with("arn:") {
        name_or_arn.to_string()
    } else {
        policy_arn(partition, name_or_arn)
    }
}
