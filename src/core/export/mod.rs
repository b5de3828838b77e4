//! Export a plan as infrastructure code (issue 17): the target state the
//! migration wants — every access entry and policy association, those it
//! would create and those that already exist and match — as Terraform,
//! the terraform-aws-eks module's `access_entries`, CloudFormation or an
//! eksctl ClusterConfig. Pure: a plan in, files (name and text) out; the
//! same plan gives the same bytes.
//!
//! [`TargetState`] is what every format renders: resource names, what
//! exists already (to import, never re-create) and the rows that get no
//! resource (with why, rendered as comments).

pub(crate) mod check;
pub(crate) mod cloudformation;
pub(crate) mod eksctl;
#[cfg(test)]
pub(crate) mod fixtures;
pub(crate) mod hcl;
pub(crate) mod model;
pub(crate) mod terraform;
pub(crate) mod terraform_module;

use crate::core::plan::Plan;

use check::Problem;
pub(crate) use model::{ExportFile, ExportFormat, TargetState};

/// An export that fails its own check (`check`: the provider's attributes,
/// enums, ARNs, scope rules, import IDs): it is never written.
#[derive(Debug, thiserror::Error)]
#[error(
    "the export fails its own check, so nothing was written (please report it): {}",
    problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
)]
pub(crate) struct ExportError {
    pub(crate) problems: Vec<Problem>,
}

/// Renders the target state of `plan` in `format`. The Terraform formats
/// are checked before they are returned.
pub(crate) fn export(plan: &Plan, format: ExportFormat) -> Result<Vec<ExportFile>, ExportError> {
    let state = TargetState::of(plan);
    let problems = match format {
        ExportFormat::Terraform => check::check_terraform(&terraform::body(&state)),
        ExportFormat::TerraformModule => check::check_module(
            &terraform_module::body(&state),
            terraform_module::LOCAL,
            terraform_module::MODULE,
        ),
        ExportFormat::CloudFormation | ExportFormat::Eksctl => Vec::new(),
    };
    if !problems.is_empty() {
        return Err(ExportError { problems });
    }
    Ok(match format {
        ExportFormat::Terraform => terraform::render(&state),
        ExportFormat::TerraformModule => terraform_module::render(&state),
        ExportFormat::CloudFormation => cloudformation::render(&state),
        ExportFormat::Eksctl => eksctl::render(&state),
    })
}
