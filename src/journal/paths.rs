//! Where journals and locks live: the state directory, file names made
//! safe, private directories.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::error::{JournalError, Result};

pub(super) fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)
}

/// Keeps ASCII letters, digits, `.`, `_` and `-`; replaces anything else
/// with `_`, and a leading `.` too.
pub(crate) fn safe_name(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.starts_with('.') || out.is_empty() {
        out.insert(0, '_');
    }
    out
}

/// `--state-dir`, set once at start by `lib::run`.
static STATE_DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

/// The variable that names the state directory (as `--state-dir`).
pub(crate) const STATE_DIR_VAR: &str = "AWS_AUTH_MIGRATE_STATE_DIR";

/// Sets the state directory for this process (`--state-dir`); relative
/// paths are taken from the working directory.
pub(crate) fn set_state_dir(dir: &Path) -> std::io::Result<()> {
    let dir = std::path::absolute(dir)?;
    // Set once, before any command runs: a second call keeps the first.
    let _ = STATE_DIR.set(dir);
    Ok(())
}

/// The tool's state directory (journals, backups, locks): `--state-dir`,
/// else `AWS_AUTH_MIGRATE_STATE_DIR`, else `$XDG_STATE_HOME/aws-auth-migrate`
/// when `XDG_STATE_HOME` is an absolute path, else
/// `$HOME/.local/state/aws-auth-migrate`.
pub(crate) fn state_dir() -> Result<PathBuf> {
    if let Some(dir) = STATE_DIR.get() {
        return Ok(dir.clone());
    }
    if let Some(dir) = std::env::var_os(STATE_DIR_VAR).filter(|v| !v.is_empty()) {
        return std::path::absolute(PathBuf::from(dir)).map_err(|_| JournalError::NoStateDir);
    }
    state_dir_from(std::env::var_os("XDG_STATE_HOME"), std::env::var_os("HOME"))
}

/// [`state_dir`] from given values of `XDG_STATE_HOME` and HOME.
pub(crate) fn state_dir_from(
    xdg_state_home: Option<OsString>,
    home: Option<OsString>,
) -> Result<PathBuf> {
    let absolute = |v: Option<OsString>| v.map(PathBuf::from).filter(|p| p.is_absolute());
    if let Some(x) = absolute(xdg_state_home) {
        return Ok(x.join("aws-auth-migrate"));
    }
    if let Some(h) = absolute(home) {
        return Ok(h.join(".local").join("state").join("aws-auth-migrate"));
    }
    Err(JournalError::NoStateDir)
}

/// The default journal path: `{state_dir}/{cluster}-{migration_id}.jsonl`.
pub(crate) fn default_path(cluster_name: &str, migration_id: &str) -> Result<PathBuf> {
    Ok(journal_file_in(&state_dir()?, cluster_name, migration_id))
}

/// The journal file name under `dir`, both parts made safe for a file name.
pub(crate) fn journal_file_in(dir: &Path, cluster_name: &str, migration_id: &str) -> PathBuf {
    dir.join(format!(
        "{}-{}.jsonl",
        safe_name(cluster_name),
        safe_name(migration_id)
    ))
}
