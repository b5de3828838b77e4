//! `batch`: plan, apply, verify, finalize and roll back many clusters in one
//! run (docs/batch.md). Clusters run concurrently (`parallel` at a time),
//! each through the single-cluster code: `live::gather`/`live::plan`,
//! `apply::apply_saved`/`resume`, `apply::rollback::rollback`,
//! `finish::check`, `finish::finalize::run`. Every cluster gets its own
//! saved plan and journal in the output folder, named
//! `<account>-<region>-<name>`; a failing cluster does not stop the others
//! unless `fail_fast`.

pub(crate) mod fleet;
pub(crate) mod parts;
pub(crate) mod progress;
pub mod report;
pub(crate) mod shard;

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;

use crate::apply::events::{self, Events};
use crate::apply::report::Report;
use crate::apply::rollback::{self, RollbackFlags};
use crate::apply::{self, Presentation};
use crate::aws::Clients;
use crate::core::plan::Plan;
use crate::files;
use crate::finish::{self, finalize::FinalizeOptions, FinishOptions};
use crate::journal;
use crate::live;
use crate::outcome::Outcome;
use crate::render;

use fleet::ClusterSpec;
use progress::{ClusterProgress, FleetProgress, StartProgress};
use report::{ClusterResult, FleetReport, Parity, Status, Steps};

/// The manifest `batch plan` writes beside the plans: how each cluster was
/// reached and which plan file is its, so `batch apply --plans`,
/// `batch rollback` and `batch verify` need no fleet file.
pub const MANIFEST: &str = "batch.json";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub format_version: String,
    pub fleet: Option<PathBuf>,
    /// The fleet id of the run that planned (docs/batch.md, "Shards"), so
    /// the runs that read this manifest write their parts under it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fleet_id: Option<String>,
    pub clusters: Vec<ManifestEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ManifestEntry {
    #[serde(flatten)]
    pub spec: ClusterSpec,
    pub account: Option<String>,
    /// The region the cluster was found in.
    pub region: Option<String>,
    /// File name of the saved plan, in the same folder; none when planning failed.
    pub plan_file: Option<String>,
}

impl ManifestEntry {
    pub fn key(&self) -> Option<String> {
        Some(file_key(
            self.account.as_deref()?,
            self.region.as_deref()?,
            &self.spec.name,
        ))
    }
}

impl Manifest {
    pub fn read(dir: &Path) -> Result<Manifest> {
        let path = dir.join(MANIFEST);
        let bytes = std::fs::read(&path).with_context(|| {
            format!(
                "cannot read {} (written by batch plan --out-dir {})",
                path.display(),
                dir.display()
            )
        })?;
        serde_json::from_slice(&bytes)
            .with_context(|| format!("{} is not a batch manifest", path.display()))
    }
}

/// `<account>-<region>-<name>`, safe as a file name (as the journal
/// names its files: [`journal::safe_name`]).
pub fn file_key(account: &str, region: &str, name: &str) -> String {
    journal::safe_name(&format!("{account}-{region}-{name}"))
}

/// What to do to each cluster.
#[derive(Debug, Clone)]
pub enum Op {
    Plan,
    /// Apply: the saved plans of the manifest (`--plans`), or plans made now.
    Apply {
        saved: bool,
    },
    /// Resume the apply journals of the output folder.
    Resume,
    Verify,
    Finalize {
        delete_configmap: bool,
        timeout: Duration,
        skip_compute_check: bool,
    },
    Rollback {
        force: bool,
    },
}

impl Op {
    pub fn name(&self) -> &'static str {
        match self {
            Op::Plan => "plan",
            Op::Apply { .. } | Op::Resume => "apply",
            Op::Verify => "verify",
            Op::Finalize { .. } => "finalize",
            Op::Rollback { .. } => "rollback",
        }
    }
}

pub struct BatchOptions {
    pub out_dir: PathBuf,
    /// Where `--plans` reads the manifest and plans (default: `out_dir`).
    pub plans_dir: PathBuf,
    pub parallel: usize,
    pub fail_fast: bool,
    /// Who is told how the run goes (the command's display).
    pub progress: StartProgress,
    /// The fleet id, kept in the manifest.
    pub fleet_id: Option<String>,
}

/// One cluster to work on.
#[derive(Debug, Clone)]
pub struct Target {
    pub spec: ClusterSpec,
    /// From the manifest, when there is one.
    pub entry: Option<ManifestEntry>,
}

/// Runs `op` over the targets; returns the fleet report. The manifest is
/// (re)written after `plan` and after an apply of plans made now.
pub async fn run(
    op: Op,
    targets: Vec<Target>,
    fleet_file: Option<PathBuf>,
    opts: &BatchOptions,
) -> Result<FleetReport> {
    std::fs::create_dir_all(&opts.out_dir)
        .with_context(|| format!("cannot create {}", opts.out_dir.display()))?;
    let command = op.name();
    let intent = match &op {
        Op::Apply { saved } => {
            let intent = ApplyIntent {
                format_version: "1".into(),
                saved: *saved,
                plans_dir: std::path::absolute(&opts.plans_dir)
                    .unwrap_or_else(|_| opts.plans_dir.clone()),
                clusters: targets
                    .iter()
                    .map(|t| shard::cluster_key(&t.spec))
                    .collect(),
            };
            let bytes = serde_json::to_vec_pretty(&intent).context("cannot encode the intent")?;
            save(&opts.out_dir.join(INTENT), &bytes)?;
            None
        }
        Op::Resume => ApplyIntent::read(&opts.out_dir),
        _ => None,
    };
    let progress = (opts.progress)(command, targets.len());
    let ctx = Arc::new(Ctx {
        op,
        out_dir: opts.out_dir.clone(),
        plans_dir: opts.plans_dir.clone(),
        intent,
    });
    let results = for_each(
        targets.clone(),
        opts.parallel,
        opts.fail_fast,
        progress.clone(),
        move |t, p| {
            let ctx = ctx.clone();
            async move { one(&ctx, t, p).await }
        },
    )
    .await;
    let (results, entries): (Vec<ClusterResult>, Vec<Option<ManifestEntry>>) =
        results.into_iter().unzip();
    if entries.iter().any(Option::is_some) {
        write_manifest(
            &opts.out_dir,
            fleet_file,
            opts.fleet_id.clone(),
            &targets,
            entries,
        )?;
    }
    let report = FleetReport::new(command, opts.out_dir.clone(), results);
    progress.finish(&report.summary_line(), report.exit_code);
    Ok(report)
}

/// Merges the entries of this run into the folder's manifest (clusters
/// not in this run keep theirs).
fn write_manifest(
    dir: &Path,
    fleet_file: Option<PathBuf>,
    fleet_id: Option<String>,
    targets: &[Target],
    entries: Vec<Option<ManifestEntry>>,
) -> Result<()> {
    let mut manifest = Manifest::read(dir).unwrap_or(Manifest {
        format_version: "1".into(),
        fleet: None,
        fleet_id: None,
        clusters: Vec::new(),
    });
    if fleet_file.is_some() {
        manifest.fleet = fleet_file;
    }
    if fleet_id.is_some() {
        manifest.fleet_id = fleet_id;
    }
    for (t, e) in targets.iter().zip(entries) {
        let e = e.unwrap_or_else(|| ManifestEntry {
            spec: t.spec.clone(),
            account: None,
            region: t.spec.inputs.region.clone(),
            plan_file: None,
        });
        match manifest
            .clusters
            .iter_mut()
            .find(|m| m.spec.name == e.spec.name && m.spec.inputs == e.spec.inputs)
        {
            Some(m) => *m = e,
            None => manifest.clusters.push(e),
        }
    }
    let bytes = serde_json::to_vec_pretty(&manifest).context("cannot encode the manifest")?;
    save(&dir.join(MANIFEST), &bytes)
}

/// Writes a file of the output folder (0600, whole or not at all) and,
/// with the state in S3, its copy there (see `commands::batch`).
pub(crate) fn save(path: &Path, bytes: &[u8]) -> Result<()> {
    files::write_private(path, bytes)?;
    crate::state::replica::uploaded(path, bytes)
        .with_context(|| format!("cannot copy {} to the S3 state", path.display()))
}

/// Runs `job` for every target, `parallel` at a time; results come back in
/// the targets' order. With `fail_fast`, a failed cluster stops the start
/// of the others (they are reported `not run`); those running finish.
pub async fn for_each<F, Fut>(
    targets: Vec<Target>,
    parallel: usize,
    fail_fast: bool,
    progress: Arc<dyn FleetProgress>,
    job: F,
) -> Vec<(ClusterResult, Option<ManifestEntry>)>
where
    F: Fn(Target, Arc<dyn ClusterProgress>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = (ClusterResult, Option<ManifestEntry>)> + Send + 'static,
{
    let job = Arc::new(job);
    let permits = Arc::new(Semaphore::new(parallel.max(1)));
    let stop = Arc::new(AtomicBool::new(false));
    let mut handles = Vec::new();
    for t in targets {
        let (job, permits, stop, progress) =
            (job.clone(), permits.clone(), stop.clone(), progress.clone());
        let blank = ClusterResult::new(
            &t.spec.name,
            t.entry
                .as_ref()
                .and_then(|e| e.region.clone())
                .or_else(|| t.spec.inputs.region.clone()),
            t.spec.labels.clone(),
        );
        // Taken here, not in the task: clusters start in the fleet's order
        // (spawned tasks would race for the permits).
        let permit = permits.acquire_owned().await.ok();
        handles.push(tokio::spawn(async move {
            let _permit = permit;
            if stop.load(Ordering::SeqCst) {
                let mut r = blank;
                r.status = Status::NotRun;
                r.note = "not run (--fail-fast)".into();
                return (r, None);
            }
            let cp = progress.start(&t.spec.name);
            let started = Instant::now();
            let (mut r, entry) = job(t, cp.clone()).await;
            r.elapsed_ms = started.elapsed().as_millis() as u64;
            if fail_fast && r.status.failed() {
                stop.store(true, Ordering::SeqCst);
            }
            cp.done(&r);
            (r, entry)
        }));
    }
    let mut out = Vec::new();
    for h in handles {
        match h.await {
            Ok(r) => out.push(r),
            Err(e) => {
                let mut r = ClusterResult::new("?", None, Default::default());
                r.error = Some(format!("a worker failed: {e}"));
                out.push((r, None));
            }
        }
    }
    out
}

struct Ctx {
    op: Op,
    out_dir: PathBuf,
    plans_dir: PathBuf,
    /// For a resume: what the interrupted apply set out to do.
    intent: Option<ApplyIntent>,
}

/// What a `batch apply` sets out to do, written to the output folder
/// (`batch-apply.intent.json`) before any cluster starts, so that
/// `batch apply --resume` finishes exactly that run, on any machine: the
/// clusters it had begun (from their journals) and those it had not
/// begun yet (applied now, as it would have).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ApplyIntent {
    pub(crate) format_version: String,
    /// The saved plans of a batch plan run (`--plans`), or plans made now.
    pub(crate) saved: bool,
    /// Where the saved plans were.
    pub(crate) plans_dir: PathBuf,
    /// The run's clusters (`account/region/name` as the fleet gives them).
    pub(crate) clusters: Vec<String>,
}

pub(crate) const INTENT: &str = "batch-apply.intent.json";

impl ApplyIntent {
    fn read(dir: &Path) -> Option<ApplyIntent> {
        let bytes = std::fs::read(dir.join(INTENT)).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    fn has(&self, spec: &ClusterSpec) -> bool {
        self.clusters.contains(&shard::cluster_key(spec))
    }
}

/// Apply and rollback tell the cluster's progress what happens; nobody is
/// asked (batch commands are confirmed by their flags).
fn quiet(cp: &Arc<dyn ClusterProgress>, journal: Option<PathBuf>) -> Presentation {
    Presentation {
        events: Events::new(cp.clone()),
        yes: true,
        journal,
        ask: None,
    }
}

/// The key of a cluster's files from what its result knows.
fn result_key(r: &ClusterResult, name: &str) -> String {
    file_key(
        r.account.as_deref().unwrap_or("unknown"),
        r.region.as_deref().unwrap_or("unknown"),
        name,
    )
}

/// The result of an apply, resume or rollback: from its report, or its error.
fn reported(r: ClusterResult, result: Result<Report>) -> ClusterResult {
    match result {
        Ok(report) => from_report(r, &report),
        Err(e) => r.fail(&e),
    }
}

async fn one(
    ctx: &Ctx,
    t: Target,
    cp: Arc<dyn ClusterProgress>,
) -> (ClusterResult, Option<ManifestEntry>) {
    let blank = ClusterResult::new(
        &t.spec.name,
        t.entry
            .as_ref()
            .and_then(|e| e.region.clone())
            .or_else(|| t.spec.inputs.region.clone()),
        t.spec.labels.clone(),
    );
    let blank = match &t.entry {
        Some(e) => {
            let mut b = blank;
            b.account.clone_from(&e.account);
            b
        }
        None => blank,
    };
    match &ctx.op {
        Op::Plan => match plan_one(&t.spec, &ctx.out_dir, &cp).await {
            Ok((plan, entry)) => {
                let mut r = blank.with_plan(&plan);
                r.plan_file = entry.plan_file.as_ref().map(|f| ctx.out_dir.join(f));
                (r.status, r.note) = if plan.has_changes() {
                    (Status::Changes, String::new())
                } else {
                    (Status::Ok, "no changes".into())
                };
                r.plan = Some(plan);
                (r, Some(entry))
            }
            Err(e) => (blank.fail(&e), None),
        },
        Op::Apply { saved } => {
            let (plan_path, entry) = if *saved {
                let Some(entry) = t.entry.clone() else {
                    return (
                        blank.fail(&anyhow!(
                            "not in the manifest of {}",
                            ctx.plans_dir.display()
                        )),
                        None,
                    );
                };
                let Some(file) = &entry.plan_file else {
                    return (
                        blank.fail(&anyhow!(
                            "no saved plan: planning this cluster failed in the batch plan run; plan it again"
                        )),
                        None,
                    );
                };
                (ctx.plans_dir.join(file), None)
            } else {
                match plan_one(&t.spec, &ctx.out_dir, &cp).await {
                    Ok((_, entry)) => {
                        let file = entry.plan_file.clone().unwrap_or_default();
                        (ctx.out_dir.join(file), Some(entry))
                    }
                    Err(e) => return (blank.fail(&e), None),
                }
            };
            (apply_one(ctx, &t, blank, &plan_path, &cp).await, entry)
        }
        Op::Resume => (resume_one(ctx, &t, blank, &cp).await, None),
        Op::Rollback { force } => (rollback_one(ctx, &t, blank, *force, &cp).await, None),
        Op::Verify => (verify_one(ctx, &t, blank, &cp).await, None),
        Op::Finalize { .. } => (finalize_one(ctx, &t, blank, &cp).await, None),
    }
}

/// Plans one cluster against the live cluster and saves the plan
/// (`<key>.plan.json`, 0600) in `out_dir`.
pub async fn plan_one(
    spec: &ClusterSpec,
    out_dir: &Path,
    cp: &Arc<dyn ClusterProgress>,
) -> Result<(Plan, ManifestEntry)> {
    let mut opts = spec.inputs.live_options()?;
    // A plan changes nothing: an unverifiable context is a notice in it.
    opts.kube.unverified = crate::kube::Unverified::Notice;
    let clients = Clients::connect(&opts.aws, &opts.iam_roles).await?;
    cp.phase("reading the cluster, EKS and IAM");
    let gathered = live::gather(&clients, &opts).await?;
    let plan = live::plan(&gathered, &opts.translate, opts.merge_existing)?;
    let key = file_key(
        &gathered.cluster.account,
        &gathered.cluster.region,
        &spec.name,
    );
    let file = format!("{key}.plan.json");
    save(&out_dir.join(&file), render::json::render(&plan).as_bytes())?;
    Ok((
        plan,
        ManifestEntry {
            spec: spec.clone(),
            account: Some(gathered.cluster.account.clone()),
            region: Some(gathered.cluster.region.clone()),
            plan_file: Some(file),
        },
    ))
}

fn read_plan(path: &Path) -> Result<Plan> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_slice(&bytes)
        .with_context(|| format!("{} is not a saved plan", path.display()))
}

fn apply_journal(dir: &Path, key: &str) -> PathBuf {
    dir.join(format!("{key}.apply.jsonl"))
}

/// The status of an apply, resume or rollback from its report.
fn from_report(mut r: ClusterResult, report: &Report) -> ClusterResult {
    r.steps = Some(Steps {
        migration_id: report.migration_id.clone(),
        steps: report.steps,
        done: report.done,
        failed: report.failed,
        skipped: report.skipped,
        not_attempted: report.not_attempted,
    });
    if report.journal.is_some() {
        r.journal.clone_from(&report.journal);
    }
    r.status = match report.outcome() {
        Outcome::Ok => Status::Ok,
        Outcome::Partial => Status::Partial,
        Outcome::Error | Outcome::Changes => Status::Failed,
    };
    r.note = if report.steps == 0 && report.journal.is_none() {
        "nothing to do".into()
    } else {
        format!(
            "{} of {} steps done{}{}",
            report.done,
            report.steps,
            if report.failed > 0 {
                format!(", {} failed", report.failed)
            } else {
                String::new()
            },
            if report.skipped > 0 {
                format!(", {} skipped", report.skipped)
            } else {
                String::new()
            }
        )
    };
    if !report.failures.is_empty() {
        r.error = Some(
            report
                .failures
                .iter()
                .map(|f| format!("{} {}: {}: {}", f.op, f.target, f.code, f.message))
                .collect::<Vec<_>>()
                .join("; "),
        );
    }
    r.text = Some(report.render(100));
    r
}

async fn apply_one(
    ctx: &Ctx,
    t: &Target,
    blank: ClusterResult,
    plan_path: &Path,
    cp: &Arc<dyn ClusterProgress>,
) -> ClusterResult {
    let plan = match read_plan(plan_path) {
        Ok(p) => p,
        Err(e) => return blank.fail(&e),
    };
    let mut r = blank.with_plan(&plan);
    r.plan_file = Some(plan_path.to_path_buf());
    let journal = apply_journal(&ctx.out_dir, &result_key(&r, &t.spec.name));
    if journal.exists() {
        return r.fail(&anyhow!(
            "{} exists: this cluster was applied from this folder already; finish it with batch apply --resume, or undo it with batch rollback",
            journal.display()
        ));
    }
    cp.phase("checking the plan is current");
    let pres = quiet(cp, Some(journal));
    reported(
        r,
        apply::apply_saved(plan_path, t.spec.inputs.clone(), pres).await,
    )
}

async fn resume_one(
    ctx: &Ctx,
    t: &Target,
    blank: ClusterResult,
    cp: &Arc<dyn ClusterProgress>,
) -> ClusterResult {
    let begun_by_run = ctx.intent.as_ref().filter(|i| i.has(&t.spec));
    let mut made_now = None;
    let key = match t.entry.as_ref().and_then(ManifestEntry::key) {
        Some(k) => k,
        // An apply of plans made now that was cut short kept no manifest:
        // the cluster's key (its account) comes from planning it again.
        None if begun_by_run.is_some_and(|i| !i.saved) => {
            match plan_one(&t.spec, &ctx.out_dir, cp).await {
                Ok((plan, entry)) => {
                    let k = entry.key().unwrap_or_default();
                    made_now = Some((plan, entry));
                    k
                }
                Err(e) => return blank.fail(&e),
            }
        }
        None => {
            let mut r = blank;
            r.status = Status::Ok;
            r.note = "never planned: nothing to resume".into();
            return r;
        }
    };
    let journal = apply_journal(&ctx.out_dir, &key);
    let mut r = blank;
    if let Some(file) = t.entry.as_ref().and_then(|e| e.plan_file.as_ref()) {
        if let Ok(plan) = read_plan(&ctx.plans_dir.join(file)) {
            r = r.with_plan(&plan);
        }
    }
    if !journal.exists() {
        // Not begun when the run stopped: applied now, as that run would
        // have, from its saved plan or a plan made now.
        if let Some(intent) = begun_by_run {
            let plan_path = match (
                &made_now,
                t.entry.as_ref().and_then(|e| e.plan_file.as_ref()),
            ) {
                (Some((_, entry)), _) => entry.plan_file.as_ref().map(|f| ctx.out_dir.join(f)),
                (None, Some(file)) => [&ctx.plans_dir, &intent.plans_dir]
                    .iter()
                    .map(|d| d.join(file))
                    .find(|p| p.exists()),
                (None, None) => None,
            };
            let Some(plan_path) = plan_path else {
                return r.fail(&anyhow!(
                    "the interrupted apply had not begun this cluster and its saved plan is gone; plan it again"
                ));
            };
            return apply_one(ctx, t, r, &plan_path, cp).await;
        }
        r.status = Status::Ok;
        r.note = "no journal: nothing was applied".into();
        return r;
    }
    cp.phase("resuming");
    let pres = quiet(cp, None);
    reported(
        r,
        apply::resume(&journal, t.spec.inputs.clone(), pres).await,
    )
}

async fn rollback_one(
    ctx: &Ctx,
    t: &Target,
    blank: ClusterResult,
    force: bool,
    cp: &Arc<dyn ClusterProgress>,
) -> ClusterResult {
    let mut r = blank;
    let key = t.entry.as_ref().and_then(ManifestEntry::key);
    // A finalize of this run is undone first: aws-auth must carry the
    // access again before the entries that replaced it are deleted.
    let mut restored = None;
    if let Some(fj) = key
        .as_ref()
        .map(|k| finalize_journal(&ctx.out_dir, k))
        .filter(|j| j.exists())
    {
        cp.phase("restoring aws-auth");
        match undo_finalize(t, &fj, cp.as_ref()).await {
            Ok(None) => restored = Some("aws-auth restored by an earlier rollback".to_string()),
            Ok(Some(u)) if !u.skipped.is_empty() => {
                r.status = Status::Partial;
                r.note = format!(
                    "aws-auth not restored, changed since the finalize ({}); the apply is not rolled back",
                    u.skipped.join("; ")
                );
                r.journal = Some(u.journal);
                return r;
            }
            Ok(Some(u)) => {
                restored = Some(if u.undone.is_empty() {
                    "finalize left aws-auth as it was".to_string()
                } else {
                    format!("aws-auth restored ({})", u.undone.join(", "))
                });
            }
            Err(e) => return r.fail(&e.context(format!("undoing {}", fj.display()))),
        }
    }
    let Some(journal) = key
        .map(|k| apply_journal(&ctx.out_dir, &k))
        .filter(|j| j.exists())
    else {
        r.status = Status::Ok;
        r.note = match restored {
            Some(done) => format!("{done}; no apply journal"),
            None => "no apply journal: nothing to roll back".into(),
        };
        return r;
    };
    cp.phase("rolling back");
    let flags = RollbackFlags {
        aws: t.spec.inputs.aws(),
        force,
    };
    let pres = quiet(cp, None);
    let mut r = reported(r, rollback::rollback(&journal, flags, pres).await);
    if let Some(done) = restored {
        r.note = if r.note.is_empty() {
            done
        } else {
            format!("{done}; {}", r.note)
        };
    }
    r
}

/// The journal `batch finalize` writes for a cluster.
fn finalize_journal(dir: &Path, key: &str) -> PathBuf {
    dir.join(format!("{key}.finalize.jsonl"))
}

/// Restores aws-auth from a finalize journal of this run (`None`: an
/// earlier `batch rollback` did, its rollback journal is there). The switch
/// to API mode cannot be undone; the apply's rollback refuses in API mode.
async fn undo_finalize(
    t: &Target,
    journal: &Path,
    cp: &dyn ClusterProgress,
) -> Result<Option<finish::undo::UndoReport>> {
    let out = rollback::rollback_journal_path(journal);
    if out.exists() {
        return Ok(None);
    }
    let opts = finish_options(&t.spec)?;
    let clients = Clients::connect(&opts.live.aws, &opts.live.iam_roles).await?;
    let facts = clients.eks.describe_cluster(&t.spec.name).await?;
    let target = apply::configmap::connect(&clients, &opts.live.kube, &facts).await?;
    if let Some(notice) = &target.notice {
        cp.event(&events::Event::Notice(notice));
    }
    Ok(Some(finish::undo::rollback(&target, journal, &out).await?))
}

fn finish_options(spec: &ClusterSpec) -> Result<FinishOptions> {
    let mut live = spec.inputs.live_options()?;
    live.translate.allow_lossy = true;
    live.merge_existing = false;
    live.file = None;
    Ok(FinishOptions {
        live,
        accept_gaps: Vec::new(),
        accept_access_loss: Vec::new(),
    })
}

async fn verify_one(
    ctx: &Ctx,
    t: &Target,
    blank: ClusterResult,
    cp: &Arc<dyn ClusterProgress>,
) -> ClusterResult {
    let run = async {
        let mut opts = finish_options(&t.spec)?;
        // Verify changes nothing: an unverifiable context is a notice.
        opts.live.kube.unverified = crate::kube::Unverified::Notice;
        let clients = Clients::connect(&opts.live.aws, &opts.live.iam_roles).await?;
        cp.phase("verifying");
        finish::check(&clients, &opts).await
    };
    match run.await {
        Ok(checked) => {
            let v = checked.verification;
            let mut r = blank.with_plan(&checked.plan);
            let key = result_key(&r, &t.spec.name);
            let path = ctx.out_dir.join(format!("{key}.verify.json"));
            if let Err(e) = save(&path, finish::render::json(&v).as_bytes()) {
                return r.fail(&e);
            }
            r.verify = Some(Parity {
                parity: v.parity,
                rows: v.summary.rows,
                migrated: v.summary.migrated,
                gaps: v.summary.gaps,
                blocking: v.summary.blocking,
            });
            (r.status, r.note) = if v.parity {
                (
                    Status::Ok,
                    format!("parity, {} rows migrated", v.summary.migrated),
                )
            } else {
                (
                    Status::Gaps,
                    format!("{} blocking rows", v.summary.blocking),
                )
            };
            r.verification = Some(v);
            r
        }
        Err(e) => blank.fail(&e),
    }
}

/// finalize's events and its end, told as the cluster's progress messages
/// (they used to be printed among the fleet report on stdout, without the
/// cluster's name, and broke `--output json`).
struct FinalizeOutput<'a>(&'a dyn ClusterProgress);

impl FinalizeOutput<'_> {
    fn tell(&self, lines: &[finish::render::Line]) {
        for line in lines {
            self.0.event(&events::Event::Message(&line.text));
        }
    }
}

impl finish::Progress for FinalizeOutput<'_> {
    fn event(&self, event: finish::Event<'_>) {
        self.tell(&finish::render::event(&event));
    }

    /// batch finalize runs only with `--yes`: nothing is asked.
    fn confirm(&self, question: &str, yes: bool) -> Result<()> {
        if yes {
            Ok(())
        } else {
            bail!("{question} batch finalize asks nothing: pass --yes")
        }
    }
}

async fn finalize_one(
    ctx: &Ctx,
    t: &Target,
    blank: ClusterResult,
    cp: &Arc<dyn ClusterProgress>,
) -> ClusterResult {
    let Op::Finalize {
        delete_configmap,
        timeout,
        skip_compute_check,
    } = ctx.op.clone()
    else {
        return blank;
    };
    let mut r = blank;
    let run = async {
        let finish = finish_options(&t.spec)?;
        let clients = Clients::connect(&finish.live.aws, &finish.live.iam_roles).await?;
        let (facts, _) = live::cluster_and_caller(&clients, &t.spec.name).await?;
        let key = file_key(&facts.account, &facts.region, &t.spec.name);
        let journal = finalize_journal(&ctx.out_dir, &key);
        if journal.exists() {
            bail!(
                "{} exists: finalize ran from this folder already (resume it with finalize --resume)",
                journal.display()
            );
        }
        cp.phase("finalizing");
        let opts = FinalizeOptions {
            finish,
            yes: true,
            delete_configmap,
            journal: Some(journal.clone()),
            resume: None,
            timeout,
            skip_compute_check,
        };
        let output = FinalizeOutput(cp.as_ref());
        let report = finish::finalize::run(&clients, &opts, &output).await?;
        output.tell(&finish::render::finalize_report(&report));
        Ok((facts, report.outcome(), journal))
    };
    match run.await {
        Ok((facts, outcome, journal)) => {
            r.account = Some(facts.account);
            r.region = Some(facts.region);
            r.mode = Some(facts.authentication_mode.to_string());
            if journal.exists() {
                r.journal = Some(journal);
            }
            (r.status, r.note) = match outcome {
                Outcome::Ok => (Status::Ok, "finalized".to_string()),
                Outcome::Partial => (Status::Partial, "partial: see the journal".to_string()),
                Outcome::Error | Outcome::Changes => (
                    Status::Failed,
                    "refused: run batch verify for the gaps".to_string(),
                ),
            };
            r
        }
        Err(e) => r.fail(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_keys_are_the_journal_lock_keys() {
        let info = journal::ClusterInfo {
            name: "prod/eu ü".into(),
            region: "eu-west-1".into(),
            account: "111122223333".into(),
            arn: String::new(),
        };
        assert_eq!(
            file_key(&info.account, &info.region, &info.name),
            info.lock_key()
        );
        assert_eq!(file_key(".a", "b", "c"), "_.a-b-c");
    }
}
