//! The plan as JSON (docs/plan-format.md).

use crate::core::plan::Plan;

pub fn render(plan: &Plan) -> String {
    let mut s = serde_json::to_string_pretty(plan).unwrap_or_else(|e| {
        // Serialising plain data cannot fail; say so loudly if it ever does.
        format!("{{\"error\": {:?}}}", e.to_string())
    });
    s.push('\n');
    s
}
