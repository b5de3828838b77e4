//! The per-cluster lock that keeps two runs on one machine from working on
//! the same cluster at once.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::paths::{create_private_dir, safe_name};

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "another aws-auth-migrate (pid {pid}) is working on this cluster (lock {path}); if no such process runs, remove the lock file"
    )]
    Held { pid: u32, path: PathBuf },
    #[error("lock {path} holds {content:?}, not a process id: if no aws-auth-migrate runs, remove the file")]
    Unreadable { path: PathBuf, content: String },
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
}

impl ClusterLock {
    /// Takes the lock, or fails with [`LockError::Held`] naming the holder.
    /// A lock left by a process that no longer runs (no `/proc/<pid>`) is
    /// taken over; [`ClusterLock::took_over`] then names that pid.
    pub fn acquire(dir: &Path, cluster_key: &str) -> std::result::Result<ClusterLock, LockError> {
        let path = dir.join(format!("{}.lock", safe_name(cluster_key)));
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
            let holder: u32 = content.trim().parse().map_err(|_| LockError::Unreadable {
                path: path.clone(),
                content: content.clone(),
            })?;
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
        match content.trim().parse() {
            Ok(holder) => Err(LockError::Held { pid: holder, path }),
            Err(_) => Err(LockError::Unreadable { path, content }),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The pid of a dead process whose stale lock was taken over.
    pub fn took_over(&self) -> Option<u32> {
        self.took_over
    }

    /// A line to print when a stale lock was taken over.
    pub fn message(&self) -> Option<String> {
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
        // Remove it only while it is still ours.
        if let Ok(c) = std::fs::read_to_string(&self.path) {
            if c.trim() == self.pid.to_string() {
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
        .write_all(format!("{pid}\n").as_bytes())
        .and_then(|()| f.sync_data());
    if res.is_err() {
        let _ = std::fs::remove_file(path);
    }
    res
}

/// Whether a process runs: `/proc/<pid>` exists (Linux). Elsewhere, where
/// this cannot be known without a system call, a lock is assumed held.
fn process_alive(pid: u32) -> bool {
    let proc_root = Path::new("/proc");
    if cfg!(target_os = "linux") && proc_root.join("self").exists() {
        proc_root.join(pid.to_string()).exists()
    } else {
        true
    }
}
