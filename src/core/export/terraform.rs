//! Placeholder: filled in by the terraform renderer (issue 17).

use super::{ExportFile, TargetState};

/// Renders the target state.
pub(crate) fn render(_state: &TargetState) -> Vec<ExportFile> {
    Vec::new()
}
