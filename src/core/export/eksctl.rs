//! Placeholder: filled in by the eksctl renderer (issue 17).

use super::model::{ExportFile, TargetState};

/// Renders the target state.
pub(crate) fn render(_state: &TargetState) -> Vec<ExportFile> {
    Vec::new()
}
