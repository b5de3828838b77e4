//! The journal's records, as serialised one per line (docs/journal.md):
//! the header, intents and outcomes, and a journal read back.

use chrono::{SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use super::paths::safe_name;
use crate::core::diff::ExistingEntry;
use crate::core::steps::{Inverse, Outcome, Step};

/// The journal format's major version.
pub(crate) const FORMAT_VERSION: &str = "1";

/// The cluster a journal is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterInfo {
    pub name: String,
    pub region: String,
    pub account: String,
    pub arn: String,
}

impl ClusterInfo {
    /// The key of the per-cluster lock: `{account}-{region}-{name}`, made
    /// safe for a file name.
    pub fn lock_key(&self) -> String {
        safe_name(&format!("{}-{}-{}", self.account, self.region, self.name))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Command {
    Apply,
    Rollback,
    /// `prune-configmap`: `PutConfigMap` steps.
    #[serde(rename = "prune-configmap")]
    PruneConfigmap,
    /// `finalize`: `SwitchToApi` and `DeleteConfigMap` steps.
    Finalize,
}

/// The first line of a journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    pub format_version: String,
    pub tool_version: String,
    pub migration_id: String,
    pub cluster: ClusterInfo,
    pub command: Command,
    /// RFC 3339, UTC, seconds.
    pub started_at: String,
    /// Rollback journals: the path of the journal being undone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback_of: Option<String>,
}

impl Header {
    /// A header for a run starting now.
    pub fn new(
        tool_version: &str,
        migration_id: &str,
        cluster: ClusterInfo,
        command: Command,
    ) -> Header {
        Header {
            format_version: FORMAT_VERSION.to_string(),
            tool_version: tool_version.to_string(),
            migration_id: migration_id.to_string(),
            cluster,
            command,
            started_at: now(),
            rollback_of: None,
        }
    }
}

/// Written before a call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntentRecord {
    pub seq: u64,
    pub at: String,
    pub step: Step,
    /// The principal's entry before the call (None: no entry, or a
    /// cluster-wide step).
    pub prior: Option<ExistingEntry>,
    pub inverse: Inverse,
}

/// Written after a call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutcomeRecord {
    pub seq: u64,
    /// The seq of the intent this settles.
    pub intent: u64,
    pub at: String,
    pub outcome: Outcome,
}

/// One line of a journal.
// A journal holds at most a few thousand records: boxing buys nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "record", rename_all = "lowercase")]
pub enum Record {
    Header(Header),
    Intent(IntentRecord),
    Outcome(OutcomeRecord),
}

/// A journal read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalContents {
    pub header: Header,
    /// Intents and outcomes, in file order.
    pub records: Vec<Record>,
    /// An incomplete last line (no newline: the write was cut by a crash),
    /// ignored: its 1-based line number.
    pub torn_line: Option<usize>,
    /// Bytes of complete lines: where appending resumes.
    pub valid_len: u64,
}

impl JournalContents {
    /// The highest seq in the journal (0 when none).
    pub fn last_seq(&self) -> u64 {
        self.records
            .iter()
            .map(|r| match r {
                Record::Intent(i) => i.seq,
                Record::Outcome(o) => o.seq,
                Record::Header(_) => 0,
            })
            .max()
            .unwrap_or(0)
    }

    /// The outcome recorded for an intent.
    pub fn outcome_of(&self, intent_seq: u64) -> Option<&OutcomeRecord> {
        self.records.iter().find_map(|r| match r {
            Record::Outcome(o) if o.intent == intent_seq => Some(o),
            _ => None,
        })
    }
}

pub(super) fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true)
}
