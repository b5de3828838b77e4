//! A YAML document tree that keeps what the authenticator's YAML stack sees.
//!
//! aws-iam-authenticator reads each aws-auth section with goyaml v2 (YAML 1.1
//! scalar resolution: `yes`, `on`, `0x1F` and `012` are not strings) and then
//! converts the result to JSON (sigs.k8s.io/yaml), where a mapping key that is
//! not a scalar is an error. serde_yaml resolves scalars as YAML 1.2 and keeps
//! neither the quoting style nor line numbers, so this module builds its own
//! tree from yaml-rust2's events: every node keeps its 1-based line and every
//! scalar its Go-side type.

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// The JSON type goyaml v2 gives a scalar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalarKind {
    Str,
    Null,
    Bool,
    Int,
    Float,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Scalar {
    pub text: String,
    pub kind: ScalarKind,
    /// True when the scalar was a YAML block (`|` or `>`): its content starts
    /// on the line after the node's own line.
    pub block: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Scalar(Scalar),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// 1-based line of the node's first token in the parsed text.
    pub line: usize,
    pub value: Value,
}

/// A syntax error, with its 1-based line in the parsed text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub line: usize,
    pub message: String,
}

impl Node {
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar(s) if s.kind == ScalarKind::Str => Some(&s.text),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(&self.value, Value::Scalar(s) if s.kind == ScalarKind::Null)
    }

    /// The value under an exact (case-sensitive) key of a mapping; the last
    /// one wins when a key is repeated, as in goyaml v2.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(pairs) => pairs
                .iter()
                .rev()
                .find(|(k, _)| k.key_string().as_deref() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// The string a scalar map key becomes in JSON (sigs.k8s.io/yaml);
    /// `None` for keys JSON cannot hold (null, sequences, mappings).
    pub fn key_string(&self) -> Option<String> {
        match &self.value {
            Value::Scalar(s) => match s.kind {
                ScalarKind::Null => None,
                ScalarKind::Str => Some(s.text.clone()),
                ScalarKind::Bool => Some(bool_value(&s.text).to_string()),
                ScalarKind::Int => int_value(&s.text).map(|v| v.to_string()),
                ScalarKind::Float => Some(s.text.clone()),
            },
            _ => None,
        }
    }

    /// The first mapping key anywhere below this node that JSON cannot hold:
    /// sigs.k8s.io/yaml refuses the whole document for it.
    pub fn first_unsupported_key(&self) -> Option<&Node> {
        match &self.value {
            Value::Scalar(_) => None,
            Value::Seq(items) => items.iter().find_map(Node::first_unsupported_key),
            Value::Map(pairs) => pairs.iter().find_map(|(k, v)| {
                if k.key_string().is_none() {
                    Some(k)
                } else {
                    v.first_unsupported_key()
                }
            }),
        }
    }

    /// A short description of the node's JSON type, for messages.
    pub fn type_name(&self) -> &'static str {
        match &self.value {
            Value::Scalar(s) => match s.kind {
                ScalarKind::Str => "a string",
                ScalarKind::Null => "null",
                ScalarKind::Bool => "a boolean",
                ScalarKind::Int => "an integer",
                ScalarKind::Float => "a number",
            },
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }

    /// The scalar text as sigs.k8s.io/yaml converts it for a Go `string`
    /// target (used for mapAccounts, which is unmarshalled with a target).
    pub fn to_go_string(&self) -> Option<String> {
        match &self.value {
            Value::Scalar(s) => match s.kind {
                ScalarKind::Str => Some(s.text.clone()),
                ScalarKind::Null => Some(String::new()),
                ScalarKind::Bool => Some(bool_value(&s.text).to_string()),
                ScalarKind::Int => int_value(&s.text).map(|v| v.to_string()),
                ScalarKind::Float => float_value(&s.text).map(go_format_float32),
            },
            _ => None,
        }
    }
}

/// Parses the first document of `text`. An empty text is a null node.
pub fn parse(text: &str) -> Result<Node, SyntaxError> {
    let mut builder = Builder::default();
    let mut parser = Parser::new_from_str(text);
    parser.load(&mut builder, false).map_err(|e| SyntaxError {
        line: e.marker().line(),
        message: e.info().to_string(),
    })?;
    if let Some(message) = builder.error {
        return Err(SyntaxError {
            line: builder.error_line,
            message,
        });
    }
    Ok(builder.root.unwrap_or(Node {
        line: 1,
        value: Value::Scalar(Scalar {
            text: String::new(),
            kind: ScalarKind::Null,
            block: false,
        }),
    }))
}

enum Frame {
    Seq(usize, usize, Vec<Node>),
    Map(usize, usize, Vec<(Node, Node)>, Option<Node>),
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    anchors: std::collections::HashMap<usize, Node>,
    root: Option<Node>,
    done: bool,
    error: Option<String>,
    error_line: usize,
}

impl Builder {
    fn push_node(&mut self, node: Node, anchor: usize) {
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => {
                if self.root.is_none() {
                    self.root = Some(node);
                }
            }
            Some(Frame::Seq(_, _, items)) => items.push(node),
            Some(Frame::Map(_, _, pairs, key)) => match key.take() {
                None => *key = Some(node),
                Some(k) => {
                    if is_merge_key(&k) {
                        merge_into(pairs, node);
                    } else {
                        pairs.push((k, node));
                    }
                }
            },
        }
    }
}

fn is_merge_key(k: &Node) -> bool {
    matches!(&k.value, Value::Scalar(s) if s.kind == ScalarKind::Str && s.text == "<<" && !s.block)
}

/// YAML 1.1 merge keys (`<<: *base`), which goyaml v2 honours: keys already
/// present win over merged ones.
fn merge_into(pairs: &mut Vec<(Node, Node)>, merged: Node) {
    let sources = match merged.value {
        Value::Map(p) => vec![p],
        Value::Seq(items) => items
            .into_iter()
            .filter_map(|n| match n.value {
                Value::Map(p) => Some(p),
                _ => None,
            })
            .collect(),
        Value::Scalar(_) => Vec::new(),
    };
    for source in sources {
        for (k, v) in source {
            let present = pairs
                .iter()
                .any(|(pk, _)| pk.key_string() == k.key_string());
            if !present {
                pairs.push((k, v));
            }
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        if self.done || self.error.is_some() {
            return;
        }
        let line = mark.line().max(1);
        match ev {
            Event::DocumentEnd => {
                if self.root.is_some() {
                    self.done = true;
                }
            }
            Event::Scalar(text, style, anchor, tag) => {
                let kind = resolve(&text, style, tag.as_ref().map(|t| t.suffix.as_str()));
                let block = matches!(style, TScalarStyle::Literal | TScalarStyle::Folded);
                let node = Node {
                    line,
                    value: Value::Scalar(Scalar { text, kind, block }),
                };
                self.push_node(node, anchor);
            }
            Event::SequenceStart(anchor, _) => {
                self.stack.push(Frame::Seq(line, anchor, Vec::new()))
            }
            Event::MappingStart(anchor, _) => {
                self.stack.push(Frame::Map(line, anchor, Vec::new(), None))
            }
            Event::SequenceEnd | Event::MappingEnd => match self.stack.pop() {
                Some(Frame::Seq(l, anchor, items)) => self.push_node(
                    Node {
                        line: l,
                        value: Value::Seq(items),
                    },
                    anchor,
                ),
                Some(Frame::Map(l, anchor, pairs, _)) => self.push_node(
                    Node {
                        line: l,
                        value: Value::Map(pairs),
                    },
                    anchor,
                ),
                None => {}
            },
            Event::Alias(id) => match self.anchors.get(&id).cloned() {
                Some(node) => self.push_node(node, 0),
                None => {
                    self.error = Some("unknown anchor referenced by an alias".to_string());
                    self.error_line = line;
                }
            },
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentStart => {}
        }
    }
}

const NULLS: [&str; 5] = ["", "~", "null", "Null", "NULL"];
const TRUES: [&str; 11] = [
    "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON",
];
const FALSES: [&str; 11] = [
    "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF",
];

/// goyaml v2's `resolve` for a scalar with its style and explicit tag.
fn resolve(text: &str, style: TScalarStyle, tag: Option<&str>) -> ScalarKind {
    match tag {
        Some("str") | Some("binary") => return ScalarKind::Str,
        Some("null") => return ScalarKind::Null,
        Some("bool") => return ScalarKind::Bool,
        Some("int") => return ScalarKind::Int,
        Some("float") => return ScalarKind::Float,
        _ => {}
    }
    if style != TScalarStyle::Plain || tag.is_some() {
        return ScalarKind::Str;
    }
    resolve_plain(text)
}

fn resolve_plain(text: &str) -> ScalarKind {
    if NULLS.contains(&text) {
        return ScalarKind::Null;
    }
    if TRUES.contains(&text) || FALSES.contains(&text) {
        return ScalarKind::Bool;
    }
    if [
        ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF",
    ]
    .contains(&text)
        || [".nan", ".NaN", ".NAN"].contains(&text)
    {
        return ScalarKind::Float;
    }
    let first = text.as_bytes().first().copied().unwrap_or(b'x');
    match first {
        b'0'..=b'9' | b'+' | b'-' => {
            let plain: String = text.chars().filter(|c| *c != '_').collect();
            if int_value(&plain).is_some() {
                ScalarKind::Int
            } else if is_yaml_style_float(&plain) {
                ScalarKind::Float
            } else {
                ScalarKind::Str
            }
        }
        b'.' => {
            if is_yaml_style_float(text) {
                ScalarKind::Float
            } else {
                ScalarKind::Str
            }
        }
        _ => ScalarKind::Str,
    }
}

fn bool_value(text: &str) -> bool {
    TRUES.contains(&text)
}

/// Go's `strconv.ParseInt(s, 0, 64)` (then ParseUint), with YAML's `0b`.
fn int_value(text: &str) -> Option<i128> {
    let plain: String = text.chars().filter(|c| *c != '_').collect();
    let (neg, digits) = match plain.as_bytes().first() {
        Some(b'-') => (true, &plain[1..]),
        Some(b'+') => (false, &plain[1..]),
        _ => (false, plain.as_str()),
    };
    if digits.is_empty() {
        return None;
    }
    let lower = digits.to_ascii_lowercase();
    let (radix, body) = if let Some(rest) = lower.strip_prefix("0x") {
        (16, rest)
    } else if let Some(rest) = lower.strip_prefix("0o") {
        (8, rest)
    } else if let Some(rest) = lower.strip_prefix("0b") {
        (2, rest)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..])
    } else {
        (10, lower.as_str())
    };
    if body.is_empty() {
        return None;
    }
    let magnitude = u64::from_str_radix(body, radix).ok()? as i128;
    let value = if neg { -magnitude } else { magnitude };
    if value < i64::MIN as i128 {
        return None;
    }
    Some(value)
}

fn float_value(text: &str) -> Option<f64> {
    let plain: String = text.chars().filter(|c| *c != '_').collect();
    match plain.as_str() {
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => Some(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => Some(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => Some(f64::NAN),
        other => other.parse::<f64>().ok(),
    }
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
fn is_yaml_style_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    if i < b.len() && b[i] == b'.' {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if i < b.len() && b[i] == b'.' {
            i += 1;
            digits(&mut i);
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// Go's `strconv.FormatFloat(f, 'g', -1, 32)`, as sigs.k8s.io/yaml renders
/// a float into a string target.
fn go_format_float32(f: f64) -> String {
    let v = f as f32;
    if v.is_nan() {
        return "NaN".to_string();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.to_string();
    }
    let sci = format!("{v:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.abs())
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(src: &str) -> ScalarKind {
        match parse(src).expect("parses").value {
            Value::Scalar(s) => s.kind,
            other => panic!("not a scalar: {other:?}"),
        }
    }

    #[test]
    fn yaml_1_1_booleans_and_nulls() {
        assert_eq!(kind("yes"), ScalarKind::Bool);
        assert_eq!(kind("Off"), ScalarKind::Bool);
        assert_eq!(kind("y"), ScalarKind::Bool);
        assert_eq!(kind("'yes'"), ScalarKind::Str);
        assert_eq!(kind("~"), ScalarKind::Null);
        assert_eq!(kind("NULL"), ScalarKind::Null);
        assert_eq!(kind("nope"), ScalarKind::Str);
    }

    #[test]
    fn go_numbers() {
        assert_eq!(kind("123"), ScalarKind::Int);
        assert_eq!(kind("0x1F"), ScalarKind::Int);
        assert_eq!(kind("1_000"), ScalarKind::Int);
        assert_eq!(kind("012345678901"), ScalarKind::Float);
        assert_eq!(kind("1.5e3"), ScalarKind::Float);
        assert_eq!(kind(".inf"), ScalarKind::Float);
        assert_eq!(kind("123abc"), ScalarKind::Str);
        assert_eq!(kind("arn:aws:iam::1:role/x"), ScalarKind::Str);
        assert_eq!(kind("!!str 123"), ScalarKind::Str);
    }

    #[test]
    fn go_string_conversion_of_account_ids() {
        let n = parse("123456789012").unwrap();
        assert_eq!(n.to_go_string().as_deref(), Some("123456789012"));
        let n = parse("012345678901").unwrap();
        assert_eq!(n.to_go_string().as_deref(), Some("1.2345679e+10"));
        let n = parse("0123").unwrap();
        assert_eq!(n.to_go_string().as_deref(), Some("83"));
        let n = parse("'012345678901'").unwrap();
        assert_eq!(n.to_go_string().as_deref(), Some("012345678901"));
    }

    #[test]
    fn lines_and_keys() {
        let doc = parse("a: 1\nb:\n  - x: 1\n  - {{SessionName}}: 2\n").unwrap();
        assert_eq!(doc.get("b").map(|n| n.line), Some(3));
        assert!(doc.first_unsupported_key().is_some());
        let ok = parse("a: 1\n'yes': 2\n3: x\n").unwrap();
        assert!(ok.first_unsupported_key().is_none());
    }

    #[test]
    fn merge_keys_and_aliases() {
        let doc = parse("base: &b {p: 1, q: 2}\nm:\n  <<: *b\n  q: 3\n").unwrap();
        let m = doc.get("m").unwrap();
        assert_eq!(
            m.get("p").and_then(Node::to_go_string).as_deref(),
            Some("1")
        );
        // `y` is a YAML 1.1 boolean, as a key too.
        let y = parse("y: 1\n").unwrap();
        assert!(y.get("y").is_none());
        assert!(y.get("true").is_some());
        match &m.get("q").unwrap().value {
            Value::Scalar(s) => assert_eq!(s.text, "3"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn syntax_errors_carry_a_line() {
        let err = parse("a: 1\nb: 2\n  c: 3\n").unwrap_err();
        assert_eq!(err.line, 3);
        assert!(parse("a: 1\n\tb: 2\n").is_err());
    }
}
