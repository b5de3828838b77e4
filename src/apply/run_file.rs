//! The run file beside a journal (`…jsonl.run.json`): the inputs of the
//! apply and the plan being executed, so `--resume` finishes that plan.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::core::plan::Plan;
use crate::files;

use super::ApplyInputs;

/// The run file beside a journal.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunFile {
    pub format_version: String,
    pub inputs: ApplyInputs,
    /// The plan whose steps run; set once the mode switch (if any) is done.
    pub plan: Option<Plan>,
}

impl RunFile {
    /// A run file of the current format.
    pub fn new(inputs: ApplyInputs, plan: Option<Plan>) -> RunFile {
        RunFile {
            format_version: "1".into(),
            inputs,
            plan,
        }
    }
}

pub fn run_file_path(journal: &Path) -> PathBuf {
    let mut s = journal.as_os_str().to_owned();
    s.push(".run.json");
    PathBuf::from(s)
}

/// Writes the run file, and with the state in S3 its copy there, beside
/// the journal's.
pub(crate) fn write_run_file(journal: &Path, run: &RunFile) -> Result<()> {
    let bytes = serde_json::to_vec_pretty(run).context("cannot encode the run file")?;
    let path = run_file_path(journal);
    files::write_private(&path, &bytes)?;
    crate::state::replica::uploaded(&path, &bytes)
        .with_context(|| format!("cannot copy {} to the S3 state", path.display()))
}

pub(crate) fn read_run_file(journal: &Path) -> Result<RunFile> {
    let path = run_file_path(journal);
    crate::state::replica::refresh(&path)
        .with_context(|| format!("cannot fetch {} from the S3 state", path.display()))?;
    let bytes = std::fs::read(&path).with_context(|| {
        format!(
            "cannot read {} (the run file written beside the journal)",
            path.display()
        )
    })?;
    serde_json::from_slice(&bytes).with_context(|| format!("{} is not a run file", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_file_sits_beside_the_journal() {
        assert_eq!(
            run_file_path(Path::new("/x/j.jsonl")),
            PathBuf::from("/x/j.jsonl.run.json")
        );
    }
}
