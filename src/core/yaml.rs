//! A YAML document tree that keeps what the authenticator's YAML stack sees.
//!
//! aws-iam-authenticator reads each aws-auth section with goyaml v2 (YAML 1.1
//! scalar resolution: `yes`, `on`, `0x1F` and `012` are not strings) and then
//! converts the result to JSON (sigs.k8s.io/yaml), where a mapping key that is
//! not a scalar is an error. `serde_yaml` resolves scalars as YAML 1.2 and keeps
//! neither the quoting style nor line numbers, so this module builds its own
//! tree from yaml-rust2's events: every node keeps its 1-based line and every
//! scalar its Go-side type.

use std::borrow::Cow;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// The JSON type goyaml v2 gives a scalar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ScalarKind {
    Str,
    Null,
    Bool,
    Int,
    Float,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Scalar {
    pub text: String,
    pub kind: ScalarKind,
    /// True when the scalar was a YAML block (`|` or `>`): its content starts
    /// on the line after the node's own line.
    pub block: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Scalar(Scalar),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    /// 1-based line of the node's first token in the parsed text.
    pub line: usize,
    pub value: Value,
}

/// A syntax error, with its 1-based line in the parsed text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    pub line: usize,
    pub message: String,
    pub kind: ErrorKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorKind {
    /// Not YAML (or an alias to an unknown anchor).
    Syntax,
    /// goyaml v2's alias-expansion ratio limit, which the authenticator
    /// shares: it refuses the document with this same message.
    ExcessiveAliasing,
    /// The aliases would copy more text than [`expansion_limit`] allows.
    /// goyaml v2 counts nodes, not bytes, so the authenticator may read a
    /// document this tool refuses: a caller must not take it as dropped.
    ExpansionLimit,
}

/// goyaml v2's message for a document whose aliases expand too much.
pub(crate) const EXCESSIVE_ALIASING: &str = "document contains excessive aliasing";

/// The most scalar text a document may hold once its aliases are expanded:
/// twice its own length plus 1 MiB. A document without aliases holds at
/// most its own length; this bounds what aliases of a long string (which
/// goyaml v2's node count does not see) can make this tool copy.
pub(crate) fn expansion_limit(text_len: usize) -> u64 {
    2 * text_len as u64 + 1024 * 1024
}

/// goyaml v2's `allowedAliasRatio`: the share of decoded nodes that may
/// come from alias expansion, 99 % up to 400,000 nodes falling to 10 % at
/// 4,000,000.
fn allowed_alias_ratio(decodes: u64) -> f64 {
    const LOW: u64 = 400_000;
    const HIGH: u64 = 4_000_000;
    if decodes <= LOW {
        0.99
    } else if decodes >= HIGH {
        0.10
    } else {
        0.99 - 0.89 * ((decodes - LOW) as f64 / (HIGH - LOW) as f64)
    }
}

impl Node {
    pub(crate) fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar(s) if s.kind == ScalarKind::Str => Some(&s.text),
            _ => None,
        }
    }

    pub(crate) fn is_null(&self) -> bool {
        matches!(&self.value, Value::Scalar(s) if s.kind == ScalarKind::Null)
    }

    /// The value under an exact (case-sensitive) key of a mapping; the last
    /// one wins when a key is repeated, as in goyaml v2.
    pub(crate) fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(pairs) => pairs
                .iter()
                .rev()
                .find(|(k, _)| k.key_str().as_deref() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// The string a scalar map key becomes in JSON (sigs.k8s.io/yaml);
    /// `None` for keys JSON cannot hold (null, sequences, mappings).
    /// Borrowed when the key is already its text (strings and floats: every
    /// key of a real aws-auth), so that looking keys up does not copy them.
    pub(crate) fn key_str(&self) -> Option<Cow<'_, str>> {
        match &self.value {
            Value::Scalar(s) => match s.kind {
                ScalarKind::Null => None,
                ScalarKind::Str | ScalarKind::Float => Some(Cow::Borrowed(s.text.as_str())),
                ScalarKind::Bool => Some(Cow::Borrowed(if bool_value(&s.text) {
                    "true"
                } else {
                    "false"
                })),
                ScalarKind::Int => int_value(&s.text).map(|v| Cow::Owned(v.to_string())),
            },
            _ => None,
        }
    }

    /// The first mapping key anywhere below this node that JSON cannot hold:
    /// sigs.k8s.io/yaml refuses the whole document for it.
    pub(crate) fn first_unsupported_key(&self) -> Option<&Node> {
        match &self.value {
            Value::Scalar(_) => None,
            Value::Seq(items) => items.iter().find_map(Node::first_unsupported_key),
            Value::Map(pairs) => pairs.iter().find_map(|(k, v)| {
                if k.key_str().is_none() {
                    Some(k)
                } else {
                    v.first_unsupported_key()
                }
            }),
        }
    }

    /// A short description of the node's JSON type, for messages.
    pub(crate) fn type_name(&self) -> &'static str {
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
    pub(crate) fn to_go_string(&self) -> Option<String> {
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
///
/// Aliases are expanded under two bounds, so that a few hundred bytes of
/// nested aliases (a "billion laughs" document) cannot exhaust memory:
/// goyaml v2's own alias ratio (refused with its message, as the
/// authenticator refuses it) and [`expansion_limit`] on the text copied.
pub(crate) fn parse(text: &str) -> Result<Node, SyntaxError> {
    let mut builder = Builder {
        byte_limit: expansion_limit(text.len()),
        ..Builder::default()
    };
    let mut parser = Parser::new_from_str(text);
    let loaded = parser.load(&mut builder, false);
    // The builder's error comes first: once it has stopped, later events
    // (and the parser's errors about them) are not looked at.
    if let Some((kind, message)) = builder.error {
        return Err(SyntaxError {
            line: builder.error_line,
            message,
            kind,
        });
    }
    loaded.map_err(|e| SyntaxError {
        line: e.marker().line(),
        message: e.info().to_string(),
        kind: ErrorKind::Syntax,
    })?;
    Ok(builder.root.unwrap_or(Node {
        line: 1,
        value: Value::Scalar(Scalar {
            text: String::new(),
            kind: ScalarKind::Null,
            block: false,
        }),
    }))
}

/// What a node costs once expanded: the nodes goyaml v2 decodes for it
/// (an alias counts itself and its anchor's nodes) and its scalar bytes.
#[derive(Debug, Clone, Copy, Default)]
struct Cost {
    nodes: u64,
    bytes: u64,
}

impl Cost {
    const NODE: Cost = Cost { nodes: 1, bytes: 0 };

    fn add(&mut self, other: Cost) {
        self.nodes = self.nodes.saturating_add(other.nodes);
        self.bytes = self.bytes.saturating_add(other.bytes);
    }
}

enum Frame {
    Seq(usize, usize, Cost, Vec<Node>),
    Map(usize, usize, Cost, Vec<(Node, Node)>, Option<Node>),
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    anchors: std::collections::HashMap<usize, (Node, Cost)>,
    root: Option<Node>,
    done: bool,
    error: Option<(ErrorKind, String)>,
    error_line: usize,
    /// goyaml v2's counters: nodes decoded, and those decoded through an alias.
    decodes: u64,
    aliased: u64,
    /// Scalar bytes held so far, aliases expanded.
    bytes: u64,
    byte_limit: u64,
}

impl Builder {
    fn push_node(&mut self, node: Node, anchor: usize, cost: Cost) {
        if anchor > 0 {
            self.anchors.insert(anchor, (node.clone(), cost));
        }
        match self.stack.last_mut() {
            None => {
                if self.root.is_none() {
                    self.root = Some(node);
                }
            }
            Some(Frame::Seq(_, _, c, items)) => {
                c.add(cost);
                items.push(node);
            }
            Some(Frame::Map(_, _, c, pairs, key)) => {
                c.add(cost);
                match key.take() {
                    None => *key = Some(node),
                    Some(k) => {
                        if is_merge_key(&k) {
                            // goyaml v2 does not decode a merge key itself.
                            self.decodes = self.decodes.saturating_sub(1);
                            c.nodes = c.nodes.saturating_sub(1);
                            merge_into(pairs, node);
                        } else {
                            pairs.push((k, node));
                        }
                    }
                }
            }
        }
    }

    /// Counts `cost` (reached through an alias when `aliased`) and stops
    /// the build when a bound is crossed; false when it has stopped.
    fn count(&mut self, cost: Cost, aliased: bool, line: usize) -> bool {
        self.decodes = self.decodes.saturating_add(cost.nodes);
        if aliased {
            self.aliased = self.aliased.saturating_add(cost.nodes);
        }
        self.bytes = self.bytes.saturating_add(cost.bytes);
        // goyaml v2 checks before each node; within one alias both counts
        // grow together (the ratio rises, the allowance only falls), so
        // checking after the whole alias finds what it finds.
        let message = if self.aliased > 100
            && self.decodes > 1000
            && self.aliased as f64 / self.decodes as f64 > allowed_alias_ratio(self.decodes)
        {
            (ErrorKind::ExcessiveAliasing, EXCESSIVE_ALIASING.to_string())
        } else if self.bytes > self.byte_limit {
            (
                ErrorKind::ExpansionLimit,
                format!(
                    "aliases expand the document to more than {} bytes of text; write the values out instead of aliasing them",
                    self.byte_limit
                ),
            )
        } else {
            return true;
        };
        self.error = Some(message);
        self.error_line = line;
        false
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
            let key = k.key_str();
            let present = pairs.iter().any(|(pk, _)| pk.key_str() == key);
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
            // goyaml v2 decodes the document node too.
            Event::DocumentStart => {
                self.count(Cost::NODE, false, line);
            }
            Event::Scalar(text, style, anchor, tag) => {
                let cost = Cost {
                    nodes: 1,
                    bytes: text.len() as u64,
                };
                if !self.count(cost, false, line) {
                    return;
                }
                let kind = resolve(&text, style, tag.as_ref().map(|t| t.suffix.as_str()));
                let block = matches!(style, TScalarStyle::Literal | TScalarStyle::Folded);
                let node = Node {
                    line,
                    value: Value::Scalar(Scalar { text, kind, block }),
                };
                self.push_node(node, anchor, cost);
            }
            Event::SequenceStart(anchor, _) => {
                if self.count(Cost::NODE, false, line) {
                    self.stack
                        .push(Frame::Seq(line, anchor, Cost::NODE, Vec::new()));
                }
            }
            Event::MappingStart(anchor, _) => {
                if self.count(Cost::NODE, false, line) {
                    self.stack
                        .push(Frame::Map(line, anchor, Cost::NODE, Vec::new(), None));
                }
            }
            Event::SequenceEnd | Event::MappingEnd => match self.stack.pop() {
                Some(Frame::Seq(l, anchor, cost, items)) => self.push_node(
                    Node {
                        line: l,
                        value: Value::Seq(items),
                    },
                    anchor,
                    cost,
                ),
                Some(Frame::Map(l, anchor, cost, pairs, _)) => self.push_node(
                    Node {
                        line: l,
                        value: Value::Map(pairs),
                    },
                    anchor,
                    cost,
                ),
                None => {}
            },
            Event::Alias(id) => {
                let Some(target) = self.anchors.get(&id).map(|(_, c)| *c) else {
                    self.error = Some((
                        ErrorKind::Syntax,
                        "unknown anchor referenced by an alias".to_string(),
                    ));
                    self.error_line = line;
                    return;
                };
                // The alias node itself, then its anchor's nodes decoded
                // again: all counted before anything is copied.
                if !self.count(Cost::NODE, false, line) || !self.count(target, true, line) {
                    return;
                }
                if let Some((node, _)) = self.anchors.get(&id).cloned() {
                    let mut cost = Cost::NODE;
                    cost.add(target);
                    self.push_node(node, 0, cost);
                }
            }
            Event::Nothing | Event::StreamStart | Event::StreamEnd => {}
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
        Some("str" | "binary") => return ScalarKind::Str,
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

/// Go's `strconv.ParseInt(s, 0, 64)` (then `ParseUint`), with YAML's `0b`.
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
    let magnitude = i128::from(u64::from_str_radix(body, radix).ok()?);
    let value = if neg { -magnitude } else { magnitude };
    if value < i128::from(i64::MIN) {
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
    if (-4..6).contains(&exp) {
        format!("{v}")
    } else {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.abs())
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

    /// Nine anchors, each a list of nine aliases of the one before: 9^9
    /// strings once expanded, from a few hundred bytes.
    fn alias_bomb(indent: &str) -> String {
        let mut out = format!("{indent}a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
        let names: Vec<char> = "abcdefghi".chars().collect();
        for w in names.windows(2) {
            let items = vec![format!("*{}", w[0]); 9].join(",");
            out.push_str(&format!("{indent}{}: &{} [{items}]\n", w[1], w[1]));
        }
        out
    }

    #[test]
    fn an_alias_bomb_is_refused_as_goyaml_refuses_it() {
        let err = parse(&alias_bomb("")).unwrap_err();
        assert_eq!(err.kind, ErrorKind::ExcessiveAliasing);
        assert_eq!(err.message, "document contains excessive aliasing");
        // Refused within list d (line 4): once a few of its nine aliases of
        // c (910 nodes each) are decoded, over 99 % of all nodes come from
        // aliases. Nothing beyond that is copied.
        assert_eq!(err.line, 4);
    }

    #[test]
    fn modest_aliases_and_merge_keys_still_load() {
        // 300 rows merging one base: well within goyaml's ratio.
        let mut doc = String::from("- &base {groups: [a, b, c], username: u}\n");
        for i in 0..300 {
            doc.push_str(&format!("- <<: *base\n  rolearn: r{i}\n"));
        }
        let root = parse(&doc).expect("loads");
        match &root.value {
            Value::Seq(items) => assert_eq!(items.len(), 301),
            other => panic!("{other:?}"),
        }
        // Under the ratio: 1,200 nodes, then 900 aliases of a 201-node
        // list: 180,900 of 183,000 decoded nodes (98.9 %) come from aliases.
        let mut doc = String::from("plain: [");
        doc.push_str(&vec!["x"; 1000].join(","));
        doc.push_str("]\nbig: &big [");
        doc.push_str(&vec!["z"; 200].join(","));
        doc.push_str("]\nmany: [");
        doc.push_str(&vec!["*big"; 900].join(","));
        doc.push_str("]\n");
        assert!(parse(&doc).is_ok());
        // 2,000 more: 99.3 % of 587,000, over the 94 % goyaml allows there.
        doc.push_str("more: [");
        doc.push_str(&vec!["*big"; 2000].join(","));
        doc.push_str("]\n");
        assert!(matches!(
            parse(&doc),
            Err(SyntaxError {
                kind: ErrorKind::ExcessiveAliasing,
                line: 4,
                ..
            })
        ));
    }

    #[test]
    fn aliases_of_long_text_are_bounded_in_bytes() {
        // goyaml's ratio is about nodes: 2,000 aliases of one string are
        // within it, but would copy 2,000 times its 1 KiB here.
        let long = "x".repeat(1024);
        let mut doc = format!("s: &s {long}\nl: [");
        doc.push_str(&vec!["*s"; 2000].join(","));
        doc.push_str("]\n");
        let err = parse(&doc).unwrap_err();
        assert_eq!(err.kind, ErrorKind::ExpansionLimit);
        assert!(err
            .message
            .starts_with("aliases expand the document to more than "));
        // A few such aliases are fine.
        let few = format!("s: &s {long}\nl: [*s, *s, *s]\n");
        assert!(parse(&few).is_ok());
    }

    #[test]
    fn syntax_errors_carry_a_line() {
        let err = parse("a: 1\nb: 2\n  c: 3\n").unwrap_err();
        assert_eq!(err.line, 3);
        assert!(parse("a: 1\n\tb: 2\n").is_err());
    }
}
