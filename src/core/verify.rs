//! Parity: does every aws-auth row have an access entry that gives the same
//! access? Computed from a live plan (see `live::plan`) made with lossy
//! entries included, so every row's entry is compared with what exists.
//! Pure: no I/O. docs/verify-and-finalize.md describes the rules.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::arn;
use super::cluster::AuthMode;
use super::diff::ExistingEntry;
use super::input::Section;
use super::lockout::{self, Lockout};
use super::plan::{Action, ClusterRef, Entry, EntryType, Fidelity, Mapping, Plan, Source, Tool};
use super::policy;
use super::reason::{Code, Severity};
use super::resolve::Lookup;

/// The verification report's format version (fields may be added).
pub const FORMAT_VERSION: &str = "1";

/// A stable name for one aws-auth row: its section and its 1-based
/// position there, `mapRoles#3` (the `row` column of `plan`). A section the
/// authenticator cannot read is named by its key alone (`mapRoles`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RowId {
    pub section: Section,
    /// 1-based; None for a whole unreadable section.
    pub number: Option<usize>,
}

impl RowId {
    pub fn of(m: &Mapping) -> RowId {
        RowId {
            section: m.section,
            number: m.index.map(|i| i + 1),
        }
    }
}

impl fmt::Display for RowId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.number {
            Some(n) => write!(f, "{}#{n}", self.section.key()),
            None => f.write_str(self.section.key()),
        }
    }
}

impl FromStr for RowId {
    type Err = String;

    fn from_str(s: &str) -> Result<RowId, String> {
        let s = s.trim();
        let (key, number) = match s.split_once('#') {
            Some((k, n)) => {
                let n: usize = n.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                    format!("{s:?}: the row number after # must be a whole number from 1")
                })?;
                (k, Some(n))
            }
            None => (s, None),
        };
        let section = Section::ALL
            .into_iter()
            .find(|sec| sec.key() == key)
            .ok_or_else(|| {
                format!("{s:?} is not a row id: expected mapRoles#N, mapUsers#N or mapAccounts#N")
            })?;
        Ok(RowId { section, number })
    }
}

/// Parses `--accept-gaps a,b` (repeatable) into row ids.
pub fn parse_row_ids(values: &[String]) -> Result<Vec<RowId>, String> {
    let mut out = Vec::new();
    for v in values {
        for part in v.split(',').filter(|p| !p.trim().is_empty()) {
            let id: RowId = part.parse()?;
            if !out.contains(&id) {
                out.push(id);
            }
        }
    }
    Ok(out)
}

/// What verify concludes about one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RowStatus {
    /// An access entry gives at least the access the row gives.
    Migrated,
    /// No entry gives this access: it would be lost in API mode.
    Gap,
    /// The row's access cannot be reproduced exactly by an entry.
    Lossy,
    /// The authenticator ignores this row today: it grants nothing.
    Ignored,
    /// A duplicate the authenticator does not use (another row of the same
    /// principal wins).
    Superseded,
}

impl RowStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RowStatus::Migrated => "migrated",
            RowStatus::Gap => "gap",
            RowStatus::Lossy => "lossy",
            RowStatus::Ignored => "ignored",
            RowStatus::Superseded => "superseded",
        }
    }

    /// True when the row's access would be lost by leaving aws-auth.
    pub fn is_gap(self) -> bool {
        matches!(self, RowStatus::Gap | RowStatus::Lossy)
    }
}

/// One aws-auth row, checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowCheck {
    /// `mapRoles#3`.
    pub id: String,
    pub section: Section,
    /// 0-based position in the section (as in the plan); null for a whole
    /// unreadable section.
    pub index: Option<usize>,
    pub line: Option<usize>,
    pub arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    pub username: Option<String>,
    pub groups: Vec<String>,
    pub status: RowStatus,
    /// The deciding reason code (`no-entry`, `entry-differs`, a mapping
    /// rule code...); null for a migrated row.
    pub code: Option<String>,
    pub detail: String,
    /// The access entry that carries (or should carry) the row.
    pub entry: Option<String>,
    /// Listed in `--accept-gaps`.
    pub accepted: bool,
    /// `prune-configmap` removes this row.
    pub prunable: bool,
}

/// An access entry whose principal IAM no longer has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrphanEntry {
    pub principal_arn: String,
    #[serde(rename = "type")]
    pub entry_type: String,
    pub detail: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifySummary {
    pub rows: usize,
    pub migrated: usize,
    pub gaps: usize,
    pub lossy: usize,
    pub accepted: usize,
    pub ignored: usize,
    pub superseded: usize,
    pub orphan_entries: usize,
    /// Gaps and lossy rows not accepted: parity when 0.
    pub blocking: usize,
}

/// The verification report (JSON `format_version` "1").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verification {
    pub format_version: String,
    pub tool: Tool,
    pub cluster: ClusterRef,
    pub source: Source,
    /// True when no row's access would be lost (accepted gaps aside).
    pub parity: bool,
    pub summary: VerifySummary,
    pub rows: Vec<RowCheck>,
    pub orphan_entries: Vec<OrphanEntry>,
    pub notices: Vec<String>,
    /// Who could be locked out by API mode, judged from the entries that
    /// exist now (not from planned ones).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lockout: Option<Lockout>,
}

impl Verification {
    /// Rows that block parity.
    pub fn blocking(&self) -> impl Iterator<Item = &RowCheck> {
        self.rows
            .iter()
            .filter(|r| r.status.is_gap() && !r.accepted)
    }

    /// The rows prune-configmap removes.
    pub fn prunable(&self) -> impl Iterator<Item = &RowCheck> {
        self.rows.iter().filter(|r| r.prunable)
    }
}

/// Skip reasons under which the authenticator ignores a row today: it
/// grants nothing, so nothing is lost by leaving aws-auth. Each was checked
/// against aws-iam-authenticator's source (docs/mapping-rules.md, "Which
/// rows match a caller today"); a row is `ignored` only when, besides, it
/// names nothing a caller can match ([`matches_no_one`]).
const IGNORED: [Code; 5] = [
    Code::MissingArn,
    Code::InvalidArn,
    Code::StsArn,
    Code::RoleArnHasPath,
    Code::SsoBlock,
];

/// Checked again from the row itself, whatever reason the plan gave: the
/// row is dropped when it loads (no ARN, or an `sso` block: dropped by
/// `Validate`, or matched only by the SSO feature gate, off by default and
/// on EKS), or its ARN equals no caller's canonical ARN.
fn matches_no_one(m: &Mapping) -> bool {
    if m.section == Section::MapAccounts {
        return false;
    }
    if m.reasons.iter().any(|r| r.code == Code::SsoBlock) {
        return true;
    }
    match m.arn.as_deref() {
        None | Some("") => true,
        Some(a) => !arn::classify(a).can_match_a_caller(),
    }
}

/// What the authenticator matches a row's ARN by: lowercased, for roles
/// and users alike (`strings.EqualFold` in pkg/config/mapper.go).
fn match_key(arn: &str) -> Option<String> {
    arn::classify(arn).match_key()
}

/// How an existing entry falls short of the planned one; empty when it
/// gives at least the planned access. Notes say what it gives beyond.
fn shortfalls(e: &Entry) -> (Vec<String>, Vec<String>) {
    let Some(d) = &e.diff else {
        return (
            vec![format!("no access entry for {}", e.principal_arn)],
            vec![],
        );
    };
    let mut short = Vec::new();
    let mut notes = Vec::new();
    if d.type_differs {
        short.push(format!(
            "the entry's type is {}, the row needs {}",
            d.existing.entry_type,
            e.entry_type.as_str()
        ));
    }
    if d.username_differs {
        short.push(format!(
            "the entry's username is {}, the row's is {}",
            d.existing.username.as_deref().unwrap_or("(default)"),
            e.username.as_deref().unwrap_or("(default)")
        ));
    }
    if !d.missing_groups.is_empty() {
        short.push(format!(
            "the entry lacks groups {}",
            d.missing_groups.join(", ")
        ));
    }
    if !d.missing_policies.is_empty() {
        let names: Vec<String> = d
            .missing_policies
            .iter()
            .map(|p| format!("{} ({})", policy::short_name(&p.policy_arn), p.access_scope))
            .collect();
        short.push(format!("the entry lacks policies {}", names.join(", ")));
    }
    if !d.extra_groups.is_empty() {
        notes.push(format!(
            "the entry also has groups {}",
            d.extra_groups.join(", ")
        ));
    }
    (short, notes)
}

fn first_skip_code(m: &Mapping) -> Option<Code> {
    m.reasons
        .iter()
        .find(|r| r.severity == Severity::Skip)
        .map(|r| r.code)
}

/// Checks every row of a live plan (made with lossy entries included and
/// `merge_existing` off) against the entries that exist. `existing_lookups`
/// are IAM's answers for the existing entries' principals (keyed by ARN);
/// `accepted` the rows `--accept-gaps` names, each of which must be a gap.
pub fn verify(
    plan: &Plan,
    existing_lookups: &BTreeMap<String, Lookup>,
    caller: Option<&str>,
    accepted: &[RowId],
) -> Result<Verification, String> {
    let by_mapping: BTreeMap<usize, &Entry> = plan
        .entries
        .iter()
        .filter(|e| e.action != Action::Unmanaged)
        .flat_map(|e| e.from.iter().map(move |&i| (i, e)))
        .collect();

    let mut rows: Vec<RowCheck> = Vec::new();
    for (mi, m) in plan.mappings.iter().enumerate() {
        let id = RowId::of(m);
        let (status, code, detail, entry): (RowStatus, Option<String>, String, Option<String>) =
            if m.index.is_none() {
                (
                    RowStatus::Ignored,
                    Some(Code::SectionUnparseable.as_str().into()),
                    m.reasons
                        .first()
                        .map(|r| r.message.clone())
                        .unwrap_or_default(),
                    None,
                )
            } else if let Some(e) = by_mapping.get(&mi) {
                let not_found = e.reasons.iter().find(|r| r.code == Code::PrincipalNotFound);
                if let Some(r) = not_found {
                    (
                        RowStatus::Gap,
                        Some(r.code.as_str().into()),
                        r.message.clone(),
                        Some(e.principal_arn.clone()),
                    )
                } else if e.fidelity == Fidelity::Lossy {
                    let lossy: Vec<&super::reason::Reason> = e
                        .reasons
                        .iter()
                        .filter(|r| r.severity == Severity::Lossy)
                        .collect();
                    let (short, _) = shortfalls(e);
                    // The first reason's code is the row's code, which every
                    // output prints before the detail: only the others are
                    // named here.
                    let mut detail = lossy
                        .iter()
                        .enumerate()
                        .map(|(i, r)| match i {
                            0 => r.message.clone(),
                            _ => format!("{}: {}", r.code.as_str(), r.message),
                        })
                        .collect::<Vec<_>>()
                        .join("; ");
                    if short.is_empty() {
                        detail.push_str("; the lossy entry exists as planned");
                    }
                    (
                        RowStatus::Lossy,
                        lossy.first().map(|r| r.code.as_str().to_string()),
                        detail,
                        Some(e.principal_arn.clone()),
                    )
                } else {
                    let (short, notes) = shortfalls(e);
                    if short.is_empty() {
                        let mut detail = format!("carried by the access entry {}", e.principal_arn);
                        if e.entry_type.is_node() {
                            detail = format!(
                                "carried by the {} access entry {}",
                                e.entry_type.as_str(),
                                e.principal_arn
                            );
                        }
                        for n in notes {
                            detail.push_str("; ");
                            detail.push_str(&n);
                        }
                        (
                            RowStatus::Migrated,
                            None,
                            detail,
                            Some(e.principal_arn.clone()),
                        )
                    } else {
                        let code = if e.diff.is_none() {
                            "no-entry"
                        } else {
                            "entry-differs"
                        };
                        (
                            RowStatus::Gap,
                            Some(code.into()),
                            short.join("; "),
                            Some(e.principal_arn.clone()),
                        )
                    }
                }
            } else if let Some(r) = m.reasons.iter().find(|r| r.severity == Severity::Lossy) {
                // Matches a caller today, and no entry can carry it
                // (root-user, federated-user): lost in API mode.
                (
                    RowStatus::Lossy,
                    Some(r.code.as_str().into()),
                    r.message.clone(),
                    None,
                )
            } else {
                let code = first_skip_code(m);
                let message = |c: Code| {
                    m.reasons
                        .iter()
                        .find(|r| r.code == c)
                        .map(|r| r.message.clone())
                        .unwrap_or_default()
                };
                match code {
                    Some(Code::Duplicate) => (
                        RowStatus::Superseded,
                        Some(Code::Duplicate.as_str().into()),
                        message(Code::Duplicate),
                        None,
                    ),
                    Some(c) if IGNORED.contains(&c) && matches_no_one(m) => (
                        RowStatus::Ignored,
                        Some(c.as_str().into()),
                        message(c),
                        None,
                    ),
                    Some(c) => (RowStatus::Gap, Some(c.as_str().into()), message(c), None),
                    None => (
                        RowStatus::Gap,
                        Some("no-entry".into()),
                        "the row was not planned as an entry".into(),
                        None,
                    ),
                }
            };
        rows.push(RowCheck {
            id: id.to_string(),
            section: m.section,
            index: m.index,
            line: m.line,
            arn: m.arn.clone().filter(|a| !a.is_empty()),
            account: m.account.clone(),
            username: m.username.clone(),
            groups: m.groups.clone(),
            status,
            code,
            detail,
            entry,
            accepted: false,
            prunable: false,
        });
    }

    // Prunable: migrated rows, and the duplicates of a migrated principal
    // (left alone, one of them would start to count if the migrated row
    // were gone).
    let migrated_keys: BTreeSet<String> = rows
        .iter()
        .filter(|r| r.status == RowStatus::Migrated)
        .filter_map(|r| r.arn.as_deref().and_then(match_key))
        .collect();
    for r in rows.iter_mut() {
        r.prunable = match r.status {
            RowStatus::Migrated => true,
            RowStatus::Superseded => r
                .arn
                .as_deref()
                .and_then(match_key)
                .is_some_and(|k| migrated_keys.contains(&k)),
            _ => false,
        };
    }

    // Accepted gaps: each must name a row that is a gap.
    let mut errors = Vec::new();
    for a in accepted {
        let name = a.to_string();
        match rows.iter_mut().find(|r| r.id == name) {
            Some(r) if r.status.is_gap() => r.accepted = true,
            Some(r) => errors.push(format!(
                "--accept-gaps {name}: that row is {}, not a gap ({})",
                r.status.as_str(),
                r.arn.as_deref().or(r.account.as_deref()).unwrap_or("-")
            )),
            None => errors.push(format!(
                "--accept-gaps {name}: aws-auth has no such row (row ids are positions in the current ConfigMap: take them from the latest verify)"
            )),
        }
    }
    if !errors.is_empty() {
        return Err(errors.join("; "));
    }

    let existing: &[ExistingEntry] = plan.existing.as_deref().unwrap_or(&[]);
    let mut orphans = Vec::new();
    for x in existing {
        let detail = match existing_lookups.get(&x.principal_arn) {
            Some(Lookup::NotFound) => (
                "IAM has no such principal: it was deleted (a principal recreated under the same ARN is a new one that this entry does not match); delete the entry"
            ).to_string(),
            Some(Lookup::Found { arn }) if !arn.eq_ignore_ascii_case(&x.principal_arn) => {
                format!("IAM's principal of that name is {arn}: this entry's ARN matches no one")
            }
            _ => continue,
        };
        orphans.push(OrphanEntry {
            principal_arn: x.principal_arn.clone(),
            entry_type: x.entry_type.clone(),
            detail,
        });
    }

    let mut notices = Vec::new();
    if plan.cluster.authentication_mode == Some(AuthMode::ConfigMap) {
        notices.push(
            "the cluster is in CONFIG_MAP mode: no access entries exist yet; run apply first"
                .to_string(),
        );
    }
    let count = |s: RowStatus| rows.iter().filter(|r| r.status == s).count();
    let summary = VerifySummary {
        rows: rows.len(),
        migrated: count(RowStatus::Migrated),
        gaps: count(RowStatus::Gap),
        lossy: count(RowStatus::Lossy),
        accepted: rows.iter().filter(|r| r.accepted).count(),
        ignored: count(RowStatus::Ignored),
        superseded: count(RowStatus::Superseded),
        orphan_entries: orphans.len(),
        blocking: rows
            .iter()
            .filter(|r| r.status.is_gap() && !r.accepted)
            .count(),
    };
    let lockout = lockout_now(plan, caller);
    Ok(Verification {
        format_version: FORMAT_VERSION.to_string(),
        tool: Tool::default(),
        cluster: plan.cluster.clone(),
        source: plan.source.clone(),
        parity: summary.blocking == 0,
        summary,
        rows,
        orphan_entries: orphans,
        notices,
        lockout: Some(lockout),
    })
}

/// The lockout analysis from the entries that exist now: the caller is an
/// admin only through an existing entry, a node role is covered only by an
/// existing node entry. `--accept-gaps` does not waive a node role: what
/// it would lose is not one principal's access but every node that joins
/// with the role, and the switch cannot be undone.
fn lockout_now(plan: &Plan, caller: Option<&str>) -> Lockout {
    let existing = plan.existing.as_deref().unwrap_or(&[]);
    let node_rows = lockout::node_rows(&plan.entries, &plan.mappings);
    lockout::analyse(caller, &[], existing, &node_rows)
}

/// What a row names: its ARN, `account A`, or `-`.
pub fn row_label(r: &RowCheck) -> String {
    match (&r.arn, &r.account) {
        (Some(a), _) => a.clone(),
        (None, Some(acc)) => format!("account {acc}"),
        _ => "-".into(),
    }
}

/// The roles EKS's own compute uses (managed node groups, Fargate
/// profiles) that have no node-type access entry now.
pub fn compute_roles_without_entry(
    roles: &[(String, String)],
    existing: &[ExistingEntry],
) -> Vec<(String, String)> {
    roles
        .iter()
        .filter(|(role, _)| {
            !existing.iter().any(|x| {
                x.principal_arn.eq_ignore_ascii_case(role)
                    && EntryType::parse(&x.entry_type).is_node()
            })
        })
        .cloned()
        .collect()
}

/// Why `finalize` must not switch the cluster to API mode; empty when it
/// may. `compute_missing` are node group / Fargate roles without a node
/// entry (by [`compute_roles_without_entry`]), each with what uses it.
pub fn finalize_blockers(
    v: &Verification,
    mode: &AuthMode,
    update_in_progress: Option<&str>,
    compute_missing: &[(String, String)],
) -> Vec<String> {
    let mut out = Vec::new();
    if *mode == AuthMode::ConfigMap {
        out.push("the cluster is in CONFIG_MAP mode: create the access entries first (apply), which switches it to API_AND_CONFIG_MAP".into());
    }
    if let Some(id) = update_in_progress {
        out.push(format!(
            "cluster update {id} is in progress: wait for it to finish"
        ));
    }
    for r in v.blocking() {
        out.push(format!(
            "{} ({}) is {}: {}{}",
            r.id,
            row_label(r),
            r.status.as_str(),
            r.code
                .as_deref()
                .map(|c| format!("{c}: "))
                .unwrap_or_default(),
            r.detail
        ));
    }
    if let Some(l) = &v.lockout {
        if !l.caller_admin_after {
            out.push(format!(
                "the caller {} has no access entry with AmazonEKSClusterAdminPolicy at cluster scope: in API mode it could lose admin access; create one (or run as a principal that has one)",
                l.caller_arn.as_deref().unwrap_or("(unknown)")
            ));
        }
        for n in &l.node_roles_at_risk {
            out.push(format!(
                "node role {n} (in aws-auth) has no node-type access entry: its nodes could not join in API mode; create its node entry (apply), or remove the row from aws-auth if no node uses the role (--accept-gaps does not waive a node role)"
            ));
        }
    }
    for (role, what) in compute_missing {
        out.push(format!(
            "{what} uses role {role}, which has no node-type access entry: its nodes or pods could not join in API mode"
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::diff::{self, ExistingEntry};
    use crate::core::planner::{self, SourceInfo};
    use crate::core::policy::{policy_arn, AccessScope, PolicyAssociation};
    use crate::core::translate::Options;

    const A: &str = "111122223333";
    const CALLER: &str = "arn:aws:iam::111122223333:user/admin";

    fn plan_of(
        map_roles: &str,
        map_users: &str,
        extra: &str,
        existing: Vec<ExistingEntry>,
    ) -> Plan {
        let doc = format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\n  namespace: kube-system\ndata:\n  mapRoles: |\n{}  mapUsers: |\n{}{extra}",
            indent(map_roles),
            indent(map_users)
        );
        let opts = Options {
            account: Some(A.into()),
            partition: Some("aws".into()),
            allow_lossy: true,
            ..Options::default()
        };
        let mut plan = planner::plan_offline(
            doc.as_bytes(),
            SourceInfo {
                kind: "file".into(),
                path: None,
            },
            &opts,
        )
        .unwrap();
        plan.cluster.authentication_mode = Some("API_AND_CONFIG_MAP".into());
        diff::diff(&mut plan.entries, &existing, false);
        plan.existing = Some(existing);
        plan.summarize();
        plan
    }

    fn indent(s: &str) -> String {
        s.lines().map(|l| format!("    {l}\n")).collect()
    }

    fn standard(arn: &str, username: Option<&str>, groups: &[&str]) -> ExistingEntry {
        ExistingEntry {
            principal_arn: arn.into(),
            entry_type: "STANDARD".into(),
            username: username.map(str::to_string),
            kubernetes_groups: groups.iter().map(|g| g.to_string()).collect(),
            policies: vec![],
            tags: Default::default(),
        }
    }

    fn admin(arn: &str) -> ExistingEntry {
        let mut e = standard(arn, None, &[]);
        e.policies = vec![PolicyAssociation {
            policy_arn: policy_arn("aws", policy::CLUSTER_ADMIN),
            access_scope: AccessScope::cluster(),
        }];
        e
    }

    fn node(arn: &str) -> ExistingEntry {
        ExistingEntry {
            principal_arn: arn.into(),
            entry_type: "EC2_LINUX".into(),
            username: Some("system:node:{{EC2PrivateDNSName}}".into()),
            kubernetes_groups: vec!["system:nodes".into()],
            policies: vec![],
            tags: Default::default(),
        }
    }

    fn row<'a>(v: &'a Verification, id: &str) -> &'a RowCheck {
        v.rows
            .iter()
            .find(|r| r.id == id)
            .unwrap_or_else(|| panic!("no row {id}: {:#?}", v.rows))
    }

    const ROLES: &str = "- rolearn: arn:aws:iam::111122223333:role/node\n  username: system:node:{{EC2PrivateDNSName}}\n  groups: [system:bootstrappers, system:nodes]\n- rolearn: arn:aws:iam::111122223333:role/dev\n  username: dev\n  groups: [devs, ops]\n- rolearn: arn:aws:iam::111122223333:role/team/x\n  groups: [devs]\n";

    #[test]
    fn row_ids_round_trip_and_refuse_nonsense() {
        let id: RowId = "mapRoles#3".parse().unwrap();
        assert_eq!(id.section, Section::MapRoles);
        assert_eq!(id.number, Some(3));
        assert_eq!(id.to_string(), "mapRoles#3");
        assert_eq!("mapUsers".parse::<RowId>().unwrap().to_string(), "mapUsers");
        assert!("mapRoles#0".parse::<RowId>().is_err());
        assert!("maproles#1".parse::<RowId>().is_err());
        assert!("mapRoles#x".parse::<RowId>().is_err());
        let ids =
            parse_row_ids(&["mapRoles#1, mapAccounts#2".into(), "mapRoles#1".into()]).unwrap();
        assert_eq!(
            ids.iter().map(|i| i.to_string()).collect::<Vec<_>>(),
            vec!["mapRoles#1", "mapAccounts#2"]
        );
    }

    #[test]
    fn parity_when_every_row_has_an_equal_entry() {
        let existing = vec![
            node("arn:aws:iam::111122223333:role/node"),
            standard(
                "arn:aws:iam::111122223333:role/dev",
                Some("dev"),
                &["ops", "devs"],
            ),
            admin(CALLER),
        ];
        let plan = plan_of(ROLES, "", "", existing);
        let v = verify(&plan, &BTreeMap::new(), Some(CALLER), &[]).unwrap();
        assert!(v.parity, "{:#?}", v.rows);
        assert_eq!(row(&v, "mapRoles#1").status, RowStatus::Migrated);
        assert_eq!(row(&v, "mapRoles#2").status, RowStatus::Migrated);
        // A role with a path never matches today: ignored, not a gap, kept.
        let r3 = row(&v, "mapRoles#3");
        assert_eq!(r3.status, RowStatus::Ignored);
        assert_eq!(r3.code.as_deref(), Some("role-arn-has-path"));
        assert!(!r3.prunable);
        assert!(row(&v, "mapRoles#1").prunable && row(&v, "mapRoles#2").prunable);
        assert_eq!(v.summary.migrated, 2);
        assert_eq!(v.summary.ignored, 1);
        assert_eq!(v.summary.blocking, 0);
        let l = v.lockout.as_ref().unwrap();
        assert!(l.caller_admin_after);
        assert!(l.node_roles_at_risk.is_empty());
        assert!(finalize_blockers(&v, &"API_AND_CONFIG_MAP".into(), None, &[]).is_empty());
    }

    #[test]
    fn differing_or_missing_entries_are_gaps() {
        let existing = vec![
            // Lacks group ops.
            standard("arn:aws:iam::111122223333:role/dev", Some("dev"), &["devs"]),
        ];
        let plan = plan_of(ROLES, "", "", existing);
        let v = verify(&plan, &BTreeMap::new(), Some(CALLER), &[]).unwrap();
        assert!(!v.parity);
        let node_row = row(&v, "mapRoles#1");
        assert_eq!(node_row.status, RowStatus::Gap);
        assert_eq!(node_row.code.as_deref(), Some("no-entry"));
        let dev = row(&v, "mapRoles#2");
        assert_eq!(dev.status, RowStatus::Gap);
        assert_eq!(dev.code.as_deref(), Some("entry-differs"));
        assert_eq!(dev.detail, "the entry lacks groups ops");
        assert!(!dev.prunable);
        let blockers = finalize_blockers(&v, &"API_AND_CONFIG_MAP".into(), None, &[]);
        assert_eq!(blockers.len(), 4, "{blockers:#?}");
        assert!(blockers[2]
            .starts_with("the caller arn:aws:iam::111122223333:user/admin has no access entry"));
        assert_eq!(
            blockers[3],
            "node role arn:aws:iam::111122223333:role/node (in aws-auth) has no node-type access entry: its nodes could not join in API mode; create its node entry (apply), or remove the row from aws-auth if no node uses the role (--accept-gaps does not waive a node role)"
        );
    }

    #[test]
    fn username_must_match_and_extra_groups_are_a_note() {
        let roles = "- rolearn: arn:aws:iam::111122223333:role/dev\n  groups: [devs]\n- rolearn: arn:aws:iam::111122223333:role/ops\n  username: ops\n  groups: [ops]\n";
        let existing = vec![
            // Default username reported by EKS, extra group.
            standard(
                "arn:aws:iam::111122223333:role/dev",
                Some("arn:aws:sts::111122223333:assumed-role/dev/{{SessionName}}"),
                &["devs", "more"],
            ),
            standard(
                "arn:aws:iam::111122223333:role/ops",
                Some("other"),
                &["ops"],
            ),
        ];
        let plan = plan_of(roles, "", "", existing);
        let v = verify(&plan, &BTreeMap::new(), Some(CALLER), &[]).unwrap();
        let dev = row(&v, "mapRoles#1");
        assert_eq!(dev.status, RowStatus::Migrated);
        assert!(
            dev.detail.ends_with("; the entry also has groups more"),
            "{}",
            dev.detail
        );
        let ops = row(&v, "mapRoles#2");
        assert_eq!(ops.status, RowStatus::Gap);
        assert_eq!(
            ops.detail,
            "the entry's username is other, the row's is ops"
        );
    }

    #[test]
    fn lossy_accounts_and_accepted_gaps() {
        let roles = "- rolearn: arn:aws:iam::111122223333:role/mon\n  username: mon\n  groups: [system:monitoring]\n";
        let extra = "  mapAccounts: |\n    - \"444455556666\"\n";
        let existing = vec![admin(CALLER)];
        let plan = plan_of(roles, "", extra, existing);
        let v = verify(&plan, &BTreeMap::new(), Some(CALLER), &[]).unwrap();
        let mon = row(&v, "mapRoles#1");
        assert_eq!(mon.status, RowStatus::Lossy);
        assert_eq!(mon.code.as_deref(), Some("system-group-not-allowed"));
        let acc = row(&v, "mapAccounts#1");
        assert_eq!(acc.status, RowStatus::Gap);
        assert_eq!(acc.code.as_deref(), Some("map-accounts"));
        assert_eq!(v.summary.blocking, 2);
        let blockers = finalize_blockers(&v, &"API_AND_CONFIG_MAP".into(), None, &[]);
        assert_eq!(blockers.len(), 2, "{blockers:#?}");
        assert!(blockers[0].starts_with(
            "mapRoles#1 (arn:aws:iam::111122223333:role/mon) is lossy: system-group-not-allowed: "
        ));
        assert!(
            blockers[1].starts_with("mapAccounts#1 (account 444455556666) is gap: map-accounts: ")
        );

        // Accepting only one leaves the other blocking.
        let one = verify(
            &plan,
            &BTreeMap::new(),
            Some(CALLER),
            &["mapAccounts#1".parse().unwrap()],
        )
        .unwrap();
        assert!(!one.parity);
        assert_eq!(one.summary.accepted, 1);
        let both = verify(
            &plan,
            &BTreeMap::new(),
            Some(CALLER),
            &parse_row_ids(&["mapRoles#1,mapAccounts#1".into()]).unwrap(),
        )
        .unwrap();
        assert!(both.parity);
        assert!(finalize_blockers(&both, &"API_AND_CONFIG_MAP".into(), None, &[]).is_empty());

        // An id that is not a gap, or no row, is refused.
        let err = verify(
            &plan,
            &BTreeMap::new(),
            Some(CALLER),
            &["mapRoles#2".parse().unwrap()],
        )
        .unwrap_err();
        assert!(err.contains("aws-auth has no such row"), "{err}");
    }

    /// Rows that match a caller today and that no entry can carry are
    /// lossy (never ignored), named with what they lose, and block until
    /// accepted; the assumed-role row, which matches no one, is ignored.
    #[test]
    fn root_and_federated_rows_are_lossy_not_ignored() {
        let users = "- userarn: arn:aws:iam::111122223333:root\n  username: root-admin\n  groups: [system:masters]\n- userarn: arn:aws:sts::111122223333:federated-user/alice\n  username: alice\n  groups: [devs]\n- userarn: arn:aws:sts::111122223333:assumed-role/admin/bob\n  username: bob\n";
        let plan = plan_of("", users, "", vec![admin(CALLER)]);
        let v = verify(&plan, &BTreeMap::new(), Some(CALLER), &[]).unwrap();
        let root = row(&v, "mapUsers#1");
        assert_eq!(root.status, RowStatus::Lossy);
        assert_eq!(root.code.as_deref(), Some("root-user"));
        assert!(root
            .detail
            .contains("username \"root-admin\" and groups system:masters"));
        assert!(!root.prunable);
        let fed = row(&v, "mapUsers#2");
        assert_eq!(fed.status, RowStatus::Lossy);
        assert_eq!(fed.code.as_deref(), Some("federated-user"));
        let sts = row(&v, "mapUsers#3");
        assert_eq!(sts.status, RowStatus::Ignored);
        assert_eq!(sts.code.as_deref(), Some("sts-arn"));
        assert!(!v.parity);
        assert_eq!(v.summary.lossy, 2);
        assert_eq!(v.summary.blocking, 2);
        let blockers = finalize_blockers(&v, &"API_AND_CONFIG_MAP".into(), None, &[]);
        assert_eq!(blockers.len(), 2, "{blockers:#?}");
        assert!(blockers[0]
            .starts_with("mapUsers#1 (arn:aws:iam::111122223333:root) is lossy: root-user: "));
        let accepted = verify(
            &plan,
            &BTreeMap::new(),
            Some(CALLER),
            &parse_row_ids(&["mapUsers#1,mapUsers#2".into()]).unwrap(),
        )
        .unwrap();
        assert!(accepted.parity);
        assert!(finalize_blockers(&accepted, &"API_AND_CONFIG_MAP".into(), None, &[]).is_empty());
    }

    /// The audit of docs/mapping-rules.md ("Which rows match a caller
    /// today"): one row per reason, what the plan says and what verify
    /// concludes. `ignored` only for rows the authenticator never matches.
    #[test]
    fn audit_every_reason_against_the_authenticator() {
        let roles = "\
- rolearn: arn:aws:iam::111122223333:role/admin
  sso: {permissionSetName: Admin, accountID: \"111122223333\"}
- username: nobody
- rolearn: arn:iam:bob
- rolearn: arn:aws:sts::111122223333:assumed-role/admin/bob
- rolearn: arn:aws:iam::111122223333:role/team/x
- rolearn: arn:aws:iam::111122223333:role/AWSServiceRoleForAmazonEMRContainers
  username: emr-containers
- rolearn: arn:aws:iam::999988887777:role/nodes
  username: system:node:{{EC2PrivateDNSName}}
  groups: [system:bootstrappers, system:nodes]
- rolearn: arn:aws:iam::111122223333:role/dup
  username: old
- rolearn: arn:aws:iam::111122223333:role/DUP
  username: new
- rolearn: arn:aws:iam::111122223333:role/mon
  username: mon
  groups: [system:monitoring]
";
        let users = "\
- userarn: arn:aws:iam::111122223333:root
  username: root-admin
  groups: [system:masters]
- userarn: arn:aws:sts::111122223333:federated-user/alice
  username: alice
- userarn: arn:aws:iam::111122223333:user/Bob
  username: b1
- userarn: arn:aws:iam::111122223333:user/bob
  username: b2
";
        let extra = "  mapAccounts: |\n    - \"444455556666\"\n";
        let plan = plan_of(roles, users, extra, vec![admin(CALLER)]);
        let v = verify(&plan, &BTreeMap::new(), Some(CALLER), &[]).unwrap();
        let expect = [
            ("mapRoles#1", "sso-block", RowStatus::Ignored),
            ("mapRoles#2", "missing-arn", RowStatus::Ignored),
            ("mapRoles#3", "invalid-arn", RowStatus::Ignored),
            ("mapRoles#4", "sts-arn", RowStatus::Ignored),
            ("mapRoles#5", "role-arn-has-path", RowStatus::Ignored),
            ("mapRoles#6", "service-linked-role", RowStatus::Gap),
            ("mapRoles#7", "cross-account-node-role", RowStatus::Gap),
            ("mapRoles#8", "duplicate", RowStatus::Superseded),
            ("mapRoles#9", "no-entry", RowStatus::Gap),
            ("mapRoles#10", "system-group-not-allowed", RowStatus::Lossy),
            ("mapUsers#1", "root-user", RowStatus::Lossy),
            ("mapUsers#2", "federated-user", RowStatus::Lossy),
            ("mapUsers#3", "duplicate", RowStatus::Superseded),
            ("mapUsers#4", "ambiguous-duplicate", RowStatus::Lossy),
            ("mapAccounts#1", "map-accounts", RowStatus::Gap),
        ];
        for (id, code, status) in expect {
            let r = row(&v, id);
            assert_eq!(
                (r.code.as_deref(), r.status),
                (Some(code), status),
                "{id}: {}",
                r.detail
            );
            if status == RowStatus::Ignored {
                assert!(
                    plan.mappings
                        .iter()
                        .filter(|m| RowId::of(m).to_string() == id)
                        .all(matches_no_one),
                    "{id}"
                );
            } else {
                assert!(!r.detail.contains("matches no one"), "{id}: {}", r.detail);
            }
        }
        assert_eq!(v.rows.len(), expect.len());

        // A section the authenticator cannot load: ignored as a whole.
        let broken = plan_of(
            "- rolearn: arn:aws:iam::111122223333:role/x\n  username: {{SessionName}}\n",
            "",
            "",
            vec![],
        );
        let v = verify(&broken, &BTreeMap::new(), Some(CALLER), &[]).unwrap();
        let r = row(&v, "mapRoles");
        assert_eq!(r.status, RowStatus::Ignored);
        assert_eq!(r.code.as_deref(), Some("section-unparseable"));
    }

    /// IGNORED is decided from the row, not only from the plan's reason: a
    /// row whose ARN some caller can match is a gap whatever code it has.
    #[test]
    fn an_ignore_code_on_a_row_that_matches_is_a_gap() {
        let users = "- userarn: arn:aws:iam::111122223333:root\n  username: r\n- userarn: arn:aws:iam::111122223333:user/u\n  username: u\n";
        let mut plan = plan_of("", users, "", vec![admin(CALLER)]);
        // A plan from a tool that called these rows dead.
        for m in plan.mappings.iter_mut() {
            m.reasons = vec![super::super::reason::Reason::new(
                Code::InvalidArn,
                "matches no one",
            )];
        }
        plan.entries.clear();
        let v = verify(&plan, &BTreeMap::new(), Some(CALLER), &[]).unwrap();
        for id in ["mapUsers#1", "mapUsers#2"] {
            assert_eq!(row(&v, id).status, RowStatus::Gap, "{id}");
            assert_eq!(row(&v, id).code.as_deref(), Some("invalid-arn"));
        }
        assert_eq!(v.summary.ignored, 0);
        assert!(!v.parity);
    }

    /// User ARNs match case-insensitively (strings.EqualFold): a superseded
    /// case variant of a migrated user goes with it.
    #[test]
    fn user_case_variants_are_pruned_with_the_migrated_one() {
        let users = "- userarn: arn:aws:iam::111122223333:user/Bob\n  username: bob\n  groups: [devs]\n- userarn: arn:aws:iam::111122223333:user/bob\n  username: bob\n  groups: [devs]\n";
        let existing = vec![standard(
            "arn:aws:iam::111122223333:user/bob",
            Some("bob"),
            &["devs"],
        )];
        let plan = plan_of("", users, "", existing);
        let v = verify(&plan, &BTreeMap::new(), Some(CALLER), &[]).unwrap();
        assert_eq!(row(&v, "mapUsers#1").status, RowStatus::Superseded);
        assert_eq!(row(&v, "mapUsers#2").status, RowStatus::Migrated);
        assert!(row(&v, "mapUsers#1").prunable);
    }

    #[test]
    fn duplicates_of_a_migrated_principal_are_pruned_with_it() {
        let roles = "- rolearn: arn:aws:iam::111122223333:role/dev\n  username: old\n  groups: [old]\n- rolearn: arn:aws:iam::111122223333:role/DEV\n  username: dev\n  groups: [devs]\n";
        let existing = vec![standard(
            "arn:aws:iam::111122223333:role/DEV",
            Some("dev"),
            &["devs"],
        )];
        let plan = plan_of(roles, "", "", existing);
        let v = verify(&plan, &BTreeMap::new(), Some(CALLER), &[]).unwrap();
        let first = row(&v, "mapRoles#1");
        assert_eq!(first.status, RowStatus::Superseded);
        assert!(first.prunable);
        assert!(row(&v, "mapRoles#2").prunable);
        // Superseded rows are not gaps.
        assert_eq!(v.summary.blocking, 0);
    }

    #[test]
    fn orphans_and_compute_roles() {
        let gone = "arn:aws:iam::111122223333:role/gone";
        let existing = vec![standard(gone, None, &["x"]), admin(CALLER)];
        let plan = plan_of("", "", "", existing.clone());
        let lookups = BTreeMap::from([
            (gone.to_string(), Lookup::NotFound),
            (CALLER.to_string(), Lookup::Found { arn: CALLER.into() }),
        ]);
        let v = verify(&plan, &lookups, Some(CALLER), &[]).unwrap();
        assert_eq!(v.orphan_entries.len(), 1);
        assert_eq!(v.orphan_entries[0].principal_arn, gone);
        assert!(v.parity);
        let swapped = vec![(
            "arn:aws:iam::111122223333:role/ng".to_string(),
            "managed node group ng-1".to_string(),
        )];
        let missing = compute_roles_without_entry(&swapped, &existing);
        assert_eq!(missing, swapped);
        let mut with_node = existing.clone();
        with_node.push(node("arn:aws:iam::111122223333:role/NG"));
        assert!(compute_roles_without_entry(&swapped, &with_node).is_empty());
        let b = finalize_blockers(&v, &"API_AND_CONFIG_MAP".into(), Some("u-1"), &missing);
        assert_eq!(
            b,
            vec![
                "cluster update u-1 is in progress: wait for it to finish".to_string(),
                "managed node group ng-1 uses role arn:aws:iam::111122223333:role/ng, which has no node-type access entry: its nodes or pods could not join in API mode".to_string(),
            ]
        );
        assert_eq!(
            finalize_blockers(&v, &"CONFIG_MAP".into(), None, &[]).len(),
            1
        );
    }
}
