//! The plan: what aws-auth holds, what each row becomes, and what would be
//! done. Serialised as JSON `format_version` "1" (docs/plan-format.md):
//! fields may be added within a major version, never removed or renamed.

use serde::{Deserialize, Serialize};

use super::access_report::AccessReport;
use super::aws_auth::SectionReport;
use super::cluster::AuthMode;
use super::existing::{EntryDiff, ExistingEntry, Fingerprint};
use super::input::Section;
use super::policy::PolicyAssociation;
use super::reason::{Reason, Severity};

pub(crate) const FORMAT_VERSION: &str = "1";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EntryType {
    Standard,
    #[serde(rename = "EC2_LINUX")]
    Ec2Linux,
    #[serde(rename = "EC2_WINDOWS")]
    Ec2Windows,
    FargateLinux,
    HybridLinux,
    /// Any type EKS knows that this tool does not create (EC2, `HYPERPOD_LINUX`...).
    #[serde(other)]
    Other,
}

impl EntryType {
    pub fn as_str(self) -> &'static str {
        match self {
            EntryType::Standard => "STANDARD",
            EntryType::Ec2Linux => "EC2_LINUX",
            EntryType::Ec2Windows => "EC2_WINDOWS",
            EntryType::FargateLinux => "FARGATE_LINUX",
            EntryType::HybridLinux => "HYBRID_LINUX",
            EntryType::Other => "OTHER",
        }
    }

    pub fn parse(s: &str) -> EntryType {
        match s {
            "STANDARD" => EntryType::Standard,
            "EC2_LINUX" => EntryType::Ec2Linux,
            "EC2_WINDOWS" => EntryType::Ec2Windows,
            "FARGATE_LINUX" => EntryType::FargateLinux,
            "HYBRID_LINUX" => EntryType::HybridLinux,
            _ => EntryType::Other,
        }
    }

    pub fn is_node(self) -> bool {
        !matches!(self, EntryType::Standard | EntryType::Other)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Fidelity {
    Exact,
    Lossy,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Create,
    Update,
    Noop,
    Conflict,
    Skip,
    Unmanaged,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Noop => "noop",
            Action::Conflict => "conflict",
            Action::Skip => "skip",
            Action::Unmanaged => "unmanaged",
        }
    }

    /// True for actions that change the cluster.
    pub fn changes(self) -> bool {
        matches!(self, Action::Create | Action::Update)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Migrate,
    Skip,
}

/// One aws-auth row and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mapping {
    pub section: Section,
    /// Position in its section, from 0; null for a section that could not be read.
    pub index: Option<usize>,
    pub line: Option<usize>,
    /// Line within the section's string, from 1, when `line` cannot point
    /// inside it (the section is a quoted string: JSON input, or a live
    /// plan's ConfigMap read from the API).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub section_line: Option<usize>,
    pub arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    pub username: Option<String>,
    pub groups: Vec<String>,
    pub outcome: Outcome,
    pub reasons: Vec<Reason>,
}

/// One access entry the plan wants, and what would be done about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub principal_arn: String,
    #[serde(rename = "type")]
    pub entry_type: EntryType,
    /// null: EKS chooses its default username.
    pub username: Option<String>,
    pub kubernetes_groups: Vec<String>,
    pub policies: Vec<PolicyAssociation>,
    pub fidelity: Fidelity,
    pub reasons: Vec<Reason>,
    pub action: Action,
    /// Indices into `mappings`.
    pub from: Vec<usize>,
    /// Live plans: what is there now, when it differs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diff: Option<EntryDiff>,
}

impl Mapping {
    /// `line 12`, or `mapRoles line 3` for a line within the section's string.
    pub fn location(&self) -> Option<String> {
        super::aws_auth::location(self.section, self.line, self.section_line)
    }
}

impl Entry {
    pub fn is_lossy(&self) -> bool {
        self.fidelity == Fidelity::Lossy
    }

    pub fn worst(&self) -> Option<Severity> {
        self.reasons.iter().map(|r| r.severity).max()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

impl Default for Tool {
    fn default() -> Tool {
        Tool {
            name: env!("CARGO_PKG_NAME").into(),
            version: env!("CARGO_PKG_VERSION").into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    /// `file`, `stdin` or `cluster`.
    pub kind: String,
    pub path: Option<String>,
    pub sha256: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_version: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterRef {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
    pub account: Option<String>,
    pub partition: String,
    /// Where the account came from: `flag`, `inferred` or `cluster`.
    pub account_source: String,
    #[serde(default)]
    pub authentication_mode: Option<AuthMode>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub rows: usize,
    pub migrate: usize,
    pub skipped: usize,
    pub entries: usize,
    /// Lossy entries plus `lossy_rows`: every row whose access the plan
    /// cannot carry over exactly.
    pub lossy: usize,
    /// Rows that match a caller today and that no access entry can carry
    /// (`root-user`, `federated-user`): lossy, with no entry.
    #[serde(default)]
    pub lossy_rows: usize,
    pub create: usize,
    pub update: usize,
    pub noop: usize,
    pub conflict: usize,
    pub skip: usize,
    pub unmanaged: usize,
    pub policies: usize,
}

impl Summary {
    pub fn changes(&self) -> usize {
        self.create + self.update
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub format_version: String,
    pub tool: Tool,
    pub source: Source,
    pub cluster: ClusterRef,
    pub allow_lossy: bool,
    pub sections: Vec<SectionReport>,
    pub notices: Vec<String>,
    pub mappings: Vec<Mapping>,
    pub entries: Vec<Entry>,
    pub summary: Summary,
    /// Live plans: the entries that exist now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub existing: Option<Vec<ExistingEntry>>,
    /// Live plans: who runs the tool and who could be locked out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lockout: Option<Lockout>,
    /// Live plans: a digest of everything the plan was computed from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<Fingerprint>,
    /// With RBAC to compare against (live plans, or `--rbac FILE`): each
    /// principal's rights before and after (docs/access-equivalence.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access: Option<AccessReport>,
    /// Live plans, as rendered: SHA-256 of the plan's content without this
    /// field ([`super::review`]), so an edit after review is seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
}

impl Plan {
    /// Recounts the summary from mappings and entries.
    pub fn summarize(&mut self) {
        let rows = self.mappings.iter().filter(|m| m.index.is_some()).count();
        let migrate = self
            .mappings
            .iter()
            .filter(|m| m.outcome == Outcome::Migrate)
            .count();
        let count = |a: Action| self.entries.iter().filter(|e| e.action == a).count();
        let lossy_rows = self.lossy_rows().len();
        self.summary = Summary {
            rows,
            migrate,
            skipped: rows - migrate.min(rows),
            entries: self.entries.len(),
            lossy: self.entries.iter().filter(|e| e.is_lossy()).count() + lossy_rows,
            lossy_rows,
            create: count(Action::Create),
            update: count(Action::Update),
            noop: count(Action::Noop),
            conflict: count(Action::Conflict),
            skip: count(Action::Skip),
            unmanaged: count(Action::Unmanaged),
            policies: self
                .entries
                .iter()
                .filter(|e| e.action.changes())
                .map(|e| e.policies.len())
                .sum(),
        };
    }

    /// The rows (indices into `mappings`) whose access is lost and that no
    /// entry carries: a lossy reason (`root-user`, `federated-user`) on a
    /// row that is in no entry's `from`.
    pub fn lossy_rows(&self) -> Vec<usize> {
        self.mappings
            .iter()
            .enumerate()
            .filter(|(i, m)| {
                m.index.is_some()
                    && m.reasons.iter().any(|r| r.severity == Severity::Lossy)
                    && !self.entries.iter().any(|e| e.from.contains(i))
            })
            .map(|(i, _)| i)
            .collect()
    }

    pub fn has_changes(&self) -> bool {
        self.entries.iter().any(|e| e.action.changes())
    }
}

/// Who could be locked out once aws-auth no longer counts (computed by
/// `lockout::analyse`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lockout {
    /// The caller as STS reports it.
    pub caller_arn: Option<String>,
    /// True when, after the plan, an access entry makes the caller a cluster admin.
    pub caller_admin_after: bool,
    /// The entry that does it.
    pub caller_admin_entry: Option<String>,
    /// Node roles of aws-auth that would have no node entry.
    pub node_roles_at_risk: Vec<String>,
    pub warnings: Vec<String>,
}
