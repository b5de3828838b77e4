//! What EKS says about a cluster, as values: its authentication mode and
//! its status. Each serialises as the string EKS uses (`CONFIG_MAP`,
//! `ACTIVE`...); a value this version does not know is kept as it was read
//! (`Other`), so journals and plans written by other versions still read
//! and write back unchanged.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A cluster's authentication mode: which of aws-auth and access entries
/// EKS reads.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AuthMode {
    /// aws-auth only (access entries off): `CONFIG_MAP`.
    ConfigMap,
    /// Both: `API_AND_CONFIG_MAP`.
    ApiAndConfigMap,
    /// Access entries only: `API`.
    Api,
    /// A mode this version does not know, as read (never one of the names
    /// above when it comes from `parse`, `From` or serde).
    Other(String),
}

impl AuthMode {
    /// The name EKS uses.
    pub fn as_str(&self) -> &str {
        match self {
            AuthMode::ConfigMap => "CONFIG_MAP",
            AuthMode::ApiAndConfigMap => "API_AND_CONFIG_MAP",
            AuthMode::Api => "API",
            AuthMode::Other(s) => s,
        }
    }

    /// The mode named `s` (an unknown name is kept as `Other`).
    pub fn parse(s: &str) -> AuthMode {
        match s {
            "CONFIG_MAP" => AuthMode::ConfigMap,
            "API_AND_CONFIG_MAP" => AuthMode::ApiAndConfigMap,
            "API" => AuthMode::Api,
            other => AuthMode::Other(other.to_string()),
        }
    }

    /// True when the cluster reads access entries (any mode but
    /// `CONFIG_MAP`).
    pub fn has_access_entries(&self) -> bool {
        *self != AuthMode::ConfigMap
    }
}

impl From<&str> for AuthMode {
    fn from(s: &str) -> AuthMode {
        AuthMode::parse(s)
    }
}

impl From<String> for AuthMode {
    fn from(s: String) -> AuthMode {
        match AuthMode::parse(&s) {
            AuthMode::Other(_) => AuthMode::Other(s),
            known => known,
        }
    }
}

impl fmt::Display for AuthMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for AuthMode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for AuthMode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<AuthMode, D::Error> {
        String::deserialize(d).map(AuthMode::from)
    }
}

/// A cluster's status as `DescribeCluster` reports it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ClusterStatus {
    Active,
    Creating,
    Deleting,
    Failed,
    Pending,
    Updating,
    /// A status this version does not know, as read (never one of the
    /// names above when it comes from `parse`, `From` or serde).
    Other(String),
}

impl ClusterStatus {
    /// The name EKS uses (`ACTIVE`...).
    pub fn as_str(&self) -> &str {
        match self {
            ClusterStatus::Active => "ACTIVE",
            ClusterStatus::Creating => "CREATING",
            ClusterStatus::Deleting => "DELETING",
            ClusterStatus::Failed => "FAILED",
            ClusterStatus::Pending => "PENDING",
            ClusterStatus::Updating => "UPDATING",
            ClusterStatus::Other(s) => s,
        }
    }

    /// The status named `s` (an unknown name is kept as `Other`).
    pub fn parse(s: &str) -> ClusterStatus {
        match s {
            "ACTIVE" => ClusterStatus::Active,
            "CREATING" => ClusterStatus::Creating,
            "DELETING" => ClusterStatus::Deleting,
            "FAILED" => ClusterStatus::Failed,
            "PENDING" => ClusterStatus::Pending,
            "UPDATING" => ClusterStatus::Updating,
            other => ClusterStatus::Other(other.to_string()),
        }
    }
}

impl From<&str> for ClusterStatus {
    fn from(s: &str) -> ClusterStatus {
        ClusterStatus::parse(s)
    }
}

impl fmt::Display for ClusterStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ClusterStatus {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ClusterStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<ClusterStatus, D::Error> {
        String::deserialize(d).map(|s| ClusterStatus::parse(&s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_round_trip_as_eks_names() {
        for (mode, name) in [
            (AuthMode::ConfigMap, "CONFIG_MAP"),
            (AuthMode::ApiAndConfigMap, "API_AND_CONFIG_MAP"),
            (AuthMode::Api, "API"),
            (AuthMode::Other("SOMETHING_NEW".into()), "SOMETHING_NEW"),
        ] {
            let json = serde_json::to_string(&mode).unwrap();
            assert_eq!(json, format!("\"{name}\""));
            assert_eq!(serde_json::from_str::<AuthMode>(&json).unwrap(), mode);
            assert_eq!(mode.to_string(), name);
            assert_eq!(AuthMode::from(name), mode);
            assert_eq!(AuthMode::from(name.to_string()), mode);
        }
        assert!(!AuthMode::ConfigMap.has_access_entries());
        assert!(AuthMode::ApiAndConfigMap.has_access_entries());
        assert!(AuthMode::Api.has_access_entries());
    }

    #[test]
    fn statuses_round_trip_as_eks_names() {
        for name in [
            "ACTIVE", "CREATING", "DELETING", "FAILED", "PENDING", "UPDATING", "", "NEW",
        ] {
            let s = ClusterStatus::parse(name);
            assert_eq!(s.to_string(), name);
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(serde_json::from_str::<ClusterStatus>(&json).unwrap(), s);
        }
        assert_eq!(ClusterStatus::parse("UPDATING"), ClusterStatus::Updating);
        assert_eq!(
            ClusterStatus::parse("NEW"),
            ClusterStatus::Other("NEW".into())
        );
    }
}
