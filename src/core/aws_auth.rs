//! The rows of aws-auth, read exactly as aws-iam-authenticator reads them.
//!
//! Each section is YAML in a string, converted to JSON and decoded into Go
//! structs: a syntax error or a non-list drops the whole section; a field of
//! the wrong type is zeroed and the row kept; keys match case-insensitively
//! and the last one wins. docs/mapping-rules.md says where each rule comes
//! from in the authenticator's source.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use super::input::{AwsAuthData, Section, SectionSource};
use super::reason::{Code, Reason};
use super::yaml::{self, Node, ScalarKind, Value};

/// One row of mapRoles, mapUsers or mapAccounts, as the authenticator holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub section: Section,
    /// Position within its section, from 0.
    pub index: usize,
    /// Line in the input, where it can be known.
    pub line: Option<usize>,
    /// Line within the section's string, from 1, when `line` cannot point
    /// inside it (a quoted string: JSON input, or the ConfigMap as read
    /// from the API): the line `kubectl get cm aws-auth -o
    /// jsonpath='{.data.mapRoles}'` shows, and the line under `mapRoles: |`
    /// in `-o yaml`.
    pub section_line: Option<usize>,
    /// rolearn / userarn; empty when missing or of the wrong type.
    pub arn: String,
    /// mapAccounts: the account ID as the authenticator reads it.
    pub account: Option<String>,
    pub username: String,
    pub groups: Vec<String>,
    /// The row carries an `sso` block.
    pub sso: bool,
    /// Notes about fields the authenticator zeroed or ignored.
    pub notes: Vec<Reason>,
}

impl Row {
    /// `line 12`, or `mapRoles line 3` when the line is within the
    /// section's string (see `section_line`).
    pub fn location(&self) -> Option<String> {
        location(self.section, self.line, self.section_line)
    }
}

/// `line 12`, or `mapRoles line 3` for a line within the section's string.
pub(crate) fn location(
    section: Section,
    line: Option<usize>,
    section_line: Option<usize>,
) -> Option<String> {
    match (section_line, line) {
        (Some(n), _) => Some(format!("{section} line {n}")),
        (None, Some(l)) => Some(format!("line {l}")),
        (None, None) => None,
    }
}

/// What became of a section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SectionReport {
    pub section: Section,
    pub line: Option<usize>,
    pub status: SectionStatus,
    pub rows: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SectionStatus {
    Loaded,
    Absent,
    Unparseable,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AwsAuth {
    pub rows: Vec<Row>,
    pub sections: Vec<SectionReport>,
}

pub(crate) fn parse(data: &AwsAuthData) -> AwsAuth {
    let mut out = AwsAuth::default();
    for section in Section::ALL {
        let Some((_, source)) = data.sections.iter().find(|(s, _)| *s == section) else {
            out.sections.push(SectionReport {
                section,
                line: None,
                status: SectionStatus::Absent,
                rows: 0,
                error: None,
            });
            continue;
        };
        let (root, offset, key_line) = match source {
            SectionSource::Text {
                text,
                line_offset,
                key_line,
            } => {
                // pkg/mapper/configmap/configmap.go isSkippable: empty,
                // "", '' and two backquotes all mean an empty section.
                let trimmed = text.trim();
                if matches!(trimmed, "" | "\"\"" | "''" | "``") {
                    out.sections.push(SectionReport {
                        section,
                        line: Some(*key_line),
                        status: SectionStatus::Absent,
                        rows: 0,
                        error: None,
                    });
                    continue;
                }
                match yaml::parse(text) {
                    Ok(root) => (root, *line_offset, *key_line),
                    Err(e) => {
                        let line = line_offset.map_or(*key_line, |o| o + e.line);
                        out.sections.push(unparseable(
                            section,
                            line,
                            format!("YAML error at line {line}: {}", e.message),
                        ));
                        continue;
                    }
                }
            }
        };
        let map_line = |l: usize| offset.map(|o| o + l);
        if let Some(bad) = root.first_unsupported_key() {
            let line = map_line(bad.line).unwrap_or(key_line);
            out.sections.push(unparseable(
                section,
                line,
                format!(
                    "line {line}: a mapping key is {} (an unquoted {{{{...}}}} template reads as a YAML mapping; quote it)",
                    bad.type_name()
                ),
            ));
            continue;
        }
        let items = match &root.value {
            Value::Seq(items) => items,
            Value::Scalar(s) if s.kind == ScalarKind::Null => {
                out.sections.push(SectionReport {
                    section,
                    line: Some(key_line),
                    status: SectionStatus::Absent,
                    rows: 0,
                    error: None,
                });
                continue;
            }
            _ => {
                out.sections.push(unparseable(
                    section,
                    key_line,
                    format!("{} is {}, not a list", section.key(), root.type_name()),
                ));
                continue;
            }
        };
        for (index, item) in items.iter().enumerate() {
            let line = map_line(item.line).or(Some(key_line));
            let mut row = match section {
                Section::MapAccounts => account_row(index, line, item),
                _ => mapping_row(section, index, line, offset, item),
            };
            row.section_line = offset.is_none().then_some(item.line);
            out.rows.push(row);
        }
        out.sections.push(SectionReport {
            section,
            line: Some(key_line),
            status: SectionStatus::Loaded,
            rows: items.len(),
            error: None,
        });
    }
    out
}

fn unparseable(section: Section, line: usize, error: String) -> SectionReport {
    SectionReport {
        section,
        line: Some(line),
        status: SectionStatus::Unparseable,
        rows: 0,
        error: Some(error),
    }
}

/// Go's encoding/json matches field names with Unicode case folding; the
/// two non-ASCII letters that fold onto ASCII are the long s and the Kelvin sign.
fn fold_eq(key: &str, field: &str) -> bool {
    let fold = |c: char| match c {
        '\u{17f}' => 's',
        '\u{212a}' => 'k',
        c => c.to_ascii_lowercase(),
    };
    key.chars().count() == field.len() && key.chars().map(fold).eq(field.chars())
}

/// `offset` maps a line of the section's text to a line of the input.
fn mapping_row(
    section: Section,
    index: usize,
    line: Option<usize>,
    offset: Option<usize>,
    item: &Node,
) -> Row {
    let mut row = Row {
        section,
        index,
        line,
        section_line: None,
        arn: String::new(),
        account: None,
        username: String::new(),
        groups: Vec::new(),
        sso: false,
        notes: Vec::new(),
    };
    let pairs = match &item.value {
        Value::Map(pairs) => pairs,
        Value::Scalar(s) if s.kind == ScalarKind::Null => return row,
        _ => {
            row.notes.push(Reason::new(
                Code::FieldZeroed,
                format!("the row is {}, not a mapping", item.type_name()),
            ));
            return row;
        }
    };
    // sigs.k8s.io/yaml turns the mapping into a Go map (a repeated key: the
    // last value) and json.Marshal sorts its keys; json.Unmarshal then sets
    // fields in that order, so among case variants the key that sorts last wins.
    let mut fields: std::collections::BTreeMap<Cow<'_, str>, &Node> = Default::default();
    for (k, v) in pairs {
        if let Some(key) = k.key_str() {
            fields.insert(key, v);
        }
    }
    let arn_field = match section {
        Section::MapRoles => "rolearn",
        _ => "userarn",
    };
    let mut known = vec![arn_field, "username", "groups"];
    if section == Section::MapRoles {
        known.push("sso");
    }
    for field in known {
        if let Some(note) = duplicate_keys(pairs, field, offset) {
            row.notes.push(note);
        }
    }
    for (key, value) in &fields {
        if fold_eq(key, arn_field) {
            row.arn = string_field(value, key, &mut row.notes);
        } else if fold_eq(key, "username") {
            row.username = string_field(value, key, &mut row.notes);
        } else if fold_eq(key, "groups") {
            row.groups = groups_field(value, key, &mut row.notes);
        } else if section == Section::MapRoles && fold_eq(key, "sso") {
            row.sso = matches!(value.value, Value::Map(_));
        }
    }
    row
}

/// A field set by more than one key of the row (the same key twice, or case
/// variants such as `rolearn` and `roleArn`): the authenticator uses one
/// value without a word; the note names which, and where.
fn duplicate_keys(pairs: &[(Node, Node)], field: &str, offset: Option<usize>) -> Option<Reason> {
    // (key, position, line) of every key that sets the field.
    let keys: Vec<(Cow<'_, str>, usize, usize)> = pairs
        .iter()
        .enumerate()
        .filter_map(|(i, (k, _))| {
            let key = k.key_str()?;
            fold_eq(&key, field).then_some((key, i, k.line))
        })
        .collect();
    if keys.len() < 2 {
        return None;
    }
    // The JSON round trip keeps the last value of a repeated key and sets
    // case variants in sorted order: the greatest key, last occurrence, wins.
    let winner = keys.iter().max_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)))?;
    let describe = |(key, _, line): &(Cow<'_, str>, usize, usize)| match offset {
        Some(o) => format!("{key} (line {})", o + line),
        None => key.to_string(),
    };
    Some(Reason::new(
        Code::DuplicateKey,
        format!(
            "{} keys of this row set {field}: {}; the authenticator uses {}",
            keys.len(),
            keys.iter().map(describe).collect::<Vec<_>>().join(", "),
            describe(winner)
        ),
    ))
}

fn string_field(value: &Node, key: &str, notes: &mut Vec<Reason>) -> String {
    match &value.value {
        Value::Scalar(s) if s.kind == ScalarKind::Str => s.text.clone(),
        Value::Scalar(s) if s.kind == ScalarKind::Null => String::new(),
        Value::Scalar(s) => {
            notes.push(Reason::new(
                Code::FieldZeroed,
                format!(
                    "{key}: {} is read as {} and ignored by the authenticator; quote it to make it a string",
                    s.text,
                    value.type_name()
                ),
            ));
            String::new()
        }
        _ => {
            notes.push(Reason::new(
                Code::FieldZeroed,
                format!(
                    "{key} is {} and ignored by the authenticator",
                    value.type_name()
                ),
            ));
            String::new()
        }
    }
}

fn groups_field(value: &Node, key: &str, notes: &mut Vec<Reason>) -> Vec<String> {
    match &value.value {
        Value::Seq(items) => items
            .iter()
            .map(|item| match &item.value {
                Value::Scalar(s) if s.kind == ScalarKind::Str => s.text.clone(),
                Value::Scalar(s) if s.kind == ScalarKind::Null => String::new(),
                _ => {
                    notes.push(Reason::new(
                        Code::FieldZeroed,
                        format!(
                            "{key}: an item is {} and becomes an empty group name",
                            item.type_name()
                        ),
                    ));
                    String::new()
                }
            })
            .collect(),
        Value::Scalar(s) if s.kind == ScalarKind::Null => Vec::new(),
        _ => {
            notes.push(Reason::new(
                Code::FieldZeroed,
                format!(
                    "{key} is {}, not a list: the authenticator gives this row no groups",
                    value.type_name()
                ),
            ));
            Vec::new()
        }
    }
}

/// mapAccounts is decoded by gopkg.in/yaml.v2 straight into []string
/// (pkg/mapper/configmap/configmap.go `ParseMap`), not through JSON: a scalar
/// keeps its literal text (`- 012345678901` stays "012345678901"); an item
/// that is null, a list or a mapping cannot be decoded and is dropped.
fn account_row(index: usize, line: Option<usize>, item: &Node) -> Row {
    let mut notes = Vec::new();
    let account = match &item.value {
        Value::Scalar(s) if s.kind != ScalarKind::Null => s.text.clone(),
        _ => {
            notes.push(Reason::new(
                Code::FieldZeroed,
                format!(
                    "the item is {}, not an account ID: the authenticator drops it",
                    item.type_name()
                ),
            ));
            String::new()
        }
    };
    Row {
        section: Section::MapAccounts,
        index,
        line,
        section_line: None,
        arn: String::new(),
        account: Some(account),
        username: String::new(),
        groups: Vec::new(),
        sso: false,
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::input::locate;

    fn rows(src: &str) -> AwsAuth {
        parse(&locate(src).expect("locates"))
    }

    fn status(a: &AwsAuth, s: Section) -> SectionStatus {
        a.sections.iter().find(|r| r.section == s).unwrap().status
    }

    #[test]
    fn keys_match_case_insensitively() {
        let a = rows("data:\n  mapRoles: |\n    - roleARN: arn:aws:iam::111122223333:role/a\n      UserName: a\n      GROUPS: [x]\n  mapUsers: |\n    - userArn: arn:aws:iam::111122223333:user/b\n      uſername: b\n");
        assert_eq!(a.rows[0].arn, "arn:aws:iam::111122223333:role/a");
        assert_eq!(a.rows[0].username, "a");
        assert_eq!(a.rows[0].groups, vec!["x"]);
        assert_eq!(a.rows[1].username, "b");
    }

    #[test]
    fn lines_point_into_the_input() {
        let a =
            rows("data:\n  mapRoles: |\n    - rolearn: a\n      username: a\n    - rolearn: b\n");
        assert_eq!(a.rows[0].line, Some(3));
        assert_eq!(a.rows[1].line, Some(5));
        assert_eq!(a.rows[1].section_line, None);
        assert_eq!(a.rows[1].location().as_deref(), Some("line 5"));
    }

    #[test]
    fn a_quoted_section_gives_the_line_within_its_string() {
        // As a live plan reads the ConfigMap: JSON, each section one string.
        let a =
            rows("{\"data\": {\"mapRoles\": \"- rolearn: a\\n  username: a\\n- rolearn: b\\n\"}}");
        assert_eq!(a.rows[1].line, Some(1));
        assert_eq!(a.rows[1].section_line, Some(3));
        assert_eq!(a.rows[1].location().as_deref(), Some("mapRoles line 3"));
    }

    #[test]
    fn a_bad_section_drops_alone() {
        let a = rows("data:\n  mapRoles: \"- rolearn: a\\n\\tusername: b\\n\"\n  mapUsers: |\n    - userarn: u\n");
        assert_eq!(status(&a, Section::MapRoles), SectionStatus::Unparseable);
        assert_eq!(status(&a, Section::MapUsers), SectionStatus::Loaded);
        assert_eq!(a.rows.len(), 1);
        let t = rows("data:\n  mapRoles: |\n    - rolearn: a\n      username: {{SessionName}}\n");
        assert_eq!(status(&t, Section::MapRoles), SectionStatus::Unparseable);
        let o = rows("data:\n  mapRoles: |\n    rolearn: a\n");
        assert_eq!(status(&o, Section::MapRoles), SectionStatus::Unparseable);
        let e = rows("data:\n  mapRoles: '\"\"'\n  mapUsers: \"\"\n");
        assert_eq!(status(&e, Section::MapRoles), SectionStatus::Absent);
        assert_eq!(status(&e, Section::MapUsers), SectionStatus::Absent);
    }

    /// pkg/mapper/configmap/configmap.go isSkippable: a value that trims to
    /// empty, "", '' or two backquotes is an empty section
    /// (`TestBadParseMap`, `TestBadParseMapSingleQuote`).
    #[test]
    fn empty_section_markers_are_the_authenticators() {
        for value in [
            "''",
            "'\"\"'",
            "'``'",
            "' `` '",
            "\"\"",
            "\"  \\n \"",
            "\"''\"",
        ] {
            let a = rows(&format!("data:\n  mapUsers: {value}\n"));
            assert_eq!(
                status(&a, Section::MapUsers),
                SectionStatus::Absent,
                "{value}"
            );
            assert!(a.rows.is_empty());
        }
        // Three backquotes are not a marker: YAML cannot read them.
        let a = rows("data:\n  mapUsers: '```'\n");
        assert_eq!(status(&a, Section::MapUsers), SectionStatus::Unparseable);
    }

    /// Nine anchors, each nine aliases of the one before (9^9 strings).
    fn alias_bomb(indent: &str) -> String {
        let mut out = format!("{indent}a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for (prev, name) in "abcdefgh".chars().zip("bcdefghi".chars()) {
            let items = vec![format!("*{prev}"); 9].join(", ");
            out.push_str(&format!("{indent}{name}: &{name} [{items}]\n"));
        }
        out
    }

    #[test]
    fn an_alias_bomb_drops_its_section_as_the_authenticator_does() {
        let src = format!(
            "data:\n  mapRoles: |\n    - rolearn: arn:aws:iam::111122223333:role/a\n    - bomb:\n{}  mapUsers: |\n    - userarn: arn:aws:iam::111122223333:user/u\n",
            alias_bomb("        ")
        );
        let a = rows(&src);
        let roles = a
            .sections
            .iter()
            .find(|r| r.section == Section::MapRoles)
            .unwrap();
        assert_eq!(roles.status, SectionStatus::Unparseable);
        assert_eq!(
            roles.error.as_deref(),
            Some("YAML error at line 8: document contains excessive aliasing")
        );
        assert_eq!(status(&a, Section::MapUsers), SectionStatus::Loaded);
        assert_eq!(a.rows.len(), 1);
    }

    #[test]
    fn wrong_types_are_zeroed() {
        let a = rows("data:\n  mapRoles: |\n    - rolearn: a\n      username: yes\n      groups: system:masters\n    - rolearn: b\n      groups: [123, x]\n      username: \"yes\"\n    - rolearn: c\n      rolearn: d\n");
        assert_eq!(a.rows[0].username, "");
        assert!(a.rows[0].groups.is_empty());
        assert_eq!(a.rows[0].notes.len(), 2);
        assert_eq!(a.rows[1].groups, vec!["", "x"]);
        assert_eq!(a.rows[1].username, "yes");
        assert_eq!(a.rows[2].arn, "d");
    }

    #[test]
    fn duplicate_keys_are_noted_with_the_one_used() {
        let a = rows("data:\n  mapRoles: |\n    - rolearn: arn:aws:iam::111122223333:role/a\n      groups: [x]\n      rolearn: arn:aws:iam::111122223333:role/b\n      GROUPS: [z]\n      username: u\n");
        let r = &a.rows[0];
        assert_eq!(r.arn, "arn:aws:iam::111122223333:role/b");
        assert_eq!(r.groups, vec!["x"]);
        let notes: Vec<(&str, &str)> = r
            .notes
            .iter()
            .map(|n| (n.code.as_str(), n.message.as_str()))
            .collect();
        assert_eq!(
            notes,
            vec![
                (
                    "duplicate-key",
                    "2 keys of this row set rolearn: rolearn (line 3), rolearn (line 5); the authenticator uses rolearn (line 5)"
                ),
                (
                    "duplicate-key",
                    "2 keys of this row set groups: groups (line 4), GROUPS (line 6); the authenticator uses groups (line 4)"
                ),
            ]
        );
        assert_eq!(r.notes[0].severity, crate::core::reason::Severity::Info);
        // One key each: no note.
        let b = rows("data:\n  mapUsers: |\n    - userarn: arn:aws:iam::111122223333:user/u\n      username: u\n");
        assert!(b.rows[0].notes.is_empty());
    }

    #[test]
    fn case_variant_keys_sorted_last_wins() {
        // "roleArn" sorts before "rolearn", so rolearn's value wins whatever the order.
        let a = rows("data:\n  mapRoles: |\n    - rolearn: lower\n      roleArn: upper\n");
        assert_eq!(a.rows[0].arn, "lower");
    }

    #[test]
    fn accounts_as_the_authenticator_reads_them() {
        let a = rows("data:\n  mapAccounts: |\n    - \"012345678901\"\n    - 111122223333\n    - 012345678901\n");
        let accts: Vec<_> = a.rows.iter().map(|r| r.account.clone().unwrap()).collect();
        // yaml.v2 into []string keeps a scalar's literal text.
        assert_eq!(accts, vec!["012345678901", "111122223333", "012345678901"]);
        assert!(a.rows.iter().all(|r| r.notes.is_empty()));
    }

    #[test]
    fn sso_blocks_are_seen() {
        let a = rows("data:\n  mapRoles: |\n    - sso:\n        permissionSetName: Admin\n        accountID: \"111122223333\"\n      username: a\n");
        assert!(a.rows[0].sso);
        assert_eq!(a.rows[0].arn, "");
    }
}
