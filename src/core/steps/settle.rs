//! Settling a step journaled without an outcome from what is observed now:
//! did it take effect, not, or did someone else change the resource?

use super::compare::{
    differences, has_tags, same_groups, same_scope, scope_of, show_scope, username_matches,
};
use super::model::{Outcome, Step, DIVERGED};
use crate::core::cluster::AuthMode;
use crate::core::existing::ExistingEntry;

/// The state of a step journaled without an outcome, as observed now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Settled {
    /// The step took effect.
    Done,
    /// The step did not take effect: it can be executed again.
    NotDone,
    /// The resource is in neither the state before nor the state after the
    /// step: someone else changed it. Neither redo nor undo it.
    Diverged(String),
    /// Only for `EnableAccessEntries`: an update is still running; observe
    /// again later.
    InProgress,
}

impl Settled {
    /// The outcome to journal for a settled step (None while in progress).
    pub(crate) fn to_outcome(&self) -> Option<Outcome> {
        match self {
            Settled::Done => Some(Outcome::Done {
                response: serde_json::json!({"settled": "observed on resume"}),
            }),
            Settled::NotDone => Some(Outcome::Failed {
                code: "NotDone".to_string(),
                message: "interrupted before it took effect (observed on resume)".to_string(),
            }),
            Settled::Diverged(why) => Some(Outcome::Failed {
                code: DIVERGED.to_string(),
                message: why.clone(),
            }),
            Settled::InProgress => None,
        }
    }
}

/// Settles a step whose intent was journaled but whose outcome was not,
/// from the observed state of its principal (`None`: no entry). The
/// authentication-mode step is settled with [`settle_mode`] instead.
pub(crate) fn settle(step: &Step, observed: Option<&ExistingEntry>) -> Settled {
    match step {
        Step::EnableAccessEntries { .. } | Step::SwitchToApi { .. } => Settled::Diverged(
            "an authentication mode switch is settled from the cluster's mode (settle_mode)".into(),
        ),
        Step::PutConfigMap { .. } | Step::DeleteConfigMap { .. } | Step::CreateConfigMap { .. } => {
            Settled::Diverged(
                "an aws-auth step is settled from the ConfigMap (settle_configmap)".into(),
            )
        }
        Step::CreateEntry {
            principal_arn,
            entry_type,
            username,
            kubernetes_groups,
            tags,
            ..
        } => {
            let Some(e) = observed else {
                return Settled::NotDone;
            };
            if !has_tags(&e.tags, tags) {
                return Settled::Diverged(format!(
                    "an entry for {principal_arn} exists without this migration's tags: someone else created it"
                ));
            }
            let what = differences(principal_arn, *entry_type, username, kubernetes_groups, e);
            if !what.is_empty() {
                return Settled::Diverged(format!(
                    "the entry for {principal_arn} was created by this migration but changed since: {}",
                    what.join("; ")
                ));
            }
            Settled::Done
        }
        Step::AssociatePolicy {
            principal_arn,
            policy_arn,
            access_scope,
            prior_scope,
            ..
        } => {
            let Some(e) = observed else {
                return Settled::Diverged(format!(
                    "the entry for {principal_arn} no longer exists"
                ));
            };
            let have = scope_of(e, policy_arn);
            match (have, prior_scope) {
                (Some(h), _) if same_scope(h, access_scope) => Settled::Done,
                (None, None) => Settled::NotDone,
                (Some(h), Some(p)) if same_scope(h, p) => Settled::NotDone,
                _ => Settled::Diverged(format!(
                    "{policy_arn} on {principal_arn} has scope {}, neither {} (before) nor {access_scope} (after)",
                    show_scope(have),
                    show_scope(prior_scope.as_ref())
                )),
            }
        }
        Step::UpdateEntry {
            principal_arn,
            username,
            kubernetes_groups,
            prior_username,
            prior_groups,
        } => {
            let Some(e) = observed else {
                return Settled::Diverged(format!(
                    "the entry for {principal_arn} no longer exists"
                ));
            };
            if username_matches(principal_arn, username, &e.username)
                && same_groups(&e.kubernetes_groups, kubernetes_groups)
            {
                Settled::Done
            } else if username_matches(principal_arn, prior_username, &e.username)
                && same_groups(&e.kubernetes_groups, prior_groups)
            {
                Settled::NotDone
            } else {
                Settled::Diverged(format!(
                    "the entry for {principal_arn} has username {} and groups [{}], neither the state before nor after the update",
                    e.username.as_deref().unwrap_or("(default)"),
                    e.kubernetes_groups.join(", ")
                ))
            }
        }
        Step::DeleteEntry {
            principal_arn,
            tags,
        } => match observed {
            None => Settled::Done,
            Some(e) if has_tags(&e.tags, tags) => Settled::NotDone,
            Some(_) => Settled::Diverged(format!(
                "an entry for {principal_arn} exists without this migration's tags: someone else created it"
            )),
        },
        Step::DisassociatePolicy {
            principal_arn,
            policy_arn,
            access_scope,
        } => {
            let Some(e) = observed else {
                return Settled::Diverged(format!(
                    "the entry for {principal_arn} no longer exists"
                ));
            };
            match scope_of(e, policy_arn) {
                None => Settled::Done,
                Some(h) if same_scope(h, access_scope) => Settled::NotDone,
                Some(h) => Settled::Diverged(format!(
                    "{policy_arn} on {principal_arn} has scope {h}, not {access_scope}"
                )),
            }
        }
    }
}

/// Settles an `EnableAccessEntries` step from the cluster's authentication
/// mode and whether an access-config update is in progress.
pub(crate) fn settle_mode(step: &Step, mode: &AuthMode, update_in_progress: bool) -> Settled {
    let (from_mode, target) = match step {
        Step::SwitchToApi { from_mode } => (from_mode, AuthMode::Api),
        Step::EnableAccessEntries { from_mode } => (from_mode, AuthMode::ApiAndConfigMap),
        _ => {
            return Settled::Diverged(format!(
                "{} is settled from the principal's entry (settle)",
                step.op()
            ))
        }
    };
    // Modes only move forward: API is past API_AND_CONFIG_MAP too.
    if *mode == target || *mode == AuthMode::Api {
        Settled::Done
    } else if mode == from_mode && update_in_progress {
        Settled::InProgress
    } else if mode == from_mode {
        Settled::NotDone
    } else {
        Settled::Diverged(format!(
            "the authentication mode is {mode}, expected {from_mode} or {target}"
        ))
    }
}
