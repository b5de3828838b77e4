//! `aws-auth-migrate batch plan|apply|verify|finalize|rollback`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Result};

use crate::batch::fleet::{Fleet, Selector};
use crate::batch::report::FleetReport;
use crate::batch::{self, BatchOptions, Manifest, Op, Target};
use crate::cli::{BatchCommand, BatchCommon, Format, ProgressArg};
use crate::commands::batch_progress::{self, ProgressMode};
use crate::commands::plan::terminal_style;
use crate::files;

pub(crate) async fn run(cmd: BatchCommand) -> Result<i32> {
    match cmd {
        BatchCommand::Plan(a) => {
            if a.common.fleet.is_none() {
                bail!("batch plan needs --fleet FILE");
            }
            go(Op::Plan, &a.common, None).await
        }
        BatchCommand::Apply(a) => {
            if let Some(plans) = &a.plans {
                go(Op::Apply { saved: true }, &a.common, Some(plans.clone())).await
            } else if a.resume {
                go(Op::Resume, &a.common, None).await
            } else {
                if !a.yes {
                    bail!("batch apply without --plans applies plans nobody reviewed: pass --yes, or run batch plan and apply its folder with --plans DIR");
                }
                if a.common.fleet.is_none() {
                    bail!("batch apply needs --fleet FILE (or --plans DIR, or --resume)");
                }
                go(Op::Apply { saved: false }, &a.common, None).await
            }
        }
        BatchCommand::Verify(a) => go(Op::Verify, &a.common, None).await,
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
            go(Op::Rollback { force: a.force }, &a.common, None).await
        }
    }
}

/// The clusters to work on: from the fleet file, else from the manifest
/// of the plans folder (or of --out-dir); each with its manifest entry
/// when there is one.
fn targets(common: &BatchCommon, manifest_dir: &Path) -> Result<Vec<Target>> {
    let select = Selector::parse(&common.select)?;
    let manifest = Manifest::read(manifest_dir).ok();
    let targets: Vec<Target> = match &common.fleet {
        Some(path) => {
            let fleet = Fleet::load(path)?;
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
            Some(m) => m
                .clusters
                .into_iter()
                .map(|e| Target {
                    spec: e.spec.clone(),
                    entry: Some(e),
                })
                .collect(),
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
    Ok(picked)
}

async fn go(op: Op, common: &BatchCommon, plans: Option<PathBuf>) -> Result<i32> {
    let (format, progress) = common.report_and_progress()?;
    let out_dir = match (&common.out_dir, &plans) {
        (Some(d), _) => d.clone(),
        (None, Some(p)) => p.clone(),
        (None, None) => bail!("say where the run's files go: --out-dir DIR"),
    };
    let plans_dir = plans.unwrap_or_else(|| out_dir.clone());
    let targets = targets(common, &plans_dir)?;
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
    };
    let fleet_file = common
        .fleet
        .as_ref()
        .map(|f| std::fs::canonicalize(f).unwrap_or_else(|_| f.clone()));
    let report = batch::run(op, targets, fleet_file, &opts).await?;
    save_reports(&report, &out_dir)?;
    print!("{}", render(&report, format));
    Ok(report.exit_code)
}

/// `batch-<command>.json` and `.md` in the output folder, for CI and
/// pull-request comments.
fn save_reports(report: &FleetReport, dir: &Path) -> Result<()> {
    let stem = format!("batch-{}", report.command);
    files::write_private(&dir.join(format!("{stem}.json")), report.json().as_bytes())?;
    files::write_private(
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
