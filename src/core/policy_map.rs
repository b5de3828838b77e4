//! The `--policy-map` file: what each Kubernetes group of aws-auth becomes.
//!
//! ```yaml
//! groups:
//!   system:masters:                 # overrides the built-in rule
//!     policies: [AmazonEKSClusterAdminPolicy]
//!   viewers:
//!     policies:
//!       - policy: AmazonEKSViewPolicy
//!         namespaces: [default, "dev-*"]
//!     keep_group: false             # default true
//!   system:monitoring:
//!     rename: monitoring            # system: groups cannot be entry groups
//! ```

use std::collections::BTreeMap;

use serde::Deserialize;

use super::policy::{self, AccessScope, PolicyAssociation, KNOWN_POLICIES};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{message}")]
pub struct PolicyMapError {
    pub line: Option<usize>,
    pub message: String,
}

fn err(message: impl Into<String>) -> PolicyMapError {
    PolicyMapError {
        line: None,
        message: message.into(),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMap {
    #[serde(default)]
    groups: BTreeMap<String, RawGroup>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGroup {
    #[serde(default)]
    policies: Vec<RawPolicy>,
    keep_group: Option<bool>,
    rename: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawPolicy {
    Name(String),
    Full(RawPolicyFull),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicyFull {
    policy: String,
    namespaces: Option<Vec<String>>,
}

/// A policy named by the map: a known short name or a full ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyRef {
    Name(String),
    Arn(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRule {
    pub policies: Vec<(PolicyRef, AccessScope)>,
    /// Keep the group (under `rename` when set) as a Kubernetes group.
    pub keep: bool,
    pub rename: Option<String>,
}

/// A policy map names a policy ARN of another partition than the
/// cluster's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "policy {policy_arn} is in partition {policy_partition}, the cluster is in {cluster_partition}"
)]
pub struct PartitionMismatch {
    pub policy_arn: String,
    pub policy_partition: String,
    pub cluster_partition: String,
}

impl GroupRule {
    /// The associations this rule asks for, with ARNs in `partition`.
    pub fn associations(
        &self,
        partition: &str,
    ) -> Result<Vec<PolicyAssociation>, PartitionMismatch> {
        self.policies
            .iter()
            .map(|(p, scope)| {
                let arn = match p {
                    PolicyRef::Name(n) => policy::policy_arn(partition, n),
                    PolicyRef::Arn(a) => {
                        let (part, _) = policy::parse_policy_arn(a).unwrap_or(("", ""));
                        if part != partition {
                            return Err(PartitionMismatch {
                                policy_arn: a.clone(),
                                policy_partition: part.to_string(),
                                cluster_partition: partition.to_string(),
                            });
                        }
                        a.clone()
                    }
                };
                Ok(PolicyAssociation {
                    policy_arn: arn,
                    access_scope: scope.clone(),
                })
            })
            .collect()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyMap {
    pub groups: BTreeMap<String, GroupRule>,
}

impl PolicyMap {
    pub fn rule(&self, group: &str) -> Option<&GroupRule> {
        self.groups.get(group)
    }

    /// Reads and checks a policy map. Unknown short policy names are an
    /// error that names the known ones.
    pub fn parse(text: &str) -> Result<PolicyMap, PolicyMapError> {
        // serde_yaml stops nested alias bombs ("repetition limit exceeded")
        // but copies an aliased string for every alias: a few hundred KB of
        // `*s` would take gigabytes. The tree parser's bounds refuse that first.
        if let Err(e) = super::yaml::parse(text) {
            if e.kind != super::yaml::ErrorKind::Syntax {
                return Err(PolicyMapError {
                    line: Some(e.line),
                    message: e.message,
                });
            }
        }
        let raw: RawMap = serde_yaml::from_str(text).map_err(|e| PolicyMapError {
            line: e.location().map(|l| l.line()),
            message: e.to_string(),
        })?;
        let mut groups = BTreeMap::new();
        for (group, g) in raw.groups {
            if group.trim().is_empty() {
                return Err(err("a group name is empty"));
            }
            let system = group.starts_with("system:");
            if let Some(new) = &g.rename {
                if new.is_empty() || new.starts_with("system:") {
                    return Err(err(format!(
                        "group {group}: rename {new:?} must be a non-empty name not starting with system:"
                    )));
                }
            }
            let keep = g.keep_group.unwrap_or(g.rename.is_some() || !system);
            if keep && system && g.rename.is_none() {
                return Err(err(format!(
                    "group {group}: a system: group cannot be an access entry group; give it a rename or set keep_group: false"
                )));
            }
            let mut policies = Vec::new();
            for p in g.policies {
                let (name, namespaces) = match p {
                    RawPolicy::Name(n) => (n, None),
                    RawPolicy::Full(f) => (f.policy, f.namespaces),
                };
                let pref = if name.starts_with("arn:") {
                    if policy::parse_policy_arn(&name).is_none() {
                        return Err(err(format!(
                            "group {group}: {name} is not an access policy ARN (arn:PARTITION:eks::aws:cluster-access-policy/NAME)"
                        )));
                    }
                    PolicyRef::Arn(name)
                } else if KNOWN_POLICIES.contains(&name.as_str()) {
                    PolicyRef::Name(name)
                } else {
                    return Err(err(format!(
                        "group {group}: unknown access policy {name:?}; known policies: {} (a policy newer than this list: give its full ARN, arn:aws:eks::aws:cluster-access-policy/{name})",
                        KNOWN_POLICIES.join(", ")
                    )));
                };
                let scope = match namespaces {
                    None => AccessScope::cluster(),
                    Some(ns) if ns.is_empty() => {
                        return Err(err(format!(
                            "group {group}: namespaces is empty; omit it for cluster scope"
                        )))
                    }
                    Some(ns) => {
                        if let Some(bad) = ns.iter().find(|n| !valid_namespace_pattern(n)) {
                            return Err(err(format!(
                                "group {group}: {bad:?} is not a namespace name or pattern"
                            )));
                        }
                        AccessScope::namespaces(ns)
                    }
                };
                policies.push((pref, scope));
            }
            groups.insert(
                group,
                GroupRule {
                    policies,
                    keep,
                    rename: g.rename,
                },
            );
        }
        Ok(PolicyMap { groups })
    }
}

/// A Kubernetes namespace name, optionally with `*` wildcards (`dev-*`).
fn valid_namespace_pattern(ns: &str) -> bool {
    !ns.is_empty()
        && ns.len() <= 63
        && ns
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_example_parses() {
        let map = PolicyMap::parse(
            "groups:\n  system:masters:\n    policies: [AmazonEKSClusterAdminPolicy]\n  viewers:\n    policies:\n      - policy: AmazonEKSViewPolicy\n        namespaces: [default, \"dev-*\"]\n    keep_group: false\n  system:monitoring:\n    rename: monitoring\n",
        )
        .unwrap();
        let masters = map.rule("system:masters").unwrap();
        assert!(!masters.keep);
        let viewers = map.rule("viewers").unwrap();
        assert!(!viewers.keep);
        assert_eq!(
            viewers.associations("aws").unwrap(),
            vec![PolicyAssociation {
                policy_arn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy".into(),
                access_scope: AccessScope::namespaces(vec!["default".into(), "dev-*".into()]),
            }]
        );
        let mon = map.rule("system:monitoring").unwrap();
        assert!(mon.keep);
        assert_eq!(mon.rename.as_deref(), Some("monitoring"));
    }

    #[test]
    fn unknown_policy_names_the_known_ones() {
        let e =
            PolicyMap::parse("groups:\n  a:\n    policies: [AmazonEKSViewerPolicy]\n").unwrap_err();
        assert!(e
            .message
            .contains("unknown access policy \"AmazonEKSViewerPolicy\""));
        assert!(e.message.contains("AmazonEKSViewPolicy"));
    }

    #[test]
    fn aliases_that_copy_too_much_are_refused() {
        // 2,000 aliases of a 1 KiB string: within serde_yaml's repetition
        // limit, but 2 MB of copies from a 6 KB file.
        let long = "x".repeat(1024);
        let mut text = format!("groups:\n  g:\n    rename: &s {long}\n    policies: [");
        text.push_str(&vec!["*s"; 2000].join(", "));
        text.push_str("]\n");
        let err = PolicyMap::parse(&text).unwrap_err();
        assert_eq!(err.line, Some(4));
        assert!(
            err.message
                .starts_with("aliases expand the document to more than "),
            "{}",
            err.message
        );
    }

    #[test]
    fn bad_maps_are_refused() {
        for bad in [
            "groups:\n  system:x:\n    keep_group: true\n",
            "groups:\n  a:\n    rename: system:b\n",
            "groups:\n  a:\n    policies: [{policy: AmazonEKSViewPolicy, namespaces: []}]\n",
            "groups:\n  a:\n    policies: [{policy: AmazonEKSViewPolicy, namespaces: [Bad_NS]}]\n",
            "groups:\n  a:\n    polices: []\n",
            "groups:\n  a:\n    policies: [arn:aws:iam::aws:policy/X]\n",
            "- not a map\n",
        ] {
            assert!(PolicyMap::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn full_arns_must_match_the_partition() {
        let map = PolicyMap::parse(
            "groups:\n  a:\n    policies: ['arn:aws-cn:eks::aws:cluster-access-policy/AmazonEKSNewPolicy']\n",
        )
        .unwrap();
        assert!(map.rule("a").unwrap().associations("aws-cn").is_ok());
        assert!(map.rule("a").unwrap().associations("aws").is_err());
        assert_eq!(
            map.rule("a").unwrap().associations("aws").unwrap_err().to_string(),
            "policy arn:aws-cn:eks::aws:cluster-access-policy/AmazonEKSNewPolicy is in partition aws-cn, the cluster is in aws"
        );
    }
}
