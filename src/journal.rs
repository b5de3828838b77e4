//! The journal: the rollback record of an `apply` or a `rollback`, an
//! append-only JSON Lines file (format in docs/journal.md). Each record is
//! written and fsync'd before the call it describes (intent) and after it
//! (outcome), so after a crash at any instant the file says which calls
//! may have been made. Also the per-cluster lock that keeps two runs on
//! one machine from working on the same cluster at once.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chrono::{SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use crate::core::diff::ExistingEntry;
use crate::core::steps::{Inverse, Outcome, Step};

/// The journal format's major version.
pub const FORMAT_VERSION: &str = "1";

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
    #[error("cannot encode a journal record: {0}")]
    Encode(#[from] serde_json::Error),
    #[error("no state directory: neither XDG_STATE_HOME nor HOME is set to an absolute path")]
    NoStateDir,
}

pub type Result<T> = std::result::Result<T, JournalError>;

/// The cluster a journal is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterInfo {
    pub name: String,
    pub region: String,
    pub account: String,
    pub arn: String,
}

impl ClusterInfo {
    /// The key of the per-cluster lock: `{account}-{region}-{name}`, made
    /// safe for a file name.
    pub fn lock_key(&self) -> String {
        safe_name(&format!("{}-{}-{}", self.account, self.region, self.name))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Command {
    Apply,
    Rollback,
    /// `prune-configmap`: PutConfigMap steps.
    #[serde(rename = "prune-configmap")]
    PruneConfigmap,
    /// `finalize`: SwitchToApi and DeleteConfigMap steps.
    Finalize,
}

/// The first line of a journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    pub format_version: String,
    pub tool_version: String,
    pub migration_id: String,
    pub cluster: ClusterInfo,
    pub command: Command,
    /// RFC 3339, UTC, seconds.
    pub started_at: String,
    /// Rollback journals: the path of the journal being undone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback_of: Option<String>,
}

impl Header {
    /// A header for a run starting now.
    pub fn new(
        tool_version: &str,
        migration_id: &str,
        cluster: ClusterInfo,
        command: Command,
    ) -> Header {
        Header {
            format_version: FORMAT_VERSION.to_string(),
            tool_version: tool_version.to_string(),
            migration_id: migration_id.to_string(),
            cluster,
            command,
            started_at: now(),
            rollback_of: None,
        }
    }
}

/// Written before a call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntentRecord {
    pub seq: u64,
    pub at: String,
    pub step: Step,
    /// The principal's entry before the call (None: no entry, or a
    /// cluster-wide step).
    pub prior: Option<ExistingEntry>,
    pub inverse: Inverse,
}

/// Written after a call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutcomeRecord {
    pub seq: u64,
    /// The seq of the intent this settles.
    pub intent: u64,
    pub at: String,
    pub outcome: Outcome,
}

/// One line of a journal.
// A journal holds at most a few thousand records: boxing buys nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "record", rename_all = "lowercase")]
pub enum Record {
    Header(Header),
    Intent(IntentRecord),
    Outcome(OutcomeRecord),
}

/// A journal read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalContents {
    pub header: Header,
    /// Intents and outcomes, in file order.
    pub records: Vec<Record>,
    /// An incomplete last line (no newline: the write was cut by a crash),
    /// ignored: its 1-based line number.
    pub torn_line: Option<usize>,
    /// Bytes of complete lines: where appending resumes.
    pub valid_len: u64,
}

impl JournalContents {
    /// The highest seq in the journal (0 when none).
    pub fn last_seq(&self) -> u64 {
        self.records
            .iter()
            .map(|r| match r {
                Record::Intent(i) => i.seq,
                Record::Outcome(o) => o.seq,
                Record::Header(_) => 0,
            })
            .max()
            .unwrap_or(0)
    }

    /// The outcome recorded for an intent.
    pub fn outcome_of(&self, intent_seq: u64) -> Option<&OutcomeRecord> {
        self.records.iter().find_map(|r| match r {
            Record::Outcome(o) if o.intent == intent_seq => Some(o),
            _ => None,
        })
    }
}

/// Intents with no outcome, in seq order: calls that may or may not have
/// taken effect, to be settled by reading the real state.
pub fn pending(contents: &JournalContents) -> Vec<&IntentRecord> {
    let settled: BTreeSet<u64> = contents
        .records
        .iter()
        .filter_map(|r| match r {
            Record::Outcome(o) => Some(o.intent),
            _ => None,
        })
        .collect();
    contents
        .records
        .iter()
        .filter_map(|r| match r {
            Record::Intent(i) if !settled.contains(&i.seq) => Some(i),
            _ => None,
        })
        .collect()
}

/// The steps that took effect (outcome `done`), in intent order, with their
/// outcomes: the input of `core::steps::rollback_steps`.
pub fn effective(contents: &JournalContents) -> Vec<(Step, Outcome)> {
    let outcomes: BTreeMap<u64, &Outcome> = contents
        .records
        .iter()
        .filter_map(|r| match r {
            Record::Outcome(o) => Some((o.intent, &o.outcome)),
            _ => None,
        })
        .collect();
    contents
        .records
        .iter()
        .filter_map(|r| match r {
            Record::Intent(i) => match outcomes.get(&i.seq) {
                Some(o) if o.took_effect() => Some((i.step.clone(), (*o).clone())),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// The steps settled as diverged (someone else changed the resource) and
/// not done since, in intent order, with that outcome: resume neither
/// redoes nor undoes them, it reports them.
pub fn diverged(contents: &JournalContents) -> Vec<(Step, Outcome)> {
    let outcomes: BTreeMap<u64, &Outcome> = contents
        .records
        .iter()
        .filter_map(|r| match r {
            Record::Outcome(o) => Some((o.intent, &o.outcome)),
            _ => None,
        })
        .collect();
    let done: Vec<Step> = effective(contents).into_iter().map(|(s, _)| s).collect();
    let mut out: Vec<(Step, Outcome)> = Vec::new();
    for r in &contents.records {
        let Record::Intent(i) = r else { continue };
        let Some(o) = outcomes.get(&i.seq) else {
            continue;
        };
        if o.diverged() && !done.contains(&i.step) && !out.iter().any(|(s, _)| *s == i.step) {
            out.push((i.step.clone(), (*o).clone()));
        }
    }
    out
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> JournalError + '_ {
    move |source| JournalError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Reads a journal and checks it: a header first and only first, a known
/// format version, strictly increasing seqs, each outcome settling an
/// earlier intent that had none. An incomplete last line (no newline) is
/// ignored; any other unreadable line is corruption, reported with its
/// line number.
pub fn read(path: &Path) -> Result<JournalContents> {
    let mut bytes = Vec::new();
    File::open(path)
        .and_then(|mut f| f.read_to_end(&mut bytes))
        .map_err(io_err(path))?;
    parse(path, &bytes)
}

fn parse(path: &Path, bytes: &[u8]) -> Result<JournalContents> {
    let corrupt = |line: usize, message: String| JournalError::Corrupt {
        path: path.to_path_buf(),
        line,
        message,
    };
    let complete_len = bytes
        .iter()
        .rposition(|&b| b == b'\n')
        .map(|i| i + 1)
        .unwrap_or(0);
    let complete = &bytes[..complete_len];
    let mut lines: Vec<&[u8]> = complete.split(|&b| b == b'\n').collect();
    lines.pop(); // the empty slice after the final newline
    let torn_line = (complete_len < bytes.len()).then_some(lines.len() + 1);

    let mut header = None;
    let mut records = Vec::new();
    let mut last_seq = 0u64;
    let mut open: BTreeSet<u64> = BTreeSet::new();
    for (i, raw) in lines.iter().enumerate() {
        let line = i + 1;
        let record: Record = std::str::from_utf8(raw)
            .map_err(|e| e.to_string())
            .and_then(|s| serde_json::from_str(s).map_err(|e| e.to_string()))
            .map_err(|m| corrupt(line, m))?;
        match record {
            Record::Header(h) => {
                if line != 1 {
                    return Err(corrupt(line, "a second header".into()));
                }
                if h.format_version != FORMAT_VERSION {
                    return Err(JournalError::UnsupportedVersion {
                        path: path.to_path_buf(),
                        version: h.format_version,
                    });
                }
                header = Some(h);
                continue;
            }
            _ if line == 1 => {
                return Err(corrupt(1, "the first line is not a header".into()));
            }
            Record::Intent(ref r) => {
                if r.seq <= last_seq {
                    return Err(corrupt(
                        line,
                        format!("seq {} does not follow seq {last_seq}", r.seq),
                    ));
                }
                last_seq = r.seq;
                open.insert(r.seq);
            }
            Record::Outcome(ref r) => {
                if r.seq <= last_seq {
                    return Err(corrupt(
                        line,
                        format!("seq {} does not follow seq {last_seq}", r.seq),
                    ));
                }
                last_seq = r.seq;
                if !open.remove(&r.intent) {
                    return Err(corrupt(
                        line,
                        format!(
                            "outcome for seq {}, which is no earlier intent awaiting one",
                            r.intent
                        ),
                    ));
                }
            }
        }
        records.push(record);
    }
    let header = header.ok_or_else(|| JournalError::NoHeader {
        path: path.to_path_buf(),
    })?;
    Ok(JournalContents {
        header,
        records,
        torn_line,
        valid_len: complete_len as u64,
    })
}

struct Inner {
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
struct Durability {
    /// A second handle on the journal's file, synced outside `Inner`'s lock
    /// so that writers are not held up by a sync in progress.
    file: File,
    /// Records known to be on disk.
    synced: u64,
    /// Syncs done (for tests).
    syncs: u64,
}

/// An open journal, appending. Methods take `&self` and serialise writes
/// internally, so one journal can be shared (`Arc<Journal>`) by concurrent
/// workers.
pub struct Journal {
    path: PathBuf,
    header: Header,
    inner: Mutex<Inner>,
    durability: Mutex<Durability>,
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
        let journal = Journal::new(path, header.clone(), file, 1, BTreeSet::new())?;
        journal.write(&Record::Header(header))?;
        sync_dir(path);
        Ok(journal)
    }

    /// Opens an existing journal to continue it (resume): reads and checks
    /// it, cuts off a torn last line, and continues its seq. Returns what it
    /// read, for settling the pending intents.
    pub fn open_append(path: &Path) -> Result<(Journal, JournalContents)> {
        let contents = read(path)?;
        let file = OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(io_err(path))?;
        if contents.torn_line.is_some() {
            file.set_len(contents.valid_len)
                .and_then(|_| file.sync_data())
                .map_err(io_err(path))?;
        }
        let open = pending(&contents).iter().map(|i| i.seq).collect();
        let journal = Journal::new(
            path,
            contents.header.clone(),
            file,
            contents.last_seq() + 1,
            open,
        )?;
        Ok((journal, contents))
    }

    fn new(
        path: &Path,
        header: Header,
        file: File,
        next_seq: u64,
        open: BTreeSet<u64>,
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

    fn lock_inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic elsewhere while holding the lock cannot leave a half-written
        // record in memory: the guard data stays consistent.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self, record: &Record) -> Result<()> {
        let ticket = self.append(&mut self.lock_inner(), record)?;
        self.make_durable(ticket)
    }

    /// Writes one record (a single append, in seq order); returns its
    /// ticket for [`Journal::make_durable`].
    fn append(&self, inner: &mut Inner, record: &Record) -> Result<u64> {
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
    fn make_durable(&self, ticket: u64) -> Result<()> {
        let mut d = self.durability.lock().unwrap_or_else(|e| e.into_inner());
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
        d.synced = covered;
        d.syncs += 1;
        Ok(())
    }
}

/// Replaces the values of credential-like keys (secret, password, session
/// token, access key, credential) anywhere in `v` with "[redacted]".
fn redact(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, val) in map.iter_mut() {
                let key: String = k
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric())
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

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)
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

/// Keeps ASCII letters, digits, `.`, `_` and `-`; replaces anything else
/// with `_`, and a leading `.` too.
fn safe_name(s: &str) -> String {
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

/// The tool's state directory: `$XDG_STATE_HOME/aws-auth-migrate` when
/// XDG_STATE_HOME is an absolute path, else `$HOME/.local/state/aws-auth-migrate`.
pub fn state_dir() -> Result<PathBuf> {
    state_dir_from(std::env::var_os("XDG_STATE_HOME"), std::env::var_os("HOME"))
}

/// [`state_dir`] from given values of XDG_STATE_HOME and HOME.
pub fn state_dir_from(xdg_state_home: Option<OsString>, home: Option<OsString>) -> Result<PathBuf> {
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
pub fn default_path(cluster_name: &str, migration_id: &str) -> Result<PathBuf> {
    Ok(journal_file_in(&state_dir()?, cluster_name, migration_id))
}

/// The journal file name under `dir`, both parts made safe for a file name.
pub fn journal_file_in(dir: &Path, cluster_name: &str, migration_id: &str) -> PathBuf {
    dir.join(format!(
        "{}-{}.jsonl",
        safe_name(cluster_name),
        safe_name(migration_id)
    ))
}

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
        .and_then(|_| f.sync_data());
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::plan::EntryType;
    use crate::core::policy::AccessScope;
    use crate::core::steps::{client_request_token, rollback_steps, TAG_MIGRATION_ID};
    use chrono::DateTime;

    const ROLE: &str = "arn:aws:iam::111122223333:role/dev";
    const VIEW: &str = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy";

    fn cluster() -> ClusterInfo {
        ClusterInfo {
            name: "prod".into(),
            region: "eu-west-1".into(),
            account: "111122223333".into(),
            arn: "arn:aws:eks:eu-west-1:111122223333:cluster/prod".into(),
        }
    }

    fn header() -> Header {
        Header {
            format_version: "1".into(),
            tool_version: "0.1.0".into(),
            migration_id: "m1".into(),
            cluster: cluster(),
            command: Command::Apply,
            started_at: "2026-11-28T17:00:00Z".into(),
            rollback_of: None,
        }
    }

    fn create() -> Step {
        Step::CreateEntry {
            principal_arn: ROLE.into(),
            entry_type: EntryType::Standard,
            username: None,
            kubernetes_groups: vec!["dev".into()],
            tags: [(TAG_MIGRATION_ID.to_string(), "m1".to_string())].into(),
            client_request_token: client_request_token("m1", ROLE),
        }
    }

    fn associate() -> Step {
        Step::AssociatePolicy {
            principal_arn: ROLE.into(),
            policy_arn: VIEW.into(),
            access_scope: AccessScope::cluster(),
            prior_scope: None,
            on_created_entry: true,
        }
    }

    fn done(v: serde_json::Value) -> Outcome {
        Outcome::Done { response: v }
    }

    fn lines(path: &Path) -> Vec<serde_json::Value> {
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    #[test]
    fn round_trip_and_record_shapes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state").join("j.jsonl");
        let j = Journal::create(&path, header()).unwrap();
        assert_eq!(j.path(), path.as_path());
        assert_eq!(j.header(), &header());
        assert_eq!(j.intent(&create(), None).unwrap(), 1);
        assert_eq!(
            j.outcome(1, done(serde_json::json!({"accessEntryArn": "arn:x"})))
                .unwrap(),
            2
        );
        assert_eq!(j.intent(&associate(), None).unwrap(), 3);
        assert_eq!(j.open_intents(), vec![3]);
        drop(j);

        let l = lines(&path);
        assert_eq!(l.len(), 4);
        assert_eq!(
            l[0],
            serde_json::json!({
                "record": "header",
                "format_version": "1",
                "tool_version": "0.1.0",
                "migration_id": "m1",
                "cluster": {
                    "name": "prod",
                    "region": "eu-west-1",
                    "account": "111122223333",
                    "arn": "arn:aws:eks:eu-west-1:111122223333:cluster/prod"
                },
                "command": "apply",
                "started_at": "2026-11-28T17:00:00Z"
            })
        );
        assert_eq!(l[1]["record"], "intent");
        assert_eq!(l[1]["seq"], 1);
        assert_eq!(l[1]["step"], serde_json::to_value(create()).unwrap());
        assert_eq!(l[1]["prior"], serde_json::Value::Null);
        assert_eq!(
            l[1]["inverse"],
            serde_json::to_value(create().inverse()).unwrap()
        );
        assert!(DateTime::parse_from_rfc3339(l[1]["at"].as_str().unwrap()).is_ok());
        assert_eq!(l[2]["record"], "outcome");
        assert_eq!(l[2]["seq"], 2);
        assert_eq!(l[2]["intent"], 1);
        assert_eq!(
            l[2]["outcome"],
            serde_json::json!({"status": "done", "response": {"accessEntryArn": "arn:x"}})
        );

        let c = read(&path).unwrap();
        assert_eq!(c.header, header());
        assert_eq!(c.records.len(), 3);
        assert_eq!(c.torn_line, None);
        assert_eq!(c.valid_len, std::fs::metadata(&path).unwrap().len());
        assert_eq!(c.last_seq(), 3);
        assert_eq!(c.outcome_of(1).unwrap().seq, 2);
        assert_eq!(c.outcome_of(3), None);
        let p = pending(&c);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].seq, 3);
        assert_eq!(p[0].step, associate());
        assert_eq!(
            effective(&c),
            vec![(
                create(),
                done(serde_json::json!({"accessEntryArn": "arn:x"}))
            )]
        );
    }

    #[test]
    fn prior_state_is_recorded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let j = Journal::create(&path, header()).unwrap();
        let prior = ExistingEntry {
            principal_arn: ROLE.into(),
            entry_type: "STANDARD".into(),
            username: Some("dev".into()),
            kubernetes_groups: vec!["a".into()],
            policies: vec![],
            tags: BTreeMap::new(),
        };
        j.intent(&associate(), Some(&prior)).unwrap();
        drop(j);
        let c = read(&path).unwrap();
        match &c.records[0] {
            Record::Intent(i) => assert_eq!(i.prior.as_ref(), Some(&prior)),
            other => panic!("{other:?}"),
        }
    }

    #[cfg(unix)]
    #[test]
    fn file_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new").join("j.jsonl");
        Journal::create(&path, header()).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let dmode = std::fs::metadata(path.parent().unwrap())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(dmode & 0o777, 0o700);
    }

    #[test]
    fn refuses_to_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        std::fs::write(&path, "keep me\n").unwrap();
        let err = Journal::create(&path, header()).unwrap_err();
        assert!(matches!(err, JournalError::Exists { .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            format!(
                "journal {} already exists: choose another path, or resume it with --resume",
                path.display()
            )
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "keep me\n");
    }

    #[test]
    fn torn_last_line_is_ignored_and_cut_on_resume() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let j = Journal::create(&path, header()).unwrap();
        j.intent(&create(), None).unwrap();
        drop(j);
        let good_len = std::fs::metadata(&path).unwrap().len();
        // A crash in the middle of writing the outcome.
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(br#"{"record":"outcome","seq":2,"inte"#)
            .unwrap();
        drop(f);

        let c = read(&path).unwrap();
        assert_eq!(c.torn_line, Some(3));
        assert_eq!(c.valid_len, good_len);
        assert_eq!(pending(&c).len(), 1);

        let (j, c2) = Journal::open_append(&path).unwrap();
        assert_eq!(c2, c);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), good_len);
        assert_eq!(j.open_intents(), vec![1]);
        assert_eq!(j.outcome(1, done(serde_json::json!({}))).unwrap(), 2);
        assert_eq!(j.intent(&associate(), None).unwrap(), 3);
        drop(j);
        let c3 = read(&path).unwrap();
        assert_eq!(c3.torn_line, None);
        assert_eq!(c3.last_seq(), 3);
        assert_eq!(pending(&c3)[0].seq, 3);
    }

    #[test]
    fn corruption_in_the_middle_is_refused_with_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let j = Journal::create(&path, header()).unwrap();
        j.intent(&create(), None).unwrap();
        j.outcome(1, done(serde_json::json!({}))).unwrap();
        drop(j);
        let text = std::fs::read_to_string(&path).unwrap();
        let mut l: Vec<&str> = text.lines().collect();
        l[1] = "{\"record\":\"intent\",garbage";
        std::fs::write(&path, l.join("\n") + "\n").unwrap();
        let err = read(&path).unwrap_err();
        match &err {
            JournalError::Corrupt { line, .. } => assert_eq!(*line, 2),
            other => panic!("{other:?}"),
        }
        assert!(err.to_string().starts_with(&format!(
            "journal {} is corrupt at line 2: ",
            path.display()
        )));
        assert!(matches!(
            Journal::open_append(&path).unwrap_err(),
            JournalError::Corrupt { line: 2, .. }
        ));
    }

    fn check(text: &str) -> Result<JournalContents> {
        parse(Path::new("j"), text.as_bytes())
    }

    fn hline() -> String {
        serde_json::to_string(&Record::Header(header())).unwrap()
    }

    fn iline(seq: u64) -> String {
        serde_json::to_string(&Record::Intent(IntentRecord {
            seq,
            at: "2026-11-28T17:00:01Z".into(),
            step: create(),
            prior: None,
            inverse: create().inverse(),
        }))
        .unwrap()
    }

    fn oline(seq: u64, intent: u64) -> String {
        serde_json::to_string(&Record::Outcome(OutcomeRecord {
            seq,
            intent,
            at: "2026-11-28T17:00:02Z".into(),
            outcome: Outcome::Failed {
                code: "ThrottlingException".into(),
                message: "Rate exceeded".into(),
            },
        }))
        .unwrap()
    }

    fn corrupt_line(r: Result<JournalContents>) -> (usize, String) {
        match r {
            Err(JournalError::Corrupt { line, message, .. }) => (line, message),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn structure_is_checked() {
        let h = hline();
        assert!(matches!(check(""), Err(JournalError::NoHeader { .. })));
        assert!(matches!(
            check(&h[..10]),
            Err(JournalError::NoHeader { .. })
        ));
        assert_eq!(
            corrupt_line(check(&format!("{}\n", iline(1)))),
            (1, "the first line is not a header".into())
        );
        assert_eq!(
            corrupt_line(check(&format!("{h}\n{h}\n"))),
            (2, "a second header".into())
        );
        assert_eq!(
            corrupt_line(check(&format!("{h}\n{}\n{}\n", iline(2), iline(2)))),
            (3, "seq 2 does not follow seq 2".into())
        );
        assert_eq!(
            corrupt_line(check(&format!("{h}\n{}\n{}\n", iline(1), oline(2, 5)))),
            (
                3,
                "outcome for seq 5, which is no earlier intent awaiting one".into()
            )
        );
        assert_eq!(
            corrupt_line(check(&format!(
                "{h}\n{}\n{}\n{}\n",
                iline(1),
                oline(2, 1),
                oline(3, 1)
            ))),
            (
                4,
                "outcome for seq 1, which is no earlier intent awaiting one".into()
            )
        );
        let v2 = h.replace("\"format_version\":\"1\"", "\"format_version\":\"2\"");
        assert!(matches!(
            check(&format!("{v2}\n")),
            Err(JournalError::UnsupportedVersion { version, .. }) if version == "2"
        ));
        let ok = check(&format!("{h}\n{}\n{}\n", iline(1), oline(2, 1))).unwrap();
        assert_eq!(ok.records.len(), 2);
        assert!(pending(&ok).is_empty());
        assert!(effective(&ok).is_empty());
    }

    #[test]
    fn pending_and_effective_feed_rollback() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let j = Journal::create(&path, header()).unwrap();
        let update = Step::UpdateEntry {
            principal_arn: "arn:aws:iam::111122223333:role/ops".into(),
            username: Some("ops".into()),
            kubernetes_groups: vec!["a".into(), "b".into()],
            prior_username: Some("ops".into()),
            prior_groups: vec!["a".into()],
        };
        let failed = Outcome::Failed {
            code: "InvalidParameterException".into(),
            message: "bad".into(),
        };
        let s1 = j.intent(&create(), None).unwrap();
        let s2 = j.intent(&update, None).unwrap();
        j.outcome(s1, done(serde_json::json!({"a": 1}))).unwrap();
        let s4 = j.intent(&associate(), None).unwrap();
        j.outcome(s2, failed.clone()).unwrap();
        j.outcome(s4, done(serde_json::json!({}))).unwrap();
        let s7 = j.intent(&update, None).unwrap();
        assert_eq!((s1, s2, s4, s7), (1, 2, 4, 7));
        drop(j);
        let c = read(&path).unwrap();
        assert_eq!(
            pending(&c).iter().map(|i| i.seq).collect::<Vec<_>>(),
            vec![7]
        );
        let eff = effective(&c);
        assert_eq!(
            eff,
            vec![
                (create(), done(serde_json::json!({"a": 1}))),
                (associate(), done(serde_json::json!({}))),
            ]
        );
        let undos = rollback_steps(&eff);
        assert_eq!(undos.len(), 1);
        assert_eq!(undos[0].step, create());
        assert_eq!(c.outcome_of(2).unwrap().outcome, failed);
    }

    #[test]
    fn concurrent_writers_keep_the_journal_valid() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let j = std::sync::Arc::new(Journal::create(&path, header()).unwrap());
        let workers: Vec<_> = (0..8)
            .map(|_| {
                let j = j.clone();
                std::thread::spawn(move || {
                    for _ in 0..10 {
                        let s = j.intent(&create(), None).unwrap();
                        j.outcome(s, done(serde_json::json!({}))).unwrap();
                    }
                })
            })
            .collect();
        for w in workers {
            w.join().unwrap();
        }
        assert!(j.open_intents().is_empty());
        let c = read(&path).unwrap();
        assert_eq!(c.records.len(), 160);
        assert_eq!(c.last_seq(), 160);
        assert_eq!(effective(&c).len(), 80);
    }

    #[test]
    fn one_sync_covers_every_record_written_before_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let j = Journal::create(&path, header()).unwrap();
        let syncs = |j: &Journal| j.durability.lock().unwrap().syncs;
        assert_eq!(syncs(&j), 1, "the header is synced");
        // Two workers write before either syncs: the first sync covers both.
        let rec = |seq| {
            Record::Intent(IntentRecord {
                seq,
                at: now(),
                step: create(),
                prior: None,
                inverse: create().inverse(),
            })
        };
        let a = j.append(&mut j.lock_inner(), &rec(1)).unwrap();
        let b = j.append(&mut j.lock_inner(), &rec(2)).unwrap();
        j.make_durable(a).unwrap();
        assert_eq!(syncs(&j), 2);
        j.make_durable(b).unwrap();
        assert_eq!(syncs(&j), 2, "b was written before a's sync began");
        // A record written after the last sync needs one of its own.
        let c = j.append(&mut j.lock_inner(), &rec(3)).unwrap();
        j.make_durable(c).unwrap();
        assert_eq!(syncs(&j), 3);
        drop(j);
        assert_eq!(read(&path).unwrap().records.len(), 3);
    }

    #[test]
    fn outcome_needs_an_open_intent() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let j = Journal::create(&path, header()).unwrap();
        assert!(matches!(
            j.outcome(1, done(serde_json::json!({}))),
            Err(JournalError::UnknownIntent { seq: 1, .. })
        ));
        let s = j.intent(&create(), None).unwrap();
        j.outcome(s, done(serde_json::json!({}))).unwrap();
        assert!(matches!(
            j.outcome(s, done(serde_json::json!({}))),
            Err(JournalError::UnknownIntent { seq: 1, .. })
        ));
        drop(j);
        assert_eq!(read(&path).unwrap().records.len(), 2);
    }

    #[test]
    fn credentials_are_redacted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let j = Journal::create(&path, header()).unwrap();
        let s = j.intent(&create(), None).unwrap();
        j.outcome(
            s,
            done(serde_json::json!({
                "accessEntryArn": "arn:x",
                "Credentials": {"AccessKeyId": "AKIA", "SecretAccessKey": "s"},
                "list": [{"session_token": "t", "ok": 1}]
            })),
        )
        .unwrap();
        drop(j);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains("AKIA"));
        assert_eq!(
            lines(&path)[2]["outcome"]["response"],
            serde_json::json!({
                "accessEntryArn": "arn:x",
                "Credentials": "[redacted]",
                "list": [{"session_token": "[redacted]", "ok": 1}]
            })
        );
        // The idempotency token of a step is not a credential.
        assert!(text.contains(&client_request_token("m1", ROLE)));
    }

    #[test]
    fn documented_examples_form_a_valid_journal() {
        let doc = include_str!("../docs/journal.md");
        let text: String = doc
            .lines()
            .filter(|l| l.starts_with("{\"record\""))
            .map(|l| format!("{l}\n"))
            .collect();
        let c = check(&text).unwrap();
        assert_eq!(c.header.migration_id, "mig-20261128T170000Z-3f9a1c");
        // The documented id has the shape of the ids the tool writes.
        let real = crate::apply::new_migration_id();
        assert_eq!(c.header.migration_id.len(), real.len(), "{real}");
        assert_eq!(c.header.migration_id[..4], real[..4]);
        assert_eq!(c.records.len(), 4);
        assert_eq!(c.last_seq(), 4);
        assert!(pending(&c).is_empty());
        assert_eq!(effective(&c).len(), 1);
        for r in &c.records {
            if let Record::Intent(i) = r {
                assert_eq!(i.inverse, i.step.inverse());
            }
        }
        match &c.records[0] {
            Record::Intent(i) => match &i.step {
                Step::CreateEntry {
                    principal_arn,
                    client_request_token: token,
                    ..
                } => assert_eq!(
                    token,
                    &client_request_token("mig-20261128T170000Z-3f9a1c", principal_arn)
                ),
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        }
        // Every documented record re-serialises to the same JSON.
        for l in text.lines() {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let r: Record = serde_json::from_value(v.clone()).unwrap();
            assert_eq!(serde_json::to_value(&r).unwrap(), v);
        }
    }

    #[test]
    fn header_new_and_rollback_header() {
        let mut h = Header::new("0.1.0", "m1", cluster(), Command::Rollback);
        assert_eq!(h.format_version, "1");
        assert!(DateTime::parse_from_rfc3339(&h.started_at).is_ok());
        assert!(h.started_at.ends_with('Z'));
        h.rollback_of = Some("/tmp/j.jsonl".into());
        let v = serde_json::to_value(Record::Header(h.clone())).unwrap();
        assert_eq!(v["command"], "rollback");
        assert_eq!(v["rollback_of"], "/tmp/j.jsonl");
        let back: Record = serde_json::from_value(v).unwrap();
        assert_eq!(back, Record::Header(h));
        assert_eq!(cluster().lock_key(), "111122223333-eu-west-1-prod");
    }

    #[test]
    fn default_locations() {
        assert_eq!(
            state_dir_from(Some("/x/state".into()), Some("/home/u".into())).unwrap(),
            PathBuf::from("/x/state/aws-auth-migrate")
        );
        assert_eq!(
            state_dir_from(Some("relative".into()), Some("/home/u".into())).unwrap(),
            PathBuf::from("/home/u/.local/state/aws-auth-migrate")
        );
        assert_eq!(
            state_dir_from(None, Some("/home/u".into())).unwrap(),
            PathBuf::from("/home/u/.local/state/aws-auth-migrate")
        );
        assert!(matches!(
            state_dir_from(Some("".into()), None),
            Err(JournalError::NoStateDir)
        ));
        assert_eq!(
            journal_file_in(Path::new("/s"), "prod", "20261128T170000Z-ab12"),
            PathBuf::from("/s/prod-20261128T170000Z-ab12.jsonl")
        );
        assert_eq!(
            journal_file_in(Path::new("/s"), "../etc", "a/b c"),
            PathBuf::from("/s/_.._etc-a_b_c.jsonl")
        );
        let p = default_path("prod", "m1").unwrap();
        assert!(
            p.ends_with("aws-auth-migrate/prod-m1.jsonl"),
            "{}",
            p.display()
        );
    }

    #[test]
    fn lock_excludes_and_is_removed_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let lock = ClusterLock::acquire(dir.path(), "111122223333-eu-west-1-prod").unwrap();
        let path = dir.path().join("111122223333-eu-west-1-prod.lock");
        assert_eq!(lock.path(), path.as_path());
        assert_eq!(lock.took_over(), None);
        assert_eq!(lock.message(), None);
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            format!("{}\n", std::process::id())
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let err = ClusterLock::acquire(dir.path(), "111122223333-eu-west-1-prod").unwrap_err();
        match &err {
            LockError::Held { pid, path: p } => {
                assert_eq!(*pid, std::process::id());
                assert_eq!(p, &path);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            err.to_string(),
            format!(
                "another aws-auth-migrate (pid {}) is working on this cluster (lock {}); if no such process runs, remove the lock file",
                std::process::id(),
                path.display()
            )
        );
        // Another cluster is not blocked.
        let other = ClusterLock::acquire(dir.path(), "other").unwrap();
        drop(other);
        drop(lock);
        assert!(!path.exists());
        let again = ClusterLock::acquire(dir.path(), "111122223333-eu-west-1-prod").unwrap();
        drop(again);
        assert!(!path.exists());
    }

    /// A pid that runs no process: one past the kernel's pid_max.
    #[cfg(target_os = "linux")]
    fn dead_pid() -> u32 {
        let max: u32 = std::fs::read_to_string("/proc/sys/kernel/pid_max")
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(4_194_304);
        assert!(!Path::new(&format!("/proc/{}", max + 1)).exists());
        max + 1
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn stale_lock_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.lock");
        let dead = dead_pid();
        std::fs::write(&path, format!("{dead}\n")).unwrap();
        let lock = ClusterLock::acquire(dir.path(), "c").unwrap();
        assert_eq!(lock.took_over(), Some(dead));
        assert_eq!(
            lock.message(),
            Some(format!(
                "took over the lock {} left by pid {dead}, which no longer runs",
                path.display()
            ))
        );
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            format!("{}\n", std::process::id())
        );
        drop(lock);
        assert!(!path.exists());
    }

    #[test]
    fn unreadable_lock_is_not_taken() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.lock");
        std::fs::write(&path, "").unwrap();
        let err = ClusterLock::acquire(dir.path(), "c").unwrap_err();
        assert!(matches!(err, LockError::Unreadable { .. }), "{err:?}");
        assert!(path.exists());
    }

    #[test]
    fn drop_leaves_a_lock_that_is_no_longer_ours() {
        let dir = tempfile::tempdir().unwrap();
        let lock = ClusterLock::acquire(dir.path(), "c").unwrap();
        std::fs::write(lock.path(), "1\n").unwrap();
        let path = lock.path().to_path_buf();
        drop(lock);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "1\n");
    }
}
