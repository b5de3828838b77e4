//! How a run ended, as a value. Execution returns an `Outcome` (or a report
//! that yields one); only the commands turn it into the process exit code
//! (see `crate::exit`). The numbers are a documented contract (README, "Exit
//! codes") and appear in batch reports, so they are defined here, once.

/// The result of a command, from the caller's point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Success; with `--detailed-exitcode`, nothing to change.
    Ok,
    /// An error before any change was made.
    Error,
    /// `--detailed-exitcode`: the plan has changes (plan), or gaps remain (verify).
    Changes,
    /// Some steps failed after others took effect; the journal says what.
    Partial,
}

impl Outcome {
    /// The process exit code of this outcome.
    pub const fn code(self) -> i32 {
        match self {
            Outcome::Ok => 0,
            Outcome::Error => 1,
            Outcome::Changes => 2,
            Outcome::Partial => 3,
        }
    }
}

/// An error and its causes on one line: `what failed: why`.
pub(crate) fn one_line(e: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in e.chain() {
        let s = cause.to_string().replace('\n', " ");
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_the_documented_ones() {
        assert_eq!(
            [
                Outcome::Ok,
                Outcome::Error,
                Outcome::Changes,
                Outcome::Partial
            ]
            .map(Outcome::code),
            [0, 1, 2, 3]
        );
    }

    #[test]
    fn one_line_joins_causes_without_repeating_them() {
        let e = anyhow::anyhow!("inner: detail").context("outer");
        assert_eq!(one_line(&e), "outer: inner: detail");
        let e = anyhow::anyhow!("line one\nline two");
        assert_eq!(one_line(&e), "line one line two");
    }
}
