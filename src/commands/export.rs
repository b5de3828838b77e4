//! `aws-auth-migrate export`: the migration's target state as
//! infrastructure code (docs/iac-export.md). Read-only: it plans as `plan`
//! does (a file, a live cluster) or reads a saved plan, renders it with
//! `core::export`, and writes standard output or `--out`.

use std::io::Write;
use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};

use crate::aws::Clients;
use crate::cli::{ExportArgs, ExportFormatArg};
use crate::commands::plan::{self, PlanInputs};
use crate::core::export::{self, ExportFile, ExportFormat};
use crate::core::plan::Plan;
use crate::files;
use crate::live::{self, LiveFlags, LiveOptions};

/// `export` with `--cluster` or `--plan` (async).
pub(crate) async fn run(args: ExportArgs) -> Result<i32> {
    let format = ExportFormatArg::parse(&args.format)?.format();
    // clap refuses --plan with the planning flags; the connection flags
    // stay, for the freshness check of a live saved plan.
    let plan = if let Some(path) = &args.plan_file {
        let plan = read_saved(path)?;
        if let Some(warning) = freshness(&args, path, &plan).await {
            eprintln!("warning: {warning}");
        }
        plan
    } else {
        match plan::validate(&args.plan_args())? {
            PlanInputs::Live(live) => live::run(&live).await?,
            PlanInputs::Offline { path, opts } => plan::plan_from_file(&path, &opts)?,
        }
    };
    output(&args, format, &plan)
}

/// `export` of a file or standard input: no async runtime.
pub(crate) fn run_offline(args: ExportArgs) -> Result<i32> {
    let format = ExportFormatArg::parse(&args.format)?.format();
    if args.plan_file.is_some() {
        bail!("export --plan needs the async runtime");
    }
    let plan = match plan::validate(&args.plan_args())? {
        PlanInputs::Offline { path, opts } => plan::plan_from_file(&path, &opts)?,
        PlanInputs::Live(_) => bail!("export with --cluster needs the async runtime"),
    };
    output(&args, format, &plan)
}

/// Reads a saved plan as `apply --plan FILE` does: the digest must match
/// (an edited plan is refused), and the format be one this version reads.
fn read_saved(path: &Path) -> Result<Plan> {
    let plan = crate::apply::saved::read_saved_plan(path)?;
    if plan.format_version.split('.').next() != Some("1") {
        bail!(
            "{}: plan format {} is not supported by this version",
            path.display(),
            plan.format_version
        );
    }
    Ok(plan)
}

/// Whether a saved live plan is still what the cluster gives: its
/// fingerprint against one taken now. Export changes nothing, so a stale
/// plan, or one that cannot be checked, is exported with a warning (the
/// text returned) rather than refused. An offline plan has nothing to check.
async fn freshness(args: &ExportArgs, path: &Path, plan: &Plan) -> Option<String> {
    let saved = plan.fingerprint.as_ref()?;
    let shown = path.display();
    match fingerprint_now(args, plan).await {
        Ok(now) => {
            let changes = now.changes_since(saved);
            (!changes.is_empty()).then(|| {
                format!(
                    "the saved plan {shown} is stale: {}; it is exported as saved (its imports may be wrong): plan again to export what exists now",
                    changes.join("; ")
                )
            })
        }
        Err(e) => Some(format!(
            "cannot check that the saved plan {shown} is current ({}); it is exported as saved",
            crate::exit::one_line(&e)
        )),
    }
}

/// The fingerprint of the saved plan's cluster now, taken as `plan` takes
/// it (the aws-auth file it read, if it read one).
async fn fingerprint_now(args: &ExportArgs, plan: &Plan) -> Result<crate::core::diff::Fingerprint> {
    let cluster = plan
        .cluster
        .name
        .as_deref()
        .ok_or_else(|| anyhow!("the plan names no cluster"))?;
    let file = match plan.source.kind.as_str() {
        "file" => plan.source.path.as_deref(),
        "stdin" => bail!("the plan read aws-auth from standard input, which cannot be read again"),
        _ => None,
    };
    let mut aws = args.access.conn.aws();
    if aws.region.is_none() {
        aws.region.clone_from(&plan.cluster.region);
    }
    let opts = LiveOptions::from_flags(LiveFlags {
        aws,
        file,
        ..args.access.live_flags(cluster, false, None)
    })?;
    let clients = Clients::connect(&opts.aws, &opts.iam_roles).await?;
    let gathered = live::gather(&clients, &opts).await?;
    live::plan(&gathered, &opts.translate, false)?
        .fingerprint
        .ok_or_else(|| anyhow!("the live plan has no fingerprint"))
}

/// Renders the plan and writes it (`--out`, or standard output).
fn output(args: &ExportArgs, format: ExportFormat, plan: &Plan) -> Result<i32> {
    let files = export::export(plan, format)?;
    match &args.out {
        Some(out) => write_out(out, &files)?,
        None => {
            let stdout = std::io::stdout();
            let mut w = stdout.lock();
            w.write_all(stdout_text(&files).as_bytes())
                .and_then(|()| w.flush())
                .context("cannot write the export to standard output")?;
        }
    }
    Ok(crate::exit::OK)
}

/// Standard output: one file as it is; several each after a
/// `# ==> NAME <==` line (a comment in HCL and YAML alike), separated by an
/// empty line. `--out DIR` writes them as separate files.
fn stdout_text(files: &[ExportFile]) -> String {
    match files {
        [one] => one.text.clone(),
        _ => files
            .iter()
            .map(|f| format!("# ==> {} <==\n{}", f.name, f.text))
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

/// `--out`: one file to the path (or into it, if it is a directory);
/// several into the path as a directory, created if need be. Mode 0600.
fn write_out(out: &Path, files: &[ExportFile]) -> Result<()> {
    match files {
        [one] if !out.is_dir() => files::write_private(out, one.text.as_bytes()),
        _ => {
            std::fs::create_dir_all(out)
                .with_context(|| format!("cannot create the directory {}", out.display()))?;
            for f in files {
                files::write_private(&out.join(&f.name), f.text.as_bytes())?;
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, text: &str) -> ExportFile {
        ExportFile {
            name: name.into(),
            text: text.into(),
        }
    }

    #[test]
    fn stdout_shows_one_file_bare_and_several_with_headers() {
        assert_eq!(stdout_text(&[file("a.tf", "x\n")]), "x\n");
        assert_eq!(
            stdout_text(&[file("a.tf", "x\n"), file("b.tf", "y\n")]),
            "# ==> a.tf <==\nx\n\n# ==> b.tf <==\ny\n"
        );
    }
}
