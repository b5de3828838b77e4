//! What can go wrong reading or writing a journal.

use std::path::{Path, PathBuf};

use super::format::FORMAT_VERSION;

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("journal {path} already exists: choose another path, or resume it with --resume")]
    Exists { path: PathBuf },
    #[error("journal {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("journal {path} has no header line: it is empty or was never completely written")]
    NoHeader { path: PathBuf },
    #[error("journal {path} is corrupt at line {line}: {message}")]
    Corrupt {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error(
        "journal {path} has format_version {version}; this tool reads version {FORMAT_VERSION}"
    )]
    UnsupportedVersion { path: PathBuf, version: String },
    #[error("journal {path}: no intent with seq {seq} awaits an outcome")]
    UnknownIntent { path: PathBuf, seq: u64 },
    #[error("journal {path}: an earlier write failed, so nothing more is written to it")]
    Poisoned { path: PathBuf },
    #[error("journal {path}: its copy in the S3 state: {message}; nothing more is done until it is there (run again, or resume)")]
    Replica { path: PathBuf, message: String },
    #[error("journal {path}: its copy in the S3 state was changed by another run; stop that run, or resume from the copy in S3")]
    ReplicaConflict { path: PathBuf },
    #[error("journal {url} already exists in the S3 state: choose another --journal name, or resume it with --resume")]
    ExistsInState { url: String },
    #[error("cannot encode a journal record: {0}")]
    Encode(#[from] serde_json::Error),
    #[error("no state directory: pass --state-dir DIR (or set AWS_AUTH_MIGRATE_STATE_DIR), or set XDG_STATE_HOME or HOME to an absolute path")]
    NoStateDir,
}

pub(crate) type Result<T> = std::result::Result<T, JournalError>;

pub(super) fn replica_err(
    path: &Path,
) -> impl FnOnce(crate::state::StateError) -> JournalError + '_ {
    move |e| {
        if crate::state::replica::is_conflict(&e) {
            JournalError::ReplicaConflict {
                path: path.to_path_buf(),
            }
        } else {
            JournalError::Replica {
                path: path.to_path_buf(),
                message: e.to_string(),
            }
        }
    }
}

pub(super) fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> JournalError + '_ {
    move |source| JournalError::Io {
        path: path.to_path_buf(),
        source,
    }
}
