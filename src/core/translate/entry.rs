//! The access entry for a row that names an IAM role or user: node
//! entries for node roles, else groups (through the policy map) and the
//! username, each with the reasons of what changes.

use crate::core::arn::{PrincipalArn, PrincipalKind};
use crate::core::aws_auth::Row;
use crate::core::plan::{Action, Entry, EntryType, Fidelity};
use crate::core::policy::{self, merge_association, AccessScope, PolicyAssociation};
use crate::core::policy_map::{PolicyMap, PolicyRef};
use crate::core::reason::{Code, Reason};

pub const EC2_NODE_USERNAME: &str = "system:node:{{EC2PrivateDNSName}}";
pub const SESSION_NODE_USERNAME: &str = "system:node:{{SessionName}}";
pub const RESERVED_USERNAME_PREFIXES: [&str; 5] = ["system:", "eks:", "aws:", "amazon:", "iam:"];

/// What every entry of one translation shares: the cluster's account and
/// partition, and the policy map.
pub(super) struct Ctx<'a> {
    pub(super) account: Option<String>,
    pub(super) partition: String,
    pub(super) policy_map: &'a PolicyMap,
}

/// The kind of node a node role's row describes.
pub(super) enum NodeShape {
    Ec2Linux,
    Ec2Windows,
    Fargate,
    Hybrid,
}

impl Ctx<'_> {
    /// The entry for `row`, which names `principal`; the reason when no
    /// entry can carry it.
    pub(super) fn entry_for(&self, row: &Row, principal: &PrincipalArn) -> Result<Entry, Reason> {
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
            && self.policy_map.rule("system:masters").is_none();
        for group in groups {
            if group.is_empty() {
                entry.reasons.push(Reason::new(
                    Code::EmptyGroupDropped,
                    "an empty group name (a non-string in groups) grants nothing and is dropped",
                ));
                continue;
            }
            if let Some(rule) = self.policy_map.rule(group) {
                match rule.associations(&self.partition) {
                    Ok(list) => {
                        for assoc in list {
                            merge_association(&mut entry.policies, assoc);
                        }
                    }
                    Err(e) => {
                        entry
                            .reasons
                            .push(Reason::new(Code::GroupTemplateUnsupported, e.to_string()));
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
                            PolicyRef::Name(n) => n.as_str(),
                            PolicyRef::Arn(a) => policy::short_name(a),
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

/// The node a row describes, when it is a node role's row.
pub(super) fn node_shape(row: &Row, principal: &PrincipalArn) -> Option<NodeShape> {
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
