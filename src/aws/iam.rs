//! IAM: checking that the planned principals exist, and finding their real
//! ARNs. A principal is only ever looked up in the account its ARN names.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use aws_config::SdkConfig;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::error::{classify, AwsError};
use crate::core::arn::{PrincipalArn, PrincipalKind};
use crate::core::resolve::Lookup;

/// Above this many roles (or users) to check in one account, one paged
/// `ListRoles` (`ListUsers`) is cheaper than a `GetRole` (`GetUser`) each.
pub(crate) const LIST_THRESHOLD: usize = 10;

/// Page size asked of `ListRoles` and `ListUsers`: IAM's maximum (its default
/// is 100), so an account of 3,000 roles costs 3 calls, not 30.
const LIST_PAGE: i32 = 1000;

#[derive(Debug, Clone)]
pub struct Iam {
    client: aws_sdk_iam::Client,
}

impl Iam {
    pub fn new(conf: &SdkConfig) -> Iam {
        Iam {
            client: aws_sdk_iam::Client::from_conf(
                aws_sdk_iam::config::Builder::from(conf)
                    .interceptor(super::log::RequestLog)
                    .build(),
            ),
        }
    }

    /// `GetRole`: the role's ARN, `None` when IAM has no such role.
    pub async fn get_role(&self, name: &str) -> Result<Option<String>, AwsError> {
        match self.client.get_role().role_name(name).send().await {
            Ok(out) => Ok(out.role().map(|r| r.arn().to_string())),
            Err(e)
                if e.as_service_error().is_some_and(
                    aws_sdk_iam::operation::get_role::GetRoleError::is_no_such_entity_exception,
                ) =>
            {
                Ok(None)
            }
            Err(e) => Err(classify(format!("GetRole {name}"), "iam:GetRole", e)),
        }
    }

    /// `GetUser`: the user's ARN, `None` when IAM has no such user.
    pub async fn get_user(&self, name: &str) -> Result<Option<String>, AwsError> {
        match self.client.get_user().user_name(name).send().await {
            Ok(out) => Ok(out.user().map(|u| u.arn().to_string())),
            Err(e)
                if e.as_service_error().is_some_and(
                    aws_sdk_iam::operation::get_user::GetUserError::is_no_such_entity_exception,
                ) =>
            {
                Ok(None)
            }
            Err(e) => Err(classify(format!("GetUser {name}"), "iam:GetUser", e)),
        }
    }

    /// `ListRoles` or `ListUsers`, every page: lowercased name → ARN of every
    /// principal of `kind` in the account.
    pub async fn list(
        &self,
        kind: PrincipalKind,
        account: &str,
    ) -> Result<BTreeMap<String, String>, AwsError> {
        let named: Vec<(String, String)> = match kind {
            PrincipalKind::Role => self
                .client
                .list_roles()
                .max_items(LIST_PAGE)
                .into_paginator()
                .send()
                .try_collect()
                .await
                .map_err(|e| classify(format!("ListRoles in {account}"), "iam:ListRoles", e))?
                .iter()
                .flat_map(aws_sdk_iam::operation::list_roles::ListRolesOutput::roles)
                .map(|r| (r.role_name().to_string(), r.arn().to_string()))
                .collect(),
            PrincipalKind::User => self
                .client
                .list_users()
                .max_items(LIST_PAGE)
                .into_paginator()
                .send()
                .try_collect()
                .await
                .map_err(|e| classify(format!("ListUsers in {account}"), "iam:ListUsers", e))?
                .iter()
                .flat_map(aws_sdk_iam::operation::list_users::ListUsersOutput::users)
                .map(|u| (u.user_name().to_string(), u.arn().to_string()))
                .collect(),
        };
        Ok(named
            .into_iter()
            .map(|(name, arn)| (name.to_lowercase(), arn))
            .collect())
    }
}

/// IAM clients able to read each account: the caller's own, and those of
/// `--iam-role-for`.
#[derive(Debug, Clone, Default)]
pub struct IamReaders {
    pub caller_account: String,
    pub by_account: BTreeMap<String, Iam>,
}

/// (account, kind, name) and the ARN IAM has for it, if any.
type Found = ((String, PrincipalKind, String), Option<String>);

/// Looks every principal up in its own account, `concurrency` calls at a
/// time; principals of accounts no reader covers are `Unverified`. Keyed by
/// the principal's ARN as planned.
pub(crate) async fn lookup_all(
    readers: &IamReaders,
    principals: &[PrincipalArn],
    concurrency: std::num::NonZeroUsize,
) -> Result<BTreeMap<String, Lookup>, AwsError> {
    let mut out = BTreeMap::new();
    // account → kind → names
    let mut wanted: BTreeMap<&str, BTreeMap<PrincipalKind, BTreeSet<&str>>> = BTreeMap::new();
    for p in principals {
        if readers.by_account.contains_key(&p.account) {
            wanted
                .entry(p.account.as_str())
                .or_default()
                .entry(p.kind)
                .or_default()
                .insert(p.name.as_str());
        } else {
            out.insert(
                p.to_string(),
                Lookup::Unverified {
                    caller_account: readers.caller_account.clone(),
                },
            );
        }
    }

    let permits = Arc::new(Semaphore::new(concurrency.get()));
    // (account, kind, name) → Some(arn) | None
    let mut found: BTreeMap<(String, PrincipalKind, String), Option<String>> = BTreeMap::new();
    let mut tasks: JoinSet<Result<Vec<Found>, AwsError>> = JoinSet::new();
    for (account, kinds) in &wanted {
        let iam = readers.by_account[*account].clone();
        for (kind, names) in kinds {
            let names: Vec<String> = names.iter().map(std::string::ToString::to_string).collect();
            let account = account.to_string();
            let kind = *kind;
            if names.len() > LIST_THRESHOLD {
                let iam = iam.clone();
                let permits = permits.clone();
                tasks.spawn(async move {
                    let _permit = permits.acquire_owned().await.ok();
                    let all = iam.list(kind, &account).await?;
                    Ok(names
                        .into_iter()
                        .map(|n| {
                            let arn = all.get(&n.to_lowercase()).cloned();
                            ((account.clone(), kind, n), arn)
                        })
                        .collect())
                });
            } else {
                for name in names {
                    let iam = iam.clone();
                    let permits = permits.clone();
                    let account = account.clone();
                    tasks.spawn(async move {
                        let _permit = permits.acquire_owned().await.ok();
                        let arn = match kind {
                            PrincipalKind::Role => iam.get_role(&name).await?,
                            PrincipalKind::User => iam.get_user(&name).await?,
                        };
                        Ok(vec![((account, kind, name), arn)])
                    });
                }
            }
        }
    }
    while let Some(joined) = tasks.join_next().await {
        let result = joined.map_err(|e| AwsError::Other {
            call: "IAM lookup".into(),
            message: e.to_string(),
        })?;
        match result {
            Ok(list) => found.extend(list),
            Err(e) => {
                tasks.abort_all();
                return Err(e);
            }
        }
    }
    for p in principals {
        let key = (p.account.clone(), p.kind, p.name.clone());
        if let Some(arn) = found.get(&key) {
            out.insert(
                p.to_string(),
                match arn {
                    Some(arn) => Lookup::Found { arn: arn.clone() },
                    None => Lookup::NotFound,
                },
            );
        }
    }
    Ok(out)
}
