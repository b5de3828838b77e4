//! One execution: the journal (new, or appended to on resume), the
//! cluster's lock, the cancel flag that Ctrl-C sets, and the workers that
//! run each principal's steps, `concurrency` principals at a time.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use anyhow::{anyhow, bail, Result};
use tokio::sync::Semaphore;
use tokio::task::{JoinHandle, JoinSet};

use crate::aws::{Clients, ClusterFacts};
use crate::core::diff;
use crate::core::plan::Plan;
use crate::core::steps::{self, Step};
use crate::journal::{self, ClusterLock, Command, Header, Journal};

use super::events::Events;
use super::exec::{Backoff, Executor, StepResult};
use super::run_file::{write_run_file, RunFile};
use super::{cluster_info, new_migration_id, pacer, Presentation};

/// Everything one execution needs.
pub struct Run {
    pub clients: Clients,
    pub facts: ClusterFacts,
    pub journal: Arc<Journal>,
    pub journal_path: PathBuf,
    pub migration_id: String,
    pub events: Events,
    pub cancel: Arc<AtomicBool>,
    pub concurrency: std::num::NonZeroUsize,
    _lock: ClusterLock,
    /// The Ctrl-C watcher of this run, stopped with it.
    ctrl_c: Option<JoinHandle<()>>,
}

impl Drop for Run {
    fn drop(&mut self) {
        if let Some(watcher) = self.ctrl_c.take() {
            watcher.abort();
        }
    }
}

impl Run {
    /// From now until the run ends, an interrupt (Ctrl-C) sets the cancel
    /// flag: no new step starts, calls in flight finish and are journaled.
    pub fn watch_ctrl_c(&mut self) {
        let (cancel, events) = (self.cancel.clone(), self.events.clone());
        self.ctrl_c = Some(tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                cancel.store(true, Ordering::SeqCst);
                events.message("interrupted: no new step starts; finishing the calls in flight");
            }
        }));
    }

    pub fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::SeqCst)
    }

    pub(crate) fn executor(&self, plan: Option<&Plan>) -> Executor {
        let prior: HashMap<String, diff::ExistingEntry> = plan
            .and_then(|p| p.existing.as_ref())
            .map(|list| {
                list.iter()
                    .map(|e| (e.principal_arn.clone(), e.clone()))
                    .collect()
            })
            .unwrap_or_default();
        Executor {
            eks: self.clients.access_writer(),
            cluster: self.facts.name.clone(),
            journal: self.journal.clone(),
            backoff: Backoff::default(),
            cancel: self.cancel.clone(),
            events: self.events.clone(),
            prior,
            calls: AtomicU64::new(0),
            pacer: pacer::Pacer::default(),
        }
    }

    /// Runs steps: each principal's in order, `concurrency` principals at a time.
    pub async fn execute(
        &self,
        plan: Option<&Plan>,
        steps: &[Step],
        phase: &str,
    ) -> Result<Vec<StepResult>> {
        if steps.is_empty() {
            return Ok(Vec::new());
        }
        self.events.phase(phase, steps.len() as u64);
        let executor = Arc::new(self.executor(plan));
        let permits = Arc::new(Semaphore::new(self.concurrency.get()));
        let mut tasks = JoinSet::new();
        for (i, group) in steps::by_principal(steps).into_iter().enumerate() {
            let executor = executor.clone();
            let permits = permits.clone();
            tasks.spawn(async move {
                let _permit = permits.acquire_owned().await.ok();
                (i, executor.run_all(&group).await)
            });
        }
        let mut by_group: Vec<(usize, Vec<StepResult>)> = Vec::new();
        let mut journal_error = None;
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok((i, Ok(results))) => by_group.push((i, results)),
                Ok((_, Err(e))) => {
                    // The journal cannot be written: stop starting anything.
                    self.cancel.store(true, Ordering::SeqCst);
                    journal_error.get_or_insert(e);
                }
                Err(e) => bail!("a worker failed: {e}"),
            }
        }
        self.events.finish();
        if let Some(e) = journal_error {
            return Err(
                anyhow!(e).context("the journal could not be written, so the apply stopped")
            );
        }
        by_group.sort_by_key(|(i, _)| *i);
        Ok(by_group.into_iter().flat_map(|(_, r)| r).collect())
    }

    /// Runs the switch to `API_AND_CONFIG_MAP` and adds its result to
    /// `results`; false when the run stops there (the switch did not take
    /// effect, or an interrupt came).
    pub(crate) async fn switch_mode(
        &self,
        step: Step,
        results: &mut Vec<StepResult>,
    ) -> Result<bool> {
        let r = self.execute(None, &[step], "switch").await?;
        let ok = r.iter().all(|x| x.outcome.took_effect());
        results.extend(r);
        Ok(ok && !self.cancelled())
    }
}

/// Which journal a run writes.
pub enum JournalSpec {
    /// A new journal: at `path`, or the default location.
    New {
        path: Option<PathBuf>,
        migration_id: Option<String>,
        command: Command,
        rollback_of: Option<String>,
        /// Written beside the journal before the journal itself, so a
        /// journal never exists without the inputs `--resume` needs.
        run_file: Option<Box<RunFile>>,
    },
    /// Append to an existing journal (resume).
    Append(PathBuf),
}

/// Opens the journal (new, or appended to when resuming) and takes the lock.
pub(crate) fn start_run(
    clients: Clients,
    facts: ClusterFacts,
    presentation: &Presentation,
    spec: JournalSpec,
    concurrency: std::num::NonZeroUsize,
) -> Result<(Run, Option<journal::JournalContents>)> {
    let info = cluster_info(&facts);
    let lock = ClusterLock::acquire(&journal::state_dir()?, &info.lock_key())
        .map_err(|e| anyhow!(e).context("another run holds this cluster's lock"))?;
    let events = presentation.events.clone();
    if let Some(m) = lock.message() {
        events.message(&m);
    }
    let (journal, contents, path, migration_id) = match spec {
        JournalSpec::Append(path) => {
            let (j, contents) = Journal::open_append(&path)?;
            let id = contents.header.migration_id.clone();
            (j, Some(contents), path, id)
        }
        JournalSpec::New {
            path,
            migration_id,
            command,
            rollback_of,
            run_file,
        } => {
            let id = migration_id.unwrap_or_else(new_migration_id);
            let path = match path {
                Some(p) => p,
                None => journal::default_path(&facts.name, &id)?,
            };
            if journal::exists(&path)? {
                bail!(
                    "{} exists: give another --journal, or resume it with --resume",
                    path.display()
                );
            }
            if let Some(rf) = run_file {
                write_run_file(&path, &rf)?;
            }
            let mut header = Header::new(env!("CARGO_PKG_VERSION"), &id, info, command);
            header.rollback_of = rollback_of;
            (Journal::create(&path, header)?, None, path, id)
        }
    };
    Ok((
        Run {
            clients,
            facts,
            journal: Arc::new(journal),
            journal_path: path,
            migration_id,
            events,
            cancel: Arc::new(AtomicBool::new(false)),
            concurrency,
            _lock: lock,
            ctrl_c: None,
        },
        contents,
    ))
}
