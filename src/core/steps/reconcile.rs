//! What `--resume` does with the steps of the plan that have not taken
//! effect, judged from each principal's entry as it is now.

use super::compare::{differences, has_tags, scope_of, show_scope};
use super::model::Step;
use super::settle::{settle, Settled};
use crate::core::existing::ExistingEntry;

/// What `--resume` does with a step of the plan that has not taken effect,
/// judged from its principal's entry as it is now (see [`reconcile`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Reconciled {
    /// Not there yet: execute it.
    Run,
    /// Already as the step leaves it, on this migration's own entry (a call
    /// whose success was lost): journaled done, undone by rollback.
    Done,
    /// The entry was made by someone else (EKS on the mode switch, or by
    /// hand) and is what the plan wants: taken as it is, never created
    /// again (409) nor deleted by rollback.
    Adopted(String),
    /// Someone else's change is in the way: neither done nor undone, and
    /// the principal's later steps are not attempted.
    Diverged(String),
}

/// Resume compares what is left of the plan with what exists now, one
/// principal at a time: `group` is that principal's remaining steps, in
/// order; `observed` its entry now (`None`: no entry). The answer has one
/// verdict per step up to and including the first `Diverged` (the steps
/// after it are not attempted).
///
/// A `CreateEntry` finding an entry without this migration's tags adopts
/// it, with the principal's associations, when a plan made now would call
/// it a no-op: the same type (node entries: only the type), username and
/// groups, and every policy at a scope covering the planned one. Otherwise
/// it is diverged. Other steps are settled as a pending step is
/// ([`settle`]): done, to run, or diverged.
pub(crate) fn reconcile(group: &[Step], observed: Option<&ExistingEntry>) -> Vec<Reconciled> {
    let mut out = Vec::new();
    let Some(e) = observed else {
        for step in group {
            match step {
                // An entry is created first: its associations follow it.
                Step::CreateEntry { .. } => return vec![Reconciled::Run; group.len()],
                _ => match settle(step, None) {
                    Settled::Diverged(why) => {
                        out.push(Reconciled::Diverged(why));
                        return out;
                    }
                    _ => out.push(Reconciled::Run),
                },
            }
        }
        return out;
    };
    if let Some(Step::CreateEntry {
        principal_arn,
        entry_type,
        username,
        kubernetes_groups,
        tags,
        ..
    }) = group.first()
    {
        if !has_tags(&e.tags, tags) {
            let mut what = differences(principal_arn, *entry_type, username, kubernetes_groups, e);
            for step in &group[1..] {
                if let Step::AssociatePolicy {
                    policy_arn,
                    access_scope,
                    ..
                } = step
                {
                    match scope_of(e, policy_arn) {
                        Some(h) if h.covers(access_scope) => {}
                        h => what.push(format!(
                            "{policy_arn} has scope {}, the plan needs {access_scope}",
                            show_scope(h)
                        )),
                    }
                }
            }
            if what.is_empty() {
                let why = format!(
                    "an entry for {principal_arn} made by someone else (EKS on the mode switch, or by hand) is already as planned: adopted, left as it is"
                );
                return vec![Reconciled::Adopted(why); group.len()];
            }
            return vec![Reconciled::Diverged(format!(
                "an entry for {principal_arn} made by someone else exists and differs from the plan: {}; it is left as it is",
                what.join("; ")
            ))];
        }
    }
    for step in group {
        match settle(step, Some(e)) {
            Settled::Done => out.push(Reconciled::Done),
            Settled::Diverged(why) => {
                out.push(Reconciled::Diverged(why));
                return out;
            }
            Settled::NotDone | Settled::InProgress => out.push(Reconciled::Run),
        }
    }
    out
}
