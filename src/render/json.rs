//! The plan as JSON (docs/plan-format.md).

use crate::core::plan::Plan;
use crate::core::review;

/// The plan as JSON; a live plan (one with a fingerprint) gets its
/// `digest` (`core::review`), which `apply PLAN_FILE` checks.
pub(crate) fn render(plan: &Plan) -> String {
    let mut with_digest;
    let mut plan = plan;
    if plan.fingerprint.is_some() {
        with_digest = plan.clone();
        with_digest.digest = None;
        with_digest.digest = serde_json::to_value(&with_digest)
            .ok()
            .map(|v| review::content_digest(&v));
        plan = &with_digest;
    }
    let mut s = serde_json::to_string_pretty(plan).unwrap_or_else(|e| {
        // Serialising plain data cannot fail; say so loudly if it ever does.
        format!("{{\"error\": {:?}}}", e.to_string())
    });
    s.push('\n');
    s
}
