//! `aws-auth-migrate batch report --merge`: one fleet report from the parts
//! the runs of a fleet's shards left (docs/batch.md, "Shards").

use anyhow::{bail, Result};

use crate::batch::fleet::Fleet;
use crate::batch::parts::{self, FleetPart, LocalStore, Merged, PartStore};
use crate::cli::{BatchCommandName, BatchReportArgs, Format};
use crate::commands::batch::{fleet_id_of, given_fleet_id, render};
use crate::render::markdown::COMMENT_LIMIT;

/// Exit 0: every shard is in; 2: some are missing (named); 1: an error.
pub(crate) fn run(a: &BatchReportArgs) -> Result<i32> {
    if !a.merge {
        bail!("batch report merges the fleet report parts of a run: pass --merge");
    }
    let parts = read_parts(a)?;
    if let Some(cmd) = a.batch_command {
        if let Some(other) = parts.iter().find(|p| p.command != command_name(cmd)) {
            bail!(
                "--command {}: shard {} of {} is of batch {}",
                command_name(cmd),
                other.shard,
                other.shards,
                other.command
            );
        }
    }
    let merged = parts::merge(parts)?;
    print!("{}", show(&merged, a.output.unwrap_or(Format::Table)));
    Ok(if merged.missing.is_empty() { 0 } else { 2 })
}

fn command_name(c: BatchCommandName) -> &'static str {
    match c {
        BatchCommandName::Plan => "plan",
        BatchCommandName::Apply => "apply",
        BatchCommandName::Verify => "verify",
        BatchCommandName::Finalize => "finalize",
        BatchCommandName::Rollback => "rollback",
    }
}

/// The parts named (`--from DIR`, files), else those of the state
/// directory for the fleet and command.
fn read_parts(a: &BatchReportArgs) -> Result<Vec<FleetPart>> {
    if a.from.is_some() || !a.parts.is_empty() {
        let mut out = match &a.from {
            Some(dir) => parts::read_dir(dir)?,
            None => Vec::new(),
        };
        for p in &a.parts {
            out.push(parts::read_part(p)?);
        }
        if out.is_empty() {
            if let Some(dir) = &a.from {
                bail!("no shard-I-of-N.json in {}", dir.display());
            }
        }
        return Ok(out);
    }
    let id = match (&a.fleet, &a.fleet_id) {
        (Some(file), _) => fleet_id_of(file, &Fleet::load(file)?),
        (None, Some(id)) => given_fleet_id(id)?,
        (None, None) => bail!(
            "say which parts to merge: --fleet FILE or --fleet-id ID with --command, --from DIR, or PART files"
        ),
    };
    let Some(cmd) = a.batch_command else {
        bail!("say which run's parts to merge: --command plan|apply|verify|finalize|rollback");
    };
    if let Some(at) = crate::state::s3_location() {
        let found = parts::store()?.load(&id, command_name(cmd))?;
        if found.is_empty() {
            bail!(
                "no parts of fleet {id} for batch {} in {at}fleet/",
                command_name(cmd)
            );
        }
        return Ok(found);
    }
    let store = LocalStore::in_state_dir()?;
    let dir = store.dir(&id, command_name(cmd));
    if !dir.is_dir() {
        bail!(
            "no parts of fleet {id} for batch {} in {}",
            command_name(cmd),
            dir.display()
        );
    }
    store.load(&id, command_name(cmd))
}

/// The merged report as one run would print it, plus the missing shards:
/// a line under the table, a quoted line above the Markdown, a
/// `missing_shards` array in the JSON.
fn show(m: &Merged, format: Format) -> String {
    let line = parts::missing_line(m);
    match format {
        Format::Table => {
            let mut out = render(&m.report, Format::Table);
            if let Some(l) = line {
                out.push('\n');
                out.push_str(&l);
                out.push('\n');
            }
            out
        }
        Format::Json => {
            let json = m.report.json();
            let body = json
                .trim_end()
                .strip_suffix('}')
                .unwrap_or(&json)
                .trim_end();
            let list: Vec<String> = m.missing.iter().map(ToString::to_string).collect();
            format!("{body},\n  \"missing_shards\": [{}]\n}}\n", list.join(", "))
        }
        Format::Markdown => match line {
            None => m.report.markdown(),
            Some(l) => {
                let head = format!("> **{l}**\n\n");
                let limit = COMMENT_LIMIT.saturating_sub(head.len());
                format!("{head}{}", m.report.markdown_within(limit))
            }
        },
    }
}
