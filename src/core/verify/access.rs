//! Verify's access check: every principal's rights through the entry that
//! exists now (and RBAC, and its policies) against what aws-auth gives it
//! (`core::equivalence` with the existing entries as the after side). A
//! principal that loses a right, or whose rights cannot be shown equal
//! (`unproven`), blocks parity unless `--accept-access-loss` names it: the
//! tool does not report parity it has not shown. A principal with no entry
//! at all is a row gap already, counted there.

use super::report::Verification;
use crate::core::access_report::{AccessReport, PrincipalAccess};
use crate::core::rbac::compare::Verdict;

/// Why verify refuses an `--accept-access-loss`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum AcceptLossError {
    #[error("--accept-access-loss {0}: no principal of aws-auth has that ARN")]
    Unknown(String),
    #[error("--accept-access-loss {arn}: that principal {verdict}: there is nothing to accept")]
    NoLoss { arn: String, verdict: &'static str },
    #[error("--accept-access-loss needs RBAC to compare with, and none was read")]
    NoAnalysis,
}

/// True for a principal whose lost or unproven rights block parity.
pub(crate) fn blocks(p: &PrincipalAccess) -> bool {
    matches!(p.comparison.verdict, Verdict::Loses | Verdict::Unproven)
        && p.after.is_some()
        && !p.accepted
}

/// Adds the access report to the verification, marks the accepted losses
/// and recomputes parity.
pub(crate) fn add_access(
    v: &mut Verification,
    mut report: AccessReport,
    accepted: &[String],
) -> Result<(), AcceptLossError> {
    for arn in accepted {
        let Some(p) = report
            .principals
            .iter_mut()
            .find(|p| p.principal_arn.eq_ignore_ascii_case(arn))
        else {
            return Err(AcceptLossError::Unknown(arn.clone()));
        };
        if matches!(p.comparison.verdict, Verdict::Same | Verdict::Gains) {
            return Err(AcceptLossError::NoLoss {
                arn: arn.clone(),
                verdict: if p.comparison.verdict == Verdict::Same {
                    "keeps the same rights"
                } else {
                    "only gains rights"
                },
            });
        }
        p.accepted = true;
    }
    let losses = report.principals.iter().filter(|p| blocks(p)).count();
    v.summary.access_losses = Some(losses);
    v.summary.access_unproven = Some(
        report
            .principals
            .iter()
            .filter(|p| p.comparison.verdict == Verdict::Unproven)
            .count(),
    );
    v.access = Some(report);
    v.parity = v.summary.blocking == 0 && losses == 0;
    Ok(())
}

/// `--accept-access-loss` without RBAC to check it against.
pub(crate) fn no_analysis(accepted: &[String]) -> Result<(), AcceptLossError> {
    if accepted.is_empty() {
        Ok(())
    } else {
        Err(AcceptLossError::NoAnalysis)
    }
}

/// The principals whose losses block finalize, as lines.
pub(crate) fn blocking_lines(v: &Verification) -> Vec<String> {
    let Some(report) = &v.access else {
        return Vec::new();
    };
    report
        .principals
        .iter()
        .filter(|p| blocks(p))
        .map(|p| match p.comparison.loses.first() {
            Some(l) => format!(
                "{} loses {} right(s) through its access entry, e.g. {} (via {}): grant them (policy map, RBAC binding) or acknowledge with --accept-access-loss {}",
                p.principal_arn,
                p.comparison.loses.len(),
                l.text(),
                l.via,
                p.principal_arn
            ),
            None => format!(
                "{}: its rights through the access entry cannot be shown equal ({}): check them (plan --explain) and acknowledge with --accept-access-loss {}",
                p.principal_arn,
                p.comparison.unproven.join("; "),
                p.principal_arn
            ),
        })
        .collect()
}
