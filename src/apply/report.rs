//! The end of an apply or rollback: what was done, what failed and why,
//! where the journal is, and the exact command to resume or undo.

use std::path::PathBuf;

use serde::Serialize;

use crate::core::steps::Outcome;
use crate::outcome;
use crate::render::table::Grid;

use super::exec::StepResult;
use super::run::Run;

#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    pub op: String,
    pub target: String,
    pub code: String,
    pub message: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub cluster: String,
    pub migration_id: Option<String>,
    pub journal: Option<PathBuf>,
    pub steps: usize,
    pub done: usize,
    pub failed: usize,
    pub skipped: usize,
    /// Steps not made because someone else's resource (an entry EKS made
    /// on the mode switch, or one made by hand) was already as planned.
    pub adopted: usize,
    /// Steps found changed by someone else (code `Diverged`): neither done
    /// nor undone. Counted in `failed` too.
    pub diverged: usize,
    /// The principals whose entry was adopted.
    pub adopted_entries: Vec<String>,
    /// `--resume`: steps that took effect in earlier runs of the journal.
    pub previously_done: usize,
    pub not_attempted: usize,
    pub interrupted: bool,
    pub failures: Vec<Failure>,
    /// `rollback` only: undos that cannot be done, and why.
    pub irreversible: Vec<String>,
    /// Entries of the plan left alone: in conflict with an existing entry,
    /// or lossy and held back. Their aws-auth rows keep working.
    pub left_alone: Vec<String>,
    #[serde(skip)]
    pub rollback: bool,
}

impl Report {
    pub fn nothing(cluster: &str) -> Report {
        Report {
            cluster: cluster.to_string(),
            migration_id: None,
            journal: None,
            steps: 0,
            done: 0,
            failed: 0,
            skipped: 0,
            adopted: 0,
            diverged: 0,
            adopted_entries: Vec::new(),
            previously_done: 0,
            not_attempted: 0,
            interrupted: false,
            failures: Vec::new(),
            irreversible: Vec::new(),
            left_alone: Vec::new(),
            rollback: false,
        }
    }

    pub fn new(run: &Run, results: Vec<StepResult>, total: usize) -> Report {
        let mut r = Report::nothing(&run.facts.name);
        r.migration_id = Some(run.migration_id.clone());
        r.journal = Some(run.journal_path.clone());
        r.steps = total;
        r.interrupted = run.cancel.load(std::sync::atomic::Ordering::SeqCst);
        for res in &results {
            match &res.outcome {
                Outcome::Done { .. } => r.done += 1,
                Outcome::Skipped { adopted: true, .. } => {
                    r.adopted += 1;
                    if let crate::core::steps::Step::CreateEntry { principal_arn, .. } = &res.step {
                        r.adopted_entries.push(principal_arn.clone());
                    }
                }
                Outcome::Failed { code, message } => {
                    r.failed += 1;
                    r.diverged += usize::from(res.outcome.diverged());
                    r.failures.push(Failure {
                        op: res.step.op().to_string(),
                        target: res.step.principal_arn().unwrap_or("cluster").to_string(),
                        code: code.clone(),
                        message: message.clone(),
                    });
                }
                Outcome::Skipped { reason, .. } => {
                    r.skipped += 1;
                    r.failures.push(Failure {
                        op: res.step.op().to_string(),
                        target: res.step.principal_arn().unwrap_or("cluster").to_string(),
                        code: "skipped".into(),
                        message: reason.clone(),
                    });
                }
            }
        }
        r.not_attempted = total.saturating_sub(results.len());
        r
    }

    pub fn complete(&self) -> bool {
        self.failed == 0 && self.not_attempted == 0 && !self.interrupted
    }

    /// Ok (0) all done (adopted steps count as done); Partial (3) (something
    /// took effect, in this run or an earlier run of the journal, but not
    /// all; or an undo was skipped; or a step diverged because someone else
    /// changed the resource); Error (1) nothing took effect and something failed.
    pub fn outcome(&self) -> outcome::Outcome {
        if self.complete() && self.skipped == 0 {
            outcome::Outcome::Ok
        } else if self.done + self.skipped + self.diverged + self.adopted + self.previously_done > 0
        {
            outcome::Outcome::Partial
        } else {
            outcome::Outcome::Error
        }
    }

    /// Notes the plan's entries that the apply does not touch.
    pub fn with_plan(mut self, plan: &crate::core::plan::Plan) -> Report {
        use crate::core::plan::Action;
        for e in &plan.entries {
            let why = match e.action {
                Action::Conflict => "in conflict with the existing entry (see the plan; --merge-existing adds what it lacks)",
                Action::Skip if e.is_lossy() => "lossy, held back (--allow-lossy to include)",
                _ => continue,
            };
            self.left_alone.push(format!("{}: {why}", e.principal_arn));
        }
        for i in plan.lossy_rows() {
            let m = &plan.mappings[i];
            let code = m
                .reasons
                .iter()
                .find(|r| r.severity == crate::core::reason::Severity::Lossy)
                .map_or("lossy", |r| r.code.as_str());
            self.left_alone.push(format!(
                "{}#{} {}: {code}, no access entry can carry it; its aws-auth row keeps working until finalize (which refuses unless --accept-gaps names it)",
                m.section,
                m.index.map_or(0, |i| i + 1),
                m.arn.as_deref().unwrap_or("-")
            ));
        }
        self
    }

    pub fn render(&self, width: usize) -> String {
        let mut out = String::new();
        let what = if self.rollback { "Rollback" } else { "Apply" };
        if self.steps == 0 && self.journal.is_none() {
            let mut out = format!(
                "Nothing to apply on {}: the cluster already matches the plan.\n",
                self.cluster
            );
            for l in &self.left_alone {
                out.push_str(&format!("left alone: {l}\n"));
            }
            return out;
        }
        out.push_str(&format!(
            "{what} of {}{}: {} of {} steps done, {} failed, {} skipped, {}{} not attempted{}.\n",
            self.cluster,
            self.migration_id
                .as_deref()
                .map(|m| format!(" ({m})"))
                .unwrap_or_default(),
            self.done,
            self.steps,
            self.failed,
            self.skipped,
            if self.adopted > 0 {
                format!("{} adopted, ", self.adopted)
            } else {
                String::new()
            },
            self.not_attempted,
            if self.interrupted {
                " (interrupted)"
            } else {
                ""
            }
        ));
        if !self.failures.is_empty() {
            // The principal is never split; the reason is wrapped at words.
            let grid = Grid {
                head: ["Step", "Principal", "Why"].map(String::from).to_vec(),
                rows: self
                    .failures
                    .iter()
                    .map(|f| {
                        vec![
                            f.op.clone(),
                            f.target.clone(),
                            format!("{}: {}", f.code, f.message),
                        ]
                    })
                    .collect(),
                principal: 1,
                prose: vec![(2, 1)],
            };
            out.push_str(&grid.render(width.max(60)));
            out.push('\n');
        }
        for i in &self.irreversible {
            out.push_str(&format!("cannot be undone: {i}\n"));
        }
        for a in &self.adopted_entries {
            out.push_str(&format!(
                "adopted: {a}: made by someone else (EKS on the mode switch, or by hand) and already as planned; rollback leaves it\n"
            ));
        }
        for l in &self.left_alone {
            out.push_str(&format!("left alone: {l}\n"));
        }
        if let Some(j) = &self.journal {
            out.push_str(&format!("Journal: {}\n", j.display()));
            if self.rollback {
                if !self.complete() {
                    out.push_str(&format!(
                        "Finish the rollback: aws-auth-migrate rollback {}\n",
                        j.display()
                    ));
                }
            } else {
                if !self.complete() {
                    out.push_str(&format!(
                        "Resume:   aws-auth-migrate apply --resume {}\n",
                        j.display()
                    ));
                }
                out.push_str(&format!(
                    "Undo:     aws-auth-migrate rollback {}\n",
                    j.display()
                ));
            }
        }
        out
    }
}
