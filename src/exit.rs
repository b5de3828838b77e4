//! Exit codes (documented in the README) and the one-line error at the edge.

/// Success; with `--detailed-exitcode`, nothing to change.
pub const OK: i32 = 0;
/// An error before any change was made.
pub const ERROR: i32 = 1;
/// `--detailed-exitcode`: the plan has changes (plan), or gaps remain (verify).
pub const CHANGES: i32 = 2;
/// Some steps failed after others took effect; the journal says what.
pub const PARTIAL: i32 = 3;

/// An error and its causes on one line: `what failed: why`.
pub fn one_line(e: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in e.chain() {
        let s = cause.to_string().replace('\n', " ");
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
    }
    parts.join(": ")
}
