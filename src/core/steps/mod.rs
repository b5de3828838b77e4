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

pub use configmap::{
    configmap_precondition, configmap_result, settle_configmap, still_as_left_configmap,
    ConfigMapChanged,
};
pub use from_plan::{by_principal, client_request_token, mode_step, steps_for, StepsError};
pub use inverse::{rollback_steps, Inverse, Undo};
pub use model::{ConfigMapBackup, Outcome, Step, DIVERGED, TAG_MIGRATION_ID, TAG_VERSION};
pub use reconcile::{reconcile, Reconciled};
pub use settle::{settle, settle_mode, Settled};
pub use still_as_left::{still_as_left, NotAsLeft};

#[cfg(test)]
mod finish_step_tests;
#[cfg(test)]
mod tests;
