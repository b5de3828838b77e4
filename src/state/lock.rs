//! The per-cluster lock in the S3 state, as Terraform's S3 lock file:
//! an object `{prefix}locks/{cluster}.lock` created with a conditional
//! write (`If-None-Match: *`), so of two runs only one creates it. It says
//! who holds it (id, who, host, pid, operation, when, version). It is
//! never broken by guessing that its holder is gone (a CI runner that
//! vanished cannot be asked): only `--force-unlock ID` breaks it, ID being
//! the run id it names. Released (deleted) when the run ends.

use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Serialize};

use super::{block, remote, run_id, this_host, Remote, StateError};
use crate::aws::s3::{Put, S3Error};

/// What a lock object holds (JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct LockInfo {
    /// The run id of the holder: `--force-unlock` names it.
    #[serde(rename = "ID")]
    pub(crate) id: String,
    /// The command holding it (`apply`, `batch apply`, ...).
    #[serde(rename = "Operation")]
    pub(crate) operation: String,
    /// `user@host`.
    #[serde(rename = "Who")]
    pub(crate) who: String,
    #[serde(rename = "Host")]
    pub(crate) host: String,
    #[serde(rename = "Pid")]
    pub(crate) pid: u32,
    /// RFC 3339, UTC.
    #[serde(rename = "Created")]
    pub(crate) created: String,
    #[serde(rename = "Version")]
    pub(crate) version: String,
    /// The lock's own URL.
    #[serde(rename = "Path")]
    pub(crate) path: String,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum RemoteLockError {
    #[error(
        "{} is held by run {} ({} on host {}, pid {}, {} since {}); if that run is no longer active (its runner was killed or vanished), run again with --force-unlock {}",
        info.path, info.id, info.who, info.host, info.pid, info.operation, info.created, info.id
    )]
    Held { info: Box<LockInfo> },
    #[error("{url} holds no lock this tool wrote ({content:?}); if no run is active, delete that object")]
    Unreadable { url: String, content: String },
    #[error("{0}")]
    State(#[from] StateError),
}

impl From<S3Error> for RemoteLockError {
    fn from(e: S3Error) -> Self {
        RemoteLockError::State(e.into())
    }
}

/// The command this process runs, for lock objects (`apply`,
/// `batch apply`, ...): set once at start.
static OPERATION: OnceLock<String> = OnceLock::new();

pub(crate) fn set_operation(op: &str) {
    let _ = OPERATION.set(op.to_string());
}

/// A lock held in the S3 state; released on drop.
#[derive(Debug)]
pub(crate) struct RemoteLock {
    remote: Arc<Remote>,
    key: String,
    /// The lock of a killed run that `--force-unlock` broke to take this one.
    broke: Option<LockInfo>,
}

impl RemoteLock {
    /// Takes the lock of `cluster_key` (a name safe in a key), or says who
    /// holds it. `Ok(None)` with a local state.
    pub(crate) fn acquire(cluster_key: &str) -> Result<Option<RemoteLock>, RemoteLockError> {
        let Some(remote) = remote()? else {
            return Ok(None);
        };
        let rel = format!("locks/{cluster_key}.lock");
        let key = remote.at.key(&rel);
        let url = remote.at.url(&rel);
        let info = LockInfo {
            id: run_id().to_string(),
            operation: OPERATION.get().cloned().unwrap_or_default(),
            who: format!("{}@{}", user(), this_host()),
            host: this_host(),
            pid: std::process::id(),
            created: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            version: env!("CARGO_PKG_VERSION").to_string(),
            path: url.clone(),
        };
        let body = serde_json::to_vec_pretty(&info).unwrap_or_default();
        let mut broke = None;
        // Three rounds: a lock released, or broken by --force-unlock,
        // between our create and our read is tried again.
        for _ in 0..3 {
            match block(remote.s3.put(&key, body.clone(), Put::Create))? {
                Ok(_) => return Ok(Some(RemoteLock { remote, key, broke })),
                Err(S3Error::Precondition { .. }) => {}
                Err(e) => return Err(e.into()),
            }
            let Some(obj) = block(remote.s3.get(&key))?? else {
                continue;
            };
            let holder: LockInfo = match serde_json::from_slice(&obj.body) {
                Ok(h) => h,
                Err(_) => {
                    return Err(RemoteLockError::Unreadable {
                        url,
                        content: String::from_utf8_lossy(&obj.body)
                            .chars()
                            .take(200)
                            .collect(),
                    })
                }
            };
            match super::force_unlock() {
                Some(id) if id == holder.id => {
                    block(remote.s3.delete(&key, None))??;
                    broke = Some(holder);
                }
                _ => {
                    return Err(RemoteLockError::Held {
                        info: Box::new(holder),
                    })
                }
            }
        }
        Err(RemoteLockError::Unreadable {
            url,
            content: "created and removed again and again by other runs".into(),
        })
    }

    pub(crate) fn url(&self) -> String {
        format!("s3://{}/{}", self.remote.s3.bucket(), self.key)
    }

    /// A line to print when `--force-unlock` broke a killed run's lock.
    pub(crate) fn message(&self) -> Option<String> {
        self.broke.as_ref().map(|h| {
            format!(
                "broke the lock {} of run {} ({} on host {}, {} since {}), as --force-unlock asked",
                h.path, h.id, h.who, h.host, h.operation, h.created
            )
        })
    }
}

impl Drop for RemoteLock {
    fn drop(&mut self) {
        // Delete it only while it is still ours: a run that lost it to
        // --force-unlock must not remove the new holder's lock.
        let (s3, key) = (&self.remote.s3, &self.key);
        let _ = block(async {
            if let Ok(Some(obj)) = s3.get(key).await {
                let ours = serde_json::from_slice::<LockInfo>(&obj.body)
                    .is_ok_and(|h| h.id == run_id() && h.pid == std::process::id());
                if ours {
                    let _ = s3.delete(key, None).await;
                }
            }
        });
    }
}

/// The user name of the environment (`USER`, else `USERNAME`).
fn user() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .ok()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| "unknown".into())
}
