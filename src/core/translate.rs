//! From aws-auth rows to access entries: the mapping rules of
//! docs/mapping-rules.md. Pure: no I/O, no clock.

use std::collections::BTreeMap;

use super::arn::{self, ArnClass, PrincipalArn, PrincipalKind};
use super::aws_auth::{AwsAuth, Row, SectionStatus};
use super::input::Section;
use super::plan::{Action, Entry, EntryType, Fidelity, Mapping, Outcome};
use super::policy::{self, merge_association, AccessScope, PolicyAssociation};
use super::policy_map::PolicyMap;
use super::reason::{Code, Reason, Severity};

pub const EC2_NODE_USERNAME: &str = "system:node:{{EC2PrivateDNSName}}";
pub const SESSION_NODE_USERNAME: &str = "system:node:{{SessionName}}";
pub const RESERVED_USERNAME_PREFIXES: [&str; 5] = ["system:", "eks:", "aws:", "amazon:", "iam:"];

#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The cluster's account; inferred from the ARNs when `None`.
    pub account: Option<String>,
    /// The cluster's partition; inferred from the ARNs when `None`.
    pub partition: Option<String>,
    pub allow_lossy: bool,
    pub policy_map: PolicyMap,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Translation {
    pub mappings: Vec<Mapping>,
    pub entries: Vec<Entry>,
    pub account: Option<String>,
    pub partition: String,
    pub account_source: String,
    pub notices: Vec<String>,
}

pub fn translate(auth: &AwsAuth, opts: &Options) -> Translation {
    let mut notices = Vec::new();
    let (account, account_source) = match &opts.account {
        Some(a) => (Some(a.clone()), "flag".to_string()),
        None => {
            let a = infer_account(auth);
            if let Some((acct, others)) = &a {
                if *others {
                    notices.push(format!(
                        "the ARNs name several accounts; the cluster's account is taken to be {acct} (most node roles). Pass --account to say which"
                    ));
                }
            }
            (a.map(|(acct, _)| acct), "inferred".to_string())
        }
    };
    let partition = opts
        .partition
        .clone()
        .unwrap_or_else(|| infer_partition(auth));
    let ctx = Ctx {
        account: account.clone(),
        partition: partition.clone(),
        opts,
    };

    let mut mappings = Vec::new();
    // Unreadable sections first, where a reviewer looks.
    for s in &auth.sections {
        if s.status == SectionStatus::Unparseable {
            mappings.push(Mapping {
                section: s.section,
                index: None,
                line: s.line,
                arn: None,
                account: None,
                username: None,
                groups: Vec::new(),
                outcome: Outcome::Skip,
                reasons: vec![Reason::new(
                    Code::SectionUnparseable,
                    format!(
                        "the authenticator ignores all of {} today: {}",
                        s.section,
                        s.error.as_deref().unwrap_or("it cannot be read")
                    ),
                )],
            });
        }
    }

    // Rows that can match a caller, grouped by what the authenticator
    // matches on (the lowercased ARN), in input order.
    let mut groups: BTreeMap<String, Vec<(usize, &Row, Target)>> = BTreeMap::new();
    let mut group_order: Vec<String> = Vec::new();
    for row in &auth.rows {
        let mi = mappings.len();
        let mut mapping = Mapping {
            section: row.section,
            index: Some(row.index),
            line: row.line,
            arn: (row.section != Section::MapAccounts).then(|| row.arn.clone()),
            account: row.account.clone(),
            username: (!row.username.is_empty()).then(|| row.username.clone()),
            groups: row.groups.clone(),
            outcome: Outcome::Skip,
            reasons: row.notes.clone(),
        };
        match eligibility(row) {
            Err(reason) => mapping.reasons.push(reason),
            Ok(target) => {
                let key = target.key();
                if !groups.contains_key(&key) {
                    group_order.push(key.clone());
                }
                groups.entry(key).or_default().push((mi, row, target));
            }
        }
        mappings.push(mapping);
    }

    let mut entries = Vec::new();
    for key in group_order {
        let Some(members) = groups.get(&key) else {
            continue;
        };
        // Roles are tried before users; within mapRoles the last row wins
        // (pkg/mapper/configmap/mapper.go Map; configmap.go saveMap).
        let role_rows: Vec<&(usize, &Row, Target)> = members
            .iter()
            .filter(|(_, r, _)| r.section == Section::MapRoles)
            .collect();
        let Some(&(winner, winner_row, ref winner_target)) =
            role_rows.last().copied().or(members.last())
        else {
            continue;
        };
        let mut extra = Vec::new();
        if role_rows.is_empty() {
            // mapUsers keeps exact-ARN keys: case variants are separate rows,
            // all matching (strings.EqualFold), and which one is used is not
            // determined (Go map order).
            let mut last_per_arn: BTreeMap<&str, &Row> = BTreeMap::new();
            for (_, r, _) in members {
                last_per_arn.insert(r.arn.as_str(), r);
            }
            if last_per_arn.len() > 1 {
                let w = winner_row;
                let differ = last_per_arn
                    .values()
                    .any(|r| r.username != w.username || r.groups != w.groups);
                if differ {
                    extra.push(Reason::new(
                        Code::AmbiguousDuplicate,
                        format!(
                            "mapUsers has {} spellings of this ARN with different access; which one the authenticator uses is not determined. The last row is planned",
                            last_per_arn.len()
                        ),
                    ));
                }
            }
        }
        for (mi, _, _) in members {
            if *mi == winner {
                continue;
            }
            let w = winner_row;
            mappings[*mi].reasons.push(Reason::new(
                Code::Duplicate,
                format!(
                    "superseded by {} row {}{}: the authenticator uses one row per principal",
                    w.section,
                    w.index + 1,
                    w.line.map(|l| format!(" (line {l})")).unwrap_or_default()
                ),
            ));
        }
        let winner_principal = match winner_target {
            Target::Principal(p) => p,
            Target::Unholdable { reason, .. } => {
                // Matches today, no entry can carry it: lossy, no entry.
                mappings[winner].reasons.extend(extra);
                mappings[winner].reasons.push(reason.clone());
                continue;
            }
        };
        match ctx.entry_for(winner_row, winner_principal) {
            Err(reason) => mappings[winner].reasons.push(reason),
            Ok(mut entry) => {
                entry.reasons.splice(0..0, extra);
                finish(&mut entry, opts.allow_lossy);
                entry.from = vec![winner];
                mappings[winner]
                    .reasons
                    .extend(entry.reasons.iter().cloned());
                if entry.action != Action::Skip {
                    mappings[winner].outcome = Outcome::Migrate;
                }
                entries.push(entry);
            }
        }
    }

    Translation {
        mappings,
        entries,
        account,
        partition,
        account_source,
        notices,
    }
}

/// Sets fidelity and the offline action from the reasons.
pub fn finish(entry: &mut Entry, allow_lossy: bool) {
    entry.fidelity = if entry.reasons.iter().any(|r| r.severity == Severity::Lossy) {
        Fidelity::Lossy
    } else {
        Fidelity::Exact
    };
    entry.action = if entry.fidelity == Fidelity::Lossy && !allow_lossy {
        Action::Skip
    } else {
        Action::Create
    };
}

/// What a row that can match a caller today names.
enum Target {
    /// An IAM role or user: an access entry can carry it.
    Principal(PrincipalArn),
    /// A caller no access entry can name (the account root, a federated
    /// user), with the lossy reason that says what it loses.
    Unholdable { key: String, reason: Reason },
}

impl Target {
    fn key(&self) -> String {
        match self {
            Target::Principal(p) => p.match_key(),
            Target::Unholdable { key, .. } => key.clone(),
        }
    }
}

/// What the row gives its caller today, for the reasons of rows that lose it.
fn access_of(row: &Row) -> String {
    let username = if row.username.is_empty() {
        "an empty username".to_string()
    } else {
        format!("username {:?}", row.username)
    };
    let groups: Vec<&str> = row
        .groups
        .iter()
        .map(|g| g.as_str())
        .filter(|g| !g.is_empty())
        .collect();
    if groups.is_empty() {
        format!("{username} and no groups")
    } else {
        format!("{username} and groups {}", groups.join(", "))
    }
}

const KEEP_ACCESS: &str = "To keep this access, map the person to an IAM role (or user) and give that an access entry, or keep aws-auth: stay in API_AND_CONFIG_MAP. finalize refuses to switch to API mode until --accept-gaps names this row.";

/// Whether a row names a caller the authenticator can match today (and
/// whether EKS can hold it); the reason when it matches no one or is
/// dropped. Checked against aws-iam-authenticator: docs/mapping-rules.md
/// ("Which rows match a caller today") lists the source lines.
fn eligibility(row: &Row) -> Result<Target, Reason> {
    if row.section == Section::MapAccounts {
        let account = row.account.as_deref().unwrap_or("");
        return Err(Reason::new(
            Code::MapAccounts,
            format!(
                "every principal of account {account} that matches no row is authenticated with its ARN as username and no groups; access entries have no account-wide form: add entries for the principals that need access"
            ),
        ));
    }
    if row.sso && !row.arn.is_empty() {
        return Err(Reason::new(
            Code::SsoBlock,
            "the row has both rolearn and sso: the authenticator drops it",
        ));
    }
    if row.sso {
        return Err(Reason::new(
            Code::SsoBlock,
            "sso mappings are an alpha feature that is off on EKS: the authenticator drops the row; map the permission set's role ARN instead",
        ));
    }
    if row.arn.is_empty() {
        let field = if row.section == Section::MapRoles {
            "rolearn"
        } else {
            "userarn"
        };
        return Err(Reason::new(
            Code::MissingArn,
            format!("the row has no {field}: the authenticator drops it"),
        ));
    }
    let arn = row.arn.as_str();
    match arn::classify(arn) {
        ArnClass::Invalid(why) => Err(Reason::new(
            Code::InvalidArn,
            format!(
                "{:?} is not the ARN of an IAM role, user, account root or federated user ({why}): no caller's ARN can equal it, so it matches no one today",
                row.arn
            ),
        )),
        ArnClass::AssumedRole { .. } => Err(Reason::new(
            Code::StsArn,
            "an STS assumed-role ARN never matches: the authenticator turns a caller's session into its role's ARN (arn:P:iam::ACCOUNT:role/NAME) before matching, and EKS refuses session ARNs as principals; use the role's IAM ARN",
        )),
        ArnClass::Root { .. } => Ok(Target::Unholdable {
            reason: Reason::new(
            Code::RootUser,
            format!(
                "the account root ({arn}) matches this row today: the authenticator accepts a root caller with that ARN and looks it up like any other, so it gets {}. The tool creates no access entry for it: EKS documents STANDARD entries for \"every IAM principal type\" without naming the root user, and using the root user for everyday work is against IAM practice. {KEEP_ACCESS}",
                access_of(row)
            ),
            ),
            key: arn.to_lowercase(),
        }),
        ArnClass::FederatedUser { .. } => Ok(Target::Unholdable {
            reason: Reason::new(
            Code::FederatedUser,
            format!(
                "a federated user (sts:GetFederationToken, {arn}) matches this row today: the authenticator keeps federated-user ARNs as they are, so it gets {}. No access entry can carry it: EKS refuses STS principals (\"The principalArn parameter format is not valid\"). {KEEP_ACCESS}",
                access_of(row)
            ),
            ),
            key: arn.to_lowercase(),
        }),
        ArnClass::Principal(p) if p.kind == PrincipalKind::Role && p.has_path() => {
            Err(Reason::new(
                Code::RoleArnHasPath,
                format!(
                    "the authenticator matches roles without their path (a caller's session names only the role), so this row grants nothing today{}; write it as arn:{}:iam::{}:role/{} to give access",
                    if p.is_service_linked() {
                        " (a service-linked role: it cannot have an access entry either)"
                    } else {
                        ""
                    },
                    p.partition, p.account, p.name
                ),
            ))
        }
        ArnClass::Principal(p) if p.is_service_linked() => Err(Reason::new(
            Code::ServiceLinkedRole,
            "a service-linked role matches this row today, but it cannot have an access entry; its service manages its own access (keep this row until that service is migrated)",
        )),
        ArnClass::Principal(p) => Ok(Target::Principal(p)),
    }
}

struct Ctx<'a> {
    account: Option<String>,
    partition: String,
    opts: &'a Options,
}

enum NodeShape {
    Ec2Linux,
    Ec2Windows,
    Fargate,
    Hybrid,
}

impl Ctx<'_> {
    fn entry_for(&self, row: &Row, principal: &PrincipalArn) -> Result<Entry, Reason> {
        let mut entry = Entry {
            principal_arn: principal.to_string(),
            entry_type: EntryType::Standard,
            username: None,
            kubernetes_groups: Vec::new(),
            policies: Vec::new(),
            fidelity: Fidelity::Exact,
            reasons: Vec::new(),
            action: Action::Create,
            from: Vec::new(),
            diff: None,
        };
        if let Some(shape) = node_shape(row, principal) {
            return self.node_entry(row, principal, shape, entry);
        }
        if principal.is_sso_reserved() {
            entry.reasons.push(Reason::new(
                Code::NeedsIamResolution,
                "an IAM Identity Center role: its real ARN has a path (/aws-reserved/sso.amazonaws.com/...) that only IAM knows; a plan against the cluster resolves it",
            ));
        }
        self.groups(row, principal, &mut entry);
        self.username(row, principal, &mut entry);
        Ok(entry)
    }

    fn node_entry(
        &self,
        row: &Row,
        principal: &PrincipalArn,
        shape: NodeShape,
        mut entry: Entry,
    ) -> Result<Entry, Reason> {
        let (ty, allowed, what): (EntryType, &[&str], &str) = match shape {
            NodeShape::Ec2Linux => (
                EntryType::Ec2Linux,
                &["system:bootstrappers", "system:nodes"],
                "Linux EC2 node role",
            ),
            NodeShape::Ec2Windows => (
                EntryType::Ec2Windows,
                &[
                    "system:bootstrappers",
                    "system:nodes",
                    "eks:kube-proxy-windows",
                ],
                "Windows EC2 node role",
            ),
            NodeShape::Fargate => (
                EntryType::FargateLinux,
                &[
                    "system:bootstrappers",
                    "system:nodes",
                    "system:node-proxier",
                ],
                "Fargate pod execution role",
            ),
            NodeShape::Hybrid => (
                EntryType::HybridLinux,
                &["system:bootstrappers", "system:nodes"],
                "EKS Hybrid Nodes role",
            ),
        };
        if let Some(cluster_account) = &self.account {
            if &principal.account != cluster_account {
                return Err(Reason::new(
                    Code::CrossAccountNodeRole,
                    format!(
                        "a {what} of account {}, but the cluster is in {cluster_account}: EKS takes node entries only for roles of the cluster's account",
                        principal.account
                    ),
                ));
            }
        }
        entry.entry_type = ty;
        entry.reasons.push(Reason::new(
            Code::NodeRole,
            format!(
                "{what}: a {} entry, which gives the node identity and groups",
                ty.as_str()
            ),
        ));
        let extras: Vec<&String> = dedup(&row.groups)
            .into_iter()
            .filter(|g| {
                !allowed.contains(&g.as_str()) && *g != "system:authenticated" && !g.is_empty()
            })
            .collect();
        if !extras.is_empty() {
            entry.reasons.push(Reason::new(
                Code::NodeExtraGroups,
                format!(
                    "node entries carry no groups: {} would be lost",
                    extras
                        .iter()
                        .map(|g| g.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        Ok(entry)
    }

    fn groups(&self, row: &Row, principal: &PrincipalArn, entry: &mut Entry) {
        let rendered: Vec<String> = row
            .groups
            .iter()
            .map(|g| g.replace("{{AccountID}}", &principal.account))
            .collect();
        if rendered != row.groups {
            entry.reasons.push(Reason::new(
                Code::AccountIdRendered,
                format!(
                    "{{{{AccountID}}}} in groups rendered as {}",
                    principal.account
                ),
            ));
        }
        let groups = dedup(&rendered);
        let masters = groups.iter().any(|g| *g == "system:masters")
            && self.opts.policy_map.rule("system:masters").is_none();
        for group in groups {
            if group.is_empty() {
                entry.reasons.push(Reason::new(
                    Code::EmptyGroupDropped,
                    "an empty group name (a non-string in groups) grants nothing and is dropped",
                ));
                continue;
            }
            if let Some(rule) = self.opts.policy_map.rule(group) {
                match rule.associations(&self.partition) {
                    Ok(list) => {
                        for assoc in list {
                            merge_association(&mut entry.policies, assoc);
                        }
                    }
                    Err(e) => {
                        entry
                            .reasons
                            .push(Reason::new(Code::GroupTemplateUnsupported, e));
                        continue;
                    }
                }
                let kept = if rule.keep {
                    let name = rule.rename.clone().unwrap_or_else(|| group.clone());
                    push_unique(&mut entry.kubernetes_groups, name.clone());
                    format!("kept as group {name}")
                } else {
                    "not kept as a group".to_string()
                };
                let pols: Vec<String> = rule
                    .policies
                    .iter()
                    .map(|(p, s)| {
                        let name = match p {
                            super::policy_map::PolicyRef::Name(n) => n.as_str(),
                            super::policy_map::PolicyRef::Arn(a) => policy::short_name(a),
                        };
                        format!("{name} ({s})")
                    })
                    .collect();
                entry.reasons.push(Reason::new(
                    Code::GroupMapped,
                    format!(
                        "group {group} mapped by the policy map: {}{kept}",
                        if pols.is_empty() {
                            String::new()
                        } else {
                            format!("{}; ", pols.join(", "))
                        }
                    ),
                ));
                continue;
            }
            if group == "system:masters" {
                merge_association(
                    &mut entry.policies,
                    PolicyAssociation {
                        policy_arn: policy::policy_arn(&self.partition, policy::CLUSTER_ADMIN),
                        access_scope: AccessScope::cluster(),
                    },
                );
                entry.reasons.push(Reason::new(
                    Code::MastersToClusterAdmin,
                    "system:masters becomes AmazonEKSClusterAdminPolicy at cluster scope; the policy is enforced by EKS, so kubectl auth can-i --list does not show it and impersonation does not carry it",
                ));
                continue;
            }
            if group == "system:authenticated" {
                entry.reasons.push(Reason::new(
                    Code::SystemGroupDropped,
                    "system:authenticated is given to every authenticated user; nothing is lost",
                ));
                continue;
            }
            if group.starts_with("system:") {
                if masters {
                    entry.reasons.push(Reason::new(
                        Code::SystemGroupDropped,
                        format!("{group} is covered by cluster admin"),
                    ));
                } else {
                    entry.reasons.push(Reason::new(
                        Code::SystemGroupNotAllowed,
                        format!(
                            "{group}: EKS refuses groups starting with system:; map it with --policy-map (policies or a rename) to migrate this row"
                        ),
                    ));
                }
                continue;
            }
            if group.contains("{{") {
                entry.reasons.push(Reason::new(
                    Code::GroupTemplateUnsupported,
                    format!("{group}: access entries do not render templates in groups"),
                ));
                continue;
            }
            push_unique(&mut entry.kubernetes_groups, group.clone());
        }
    }

    fn username(&self, row: &Row, principal: &PrincipalArn, entry: &mut Entry) {
        let mut username = row.username.clone();
        if username.contains("{{AccountID}}") {
            username = username.replace("{{AccountID}}", &principal.account);
            entry.reasons.push(Reason::new(
                Code::AccountIdRendered,
                format!(
                    "{{{{AccountID}}}} in the username rendered as {}",
                    principal.account
                ),
            ));
        }
        if username.is_empty() {
            entry.reasons.push(Reason::new(
                Code::UsernameDefaulted,
                match principal.kind {
                    PrincipalKind::Role => {
                        "no username: EKS uses arn:…:sts::ACCOUNT:assumed-role/NAME/{{SessionName}}"
                    }
                    PrincipalKind::User => "no username: EKS uses the user's ARN",
                },
            ));
            return;
        }
        if let Some(prefix) = RESERVED_USERNAME_PREFIXES
            .iter()
            .find(|p| username.starts_with(*p))
        {
            entry.reasons.push(Reason::new(
                Code::UsernameReservedPrefix,
                format!(
                    "username {username:?}: EKS refuses usernames starting with {prefix}; the entry would get EKS's default username"
                ),
            ));
            return;
        }
        let mut rest = username.as_str();
        let mut offset = 0;
        while let Some(start) = rest.find("{{") {
            let Some(len) = rest[start..].find("}}") else {
                break;
            };
            let name = &rest[start + 2..start + len];
            match name {
                "SessionName" | "SessionNameRaw" => {
                    if !username[..offset + start].contains(':') {
                        entry.reasons.push(Reason::new(
                            Code::UsernameSessionColon,
                            format!(
                                "username {username:?}: EKS needs a ':' before {{{{{name}}}}} (for example \"sso:{{{{{name}}}}}\"); the entry would get EKS's default username and RBAC bound to the old name stops matching"
                            ),
                        ));
                        return;
                    }
                }
                _ => {
                    entry.reasons.push(Reason::new(
                        Code::UsernameTemplateUnsupported,
                        format!(
                            "username {username:?}: access entries do not render {{{{{name}}}}}; the entry would get EKS's default username"
                        ),
                    ));
                    return;
                }
            }
            offset += start + len + 2;
            rest = &username[offset..];
        }
        entry.username = Some(username);
    }
}

fn node_shape(row: &Row, principal: &PrincipalArn) -> Option<NodeShape> {
    if principal.kind != PrincipalKind::Role || !row.groups.iter().any(|g| g == "system:nodes") {
        return None;
    }
    let has = |g: &str| row.groups.iter().any(|x| x == g);
    match row.username.as_str() {
        EC2_NODE_USERNAME if has("eks:kube-proxy-windows") => Some(NodeShape::Ec2Windows),
        EC2_NODE_USERNAME => Some(NodeShape::Ec2Linux),
        SESSION_NODE_USERNAME if has("system:node-proxier") => Some(NodeShape::Fargate),
        SESSION_NODE_USERNAME => Some(NodeShape::Hybrid),
        _ => None,
    }
}

fn dedup(items: &[String]) -> Vec<&String> {
    let mut out: Vec<&String> = Vec::new();
    for i in items {
        if !out.contains(&i) {
            out.push(i);
        }
    }
    out
}

fn push_unique(list: &mut Vec<String>, item: String) {
    if !list.contains(&item) {
        list.push(item);
    }
}

/// The most frequent account among node roles (else among all principals),
/// and whether other accounts appear too.
fn infer_account(auth: &AwsAuth) -> Option<(String, bool)> {
    let mut node_counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut all_counts: BTreeMap<String, usize> = BTreeMap::new();
    for row in &auth.rows {
        if let ArnClass::Principal(p) = arn::classify(&row.arn) {
            *all_counts.entry(p.account.clone()).or_default() += 1;
            if node_shape(row, &p).is_some() {
                *node_counts.entry(p.account.clone()).or_default() += 1;
            }
        }
    }
    let counts = if node_counts.is_empty() {
        &all_counts
    } else {
        &node_counts
    };
    let best = counts
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
        .map(|(a, _)| a.clone())?;
    Some((best, all_counts.len() > 1))
}

fn infer_partition(auth: &AwsAuth) -> String {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for row in &auth.rows {
        if let Some((p, _)) = arn::partition_and_account(&row.arn) {
            *counts.entry(p).or_default() += 1;
        }
    }
    counts
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
        .map(|(p, _)| p)
        .unwrap_or_else(|| "aws".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::aws_auth;
    use crate::core::input::locate;
    use crate::core::policy::ScopeType;

    const A: &str = "111122223333";

    fn run(data: &str, opts: &Options) -> Translation {
        let auth = aws_auth::parse(&locate(data).expect("locates"));
        translate(&auth, opts)
    }

    fn roles(rows: &str) -> Translation {
        run(
            &format!("data:\n  mapRoles: |\n{}", indent(rows)),
            &Options::default(),
        )
    }

    fn indent(s: &str) -> String {
        s.lines().map(|l| format!("    {l}\n")).collect()
    }

    fn codes(reasons: &[Reason]) -> Vec<&'static str> {
        reasons.iter().map(|r| r.code.as_str()).collect()
    }

    fn only_entry(t: &Translation) -> &Entry {
        assert_eq!(t.entries.len(), 1, "{:#?}", t.entries);
        &t.entries[0]
    }

    #[test]
    fn linux_node_role() {
        let t = roles(&format!("- rolearn: arn:aws:iam::{A}:role/nodes\n  username: system:node:{{{{EC2PrivateDNSName}}}}\n  groups: [system:bootstrappers, system:nodes]"));
        let e = only_entry(&t);
        assert_eq!(e.entry_type, EntryType::Ec2Linux);
        assert_eq!(e.username, None);
        assert!(e.kubernetes_groups.is_empty() && e.policies.is_empty());
        assert_eq!(e.fidelity, Fidelity::Exact);
        assert_eq!(e.action, Action::Create);
        assert_eq!(codes(&e.reasons), vec!["node-role"]);
    }

    #[test]
    fn windows_fargate_hybrid_nodes() {
        let t = roles(&format!(
            "- rolearn: arn:aws:iam::{A}:role/win\n  username: system:node:{{{{EC2PrivateDNSName}}}}\n  groups: [system:bootstrappers, system:nodes, eks:kube-proxy-windows]\n\
             - rolearn: arn:aws:iam::{A}:role/fargate\n  username: system:node:{{{{SessionName}}}}\n  groups: [system:bootstrappers, system:nodes, system:node-proxier]\n\
             - rolearn: arn:aws:iam::{A}:role/hybrid\n  username: system:node:{{{{SessionName}}}}\n  groups: [system:bootstrappers, system:nodes]"
        ));
        let types: Vec<_> = t.entries.iter().map(|e| e.entry_type).collect();
        assert_eq!(
            types,
            vec![
                EntryType::Ec2Windows,
                EntryType::FargateLinux,
                EntryType::HybridLinux
            ]
        );
        assert!(t.entries.iter().all(|e| e.fidelity == Fidelity::Exact));
    }

    #[test]
    fn node_role_with_extra_groups_is_lossy() {
        let t = roles(&format!("- rolearn: arn:aws:iam::{A}:role/nodes\n  username: system:node:{{{{EC2PrivateDNSName}}}}\n  groups: [system:bootstrappers, system:nodes, monitoring]"));
        let e = only_entry(&t);
        assert_eq!(e.fidelity, Fidelity::Lossy);
        assert_eq!(e.action, Action::Skip);
        assert!(codes(&e.reasons).contains(&"node-extra-groups"));
    }

    #[test]
    fn cross_account_node_role_is_skipped() {
        let t = run(
            "data:\n  mapRoles: |\n    - rolearn: arn:aws:iam::999988887777:role/nodes\n      username: system:node:{{EC2PrivateDNSName}}\n      groups: [system:bootstrappers, system:nodes]\n",
            &Options { account: Some(A.into()), ..Options::default() },
        );
        assert!(t.entries.is_empty());
        assert_eq!(
            codes(&t.mappings[0].reasons),
            vec!["cross-account-node-role"]
        );
        assert_eq!(t.mappings[0].outcome, Outcome::Skip);
    }

    #[test]
    fn masters_becomes_cluster_admin_and_keeps_the_rest() {
        let t = run(
            &format!("data:\n  mapRoles: |\n    - rolearn: arn:aws-cn:iam::{A}:role/admin\n      username: admin\n      groups: [system:masters, ops, system:bootstrappers]\n"),
            &Options::default(),
        );
        let e = only_entry(&t);
        assert_eq!(e.entry_type, EntryType::Standard);
        assert_eq!(e.username.as_deref(), Some("admin"));
        assert_eq!(e.kubernetes_groups, vec!["ops"]);
        assert_eq!(e.policies.len(), 1);
        assert_eq!(
            e.policies[0].policy_arn,
            "arn:aws-cn:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
        );
        assert_eq!(e.policies[0].access_scope.scope_type, ScopeType::Cluster);
        assert_eq!(e.fidelity, Fidelity::Exact);
        assert_eq!(
            codes(&e.reasons),
            vec!["masters-to-cluster-admin", "system-group-dropped"]
        );
    }

    #[test]
    fn system_authenticated_is_dropped_losslessly() {
        let t = roles(&format!("- rolearn: arn:aws:iam::{A}:role/dev\n  username: dev\n  groups: [system:authenticated, devs]"));
        let e = only_entry(&t);
        assert_eq!(e.kubernetes_groups, vec!["devs"]);
        assert_eq!(e.fidelity, Fidelity::Exact);
        assert_eq!(codes(&e.reasons), vec!["system-group-dropped"]);
    }

    #[test]
    fn other_system_groups_make_the_row_lossy_unless_mapped() {
        let rows = format!(
            "- rolearn: arn:aws:iam::{A}:role/mon\n  username: mon\n  groups: [system:monitoring]"
        );
        let t = roles(&rows);
        let e = only_entry(&t);
        assert_eq!(e.fidelity, Fidelity::Lossy);
        assert_eq!(e.action, Action::Skip);
        assert_eq!(t.mappings[0].outcome, Outcome::Skip);
        assert_eq!(codes(&e.reasons), vec!["system-group-not-allowed"]);

        let lossy_ok = run(
            &format!("data:\n  mapRoles: |\n{}", indent(&rows)),
            &Options {
                allow_lossy: true,
                ..Options::default()
            },
        );
        assert_eq!(only_entry(&lossy_ok).action, Action::Create);

        let map = PolicyMap::parse("groups:\n  system:monitoring:\n    rename: monitoring\n    policies: [AmazonEKSViewPolicy]\n").unwrap();
        let mapped = run(
            &format!("data:\n  mapRoles: |\n{}", indent(&rows)),
            &Options {
                policy_map: map,
                ..Options::default()
            },
        );
        let e = only_entry(&mapped);
        assert_eq!(e.fidelity, Fidelity::Exact);
        assert_eq!(e.kubernetes_groups, vec!["monitoring"]);
        assert_eq!(short(&e.policies), vec!["AmazonEKSViewPolicy@cluster"]);
        assert_eq!(codes(&e.reasons), vec!["group-mapped"]);
    }

    fn short(p: &[PolicyAssociation]) -> Vec<String> {
        p.iter()
            .map(|p| format!("{}@{}", policy::short_name(&p.policy_arn), p.access_scope))
            .collect()
    }

    #[test]
    fn policy_map_overrides_masters_and_adds_policies_to_groups() {
        let map = PolicyMap::parse("groups:\n  system:masters:\n    policies: [AmazonEKSAdminPolicy]\n  viewers:\n    policies: [{policy: AmazonEKSViewPolicy, namespaces: [dev, \"team-*\"]}]\n    keep_group: false\n").unwrap();
        let t = run(
            &format!("data:\n  mapRoles: |\n    - rolearn: arn:aws:iam::{A}:role/a\n      username: a\n      groups: [system:masters, viewers]\n"),
            &Options { policy_map: map, ..Options::default() },
        );
        let e = only_entry(&t);
        assert!(e.kubernetes_groups.is_empty());
        assert_eq!(
            short(&e.policies),
            vec![
                "AmazonEKSAdminPolicy@cluster",
                "AmazonEKSViewPolicy@ns:dev,team-*"
            ]
        );
    }

    #[test]
    fn usernames_follow_eks_rules() {
        let cases = [
            ("system:admin", Some("username-reserved-prefix")),
            ("eks:thing", Some("username-reserved-prefix")),
            ("amazon:x", Some("username-reserved-prefix")),
            ("{{SessionName}}", Some("username-session-colon")),
            ("john{{SessionName}}", Some("username-session-colon")),
            ("jo:hn{{SessionName}}", None),
            ("sso:{{SessionNameRaw}}", None),
            ("key:{{AccessKeyID}}", Some("username-template-unsupported")),
            (
                "n:{{EC2PrivateDNSName}}",
                Some("username-template-unsupported"),
            ),
        ];
        for (username, code) in cases {
            let t = roles(&format!(
                "- rolearn: arn:aws:iam::{A}:role/r\n  username: \"{username}\"\n  groups: [g]"
            ));
            let e = only_entry(&t);
            match code {
                Some(c) => {
                    assert!(
                        codes(&e.reasons).contains(&c),
                        "{username}: {:?}",
                        e.reasons
                    );
                    assert_eq!(e.fidelity, Fidelity::Lossy, "{username}");
                    assert_eq!(e.username, None);
                }
                None => {
                    assert_eq!(e.fidelity, Fidelity::Exact, "{username}: {:?}", e.reasons);
                    assert_eq!(e.username.as_deref(), Some(username));
                }
            }
        }
    }

    #[test]
    fn account_id_is_rendered_from_the_principal() {
        let t = roles("- rolearn: arn:aws:iam::444455556666:role/r\n  username: \"admin:{{AccountID}}:{{SessionName}}\"\n  groups: [\"team-{{AccountID}}\"]");
        let e = only_entry(&t);
        assert_eq!(
            e.username.as_deref(),
            Some("admin:444455556666:{{SessionName}}")
        );
        assert_eq!(e.kubernetes_groups, vec!["team-444455556666"]);
        assert_eq!(e.fidelity, Fidelity::Exact);
        assert!(codes(&e.reasons).contains(&"account-id-rendered"));
    }

    #[test]
    fn missing_username_is_left_to_eks() {
        let t = roles(&format!(
            "- rolearn: arn:aws:iam::{A}:role/r\n  groups: [g]"
        ));
        let e = only_entry(&t);
        assert_eq!(e.username, None);
        assert_eq!(codes(&e.reasons), vec!["username-defaulted"]);
        assert_eq!(e.fidelity, Fidelity::Exact);
    }

    #[test]
    fn skipped_rows_say_why() {
        let t = run(
            &format!(
                "data:\n  mapRoles: |\n\
                 \x20   - rolearn: arn:aws:iam::{A}:role/AWSServiceRoleForAmazonEMRContainers\n      username: emr-containers\n\
                 \x20   - rolearn: arn:aws:iam::{A}:role/aws-service-role/emr-containers.amazonaws.com/AWSServiceRoleForAmazonEMRContainers\n      username: emr-containers\n\
                 \x20   - rolearn: arn:aws:iam::{A}:role/team/dev/x\n      username: x\n\
                 \x20   - rolearn: arn:aws:sts::{A}:assumed-role/admin/bob\n      username: bob\n\
                 \x20   - rolearn: arn:iam:bob\n\
                 \x20   - username: nobody\n\
                 \x20   - sso: {{permissionSetName: Admin, accountID: \"{A}\"}}\n      username: s\n\
                 \x20 mapAccounts: |\n    - \"{A}\"\n"
            ),
            &Options::default(),
        );
        assert!(t.entries.is_empty());
        let got: Vec<Vec<&str>> = t.mappings.iter().map(|m| codes(&m.reasons)).collect();
        assert_eq!(
            got,
            vec![
                vec!["service-linked-role"],
                vec!["role-arn-has-path"],
                vec!["role-arn-has-path"],
                vec!["sts-arn"],
                vec!["invalid-arn"],
                vec!["missing-arn"],
                vec!["sso-block"],
                vec!["map-accounts"],
            ]
        );
        assert!(t.mappings.iter().all(|m| m.outcome == Outcome::Skip));
    }

    #[test]
    fn root_and_federated_rows_are_lossy_without_an_entry() {
        let t = run(
            &format!(
                "data:\n  mapUsers: |\n\
                 \x20   - userarn: arn:aws:iam::{A}:root\n      username: root-admin\n      groups: [system:masters]\n\
                 \x20   - userarn: arn:aws-cn:sts::{A}:federated-user/alice\n      username: alice\n      groups: [devs]\n\
                 \x20   - userarn: arn:aws:sts::{A}:assumed-role/admin/bob\n      username: bob\n"
            ),
            // Even with --allow-lossy: no entry can name them.
            &Options {
                allow_lossy: true,
                ..Options::default()
            },
        );
        assert!(t.entries.is_empty(), "{:#?}", t.entries);
        let got: Vec<Vec<&str>> = t.mappings.iter().map(|m| codes(&m.reasons)).collect();
        assert_eq!(
            got,
            vec![vec!["root-user"], vec!["federated-user"], vec!["sts-arn"]]
        );
        assert!(t.mappings.iter().all(|m| m.outcome == Outcome::Skip));
        let root = &t.mappings[0].reasons[0];
        assert_eq!(root.severity, Severity::Lossy);
        assert!(
            root.message
                .contains("username \"root-admin\" and groups system:masters"),
            "{}",
            root.message
        );
        assert!(root.message.contains("API_AND_CONFIG_MAP"));
        assert!(!root.message.contains("matches no one"));
        let fed = &t.mappings[1].reasons[0];
        assert!(
            fed.message.contains("username \"alice\" and groups devs"),
            "{}",
            fed.message
        );
        assert!(fed.message.contains("EKS refuses STS principals"));
    }

    #[test]
    fn root_rows_are_deduplicated_like_other_principals() {
        // The authenticator compares case-insensitively (strings.EqualFold)
        // and tries mapRoles first: the mapRoles row is the one used.
        let t = run(
            &format!(
                "data:\n  mapRoles: |\n    - rolearn: arn:aws:iam::{A}:ROOT\n      username: via-roles\n  mapUsers: |\n    - userarn: arn:aws:iam::{A}:root\n      username: via-users\n"
            ),
            &Options::default(),
        );
        assert_eq!(codes(&t.mappings[0].reasons), vec!["root-user"]);
        assert!(t.mappings[0].reasons[0].message.contains("via-roles"));
        assert_eq!(codes(&t.mappings[1].reasons), vec!["duplicate"]);
    }

    #[test]
    fn unparseable_sections_are_reported() {
        let t = run("data:\n  mapRoles: |\n    - rolearn: x\n      username: {{SessionName}}\n  mapUsers: |\n    - userarn: arn:aws:iam::111122223333:user/u\n", &Options::default());
        assert_eq!(codes(&t.mappings[0].reasons), vec!["section-unparseable"]);
        assert_eq!(t.mappings[0].index, None);
        assert_eq!(t.entries.len(), 1);
    }

    #[test]
    fn role_duplicates_last_row_wins_case_insensitively() {
        let t = roles(&format!(
            "- rolearn: arn:aws:iam::{A}:role/Admin\n  username: first\n  groups: [a]\n- rolearn: arn:aws:iam::{A}:role/admin\n  username: second\n  groups: [b]"
        ));
        let e = only_entry(&t);
        assert_eq!(e.username.as_deref(), Some("second"));
        assert_eq!(e.from, vec![1]);
        assert_eq!(codes(&t.mappings[0].reasons), vec!["duplicate"]);
        assert_eq!(t.mappings[0].outcome, Outcome::Skip);
    }

    #[test]
    fn roles_win_over_users_and_user_case_variants_are_ambiguous() {
        let t = run(
            &format!(
                "data:\n  mapRoles: |\n    - rolearn: arn:aws:iam::{A}:user/u\n      username: via-roles\n  mapUsers: |\n    - userarn: arn:aws:iam::{A}:user/u\n      username: via-users\n    - userarn: arn:aws:iam::{A}:user/Bob\n      username: b1\n    - userarn: arn:aws:iam::{A}:user/bob\n      username: b2\n    - userarn: arn:aws:iam::{A}:user/bob\n      username: b3\n"
            ),
            &Options::default(),
        );
        assert_eq!(t.entries.len(), 2);
        assert_eq!(t.entries[0].username.as_deref(), Some("via-roles"));
        assert_eq!(codes(&t.mappings[1].reasons), vec!["duplicate"]);
        let bob = &t.entries[1];
        assert_eq!(bob.username.as_deref(), Some("b3"));
        assert!(codes(&bob.reasons).contains(&"ambiguous-duplicate"));
        assert_eq!(bob.fidelity, Fidelity::Lossy);
    }

    #[test]
    fn sso_roles_need_iam_resolution_offline() {
        let t = roles(&format!("- rolearn: arn:aws:iam::{A}:role/AWSReservedSSO_Admin_0123456789abcdef\n  username: \"sso:{{{{SessionName}}}}\"\n  groups: [system:masters]"));
        let e = only_entry(&t);
        assert!(codes(&e.reasons).contains(&"needs-iam-resolution"));
        assert_eq!(e.action, Action::Create);
    }

    #[test]
    fn wrong_typed_fields_carry_over_what_the_authenticator_sees() {
        let t = roles(&format!(
            "- rolearn: arn:aws:iam::{A}:role/r\n  username: yes\n  groups: [123, devs]"
        ));
        let e = only_entry(&t);
        assert_eq!(e.username, None);
        assert_eq!(e.kubernetes_groups, vec!["devs"]);
        assert!(codes(&t.mappings[0].reasons).contains(&"field-zeroed"));
        assert!(codes(&e.reasons).contains(&"empty-group-dropped"));
    }

    #[test]
    fn account_and_partition_are_inferred() {
        let t = run(
            "data:\n  mapRoles: |\n    - rolearn: arn:aws-us-gov:iam::222233334444:role/n\n      username: system:node:{{EC2PrivateDNSName}}\n      groups: [system:nodes]\n    - rolearn: arn:aws-us-gov:iam::555566667777:role/a\n      username: a\n",
            &Options::default(),
        );
        assert_eq!(t.account.as_deref(), Some("222233334444"));
        assert_eq!(t.partition, "aws-us-gov");
        assert_eq!(t.notices.len(), 1);
    }
}
