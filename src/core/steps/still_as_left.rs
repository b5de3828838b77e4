//! The rollback precondition: before an undo, is the principal's entry
//! still as the tool left it?

use super::compare::{
    differences, has_tags, same_groups, same_scope, scope_of, show_scope, username_matches,
};
use super::inverse::{Inverse, Undo};
use super::model::Step;
use crate::core::existing::ExistingEntry;
use crate::core::policy::AccessScope;

/// How a resource changed since the tool left it (`still_as_left`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum NotAsLeft {
    /// The principal's entry is gone.
    #[error("the entry for {principal_arn} no longer exists")]
    Gone { principal_arn: String },
    /// The entry the migration created differs (each difference named).
    #[error(
        "the entry for {principal_arn} changed since this migration created it: {}",
        .what.join("; ")
    )]
    CreatedEntryChanged {
        principal_arn: String,
        what: Vec<String>,
    },
    /// A policy the migration associated has another scope now (`none`:
    /// no longer associated).
    #[error("{policy_arn} on {principal_arn} has scope {now} since, not {left} as left")]
    ScopeChanged {
        policy_arn: String,
        principal_arn: String,
        now: String,
        left: AccessScope,
    },
    /// The entry the migration updated has another username or groups.
    #[error(
        "the entry for {principal_arn} changed since this migration updated it: username {}, groups [{}]",
        .username.as_deref().unwrap_or("(default)"),
        .groups.join(", ")
    )]
    UpdatedEntryChanged {
        principal_arn: String,
        username: Option<String>,
        groups: Vec<String>,
    },
}

/// Before an undo: is the resource still as the tool left it? `observed`
/// is the principal's entry now (`None`: no entry). An `Err` says what
/// changed; rollback reports it and skips the undo unless forced.
/// Irreversible undos have nothing to check.
pub(crate) fn still_as_left(
    undo: &Undo,
    observed: Option<&ExistingEntry>,
) -> Result<(), NotAsLeft> {
    if !matches!(undo.inverse, Inverse::Undo { .. }) {
        return Ok(());
    }
    let gone = |p: &str| NotAsLeft::Gone {
        principal_arn: p.to_string(),
    };
    match &undo.step {
        Step::EnableAccessEntries { .. } | Step::SwitchToApi { .. } => Ok(()),
        // The aws-auth steps carry their own precondition (the data they
        // expect, or absence), checked when they run: see
        // `still_as_left_configmap`.
        Step::PutConfigMap { .. } | Step::DeleteConfigMap { .. } | Step::CreateConfigMap { .. } => {
            Ok(())
        }
        Step::CreateEntry {
            principal_arn,
            entry_type,
            username,
            kubernetes_groups,
            tags,
            ..
        } => {
            let e = observed.ok_or_else(|| gone(principal_arn))?;
            let mut what = Vec::new();
            if !has_tags(&e.tags, tags) {
                what.push("its tags no longer name this migration".to_string());
            }
            what.extend(differences(
                principal_arn,
                *entry_type,
                username,
                kubernetes_groups,
                e,
            ));
            let mut extra: Vec<String> = Vec::new();
            for p in &e.policies {
                match undo.covers.iter().find(|c| c.policy_arn == p.policy_arn) {
                    Some(c) if same_scope(&c.access_scope, &p.access_scope) => {}
                    Some(_) => {
                        extra.push(format!("{} now has scope {}", p.policy_arn, p.access_scope));
                    }
                    None => extra.push(format!("{} was associated by someone else", p.policy_arn)),
                }
            }
            what.extend(extra);
            if what.is_empty() {
                Ok(())
            } else {
                Err(NotAsLeft::CreatedEntryChanged {
                    principal_arn: principal_arn.clone(),
                    what,
                })
            }
        }
        Step::AssociatePolicy {
            principal_arn,
            policy_arn,
            access_scope,
            ..
        } => {
            let e = observed.ok_or_else(|| gone(principal_arn))?;
            match scope_of(e, policy_arn) {
                Some(h) if same_scope(h, access_scope) => Ok(()),
                h => Err(NotAsLeft::ScopeChanged {
                    policy_arn: policy_arn.clone(),
                    principal_arn: principal_arn.clone(),
                    now: show_scope(h),
                    left: access_scope.clone(),
                }),
            }
        }
        Step::UpdateEntry {
            principal_arn,
            username,
            kubernetes_groups,
            ..
        } => {
            let e = observed.ok_or_else(|| gone(principal_arn))?;
            if username_matches(principal_arn, username, &e.username)
                && same_groups(&e.kubernetes_groups, kubernetes_groups)
            {
                Ok(())
            } else {
                Err(NotAsLeft::UpdatedEntryChanged {
                    principal_arn: principal_arn.clone(),
                    username: e.username.clone(),
                    groups: e.kubernetes_groups.clone(),
                })
            }
        }
        Step::DeleteEntry { .. } | Step::DisassociatePolicy { .. } => Ok(()),
    }
}
