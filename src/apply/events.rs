//! What an apply or rollback tells the person or script watching: a
//! progress bar on a terminal, plain lines otherwise, or one JSON object per
//! line with `--output json`. Everything goes to stderr except JSON events,
//! which go to stdout for scripts.

use std::io::Write;
use std::sync::{Arc, Mutex};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::json;

use crate::core::steps::{Outcome, Step};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Bar,
    Plain,
    Json,
    /// Print nothing; hand each event (as the JSON object `Json` prints)
    /// to the observer, if any. `batch` runs clusters this way.
    Quiet,
}

/// Receives the events of a [`Mode::Quiet`] run.
#[derive(Clone)]
pub struct Observer(pub Arc<dyn Fn(&serde_json::Value) + Send + Sync>);

impl std::fmt::Debug for Observer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Observer")
    }
}

pub struct Events {
    mode: Mode,
    bar: Mutex<Option<ProgressBar>>,
    observer: Option<Observer>,
}

impl Events {
    pub fn new(mode: Mode) -> Events {
        Events::with_observer(mode, None)
    }

    pub fn with_observer(mode: Mode, observer: Option<Observer>) -> Events {
        Events {
            mode,
            bar: Mutex::new(None),
            observer,
        }
    }

    fn observe(&self, v: serde_json::Value) {
        if let Some(o) = &self.observer {
            (o.0)(&v);
        }
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Starts a phase of `total` steps.
    pub fn phase(&self, name: &str, total: u64) {
        match self.mode {
            Mode::Bar => {
                let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
                let style = ProgressStyle::with_template(
                    "{prefix:>10} [{bar:30}] {pos}/{len} steps, {per_sec}, ETA {eta} {msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> ");
                bar.set_style(style);
                bar.set_prefix(name.to_string());
                if let Ok(mut b) = self.bar.lock() {
                    *b = Some(bar);
                }
            }
            Mode::Plain => eprintln!("{name}: {total} steps"),
            Mode::Json => emit(json!({"event": "phase", "phase": name, "steps": total})),
            Mode::Quiet => self.observe(json!({"event": "phase", "phase": name, "steps": total})),
        }
    }

    pub fn step(&self, step: &Step, outcome: &Outcome) {
        let target = step.principal_arn().unwrap_or("cluster");
        let (status, detail) = match outcome {
            Outcome::Done { .. } => ("done", String::new()),
            Outcome::Failed { code, message } => ("failed", format!("{code}: {message}")),
            Outcome::Skipped {
                reason,
                adopted: true,
            } => ("adopted", reason.clone()),
            Outcome::Skipped { reason, .. } => ("skipped", reason.clone()),
        };
        match self.mode {
            Mode::Bar => {
                if let Ok(b) = self.bar.lock() {
                    if let Some(bar) = b.as_ref() {
                        bar.inc(1);
                        if status != "done" {
                            bar.println(format!("{status} {} {target}: {detail}", step.op()));
                        }
                    }
                }
            }
            Mode::Plain => {
                if detail.is_empty() {
                    eprintln!("{status} {} {target}", step.op());
                } else {
                    eprintln!("{status} {} {target}: {detail}", step.op());
                }
            }
            Mode::Json => emit(json!({
                "event": "step", "op": step.op(), "principal_arn": step.principal_arn(),
                "status": status, "detail": detail,
            })),
            Mode::Quiet => self.observe(json!({
                "event": "step", "op": step.op(), "principal_arn": step.principal_arn(),
                "status": status, "detail": detail,
            })),
        }
    }

    pub fn message(&self, text: &str) {
        match self.mode {
            Mode::Bar => match self.bar.lock().ok().and_then(|b| b.clone()) {
                Some(bar) => bar.println(text),
                None => eprintln!("{text}"),
            },
            Mode::Plain => eprintln!("{text}"),
            Mode::Json => emit(json!({"event": "message", "message": text})),
            Mode::Quiet => self.observe(json!({"event": "message", "message": text})),
        }
    }

    pub fn finish(&self) {
        if let Ok(mut b) = self.bar.lock() {
            if let Some(bar) = b.take() {
                bar.finish_and_clear();
            }
        }
    }
}

fn emit(v: serde_json::Value) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{v}");
    let _ = out.flush();
}
