//! The per-cluster lock that keeps two runs from working on the same
//! cluster at once: a file created exclusively in the state directory,
//! naming its owner's pid and host. Exclusive creation is atomic on local
//! file systems and on NFSv3+ and EFS, so machines that share the state
//! directory (`--state-dir` on a shared volume) exclude one another. A lock
//! left by a process of this host that no longer runs is taken over; a lock
//! of another host never is (its liveness cannot be checked from here): the
//! message names the host, and the file is removed by hand.
//!
//! With the state in S3 (`--state s3://...`) the lock is an S3 object
//! instead ([`crate::state::lock`]), broken only by `--force-unlock`.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::paths::{create_private_dir, safe_name};
use crate::state::lock::{RemoteLock, RemoteLockError};
pub(crate) use crate::state::this_host;

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "another aws-auth-migrate (pid {pid}) is working on this cluster (lock {path}); if no such process runs, remove the lock file"
    )]
    Held { pid: u32, path: PathBuf },
    #[error(
        "another aws-auth-migrate (pid {pid} on host {host}) is working on this cluster (lock {path}); a lock of another host is never taken over: if no run is active there, remove the lock file"
    )]
    HeldElsewhere {
        pid: u32,
        host: String,
        path: PathBuf,
    },
    #[error("lock {path} holds {content:?}, not a process id: if no aws-auth-migrate runs, remove the file")]
    Unreadable { path: PathBuf, content: String },
    /// The S3 state's lock (its message says who holds it, and how to
    /// break it).
    #[error("{0}")]
    Remote(String),
    #[error("lock {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// A per-cluster lock: the file `{dir}/{cluster_key}.lock`, created
/// exclusively and holding the owner's pid. Removed on drop.
#[derive(Debug)]
pub struct ClusterLock {
    path: PathBuf,
    pid: u32,
    took_over: Option<u32>,
    /// The lock in the S3 state (then no file is created).
    remote: Option<RemoteLock>,
}

impl ClusterLock {
    /// Takes the lock, or fails with [`LockError::Held`] naming the holder.
    /// A lock left by a process that no longer runs (no `/proc/<pid>`) is
    /// taken over; [`ClusterLock::took_over`] then names that pid.
    pub fn acquire(dir: &Path, cluster_key: &str) -> std::result::Result<ClusterLock, LockError> {
        let path = dir.join(format!("{}.lock", safe_name(cluster_key)));
        // The state directory is the working copy of an S3 state too.
        create_private_dir(dir).map_err(|source| LockError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let remote = RemoteLock::acquire(&safe_name(cluster_key))
            .map_err(|e: RemoteLockError| LockError::Remote(e.to_string()))?;
        if let Some(remote) = remote {
            return Ok(ClusterLock {
                path: PathBuf::from(remote.url()),
                pid: std::process::id(),
                took_over: None,
                remote: Some(remote),
            });
        }
        let lock_io = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        create_private_dir(dir).map_err(|source| LockError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let pid = std::process::id();
        let mut took_over = None;
        // Two rounds: a stale lock is removed and creation tried once more.
        for _ in 0..2 {
            match create_lock_file(&path, pid) {
                Ok(()) => {
                    return Ok(ClusterLock {
                        path,
                        pid,
                        took_over,
                        remote: None,
                    })
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(lock_io(e)),
            }
            let content = match std::fs::read_to_string(&path) {
                Ok(c) => c,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(lock_io(e)),
            };
            let (holder, host) = parse_owner(&content).ok_or_else(|| LockError::Unreadable {
                path: path.clone(),
                content: content.clone(),
            })?;
            if let Some(host) = host.filter(|h| *h != this_host()) {
                return Err(LockError::HeldElsewhere {
                    pid: holder,
                    host: host.to_string(),
                    path,
                });
            }
            if process_alive(holder) {
                return Err(LockError::Held { pid: holder, path });
            }
            // Stale: remove it only if it still names the dead holder.
            match std::fs::read_to_string(&path) {
                Ok(again) if again == content => {
                    std::fs::remove_file(&path).map_err(lock_io)?;
                    took_over = Some(holder);
                }
                Ok(_) | Err(_) => {}
            }
        }
        // Someone else took it between our reads.
        let content = std::fs::read_to_string(&path).unwrap_or_default();
        match parse_owner(&content) {
            Some((pid, Some(host))) if host != this_host() => Err(LockError::HeldElsewhere {
                pid,
                host: host.to_string(),
                path,
            }),
            Some((pid, _)) => Err(LockError::Held { pid, path }),
            None => Err(LockError::Unreadable { path, content }),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The pid of a dead process whose stale lock was taken over.
    pub fn took_over(&self) -> Option<u32> {
        self.took_over
    }

    /// A line to print when a stale lock was taken over (or a killed
    /// run's S3 lock broken by `--force-unlock`).
    pub fn message(&self) -> Option<String> {
        if let Some(r) = &self.remote {
            return r.message();
        }
        self.took_over.map(|p| {
            format!(
                "took over the lock {} left by pid {p}, which no longer runs",
                self.path.display()
            )
        })
    }
}

impl Drop for ClusterLock {
    fn drop(&mut self) {
        // The S3 lock releases itself.
        if self.remote.is_some() {
            return;
        }
        // Remove it only while it is still ours.
        if let Ok(c) = std::fs::read_to_string(&self.path) {
            if c == owner_line(self.pid) {
                let _ = std::fs::remove_file(&self.path);
            }
        }
    }
}

fn create_lock_file(path: &Path, pid: u32) -> std::io::Result<()> {
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    let res = f
        .write_all(owner_line(pid).as_bytes())
        .and_then(|()| f.sync_data());
    if res.is_err() {
        let _ = std::fs::remove_file(path);
    }
    res
}

/// What the lock file holds: `PID HOST` and a newline.
fn owner_line(pid: u32) -> String {
    format!("{pid} {}\n", this_host())
}

/// The pid and host of a lock file's content; a lock written by an earlier
/// version holds the pid alone (same host assumed).
pub(crate) fn parse_owner(content: &str) -> Option<(u32, Option<&str>)> {
    let mut parts = content.split_whitespace();
    let pid = parts.next()?.parse().ok()?;
    let host = parts.next();
    if parts.next().is_some() {
        return None;
    }
    Some((pid, host))
}

/// Whether a process of this host runs: `kill(pid, 0)` succeeds, or fails
/// only for lack of permission (unix); elsewhere the lock is assumed held.
fn process_alive(pid: u32) -> bool {
    #[cfg(unix)]
    {
        let Ok(pid) = libc::pid_t::try_from(pid) else {
            return true;
        };
        if pid <= 0 {
            return true;
        }
        // SAFETY: signal 0 checks that the process exists; nothing is sent.
        let rc = unsafe { libc::kill(pid, 0) };
        rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        true
    }
}
