//! The aws-auth `ConfigMap` steps (`prune-configmap`, `finalize
//! --delete-configmap` and their undos): what each expects to find and
//! leaves, how one journaled without an outcome is settled, and the check
//! before one runs.

use std::collections::{BTreeMap, BTreeSet};

use super::model::Step;
use super::settle::Settled;

/// How aws-auth differs from what an aws-auth step expects
/// (`still_as_left_configmap`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ConfigMapChanged {
    /// The step expects no `ConfigMap` and one exists.
    #[error("aws-auth exists again (someone recreated it)")]
    Recreated,
    /// The step expects the `ConfigMap` and it is gone.
    #[error("aws-auth no longer exists")]
    Gone,
    /// The `ConfigMap` holds other data: the keys that differ.
    #[error("aws-auth changed since the tool read it (keys {})", .keys.join(", "))]
    DataChanged { keys: Vec<String> },
}

/// What an aws-auth step needs to find before it runs: `Some(data)` (the
/// `ConfigMap` exists with exactly this data) or `None` (it does not exist).
/// None for other steps.
pub(crate) fn configmap_precondition(step: &Step) -> Option<Option<&BTreeMap<String, String>>> {
    match step {
        Step::PutConfigMap { backup_data, .. } => Some(Some(backup_data)),
        Step::DeleteConfigMap { backup } => Some(Some(&backup.data)),
        Step::CreateConfigMap { .. } => Some(None),
        _ => None,
    }
}

/// The `ConfigMap` data an aws-auth step leaves: `Some(data)`, or `None`
/// when it deletes it. None (outer) for other steps.
pub(crate) fn configmap_result(step: &Step) -> Option<Option<&BTreeMap<String, String>>> {
    match step {
        Step::PutConfigMap { new_data, .. } => Some(Some(new_data)),
        Step::DeleteConfigMap { .. } => Some(None),
        Step::CreateConfigMap { backup } => Some(Some(&backup.data)),
        _ => None,
    }
}

fn show_presence(d: Option<&BTreeMap<String, String>>) -> &'static str {
    if d.is_some() {
        "exists with other data"
    } else {
        "does not exist"
    }
}

/// Settles an aws-auth step journaled without an outcome from the
/// `ConfigMap`'s data now (`None`: it does not exist): done when it holds
/// what the step leaves, not done when it holds what the step expected,
/// diverged otherwise (someone else changed it).
pub(crate) fn settle_configmap(
    step: &Step,
    observed: Option<&BTreeMap<String, String>>,
) -> Settled {
    let (Some(before), Some(after)) = (configmap_precondition(step), configmap_result(step)) else {
        return Settled::Diverged(format!("{} is not an aws-auth step", step.op()));
    };
    if observed == after {
        Settled::Done
    } else if observed == before {
        Settled::NotDone
    } else {
        Settled::Diverged(format!(
            "aws-auth {} since: neither the state before nor after {}",
            show_presence(observed),
            step.op()
        ))
    }
}

/// Before an aws-auth step runs (forward or as an undo): does the `ConfigMap`
/// hold what the step expects? An `Err` says what differs: someone changed
/// aws-auth since the tool read (or left) it.
pub(crate) fn still_as_left_configmap(
    step: &Step,
    observed: Option<&BTreeMap<String, String>>,
) -> Result<(), ConfigMapChanged> {
    let Some(before) = configmap_precondition(step) else {
        return Ok(());
    };
    match (before, observed) {
        (None, None) => Ok(()),
        (None, Some(_)) => Err(ConfigMapChanged::Recreated),
        (Some(_), None) => Err(ConfigMapChanged::Gone),
        (Some(want), Some(have)) if want == have => Ok(()),
        (Some(want), Some(have)) => {
            let keys: BTreeSet<&String> = want.keys().chain(have.keys()).collect();
            let keys = keys
                .into_iter()
                .filter(|k| want.get(*k) != have.get(*k))
                .cloned()
                .collect();
            Err(ConfigMapChanged::DataChanged { keys })
        }
    }
}
