//! Finding the aws-auth data in what a user hands the tool: a `ConfigMap`
//! manifest (YAML or JSON), a `List` holding it, or a bare `data:` block.

use serde::{Deserialize, Serialize};

use super::yaml::{self, Node, Value};

/// Inputs larger than this are refused: a `ConfigMap` holds at most 1 MiB of
/// data, and its manifest (annotations, managedFields, JSON escaping) stays
/// well below this.
pub(crate) const MAX_INPUT_BYTES: usize = 4 * 1024 * 1024;
/// The API server's limit on a `ConfigMap`'s data.
pub(crate) const CONFIGMAP_DATA_LIMIT: usize = 1024 * 1024;

/// The three sections of aws-auth; the variants are named after the keys.
#[allow(clippy::enum_variant_names)] // MapRoles, MapUsers, MapAccounts: aws-auth's own names
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Section {
    #[serde(rename = "mapRoles")]
    MapRoles,
    #[serde(rename = "mapUsers")]
    MapUsers,
    #[serde(rename = "mapAccounts")]
    MapAccounts,
}

impl Section {
    pub const ALL: [Section; 3] = [Section::MapRoles, Section::MapUsers, Section::MapAccounts];

    pub fn key(self) -> &'static str {
        match self {
            Section::MapRoles => "mapRoles",
            Section::MapUsers => "mapUsers",
            Section::MapAccounts => "mapAccounts",
        }
    }
}

impl std::fmt::Display for Section {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.key())
    }
}

/// One section's raw content and where it sits in the input.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum SectionSource {
    /// The usual form: a string holding YAML.
    Text {
        text: String,
        /// Add to a line of `text` to get the line in the input; `None` when
        /// the string was quoted (JSON), so inner lines do not map.
        line_offset: Option<usize>,
        /// The line of the section's key in the input.
        key_line: usize,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AwsAuthData {
    pub sections: Vec<(Section, SectionSource)>,
    /// Things about the input a reviewer should know.
    pub notices: Vec<String>,
    /// `metadata.resourceVersion`, when the input had one.
    pub resource_version: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum InputError {
    #[error("the input is empty: expected the aws-auth ConfigMap (kubectl get configmap aws-auth -n kube-system -o yaml)")]
    Empty,
    #[error("the input is {size} bytes; an aws-auth ConfigMap manifest is at most {max} bytes (its data is limited to 1 MiB)")]
    TooLarge { size: usize, max: usize },
    #[error(
        "the input is not text (binary data at byte {offset}); expected a YAML or JSON ConfigMap"
    )]
    Binary { offset: usize },
    #[error("line {line}: not valid YAML or JSON: {message}")]
    Syntax { line: usize, message: String },
    #[error("line {line}: refused: {message} (YAML aliases, *name, that expand this far are a denial-of-service pattern)")]
    Aliases { line: usize, message: String },
    #[error("line {line}: refused: data.{section}: {message} (the authenticator may still read this section, so the tool cannot say what it grants)")]
    SectionExpansion {
        line: usize,
        section: Section,
        message: String,
    },
    #[error("line {line}: this is a {kind}, not a ConfigMap; expected the aws-auth ConfigMap")]
    NotConfigMap { line: usize, kind: String },
    #[error("line {line}: this is ConfigMap {namespace}/{name}, not kube-system/aws-auth")]
    WrongConfigMap {
        line: usize,
        namespace: String,
        name: String,
    },
    #[error("the List holds no ConfigMap named aws-auth in kube-system")]
    NotInList,
    #[error("line {line}: no aws-auth data here: expected a ConfigMap, a List holding one, or a data: block with mapRoles, mapUsers or mapAccounts")]
    NoData { line: usize },
    #[error("line {line}: data.{key} is {found}, not a string: a ConfigMap's data holds only strings, so no cluster can hold this and the authenticator never reads it; write it as a string (`{key}: |` then the YAML, indented)")]
    NotAString {
        line: usize,
        key: String,
        found: String,
    },
}

/// Checks size and encoding and returns the text (a UTF-8 BOM removed).
pub(crate) fn decode(bytes: &[u8]) -> Result<&str, InputError> {
    if bytes.len() > MAX_INPUT_BYTES {
        return Err(InputError::TooLarge {
            size: bytes.len(),
            max: MAX_INPUT_BYTES,
        });
    }
    if let Some(offset) = bytes.iter().position(|b| *b == 0) {
        return Err(InputError::Binary { offset });
    }
    let text = std::str::from_utf8(bytes).map_err(|e| InputError::Binary {
        offset: e.valid_up_to(),
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err(InputError::Empty);
    }
    Ok(text)
}

/// Finds the aws-auth data in a document.
pub(crate) fn locate(text: &str) -> Result<AwsAuthData, InputError> {
    let root = yaml::parse(text).map_err(|e| match e.kind {
        yaml::ErrorKind::Syntax => InputError::Syntax {
            line: e.line,
            message: e.message,
        },
        yaml::ErrorKind::ExcessiveAliasing | yaml::ErrorKind::ExpansionLimit => {
            InputError::Aliases {
                line: e.line,
                message: e.message,
            }
        }
    })?;
    let configmap = find_configmap(&root)?;
    let data = match configmap.get("data") {
        Some(d) => d,
        None if configmap.get("kind").is_some() => {
            // A ConfigMap with no data: every section absent.
            return Ok(AwsAuthData {
                sections: Vec::new(),
                notices: vec!["the ConfigMap has no data".into()],
                resource_version: resource_version(configmap),
            });
        }
        // A bare block of mapRoles/mapUsers/mapAccounts.
        None => configmap,
    };
    let mut out = AwsAuthData {
        sections: Vec::new(),
        notices: Vec::new(),
        resource_version: resource_version(configmap),
    };
    let from_data_key = configmap.get("data").is_some();
    match &data.value {
        Value::Map(pairs) => {
            // Kubernetes stores only strings in data (null reads as ""): a
            // list or mapping here is a manifest no cluster can hold, so
            // planning from it would plan access that exists nowhere. A
            // bare block is checked on its three keys only.
            for (k, v) in pairs {
                let name = k.as_str().map_or_else(|| "?".into(), str::to_string);
                let checked = from_data_key || Section::ALL.iter().any(|s| s.key() == name);
                let is_string = match &v.value {
                    Value::Scalar(s) => {
                        matches!(s.kind, yaml::ScalarKind::Str | yaml::ScalarKind::Null)
                    }
                    _ => false,
                };
                if checked && !is_string {
                    let found = match &v.value {
                        Value::Scalar(s) => format!("{} ({})", v.type_name(), s.text),
                        _ => v.type_name().to_string(),
                    };
                    return Err(InputError::NotAString {
                        line: k.line,
                        key: name,
                        found,
                    });
                }
            }
            for section in Section::ALL {
                let Some((key, node)) = pairs
                    .iter()
                    .rev()
                    .find(|(k, _)| k.as_str() == Some(section.key()))
                else {
                    continue;
                };
                if let Value::Scalar(s) = &node.value {
                    // A block scalar's content starts on the line after
                    // its key (`mapRoles: |`).
                    let line_offset = if s.block {
                        Some(key.line)
                    } else if s.kind == yaml::ScalarKind::Str && !s.text.contains('\n') {
                        Some(node.line - 1)
                    } else {
                        None
                    };
                    // A section the authenticator refuses for its aliases
                    // is dropped like any bad YAML (aws_auth reports it);
                    // one only this tool's text bound refuses cannot be.
                    if s.text.contains('*') {
                        if let Err(e) = yaml::parse(&s.text) {
                            if e.kind == yaml::ErrorKind::ExpansionLimit {
                                return Err(InputError::SectionExpansion {
                                    line: line_offset.map_or(key.line, |o| o + e.line),
                                    section,
                                    message: e.message,
                                });
                            }
                        }
                    }
                    out.sections.push((
                        section,
                        SectionSource::Text {
                            text: s.text.clone(),
                            line_offset,
                            key_line: key.line,
                        },
                    ));
                }
            }
            for section in Section::ALL {
                let lines: Vec<usize> = pairs
                    .iter()
                    .filter(|(k, _)| k.as_str() == Some(section.key()))
                    .map(|(k, _)| k.line)
                    .collect();
                if let [.., last] = lines[..] {
                    if lines.len() > 1 {
                        let all: Vec<String> =
                            lines.iter().map(std::string::ToString::to_string).collect();
                        out.notices.push(format!(
                            "line {last}: data.{} is given {} times (lines {}): only the last is read",
                            section.key(),
                            lines.len(),
                            all.join(", ")
                        ));
                    }
                }
            }
            for (k, _) in pairs {
                if let Some(name) = k.as_str() {
                    if !Section::ALL.iter().any(|s| s.key() == name)
                        && Section::ALL
                            .iter()
                            .any(|s| s.key().eq_ignore_ascii_case(name))
                    {
                        out.notices.push(format!(
                            "line {}: data.{name} is ignored by the authenticator: the keys are case-sensitive (mapRoles, mapUsers, mapAccounts)",
                            k.line
                        ));
                    }
                }
            }
            let size: usize = out
                .sections
                .iter()
                .map(|(_, s)| match s {
                    SectionSource::Text { text, .. } => text.len(),
                })
                .sum();
            if size > CONFIGMAP_DATA_LIMIT {
                out.notices.push(format!(
                    "the data is {size} bytes, over the API server's 1 MiB limit for a ConfigMap"
                ));
            }
        }
        Value::Scalar(s) if s.kind == yaml::ScalarKind::Null => {
            out.notices.push("the ConfigMap's data is empty".into());
        }
        _ => return Err(InputError::NoData { line: data.line }),
    }
    if out.sections.is_empty() && configmap.get("data").is_none() {
        return Err(InputError::NoData { line: root.line });
    }
    Ok(out)
}

fn resource_version(configmap: &Node) -> Option<String> {
    configmap
        .get("metadata")
        .and_then(|m| m.get("resourceVersion"))
        .and_then(super::yaml::Node::to_go_string)
}

fn find_configmap(root: &Node) -> Result<&Node, InputError> {
    if !matches!(root.value, Value::Map(_)) {
        return Err(InputError::NoData { line: root.line });
    }
    let kind = root.get("kind").and_then(Node::as_str);
    match kind {
        Some("List" | "ConfigMapList") => {
            let Some(Value::Seq(items)) = root.get("items").map(|i| &i.value) else {
                return Err(InputError::NotInList);
            };
            items
                .iter()
                .find(|item| {
                    item.get("kind").and_then(Node::as_str) == Some("ConfigMap")
                        && name_of(item).0 == "aws-auth"
                        && matches!(name_of(item).1.as_str(), "kube-system" | "")
                })
                .ok_or(InputError::NotInList)
        }
        Some("ConfigMap") => {
            let (name, namespace) = name_of(root);
            if name != "aws-auth" || !matches!(namespace.as_str(), "kube-system" | "") {
                return Err(InputError::WrongConfigMap {
                    line: root.line,
                    namespace: if namespace.is_empty() {
                        "(no namespace)".into()
                    } else {
                        namespace
                    },
                    name: if name.is_empty() {
                        "(no name)".into()
                    } else {
                        name
                    },
                });
            }
            Ok(root)
        }
        Some(other) => Err(InputError::NotConfigMap {
            line: root.line,
            kind: other.to_string(),
        }),
        None => {
            let has_sections = |n: &Node| Section::ALL.iter().any(|s| n.get(s.key()).is_some());
            match root.get("data") {
                Some(d) if has_sections(d) || d.is_null() => Ok(root),
                _ if has_sections(root) => Ok(root),
                _ => Err(InputError::NoData { line: root.line }),
            }
        }
    }
}

fn name_of(node: &Node) -> (String, String) {
    let meta = node.get("metadata");
    let get = |k: &str| {
        meta.and_then(|m| m.get(k))
            .and_then(Node::as_str)
            .unwrap_or("")
            .to_string()
    };
    (get("name"), get("namespace"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_of(data: &AwsAuthData, section: Section) -> (String, Option<usize>) {
        match data.sections.iter().find(|(s, _)| *s == section) {
            Some((
                _,
                SectionSource::Text {
                    text, line_offset, ..
                },
            )) => (text.clone(), *line_offset),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_alias_bomb_is_refused_in_one_line() {
        let mut src = String::from("data:\n  a: &a [x, x, x, x, x, x, x, x, x]\n");
        for (prev, name) in "abcdefgh".chars().zip("bcdefghi".chars()) {
            let items = vec![format!("*{prev}"); 9].join(", ");
            src.push_str(&format!("  {name}: &{name} [{items}]\n"));
        }
        let err = locate(&src).unwrap_err();
        assert_eq!(
            err.to_string(),
            "line 5: refused: document contains excessive aliasing (YAML aliases, *name, that expand this far are a denial-of-service pattern)"
        );
    }

    #[test]
    fn a_section_only_the_byte_bound_refuses_refuses_the_input() {
        // goyaml v2 counts nodes: 2,000 aliases of one 1 KiB string are
        // within its ratio, so the authenticator reads this section; the
        // tool will not copy 2 MiB for it, and cannot call it dropped.
        let long = "x".repeat(1024);
        let mut roles = format!("    - rolearn: &s {long}\n      groups: [");
        roles.push_str(&vec!["*s"; 2000].join(", "));
        roles.push_str("]\n");
        let src = format!("data:\n  mapRoles: |\n{roles}");
        let err = locate(&src).unwrap_err();
        assert!(
            matches!(
                &err,
                InputError::SectionExpansion {
                    line: 4,
                    section: Section::MapRoles,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().starts_with(
            "line 4: refused: data.mapRoles: aliases expand the document to more than "
        ));
    }

    #[test]
    fn manifest_yaml_maps_lines() {
        let src = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\n  namespace: kube-system\n  resourceVersion: \"42\"\ndata:\n  mapRoles: |\n    - rolearn: x\n";
        let data = locate(src).unwrap();
        let (text, offset) = text_of(&data, Section::MapRoles);
        assert_eq!(text, "- rolearn: x\n");
        // Line 1 of the section is line 9 of the input.
        assert_eq!(offset.map(|o| o + 1), Some(9));
        assert_eq!(data.resource_version.as_deref(), Some("42"));
    }

    #[test]
    fn json_list_and_bare_block() {
        let json = r#"{"apiVersion":"v1","kind":"List","items":[{"kind":"ConfigMap","metadata":{"name":"other","namespace":"kube-system"},"data":{}},{"kind":"ConfigMap","metadata":{"name":"aws-auth","namespace":"kube-system"},"data":{"mapUsers":"- userarn: u\n"}}]}"#;
        let data = locate(json).unwrap();
        assert_eq!(text_of(&data, Section::MapUsers).0, "- userarn: u\n");
        assert_eq!(text_of(&data, Section::MapUsers).1, None);
        let bare = locate("data:\n  mapAccounts: |\n    - \"111122223333\"\n").unwrap();
        assert_eq!(bare.sections.len(), 1);
        let bare2 = locate("mapRoles: |\n  - rolearn: x\n").unwrap();
        assert_eq!(bare2.sections.len(), 1);
    }

    #[test]
    fn refusals() {
        assert_eq!(decode(b""), Err(InputError::Empty));
        assert_eq!(decode(b"  \n"), Err(InputError::Empty));
        assert_eq!(decode(b"ab\0c"), Err(InputError::Binary { offset: 2 }));
        assert_eq!(
            decode(&[b'a', 0xff, 0xfe]),
            Err(InputError::Binary { offset: 1 })
        );
        let big = vec![b'a'; MAX_INPUT_BYTES + 1];
        assert!(matches!(decode(&big), Err(InputError::TooLarge { .. })));
        assert!(matches!(
            locate("kind: Secret\n"),
            Err(InputError::NotConfigMap { .. })
        ));
        assert!(matches!(
            locate(
                "kind: ConfigMap\nmetadata: {name: coredns, namespace: kube-system}\ndata: {}\n"
            ),
            Err(InputError::WrongConfigMap { .. })
        ));
        assert!(matches!(
            locate("a: [1, 2\n"),
            Err(InputError::Syntax { .. })
        ));
        assert!(matches!(locate("hello\n"), Err(InputError::NoData { .. })));
        assert!(matches!(
            locate("foo: bar\n"),
            Err(InputError::NoData { .. })
        ));
        assert!(matches!(
            locate("kind: List\nitems: []\n"),
            Err(InputError::NotInList)
        ));
    }

    /// A `ConfigMap`'s data is map[string]string: no cluster holds a list or
    /// a mapping there, and the authenticator (ParseMap(cm.Data)) never
    /// sees one. Refused with the key and what was found.
    #[test]
    fn non_string_data_is_refused() {
        for (src, key, found) in [
            ("data:\n  mapRoles:\n    - rolearn: arn:aws:iam::111122223333:role/a\n", "mapRoles", "a list"),
            ("kind: ConfigMap\nmetadata: {name: aws-auth, namespace: kube-system}\ndata:\n  mapUsers: {userarn: x}\n", "mapUsers", "a mapping"),
            ("data:\n  mapAccounts: 111122223333\n", "mapAccounts", "an integer (111122223333)"),
            ("data:\n  mapRoles: \"\"\n  other: [1]\n", "other", "a list"),
            ("mapRoles:\n  - rolearn: x\n", "mapRoles", "a list"),
        ] {
            let err = locate(src).unwrap_err();
            match &err {
                InputError::NotAString { key: k, found: f, .. } => {
                    assert_eq!((k.as_str(), f.as_str()), (key, found), "{src}");
                }
                other => panic!("{src}: {other:?}"),
            }
            let text = err.to_string();
            assert!(!text.contains('\n'), "{text}");
            assert!(text.contains(&format!("data.{key} is {found}, not a string")), "{text}");
        }
        // Null is the empty string to Kubernetes; a bare block's other
        // keys are not data.
        assert!(locate("data:\n  mapRoles:\n  mapUsers: ''\n").is_ok());
        assert!(locate("mapRoles: |\n  - rolearn: x\nextra: [1]\n").is_ok());
    }

    #[test]
    fn case_variant_keys_are_noticed() {
        let data = locate("data:\n  maproles: |\n    - rolearn: x\n  mapUsers: ''\n").unwrap();
        assert!(data
            .notices
            .iter()
            .any(|n| n.contains("data.maproles is ignored")));
    }
}
