//! The seed: the emulator's starting world, read from YAML or built in code.
//!
//! Every field has a default so a seed can be as small as one cluster.
//! `docs/emulator.md` documents each field with an example.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::faults::Faults;

/// The whole starting world.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Seed {
    /// Access key id → identity. Keys not listed map to `default_caller`.
    pub credentials: BTreeMap<String, Identity>,
    /// Access key id → secret access key, checked in EKS tokens (the
    /// Kubernetes API's `k8s-aws-v1.` bearer tokens); a key of
    /// `credentials` not listed has the secret `secret`.
    pub secrets: BTreeMap<String, String>,
    /// The identity of callers whose access key is unknown (or absent).
    pub default_caller: Option<Identity>,
    /// Region used when a request carries no `SigV4` credential scope.
    pub default_region: Option<String>,
    /// AWS accounts with their IAM roles and users.
    pub accounts: Vec<Account>,
    /// EKS clusters, each in one account and region.
    pub clusters: Vec<Cluster>,
    /// How long an authentication-mode update stays `InProgress` (default 300 ms).
    pub update_duration_ms: Option<u64>,
    /// Fault injection rules active from the start.
    pub faults: Faults,
}

/// Who a caller is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Identity {
    pub account: String,
    /// `arn:aws:iam::A:user/NAME`, `arn:aws:iam::A:role/NAME` or `arn:aws:sts::A:assumed-role/NAME/SESSION`.
    pub arn: String,
}

/// One AWS account and its IAM principals.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Account {
    pub id: String,
    /// `aws` (default), `aws-cn`, `aws-us-gov`, ...
    pub partition: Option<String>,
    pub roles: Vec<Role>,
    pub users: Vec<User>,
}

/// An IAM role.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Role {
    pub name: String,
    /// IAM path, `/` by default; must start and end with `/`.
    pub path: Option<String>,
    /// Role id (`AROA...`); derived from the name when absent.
    pub id: Option<String>,
    /// Trust policy JSON, returned URL-encoded by `GetRole` like real IAM.
    pub assume_role_policy_document: Option<String>,
}

/// An IAM user.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct User {
    pub name: String,
    pub path: Option<String>,
    /// User id (`AIDA...`); derived from the name when absent.
    pub id: Option<String>,
}

/// One EKS cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Cluster {
    pub name: String,
    pub region: String,
    pub account: String,
    pub version: String,
    pub platform_version: String,
    /// `CONFIG_MAP`, `API_AND_CONFIG_MAP` or `API`.
    pub authentication_mode: String,
    pub bootstrap_cluster_creator_admin_permissions: bool,
    /// IAM ARN of the cluster creator (a role or user ARN).
    pub creator_arn: Option<String>,
    pub managed_node_groups: Vec<NodeGroup>,
    pub fargate_profiles: Vec<FargateProfile>,
    /// Entries present at start (only meaningful outside `CONFIG_MAP` mode).
    pub access_entries: Vec<AccessEntry>,
    /// When true, a cluster seeded in an API mode does not get the entries EKS
    /// itself would have made (node groups, Fargate, creator).
    pub skip_eks_managed_entries: bool,
    /// `data` of `kube-system/aws-auth`; `None` means the `ConfigMap` does not exist.
    pub aws_auth: Option<BTreeMap<String, String>>,
    pub rbac: Rbac,
    pub tags: BTreeMap<String, String>,
}

impl Default for Cluster {
    fn default() -> Self {
        Cluster {
            name: String::new(),
            region: "us-east-1".into(),
            account: String::new(),
            version: "1.30".into(),
            platform_version: "eks.8".into(),
            authentication_mode: "CONFIG_MAP".into(),
            bootstrap_cluster_creator_admin_permissions: true,
            creator_arn: None,
            managed_node_groups: Vec::new(),
            fargate_profiles: Vec::new(),
            access_entries: Vec::new(),
            skip_eks_managed_entries: false,
            aws_auth: None,
            rbac: Rbac::default(),
            tags: BTreeMap::new(),
        }
    }
}

/// A managed node group.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NodeGroup {
    pub name: String,
    pub role_arn: String,
    /// Windows AMI family: the EKS-made entry is `EC2_WINDOWS`.
    pub windows: bool,
}

/// A Fargate profile.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FargateProfile {
    pub name: String,
    pub pod_execution_role_arn: String,
}

/// An access entry present at start, or written through the admin API.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AccessEntry {
    pub principal_arn: String,
    /// `STANDARD` when absent.
    #[serde(rename = "type")]
    pub entry_type: Option<String>,
    /// EKS's default username when absent.
    pub username: Option<String>,
    pub kubernetes_groups: Vec<String>,
    pub policies: Vec<PolicyAssociation>,
    pub tags: BTreeMap<String, String>,
}

/// An access policy associated with an entry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PolicyAssociation {
    /// Full ARN, or a bare name such as `AmazonEKSViewPolicy` (completed with the cluster's partition).
    pub policy: String,
    pub scope: AccessScope,
}

/// `cluster`, or `namespace` with namespaces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AccessScope {
    #[serde(rename = "type")]
    pub scope_type: String,
    pub namespaces: Vec<String>,
}

impl Default for AccessScope {
    fn default() -> Self {
        AccessScope {
            scope_type: "cluster".into(),
            namespaces: Vec::new(),
        }
    }
}

/// RBAC objects served (read-only) by the cluster's Kubernetes API.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Rbac {
    pub cluster_role_bindings: Vec<RbacBinding>,
    pub role_bindings: Vec<RbacBinding>,
    pub cluster_roles: Vec<RbacRole>,
    pub roles: Vec<RbacRole>,
    /// Also serve the Kubernetes bootstrap ClusterRoles and ClusterRoleBindings
    /// (cluster-admin, admin, edit, view, the aggregate-to-* roles,
    /// system:basic-user, system:discovery, system:public-info-viewer); a
    /// seeded object of the same name replaces the bootstrap one.
    pub bootstrap: bool,
    /// Lists the caller may not make: `clusterroles`, `clusterrolebindings`,
    /// `roles`, `rolebindings` answer 403 Forbidden.
    pub forbid: Vec<String>,
}

/// A Role (with `namespace`) or ClusterRole in a compact form.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RbacRole {
    pub name: String,
    /// Roles only (`default` when absent); ignored for ClusterRoles.
    pub namespace: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub rules: Vec<RbacRule>,
    /// ClusterRoles only: the `matchLabels` of each
    /// `aggregationRule.clusterRoleSelectors` entry. When not empty, the
    /// served rules are those of every served ClusterRole a selector matches
    /// (as the aggregation controller fills them), not `rules`.
    pub aggregate_from: Vec<BTreeMap<String, String>>,
}

/// One policy rule, as `rbac.authorization.k8s.io/v1` `PolicyRule`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RbacRule {
    pub verbs: Vec<String>,
    pub api_groups: Vec<String>,
    pub resources: Vec<String>,
    pub resource_names: Vec<String>,
    pub non_resource_urls: Vec<String>,
}

/// A (Cluster)RoleBinding in a compact form.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RbacBinding {
    pub name: String,
    /// Required for role bindings, ignored for cluster role bindings.
    pub namespace: Option<String>,
    /// `ClusterRole` (default) or `Role`.
    pub role_kind: Option<String>,
    pub role_name: String,
    pub subjects: Vec<RbacSubject>,
}

/// A binding subject: `Group`, `User` or `ServiceAccount`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RbacSubject {
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
}

// ---------- builders ----------

impl Seed {
    /// Parse a YAML seed.
    pub fn from_yaml(text: &str) -> Result<Seed, serde_yaml::Error> {
        serde_yaml::from_str(text)
    }

    /// Set the default caller and register its access key.
    pub fn with_caller(mut self, access_key_id: &str, account: &str, arn: &str) -> Self {
        let identity = Identity::new(account, arn);
        self.credentials
            .insert(access_key_id.to_string(), identity.clone());
        if self.default_caller.is_none() {
            self.default_caller = Some(identity);
        }
        self
    }

    /// Register an access key for an identity (does not change the default caller).
    pub fn with_credential(mut self, access_key_id: &str, account: &str, arn: &str) -> Self {
        self.credentials
            .insert(access_key_id.to_string(), Identity::new(account, arn));
        self
    }

    /// Add (or extend) an account.
    pub fn with_account(mut self, account: Account) -> Self {
        if let Some(existing) = self.accounts.iter_mut().find(|a| a.id == account.id) {
            existing.roles.extend(account.roles);
            existing.users.extend(account.users);
            if account.partition.is_some() {
                existing.partition = account.partition;
            }
        } else {
            self.accounts.push(account);
        }
        self
    }

    /// Add a role `name` with `path` (e.g. `/` or `/team/`) to `account`, creating the account.
    pub fn with_role(self, account: &str, path: &str, name: &str) -> Self {
        self.with_account(Account::new(account).role(path, name))
    }

    /// Add a user to `account`, creating the account.
    pub fn with_user(self, account: &str, path: &str, name: &str) -> Self {
        self.with_account(Account::new(account).user(path, name))
    }

    pub fn with_cluster(mut self, cluster: Cluster) -> Self {
        self.clusters.push(cluster);
        self
    }

    pub fn with_update_duration_ms(mut self, ms: u64) -> Self {
        self.update_duration_ms = Some(ms);
        self
    }

    pub fn with_faults(mut self, faults: Faults) -> Self {
        self.faults = faults;
        self
    }
}

impl Identity {
    pub fn new(account: &str, arn: &str) -> Self {
        Identity {
            account: account.to_string(),
            arn: arn.to_string(),
        }
    }
}

impl Account {
    pub fn new(id: &str) -> Self {
        Account {
            id: id.to_string(),
            ..Account::default()
        }
    }

    pub fn partition(mut self, partition: &str) -> Self {
        self.partition = Some(partition.to_string());
        self
    }

    pub fn role(mut self, path: &str, name: &str) -> Self {
        self.roles.push(Role {
            name: name.to_string(),
            path: Some(path.to_string()),
            ..Role::default()
        });
        self
    }

    pub fn user(mut self, path: &str, name: &str) -> Self {
        self.users.push(User {
            name: name.to_string(),
            path: Some(path.to_string()),
            id: None,
        });
        self
    }
}

impl Cluster {
    /// A cluster in `CONFIG_MAP` mode with defaults for everything else.
    pub fn new(name: &str, account: &str, region: &str) -> Self {
        Cluster {
            name: name.to_string(),
            account: account.to_string(),
            region: region.to_string(),
            ..Cluster::default()
        }
    }

    pub fn mode(mut self, mode: &str) -> Self {
        self.authentication_mode = mode.to_string();
        self
    }

    pub fn version(mut self, version: &str, platform_version: &str) -> Self {
        self.version = version.to_string();
        self.platform_version = platform_version.to_string();
        self
    }

    pub fn creator(mut self, arn: &str, bootstrap_admin: bool) -> Self {
        self.creator_arn = Some(arn.to_string());
        self.bootstrap_cluster_creator_admin_permissions = bootstrap_admin;
        self
    }

    pub fn node_group(mut self, name: &str, role_arn: &str, windows: bool) -> Self {
        self.managed_node_groups.push(NodeGroup {
            name: name.to_string(),
            role_arn: role_arn.to_string(),
            windows,
        });
        self
    }

    pub fn fargate_profile(mut self, name: &str, role_arn: &str) -> Self {
        self.fargate_profiles.push(FargateProfile {
            name: name.to_string(),
            pod_execution_role_arn: role_arn.to_string(),
        });
        self
    }

    pub fn access_entry(mut self, entry: AccessEntry) -> Self {
        self.access_entries.push(entry);
        self
    }

    /// Set `kube-system/aws-auth` data (key → exact string).
    pub fn aws_auth<K: Into<String>, V: Into<String>>(
        mut self,
        data: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        self.aws_auth = Some(
            data.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        );
        self
    }

    pub fn cluster_role_binding(mut self, binding: RbacBinding) -> Self {
        self.rbac.cluster_role_bindings.push(binding);
        self
    }

    pub fn role_binding(mut self, binding: RbacBinding) -> Self {
        self.rbac.role_bindings.push(binding);
        self
    }

    pub fn cluster_role(mut self, role: RbacRole) -> Self {
        self.rbac.cluster_roles.push(role);
        self
    }

    /// A namespaced Role (see [`RbacRole::namespaced`]).
    pub fn role(mut self, role: RbacRole) -> Self {
        self.rbac.roles.push(role);
        self
    }

    /// Also serve the Kubernetes bootstrap ClusterRoles and bindings.
    pub fn bootstrap_rbac(mut self) -> Self {
        self.rbac.bootstrap = true;
        self
    }

    /// Make the list of `resource` (`roles`, `clusterroles`, ...) a 403.
    pub fn forbid_rbac_list(mut self, resource: &str) -> Self {
        self.rbac.forbid.push(resource.to_string());
        self
    }

    pub fn tag(mut self, key: &str, value: &str) -> Self {
        self.tags.insert(key.to_string(), value.to_string());
        self
    }
}

impl AccessEntry {
    /// A STANDARD entry with default username and no groups.
    pub fn new(principal_arn: &str) -> Self {
        AccessEntry {
            principal_arn: principal_arn.to_string(),
            ..AccessEntry::default()
        }
    }

    pub fn entry_type(mut self, entry_type: &str) -> Self {
        self.entry_type = Some(entry_type.to_string());
        self
    }

    pub fn username(mut self, username: &str) -> Self {
        self.username = Some(username.to_string());
        self
    }

    pub fn groups(mut self, groups: &[&str]) -> Self {
        self.kubernetes_groups = groups
            .iter()
            .map(std::string::ToString::to_string)
            .collect();
        self
    }

    /// Associate a policy (name or ARN) at cluster scope.
    pub fn cluster_policy(mut self, policy: &str) -> Self {
        self.policies.push(PolicyAssociation {
            policy: policy.to_string(),
            scope: AccessScope::default(),
        });
        self
    }

    /// Associate a policy (name or ARN) at namespace scope.
    pub fn namespace_policy(mut self, policy: &str, namespaces: &[&str]) -> Self {
        self.policies.push(PolicyAssociation {
            policy: policy.to_string(),
            scope: AccessScope {
                scope_type: "namespace".into(),
                namespaces: namespaces
                    .iter()
                    .map(std::string::ToString::to_string)
                    .collect(),
            },
        });
        self
    }

    pub fn tag(mut self, key: &str, value: &str) -> Self {
        self.tags.insert(key.to_string(), value.to_string());
        self
    }
}

impl RbacBinding {
    /// A binding to a `ClusterRole` with the given subjects (`("Group", "devs")`, ...).
    pub fn new(name: &str, role_name: &str, subjects: &[(&str, &str)]) -> Self {
        RbacBinding {
            name: name.to_string(),
            namespace: None,
            role_kind: None,
            role_name: role_name.to_string(),
            subjects: subjects
                .iter()
                .map(|(kind, name)| RbacSubject {
                    kind: kind.to_string(),
                    name: name.to_string(),
                    namespace: None,
                })
                .collect(),
        }
    }

    pub fn in_namespace(mut self, namespace: &str) -> Self {
        self.namespace = Some(namespace.to_string());
        self
    }

    pub fn role_kind(mut self, kind: &str) -> Self {
        self.role_kind = Some(kind.to_string());
        self
    }
}

impl RbacRole {
    /// A ClusterRole with these rules.
    pub fn cluster(name: &str, rules: Vec<RbacRule>) -> Self {
        RbacRole {
            name: name.to_string(),
            rules,
            ..RbacRole::default()
        }
    }

    /// A Role in `namespace` with these rules.
    pub fn namespaced(namespace: &str, name: &str, rules: Vec<RbacRule>) -> Self {
        RbacRole {
            namespace: Some(namespace.to_string()),
            ..RbacRole::cluster(name, rules)
        }
    }

    pub fn labelled(mut self, key: &str, value: &str) -> Self {
        self.labels.insert(key.to_string(), value.to_string());
        self
    }

    /// Add an aggregation selector (`matchLabels`, e.g. `&[("team", "a")]`).
    pub fn aggregating(mut self, match_labels: &[(&str, &str)]) -> Self {
        self.aggregate_from.push(
            match_labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        );
        self
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_string()).collect()
}

impl RbacRule {
    /// A rule on resources: `api_groups` (`""` is the core group), `resources`, `verbs`.
    pub fn new(api_groups: &[&str], resources: &[&str], verbs: &[&str]) -> Self {
        RbacRule {
            verbs: strings(verbs),
            api_groups: strings(api_groups),
            resources: strings(resources),
            ..RbacRule::default()
        }
    }

    /// A rule on non-resource URLs (`/healthz`, `/api/*`).
    pub fn urls(urls: &[&str], verbs: &[&str]) -> Self {
        RbacRule {
            verbs: strings(verbs),
            non_resource_urls: strings(urls),
            ..RbacRule::default()
        }
    }

    /// The same rule limited to the named objects.
    pub fn named(mut self, names: &[&str]) -> Self {
        self.resource_names = strings(names);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_round_trip_keeps_every_field() {
        let seed = Seed::default()
            .with_caller(
                "AKIDADMIN",
                "111122223333",
                "arn:aws:iam::111122223333:user/admin",
            )
            .with_role("111122223333", "/team/", "dev")
            .with_cluster(
                Cluster::new("c1", "111122223333", "eu-west-1")
                    .aws_auth([("mapRoles", "- rolearn: x\n")])
                    .node_group("ng", "arn:aws:iam::111122223333:role/node", true),
            );
        let text = serde_yaml::to_string(&seed).expect("serialize");
        let back = Seed::from_yaml(&text).expect("parse");
        assert_eq!(back, seed);
    }

    #[test]
    fn minimal_yaml_fills_defaults() {
        let seed = Seed::from_yaml("clusters:\n  - name: a\n    account: '111122223333'\n")
            .expect("parse");
        assert_eq!(seed.clusters[0].region, "us-east-1");
        assert_eq!(seed.clusters[0].authentication_mode, "CONFIG_MAP");
        assert!(seed.clusters[0].aws_auth.is_none());
    }

    #[test]
    fn unknown_field_is_an_error() {
        assert!(Seed::from_yaml("clusterz: []\n").is_err());
    }
}
