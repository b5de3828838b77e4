//! What the commands that change a cluster show while they run and ask
//! before they do: the events of an apply or rollback as a progress bar on
//! a terminal, plain lines otherwise, or one JSON object per line with
//! `--output json` (everything to stderr except the JSON events, which go
//! to stdout for scripts); and the confirmation prompt.

use std::io::Write;
use std::sync::Mutex;

use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::apply::events::{step_status, Event, EventSink};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Bar,
    Plain,
    Json,
}

/// Prints the events of a run as `mode` says.
pub(crate) struct Printer {
    mode: Mode,
    bar: Mutex<Option<ProgressBar>>,
}

impl Printer {
    pub(crate) fn new(mode: Mode) -> Printer {
        Printer {
            mode,
            bar: Mutex::new(None),
        }
    }

    fn phase(&self, name: &str, total: u64) {
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

    fn bar_step(&self, line: &str, done: bool) {
        if let Ok(b) = self.bar.lock() {
            if let Some(bar) = b.as_ref() {
                bar.inc(1);
                if !done {
                    bar.println(line);
                }
            }
        }
    }

    fn finish(&self) {
        if let Ok(mut b) = self.bar.lock() {
            if let Some(bar) = b.take() {
                bar.finish_and_clear();
            }
        }
    }
}

impl EventSink for Printer {
    fn event(&self, event: &Event<'_>) {
        match (*event, self.mode) {
            (Event::Notice(text), _) => eprintln!("notice: {text}"),
            (Event::Finish, _) => self.finish(),
            (e, Mode::Json) => {
                if let Some(v) = e.to_json() {
                    emit(v);
                }
            }
            (Event::Phase { name, steps }, Mode::Bar) => self.phase(name, steps),
            (Event::Phase { name, steps }, Mode::Plain) => eprintln!("{name}: {steps} steps"),
            (Event::Step { step, outcome }, mode) => {
                let target = step.principal_arn().unwrap_or("cluster");
                let (status, detail) = step_status(outcome);
                if mode == Mode::Bar {
                    self.bar_step(
                        &format!("{status} {} {target}: {detail}", step.op()),
                        status == "done",
                    );
                } else if detail.is_empty() {
                    eprintln!("{status} {} {target}", step.op());
                } else {
                    eprintln!("{status} {} {target}: {detail}", step.op());
                }
            }
            (Event::Message(text), Mode::Bar) => {
                match self.bar.lock().ok().and_then(|b| b.clone()) {
                    Some(bar) => bar.println(text),
                    None => eprintln!("{text}"),
                }
            }
            (Event::Message(text), Mode::Plain) => eprintln!("{text}"),
        }
    }
}

fn emit(v: serde_json::Value) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{v}");
    let _ = out.flush();
}

/// Confirmation: `--yes`, or a typed "yes" on a terminal; refused otherwise.
pub(crate) fn confirm(question: &str, yes: bool) -> Result<()> {
    use std::io::{BufRead, IsTerminal};
    if yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        bail!("refusing to change the cluster without confirmation: standard input is not a terminal; pass --yes to confirm");
    }
    eprint!("{question} Type yes to go on: ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read the answer")?;
    if line.trim() != "yes" {
        bail!("not confirmed: nothing was changed");
    }
    Ok(())
}
