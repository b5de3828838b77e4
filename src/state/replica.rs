//! Local files and their copies in the S3 state.
//!
//! Which key a local file has: a file in a folder mirrored with [`mirror`]
//! (a batch run's output folder) is `{prefix}{folder key}{file name}`;
//! any other journal is `{prefix}journals/{file name}`. Journals are
//! pushed whole after every durable record ([`Replica`], conditional on
//! the version last pushed), other files after they are written
//! ([`uploaded`]); readers fetch S3's copy first ([`refresh`], [`pull`]).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::{block, remote, Remote, StateError};
use crate::aws::s3::{Put, S3Error};

/// Folders whose files have keys of their own: (absolute folder, key part).
static MIRRORS: Mutex<Vec<(PathBuf, String)>> = Mutex::new(Vec::new());

/// Files written in `dir` are kept in S3 under `{prefix}{key_part}`
/// (`key_part` ends in `/`). No effect with a local state.
pub(crate) fn mirror(dir: &Path, key_part: &str) {
    let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    let mut m = MIRRORS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    m.retain(|(d, _)| *d != dir);
    m.push((dir, key_part.to_string()));
}

/// The key part of a mirrored folder's file, if `path` is in one.
fn mirrored(path: &Path) -> Option<String> {
    let path = std::path::absolute(path).ok()?;
    let (dir, name) = (path.parent()?, path.file_name()?.to_str()?);
    let m = MIRRORS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    m.iter()
        .find(|(d, _)| d == dir)
        .map(|(_, k)| format!("{k}{name}"))
}

/// The key (under the prefix) of the file at `path`: in a mirrored
/// folder, its key there; else `journals/{file name}`.
fn key_of(path: &Path) -> String {
    mirrored(path).unwrap_or_else(|| {
        let name = path
            .file_name()
            .map_or_else(|| "journal".into(), |n| n.to_string_lossy().to_string());
        format!("journals/{name}")
    })
}

/// A journal's copy in S3, pushed whole after each durable record.
#[derive(Debug)]
pub(crate) struct Replica {
    remote: Arc<Remote>,
    key: String,
    /// The version last pushed or fetched (`None`: none yet, so the first
    /// push creates the object and fails if one exists).
    etag: Mutex<Option<String>>,
}

impl Replica {
    /// The replica of the journal at `path`, `None` with a local state.
    /// `etag` is the version fetched by [`refresh`] (when continuing one).
    pub(crate) fn of(path: &Path, etag: Option<String>) -> Result<Option<Replica>, StateError> {
        let Some(remote) = remote()? else {
            return Ok(None);
        };
        Ok(Some(Replica {
            key: remote.at.key(&key_of(path)),
            remote,
            etag: Mutex::new(etag),
        }))
    }

    /// `s3://bucket/key`.
    pub(crate) fn url(&self) -> String {
        format!("s3://{}/{}", self.remote.s3.bucket(), self.key)
    }

    /// Pushes the journal's whole content: creates the object the first
    /// time, then replaces only the version this run pushed last, so a
    /// second writer (which the lock should have stopped) is detected.
    pub(crate) fn push(&self, bytes: Vec<u8>) -> Result<(), StateError> {
        let mut etag = self
            .etag
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let how = etag.clone().map_or(Put::Create, Put::Replace);
        let new = block(self.remote.s3.put(&self.key, bytes, how))??;
        *etag = Some(new);
        Ok(())
    }
}

/// Replaces the local file at `path` (a journal, a run file) with its copy in the S3
/// state when there is one; returns that copy's ETag. `Ok(None)`: a
/// local state, or no copy in S3 (the local file, if any, is used).
pub(crate) fn refresh(path: &Path) -> Result<Option<String>, StateError> {
    let Some(remote) = remote()? else {
        return Ok(None);
    };
    let key = remote.at.key(&key_of(path));
    fetch_to(&remote, &key, path)
}

fn fetch_to(remote: &Remote, key: &str, path: &Path) -> Result<Option<String>, StateError> {
    let Some(obj) = block(remote.s3.get(key))?? else {
        return Ok(None);
    };
    crate::files::write_private(path, &obj.body).map_err(|e| StateError::Write {
        path: path.display().to_string(),
        message: format!("{e:#}"),
    })?;
    Ok(Some(obj.etag))
}

/// Whether a journal exists at `path` or in the S3 state.
pub(crate) fn exists(path: &Path) -> Result<bool, StateError> {
    if path.exists() {
        return Ok(true);
    }
    let Some(remote) = remote()? else {
        return Ok(false);
    };
    let key = remote.at.key(&key_of(path));
    Ok(block(remote.s3.get(&key))??.is_some())
}

/// Copies a file just written (a run file beside a journal, a batch
/// plan or manifest) to S3; no effect with a local state.
pub(crate) fn uploaded(path: &Path, bytes: &[u8]) -> Result<(), StateError> {
    let Some(remote) = remote()? else {
        return Ok(());
    };
    let key = remote.at.key(&key_of(path));
    block(remote.s3.put(&key, bytes.to_vec(), Put::Overwrite))??;
    Ok(())
}

/// Fetches every object of the mirrored folder `dir` (see [`mirror`])
/// into it, replacing local files: what another machine's run left. No
/// effect with a local state. Returns how many files came down.
pub(crate) fn pull(dir: &Path, key_part: &str) -> Result<usize, StateError> {
    let Some(remote) = remote()? else {
        return Ok(0);
    };
    let prefix = remote.at.key(key_part);
    let keys = block(remote.s3.list(&prefix))??;
    let mut n = 0;
    for key in keys {
        let Some(name) = key.strip_prefix(&prefix) else {
            continue;
        };
        // Only the folder's own files; never a path out of it.
        if name.is_empty() || name.contains('/') || name.starts_with('.') {
            continue;
        }
        if fetch_to(&remote, &key, &dir.join(name))?.is_some() {
            n += 1;
        }
    }
    Ok(n)
}

/// Objects under `key_part` (relative to the prefix): their names after
/// it and their bodies. Empty with a local state.
pub(crate) fn list_objects(key_part: &str) -> Result<Vec<(String, Vec<u8>)>, StateError> {
    let Some(remote) = remote()? else {
        return Ok(Vec::new());
    };
    let prefix = remote.at.key(key_part);
    let mut out = Vec::new();
    for key in block(remote.s3.list(&prefix))?? {
        if let Some(obj) = block(remote.s3.get(&key))?? {
            out.push((key[prefix.len()..].to_string(), obj.body));
        }
    }
    Ok(out)
}

/// The names of the objects under `key_part` (after it), without their
/// bodies. Empty with a local state.
pub(crate) fn list_names(key_part: &str) -> Result<Vec<String>, StateError> {
    let Some(remote) = remote()? else {
        return Ok(Vec::new());
    };
    let prefix = remote.at.key(key_part);
    Ok(block(remote.s3.list(&prefix))??
        .into_iter()
        .map(|k| k[prefix.len()..].to_string())
        .collect())
}

/// Puts one object under the prefix; returns its URL.
pub(crate) fn put_object(key_part: &str, bytes: Vec<u8>) -> Result<String, StateError> {
    let Some(remote) = remote()? else {
        return Ok(String::new());
    };
    let key = remote.at.key(key_part);
    block(remote.s3.put(&key, bytes, Put::Overwrite))??;
    Ok(remote.at.url(key_part))
}

/// Deletes one object under the prefix.
pub(crate) fn delete_object(key_part: &str) -> Result<(), StateError> {
    let Some(remote) = remote()? else {
        return Ok(());
    };
    block(remote.s3.delete(&remote.at.key(key_part), None))??;
    Ok(())
}

/// A lost conditional write as the error it is.
pub(crate) fn is_conflict(e: &StateError) -> bool {
    matches!(e, StateError::S3(S3Error::Precondition { .. }))
}
