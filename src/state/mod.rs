//! The state backend: where journals, saved batch plans, fleet report
//! parts and locks are kept (docs/state.md). Local by default (the state
//! directory); with `--state s3://BUCKET/PREFIX`, in S3, the way
//! Terraform's S3 backend keeps its state: every journal record is in S3
//! before the call it describes is made, locks are objects created with
//! conditional writes, and any machine with the same `--state` can resume,
//! roll back or report what another began.
//!
//! The local state directory stays the working copy: files are written
//! there first, then copied to S3 ([`replica`]); readers fetch S3's copy,
//! which is authoritative. The journal writer and the lock are synchronous
//! (they are called between the awaited calls they guard); their S3 calls
//! run on the process's one runtime through [`block`].

pub(crate) mod location;
pub(crate) mod lock;
pub(crate) mod replica;

use std::future::Future;
use std::sync::{Arc, Mutex, OnceLock};

pub(crate) use location::{Location, S3Location};

use crate::aws::s3::{S3Error, S3};
use crate::aws::{AwsError, AwsOptions};

#[derive(Debug, thiserror::Error)]
pub(crate) enum StateError {
    #[error("--state {url}: {why}")]
    BadUrl { url: String, why: String },
    #[error("the S3 state needs the multi-threaded runtime (an internal error)")]
    NoRuntime,
    #[error("{0}")]
    S3(#[from] S3Error),
    #[error("{0}")]
    Aws(#[from] AwsError),
    #[error("cannot write {path}: {message}")]
    Write { path: String, message: String },
}

/// `--state` when it names S3, set once at start.
static S3_LOCATION: OnceLock<S3Location> = OnceLock::new();
/// `--force-unlock`, set once at start.
static FORCE_UNLOCK: OnceLock<String> = OnceLock::new();
/// The S3 client, built on first use (it needs the runtime).
static REMOTE: Mutex<Option<Arc<Remote>>> = Mutex::new(None);

/// The S3 state: the bucket's client and where under it.
#[derive(Debug)]
pub(crate) struct Remote {
    pub(crate) s3: S3,
    pub(crate) at: S3Location,
}

/// Uses S3 for this process's state (`--state s3://...`).
pub(crate) fn set_s3(at: S3Location) {
    // Set once, before any command runs.
    let _ = S3_LOCATION.set(at);
}

/// `--force-unlock ID`: the lock of this id may be broken.
pub(crate) fn set_force_unlock(id: &str) {
    let _ = FORCE_UNLOCK.set(id.to_string());
}

pub(crate) fn force_unlock() -> Option<&'static str> {
    FORCE_UNLOCK.get().map(String::as_str)
}

/// The S3 location of the state, when it is in S3.
pub(crate) fn s3_location() -> Option<&'static S3Location> {
    S3_LOCATION.get()
}

/// The S3 state's client, or `None` when the state is local. The first
/// call loads the AWS configuration (the standard chain and endpoint
/// settings; the region of `?region=`, else the chain's).
pub(crate) fn remote() -> Result<Option<Arc<Remote>>, StateError> {
    let Some(at) = s3_location() else {
        return Ok(None);
    };
    let mut slot = REMOTE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(r) = slot.as_ref() {
        return Ok(Some(r.clone()));
    }
    let opts = AwsOptions {
        region: at.region.clone(),
        ..AwsOptions::default()
    };
    let conf = block(crate::aws::config::load(&opts))??;
    let r = Arc::new(Remote {
        s3: S3::new(&conf, &at.bucket),
        at: at.clone(),
    });
    *slot = Some(r.clone());
    Ok(Some(r))
}

/// Runs `f` to completion from synchronous code on the process's runtime
/// (`block_in_place`: the worker's other tasks move elsewhere meanwhile).
pub(crate) fn block<F: Future>(f: F) -> Result<F::Output, StateError> {
    use tokio::runtime::{Handle, RuntimeFlavor};
    let handle = Handle::try_current().map_err(|_| StateError::NoRuntime)?;
    if handle.runtime_flavor() != RuntimeFlavor::MultiThread {
        return Err(StateError::NoRuntime);
    }
    Ok(tokio::task::block_in_place(|| handle.block_on(f)))
}

/// This run's id: `AWS_AUTH_MIGRATE_RUN_ID` when set (a CI job may pass
/// its own, e.g. `$GITHUB_RUN_ID-$GITHUB_JOB`), else 16 hex digits made
/// from the pid, host and clock. Locks carry it: `--force-unlock` names it.
pub(crate) fn run_id() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| {
        if let Some(id) = std::env::var("AWS_AUTH_MIGRATE_RUN_ID")
            .ok()
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty() && v.len() <= 128 && !v.contains(char::is_whitespace))
        {
            return id;
        }
        use sha2::Digest;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let seed = format!("{}-{}-{nanos}", std::process::id(), this_host());
        hex::encode(&sha2::Sha256::digest(seed.as_bytes())[..8])
    })
}

/// This machine's host name (`unknown-host` when it cannot be read).
pub(crate) fn this_host() -> String {
    #[cfg(unix)]
    {
        let mut buf = [0u8; 256];
        // SAFETY: the buffer is valid for its length; gethostname writes at
        // most that many bytes and the result is cut at the first NUL.
        let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
        if rc == 0 {
            let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
            let name: String = String::from_utf8_lossy(&buf[..end])
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect();
            if !name.is_empty() {
                return name;
            }
        }
    }
    "unknown-host".into()
}
