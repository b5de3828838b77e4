//! The aggregation controller's work (kube-controller-manager's
//! `clusterrole-aggregation` controller, pkg/controller/clusterroleaggregation):
//! the rules of a ClusterRole with `aggregationRule.clusterRoleSelectors` are,
//! selector after selector and within a selector in order of name, the rules
//! of every other ClusterRole whose labels the selector matches, each rule
//! once. Aggregated roles feed one another (admin takes edit, which takes
//! view, through the `aggregate-to-*` labels edit and view carry), so the
//! computation runs to a fixed point.
//!
//! A live dump comes filled by the controller: recomputing it from a complete
//! dump gives the same rules in the same order. A dump may lack some sources
//! (a partial read, a subset of the manifests): the rules the input shows are
//! then kept as shown and the recomputed ones not among them follow, so no
//! rule the API server shows is dropped or moved. (When the dump is complete
//! the two lists are equal; for a manifest, the rules shown are empty.)
//!
//! Label selectors match as Kubernetes defines them: `matchLabels` and every
//! `matchExpressions` requirement must hold; `In` needs the label with one of
//! the values, `NotIn` holds when the label is absent or has none of them,
//! `Exists` and `DoesNotExist` look at the key alone; an empty selector
//! matches every ClusterRole. A selector that is not valid (see
//! [`selector_problem`]) makes the controller leave its role alone, and so
//! does this.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use super::model::{LabelRequirement, LabelSelector, PolicyRule, RoleKind, Snapshot};

/// The most steps (a label selector tried on a ClusterRole, a rule copied)
/// aggregation takes before it stops and marks the snapshot incomplete. A
/// cluster's bootstrap roles take a few hundred; this bounds the work (and
/// the rules copied) on a snapshot built to be expensive.
pub(crate) const MAX_AGGREGATION_STEPS: usize = 2_000_000;

/// Fills each aggregated ClusterRole's rules from the ClusterRoles its
/// selectors match (keeping the rules it already shows); returns the names
/// of the aggregated ClusterRoles. When the work bound is reached or the
/// roles do not settle, what was done is kept (always a superset of the
/// rules shown) and the reason is added to `snapshot.incomplete`.
pub(crate) fn aggregate(snapshot: &mut Snapshot) -> BTreeSet<String> {
    let targets: Vec<usize> = (0..snapshot.roles.len())
        .filter(|&i| {
            let r = &snapshot.roles[i];
            r.kind == RoleKind::ClusterRole && r.is_aggregated()
        })
        .collect();
    let names = targets
        .iter()
        .map(|&i| snapshot.roles[i].metadata.name.clone())
        .collect();
    if targets.is_empty() {
        return names;
    }
    let mut steps = 0usize;
    let outcome = match plan(snapshot, &targets, &mut steps) {
        Some(plans) => settle(snapshot, &targets, &plans, &mut steps),
        None => Settled::OutOfSteps,
    };
    match outcome {
        Settled::Done => {}
        Settled::OutOfSteps => snapshot.incomplete.push(format!(
            "aggregated ClusterRoles: more than {MAX_AGGREGATION_STEPS} steps to aggregate \
             {} roles; their rules are those shown plus what was aggregated before stopping",
            targets.len()
        )),
        Settled::Unsettled => snapshot.incomplete.push(format!(
            "aggregated ClusterRoles: the {} roles did not settle (their selectors feed one \
             another in a cycle)",
            targets.len()
        )),
    }
    names
}

enum Settled {
    Done,
    OutOfSteps,
    Unsettled,
}

/// For each target, the ClusterRoles it reads, in the controller's order
/// (selector by selector, then by name; the role itself left out); `None`
/// for a target with a selector that is not valid. `None` overall when the
/// steps run out.
fn plan(
    snapshot: &Snapshot,
    targets: &[usize],
    steps: &mut usize,
) -> Option<Vec<Option<Vec<usize>>>> {
    let mut by_name: Vec<usize> = (0..snapshot.roles.len())
        .filter(|&i| snapshot.roles[i].kind == RoleKind::ClusterRole)
        .collect();
    by_name.sort_by(|&a, &b| {
        snapshot.roles[a]
            .metadata
            .name
            .cmp(&snapshot.roles[b].metadata.name)
    });
    let mut plans = Vec::with_capacity(targets.len());
    for &t in targets {
        let role = &snapshot.roles[t];
        let selectors = role
            .aggregation_rule
            .as_ref()
            .map(|a| a.cluster_role_selectors.as_slice())
            .unwrap_or_default();
        if selectors.iter().any(|s| selector_problem(s).is_some()) {
            plans.push(None);
            continue;
        }
        let mut sources = Vec::new();
        for selector in selectors {
            *steps = steps.saturating_add(by_name.len());
            if *steps > MAX_AGGREGATION_STEPS {
                return None;
            }
            sources.extend(by_name.iter().copied().filter(|&c| {
                let other = &snapshot.roles[c].metadata;
                other.name != role.metadata.name && selector_matches(selector, &other.labels)
            }));
        }
        plans.push(Some(sources));
    }
    Some(plans)
}

/// Recomputes the targets in place until a whole pass changes nothing.
/// Every role's rules only grow (the rules shown are always kept), so the
/// sets settle within one pass per target; one more pass confirms it.
fn settle(
    snapshot: &mut Snapshot,
    targets: &[usize],
    plans: &[Option<Vec<usize>>],
    steps: &mut usize,
) -> Settled {
    let shown: Vec<Vec<PolicyRule>> = targets
        .iter()
        .map(|&t| snapshot.roles[t].rules.clone())
        .collect();
    for _ in 0..=targets.len() + 1 {
        let mut changed = false;
        for (k, &t) in targets.iter().enumerate() {
            let Some(sources) = &plans[k] else {
                continue;
            };
            let Some(rules) = union(snapshot, sources, &shown[k], steps) else {
                return Settled::OutOfSteps;
            };
            if rules != snapshot.roles[t].rules {
                snapshot.roles[t].rules = rules;
                changed = true;
            }
        }
        if !changed {
            return Settled::Done;
        }
    }
    Settled::Unsettled
}

/// The rules of `shown`, then those of `sources` in order not among them,
/// each once; `None` when the steps run out.
fn union(
    snapshot: &Snapshot,
    sources: &[usize],
    shown: &[PolicyRule],
    steps: &mut usize,
) -> Option<Vec<PolicyRule>> {
    let mut seen: HashSet<&PolicyRule> = HashSet::new();
    let mut rules = Vec::new();
    let from_sources = sources.iter().flat_map(|&s| &snapshot.roles[s].rules);
    for rule in shown.iter().chain(from_sources) {
        *steps += 1;
        if *steps > MAX_AGGREGATION_STEPS {
            return None;
        }
        if seen.insert(rule) {
            rules.push(rule.clone());
        }
    }
    Some(rules)
}

/// True when `labels` satisfy the selector (see the module's doc). Call it
/// on a valid selector only: an unknown operator matches nothing here.
pub(crate) fn selector_matches(
    selector: &LabelSelector,
    labels: &BTreeMap<String, String>,
) -> bool {
    selector
        .match_labels
        .iter()
        .all(|(k, v)| labels.get(k) == Some(v))
        && selector
            .match_expressions
            .iter()
            .all(|r| requirement_matches(r, labels))
}

fn requirement_matches(r: &LabelRequirement, labels: &BTreeMap<String, String>) -> bool {
    let value = labels.get(&r.key);
    match r.operator.as_str() {
        "In" => value.is_some_and(|v| r.values.contains(v)),
        "NotIn" => value.is_none_or(|v| !r.values.contains(v)),
        "Exists" => value.is_some(),
        "DoesNotExist" => value.is_none(),
        _ => false,
    }
}

/// Why the selector is not valid, as `metav1.LabelSelectorAsSelector` would
/// refuse it (`matchExpressions[1]: operator In needs at least one value`);
/// `None` when it is valid. Label key and value syntax is not checked.
pub(crate) fn selector_problem(selector: &LabelSelector) -> Option<String> {
    if selector.match_labels.keys().any(String::is_empty) {
        return Some("matchLabels: a key is empty".into());
    }
    selector
        .match_expressions
        .iter()
        .enumerate()
        .find_map(|(i, r)| {
            let problem = if r.key.is_empty() {
                "key is empty".to_string()
            } else {
                match (r.operator.as_str(), r.values.is_empty()) {
                    ("In" | "NotIn", false) | ("Exists" | "DoesNotExist", true) => return None,
                    ("In" | "NotIn", true) => {
                        format!("operator {} needs at least one value", r.operator)
                    }
                    ("Exists" | "DoesNotExist", false) => {
                        format!("operator {} takes no values", r.operator)
                    }
                    (other, _) => {
                        format!("operator `{other}` is not In, NotIn, Exists or DoesNotExist")
                    }
                }
            };
            Some(format!("matchExpressions[{i}]: {problem}"))
        })
}

#[cfg(test)]
#[path = "aggregate_tests.rs"]
mod tests;
