//! Reading a journal back and checking its structure.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::Read;
use std::path::Path;

use super::error::{io_err, JournalError, Result};
use super::format::{JournalContents, Record, FORMAT_VERSION};

/// Reads a journal and checks it: a header first and only first, a known
/// format version, strictly increasing seqs, each outcome settling an
/// earlier intent that had none. An incomplete last line (no newline) is
/// ignored; any other unreadable line is corruption, reported with its
/// line number.
///
/// With the state in S3, the S3 copy of the journal (when there is one)
/// replaces the local file first.
pub fn read(path: &Path) -> Result<JournalContents> {
    crate::state::replica::refresh(path).map_err(super::error::replica_err(path))?;
    read_local(path)
}

/// [`read`] of the local file alone.
pub(super) fn read_local(path: &Path) -> Result<JournalContents> {
    let mut bytes = Vec::new();
    File::open(path)
        .and_then(|mut f| f.read_to_end(&mut bytes))
        .map_err(io_err(path))?;
    parse(path, &bytes)
}

pub(super) fn parse(path: &Path, bytes: &[u8]) -> Result<JournalContents> {
    let corrupt = |line: usize, message: String| JournalError::Corrupt {
        path: path.to_path_buf(),
        line,
        message,
    };
    let complete_len = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let complete = &bytes[..complete_len];
    let mut lines: Vec<&[u8]> = complete.split(|&b| b == b'\n').collect();
    lines.pop(); // the empty slice after the final newline
    let torn_line = (complete_len < bytes.len()).then_some(lines.len() + 1);

    let mut header = None;
    let mut records = Vec::new();
    let mut last_seq = 0u64;
    let mut open: BTreeSet<u64> = BTreeSet::new();
    for (i, raw) in lines.iter().enumerate() {
        let line = i + 1;
        let record: Record = std::str::from_utf8(raw)
            .map_err(|e| e.to_string())
            .and_then(|s| serde_json::from_str(s).map_err(|e| e.to_string()))
            .map_err(|m| corrupt(line, m))?;
        match record {
            Record::Header(h) => {
                if line != 1 {
                    return Err(corrupt(line, "a second header".into()));
                }
                if h.format_version != FORMAT_VERSION {
                    return Err(JournalError::UnsupportedVersion {
                        path: path.to_path_buf(),
                        version: h.format_version,
                    });
                }
                header = Some(h);
                continue;
            }
            _ if line == 1 => {
                return Err(corrupt(1, "the first line is not a header".into()));
            }
            Record::Intent(ref r) => {
                if r.seq <= last_seq {
                    return Err(corrupt(
                        line,
                        format!("seq {} does not follow seq {last_seq}", r.seq),
                    ));
                }
                last_seq = r.seq;
                open.insert(r.seq);
            }
            Record::Outcome(ref r) => {
                if r.seq <= last_seq {
                    return Err(corrupt(
                        line,
                        format!("seq {} does not follow seq {last_seq}", r.seq),
                    ));
                }
                last_seq = r.seq;
                if !open.remove(&r.intent) {
                    return Err(corrupt(
                        line,
                        format!(
                            "outcome for seq {}, which is no earlier intent awaiting one",
                            r.intent
                        ),
                    ));
                }
            }
        }
        records.push(record);
    }
    let header = header.ok_or_else(|| JournalError::NoHeader {
        path: path.to_path_buf(),
    })?;
    Ok(JournalContents {
        header,
        records,
        torn_line,
        valid_len: complete_len as u64,
    })
}
