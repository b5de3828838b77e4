//! EKS access policies and their scopes.

use serde::{Deserialize, Serialize};

/// Access policy names known offline (the EKS user guide's list). The live
/// planner also accepts what `ListAccessPolicies` returns.
pub(crate) const KNOWN_POLICIES: [&str; 19] = [
    "AmazonAIOpsAssistantPolicy",
    "AmazonARCRegionSwitchScalingPolicy",
    "AmazonEKSAdminPolicy",
    "AmazonEKSAdminViewPolicy",
    "AmazonEKSAutoNodePolicy",
    "AmazonEKSBlockStoragePolicy",
    "AmazonEKSClusterAdminPolicy",
    "AmazonEKSClusterInsightsPolicy",
    "AmazonEKSComputePolicy",
    "AmazonEKSEditPolicy",
    "AmazonEKSHybridPolicy",
    "AmazonEKSLoadBalancingPolicy",
    "AmazonEKSNetworkingPolicy",
    "AmazonEKSSecretReaderPolicy",
    "AmazonEKSViewPolicy",
    "AmazonEMRJobPolicy",
    "AmazonSagemakerHyperpodClusterPolicy",
    "AmazonSagemakerHyperpodControllerPolicy",
    "AmazonSagemakerHyperpodSystemNamespacePolicy",
];

pub(crate) const CLUSTER_ADMIN: &str = "AmazonEKSClusterAdminPolicy";

/// `arn:{partition}:eks::aws:cluster-access-policy/{name}`
pub(crate) fn policy_arn(partition: &str, name: &str) -> String {
    format!("arn:{partition}:eks::aws:cluster-access-policy/{name}")
}

/// The partition and name of an access policy ARN.
pub(crate) fn parse_policy_arn(arn: &str) -> Option<(&str, &str)> {
    let rest = arn.strip_prefix("arn:")?;
    let (partition, rest) = rest.split_once(':')?;
    let name = rest.strip_prefix("eks::aws:cluster-access-policy/")?;
    if partition.is_empty() || name.is_empty() || name.contains(['/', ':']) {
        return None;
    }
    Some((partition, name))
}

/// The short name of a policy ARN, for display.
pub(crate) fn short_name(arn: &str) -> &str {
    parse_policy_arn(arn).map_or(arn, |(_, n)| n)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScopeType {
    Cluster,
    Namespace,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct AccessScope {
    #[serde(rename = "type")]
    pub scope_type: ScopeType,
    #[serde(default)]
    pub namespaces: Vec<String>,
}

impl AccessScope {
    pub fn cluster() -> AccessScope {
        AccessScope {
            scope_type: ScopeType::Cluster,
            namespaces: Vec::new(),
        }
    }

    pub fn namespaces(mut namespaces: Vec<String>) -> AccessScope {
        namespaces.sort();
        namespaces.dedup();
        AccessScope {
            scope_type: ScopeType::Namespace,
            namespaces,
        }
    }

    /// True when this scope grants at least what `other` grants.
    pub fn covers(&self, other: &AccessScope) -> bool {
        match (self.scope_type, other.scope_type) {
            (ScopeType::Cluster, _) => true,
            (ScopeType::Namespace, ScopeType::Cluster) => false,
            (ScopeType::Namespace, ScopeType::Namespace) => {
                other.namespaces.iter().all(|n| self.namespaces.contains(n))
            }
        }
    }

    /// The smallest scope that grants both.
    pub fn union(&self, other: &AccessScope) -> AccessScope {
        if self.scope_type == ScopeType::Cluster || other.scope_type == ScopeType::Cluster {
            return AccessScope::cluster();
        }
        let mut all = self.namespaces.clone();
        all.extend(other.namespaces.iter().cloned());
        AccessScope::namespaces(all)
    }
}

impl std::fmt::Display for AccessScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.scope_type {
            ScopeType::Cluster => f.write_str("cluster"),
            ScopeType::Namespace => write!(f, "ns:{}", self.namespaces.join(",")),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PolicyAssociation {
    pub policy_arn: String,
    pub access_scope: AccessScope,
}

/// Adds `assoc` to `list`, widening the scope of an association of the same
/// policy (EKS holds one scope per policy and entry).
pub(crate) fn merge_association(list: &mut Vec<PolicyAssociation>, assoc: PolicyAssociation) {
    match list.iter_mut().find(|p| p.policy_arn == assoc.policy_arn) {
        Some(existing) => existing.access_scope = existing.access_scope.union(&assoc.access_scope),
        None => list.push(assoc),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_are_partition_aware() {
        assert_eq!(
            policy_arn("aws-cn", CLUSTER_ADMIN),
            "arn:aws-cn:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
        );
        assert_eq!(
            parse_policy_arn("arn:aws-us-gov:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"),
            Some(("aws-us-gov", "AmazonEKSViewPolicy"))
        );
        assert_eq!(parse_policy_arn("arn:aws:iam::aws:policy/Admin"), None);
    }

    #[test]
    fn scopes_merge_and_cover() {
        let a = AccessScope::namespaces(vec!["b".into(), "a".into()]);
        let b = AccessScope::namespaces(vec!["c".into()]);
        assert_eq!(a.union(&b).namespaces, vec!["a", "b", "c"]);
        assert_eq!(a.union(&AccessScope::cluster()), AccessScope::cluster());
        assert!(AccessScope::cluster().covers(&a));
        assert!(!a.covers(&b));
        assert!(a.union(&b).covers(&a));
        let mut list = vec![];
        let view = policy_arn("aws", "AmazonEKSViewPolicy");
        merge_association(
            &mut list,
            PolicyAssociation {
                policy_arn: view.clone(),
                access_scope: a,
            },
        );
        merge_association(
            &mut list,
            PolicyAssociation {
                policy_arn: view,
                access_scope: b,
            },
        );
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].access_scope.to_string(), "ns:a,b,c");
    }
}
