//! Access equivalence for a plan: for each principal, the rights aws-auth
//! gives it today (its row's username and groups, through RBAC) against the
//! rights its access entry gives (the entry's username and groups through
//! RBAC, plus its access policies). See [`super::rbac::compare`] for the
//! verdicts and docs/access-equivalence.md for the model.

use super::access_report::{AccessReport, AccessSummary, PrincipalAccess, RbacSource, Side};
use super::arn::{classify, ArnClass, PrincipalKind};
use super::existing::ExistingEntry;
use super::plan::{Action, Entry, EntryType, Mapping, Plan};
use super::policy::{short_name, AccessScope, PolicyAssociation, ScopeType};
use super::rbac::compare::{After, Comparer, Verdict};
use super::rbac::explain::{self, SideRights};
use super::rbac::policies;
use super::rbac::rights::{Identity, Index, Scope};

/// What the after side is: the entries the plan would leave (plan), or the
/// entries that exist now (verify, after apply).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AfterFrom {
    Planned,
    Existing,
}

/// The username EKS gives an entry without one (creating-access-entries).
pub(crate) fn default_username(entry_type: EntryType, principal_arn: &str) -> String {
    match entry_type {
        EntryType::Ec2Linux | EntryType::Ec2Windows => "system:node:{{EC2PrivateDNSName}}".into(),
        EntryType::FargateLinux | EntryType::HybridLinux => "system:node:{{SessionName}}".into(),
        EntryType::Standard | EntryType::Other => match classify(principal_arn) {
            ArnClass::Principal(p) if p.kind == PrincipalKind::Role => format!(
                "arn:{}:sts::{}:assumed-role/{}/{{{{SessionName}}}}",
                p.partition, p.account, p.name
            ),
            _ => principal_arn.to_string(),
        },
    }
}

/// The groups EKS gives an entry: its own, and `system:nodes` for node types.
fn entry_groups(entry_type: EntryType, groups: &[String]) -> Vec<String> {
    let mut out = groups.to_vec();
    if entry_type.is_node() && !out.iter().any(|g| g == "system:nodes") {
        out.push("system:nodes".into());
    }
    out
}

fn scope_of(scope: &AccessScope) -> Vec<Scope> {
    match scope.scope_type {
        ScopeType::Cluster => vec![Scope::Cluster],
        ScopeType::Namespace => scope
            .namespaces
            .iter()
            .map(|n| Scope::Namespace(n.clone()))
            .collect(),
    }
}

fn policies_of(assocs: &[PolicyAssociation]) -> Vec<(String, Scope)> {
    assocs
        .iter()
        .flat_map(|a| {
            let name = short_name(&a.policy_arn).to_string();
            scope_of(&a.access_scope)
                .into_iter()
                .map(move |s| (name.clone(), s))
        })
        .collect()
}

fn policy_labels(assocs: &[PolicyAssociation]) -> Vec<String> {
    assocs
        .iter()
        .map(|a| {
            let name = short_name(&a.policy_arn);
            match a.access_scope.scope_type {
                ScopeType::Cluster => name.to_string(),
                ScopeType::Namespace => {
                    format!("{name} ({})", a.access_scope.namespaces.join(", "))
                }
            }
        })
        .collect()
}

/// The identity aws-auth gives the row today.
fn before_side(m: &Mapping, arn: &str) -> Side {
    let username = match m.username.as_deref() {
        Some(u) if !u.is_empty() => u.to_string(),
        _ => arn.to_string(),
    };
    Side {
        username,
        groups: m.groups.clone(),
        policies: Vec::new(),
    }
}

/// What the entry leaves: its type, username, groups and policies.
struct AfterEntry<'p> {
    entry_type: EntryType,
    username: Option<&'p str>,
    groups: &'p [String],
    policies: &'p [PolicyAssociation],
}

fn planned(e: &Entry) -> Option<AfterEntry<'_>> {
    match e.action {
        Action::Create | Action::Update | Action::Noop => Some(AfterEntry {
            entry_type: e.entry_type,
            username: e.username.as_deref(),
            groups: &e.kubernetes_groups,
            policies: &e.policies,
        }),
        Action::Conflict | Action::Unmanaged => e.diff.as_ref().map(|d| existing(&d.existing)),
        Action::Skip => None,
    }
}

fn existing(x: &ExistingEntry) -> AfterEntry<'_> {
    AfterEntry {
        entry_type: EntryType::parse(&x.entry_type),
        username: x.username.as_deref(),
        groups: &x.kubernetes_groups,
        policies: &x.policies,
    }
}

/// Compares every principal of the plan. `after_from` says what the after
/// side is; with [`AfterFrom::Existing`] it is `plan.existing`.
pub(crate) fn analyse(
    plan: &Plan,
    index: &Index,
    rbac: RbacSource,
    after_from: AfterFrom,
) -> AccessReport {
    let mut comparer = Comparer::new(index);
    let mut principals = Vec::new();
    let existing: &[ExistingEntry] = plan.existing.as_deref().unwrap_or(&[]);
    for e in &plan.entries {
        let Some(&last) = e.from.last() else {
            continue;
        };
        let Some(m) = plan.mappings.get(last) else {
            continue;
        };
        let before = before_side(m, &e.principal_arn);
        let after_entry = match after_from {
            AfterFrom::Planned => planned(e),
            AfterFrom::Existing => existing
                .iter()
                .find(|x| x.principal_arn.eq_ignore_ascii_case(&e.principal_arn))
                .map(existing_ref),
        };
        principals.push(compare_one(
            &mut comparer,
            &e.principal_arn,
            before,
            after_entry,
        ));
    }
    for i in plan.lossy_rows() {
        let m = &plan.mappings[i];
        let Some(arn) = m.arn.as_deref() else {
            continue;
        };
        principals.push(compare_one(&mut comparer, arn, before_side(m, arn), None));
    }
    let mut summary = AccessSummary::default();
    for p in &principals {
        match p.comparison.verdict {
            Verdict::Same => summary.same += 1,
            Verdict::Gains => summary.gains += 1,
            Verdict::Loses => summary.loses += 1,
            Verdict::Unproven => summary.unproven += 1,
        }
    }
    AccessReport {
        unbound_groups: unbound_groups(plan, index),
        rbac,
        policies_checked: policies::CHECKED.to_string(),
        policies_source: policies::SOURCE.to_string(),
        summary,
        principals,
    }
}

fn existing_ref(x: &ExistingEntry) -> AfterEntry<'_> {
    existing(x)
}

fn compare_one(
    comparer: &mut Comparer,
    arn: &str,
    before: Side,
    after: Option<AfterEntry>,
) -> PrincipalAccess {
    let before_id = Identity {
        username: before.username.clone(),
        groups: before.groups.clone(),
    };
    let Some(a) = after else {
        let comparison = comparer.compare_gone(&before_id);
        return PrincipalAccess {
            principal_arn: arn.to_string(),
            before,
            after: None,
            comparison,
            accepted: false,
        };
    };
    let side = Side {
        username: a
            .username
            .map_or_else(|| default_username(a.entry_type, arn), str::to_string),
        groups: entry_groups(a.entry_type, a.groups),
        policies: policy_labels(a.policies),
    };
    let after = After {
        identity: Identity {
            username: side.username.clone(),
            groups: side.groups.clone(),
        },
        policies: policies_of(a.policies),
    };
    let comparison = comparer.compare(&before_id, &after);
    PrincipalAccess {
        principal_arn: arn.to_string(),
        before,
        after: Some(side),
        comparison,
        accepted: false,
    }
}

/// The groups of aws-auth's rows that no binding names (system groups aside).
fn unbound_groups(plan: &Plan, index: &Index) -> Vec<String> {
    let mut out: Vec<String> = plan
        .mappings
        .iter()
        .flat_map(|m| &m.groups)
        .filter(|g| {
            !g.starts_with("system:")
                && !g.starts_with("eks:")
                && !g.is_empty()
                && !index.group_is_bound(g)
        })
        .cloned()
        .collect();
    out.sort();
    out.dedup();
    out
}

/// `plan --explain`: the rights of a principal of the plan before and
/// after, as text, with the same after side its verdict was computed from
/// (the planned entry, or the existing one it leaves in place).
pub(crate) fn explain_sides(
    plan: &Plan,
    index: &Index,
    p: &PrincipalAccess,
) -> (SideRights, Option<SideRights>) {
    let identity = |s: &Side| Identity {
        username: s.username.clone(),
        groups: s.groups.clone(),
    };
    let before = explain::side(index, &identity(&p.before), &[], &[]);
    let after = plan
        .entries
        .iter()
        .find(|e| e.principal_arn == p.principal_arn)
        .and_then(planned)
        .zip(p.after.as_ref())
        .map(|(a, side)| {
            explain::side(
                index,
                &identity(side),
                &policies_of(a.policies),
                &side.policies,
            )
        });
    (before, after)
}

/// Parses a kubectl RBAC dump and analyses the plan against it (the
/// benchmarks' entry point: parse, index and compare, as `plan --rbac` does).
pub fn analyse_dump(plan: &Plan, rbac: &[u8]) -> Result<AccessReport, String> {
    let parsed = super::rbac::parse::parse(rbac).map_err(|e| e.to_string())?;
    let snapshot = parsed.snapshot;
    let index = Index::new(&snapshot);
    let source = RbacSource {
        kind: "file".into(),
        path: None,
        roles: snapshot.roles.len(),
        bindings: snapshot.bindings.len(),
        incomplete: snapshot.incomplete.clone(),
        skipped: parsed.skipped,
    };
    Ok(analyse(plan, &index, source, AfterFrom::Planned))
}

#[cfg(test)]
#[path = "equivalence_tests.rs"]
mod tests;
