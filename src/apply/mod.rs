//! `apply` and `rollback`: the commands that change a cluster. Every change
//! is a [`Step`] journaled before and after its call ([`crate::journal`]);
//! the executor ([`exec`]) runs them; [`events`] reports progress.
//!
//! Files of one run, side by side: the journal (`…jsonl`, the rollback
//! record) and its run file (`…jsonl.run.json`: the inputs and the plan
//! being executed, so `--resume` finishes exactly that plan). Both 0600.

pub mod events;
pub mod exec;
pub mod pacer;
pub mod report;
pub mod rollback;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use anyhow::{anyhow, bail, Context, Result};
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::aws::{AwsOptions, Clients, ClusterFacts};
use crate::core::cluster::AuthMode;
use crate::core::diff::{self, sha256_hex, Fingerprint};
use crate::core::plan::{Action, Plan};
use crate::core::review;
use crate::core::steps::{self, Step};
use crate::files;
use crate::journal::{self, ClusterInfo, ClusterLock, Command, Header, Journal};
use crate::live::{self, LiveOptions};

use events::Events;
use exec::{Backoff, Executor, StepResult};
use report::Report;

/// What an apply was asked to do; saved in the run file so `--resume`
/// can read the cluster again the same way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplyInputs {
    pub cluster: String,
    pub region: Option<String>,
    pub profile: Option<String>,
    pub role_arn: Option<String>,
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    /// `--allow-unverified-context` (absent in older run files: false).
    #[serde(default)]
    pub allow_unverified_context: bool,
    pub file: Option<String>,
    pub policy_map: Option<PathBuf>,
    pub allow_lossy: bool,
    pub merge_existing: bool,
    pub concurrency: std::num::NonZeroUsize,
    pub iam_role_for: Vec<String>,
    pub enable_access_entries: bool,
}

impl ApplyInputs {
    pub fn live_options(&self) -> Result<LiveOptions> {
        LiveOptions::from_flags(live::LiveFlags {
            cluster: &self.cluster,
            aws: self.aws(),
            kube: live::kube_target(
                self.kubeconfig.clone(),
                self.context.clone(),
                crate::kube::Unverified::from_flag(self.allow_unverified_context, true),
            ),
            file: self.file.as_deref(),
            concurrency: self.concurrency,
            iam_role_for: &self.iam_role_for,
            policy_map: self.policy_map.as_deref(),
            allow_lossy: self.allow_lossy,
            merge_existing: self.merge_existing,
        })
    }

    pub fn aws(&self) -> AwsOptions {
        AwsOptions {
            profile: self.profile.clone(),
            region: self.region.clone(),
            role_arn: self.role_arn.clone(),
        }
    }
}

/// The run file beside a journal.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunFile {
    pub format_version: String,
    pub inputs: ApplyInputs,
    /// The plan whose steps run; set once the mode switch (if any) is done.
    pub plan: Option<Plan>,
}

pub fn run_file_path(journal: &Path) -> PathBuf {
    let mut s = journal.as_os_str().to_owned();
    s.push(".run.json");
    PathBuf::from(s)
}

fn write_run_file(journal: &Path, run: &RunFile) -> Result<()> {
    let bytes = serde_json::to_vec_pretty(run).context("cannot encode the run file")?;
    files::write_private(&run_file_path(journal), &bytes)
}

fn read_run_file(journal: &Path) -> Result<RunFile> {
    let path = run_file_path(journal);
    let bytes = std::fs::read(&path).with_context(|| {
        format!(
            "cannot read {} (the run file written beside the journal)",
            path.display()
        )
    })?;
    serde_json::from_slice(&bytes).with_context(|| format!("{} is not a run file", path.display()))
}

/// How the person or script asked to be told.
#[derive(Debug, Clone)]
pub struct Presentation {
    pub events: events::Mode,
    pub yes: bool,
    pub journal: Option<PathBuf>,
    /// With [`events::Mode::Quiet`]: who is told of each event (`batch`).
    pub observer: Option<events::Observer>,
}

/// A new migration id: UTC time and a random suffix.
pub fn new_migration_id() -> String {
    let now = chrono::Utc::now();
    let salt = format!(
        "{}-{}",
        now.timestamp_nanos_opt().unwrap_or(0),
        std::process::id()
    );
    let hex = sha256_hex(salt.as_bytes());
    format!("mig-{}-{}", now.format("%Y%m%dT%H%M%SZ"), &hex[..6])
}

pub fn cluster_info(facts: &ClusterFacts) -> ClusterInfo {
    ClusterInfo {
        name: facts.name.clone(),
        region: facts.region.clone(),
        account: facts.account.clone(),
        arn: facts.arn.clone(),
    }
}

pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// An EKS client for mutations: no SDK retries, the executor retries
/// itself (with the journal in between, and idempotent re-sends).
pub fn mutation_client(clients: &Clients) -> aws_sdk_eks::Client {
    let conf = aws_sdk_eks::config::Builder::from(&clients.config)
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .build();
    aws_sdk_eks::Client::from_conf(conf)
}

/// Interrupts (Ctrl-C) set the flag: no new step starts, calls in flight
/// finish and are journaled.
fn watch_ctrl_c(cancel: Arc<AtomicBool>, events: Arc<Events>) {
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            cancel.store(true, Ordering::SeqCst);
            events.message("interrupted: no new step starts; finishing the calls in flight");
        }
    });
}

/// Confirmation: `--yes`, or a typed "yes" on a terminal; refused otherwise.
pub fn confirm(question: &str, yes: bool) -> Result<()> {
    use std::io::{BufRead, IsTerminal, Write};
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

/// Everything one execution needs.
pub struct Run {
    pub clients: Clients,
    pub facts: ClusterFacts,
    pub journal: Arc<Journal>,
    pub journal_path: PathBuf,
    pub migration_id: String,
    pub events: Arc<Events>,
    pub cancel: Arc<AtomicBool>,
    pub concurrency: std::num::NonZeroUsize,
    _lock: ClusterLock,
}

impl Run {
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
            eks: mutation_client(&self.clients),
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
pub fn start_run(
    clients: Clients,
    facts: ClusterFacts,
    presentation: &Presentation,
    spec: JournalSpec,
    concurrency: std::num::NonZeroUsize,
) -> Result<(Run, Option<journal::JournalContents>)> {
    let info = cluster_info(&facts);
    let lock = ClusterLock::acquire(&journal::state_dir()?, &info.lock_key())
        .map_err(|e| anyhow!(e).context("another run holds this cluster's lock"))?;
    let events = Arc::new(Events::with_observer(
        presentation.events,
        presentation.observer.clone(),
    ));
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
            if path.exists() {
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
        },
        contents,
    ))
}

/// The entries a saved or fresh plan wants, re-diffed against what exists
/// now (after a mode switch EKS has made node entries of its own).
pub fn rediff(plan: &Plan, existing: &[diff::ExistingEntry], merge: bool) -> Plan {
    let mut p = plan.clone();
    p.entries.retain(|e| e.action != Action::Unmanaged);
    for e in &mut p.entries {
        // An update entry shows the merged result, a superset of what the
        // rows want: diffing it again adds nothing it does not need.
        if e.action != Action::Skip {
            e.action = Action::Create;
        }
        e.diff = None;
    }
    diff::diff(&mut p.entries, existing, merge);
    p.existing = Some(existing.to_vec());
    p.summarize();
    p
}

/// Says on standard error that aws-auth was read through a kube connection
/// that cannot be tied to the cluster (allowed by --allow-unverified-context).
fn context_notice(gathered: &live::LivePlanInputs) {
    if let Some(n) = &gathered.aws_auth.context_notice {
        eprintln!("notice: {n}");
    }
}

/// Applies a plan made now from `inputs`; `show` is handed the plan before
/// anything is asked or changed.
pub fn apply_live_with(
    inputs: ApplyInputs,
    presentation: Presentation,
    show: impl FnOnce(&Plan),
) -> Result<Report> {
    let rt = runtime()?;
    rt.block_on(async move {
        let opts = inputs.live_options()?;
        let clients = Clients::connect(&opts.aws, &opts.iam_roles).await?;
        let gathered = live::gather(&clients, &opts).await?;
        context_notice(&gathered);
        let plan = live::plan(&gathered, &opts.translate, opts.merge_existing)?;
        show(&plan);
        execute_plan(clients, gathered.cluster, plan, inputs, presentation, true).await
    })
}

/// Reads a saved plan and checks its digest (an edit after it was saved
/// is refused as such).
fn read_saved_plan(plan_path: &Path) -> Result<Plan> {
    let bytes =
        std::fs::read(plan_path).with_context(|| format!("cannot read {}", plan_path.display()))?;
    let not_a_plan = || format!("{} is not a plan saved by plan --out", plan_path.display());
    let doc: serde_json::Value = serde_json::from_slice(&bytes).with_context(not_a_plan)?;
    if let Err(e) = review::check_digest(&doc) {
        bail!(
            "the saved plan {} is refused: {e}; plan again and review the new plan",
            plan_path.display()
        );
    }
    serde_json::from_value(doc).with_context(not_a_plan)
}

/// Refuses a saved plan whose decisions differ from those of the plan
/// made now from the cluster with the apply's flags (core::review).
fn check_decisions(plan_path: &Path, saved: &Plan, now: &Plan) -> Result<()> {
    let diffs = review::differences(saved, now);
    let Some(first) = diffs.first() else {
        return Ok(());
    };
    let more = match diffs.len() - 1 {
        0 => String::new(),
        n => format!(
            " (and {n} more difference{})",
            if n == 1 { "" } else { "s" }
        ),
    };
    bail!(
        "the saved plan {} does not match the plan made now from the cluster: {first}{more}; it was changed after review, or planned with other flags (apply needs the --policy-map, --allow-lossy and --merge-existing that plan was given); plan again and review the new plan",
        plan_path.display()
    )
}

/// Applies a saved plan after checking it is not stale and that it is
/// what the cluster gives now: its digest, its fingerprint, and its
/// decisions against a plan made again. What runs is that plan made again
/// (equal in every decision, with the entries as they are now).
pub fn apply_saved(
    plan_path: &Path,
    mut inputs: ApplyInputs,
    presentation: Presentation,
) -> Result<Report> {
    let plan = read_saved_plan(plan_path)?;
    if plan.format_version.split('.').next() != Some("1") {
        bail!(
            "{}: plan format {} is not supported by this version",
            plan_path.display(),
            plan.format_version
        );
    }
    let Some(saved) = plan.fingerprint.clone() else {
        bail!("{} is an offline plan: make one against the cluster (plan --cluster NAME --out FILE) to apply it", plan_path.display());
    };
    let name = plan
        .cluster
        .name
        .clone()
        .ok_or_else(|| anyhow!("the plan names no cluster"))?;
    inputs.cluster = name;
    if inputs.region.is_none() {
        inputs.region = plan.cluster.region.clone();
    }
    if plan.source.kind == "file" {
        inputs.file = plan.source.path.clone();
    } else if plan.source.kind == "stdin" {
        bail!("the plan read aws-auth from standard input, which cannot be read again to check it is current; save aws-auth to a file and plan with --file");
    }
    let rt = runtime()?;
    rt.block_on(async move {
        let opts = inputs.live_options()?;
        let clients = Clients::connect(&opts.aws, &opts.iam_roles).await?;
        let gathered = live::gather(&clients, &opts).await?;
        context_notice(&gathered);
        // The fingerprint is computed as `plan` computes it.
        let fresh = live::plan(&gathered, &opts.translate, opts.merge_existing)?;
        let now: &Fingerprint = fresh
            .fingerprint
            .as_ref()
            .ok_or_else(|| anyhow!("the live plan has no fingerprint"))?;
        let changes = now.changes_since(&saved);
        if !changes.is_empty() {
            bail!(
                "the saved plan is stale: {}; plan again and review the new plan",
                changes.join("; ")
            );
        }
        check_decisions(plan_path, &plan, &fresh)?;
        execute_plan(
            clients,
            gathered.cluster,
            fresh,
            inputs,
            presentation,
            false,
        )
        .await
    })
}

async fn execute_plan(
    clients: Clients,
    facts: ClusterFacts,
    plan: Plan,
    inputs: ApplyInputs,
    presentation: Presentation,
    ask: bool,
) -> Result<Report> {
    let switch = steps::mode_step(&plan);
    if switch.is_some() && !inputs.enable_access_entries {
        bail!(
            "cluster {} is in CONFIG_MAP mode: access entries need API_AND_CONFIG_MAP. Re-run with --enable-access-entries to switch it first (the switch cannot be undone)",
            facts.name
        );
    }
    if !plan.has_changes() && switch.is_none() {
        return Ok(Report::nothing(&facts.name).with_plan(&plan));
    }
    if ask {
        let s = &plan.summary;
        confirm(
            &format!(
                "Apply to cluster {}: {}create {} entries, update {}, associate {} policies?",
                facts.name,
                if switch.is_some() {
                    "switch to API_AND_CONFIG_MAP (irreversible), "
                } else {
                    ""
                },
                s.create,
                s.update,
                s.policies
            ),
            presentation.yes,
        )?;
    }
    let concurrency = inputs.concurrency;
    let spec = JournalSpec::New {
        path: presentation.journal.clone(),
        migration_id: None,
        command: Command::Apply,
        rollback_of: None,
        run_file: Some(Box::new(RunFile {
            format_version: "1".into(),
            inputs: inputs.clone(),
            plan: None,
        })),
    };
    let (run, _) = start_run(clients, facts, &presentation, spec, concurrency)?;
    run.events
        .message(&format!("journal: {}", run.journal_path.display()));
    watch_ctrl_c(run.cancel.clone(), run.events.clone());
    let mut results = Vec::new();
    let mut plan = plan;
    if let Some(step) = switch {
        let r = run.execute(None, &[step], "switch").await?;
        let ok = r.iter().all(|x| x.outcome.took_effect());
        results.extend(r);
        if !ok || run.cancel.load(Ordering::SeqCst) {
            return Ok(Report::new(
                &run,
                results,
                steps_total(&plan, &run.migration_id)?,
            ));
        }
        // EKS made entries of its own during the switch: read them and
        // re-diff, so nothing collides with them.
        let existing = run
            .clients
            .eks
            .existing_entries(&run.facts.name, concurrency)
            .await?;
        plan = rediff(&plan, &existing, inputs.merge_existing);
        plan.cluster.authentication_mode = Some(AuthMode::ApiAndConfigMap);
    }
    write_run_file(
        &run.journal_path,
        &RunFile {
            format_version: "1".into(),
            inputs,
            plan: Some(plan.clone()),
        },
    )?;
    let todo = steps::steps_for(&plan, &run.migration_id, env!("CARGO_PKG_VERSION"))
        .map_err(|e| anyhow!(e))?;
    let total = todo.len() + results.len();
    results.extend(run.execute(Some(&plan), &todo, "apply").await?);
    Ok(Report::new(&run, results, total).with_plan(&plan))
}

fn steps_total(plan: &Plan, id: &str) -> Result<usize> {
    Ok(steps::steps_for(plan, id, env!("CARGO_PKG_VERSION"))
        .map_err(|e| anyhow!(e))?
        .len()
        + 1)
}

/// Writes an outcome for every step of `contents` that has an intent and
/// no outcome, from the state observed now (never a guess). The caller
/// holds the cluster's lock, so no other run writes that journal. A mode
/// switch still running (the cluster `UPDATING`, still in the mode it left)
/// is waited for, then observed again: its outcome is always written.
pub async fn settle_pending(
    run: &Run,
    journal: &Journal,
    contents: &journal::JournalContents,
) -> Result<usize> {
    let mut settled = 0;
    for intent in journal::pending(contents) {
        let outcome = match &intent.step {
            Step::EnableAccessEntries { .. } => {
                let f = run.clients.eks.describe_cluster(&run.facts.name).await?;
                let mut s =
                    steps::settle_mode(&intent.step, &f.authentication_mode, f.is_updating());
                if s == steps::Settled::InProgress {
                    run.events.message(&format!(
                        "the switch to API_AND_CONFIG_MAP sent before the interruption is still running on {}: waiting for it to end",
                        run.facts.name
                    ));
                    let f = wait_while_updating(run).await?;
                    s = steps::settle_mode(&intent.step, &f.authentication_mode, false);
                }
                s
            }
            step => {
                let p = step.principal_arn().unwrap_or_default();
                let observed = run.clients.eks.existing_entry(&run.facts.name, p).await?;
                steps::settle(step, observed.as_ref())
            }
        };
        if let Some(o) = outcome.to_outcome() {
            journal.outcome(intent.seq, o)?;
            settled += 1;
        }
    }
    Ok(settled)
}

/// Polls DescribeCluster until the cluster is no longer `UPDATING`.
async fn wait_while_updating(run: &Run) -> Result<ClusterFacts> {
    let started = std::time::Instant::now();
    loop {
        tokio::time::sleep(exec::poll_interval()).await;
        let f = run.clients.eks.describe_cluster(&run.facts.name).await?;
        if !f.is_updating() {
            return Ok(f);
        }
        if started.elapsed() > exec::MAX_UPDATE_WAIT {
            bail!(
                "cluster {} is still UPDATING after an hour: resume again once its update has ended",
                run.facts.name
            );
        }
    }
}

/// The entries of `principals` as they are now (`None`: no entry): one
/// ListAccessEntries, then a describe of each listed one, `concurrency` at
/// a time.
async fn observe(
    run: &Run,
    principals: Vec<String>,
) -> Result<HashMap<String, Option<diff::ExistingEntry>>> {
    let mut out: HashMap<String, Option<diff::ExistingEntry>> = HashMap::new();
    if principals.is_empty() {
        return Ok(out);
    }
    let listed: std::collections::HashSet<String> = run
        .clients
        .eks
        .list_access_entries(&run.facts.name)
        .await?
        .into_iter()
        .map(|p| p.to_lowercase())
        .collect();
    let permits = Arc::new(Semaphore::new(run.concurrency.get()));
    let mut tasks = JoinSet::new();
    for p in principals {
        if !listed.contains(&p.to_lowercase()) {
            out.insert(p, None);
            continue;
        }
        let eks = run.clients.eks.clone();
        let cluster = run.facts.name.clone();
        let permits = permits.clone();
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await.ok();
            let found = eks.existing_entry(&cluster, &p).await;
            (p, found)
        });
    }
    while let Some(joined) = tasks.join_next().await {
        let (p, found) = joined.map_err(|e| anyhow!("a worker failed: {e}"))?;
        out.insert(p, found?);
    }
    Ok(out)
}

/// What `--resume` does with the steps of the plan that have not taken
/// effect, before running any: a step the journal has as diverged is
/// reported, never redone; the others are compared with what exists now
/// ([`steps::reconcile`]), so an entry someone else made since is adopted
/// when it is what the plan wants and reported otherwise, never created
/// again. Returns the results of the steps settled without a call (each
/// journaled), the steps to run, and how many are not attempted.
async fn reconcile_remaining(
    run: &Run,
    todo: &[Step],
    diverged: &[(Step, steps::Outcome)],
) -> Result<(Vec<StepResult>, Vec<Step>, usize)> {
    let groups = steps::by_principal(todo);
    let principals: Vec<String> = groups
        .iter()
        .filter(|g| !g.iter().any(|s| diverged.iter().any(|(d, _)| d == s)))
        .filter_map(|g| {
            g.first()
                .and_then(|s| s.principal_arn())
                .map(str::to_string)
        })
        .collect();
    let observed = observe(run, principals).await?;
    let (mut results, mut to_run, mut not_attempted) = (Vec::new(), Vec::new(), 0);
    for group in groups {
        if let Some((step, outcome)) = group
            .iter()
            .find_map(|s| diverged.iter().find(|(d, _)| d == s))
        {
            // Someone else changed it: neither redone nor undone. The
            // principal's other steps wait for a person.
            run.events.step(step, outcome);
            results.push(StepResult {
                step: step.clone(),
                outcome: outcome.clone(),
            });
            not_attempted += group.len() - 1;
            continue;
        }
        let Some(p) = group.first().and_then(|s| s.principal_arn()) else {
            to_run.extend(group);
            continue;
        };
        let now = observed.get(p).cloned().flatten();
        let verdicts = steps::reconcile(&group, now.as_ref());
        let blocked = verdicts
            .iter()
            .any(|v| matches!(v, steps::Reconciled::Diverged(_)));
        not_attempted += group.len() - verdicts.len();
        for (step, verdict) in group.iter().zip(verdicts) {
            let outcome = match verdict {
                steps::Reconciled::Run if blocked => {
                    not_attempted += 1;
                    continue;
                }
                steps::Reconciled::Run => {
                    to_run.push(step.clone());
                    continue;
                }
                steps::Reconciled::Done => steps::Settled::Done
                    .to_outcome()
                    .ok_or_else(|| anyhow!("a done step has an outcome"))?,
                steps::Reconciled::Adopted(reason) => steps::Outcome::Skipped {
                    reason,
                    adopted: true,
                },
                steps::Reconciled::Diverged(why) => steps::Settled::Diverged(why)
                    .to_outcome()
                    .ok_or_else(|| anyhow!("a diverged step has an outcome"))?,
            };
            let seq = run.journal.intent(step, now.as_ref())?;
            run.journal.outcome(seq, outcome.clone())?;
            run.events.step(step, &outcome);
            results.push(StepResult {
                step: step.clone(),
                outcome,
            });
        }
    }
    Ok((results, to_run, not_attempted))
}

/// `apply --resume JOURNAL`: settles the steps whose outcome was never
/// written by reading the real state (waiting for a mode switch still
/// running), then compares what is left of the plan with what exists now
/// and runs what is missing.
pub fn resume(
    journal_path: &Path,
    flags: ApplyInputs,
    presentation: Presentation,
) -> Result<Report> {
    let contents = journal::read(journal_path)?;
    if contents.header.command != Command::Apply {
        bail!(
            "{} is a rollback journal: resume a rollback with aws-auth-migrate rollback --resume",
            journal_path.display()
        );
    }
    let run_file = read_run_file(journal_path)?;
    let mut inputs = run_file.inputs.clone();
    // Credentials and endpoints may differ from the first run.
    if flags.profile.is_some() {
        inputs.profile = flags.profile;
    }
    if flags.kubeconfig.is_some() {
        inputs.kubeconfig = flags.kubeconfig;
    }
    if flags.context.is_some() {
        inputs.context = flags.context;
    }
    if flags.allow_unverified_context {
        inputs.allow_unverified_context = true;
    }
    let rt = runtime()?;
    rt.block_on(async move {
        let opts = inputs.live_options()?;
        let clients = Clients::connect(&opts.aws, &opts.iam_roles).await?;
        let (facts, _) = live::cluster_and_caller(&clients, &inputs.cluster).await?;
        let concurrency = inputs.concurrency;
        let spec = JournalSpec::Append(journal_path.to_path_buf());
        let (run, contents) = start_run(clients, facts, &presentation, spec, concurrency)?;
        let contents = contents.ok_or_else(|| anyhow!("the journal could not be read back"))?;
        run.events.message(&format!(
            "resuming {} from {}",
            run.migration_id,
            run.journal_path.display()
        ));
        watch_ctrl_c(run.cancel.clone(), run.events.clone());
        // Settle what was interrupted.
        let settled = settle_pending(&run, &run.journal, &contents).await?;
        if settled > 0 {
            run.events.message(&format!(
                "settled {settled} interrupted step(s) from the cluster's state"
            ));
        }
        let contents = journal::read(journal_path)?;
        let done: Vec<Step> = journal::effective(&contents)
            .into_iter()
            .filter(|(_, o)| o.took_effect())
            .map(|(s, _)| s)
            .collect();
        let diverged = journal::diverged(&contents);
        let mut results = Vec::new();
        let plan = match run_file.plan {
            Some(p) => p,
            None => {
                // Interrupted before the entries: switch if still needed
                // (the mode as it is now, after settling), then plan now,
                // so the plan sees the entries EKS made on the switch.
                let now = run.clients.eks.describe_cluster(&run.facts.name).await?;
                if now.authentication_mode == AuthMode::ConfigMap {
                    let switch = Step::EnableAccessEntries {
                        from_mode: AuthMode::ConfigMap,
                    };
                    let r = run.execute(None, &[switch], "switch").await?;
                    let ok = r.iter().all(|x| x.outcome.took_effect());
                    results.extend(r);
                    if !ok || run.cancel.load(Ordering::SeqCst) {
                        let total = results.len();
                        let mut report = Report::new(&run, results, total);
                        report.previously_done = done.len();
                        return Ok(report);
                    }
                }
                let gathered = live::gather(&run.clients, &opts).await?;
                let plan = live::plan(&gathered, &opts.translate, opts.merge_existing)?;
                write_run_file(
                    &run.journal_path,
                    &RunFile {
                        format_version: "1".into(),
                        inputs: inputs.clone(),
                        plan: Some(plan.clone()),
                    },
                )?;
                plan
            }
        };
        let all = steps::steps_for(&plan, &run.migration_id, env!("CARGO_PKG_VERSION"))
            .map_err(|e| anyhow!(e))?;
        let todo: Vec<Step> = all.into_iter().filter(|s| !done.contains(s)).collect();
        let (reconciled, to_run, not_attempted) =
            reconcile_remaining(&run, &todo, &diverged).await?;
        if let Some(m) = reconcile_message(&reconciled) {
            run.events.message(&m);
        }
        results.extend(reconciled);
        let total = results.len() + to_run.len() + not_attempted;
        results.extend(run.execute(Some(&plan), &to_run, "resume").await?);
        let mut report = Report::new(&run, results, total).with_plan(&plan);
        report.previously_done = done.len();
        Ok(report)
    })
}

/// A line saying what resume settled without a call, if anything.
fn reconcile_message(results: &[StepResult]) -> Option<String> {
    let adopted = results
        .iter()
        .filter(|r| matches!(r.outcome, steps::Outcome::Skipped { adopted: true, .. }))
        .count();
    let diverged = results.iter().filter(|r| r.outcome.diverged()).count();
    let done = results.iter().filter(|r| r.outcome.took_effect()).count();
    if adopted + diverged + done == 0 {
        return None;
    }
    Some(format!(
        "compared the rest of the plan with the cluster: {done} step(s) found done, {adopted} adopted (already as planned, made by someone else), {diverged} diverged (changed by someone else: neither redone nor undone)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migration_ids_are_unique_and_sortable() {
        let a = new_migration_id();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = new_migration_id();
        assert!(
            a.starts_with("mig-") && a.len() == "mig-20261128T180501Z-abcdef".len(),
            "{a}"
        );
        assert_ne!(a, b);
    }

    #[test]
    fn run_file_sits_beside_the_journal() {
        assert_eq!(
            run_file_path(Path::new("/x/j.jsonl")),
            PathBuf::from("/x/j.jsonl.run.json")
        );
    }
}
