//! What was reviewed is what runs. Two checks of a saved plan before
//! `apply PLAN_FILE` executes it:
//!
//! - [`check_digest`]: the plan's `digest` (SHA-256 over its canonical JSON
//!   without the digest itself, written by `plan`) still matches, so an edit
//!   is reported as an edit. Anyone who can edit the file can recompute it:
//!   it catches mistakes and naive edits, not a forger.
//! - [`differences`]: the saved plan's decisions (every entry's principal,
//!   type, username, groups, policies with their scopes and action, the
//!   cluster, `allow_lossy`) equal those of the plan made again at apply
//!   time from the cluster and the apply's own flags. This is the guard a
//!   forger cannot pass: the file can only ever confirm what the tool
//!   computes from the cluster.

use std::collections::BTreeMap;

use serde_json::Value;

use super::cluster::AuthMode;
use super::diff::sha256_hex;
use super::plan::{Entry, Plan};
use super::policy::{short_name, PolicyAssociation};

/// The plan's field holding its digest.
pub const DIGEST_FIELD: &str = "digest";

/// SHA-256 (hex) over the canonical JSON of a plan document (object keys
/// sorted at every level, no whitespace), its top-level `digest` left out.
pub fn content_digest(doc: &Value) -> String {
    let mut out = String::new();
    match doc {
        Value::Object(map) => {
            let rest: serde_json::Map<String, Value> = map
                .iter()
                .filter(|(k, _)| k.as_str() != DIGEST_FIELD)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            canonical(&Value::Object(rest), &mut out);
        }
        other => canonical(other, &mut out),
    }
    sha256_hex(out.as_bytes())
}

fn canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<(&String, &Value)> = map.iter().collect();
            keys.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (k, x)) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                canonical(x, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(x, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// Why a saved plan is refused before anything is compared.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DigestError {
    #[error("its digest is not a string")]
    Malformed,
    #[error("it was edited after it was saved: its content no longer matches its digest ({saved}, content {now})")]
    Edited { saved: String, now: String },
}

/// Checks the `digest` of a saved plan document: `Ok(true)` when it
/// matches, `Ok(false)` when there is none (a plan saved before digests).
pub fn check_digest(doc: &Value) -> Result<bool, DigestError> {
    let Some(saved) = doc.get(DIGEST_FIELD) else {
        return Ok(false);
    };
    let Some(saved) = saved.as_str() else {
        return Err(DigestError::Malformed);
    };
    let now = content_digest(doc);
    if saved != now {
        return Err(DigestError::Edited {
            saved: short(saved),
            now: short(&now),
        });
    }
    Ok(true)
}

fn short(s: &str) -> String {
    s.chars().take(12).collect()
}

/// The decision content of an entry: what apply would do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Decision {
    entry_type: String,
    username: Option<String>,
    groups: Vec<String>,
    /// Sorted; compared by full ARN and scope.
    policies: Vec<PolicyAssociation>,
    action: String,
}

fn decision(e: &Entry) -> Decision {
    let mut groups = e.kubernetes_groups.clone();
    groups.sort();
    let mut policies = e.policies.clone();
    for p in &mut policies {
        p.access_scope.namespaces.sort();
    }
    policies.sort();
    Decision {
        entry_type: e.entry_type.as_str().to_string(),
        username: e.username.clone(),
        groups,
        policies,
        action: e.action.as_str().to_string(),
    }
}

/// Policies as a reviewer reads them: `[AmazonEKSViewPolicy (ns:dev)]`.
fn policy_list(policies: &[PolicyAssociation]) -> String {
    let shown: Vec<String> = policies
        .iter()
        .map(|p| format!("{} ({})", short_name(&p.policy_arn), p.access_scope))
        .collect();
    list(&shown)
}

fn list(items: &[String]) -> String {
    format!("[{}]", items.join(", "))
}

/// Where the decisions of `saved` differ from those of `now` (the plan
/// made again from the cluster), each said in a few words; empty when
/// they agree. Policies are compared by full ARN and scope (shown by name).
pub fn differences(saved: &Plan, now: &Plan) -> Vec<String> {
    let mut out = Vec::new();
    let c = (&saved.cluster, &now.cluster);
    fn mode(m: &Option<AuthMode>) -> Option<&str> {
        m.as_ref().map(AuthMode::as_str)
    }
    for (what, a, b) in [
        ("cluster", c.0.name.as_deref(), c.1.name.as_deref()),
        ("region", c.0.region.as_deref(), c.1.region.as_deref()),
        ("account", c.0.account.as_deref(), c.1.account.as_deref()),
        (
            "authentication mode",
            mode(&c.0.authentication_mode),
            mode(&c.1.authentication_mode),
        ),
    ] {
        if a != b {
            out.push(format!(
                "{what} is {} in the file, {} now",
                a.unwrap_or("none"),
                b.unwrap_or("none")
            ));
        }
    }
    if c.0.partition != c.1.partition {
        out.push(format!(
            "partition is {} in the file, {} now",
            c.0.partition, c.1.partition
        ));
    }
    if saved.allow_lossy != now.allow_lossy {
        out.push(format!(
            "allow_lossy is {} in the file, {} now",
            saved.allow_lossy, now.allow_lossy
        ));
    }
    let index = |p: &Plan| -> BTreeMap<String, Vec<Decision>> {
        let mut m: BTreeMap<String, Vec<Decision>> = BTreeMap::new();
        for e in &p.entries {
            m.entry(e.principal_arn.clone())
                .or_default()
                .push(decision(e));
        }
        m
    };
    let (a, b) = (index(saved), index(now));
    for (arn, mine) in &a {
        let Some(theirs) = b.get(arn) else {
            out.push(format!(
                "entry {arn} ({}) is in the file but not in the plan made now",
                mine[0].action
            ));
            continue;
        };
        if mine.len() != 1 || theirs.len() != 1 {
            if mine != theirs {
                out.push(format!(
                    "entry {arn} is listed {} times in the file, {} now",
                    mine.len(),
                    theirs.len()
                ));
            }
            continue;
        }
        let (x, y) = (&mine[0], &theirs[0]);
        if x.action != y.action {
            out.push(format!(
                "entry {arn}: action {} in the file, {} now",
                x.action, y.action
            ));
        }
        if x.entry_type != y.entry_type {
            out.push(format!(
                "entry {arn}: type {} in the file, {} now",
                x.entry_type, y.entry_type
            ));
        }
        if x.username != y.username {
            out.push(format!(
                "entry {arn}: username {} in the file, {} now",
                x.username.as_deref().unwrap_or("(default)"),
                y.username.as_deref().unwrap_or("(default)")
            ));
        }
        if x.groups != y.groups {
            out.push(format!(
                "entry {arn}: groups {} in the file, {} now",
                list(&x.groups),
                list(&y.groups)
            ));
        }
        if x.policies != y.policies {
            out.push(format!(
                "entry {arn}: policies {} in the file, {} now",
                policy_list(&x.policies),
                policy_list(&y.policies)
            ));
        }
    }
    for (arn, theirs) in &b {
        if !a.contains_key(arn) {
            out.push(format!(
                "entry {arn} ({}) is missing from the file",
                theirs[0].action
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::plan::Action;
    use crate::core::planner::{self, SourceInfo};
    use crate::core::policy::{AccessScope, PolicyAssociation};
    use crate::core::translate::Options;

    fn plan() -> Plan {
        let yaml = "data:\n  mapRoles: |\n    - rolearn: arn:aws:iam::111122223333:role/dev\n      username: dev\n      groups: [devs]\n    - rolearn: arn:aws:iam::111122223333:role/ops\n      username: ops\n      groups: [system:masters]\n";
        planner::plan_offline(
            yaml.as_bytes(),
            SourceInfo {
                kind: "file".into(),
                path: Some("a.yaml".into()),
            },
            &Options::default(),
        )
        .unwrap()
    }

    #[test]
    fn the_digest_covers_everything_but_itself_in_any_key_order() {
        let p = plan();
        let mut doc = serde_json::to_value(&p).unwrap();
        let d = content_digest(&doc);
        assert_eq!(d.len(), 64);
        doc[DIGEST_FIELD] = Value::String(d.clone());
        assert_eq!(content_digest(&doc), d, "the digest leaves itself out");
        assert_eq!(check_digest(&doc), Ok(true));
        // Key order and whitespace do not matter.
        let text = serde_json::to_string_pretty(&doc).unwrap();
        let reread: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(check_digest(&reread), Ok(true));
        // Any edit does, however deep.
        let mut edited = doc.clone();
        edited["entries"][0]["policies"] = serde_json::json!([{"policy_arn": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy", "access_scope": {"type": "cluster", "namespaces": []}}]);
        assert!(matches!(
            check_digest(&edited),
            Err(DigestError::Edited { .. })
        ));
        let mut edited = doc.clone();
        edited["entries"].as_array_mut().unwrap().pop();
        assert!(check_digest(&edited).is_err());
        // No digest: nothing to check; not a string: refused.
        assert_eq!(check_digest(&serde_json::to_value(&p).unwrap()), Ok(false));
        doc[DIGEST_FIELD] = Value::from(1);
        assert_eq!(check_digest(&doc), Err(DigestError::Malformed));
    }

    #[test]
    fn decisions_are_compared_entry_by_entry() {
        let a = plan();
        assert!(differences(&a, &a.clone()).is_empty());
        let dev = "arn:aws:iam::111122223333:role/dev";

        let mut admin = a.clone();
        let e = admin
            .entries
            .iter_mut()
            .find(|e| e.principal_arn == dev)
            .unwrap();
        e.policies.push(PolicyAssociation {
            policy_arn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy".into(),
            access_scope: AccessScope::cluster(),
        });
        assert_eq!(
            differences(&admin, &a),
            vec![format!(
                "entry {dev}: policies [AmazonEKSClusterAdminPolicy (cluster)] in the file, [] now"
            )]
        );

        let mut fewer = a.clone();
        fewer.entries.retain(|e| e.principal_arn != dev);
        assert_eq!(
            differences(&fewer, &a),
            vec![format!("entry {dev} (create) is missing from the file")]
        );
        assert_eq!(
            differences(&a, &fewer),
            vec![format!(
                "entry {dev} (create) is in the file but not in the plan made now"
            )]
        );

        let mut other = a.clone();
        other.allow_lossy = true;
        other.cluster.account = Some("444455556666".into());
        let e = other
            .entries
            .iter_mut()
            .find(|e| e.principal_arn == dev)
            .unwrap();
        e.action = Action::Skip;
        e.kubernetes_groups.push("admins".into());
        e.username = None;
        let d = differences(&other, &a);
        assert_eq!(d.len(), 5, "{d:#?}");
        assert!(
            d[0].starts_with("account is 444455556666 in the file"),
            "{d:#?}"
        );
        assert_eq!(d[1], "allow_lossy is true in the file, false now");
        assert_eq!(
            d[2],
            format!("entry {dev}: action skip in the file, create now")
        );
        assert_eq!(
            d[3],
            format!("entry {dev}: username (default) in the file, dev now")
        );
        assert_eq!(
            d[4],
            format!("entry {dev}: groups [admins, devs] in the file, [devs] now")
        );
    }
}
