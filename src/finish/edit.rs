//! Removing rows from an aws-auth section's text, line by line, so that
//! every other byte stays as it was: the other rows, comments, blank lines,
//! quoting and indentation. Pure. The result is read back through the
//! core's parser and checked to hold exactly the rows that should remain.

use std::collections::{BTreeMap, BTreeSet};

use crate::core::aws_auth::{self, Row};
use crate::core::input::{self, Section};
use crate::core::yaml::{self, Value};
use crate::kube;

/// Why a section's rows cannot be removed line by line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum EditError {
    #[error("line {line}: {message}")]
    Syntax { line: usize, message: String },
    #[error("the section is not a list")]
    NotAList,
    #[error("the section has {rows} rows, not {wanted}")]
    NoSuchRow { rows: usize, wanted: usize },
    #[error("the section uses YAML anchors and aliases")]
    Aliases,
    #[error("the section is not a block list (`- ...` lines)")]
    NotABlockList,
    #[error("found {found} list items at indentation {indent} but the section has {rows} rows")]
    ItemCount {
        found: usize,
        indent: usize,
        rows: usize,
    },
    #[error("row {row} starts at line {line}, outside the list item at line {item_line}")]
    OutsideItem {
        row: usize,
        line: usize,
        item_line: usize,
    },
}

/// Why aws-auth's data cannot be pruned.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum PruneError {
    #[error("aws-auth has no {0} to remove rows from")]
    NoSection(&'static str),
    #[error("cannot remove rows from {section} line by line: {why}; edit aws-auth by hand")]
    LineByLine {
        section: &'static str,
        why: EditError,
    },
    /// The data (before or after) does not read as aws-auth.
    #[error("{0}")]
    Unreadable(input::InputError),
    #[error("removing the rows would not leave the other {expected} rows as they are (read back: {got} rows); nothing changed: edit aws-auth by hand")]
    OthersChanged { expected: usize, got: usize },
}

/// The lines of `text`, each with its line ending.
fn lines_of(text: &str) -> Vec<&str> {
    text.split_inclusive('\n').collect()
}

fn is_blank_or_comment(line: &str) -> bool {
    let t = line.trim();
    t.is_empty() || t.starts_with('#')
}

/// Indentation of a line that starts a block sequence item (`- x` or `-`).
fn dash_indent(line: &str) -> Option<usize> {
    let body = line.trim_end_matches(['\n', '\r']);
    let rest = body.trim_start_matches(' ');
    let indent = body.len() - rest.len();
    (rest == "-" || rest.starts_with("- ")).then_some(indent)
}

/// Removes the items at `remove` (0-based positions in the section's list)
/// from a section's YAML text. Each item spans from its `-` line to the
/// line before the next item (or the end), less trailing blank and comment
/// lines, which are kept (they usually introduce what follows). Fails,
/// changing nothing, when the text is not a block sequence whose items
/// start at lines this can find (flow style `[...]`, several items per
/// line, anchors shared between items...).
pub(crate) fn remove_items(text: &str, remove: &BTreeSet<usize>) -> Result<String, EditError> {
    if remove.is_empty() {
        return Ok(text.to_string());
    }
    let root = yaml::parse(text).map_err(|e| EditError::Syntax {
        line: e.line,
        message: e.message,
    })?;
    let Value::Seq(items) = &root.value else {
        return Err(EditError::NotAList);
    };
    if let Some(&bad) = remove.iter().find(|&&i| i >= items.len()) {
        return Err(EditError::NoSuchRow {
            rows: items.len(),
            wanted: bad + 1,
        });
    }
    if text.contains('&') && text.contains('*') {
        // An anchor used by another row would dangle. Rare in aws-auth:
        // refuse rather than guess.
        let uses_alias = text
            .lines()
            .any(|l| !l.trim_start().starts_with('#') && l.contains('*'));
        if uses_alias {
            return Err(EditError::Aliases);
        }
    }
    let lines = lines_of(text);
    // The item lines: `-` lines at the smallest indentation found.
    let dashes: Vec<(usize, usize)> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| !is_blank_or_comment(l))
        .filter_map(|(i, l)| dash_indent(l).map(|d| (i, d)))
        .collect();
    let Some(top) = dashes.iter().map(|(_, d)| *d).min() else {
        return Err(EditError::NotABlockList);
    };
    let starts: Vec<usize> = dashes
        .iter()
        .filter(|(_, d)| *d == top)
        .map(|(i, _)| *i)
        .collect();
    if starts.len() != items.len() {
        return Err(EditError::ItemCount {
            found: starts.len(),
            indent: top,
            rows: items.len(),
        });
    }
    // Each parsed item must begin within its span (1-based lines).
    for (k, item) in items.iter().enumerate() {
        let first = starts[k] + 1;
        let next = starts.get(k + 1).map_or(usize::MAX, |s| s + 1);
        if item.line < first || item.line >= next {
            return Err(EditError::OutsideItem {
                row: k + 1,
                line: item.line,
                item_line: first,
            });
        }
    }
    // A line before the first item (`---`, a comment) is never removed.
    let mut drop = vec![false; lines.len()];
    for &k in remove {
        let start = starts[k];
        let mut end = starts.get(k + 1).copied().unwrap_or(lines.len());
        while end > start + 1 && is_blank_or_comment(lines[end - 1]) {
            end -= 1;
        }
        for d in drop.iter_mut().take(end).skip(start) {
            *d = true;
        }
    }
    Ok(lines
        .iter()
        .zip(drop)
        .filter(|(_, d)| !d)
        .map(|(l, _)| *l)
        .collect())
}

/// The rows of aws-auth data as the core reads them.
pub(crate) fn rows_of(data: &BTreeMap<String, String>) -> Result<Vec<Row>, PruneError> {
    let text = kube::manifest(data, None);
    let located = input::locate(&text).map_err(PruneError::Unreadable)?;
    Ok(aws_auth::parse(&located).rows)
}

/// What identifies a row's access (section, ARN or account, username, groups).
fn row_key(r: &Row) -> (Section, String, Option<String>, String, Vec<String>) {
    (
        r.section,
        r.arn.clone(),
        r.account.clone(),
        r.username.clone(),
        r.groups.clone(),
    )
}

/// The data with the rows at `remove` (section, 0-based index) taken out,
/// checked: reading it back gives every other row, unchanged and in order,
/// and the sections keep their status. Keys other than the sections are
/// untouched.
pub(crate) fn prune_data(
    data: &BTreeMap<String, String>,
    remove: &BTreeSet<(Section, usize)>,
) -> Result<BTreeMap<String, String>, PruneError> {
    let mut out = data.clone();
    for section in Section::ALL {
        let wanted: BTreeSet<usize> = remove
            .iter()
            .filter(|(s, _)| *s == section)
            .map(|(_, i)| *i)
            .collect();
        if wanted.is_empty() {
            continue;
        }
        let Some(text) = data.get(section.key()) else {
            return Err(PruneError::NoSection(section.key()));
        };
        let edited = remove_items(text, &wanted).map_err(|why| PruneError::LineByLine {
            section: section.key(),
            why,
        })?;
        out.insert(section.key().to_string(), edited);
    }
    let before = rows_of(data)?;
    let after = rows_of(&out)?;
    let expected: Vec<_> = before
        .iter()
        .filter(|r| !remove.contains(&(r.section, r.index)))
        .map(row_key)
        .collect();
    let got: Vec<_> = after.iter().map(row_key).collect();
    if expected != got {
        return Err(PruneError::OthersChanged {
            expected: expected.len(),
            got: got.len(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROLES: &str = "# managed by platform
- rolearn: arn:aws:iam::111122223333:role/node
  username: system:node:{{EC2PrivateDNSName}}
  groups:
    - system:bootstrappers
    - system:nodes

# developers
- rolearn: arn:aws:iam::111122223333:role/dev   # the dev team
  username: dev
  groups:
  - devs
-
  rolearn: arn:aws:iam::111122223333:role/ops
  groups: [ops]
";

    fn set(v: &[usize]) -> BTreeSet<usize> {
        v.iter().copied().collect()
    }

    #[test]
    fn removes_exactly_the_items_and_keeps_comments() {
        let out = remove_items(ROLES, &set(&[0])).unwrap();
        assert_eq!(
            out,
            "# managed by platform

# developers
- rolearn: arn:aws:iam::111122223333:role/dev   # the dev team
  username: dev
  groups:
  - devs
-
  rolearn: arn:aws:iam::111122223333:role/ops
  groups: [ops]
"
        );
        let out = remove_items(ROLES, &set(&[1, 2])).unwrap();
        assert_eq!(
            out,
            "# managed by platform
- rolearn: arn:aws:iam::111122223333:role/node
  username: system:node:{{EC2PrivateDNSName}}
  groups:
    - system:bootstrappers
    - system:nodes

# developers
"
        );
        let out = remove_items(ROLES, &set(&[2])).unwrap();
        assert!(out.ends_with("  - devs\n"), "{out}");
        assert_eq!(remove_items(ROLES, &set(&[])).unwrap(), ROLES);
    }

    #[test]
    fn indented_lists_and_no_final_newline() {
        let text = "  - rolearn: a\n    groups: [x]\n  - rolearn: b\n    groups: [y]";
        assert_eq!(
            remove_items(text, &set(&[1])).unwrap(),
            "  - rolearn: a\n    groups: [x]\n"
        );
        assert_eq!(
            remove_items(text, &set(&[0])).unwrap(),
            "  - rolearn: b\n    groups: [y]"
        );
    }

    #[test]
    fn refuses_what_it_cannot_edit_line_by_line() {
        assert!(remove_items("[{rolearn: a}, {rolearn: b}]", &set(&[0])).is_err());
        assert_eq!(
            remove_items("- rolearn: a\n", &set(&[1]))
                .unwrap_err()
                .to_string(),
            "the section has 1 rows, not 2"
        );
        assert!(remove_items("rolearn: a\n", &set(&[0])).is_err());
        let anchors = "- &r {rolearn: a, groups: [x]}\n- *r\n";
        assert!(remove_items(anchors, &set(&[0])).is_err());
        // A quoted string continued on a line that looks like an item.
        let tricky = "- rolearn: \"a\n- b\"\n  groups: [x]\n";
        assert!(remove_items(tricky, &set(&[0])).is_err());
        // One item holding a nested list is removed whole.
        let nested = "- - rolearn: a\n  - rolearn: b\n- rolearn: c\n";
        assert_eq!(remove_items(nested, &set(&[0])).unwrap(), "- rolearn: c\n");
        // A block scalar holding `- ` lines deeper than the items is fine.
        let block = "- rolearn: a\n  username: |\n    - not an item\n- rolearn: b\n";
        assert_eq!(remove_items(block, &set(&[0])).unwrap(), "- rolearn: b\n");
    }

    #[test]
    fn prune_data_checks_the_rest_and_keeps_other_keys() {
        let data = BTreeMap::from([
            ("mapRoles".to_string(), ROLES.to_string()),
            (
                "mapUsers".to_string(),
                "- userarn: arn:aws:iam::111122223333:user/bob\n  username: bob\n  groups: [b]\n"
                    .to_string(),
            ),
            (
                "mapAccounts".to_string(),
                "- \"444455556666\"\n".to_string(),
            ),
            ("note".to_string(), "kept".to_string()),
        ]);
        let out = prune_data(
            &data,
            &BTreeSet::from([(Section::MapRoles, 1), (Section::MapUsers, 0)]),
        )
        .unwrap();
        assert_eq!(out["note"], "kept");
        assert_eq!(out["mapAccounts"], data["mapAccounts"]);
        assert_eq!(out["mapUsers"], "");
        let rows = rows_of(&out).unwrap();
        let arns: Vec<&str> = rows.iter().map(|r| r.arn.as_str()).collect();
        assert_eq!(
            arns,
            vec![
                "arn:aws:iam::111122223333:role/node",
                "arn:aws:iam::111122223333:role/ops",
                ""
            ]
        );
        assert_eq!(rows[2].account.as_deref(), Some("444455556666"));
        assert_eq!(
            prune_data(&data, &BTreeSet::from([(Section::MapRoles, 9)]))
                .unwrap_err()
                .to_string(),
            "cannot remove rows from mapRoles line by line: the section has 3 rows, not 10; edit aws-auth by hand"
        );
    }
}
