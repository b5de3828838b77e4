//! The emulator's world: IAM, credentials, clusters with their access entries,
//! updates, aws-auth `ConfigMaps` and RBAC bindings. Pure data and rules, no HTTP.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use serde_json::{json, Value};

use crate::arn::{IamPrincipal, PrincipalKind};
use crate::error::EmulatorError;
use crate::policies;
use crate::seed::{self, AccessScope, Identity, Rbac, Seed};

pub(crate) const MODE_CONFIG_MAP: &str = "CONFIG_MAP";
pub(crate) const MODE_BOTH: &str = "API_AND_CONFIG_MAP";
pub(crate) const MODE_API: &str = "API";

/// Entry types whose principal is a node (no groups, username or policies).
pub(crate) const NODE_TYPES: &[&str] =
    &["EC2_LINUX", "EC2_WINDOWS", "FARGATE_LINUX", "HYBRID_LINUX"];
/// Every entry type the API accepts.
pub(crate) const ENTRY_TYPES: &[&str] = &[
    "STANDARD",
    "EC2_LINUX",
    "EC2_WINDOWS",
    "FARGATE_LINUX",
    "HYBRID_LINUX",
    "EC2",
    "HYPERPOD_LINUX",
];

/// Seconds since the epoch, millisecond precision.
/// The secret of a seeded access key that `Seed::secrets` does not list
/// (the tests sign with it).
pub const DEFAULT_SECRET: &str = "secret";

pub(crate) fn now() -> f64 {
    chrono::Utc::now().timestamp_millis() as f64 / 1000.0
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct IamAccount {
    pub id: String,
    pub partition: String,
    pub roles: Vec<IamRole>,
    pub users: Vec<IamUser>,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct IamRole {
    pub name: String,
    pub path: String,
    pub id: String,
    pub arn: String,
    pub created_at: f64,
    pub assume_role_policy_document: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct IamUser {
    pub name: String,
    pub path: String,
    pub id: String,
    pub arn: String,
    pub created_at: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Association {
    pub scope: AccessScope,
    pub associated_at: f64,
    pub modified_at: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub principal_arn: String,
    pub entry_type: String,
    /// As stored; `None` means EKS's default (see [`Cluster::effective_username`]).
    pub username: Option<String>,
    pub kubernetes_groups: Vec<String>,
    pub access_entry_arn: String,
    pub created_at: f64,
    pub modified_at: f64,
    pub tags: BTreeMap<String, String>,
    /// Policy ARN → association.
    pub policies: BTreeMap<String, Association>,
    pub client_request_token: Option<String>,
    /// True for entries EKS made itself on the mode switch.
    pub created_by_eks: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Update {
    pub id: String,
    pub status: String,
    pub update_type: String,
    pub params: Vec<(String, String)>,
    pub created_at: f64,
    pub finish_at: f64,
    pub target_mode: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Cluster {
    pub name: String,
    pub region: String,
    pub account: String,
    pub partition: String,
    pub arn: String,
    pub version: String,
    pub platform_version: String,
    pub status: String,
    pub authentication_mode: String,
    pub bootstrap_cluster_creator_admin_permissions: bool,
    pub creator_arn: Option<String>,
    pub managed_node_groups: Vec<seed::NodeGroup>,
    pub fargate_profiles: Vec<seed::FargateProfile>,
    pub created_at: f64,
    pub tags: BTreeMap<String, String>,
    /// Principal ARN → entry.
    pub access_entries: BTreeMap<String, Entry>,
    pub updates: Vec<Update>,
    /// The full `kube-system/aws-auth` object, or `None` when absent.
    pub aws_auth: Option<Value>,
    pub rbac: Rbac,
    /// Kubernetes API base URL of this cluster.
    pub endpoint: String,
    /// The identities (ARNs) that reached this cluster's Kubernetes API
    /// with an EKS token (`k8s-aws-v1.`), each once, in order of first use.
    pub token_callers: Vec<String>,
}

/// The whole world.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct State {
    pub accounts: BTreeMap<String, IamAccount>,
    pub credentials: HashMap<String, Identity>,
    /// Access key id → secret, for checking EKS tokens: the seed's
    /// `secrets` and AssumeRole's keys; a seeded key not listed has the
    /// secret [`DEFAULT_SECRET`].
    #[serde(skip)]
    pub secrets: HashMap<String, String>,
    pub default_caller: Identity,
    pub default_region: String,
    pub clusters: Vec<Cluster>,
    pub update_duration_ms: u64,
    #[serde(skip)]
    pub base_url: String,
    #[serde(skip)]
    counter: u64,
    #[serde(skip)]
    resource_version: u64,
}

/// FNV-1a.
fn fnv(text: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// A stable IAM-style id (`AROA...`, `AIDA...`) derived from `seed`.
pub(crate) fn derive_id(prefix: &str, seed: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut h = fnv(seed);
    let mut out = String::from(prefix);
    for _ in 0..17 {
        out.push(ALPHABET[(h % 32) as usize] as char);
        h = h.rotate_right(5) ^ 0x5851_f42d_4c95_7f2d;
    }
    out
}

/// A UUID-shaped id that depends only on `seed` (stable across calls).
pub(crate) fn stable_uuid(seed: &str) -> String {
    let a = fnv(&format!("stable-a-{seed}"));
    let b = fnv(&format!("stable-b-{seed}"));
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xffff,
        b >> 48,
        b & 0xffff_ffff_ffff
    )
}

fn normalise_path(path: Option<&str>) -> String {
    match path {
        None | Some("") => "/".to_string(),
        Some(p) => {
            let mut s = p.to_string();
            if !s.starts_with('/') {
                s.insert(0, '/');
            }
            if !s.ends_with('/') {
                s.push('/');
            }
            s
        }
    }
}

impl State {
    /// Build the world from a seed. `base_url` is `http://127.0.0.1:PORT`.
    pub(crate) fn from_seed(seed: &Seed, base_url: &str) -> Result<State, EmulatorError> {
        let mut state = State {
            accounts: BTreeMap::new(),
            credentials: seed.credentials.clone().into_iter().collect(),
            secrets: seed.secrets.clone().into_iter().collect(),
            default_caller: Identity::default(),
            default_region: seed
                .default_region
                .clone()
                .unwrap_or_else(|| "us-east-1".into()),
            clusters: Vec::new(),
            update_duration_ms: seed.update_duration_ms.unwrap_or(300),
            base_url: base_url.trim_end_matches('/').to_string(),
            counter: 0,
            resource_version: 1000,
        };
        for a in &seed.accounts {
            state.ensure_account(&a.id, a.partition.as_deref())?;
            for r in &a.roles {
                state.add_role(&a.id, r)?;
            }
            for u in &a.users {
                state.add_user(&a.id, u)?;
            }
        }
        let accounts = &state.accounts;
        let default_caller = seed
            .default_caller
            .clone()
            .or_else(|| seed.credentials.values().next().cloned())
            .unwrap_or_else(|| {
                let account = accounts
                    .keys()
                    .next()
                    .cloned()
                    .unwrap_or_else(|| "000000000000".to_string());
                Identity {
                    arn: format!("arn:aws:iam::{account}:user/emulator"),
                    account,
                }
            });
        state.default_caller = default_caller;
        for c in &seed.clusters {
            state.add_cluster(c)?;
        }
        Ok(state)
    }

    /// Add a cluster from its seed form.
    pub(crate) fn add_cluster(&mut self, c: &seed::Cluster) -> Result<usize, EmulatorError> {
        if c.name.is_empty() || !crate::arn::is_account_id(&c.account) {
            return Err(EmulatorError::Seed(format!(
                "cluster {:?} needs a name and a 12-digit account",
                c.name
            )));
        }
        if ![MODE_CONFIG_MAP, MODE_BOTH, MODE_API].contains(&c.authentication_mode.as_str()) {
            return Err(EmulatorError::Seed(format!(
                "cluster {}: unknown authentication_mode {}",
                c.name, c.authentication_mode
            )));
        }
        crate::kube_rbac::validate(&c.name, &c.rbac)?;
        if self.find_cluster(&c.account, &c.region, &c.name).is_some() {
            return Err(EmulatorError::Seed(format!(
                "cluster {} declared twice in {}/{}",
                c.name, c.account, c.region
            )));
        }
        let partition = self.partition_of(&c.account);
        let created = now();
        let cluster = Cluster {
            name: c.name.clone(),
            region: c.region.clone(),
            account: c.account.clone(),
            arn: format!(
                "arn:{partition}:eks:{}:{}:cluster/{}",
                c.region, c.account, c.name
            ),
            partition,
            version: c.version.clone(),
            platform_version: c.platform_version.clone(),
            status: "ACTIVE".into(),
            authentication_mode: c.authentication_mode.clone(),
            bootstrap_cluster_creator_admin_permissions: c
                .bootstrap_cluster_creator_admin_permissions,
            creator_arn: c.creator_arn.clone(),
            managed_node_groups: c.managed_node_groups.clone(),
            fargate_profiles: c.fargate_profiles.clone(),
            created_at: created,
            tags: c.tags.clone(),
            access_entries: BTreeMap::new(),
            updates: Vec::new(),
            aws_auth: None,
            rbac: c.rbac.clone(),
            token_callers: Vec::new(),
            endpoint: format!(
                "{}/k8s/{}/{}/{}",
                self.base_url, c.account, c.region, c.name
            ),
        };
        self.clusters.push(cluster);
        let idx = self.clusters.len() - 1;
        if c.authentication_mode != MODE_CONFIG_MAP && !c.skip_eks_managed_entries {
            self.create_eks_managed_entries(idx);
        }
        for e in &c.access_entries {
            self.put_entry(idx, e);
        }
        if let Some(data) = &c.aws_auth {
            self.put_aws_auth(idx, data.clone());
        }
        Ok(idx)
    }

    /// Create the account if needed (partition `aws` unless given).
    pub(crate) fn ensure_account(
        &mut self,
        id: &str,
        partition: Option<&str>,
    ) -> Result<&mut IamAccount, EmulatorError> {
        if !crate::arn::is_account_id(id) {
            return Err(EmulatorError::Seed(format!(
                "account id {id:?} is not 12 digits"
            )));
        }
        let account = self
            .accounts
            .entry(id.to_string())
            .or_insert_with(|| IamAccount {
                id: id.to_string(),
                partition: "aws".into(),
                roles: Vec::new(),
                users: Vec::new(),
            });
        if let Some(p) = partition {
            account.partition = p.to_string();
        }
        Ok(account)
    }

    /// Add or replace (same name, case-insensitive) an IAM role.
    pub(crate) fn add_role(&mut self, account: &str, r: &seed::Role) -> Result<(), EmulatorError> {
        let a = self.ensure_account(account, None)?;
        let path = normalise_path(r.path.as_deref());
        let arn = format!("arn:{}:iam::{account}:role{path}{}", a.partition, r.name);
        a.roles.retain(|x| !x.name.eq_ignore_ascii_case(&r.name));
        a.roles.push(IamRole {
            id: r.id.clone().unwrap_or_else(|| derive_id("AROA", &arn)),
            name: r.name.clone(),
            path,
            arn,
            created_at: now(),
            assume_role_policy_document: r.assume_role_policy_document.clone(),
        });
        Ok(())
    }

    /// Add or replace (same name, case-insensitive) an IAM user.
    pub(crate) fn add_user(&mut self, account: &str, u: &seed::User) -> Result<(), EmulatorError> {
        let a = self.ensure_account(account, None)?;
        let path = normalise_path(u.path.as_deref());
        let arn = format!("arn:{}:iam::{account}:user{path}{}", a.partition, u.name);
        a.users.retain(|x| !x.name.eq_ignore_ascii_case(&u.name));
        a.users.push(IamUser {
            id: u.id.clone().unwrap_or_else(|| derive_id("AIDA", &arn)),
            name: u.name.clone(),
            path,
            arn,
            created_at: now(),
        });
        Ok(())
    }

    pub(crate) fn partition_of(&self, account: &str) -> String {
        self.accounts
            .get(account)
            .map_or_else(|| "aws".into(), |a| a.partition.clone())
    }

    /// A fresh unique number.
    pub(crate) fn next_counter(&mut self) -> u64 {
        self.counter += 1;
        self.counter
    }

    /// A fresh UUID-shaped id.
    pub(crate) fn next_uuid(&mut self) -> String {
        let n = self.next_counter();
        let a = fnv(&format!("uuid-a-{n}"));
        let b = fnv(&format!("uuid-b-{n}"));
        format!(
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xffff,
            b >> 48,
            b & 0xffff_ffff_ffff
        )
    }

    /// The next Kubernetes resourceVersion.
    pub(crate) fn next_resource_version(&mut self) -> String {
        self.resource_version += 1;
        self.resource_version.to_string()
    }

    /// The secret of a known access key (for checking EKS tokens).
    pub(crate) fn secret_of(&self, access_key_id: &str) -> Option<String> {
        if !self.credentials.contains_key(access_key_id) {
            return None;
        }
        Some(
            self.secrets
                .get(access_key_id)
                .cloned()
                .unwrap_or_else(|| DEFAULT_SECRET.to_string()),
        )
    }

    /// Identity of an access key (unknown keys → default caller).
    pub(crate) fn caller(&self, access_key_id: Option<&str>) -> Identity {
        access_key_id
            .and_then(|k| self.credentials.get(k))
            .cloned()
            .unwrap_or_else(|| self.default_caller.clone())
    }

    pub(crate) fn find_cluster(&self, account: &str, region: &str, name: &str) -> Option<usize> {
        self.clusters
            .iter()
            .position(|c| c.account == account && c.region == region && c.name == name)
    }

    /// Does the role or user exist in IAM (exact path, case-insensitive name)?
    pub(crate) fn principal_exists(&self, p: &IamPrincipal) -> bool {
        let Some(account) = self.accounts.get(&p.account) else {
            return false;
        };
        if account.partition != p.partition {
            return false;
        }
        match p.kind {
            PrincipalKind::Role => account
                .roles
                .iter()
                .any(|r| r.path == p.path && r.name.eq_ignore_ascii_case(&p.name)),
            PrincipalKind::User => account
                .users
                .iter()
                .any(|u| u.path == p.path && u.name.eq_ignore_ascii_case(&p.name)),
        }
    }

    pub(crate) fn find_role(&self, account: &str, name: &str) -> Option<&IamRole> {
        self.accounts
            .get(account)?
            .roles
            .iter()
            .find(|r| r.name.eq_ignore_ascii_case(name))
    }

    pub(crate) fn find_user(&self, account: &str, name: &str) -> Option<&IamUser> {
        self.accounts
            .get(account)?
            .users
            .iter()
            .find(|u| u.name.eq_ignore_ascii_case(name))
    }

    /// Finish every update whose time has come (and apply its effect).
    pub(crate) fn tick(&mut self, at: f64) {
        for idx in 0..self.clusters.len() {
            let mut finished = Vec::new();
            for u in &mut self.clusters[idx].updates {
                if u.status == "InProgress" && at >= u.finish_at {
                    u.status = "Successful".into();
                    finished.push(u.target_mode.clone());
                }
            }
            for mode in finished {
                let from = self.clusters[idx].authentication_mode.clone();
                self.clusters[idx].authentication_mode.clone_from(&mode);
                self.clusters[idx].status = "ACTIVE".into();
                if from == MODE_CONFIG_MAP && mode != MODE_CONFIG_MAP {
                    self.create_eks_managed_entries(idx);
                }
            }
        }
    }

    /// The entries EKS makes itself when access entries become available.
    pub(crate) fn create_eks_managed_entries(&mut self, idx: usize) {
        let cluster = &self.clusters[idx];
        let partition = cluster.partition.clone();
        let mut wanted: Vec<seed::AccessEntry> = Vec::new();
        for ng in &cluster.managed_node_groups {
            let t = if ng.windows {
                "EC2_WINDOWS"
            } else {
                "EC2_LINUX"
            };
            wanted.push(seed::AccessEntry::new(&ng.role_arn).entry_type(t));
        }
        for fp in &cluster.fargate_profiles {
            wanted.push(
                seed::AccessEntry::new(&fp.pod_execution_role_arn).entry_type("FARGATE_LINUX"),
            );
        }
        if cluster.bootstrap_cluster_creator_admin_permissions {
            if let Some(creator) = &cluster.creator_arn {
                wanted.push(
                    seed::AccessEntry::new(creator).cluster_policy(&policies::policy_arn(
                        &partition,
                        "AmazonEKSClusterAdminPolicy",
                    )),
                );
            }
        }
        for e in wanted {
            if !self.clusters[idx]
                .access_entries
                .contains_key(&e.principal_arn)
            {
                self.put_entry(idx, &e);
                if let Some(made) = self.clusters[idx].access_entries.get_mut(&e.principal_arn) {
                    made.created_by_eks = true;
                }
            }
        }
    }

    /// Insert or replace an entry without validation (seed, admin, EKS-made).
    pub(crate) fn put_entry(&mut self, idx: usize, e: &seed::AccessEntry) {
        let t = now();
        let entry_type = e.entry_type.clone().unwrap_or_else(|| "STANDARD".into());
        let arn = self.entry_arn(idx, &e.principal_arn);
        let cluster = &mut self.clusters[idx];
        let partition = cluster.partition.clone();
        let policies = e
            .policies
            .iter()
            .map(|p| {
                (
                    policies::resolve(&partition, &p.policy),
                    Association {
                        scope: p.scope.clone(),
                        associated_at: t,
                        modified_at: t,
                    },
                )
            })
            .collect();
        let previous = cluster.access_entries.get(&e.principal_arn);
        let created_at = previous.map_or(t, |p| p.created_at);
        let access_entry_arn = previous.map_or(arn, |p| p.access_entry_arn.clone());
        cluster.access_entries.insert(
            e.principal_arn.clone(),
            Entry {
                principal_arn: e.principal_arn.clone(),
                entry_type,
                username: e.username.clone(),
                kubernetes_groups: e.kubernetes_groups.clone(),
                access_entry_arn,
                created_at,
                modified_at: t,
                tags: e.tags.clone(),
                policies,
                client_request_token: None,
                created_by_eks: false,
            },
        );
    }

    /// `arn:P:eks:REGION:ACCT:access-entry/CLUSTER/role/ACCT/NAME/<id>`.
    pub(crate) fn entry_arn(&mut self, idx: usize, principal_arn: &str) -> String {
        let uuid = self.next_uuid();
        let c = &self.clusters[idx];
        let (kind, account, name) = match IamPrincipal::parse(principal_arn) {
            Ok(p) => (
                match p.kind {
                    PrincipalKind::Role => "role",
                    PrincipalKind::User => "user",
                },
                p.account,
                p.name,
            ),
            Err(_) => ("principal", c.account.clone(), "unknown".to_string()),
        };
        format!(
            "arn:{}:eks:{}:{}:access-entry/{}/{kind}/{account}/{name}/{uuid}",
            c.partition, c.region, c.account, c.name
        )
    }

    /// Replace (or create) `kube-system/aws-auth` with exactly this data.
    pub(crate) fn put_aws_auth(&mut self, idx: usize, data: BTreeMap<String, String>) {
        let rv = self.next_resource_version();
        let uid = self.next_uuid();
        let cluster = &mut self.clusters[idx];
        let (uid, created) = match &cluster.aws_auth {
            Some(existing) => (
                existing["metadata"]["uid"]
                    .as_str()
                    .unwrap_or(&uid)
                    .to_string(),
                existing["metadata"]["creationTimestamp"]
                    .as_str()
                    .unwrap_or("2024-01-01T00:00:00Z")
                    .to_string(),
            ),
            None => (uid, rfc3339(now())),
        };
        cluster.aws_auth = Some(json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": "aws-auth",
                "namespace": "kube-system",
                "uid": uid,
                "resourceVersion": rv,
                "creationTimestamp": created,
            },
            "data": data,
        }));
    }

    /// The `data` of aws-auth, when present.
    pub(crate) fn aws_auth_data(&self, idx: usize) -> Option<BTreeMap<String, String>> {
        let cm = self.clusters[idx].aws_auth.as_ref()?;
        let data = cm.get("data").and_then(Value::as_object);
        Some(
            data.map(|m| {
                m.iter()
                    .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                    .collect()
            })
            .unwrap_or_default(),
        )
    }

    /// The full dump answered by `GET /_emulator/state`.
    pub(crate) fn dump(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

impl Cluster {
    /// The username EKS shows for an entry.
    pub(crate) fn effective_username(&self, e: &Entry) -> String {
        if let Some(u) = &e.username {
            return u.clone();
        }
        match e.entry_type.as_str() {
            "EC2_LINUX" | "EC2_WINDOWS" | "EC2" => "system:node:{{EC2PrivateDNSName}}".into(),
            "FARGATE_LINUX" | "HYBRID_LINUX" | "HYPERPOD_LINUX" => {
                "system:node:{{SessionName}}".into()
            }
            _ => default_username(&e.principal_arn),
        }
    }

    /// The groups EKS shows for an entry.
    pub(crate) fn effective_groups(&self, e: &Entry) -> Vec<String> {
        match e.entry_type.as_str() {
            "EC2_LINUX" | "EC2_WINDOWS" => vec!["system:nodes".into()],
            _ => e.kubernetes_groups.clone(),
        }
    }

    /// Is an update of this cluster in progress?
    pub(crate) fn update_in_progress(&self) -> Option<&Update> {
        self.updates.iter().find(|u| u.status == "InProgress")
    }
}

/// EKS's default username for a STANDARD entry.
pub(crate) fn default_username(principal_arn: &str) -> String {
    match IamPrincipal::parse(principal_arn) {
        Ok(p) if p.kind == PrincipalKind::Role => format!(
            "arn:{}:sts::{}:assumed-role/{}/{{{{SessionName}}}}",
            p.partition, p.account, p.name
        ),
        _ => principal_arn.to_string(),
    }
}

/// RFC 3339 UTC, second precision.
pub(crate) fn rfc3339(epoch: f64) -> String {
    chrono::DateTime::from_timestamp(epoch as i64, 0)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::{Cluster as SeedCluster, Seed};

    fn world() -> State {
        let seed = Seed::default()
            .with_role("111122223333", "/", "node")
            .with_role("111122223333", "/", "creator")
            .with_cluster(
                SeedCluster::new("c1", "111122223333", "us-east-1")
                    .creator("arn:aws:iam::111122223333:role/creator", true)
                    .node_group("ng", "arn:aws:iam::111122223333:role/node", false)
                    .fargate_profile("fp", "arn:aws:iam::111122223333:role/fargate"),
            );
        State::from_seed(&seed, "http://127.0.0.1:1").expect("seed")
    }

    #[test]
    fn default_usernames() {
        assert_eq!(
            default_username("arn:aws:iam::111122223333:role/team/dev"),
            "arn:aws:sts::111122223333:assumed-role/dev/{{SessionName}}"
        );
        assert_eq!(
            default_username("arn:aws:iam::111122223333:user/ops/bob"),
            "arn:aws:iam::111122223333:user/ops/bob"
        );
    }

    #[test]
    fn config_map_cluster_has_no_entries_until_the_switch_finishes() {
        let mut s = world();
        assert!(s.clusters[0].access_entries.is_empty());
        s.clusters[0].updates.push(Update {
            id: "u".into(),
            status: "InProgress".into(),
            update_type: "AccessConfigUpdate".into(),
            params: vec![],
            created_at: 0.0,
            finish_at: 10.0,
            target_mode: MODE_BOTH.into(),
        });
        s.tick(5.0);
        assert!(s.clusters[0].access_entries.is_empty());
        s.tick(10.0);
        let c = &s.clusters[0];
        assert_eq!(c.authentication_mode, MODE_BOTH);
        assert_eq!(c.access_entries.len(), 3);
        let node = &c.access_entries["arn:aws:iam::111122223333:role/node"];
        assert_eq!(node.entry_type, "EC2_LINUX");
        assert_eq!(c.effective_groups(node), vec!["system:nodes".to_string()]);
        let creator = &c.access_entries["arn:aws:iam::111122223333:role/creator"];
        assert!(creator
            .policies
            .contains_key("arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"));
        assert_eq!(
            c.access_entries["arn:aws:iam::111122223333:role/fargate"].entry_type,
            "FARGATE_LINUX"
        );
    }

    #[test]
    fn aws_auth_resource_version_changes_on_every_write() {
        let mut s = world();
        let mut data = BTreeMap::new();
        data.insert("mapRoles".to_string(), "- a\n".to_string());
        s.put_aws_auth(0, data.clone());
        let rv1 = s.clusters[0]
            .aws_auth
            .as_ref()
            .map(|v| v["metadata"]["resourceVersion"].clone());
        s.put_aws_auth(0, data.clone());
        let rv2 = s.clusters[0]
            .aws_auth
            .as_ref()
            .map(|v| v["metadata"]["resourceVersion"].clone());
        assert_ne!(rv1, rv2);
        assert_eq!(s.aws_auth_data(0), Some(data));
    }

    #[test]
    fn principal_lookup_is_path_exact_and_name_case_insensitive() {
        let s = State::from_seed(
            &Seed::default().with_role("111122223333", "/sso/", "Admin"),
            "http://x",
        )
        .expect("seed");
        let ok = IamPrincipal::parse("arn:aws:iam::111122223333:role/sso/admin").expect("arn");
        let no_path = IamPrincipal::parse("arn:aws:iam::111122223333:role/Admin").expect("arn");
        assert!(s.principal_exists(&ok));
        assert!(!s.principal_exists(&no_path));
    }
}
