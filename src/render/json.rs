//! The plan as JSON (docs/plan-format.md).

use std::borrow::Cow;
use std::io::{self, Write};

use crate::core::plan::Plan;
use crate::core::review;

/// The plan as JSON; a live plan (one with a fingerprint) gets its
/// `digest` (`core::review`), which `apply PLAN_FILE` checks.
pub(crate) fn render(plan: &Plan) -> String {
    let mut s = serde_json::to_string_pretty(&with_digest(plan)).unwrap_or_else(|e| {
        // Serialising plain data cannot fail; say so loudly if it ever does.
        format!("{{\"error\": {:?}}}", e.to_string())
    });
    s.push('\n');
    s
}

/// The same bytes as [`render`], written to `out` as they are produced, so
/// a large plan (5,000 entries make ~6 MB of JSON) is never held whole in
/// memory: building that string touches megabytes of fresh pages, which
/// cost more than the serialising itself.
pub(crate) fn write(plan: &Plan, mut out: impl Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut out, &with_digest(plan))?;
    out.write_all(b"\n")
}

fn with_digest(plan: &Plan) -> Cow<'_, Plan> {
    if plan.fingerprint.is_none() {
        return Cow::Borrowed(plan);
    }
    let mut with_digest = plan.clone();
    with_digest.digest = None;
    with_digest.digest = serde_json::to_value(&with_digest)
        .ok()
        .map(|v| review::content_digest(&v));
    Cow::Owned(with_digest)
}
