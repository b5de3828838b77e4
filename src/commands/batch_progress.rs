//! The fleet's progress as `batch` shows it: on a terminal one indicatif
//! `MultiProgress` (an overall bar and a bar per active cluster); otherwise,
//! or with `--progress json`, one JSON object per line on standard error.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::{json, Value};

use crate::apply::events::{Event, EventSink};
use crate::batch::progress::{self, FleetProgress, StartProgress};
use crate::batch::report::ClusterResult;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProgressMode {
    Bars,
    Json,
}

struct Bars {
    multi: MultiProgress,
    overall: ProgressBar,
}

pub(crate) struct Progress {
    mode: ProgressMode,
    bars: Option<Bars>,
    out: Mutex<()>,
}

/// One cluster's share of the display.
#[derive(Clone)]
pub(crate) struct ClusterProgress {
    fleet: Arc<Progress>,
    name: String,
    bar: Option<ProgressBar>,
}

impl Progress {
    pub(crate) fn new(mode: ProgressMode, command: &str, total: usize) -> Arc<Progress> {
        let bars = (mode == ProgressMode::Bars).then(|| {
            let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
            let overall = multi.add(ProgressBar::new(total as u64));
            overall.set_style(
                ProgressStyle::with_template(
                    "{prefix:>12} [{bar:30}] {pos}/{len} clusters, {elapsed} {msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            overall.set_prefix(format!("batch {command}"));
            Bars { multi, overall }
        });
        let p = Arc::new(Progress {
            mode,
            bars,
            out: Mutex::new(()),
        });
        p.emit(json!({"event": "fleet_start", "command": command, "clusters": total}));
        p
    }

    fn emit(&self, v: Value) {
        if self.mode == ProgressMode::Json {
            let _guard = self.out.lock();
            let mut err = std::io::stderr().lock();
            let _ = writeln!(err, "{v}");
            let _ = err.flush();
        }
    }

    pub(crate) fn start(self: &Arc<Self>, name: &str) -> ClusterProgress {
        self.emit(json!({"event": "cluster_start", "cluster": name}));
        let bar = self.bars.as_ref().map(|b| {
            let bar = b
                .multi
                .insert_before(&b.overall, ProgressBar::new_spinner());
            bar.set_style(
                ProgressStyle::with_template("{prefix:>24} {spinner} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.set_prefix(short(name, 24));
            bar.set_message("connecting");
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        ClusterProgress {
            fleet: self.clone(),
            name: name.to_string(),
            bar,
        }
    }

    pub(crate) fn finish(&self, summary_line: &str, exit_code: i32) {
        if let Some(b) = &self.bars {
            b.overall.finish_and_clear();
            let _ = b.multi.clear();
        }
        self.emit(json!({"event": "fleet_done", "summary": summary_line, "exit_code": exit_code}));
    }
}

fn short(name: &str, max: usize) -> String {
    if name.chars().count() <= max {
        name.to_string()
    } else {
        let tail: String = name
            .chars()
            .skip(name.chars().count() - (max - 1))
            .collect();
        format!("…{tail}")
    }
}

/// The fleet's progress shown as `mode` says, made when the run starts.
pub(crate) fn start(mode: ProgressMode) -> StartProgress {
    Arc::new(move |command: &str, total: usize| {
        Arc::new(Display(Progress::new(mode, command, total))) as Arc<dyn FleetProgress>
    })
}

/// [`Progress`] as the batch run sees it.
struct Display(Arc<Progress>);

impl FleetProgress for Display {
    fn start(&self, cluster: &str) -> Arc<dyn progress::ClusterProgress> {
        Arc::new(self.0.start(cluster))
    }

    fn finish(&self, summary_line: &str, exit_code: i32) {
        self.0.finish(summary_line, exit_code);
    }
}

impl progress::ClusterProgress for ClusterProgress {
    fn phase(&self, what: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(what.to_string());
        }
        self.fleet
            .emit(json!({"event": "cluster_phase", "cluster": self.name, "phase": what}));
    }

    fn done(&self, result: &ClusterResult) {
        self.finish(result);
    }
}

impl ClusterProgress {
    fn observe(&self, v: &Value) {
        if let Some(bar) = &self.bar {
            match v["event"].as_str() {
                Some("phase") => {
                    bar.set_style(
                        ProgressStyle::with_template(
                            "{prefix:>24} [{bar:20}] {pos}/{len} steps {msg}",
                        )
                        .unwrap_or_else(|_| ProgressStyle::default_bar())
                        .progress_chars("=> "),
                    );
                    bar.set_length(v["steps"].as_u64().unwrap_or(0));
                    bar.set_position(0);
                    bar.set_message(v["phase"].as_str().unwrap_or("").to_string());
                }
                Some("step") => bar.inc(1),
                _ => {}
            }
        }
        if self.fleet.mode == ProgressMode::Json {
            let mut v = v.clone();
            if let Some(o) = v.as_object_mut() {
                o.insert("cluster".into(), Value::String(self.name.clone()));
            }
            self.fleet.emit(v);
        }
    }

    fn finish(&self, result: &ClusterResult) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
            if let Some(b) = &self.fleet.bars {
                b.multi.remove(bar);
                b.overall.inc(1);
                if result.status.failed() {
                    b.overall.println(format!(
                        "{}: {}{}",
                        result.name,
                        result.status.as_str(),
                        result
                            .error
                            .as_deref()
                            .map(|e| format!(": {e}"))
                            .unwrap_or_default()
                    ));
                }
            }
        }
        self.fleet.emit(json!({
            "event": "cluster_done", "cluster": self.name, "status": result.status,
            "note": result.note, "error": result.error, "elapsed_ms": result.elapsed_ms,
        }));
    }
}

/// The sink handed to apply and rollback: their phases and steps move this
/// cluster's bar, or become events naming the cluster.
impl EventSink for ClusterProgress {
    fn event(&self, event: &Event<'_>) {
        match event {
            // As the single-cluster commands say it, on standard error.
            Event::Notice(text) => eprintln!("notice: {text}"),
            e => {
                if let Some(v) = e.to_json() {
                    self.observe(&v);
                }
            }
        }
    }
}
