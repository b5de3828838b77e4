//! What a journal read back says about its steps: which calls may or may
//! not have taken effect (pending), which did (effective), and which were
//! settled as diverged.

use std::collections::{BTreeMap, BTreeSet};

use super::format::{IntentRecord, JournalContents, Record};
use crate::core::steps::{Outcome, Step};

/// Intents with no outcome, in seq order: calls that may or may not have
/// taken effect, to be settled by reading the real state.
pub fn pending(contents: &JournalContents) -> Vec<&IntentRecord> {
    let settled: BTreeSet<u64> = contents
        .records
        .iter()
        .filter_map(|r| match r {
            Record::Outcome(o) => Some(o.intent),
            _ => None,
        })
        .collect();
    contents
        .records
        .iter()
        .filter_map(|r| match r {
            Record::Intent(i) if !settled.contains(&i.seq) => Some(i),
            _ => None,
        })
        .collect()
}

/// The steps that took effect (outcome `done`), in intent order, with their
/// outcomes: the input of `core::steps::rollback_steps`.
pub fn effective(contents: &JournalContents) -> Vec<(Step, Outcome)> {
    let outcomes: BTreeMap<u64, &Outcome> = contents
        .records
        .iter()
        .filter_map(|r| match r {
            Record::Outcome(o) => Some((o.intent, &o.outcome)),
            _ => None,
        })
        .collect();
    contents
        .records
        .iter()
        .filter_map(|r| match r {
            Record::Intent(i) => match outcomes.get(&i.seq) {
                Some(o) if o.took_effect() => Some((i.step.clone(), (*o).clone())),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// The steps settled as diverged (someone else changed the resource) and
/// not done since, in intent order, with that outcome: resume neither
/// redoes nor undoes them, it reports them.
pub(crate) fn diverged(contents: &JournalContents) -> Vec<(Step, Outcome)> {
    let outcomes: BTreeMap<u64, &Outcome> = contents
        .records
        .iter()
        .filter_map(|r| match r {
            Record::Outcome(o) => Some((o.intent, &o.outcome)),
            _ => None,
        })
        .collect();
    let done: Vec<Step> = effective(contents).into_iter().map(|(s, _)| s).collect();
    let mut out: Vec<(Step, Outcome)> = Vec::new();
    for r in &contents.records {
        let Record::Intent(i) = r else { continue };
        let Some(o) = outcomes.get(&i.seq) else {
            continue;
        };
        if o.diverged() && !done.contains(&i.step) && !out.iter().any(|(s, _)| *s == i.step) {
            out.push((i.step.clone(), (*o).clone()));
        }
    }
    out
}
