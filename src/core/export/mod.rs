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

// Until the `export` command lands with the renderers (issue 17).
#![allow(dead_code)]

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

pub(crate) use model::{ExportFile, ExportFormat, TargetState};

/// Renders the target state of `plan` in `format`.
pub(crate) fn export(plan: &Plan, format: ExportFormat) -> Vec<ExportFile> {
    let state = TargetState::of(plan);
    match format {
        ExportFormat::Terraform => terraform::render(&state),
        ExportFormat::TerraformModule => terraform_module::render(&state),
        ExportFormat::CloudFormation => cloudformation::render(&state),
        ExportFormat::Eksctl => eksctl::render(&state),
    }
}
