//! `aws-auth-migrate batch plan|apply|verify|finalize|rollback`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};

use crate::batch::fleet::{Fleet, Selector};
use crate::batch::parts::{self, FleetPart, PartInfo};
use crate::batch::report::FleetReport;
use crate::batch::shard::{self, Shard, ShardBy};
use crate::batch::{self, BatchOptions, Manifest, Op, Target};
use crate::cli::{BatchCommand, BatchCommon, BatchShardArgs, Format, ProgressArg, ShardByArg};
use crate::commands::batch_progress::{self, ProgressMode};
use crate::commands::plan::terminal_style;

pub(crate) async fn run(cmd: BatchCommand) -> Result<i32> {
    match cmd {
        BatchCommand::Plan(a) => {
            if a.common.fleet.is_none() {
                bail!("batch plan needs --fleet FILE");
            }
            go(Op::Plan, &a.common, &a.shard, None).await
        }
        BatchCommand::Apply(a) => {
            if let Some(plans) = &a.plans {
                go(
                    Op::Apply { saved: true },
                    &a.common,
                    &a.shard,
                    Some(plans.clone()),
                )
                .await
            } else if a.resume {
                go(Op::Resume, &a.common, &a.shard, None).await
            } else {
                if !a.yes {
                    bail!("batch apply without --plans applies plans nobody reviewed: pass --yes, or run batch plan and apply its folder with --plans DIR");
                }
                if a.common.fleet.is_none() {
                    bail!("batch apply needs --fleet FILE (or --plans DIR, or --resume)");
                }
                go(Op::Apply { saved: false }, &a.common, &a.shard, None).await
            }
        }
        BatchCommand::Verify(a) => go(Op::Verify, &a.common, &a.shard, None).await,
        BatchCommand::Finalize(a) => {
            if !a.yes {
                bail!("batch finalize switches every selected cluster to API mode, which cannot be undone: pass --yes to confirm");
            }
            go(
                Op::Finalize {
                    delete_configmap: a.delete_configmap,
                    timeout: Duration::from_secs(a.timeout),
                    skip_compute_check: a.skip_compute_check,
                },
                &a.common,
                &a.shard,
                None,
            )
            .await
        }
        BatchCommand::Rollback(a) => {
            if !a.yes {
                bail!("batch rollback undoes every apply of the folder: pass --yes to confirm");
            }
            if a.common.fleet.is_some() {
                bail!("batch rollback works from the journals of --out-dir: --fleet is not used (select clusters with --select)");
            }
            go(
                Op::Rollback { force: a.force },
                &a.common,
                &BatchShardArgs::default(),
                None,
            )
            .await
        }
        BatchCommand::Report(a) => super::batch_report::run(&a),
    }
}

/// The selected clusters, in the fleet's order, and the fleet's id.
struct Selection {
    targets: Vec<Target>,
    fleet_id: String,
}

/// `--fleet-id`, checked: it names a folder of the state directory.
pub(crate) fn given_fleet_id(id: &str) -> Result<String> {
    if id.is_empty() || crate::journal::safe_name(id) != id {
        bail!("--fleet-id {id:?}: use letters, digits, '.', '_' and '-' (not first '.')");
    }
    Ok(id.to_string())
}

/// The fleet id of a fleet file: its name and a hash of its cluster keys
/// (docs/batch.md, "Shards").
pub(crate) fn fleet_id_of(path: &Path, fleet: &Fleet) -> String {
    let keys: Vec<String> = fleet
        .specs(Path::new("."))
        .iter()
        .map(shard::cluster_key)
        .collect();
    shard::fleet_id(&fleet_name(Some(path)), &keys)
}

/// The fleet file's name without its extension (`fleet` without one).
fn fleet_name(path: Option<&Path>) -> String {
    path.and_then(Path::file_stem)
        .map_or_else(|| "fleet".into(), |s| s.to_string_lossy().into_owned())
}

/// The clusters to work on: from the fleet file, else from the manifest
/// of the plans folder (or of --out-dir); each with its manifest entry
/// when there is one.
fn targets(common: &BatchCommon, manifest_dir: &Path) -> Result<Selection> {
    let select = Selector::parse(&common.select)?;
    let given = common.fleet_id.as_deref().map(given_fleet_id).transpose()?;
    let manifest = Manifest::read(manifest_dir).ok();
    let mut fleet_id = given.clone();
    let targets: Vec<Target> = match &common.fleet {
        Some(path) => {
            let fleet = Fleet::load(path)?;
            fleet_id.get_or_insert_with(|| fleet_id_of(path, &fleet));
            let base = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            let base = std::fs::canonicalize(base).unwrap_or_else(|_| base.to_path_buf());
            fleet
                .specs(&base)
                .into_iter()
                .map(|spec| {
                    let entry = manifest.as_ref().and_then(|m| {
                        m.clusters
                            .iter()
                            .find(|e| e.spec.name == spec.name && e.spec.inputs == spec.inputs)
                            .cloned()
                    });
                    Target { spec, entry }
                })
                .collect()
        }
        None => match manifest {
            Some(m) => {
                let keys: Vec<String> = m
                    .clusters
                    .iter()
                    .map(|e| shard::cluster_key(&e.spec))
                    .collect();
                let id = m
                    .fleet_id
                    .clone()
                    .unwrap_or_else(|| shard::fleet_id(&fleet_name(m.fleet.as_deref()), &keys));
                fleet_id.get_or_insert(id);
                m.clusters
                    .into_iter()
                    .map(|e| Target {
                        spec: e.spec.clone(),
                        entry: Some(e),
                    })
                    .collect()
            }
            None => bail!(
                "no --fleet and no {} in {}: run batch plan --fleet FILE --out-dir {} first",
                batch::MANIFEST,
                manifest_dir.display(),
                manifest_dir.display()
            ),
        },
    };
    let picked: Vec<Target> = targets
        .into_iter()
        .filter(|t| select.matches(&t.spec.name, &t.spec.labels))
        .collect();
    if picked.is_empty() {
        bail!("--select matches no cluster");
    }
    Ok(Selection {
        targets: picked,
        fleet_id: fleet_id.unwrap_or_else(|| shard::fleet_id("fleet", &[])),
    })
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

async fn go(
    op: Op,
    common: &BatchCommon,
    shard_args: &BatchShardArgs,
    plans: Option<PathBuf>,
) -> Result<i32> {
    let shard: Shard = match &shard_args.shard {
        Some(s) => s.parse()?,
        None => Shard::WHOLE,
    };
    let shard_by = match shard_args.shard_by {
        ShardByArg::Cluster => ShardBy::Cluster,
        ShardByArg::Account => ShardBy::Account,
    };
    let (format, progress) = common.report_and_progress()?;
    let out_dir = match (&common.out_dir, &plans) {
        (Some(d), _) => d.clone(),
        (None, Some(p)) => p.clone(),
        (None, None) => bail!("say where the run's files go: --out-dir DIR"),
    };
    let plans_dir = plans.unwrap_or_else(|| out_dir.clone());
    let known_id = match (&common.fleet_id, &common.fleet) {
        (Some(id), _) => Some(given_fleet_id(id)?),
        (None, Some(file)) => Some(fleet_id_of(file, &Fleet::load(file)?)),
        (None, None) => None,
    };
    if let Some(id) = &known_id {
        share_folders(id, shard, &out_dir, &plans_dir)?;
    }
    let selection = targets(common, &plans_dir)?;
    if known_id.is_none() {
        share_folders(&selection.fleet_id, shard, &out_dir, &plans_dir)?;
    }
    let fleet_clusters: Vec<String> = selection
        .targets
        .iter()
        .map(|t| shard::cluster_key(&t.spec))
        .collect();
    let targets = shard::split(selection.targets, |t| &t.spec, shard, shard_by);
    let selected = targets
        .iter()
        .map(|t| shard::cluster_key(&t.spec))
        .collect();
    let progress = match progress {
        ProgressArg::Json => ProgressMode::Json,
        ProgressArg::Auto if std::io::stderr().is_terminal() => ProgressMode::Bars,
        ProgressArg::Auto => ProgressMode::Json,
    };
    let opts = BatchOptions {
        out_dir: out_dir.clone(),
        plans_dir,
        parallel: usize::from(common.parallel),
        fail_fast: common.fail_fast,
        progress: batch_progress::start(progress),
        fleet_id: Some(selection.fleet_id.clone()),
    };
    let fleet_file = common
        .fleet
        .as_ref()
        .map(|f| std::fs::canonicalize(f).unwrap_or_else(|_| f.clone()));
    let started = now();
    let report = batch::run(op, targets, fleet_file, &opts).await?;
    let info = PartInfo {
        fleet_id: selection.fleet_id,
        shard,
        shard_by,
        fleet_clusters,
        selected,
        started,
        finished: now(),
    };
    save_reports(&report, &out_dir)?;
    // The run is done whatever happens to its part: a part not written
    // is a missing shard for the merge, told here.
    let part = FleetPart::new(info, &report);
    if let Err(e) = parts::store().and_then(|s| s.save(&part)) {
        eprintln!(
            "warning: the fleet report part (shard {shard}) was not saved: {}",
            crate::exit::one_line(&e)
        );
    }
    print!("{}", render(&report, format));
    Ok(report.exit_code)
}

/// With the state in S3, the output folder (and the plans folder) is
/// kept there too, under `fleet/{id}/runs/shard-I-of-N/`: what an earlier
/// run of this shard left, on any machine, comes down first (manifest,
/// plans, journals), and what this run writes goes up as it is written.
/// No effect with a local state.
fn share_folders(fleet_id: &str, shard: Shard, out_dir: &Path, plans_dir: &Path) -> Result<()> {
    if crate::state::s3_location().is_none() {
        return Ok(());
    }
    let key = format!(
        "fleet/{fleet_id}/runs/shard-{}-of-{}/",
        shard.index, shard.count
    );
    for dir in [plans_dir, out_dir] {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        crate::state::replica::mirror(dir, &key);
        crate::state::replica::pull(dir, &key)
            .with_context(|| format!("cannot fetch this shard's files into {}", dir.display()))?;
    }
    Ok(())
}

/// `batch-<command>.json` and `.md` in the output folder, for CI and
/// pull-request comments.
fn save_reports(report: &FleetReport, dir: &Path) -> Result<()> {
    let stem = format!("batch-{}", report.command);
    batch::save(&dir.join(format!("{stem}.json")), report.json().as_bytes())?;
    batch::save(
        &dir.join(format!("{stem}.md")),
        report.markdown().as_bytes(),
    )?;
    Ok(())
}

pub(crate) fn render(report: &FleetReport, format: Format) -> String {
    match format {
        Format::Table => report.table(terminal_style().width),
        Format::Json => report.json(),
        Format::Markdown => report.markdown(),
    }
}
