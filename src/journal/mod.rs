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

pub use error::{JournalError, Result};
pub use format::{
    ClusterInfo, Command, Header, IntentRecord, JournalContents, OutcomeRecord, Record,
    FORMAT_VERSION,
};
pub use history::{diverged, effective, pending};
pub use lock::{ClusterLock, LockError};
pub use paths::{default_path, journal_file_in, safe_name, state_dir, state_dir_from};
pub use read::read;
pub use writer::Journal;

#[cfg(test)]
mod tests;
