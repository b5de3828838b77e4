//! What an apply or rollback tells whoever watches it, as values: each
//! [`Event`] goes to an [`EventSink`] that the caller provides (the
//! commands print them; `batch` moves its bars). Nothing here prints.

use std::sync::Arc;

use serde_json::json;

use crate::core::steps::{Outcome, Step};

/// One thing that happened during a run.
#[derive(Debug, Clone, Copy)]
pub enum Event<'a> {
    /// A phase of `steps` steps starts (`switch`, `apply`, `resume`, `rollback`).
    Phase { name: &'a str, steps: u64 },
    /// A step ended.
    Step {
        step: &'a Step,
        outcome: &'a Outcome,
    },
    /// A line for people.
    Message(&'a str),
    /// aws-auth is read through a connection that cannot be tied to the
    /// cluster (allowed by `--allow-unverified-context`).
    Notice(&'a str),
    /// The phase's steps are all over.
    Finish,
}

impl Event<'_> {
    /// The event as the JSON object of `--output json` (`None`: not one
    /// of those events).
    pub fn to_json(self) -> Option<serde_json::Value> {
        match self {
            Event::Phase { name, steps } => {
                Some(json!({"event": "phase", "phase": name, "steps": steps}))
            }
            Event::Step { step, outcome } => {
                let (status, detail) = step_status(outcome);
                Some(json!({
                    "event": "step", "op": step.op(), "principal_arn": step.principal_arn(),
                    "status": status, "detail": detail,
                }))
            }
            Event::Message(text) => Some(json!({"event": "message", "message": text})),
            Event::Notice(_) | Event::Finish => None,
        }
    }
}

/// A step's status word (`done`, `failed`, `adopted`, `skipped`) and
/// detail (empty when done).
pub(crate) fn step_status(outcome: &Outcome) -> (&'static str, String) {
    match outcome {
        Outcome::Done { .. } => ("done", String::new()),
        Outcome::Failed { code, message } => ("failed", format!("{code}: {message}")),
        Outcome::Skipped {
            reason,
            adopted: true,
        } => ("adopted", reason.clone()),
        Outcome::Skipped { reason, .. } => ("skipped", reason.clone()),
    }
}

/// Receives the events of a run; called from the run's workers.
pub trait EventSink: Send + Sync {
    fn event(&self, event: &Event<'_>);
}

/// The sink of a run, with a method per event.
#[derive(Clone)]
pub struct Events(Arc<dyn EventSink>);

impl Events {
    pub fn new(sink: Arc<dyn EventSink>) -> Events {
        Events(sink)
    }

    pub fn phase(&self, name: &str, steps: u64) {
        self.0.event(&Event::Phase { name, steps });
    }

    pub fn step(&self, step: &Step, outcome: &Outcome) {
        self.0.event(&Event::Step { step, outcome });
    }

    pub fn message(&self, text: &str) {
        self.0.event(&Event::Message(text));
    }

    pub fn notice(&self, text: &str) {
        self.0.event(&Event::Notice(text));
    }

    pub fn finish(&self) {
        self.0.event(&Event::Finish);
    }
}

impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Events")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_events_are_the_documented_objects() {
        let step = Step::DeleteEntry {
            principal_arn: "arn:aws:iam::111122223333:role/a".into(),
            tags: Default::default(),
        };
        let failed = Outcome::Failed {
            code: "X".into(),
            message: "why".into(),
        };
        let e = Event::Step {
            step: &step,
            outcome: &failed,
        };
        assert_eq!(
            e.to_json().map(|v| v.to_string()).as_deref(),
            Some(
                r#"{"detail":"X: why","event":"step","op":"delete-entry","principal_arn":"arn:aws:iam::111122223333:role/a","status":"failed"}"#
            )
        );
        assert_eq!(
            Event::Phase {
                name: "apply",
                steps: 3
            }
            .to_json()
            .map(|v| v.to_string())
            .as_deref(),
            Some(r#"{"event":"phase","phase":"apply","steps":3}"#)
        );
        assert!(Event::Notice("n").to_json().is_none());
        assert!(Event::Finish.to_json().is_none());
    }
}
