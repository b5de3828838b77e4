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

    // Rows that can match a principal, grouped by what the authenticator
    // matches on (the lowercased ARN), in input order.
    let mut groups: BTreeMap<String, Vec<(usize, &Row, PrincipalArn)>> = BTreeMap::new();
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
            Ok(principal) => {
                let key = principal.match_key();
                if !groups.contains_key(&key) {
                    group_order.push(key.clone());
                }
                groups.entry(key).or_default().push((mi, row, principal));
            }
        }
        mappings.push(mapping);
    }

    let mut entries = Vec::new();
    for key in group_order {
        let Some(members) = groups.get(&key) else {
            continue;
        };
        // Roles are tried before users; within mapRoles the last row wins.
        let role_rows: Vec<&(usize, &Row, PrincipalArn)> = members
            .iter()
            .filter(|(_, r, _)| r.section == Section::MapRoles)
            .collect();
        let Some(&(winner, winner_row, ref winner_principal)) =
            role_rows.last().copied().or(members.last())
        else {
            continue;
        };
        let mut extra = Vec::new();
        if role_rows.is_empty() {
            // mapUsers keeps exact-ARN keys: case variants are separate rows,
            // and which one matches is not determined.
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

/// Whether a row names a principal the authenticator can match today and
/// EKS can hold; the reason when it does not.
fn eligibility(row: &Row) -> Result<PrincipalArn, Reason> {
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
    match arn::classify(&row.arn) {
        ArnClass::Invalid(why) => Err(Reason::new(
            Code::InvalidArn,
            format!("{:?} is not an IAM role or user ARN ({why}): it matches no one today", row.arn),
        )),
        ArnClass::Sts { .. } => Err(Reason::new(
            Code::StsArn,
            "an STS session ARN never matches (the authenticator compares role ARNs) and EKS refuses it as a principal; use the role's IAM ARN",
        )),
        ArnClass::Principal(p) if p.is_service_linked() => Err(Reason::new(
            Code::ServiceLinkedRole,
            "a service-linked role cannot have an access entry; its service manages its own access (keep this row until that service is migrated)",
        )),
        ArnClass::Principal(p) if p.kind == PrincipalKind::Role && p.has_path() => {
            Err(Reason::new(
                Code::RoleArnHasPath,
                format!(
                    "the authenticator matches roles without their path, so this row grants nothing today; write it as arn:{}:iam::{}:role/{} to give access",
                    p.partition, p.account, p.name
                ),
            ))
        }
        ArnClass::Principal(p) => Ok(p),
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
