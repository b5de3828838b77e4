//! Reading RBAC objects from YAML or JSON: the output of `kubectl get
//! clusterroles,clusterrolebindings,roles,rolebindings -A -o yaml` (or
//! `-o json`), manifests separated by `---` (a Helm chart's RBAC), or a
//! single object. A `List` and the typed lists (`ClusterRoleList`,
//! `RoleBindingList`…, as the API serves them) are opened, a List in a List
//! too, up to [`MAX_LIST_DEPTH`] deep; an item of a typed list may omit its
//! `kind` and `apiVersion` (the API server's lists do), a List's may not.
//! Objects of other kinds are skipped and named in [`Parsed::skipped`].
//!
//! JSON is read as JSON when the input starts with `{` or `[` and parses so
//! (one value, or a stream of them as `jq -c '.items[]'` writes), else as
//! YAML. UTF-8, with or without a byte order mark, and UTF-16 with one (what
//! Windows PowerShell's `>` writes) are read.
//!
//! Errors name where the object is as a reader finds it: `document 2`
//! (1-based, documents as `---` separates them, or the values of a JSON
//! stream), then `items[4]` (0-based, as `yq '.items[4]'` reads it), then the
//! object: `document 1, items[4] (RoleBinding team-a/deployers): roleRef is
//! missing`. A YAML syntax error gives the line and column in the whole input.
//!
//! What the API server reads differently from a plain deserialisation is
//! done as it does: a field's `null` is the field left out (`rules: null` is
//! how kubectl shows an aggregated ClusterRole nothing matched); a
//! cluster-scoped object's namespace and a Role's `aggregationRule` are
//! dropped; an empty namespace is none. What it refuses is refused here: a
//! Role or RoleBinding without a namespace, a binding without `roleRef`, a
//! ClusterRoleBinding to a Role, a label selector that is not valid, the
//! same object twice.
//!
//! The work is bounded: at most [`MAX_OBJECTS`] objects, and what the
//! aliases of a YAML text expand to at most about twice what the text holds
//! (the "billion laughs" document is refused, not expanded).

use std::collections::HashMap;
use std::fmt;

use serde::de::{
    self, DeserializeOwned, DeserializeSeed, EnumAccess, MapAccess, SeqAccess, Visitor,
};
use serde_yaml::{Mapping, Number, Value};

use super::aggregate::selector_problem;
use super::model::{
    AggregationRule, Binding, BindingKind, Meta, PolicyRule, Role, RoleKind, RoleRef, Snapshot,
    Subject,
};
use crate::core::yaml::expansion_limit;

/// The most objects (Lists and their items included) one input may hold.
pub(crate) const MAX_OBJECTS: usize = 200_000;
/// The most Lists one object may be nested in.
pub(crate) const MAX_LIST_DEPTH: usize = 3;
/// The RBAC API versions read (the beta and alpha ones have the same fields).
pub(crate) const RBAC_API_VERSIONS: [&str; 3] = [
    "rbac.authorization.k8s.io/v1",
    "rbac.authorization.k8s.io/v1beta1",
    "rbac.authorization.k8s.io/v1alpha1",
];

/// What an input held: its RBAC objects, and where the objects of other
/// kinds were (for the caller to warn about).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Parsed {
    pub snapshot: Snapshot,
    /// Each skipped object: `document 1, items[3] (ConfigMap kube-system/aws-auth)`.
    pub skipped: Vec<String>,
}

/// Why an input could not be read. `at` says where, as the module's doc
/// describes (`document 2, items[5] (RoleBinding team-a/x)`).
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub(crate) enum RbacInputError {
    /// Not YAML that parses (or not UTF-8 / UTF-16); the line and column
    /// count from 1 in the whole input.
    #[error("document {document}{}: not valid YAML: {message}", line_column(*.location))]
    Syntax {
        document: usize,
        location: Option<(usize, usize)>,
        message: String,
    },
    /// An object that is not what its kind requires.
    #[error("{at}: {problem}")]
    Object { at: String, problem: String },
    /// The same Role, ClusterRole or binding twice.
    #[error("{at}: defined twice (first at {first})")]
    Duplicate { at: String, first: String },
    #[error("{at}: more than {MAX_OBJECTS} objects; split the input")]
    TooManyObjects { at: String },
    #[error("{at}: a List nested more than {MAX_LIST_DEPTH} deep")]
    TooDeep { at: String },
    /// The aliases of the YAML expand past what the text holds.
    #[error(
        "document {document}{}: its aliases expand to {detail}; write the values out \
         instead of aliasing them",
        line_column(*.location)
    )]
    TooLarge {
        document: usize,
        location: Option<(usize, usize)>,
        /// `more than 1153433 bytes of text`.
        detail: String,
    },
}

fn line_column(location: Option<(usize, usize)>) -> String {
    location.map_or_else(String::new, |(l, c)| format!(", line {l}, column {c}"))
}

/// Reads a `kubectl get … -o yaml` (or `-o json`) dump, a `---` separated
/// set of manifests, or one object (see the module's doc). An empty input,
/// or one of empty documents, is an empty snapshot.
pub(crate) fn parse(bytes: &[u8]) -> Result<Parsed, RbacInputError> {
    let utf16 = decode_utf16(bytes)?;
    let bytes = utf16.as_deref().map_or(bytes, str::as_bytes);
    let bytes = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
    let mut walk = Walk::default();
    match json_documents(bytes) {
        Some(documents) => {
            for (i, value) in documents.into_iter().enumerate() {
                walk.document(i + 1, value)?;
            }
        }
        None => yaml_documents(bytes, &mut walk)?,
    }
    Ok(walk.parsed)
}

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// The text of an input that starts with a UTF-16 byte order mark (what
/// Windows PowerShell's `>` writes), `None` for any other input.
fn decode_utf16(bytes: &[u8]) -> Result<Option<String>, RbacInputError> {
    let (big_endian, body) = match bytes {
        [0xFE, 0xFF, body @ ..] => (true, body),
        [0xFF, 0xFE, body @ ..] => (false, body),
        _ => return Ok(None),
    };
    let units: Vec<u16> = body
        .chunks(2)
        .map(|c| match (c, big_endian) {
            ([a, b], true) => u16::from_be_bytes([*a, *b]),
            ([a, b], false) => u16::from_le_bytes([*a, *b]),
            // An odd last byte: not UTF-16.
            _ => 0xD800,
        })
        .collect();
    String::from_utf16(&units)
        .map(Some)
        .map_err(|_| RbacInputError::Syntax {
            document: 1,
            location: None,
            message: "the input starts with a UTF-16 byte order mark but is not UTF-16".into(),
        })
}

/// The values of an input that is JSON (one value, or several one after
/// the other as `jq -c` writes them), `None` when it is not: YAML reads
/// most JSON too, but not the escaped surrogate pairs (`\ud83d\ude00`)
/// JSON writers use for characters outside the BMP, nor a stream of values.
fn json_documents(bytes: &[u8]) -> Option<Vec<Value>> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace())?;
    if !matches!(first, b'{' | b'[') {
        return None;
    }
    serde_json::Deserializer::from_slice(bytes)
        .into_iter::<serde_json::Value>()
        .map(|v| v.ok().and_then(|v| serde_yaml::to_value(v).ok()))
        .collect()
}

fn yaml_documents(bytes: &[u8], walk: &mut Walk) -> Result<(), RbacInputError> {
    let mut budget = Budget::new(bytes.len());
    for (i, document) in serde_yaml::Deserializer::from_slice(bytes).enumerate() {
        let number = i + 1;
        let mut value = Bounded(&mut budget)
            .deserialize(document)
            .map_err(|e| yaml_error(number, &e, &budget))?;
        value
            .apply_merge()
            .map_err(|e| yaml_error(number, &e, &budget))?;
        walk.document(number, value)?;
    }
    Ok(())
}

fn yaml_error(document: usize, e: &serde_yaml::Error, budget: &Budget) -> RbacInputError {
    let location = e.location().map(|l| (l.line(), l.column()));
    let mut message = e.to_string();
    if let Some(detail) = &budget.exceeded {
        return RbacInputError::TooLarge {
            document,
            location,
            detail: detail.clone(),
        };
    }
    // serde_yaml's own bound on nested aliases (without a location).
    if message.starts_with("repetition limit exceeded") {
        return RbacInputError::TooLarge {
            document,
            location,
            detail: "too many copies (serde_yaml's repetition limit)".into(),
        };
    }
    if let Some((l, c)) = location {
        message = message.replacen(&format!(" at line {l} column {c}"), "", 1);
    }
    RbacInputError::Syntax {
        document,
        location,
        message,
    }
}

/// What a typed list gives its items that lack them.
#[derive(Clone, Copy)]
struct Defaults<'a> {
    kind: &'static str,
    api_version: Option<&'a str>,
}

#[derive(Default)]
struct Walk {
    parsed: Parsed,
    objects: usize,
    /// (kind, namespace, name) of each RBAC object read, and where.
    seen: HashMap<(&'static str, Option<String>, String), String>,
}

impl Walk {
    /// Reads one document (an empty one holds nothing).
    fn document(&mut self, number: usize, value: Value) -> Result<(), RbacInputError> {
        if value.is_null() {
            return Ok(());
        }
        self.node(&format!("document {number}"), value, 0, None)
    }

    /// Reads the object at `at` (a List opens into its items).
    fn node(
        &mut self,
        at: &str,
        value: Value,
        depth: usize,
        defaults: Option<Defaults<'_>>,
    ) -> Result<(), RbacInputError> {
        self.objects += 1;
        if self.objects > MAX_OBJECTS {
            return Err(RbacInputError::TooManyObjects { at: at.into() });
        }
        let object_error = |problem: String| RbacInputError::Object {
            at: at.into(),
            problem,
        };
        let Value::Mapping(mut map) = value else {
            return Err(object_error(format!(
                "{} is not a Kubernetes object (a mapping with apiVersion and kind)",
                type_name(&value)
            )));
        };
        let kind = match (text(&map, "kind").map_err(object_error)?, defaults) {
            (Some(kind), _) => kind,
            (None, Some(d)) => d.kind.to_string(),
            (None, None) => return Err(object_error("kind is missing".into())),
        };
        let api_version = text(&map, "apiVersion")
            .map_err(object_error)?
            .or_else(|| defaults.and_then(|d| d.api_version).map(str::to_string));
        if let Some(item_kind) = list_item_kind(&kind) {
            if depth >= MAX_LIST_DEPTH {
                return Err(RbacInputError::TooDeep { at: at.into() });
            }
            let items = match map.remove("items") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Sequence(items)) => items,
                Some(other) => {
                    return Err(object_error(format!(
                        "items is {}, not a list",
                        type_name(&other)
                    )))
                }
            };
            let defaults = item_kind.map(|kind| Defaults {
                kind,
                api_version: api_version.as_deref(),
            });
            for (i, item) in items.into_iter().enumerate() {
                let item_at = if depth == 0 {
                    format!("{at}, items[{i}]")
                } else {
                    format!("{at}.items[{i}]")
                };
                self.node(&item_at, item, depth + 1, defaults)?;
            }
            return Ok(());
        }
        let Some(kind) = rbac_kind(&kind) else {
            let what = describe(&kind, &map, true);
            self.parsed.skipped.push(format!("{at} ({what})"));
            return Ok(());
        };
        let at = format!("{at} ({})", describe(kind.name(), &map, kind.namespaced()));
        self.rbac(&at, kind, api_version.as_deref(), map)
    }

    fn rbac(
        &mut self,
        at: &str,
        kind: Kind,
        api_version: Option<&str>,
        mut map: Mapping,
    ) -> Result<(), RbacInputError> {
        let problem = |problem: String| RbacInputError::Object {
            at: at.into(),
            problem,
        };
        match api_version {
            Some(v) if RBAC_API_VERSIONS.contains(&v) => {}
            Some(v) => {
                return Err(problem(format!(
                    "apiVersion is {v}, not {}",
                    RBAC_API_VERSIONS[0]
                )))
            }
            None => {
                return Err(problem(format!(
                    "apiVersion is missing (expected {})",
                    RBAC_API_VERSIONS[0]
                )))
            }
        }
        strip_nulls(&mut map);
        let metadata = meta(&map, kind.namespaced()).map_err(problem)?;
        let key = (
            kind.name(),
            metadata.namespace.clone(),
            metadata.name.clone(),
        );
        if let Some(first) = self.seen.get(&key) {
            return Err(RbacInputError::Duplicate {
                at: at.into(),
                first: first.clone(),
            });
        }
        match kind {
            Kind::Role(role_kind) => {
                let role = role(role_kind, metadata, &map).map_err(problem)?;
                self.parsed.snapshot.roles.push(role);
            }
            Kind::Binding(binding_kind) => {
                let binding = binding(binding_kind, metadata, &map).map_err(problem)?;
                self.parsed.snapshot.bindings.push(binding);
            }
        }
        self.seen.insert(key, at.into());
        Ok(())
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Role(RoleKind),
    Binding(BindingKind),
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Role(RoleKind::Role) => "Role",
            Kind::Role(RoleKind::ClusterRole) => "ClusterRole",
            Kind::Binding(BindingKind::RoleBinding) => "RoleBinding",
            Kind::Binding(BindingKind::ClusterRoleBinding) => "ClusterRoleBinding",
        }
    }

    fn namespaced(self) -> bool {
        matches!(
            self,
            Kind::Role(RoleKind::Role) | Kind::Binding(BindingKind::RoleBinding)
        )
    }
}

fn rbac_kind(kind: &str) -> Option<Kind> {
    Some(match kind {
        "Role" => Kind::Role(RoleKind::Role),
        "ClusterRole" => Kind::Role(RoleKind::ClusterRole),
        "RoleBinding" => Kind::Binding(BindingKind::RoleBinding),
        "ClusterRoleBinding" => Kind::Binding(BindingKind::ClusterRoleBinding),
        _ => return None,
    })
}

/// `Some` for a list kind: with the kind its items default to (a typed
/// list), or `None` (a `List`, whose items must say their kind).
fn list_item_kind(kind: &str) -> Option<Option<&'static str>> {
    Some(match kind {
        "List" => None,
        "RoleList" => Some("Role"),
        "ClusterRoleList" => Some("ClusterRole"),
        "RoleBindingList" => Some("RoleBinding"),
        "ClusterRoleBindingList" => Some("ClusterRoleBinding"),
        _ => return None,
    })
}

/// `Kind namespace/name`, `Kind name` or `Kind without a name`, from what
/// the object says (its namespace only when `namespaced`).
fn describe(kind: &str, map: &Mapping, namespaced: bool) -> String {
    let meta = map.get("metadata");
    let field = |key: &str| meta.and_then(|m| m.get(key)).and_then(Value::as_str);
    match (field("namespace").filter(|_| namespaced), field("name")) {
        (_, None | Some("")) => format!("{kind} without a name"),
        (Some(ns), Some(name)) if !ns.is_empty() => format!("{kind} {ns}/{name}"),
        (_, Some(name)) => format!("{kind} {name}"),
    }
}

/// A string field: `None` when absent or null.
fn text(map: &Mapping, key: &str) -> Result<Option<String>, String> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(format!("{key} is {}, not a string", type_name(other))),
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}

/// Removes every mapping entry whose value is null, at any depth: the API
/// server reads `field: null` as the field left out.
fn strip_nulls(map: &mut Mapping) {
    map.retain(|_, v| !v.is_null());
    for (_, v) in map.iter_mut() {
        strip_value_nulls(v);
    }
}

fn strip_value_nulls(value: &mut Value) {
    match value {
        Value::Mapping(m) => strip_nulls(m),
        Value::Sequence(items) => items.iter_mut().for_each(strip_value_nulls),
        _ => {}
    }
}

/// The field `key` of `map` read as a `T` (`None` when absent); an error
/// names it by `path`.
fn field<T: DeserializeOwned>(map: &Mapping, key: &str, path: &str) -> Result<Option<T>, String> {
    map.get(key)
        .map(|v| T::deserialize(v).map_err(|e| format!("{path}: {e}")))
        .transpose()
}

/// The list field `key` of `map`, item by item (empty when absent).
fn list<T: DeserializeOwned>(map: &Mapping, key: &str) -> Result<Vec<T>, String> {
    match map.get(key) {
        None => Ok(Vec::new()),
        Some(Value::Sequence(items)) => items
            .iter()
            .enumerate()
            .map(|(i, v)| T::deserialize(v).map_err(|e| format!("{key}[{i}]: {e}")))
            .collect(),
        Some(other) => Err(format!("{key} is {}, not a list", type_name(other))),
    }
}

fn meta(map: &Mapping, namespaced: bool) -> Result<Meta, String> {
    let m = match map.get("metadata") {
        None => return Err("metadata is missing".into()),
        Some(Value::Mapping(m)) => m,
        Some(other) => return Err(format!("metadata is {}, not a mapping", type_name(other))),
    };
    let name: String = field(m, "name", "metadata.name")?.unwrap_or_default();
    if name.is_empty() {
        return Err("metadata.name is missing".into());
    }
    let namespace: Option<String> =
        field::<String>(m, "namespace", "metadata.namespace")?.filter(|ns| !ns.is_empty());
    if namespaced && namespace.is_none() {
        return Err(
            "metadata.namespace is missing (kubectl shows it; a manifest applied with \
                    `-n` or a Helm chart's must say it)"
                .into(),
        );
    }
    Ok(Meta {
        name,
        // A cluster-scoped object has no namespace (the API server drops one).
        namespace: namespace.filter(|_| namespaced),
        labels: field(m, "labels", "metadata.labels")?.unwrap_or_default(),
    })
}

fn role(kind: RoleKind, metadata: Meta, map: &Mapping) -> Result<Role, String> {
    let rules: Vec<PolicyRule> = list(map, "rules")?;
    // A Role has no aggregationRule field: the API server drops one.
    let aggregation_rule: Option<AggregationRule> = match kind {
        RoleKind::ClusterRole => field(map, "aggregationRule", "aggregationRule")?,
        RoleKind::Role => None,
    };
    if let Some(a) = &aggregation_rule {
        if a.cluster_role_selectors.is_empty() {
            // As the API server's validation requires.
            return Err(
                "aggregationRule.clusterRoleSelectors: at least one selector is required".into(),
            );
        }
        for (i, s) in a.cluster_role_selectors.iter().enumerate() {
            if let Some(problem) = selector_problem(s) {
                return Err(format!(
                    "aggregationRule.clusterRoleSelectors[{i}].{problem}"
                ));
            }
        }
    }
    Ok(Role {
        kind,
        metadata,
        rules,
        aggregation_rule,
    })
}

fn binding(kind: BindingKind, metadata: Meta, map: &Mapping) -> Result<Binding, String> {
    let role_ref: RoleRef = field(map, "roleRef", "roleRef")?.ok_or("roleRef is missing")?;
    if role_ref.name.is_empty() {
        return Err("roleRef.name is empty".into());
    }
    if kind == BindingKind::ClusterRoleBinding && role_ref.kind == RoleKind::Role {
        return Err(format!(
            "roleRef names Role {}: a ClusterRoleBinding can only refer to a ClusterRole",
            role_ref.name
        ));
    }
    let mut subjects: Vec<Subject> = list(map, "subjects")?;
    for s in &mut subjects {
        // An empty namespace is no namespace (a ServiceAccount's is then the binding's).
        if s.namespace.as_deref() == Some("") {
            s.namespace = None;
        }
    }
    Ok(Binding {
        kind,
        metadata,
        role_ref,
        subjects,
    })
}

/// What one input may still expand to, aliases expanded: values (scalars,
/// lists, mappings) and bytes of scalar text. Without aliases a text holds
/// fewer values than bytes, and its own bytes of text.
struct Budget {
    values: u64,
    bytes: u64,
    values_limit: u64,
    bytes_limit: u64,
    /// What was exceeded: `more than N bytes of text`.
    exceeded: Option<String>,
}

impl Budget {
    fn new(text_len: usize) -> Budget {
        let values = (text_len as u64).saturating_add(1024 * 1024);
        let bytes = expansion_limit(text_len);
        Budget {
            values,
            bytes,
            values_limit: values,
            bytes_limit: bytes,
            exceeded: None,
        }
    }

    fn charge<E: de::Error>(&mut self, bytes: usize) -> Result<(), E> {
        let detail = match (
            self.values.checked_sub(1),
            self.bytes.checked_sub(bytes as u64),
        ) {
            (Some(values), Some(bytes)) => {
                self.values = values;
                self.bytes = bytes;
                return Ok(());
            }
            (None, _) => format!("more than {} values", self.values_limit),
            (_, None) => format!("more than {} bytes of text", self.bytes_limit),
        };
        self.exceeded = Some(detail);
        Err(E::custom("the input expands too much"))
    }
}

/// Builds a `serde_yaml::Value`, charging each value to the budget, so the
/// aliases of a small text cannot make it large. Duplicate keys and YAML
/// tags are refused.
struct Bounded<'a>(&'a mut Budget);

impl<'de> DeserializeSeed<'de> for Bounded<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Bounded<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a YAML value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        self.0.charge(0)?;
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        self.0.charge(0)?;
        Ok(Value::Number(Number::from(v)))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        self.0.charge(0)?;
        Ok(Value::Number(Number::from(v)))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        self.0.charge(0)?;
        Ok(Value::Number(Number::from(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        self.0.charge(v.len())?;
        Ok(Value::String(v.to_string()))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        self.0.charge(0)?;
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        self.visit_unit()
    }

    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        self.0.charge(0)?;
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(Bounded(&mut *self.0))? {
            items.push(item);
        }
        Ok(Value::Sequence(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        self.0.charge(0)?;
        let mut out = Mapping::new();
        while let Some(key) = map.next_key_seed(Bounded(&mut *self.0))? {
            let value = map.next_value_seed(Bounded(&mut *self.0))?;
            if out.contains_key(&key) {
                return Err(de::Error::custom(match &key {
                    Value::String(k) => format!("duplicate key {k}"),
                    other => format!("duplicate key {other:?}"),
                }));
            }
            out.insert(key, value);
        }
        Ok(Value::Mapping(out))
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Value, A::Error> {
        let (tag, _) = data.variant::<String>()?;
        Err(de::Error::custom(format_args!(
            "YAML tags are not read (!{tag})"
        )))
    }
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
