//! Reading inputs and writing outputs: bounded reads, private atomic writes.

use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result};

use crate::core::input::MAX_INPUT_BYTES;

/// Reads a file or `-` (standard input), refusing more than the input limit
/// without reading it all.
pub(crate) fn read_input(path: &str) -> Result<Vec<u8>> {
    read_bounded(path, MAX_INPUT_BYTES)
}

/// Reads at most `max + 1` bytes of a file or `-`: one more than allowed
/// tells the caller the input is too large.
fn read_bounded(path: &str, max: usize) -> Result<Vec<u8>> {
    let limit = (max + 1) as u64;
    let mut buf = Vec::new();
    if path == "-" {
        std::io::stdin()
            .take(limit)
            .read_to_end(&mut buf)
            .context("cannot read standard input")?;
    } else {
        let f = std::fs::File::open(path).with_context(|| format!("cannot open {path}"))?;
        f.take(limit)
            .read_to_end(&mut buf)
            .with_context(|| format!("cannot read {path}"))?;
    }
    Ok(buf)
}

/// Writes `bytes` to `path` with mode 0600, through a temporary file and a
/// rename, so a reader never sees half a file.
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map_or_else(|| "plan".into(), |n| n.to_string_lossy().to_string());
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(&tmp)
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// Reads and checks a `--policy-map` file; none given is the empty map.
pub(crate) fn policy_map(path: Option<&Path>) -> Result<crate::core::policy_map::PolicyMap> {
    use crate::core::policy_map::PolicyMap;
    let Some(path) = path else {
        return Ok(PolicyMap::default());
    };
    let p = path.display().to_string();
    let text = String::from_utf8(read_input(&p)?)
        .map_err(|_| anyhow::anyhow!("policy map {p} is not UTF-8 text"))?;
    PolicyMap::parse(&text).map_err(|e| match e.line {
        Some(l) => anyhow::anyhow!("policy map {p}, line {l}: {}", e.message),
        None => anyhow::anyhow!("policy map {p}: {}", e.message),
    })
}

/// The largest `--rbac` dump read: a kubectl dump of a large cluster's RBAC
/// is a few MiB.
const MAX_RBAC_BYTES: usize = 64 * 1024 * 1024;

/// Reads and parses an `--rbac` file (a kubectl dump of RBAC objects).
pub(crate) fn rbac(
    path: &str,
) -> Result<(
    crate::core::rbac::model::Snapshot,
    crate::core::access_report::RbacSource,
)> {
    let bytes = read_bounded(path, MAX_RBAC_BYTES)?;
    if bytes.len() > MAX_RBAC_BYTES {
        anyhow::bail!(
            "RBAC file {path} is larger than {} MiB: pass the output of kubectl get clusterroles,clusterrolebindings,roles,rolebindings -A -o yaml",
            MAX_RBAC_BYTES / 1024 / 1024
        );
    }
    let parsed = crate::core::rbac::parse::parse(&bytes)
        .map_err(|e| anyhow::anyhow!("RBAC file {path}: {e}"))?;
    let snapshot = parsed.snapshot;
    let source = crate::core::access_report::RbacSource {
        kind: "file".into(),
        path: Some(path.to_string()),
        roles: snapshot.roles.len(),
        bindings: snapshot.bindings.len(),
        incomplete: snapshot.incomplete.clone(),
        skipped: parsed.skipped,
    };
    Ok((snapshot, source))
}
