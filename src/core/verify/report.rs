//! The verification report: one checked row per aws-auth row, the orphan
//! entries, the counts. Its JSON (`format_version` "1") is a documented
//! output: fields may be added, never renamed.

use serde::{Deserialize, Serialize};

use crate::core::access_report::AccessReport;

use crate::core::input::Section;
use crate::core::lockout::Lockout;
use crate::core::plan::{ClusterRef, Source, Tool};

/// The verification report's format version (fields may be added).
pub(crate) const FORMAT_VERSION: &str = "1";

/// What verify concludes about one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RowStatus {
    /// An access entry gives at least the access the row gives.
    Migrated,
    /// No entry gives this access: it would be lost in API mode.
    Gap,
    /// The row's access cannot be reproduced exactly by an entry.
    Lossy,
    /// The authenticator ignores this row today: it grants nothing.
    Ignored,
    /// A duplicate the authenticator does not use (another row of the same
    /// principal wins).
    Superseded,
}

impl RowStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RowStatus::Migrated => "migrated",
            RowStatus::Gap => "gap",
            RowStatus::Lossy => "lossy",
            RowStatus::Ignored => "ignored",
            RowStatus::Superseded => "superseded",
        }
    }

    /// True when the row's access would be lost by leaving aws-auth.
    pub fn is_gap(self) -> bool {
        matches!(self, RowStatus::Gap | RowStatus::Lossy)
    }
}

/// One aws-auth row, checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowCheck {
    /// `mapRoles#3`.
    pub id: String,
    pub section: Section,
    /// 0-based position in the section (as in the plan); null for a whole
    /// unreadable section.
    pub index: Option<usize>,
    pub line: Option<usize>,
    pub arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    pub username: Option<String>,
    pub groups: Vec<String>,
    pub status: RowStatus,
    /// The deciding reason code (`no-entry`, `entry-differs`, a mapping
    /// rule code...); null for a migrated row.
    pub code: Option<String>,
    pub detail: String,
    /// The access entry that carries (or should carry) the row.
    pub entry: Option<String>,
    /// Listed in `--accept-gaps`.
    pub accepted: bool,
    /// `prune-configmap` removes this row.
    pub prunable: bool,
}

/// An access entry whose principal IAM no longer has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrphanEntry {
    pub principal_arn: String,
    #[serde(rename = "type")]
    pub entry_type: String,
    pub detail: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifySummary {
    pub rows: usize,
    pub migrated: usize,
    pub gaps: usize,
    pub lossy: usize,
    pub accepted: usize,
    pub ignored: usize,
    pub superseded: usize,
    pub orphan_entries: usize,
    /// Gaps and lossy rows not accepted: parity when 0.
    pub blocking: usize,
    /// Principals that lose rights through their entry (RBAC-aware),
    /// not accepted: parity needs 0 too. None: RBAC was not analysed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_losses: Option<usize>,
    /// Principals whose rights could not be shown equal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_unproven: Option<usize>,
}

/// The verification report (JSON `format_version` "1").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verification {
    pub format_version: String,
    pub tool: Tool,
    pub cluster: ClusterRef,
    pub source: Source,
    /// True when no row's access would be lost (accepted gaps aside).
    pub parity: bool,
    pub summary: VerifySummary,
    pub rows: Vec<RowCheck>,
    pub orphan_entries: Vec<OrphanEntry>,
    pub notices: Vec<String>,
    /// Who could be locked out by API mode, judged from the entries that
    /// exist now (not from planned ones).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lockout: Option<Lockout>,
    /// Each principal's rights through the entry that exists against
    /// aws-auth's, when RBAC could be read (docs/access-equivalence.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access: Option<AccessReport>,
}

impl Verification {
    /// Rows that block parity.
    pub fn blocking(&self) -> impl Iterator<Item = &RowCheck> {
        self.rows
            .iter()
            .filter(|r| r.status.is_gap() && !r.accepted)
    }

    /// The rows prune-configmap removes.
    pub fn prunable(&self) -> impl Iterator<Item = &RowCheck> {
        self.rows.iter().filter(|r| r.prunable)
    }
}

/// What a row names: its ARN, `account A`, or `-`.
pub(crate) fn row_label(r: &RowCheck) -> String {
    match (&r.arn, &r.account) {
        (Some(a), _) => a.clone(),
        (None, Some(acc)) => format!("account {acc}"),
        _ => "-".into(),
    }
}
