//! The AWS adapters: thin wrappers over the SDK clients that return core
//! types and [`error::AwsError`]s. `Clients::connect` builds them all from
//! one configuration; the planner and apply share them.

pub(crate) mod access;
pub(crate) mod cluster_config;
pub(crate) mod config;
pub(crate) mod eks;
pub(crate) mod error;
pub(crate) mod iam;
pub(crate) mod log;
pub(crate) mod s3;
pub(crate) mod sts;
pub(crate) mod token;

use std::collections::BTreeMap;

use aws_config::SdkConfig;

pub(crate) use config::AwsOptions;
pub(crate) use eks::{ClusterFacts, Eks};
pub(crate) use error::AwsError;
pub(crate) use iam::{Iam, IamReaders};
pub(crate) use sts::{Caller, Sts};

/// Every client a live command needs.
#[derive(Debug, Clone)]
pub struct Clients {
    pub config: SdkConfig,
    pub region: String,
    pub eks: Eks,
    pub sts: Sts,
    /// IAM with the caller's credentials.
    pub iam: Iam,
    /// IAM through the roles of `--iam-role-for`, by account.
    pub iam_for: BTreeMap<String, Iam>,
}

impl Clients {
    /// Loads the configuration and builds the clients; `iam_roles` maps an
    /// account to a role to assume for reading its IAM. Makes no call.
    pub async fn connect(
        opts: &AwsOptions,
        iam_roles: &BTreeMap<String, String>,
    ) -> Result<Clients, AwsError> {
        let config = config::load(opts).await?;
        let mut iam_for = BTreeMap::new();
        for (account, role) in iam_roles {
            let assumed = config::assume(&config, role).await;
            iam_for.insert(account.clone(), Iam::new(&assumed));
        }
        Ok(Clients {
            region: config::region(&config),
            eks: Eks::new(&config),
            sts: Sts::new(&config),
            iam: Iam::new(&config),
            iam_for,
            config,
        })
    }

    /// A bearer token for cluster `cluster`'s Kubernetes API, from the
    /// credentials of the EKS calls (see [`token`]).
    pub(crate) async fn eks_token(&self, cluster: &str) -> Result<String, AwsError> {
        token::eks_token(&self.config, cluster).await
    }

    /// The IAM readers for a caller: its own account, plus `--iam-role-for`.
    pub fn iam_readers(&self, caller_account: &str) -> IamReaders {
        let mut by_account = self.iam_for.clone();
        by_account
            .entry(caller_account.to_string())
            .or_insert_with(|| self.iam.clone());
        IamReaders {
            caller_account: caller_account.to_string(),
            by_account,
        }
    }
}
