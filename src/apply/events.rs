//! What an apply or rollback tells the person or script watching: a
//! progress bar on a terminal, plain lines otherwise, or one JSON object per
//! line with `--output json`. Everything goes to stderr except JSON events,
//! which go to stdout for scripts.

use std::io::Write;
use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::json;

use crate::core::steps::{Outcome, Step};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Bar,
    Plain,
    Json,
}

pub struct Events {
    mode: Mode,
    bar: Mutex<Option<ProgressBar>>,
}

impl Events {
    pub fn new(mode: Mode) -> Events {
        Events {
            mode,
            bar: Mutex::new(None),
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
        }
    }

    pub fn step(&self, step: &Step, outcome: &Outcome) {
        let target = step.principal_arn().unwrap_or("cluster");
        let (status, detail) = match outcome {
            Outcome::Done { .. } => ("done", String::new()),
            Outcome::Failed { code, message } => ("failed", format!("{code}: {message}")),
            Outcome::Skipped { reason } => ("skipped", reason.clone()),
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
