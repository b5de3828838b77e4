//! Exit codes at the edge. Execution reports an [`Outcome`]; the commands
//! (and `run`) turn it into one of these.

pub(crate) use crate::outcome::one_line;
use crate::outcome::Outcome;

/// Success; with `--detailed-exitcode`, nothing to change.
pub(crate) const OK: i32 = Outcome::Ok.code();
/// An error before any change was made.
pub(crate) const ERROR: i32 = Outcome::Error.code();
/// `--detailed-exitcode`: the plan has changes (plan), or gaps remain (verify).
pub(crate) const CHANGES: i32 = Outcome::Changes.code();
/// Some steps failed after others took effect; the journal says what.
pub(crate) const PARTIAL: i32 = Outcome::Partial.code();
