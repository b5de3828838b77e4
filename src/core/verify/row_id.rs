//! Row ids: the stable name of one aws-auth row (`mapRoles#3`), as
//! `--accept-gaps` takes them.

use std::fmt;
use std::str::FromStr;

use crate::core::input::Section;
use crate::core::plan::Mapping;

/// A stable name for one aws-auth row: its section and its 1-based
/// position there, `mapRoles#3` (the `row` column of `plan`). A section the
/// authenticator cannot read is named by its key alone (`mapRoles`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RowId {
    pub section: Section,
    /// 1-based; None for a whole unreadable section.
    pub number: Option<usize>,
}

/// Why a text is not a row id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RowIdError {
    #[error("{input:?}: the row number after # must be a whole number from 1")]
    BadNumber { input: String },
    #[error("{input:?} is not a row id: expected mapRoles#N, mapUsers#N or mapAccounts#N")]
    NotARowId { input: String },
}

impl RowId {
    pub fn of(m: &Mapping) -> RowId {
        RowId {
            section: m.section,
            number: m.index.map(|i| i + 1),
        }
    }
}

impl fmt::Display for RowId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.number {
            Some(n) => write!(f, "{}#{n}", self.section.key()),
            None => f.write_str(self.section.key()),
        }
    }
}

impl FromStr for RowId {
    type Err = RowIdError;

    fn from_str(s: &str) -> Result<RowId, RowIdError> {
        let s = s.trim();
        let (key, number) = match s.split_once('#') {
            Some((k, n)) => {
                let n: usize =
                    n.parse()
                        .ok()
                        .filter(|n| *n > 0)
                        .ok_or_else(|| RowIdError::BadNumber {
                            input: s.to_string(),
                        })?;
                (k, Some(n))
            }
            None => (s, None),
        };
        let section = Section::ALL
            .into_iter()
            .find(|sec| sec.key() == key)
            .ok_or_else(|| RowIdError::NotARowId {
                input: s.to_string(),
            })?;
        Ok(RowId { section, number })
    }
}

/// Parses `--accept-gaps a,b` (repeatable) into row ids.
pub(crate) fn parse_row_ids(values: &[String]) -> Result<Vec<RowId>, RowIdError> {
    let mut out = Vec::new();
    for v in values {
        for part in v.split(',').filter(|p| !p.trim().is_empty()) {
            let id: RowId = part.parse()?;
            if !out.contains(&id) {
                out.push(id);
            }
        }
    }
    Ok(out)
}
