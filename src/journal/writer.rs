//! The journal writer: appends records in seq order, each durable before
//! the call it describes (intent) and after it (outcome), with group commit
//! so concurrent workers share syncs.

use std::collections::BTreeSet;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::error::{io_err, replica_err, JournalError, Result};
use super::format::{now, Header, IntentRecord, JournalContents, OutcomeRecord, Record};
use super::history::pending;
use super::paths::create_private_dir;
use crate::core::diff::ExistingEntry;
use crate::core::steps::{Outcome, Step};
use crate::state::replica::{self, Replica};

// pub(super): the group-commit unit test drives `append` and `make_durable`.
pub(super) struct Inner {
    file: File,
    next_seq: u64,
    open: BTreeSet<u64>,
    poisoned: bool,
    /// Records written so far (not necessarily on disk yet).
    written: u64,
}

/// Group commit: a record is durable once a `sync_data` that started after
/// it was written has returned. Workers that wrote while another was
/// syncing share the next sync instead of queueing one each.
pub(super) struct Durability {
    /// A second handle on the journal's file, synced outside `Inner`'s lock
    /// so that writers are not held up by a sync in progress.
    file: File,
    /// Records known to be on disk.
    synced: u64,
    /// Syncs done (for tests).
    pub(super) syncs: u64,
}

/// An open journal, appending. Methods take `&self` and serialise writes
/// internally, so one journal can be shared (`Arc<Journal>`) by concurrent
/// workers.
pub struct Journal {
    path: PathBuf,
    header: Header,
    inner: Mutex<Inner>,
    pub(super) durability: Mutex<Durability>,
    /// The journal's copy in the S3 state (`--state s3://...`), pushed
    /// whole once each record is on disk and before the call it guards.
    replica: Option<Replica>,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal").field("path", &self.path).finish()
    }
}

impl Journal {
    /// Creates a new journal (mode 0600; parent directories 0700) and writes
    /// its header. Refuses an existing file.
    pub fn create(path: &Path, header: Header) -> Result<Journal> {
        if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            create_private_dir(dir).map_err(io_err(dir))?;
        }
        let mut opts = OpenOptions::new();
        opts.append(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let file = opts.open(path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                JournalError::Exists {
                    path: path.to_path_buf(),
                }
            } else {
                io_err(path)(e)
            }
        })?;
        let replica = match Replica::of(path, None) {
            Ok(r) => r,
            Err(e) => {
                let _ = std::fs::remove_file(path);
                return Err(replica_err(path)(e));
            }
        };
        let journal = Journal::new(path, header.clone(), file, 1, BTreeSet::new(), replica)?;
        if let Err(e) = journal.write(&Record::Header(header)) {
            // A journal of the same name in the S3 state: this one is not
            // started, and the local file goes.
            let _ = std::fs::remove_file(path);
            return Err(match (e, &journal.replica) {
                (JournalError::ReplicaConflict { .. }, Some(r)) => {
                    JournalError::ExistsInState { url: r.url() }
                }
                (e, _) => e,
            });
        }
        sync_dir(path);
        Ok(journal)
    }

    /// Opens an existing journal to continue it (resume): reads and checks
    /// it, cuts off a torn last line, and continues its seq. Returns what it
    /// read, for settling the pending intents.
    pub fn open_append(path: &Path) -> Result<(Journal, JournalContents)> {
        // The S3 state's copy is authoritative: it holds every record whose
        // call may have been made (see `make_durable`).
        let etag = replica::refresh(path).map_err(replica_err(path))?;
        let contents = super::read::read_local(path)?;
        let file = OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(io_err(path))?;
        if contents.torn_line.is_some() {
            file.set_len(contents.valid_len)
                .and_then(|()| file.sync_data())
                .map_err(io_err(path))?;
        }
        let open = pending(&contents).iter().map(|i| i.seq).collect();
        let replica = Replica::of(path, etag).map_err(replica_err(path))?;
        let journal = Journal::new(
            path,
            contents.header.clone(),
            file,
            contents.last_seq() + 1,
            open,
            replica,
        )?;
        Ok((journal, contents))
    }

    fn new(
        path: &Path,
        header: Header,
        file: File,
        next_seq: u64,
        open: BTreeSet<u64>,
        replica: Option<Replica>,
    ) -> Result<Journal> {
        let sync_handle = file.try_clone().map_err(io_err(path))?;
        Ok(Journal {
            path: path.to_path_buf(),
            header,
            inner: Mutex::new(Inner {
                file,
                next_seq,
                open,
                poisoned: false,
                written: 0,
            }),
            durability: Mutex::new(Durability {
                file: sync_handle,
                synced: 0,
                syncs: 0,
            }),
            replica,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn header(&self) -> &Header {
        &self.header
    }

    /// Records, durably, that `step` is about to be executed, with the state
    /// it will change and its inverse. Returns the intent's seq.
    pub fn intent(&self, step: &Step, prior: Option<&ExistingEntry>) -> Result<u64> {
        let mut inner = self.lock_inner();
        let seq = inner.next_seq;
        let record = Record::Intent(IntentRecord {
            seq,
            at: now(),
            step: step.clone(),
            prior: prior.cloned(),
            inverse: step.inverse(),
        });
        let ticket = self.append(&mut inner, &record)?;
        inner.next_seq += 1;
        inner.open.insert(seq);
        drop(inner);
        self.make_durable(ticket)?;
        Ok(seq)
    }

    /// Records, durably, what became of the intent `intent_seq`. Returns the
    /// outcome record's own seq. Credential-like fields of a `done`
    /// response are redacted.
    pub fn outcome(&self, intent_seq: u64, outcome: Outcome) -> Result<u64> {
        let mut inner = self.lock_inner();
        if !inner.open.contains(&intent_seq) {
            return Err(JournalError::UnknownIntent {
                path: self.path.clone(),
                seq: intent_seq,
            });
        }
        let outcome = match outcome {
            Outcome::Done { mut response } => {
                redact(&mut response);
                Outcome::Done { response }
            }
            other => other,
        };
        let seq = inner.next_seq;
        let record = Record::Outcome(OutcomeRecord {
            seq,
            intent: intent_seq,
            at: now(),
            outcome,
        });
        let ticket = self.append(&mut inner, &record)?;
        inner.next_seq += 1;
        inner.open.remove(&intent_seq);
        drop(inner);
        self.make_durable(ticket)?;
        Ok(seq)
    }

    /// Intents written or read back that have no outcome yet.
    pub fn open_intents(&self) -> Vec<u64> {
        self.lock_inner().open.iter().copied().collect()
    }

    pub(super) fn lock_inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic elsewhere while holding the lock cannot leave a half-written
        // record in memory: the guard data stays consistent.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self, record: &Record) -> Result<()> {
        let ticket = self.append(&mut self.lock_inner(), record)?;
        self.make_durable(ticket)
    }

    /// Writes one record (a single append, in seq order); returns its
    /// ticket for [`Journal::make_durable`].
    pub(super) fn append(&self, inner: &mut Inner, record: &Record) -> Result<u64> {
        if inner.poisoned {
            return Err(JournalError::Poisoned {
                path: self.path.clone(),
            });
        }
        let mut line = serde_json::to_vec(record)?;
        line.push(b'\n');
        if let Err(e) = inner.file.write_all(&line) {
            // The file may now end in a partial line; a reader ignores it,
            // but anything appended after it would be corruption.
            inner.poisoned = true;
            return Err(io_err(&self.path)(e));
        }
        inner.written += 1;
        Ok(inner.written)
    }

    /// Returns once the record of `ticket` (and every one before it) is on
    /// disk. One caller syncs at a time; a caller whose record a finished
    /// sync already covered returns at once, so concurrent workers share
    /// syncs. A failed sync poisons the journal.
    pub(super) fn make_durable(&self, ticket: u64) -> Result<()> {
        let mut d = self
            .durability
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if d.synced >= ticket {
            return Ok(());
        }
        // Everything written before this sync starts is covered by it.
        let covered = {
            let inner = self.lock_inner();
            if inner.poisoned {
                return Err(JournalError::Poisoned {
                    path: self.path.clone(),
                });
            }
            inner.written
        };
        if let Err(e) = d.file.sync_data() {
            self.lock_inner().poisoned = true;
            return Err(io_err(&self.path)(e));
        }
        if let Some(r) = &self.replica {
            // The whole file, as synced: S3 holds the records this sync
            // covered before any of their calls is made.
            let pushed = std::fs::read(&self.path)
                .map_err(io_err(&self.path))
                .and_then(|bytes| r.push(bytes).map_err(replica_err(&self.path)));
            if let Err(e) = pushed {
                self.lock_inner().poisoned = true;
                return Err(e);
            }
        }
        d.synced = covered;
        d.syncs += 1;
        Ok(())
    }
}

/// Replaces the values of credential-like keys (secret, password, session
/// token, access key, credential) anywhere in `v` with `"[redacted]"`.
fn redact(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, val) in map.iter_mut() {
                let key: String = k
                    .chars()
                    .filter(char::is_ascii_alphanumeric)
                    .collect::<String>()
                    .to_ascii_lowercase();
                let secret = [
                    "secret",
                    "password",
                    "sessiontoken",
                    "accesskey",
                    "credential",
                ]
                .iter()
                .any(|s| key.contains(s));
                if secret {
                    *val = serde_json::Value::String("[redacted]".into());
                } else {
                    redact(val);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(redact),
        _ => {}
    }
}

/// Makes a new file's directory entry durable (best effort).
fn sync_dir(path: &Path) {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}
