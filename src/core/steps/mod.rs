//! The steps an apply executes, each with its inverse, and the pure rules
//! that resume and rollback follow: which steps took effect, how a step
//! whose outcome was never recorded is settled from the observed state, and
//! whether a resource is still as the tool left it. No I/O, no clock.
//!
//! The same `Step` type describes what `rollback` executes (its undo
//! operations are `DeleteEntry`, `DisassociatePolicy`, and the restoring
//! forms of `AssociatePolicy` and `UpdateEntry`), so one executor and one
//! journal format serve both commands. The serialised form is part of the
//! journal format (docs/journal.md): fields may be added, never renamed.

mod compare;
mod configmap;
mod from_plan;
mod inverse;
mod model;
mod reconcile;
mod settle;
mod still_as_left;

pub(crate) use configmap::{settle_configmap, still_as_left_configmap};
pub(crate) use from_plan::{by_principal, mode_step, steps_for};
pub(crate) use inverse::{rollback_steps, Inverse, Undo};
pub(crate) use model::{ConfigMapBackup, Outcome, Step, TAG_MIGRATION_ID};
pub(crate) use reconcile::{reconcile, Reconciled};
pub(crate) use settle::{settle, settle_mode, Settled};
pub(crate) use still_as_left::still_as_left;
// Named by the unit tests only.
#[cfg(test)]
pub(crate) use configmap::configmap_precondition;
#[cfg(test)]
pub(crate) use from_plan::client_request_token;
#[cfg(test)]
pub(crate) use model::TAG_VERSION;

#[cfg(test)]
mod finish_step_tests;
#[cfg(test)]
mod tests;
