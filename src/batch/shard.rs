//! `--shard I/N`: a deterministic split of the selected clusters across N
//! jobs (docs/batch.md, "Shards"), and the fleet id that ties the parts of
//! one fleet's run together. Pure: no I/O, no clock.
//!
//! A cluster's shard is the SHA-256 of its key (or, with `--shard-by
//! account`, of its account) modulo N: it depends on nothing but that key
//! and N, so adding a cluster to the fleet places the new one and moves no
//! other, and every machine computes the same split.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::fleet::ClusterSpec;

/// What keeps clusters together in a shard.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ShardBy {
    /// Each cluster on its own: the hash of `account/region/name`.
    #[default]
    Cluster,
    /// One account's clusters in one shard (one job, one account's
    /// credentials): the hash of the account.
    Account,
}

impl ShardBy {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ShardBy::Cluster => "cluster",
            ShardBy::Account => "account",
        }
    }
}

/// `--shard I/N`: this job runs part `index` (1-based) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Shard {
    pub(crate) index: u32,
    pub(crate) count: u32,
}

impl Shard {
    /// The whole fleet as one part (a run without `--shard`).
    pub(crate) const WHOLE: Shard = Shard { index: 1, count: 1 };
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// Why a `--shard` value is refused (one line each).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ShardError {
    #[error("--shard {0:?}: expected I/N, e.g. --shard 2/3 (part 2 of 3)")]
    Syntax(String),
    #[error("--shard {0:?}: N must be at least 1")]
    NoShards(String),
    #[error("--shard {0:?}: I counts from 1 (the first part is 1/N)")]
    Zero(String),
    #[error("--shard {0:?}: I must be at most N")]
    Beyond(String),
}

impl FromStr for Shard {
    type Err = ShardError;

    fn from_str(s: &str) -> Result<Shard, ShardError> {
        let (i, n) = s
            .split_once('/')
            .ok_or_else(|| ShardError::Syntax(s.into()))?;
        let num = |v: &str| {
            v.trim()
                .parse::<u32>()
                .map_err(|_| ShardError::Syntax(s.into()))
        };
        let (index, count) = (num(i)?, num(n)?);
        if count == 0 {
            return Err(ShardError::NoShards(s.into()));
        }
        if index == 0 {
            return Err(ShardError::Zero(s.into()));
        }
        if index > count {
            return Err(ShardError::Beyond(s.into()));
        }
        Ok(Shard { index, count })
    }
}

/// The account a cluster is reached in, as the fleet file says it (the
/// real account is known only once AWS is asked, and the split is made
/// before): the account of its `role_arn`, else its profile
/// (`profile:NAME`), else `default` (the environment's credentials).
pub(crate) fn account_of(spec: &ClusterSpec) -> String {
    let from_role = spec.inputs.role_arn.as_deref().and_then(|arn| {
        let account = arn.split(':').nth(4)?;
        (!account.is_empty()).then(|| account.to_string())
    });
    from_role
        .or_else(|| spec.inputs.profile.as_ref().map(|p| format!("profile:{p}")))
        .unwrap_or_else(|| "default".into())
}

/// `account/region/name` (region empty when the profile or environment
/// gives it): the cluster's key in the split and in the fleet parts.
pub(crate) fn cluster_key(spec: &ClusterSpec) -> String {
    format!(
        "{}/{}/{}",
        account_of(spec),
        spec.inputs.region.as_deref().unwrap_or(""),
        spec.name
    )
}

/// The first 8 bytes of SHA-256, as a number (the same on every machine
/// and release, unlike std's randomised hasher).
fn stable_hash(s: &str) -> u64 {
    let d = Sha256::digest(s.as_bytes());
    let mut b = [0u8; 8];
    b.copy_from_slice(&d[..8]);
    u64::from_be_bytes(b)
}

/// The part (1-based) of `count` a cluster belongs to.
pub(crate) fn shard_of(spec: &ClusterSpec, by: ShardBy, count: u32) -> u32 {
    let what = match by {
        ShardBy::Cluster => cluster_key(spec),
        ShardBy::Account => account_of(spec),
    };
    let n = u64::from(count.max(1));
    // The remainder is below `count`, a u32.
    u32::try_from(stable_hash(&what) % n).unwrap_or(0) + 1
}

/// The items of `items` in `shard`, in their order.
pub(crate) fn split<T>(
    items: Vec<T>,
    spec_of: impl Fn(&T) -> &ClusterSpec,
    shard: Shard,
    by: ShardBy,
) -> Vec<T> {
    items
        .into_iter()
        .filter(|t| shard_of(spec_of(t), by, shard.count) == shard.index)
        .collect()
}

/// The fleet id: `--fleet-id` as given, else the fleet file's name (made
/// safe) and the first 12 hex digits of the SHA-256 of its sorted cluster
/// keys: `fleet-3f2a9c01b7de`. The same fleet file gives the same id on
/// every machine; a cluster added or removed gives another (its parts are
/// another run's).
pub(crate) fn fleet_id(name: &str, keys: &[String]) -> String {
    let mut sorted: Vec<&str> = keys.iter().map(String::as_str).collect();
    sorted.sort_unstable();
    sorted.dedup();
    let mut h = Sha256::new();
    for k in sorted {
        h.update(k.as_bytes());
        h.update(b"\n");
    }
    let hex = hex::encode(h.finalize());
    format!("{}-{}", crate::journal::safe_name(name), &hex[..12])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::ApplyInputs;

    fn spec(name: &str, region: &str, profile: &str) -> ClusterSpec {
        ClusterSpec {
            name: name.into(),
            labels: Default::default(),
            inputs: ApplyInputs {
                cluster: name.into(),
                region: Some(region.into()),
                profile: Some(profile.into()),
                role_arn: None,
                kubeconfig: None,
                context: None,
                allow_unverified_context: false,
                file: None,
                policy_map: None,
                allow_lossy: false,
                merge_existing: false,
                concurrency: std::num::NonZeroUsize::MIN,
                iam_role_for: Vec::new(),
                enable_access_entries: false,
                kube_auth: crate::kube::KubeAuth::default(),
            },
        }
    }

    fn fleet(n: usize) -> Vec<ClusterSpec> {
        (0..n)
            .map(|i| {
                spec(
                    &format!("c-{i}"),
                    ["us-east-1", "eu-west-1"][i % 2],
                    &format!("acct{}", i % 5),
                )
            })
            .collect()
    }

    #[test]
    fn shard_values_are_checked() {
        assert_eq!("2/3".parse(), Ok(Shard { index: 2, count: 3 }));
        assert_eq!("1/1".parse(), Ok(Shard::WHOLE));
        for (bad, want) in [
            ("3", ShardError::Syntax("3".into())),
            ("a/3", ShardError::Syntax("a/3".into())),
            ("-1/3", ShardError::Syntax("-1/3".into())),
            ("1/0", ShardError::NoShards("1/0".into())),
            ("0/3", ShardError::Zero("0/3".into())),
            ("4/3", ShardError::Beyond("4/3".into())),
        ] {
            assert_eq!(bad.parse::<Shard>(), Err(want), "{bad}");
        }
        let line = "0/3".parse::<Shard>().unwrap_err().to_string();
        assert!(!line.contains('\n') && line.contains("from 1"), "{line}");
    }

    #[test]
    fn every_cluster_is_in_exactly_one_shard_and_the_split_is_stable() {
        let all = fleet(60);
        for count in [1u32, 2, 3, 7] {
            let parts: Vec<Vec<ClusterSpec>> = (1..=count)
                .map(|index| split(all.clone(), |s| s, Shard { index, count }, ShardBy::Cluster))
                .collect();
            let total: usize = parts.iter().map(Vec::len).sum();
            assert_eq!(total, all.len(), "{count}");
            // Deterministic: the same split again.
            for (i, p) in parts.iter().enumerate() {
                let index = u32::try_from(i).unwrap() + 1;
                assert_eq!(
                    &split(all.clone(), |s| s, Shard { index, count }, ShardBy::Cluster),
                    p
                );
            }
        }
        // Adding a cluster places it and moves no other.
        let mut more = all.clone();
        more.insert(17, spec("new-one", "eu-west-1", "acct9"));
        for s in &all {
            assert_eq!(
                shard_of(s, ShardBy::Cluster, 3),
                shard_of(more.iter().find(|m| m == &s).unwrap(), ShardBy::Cluster, 3)
            );
        }
        // A known value pins the hash: SHA-256, not a per-process hasher.
        assert_eq!(
            stable_hash("acct/us-east-1/c"),
            stable_hash("acct/us-east-1/c")
        );
        assert_eq!(stable_hash(""), 0xe3b0_c442_98fc_1c14);
    }

    #[test]
    fn shard_by_account_never_splits_an_account() {
        let all = fleet(60);
        for count in [2u32, 3, 4] {
            for index in 1..=count {
                let part = split(all.clone(), |s| s, Shard { index, count }, ShardBy::Account);
                for s in &part {
                    let mates = all.iter().filter(|o| account_of(o) == account_of(s));
                    for m in mates {
                        assert!(part.contains(m), "{} without {}", s.name, m.name);
                    }
                }
            }
        }
    }

    #[test]
    fn the_account_is_the_role_account_else_the_profile() {
        let mut s = spec("c", "eu-west-1", "payments");
        assert_eq!(account_of(&s), "profile:payments");
        assert_eq!(cluster_key(&s), "profile:payments/eu-west-1/c");
        s.inputs.role_arn = Some("arn:aws:iam::222233334444:role/m".into());
        assert_eq!(account_of(&s), "222233334444");
        s.inputs.role_arn = None;
        s.inputs.profile = None;
        assert_eq!(account_of(&s), "default");
    }

    #[test]
    fn fleet_ids_follow_the_cluster_list_not_its_order() {
        let a = vec!["x/r/a".to_string(), "x/r/b".to_string()];
        let b = vec!["x/r/b".to_string(), "x/r/a".to_string()];
        assert_eq!(fleet_id("fleet", &a), fleet_id("fleet", &b));
        assert!(fleet_id("fleet", &a).starts_with("fleet-"));
        assert_eq!(fleet_id("fleet", &a).len(), "fleet-".len() + 12);
        let c = vec!["x/r/a".to_string()];
        assert_ne!(fleet_id("fleet", &a), fleet_id("fleet", &c));
        assert_eq!(fleet_id("my fleet", &a)[..9], *"my_fleet-");
    }
}
