//! The journal: the rollback record of an `apply` or a `rollback`, an
//! append-only JSON Lines file (format in docs/journal.md). Each record is
//! written and fsync'd before the call it describes (intent) and after it
//! (outcome), so after a crash at any instant the file says which calls
//! may have been made. Also the per-cluster lock that keeps two runs on
//! one machine from working on the same cluster at once.

mod error;
mod format;
mod history;
mod lock;
mod paths;
mod read;
mod writer;

pub(crate) use error::JournalError;
pub(crate) use format::{ClusterInfo, Command, Header, JournalContents};
pub(crate) use history::diverged;
pub use history::{effective, pending};
pub(crate) use lock::ClusterLock;
pub(crate) use paths::{default_path, safe_name, set_state_dir, state_dir};
// Named by the unit tests only.
use error::Result;
#[cfg(test)]
pub(crate) use format::{IntentRecord, OutcomeRecord, Record};
#[cfg(test)]
pub(crate) use lock::LockError;
#[cfg(test)]
pub(crate) use paths::{journal_file_in, state_dir_from};
pub use read::read;

/// Whether a journal is at `path`, or (with the state in S3) its copy is
/// in the state.
pub(crate) fn exists(path: &std::path::Path) -> Result<bool> {
    crate::state::replica::exists(path).map_err(error::replica_err(path))
}
pub(crate) use writer::Journal;

#[cfg(test)]
mod tests;
