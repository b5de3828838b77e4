//! `--format terraform`: one file, `access-entries.tf`, with an
//! `aws_eks_access_entry` per entry and an
//! `aws_eks_access_policy_association` per association, the cluster as
//! `var.cluster_name`, and an `import {}` block beside every resource that
//! exists already (the provider's IDs: `CLUSTER:PRINCIPAL_ARN` and
//! `CLUSTER#PRINCIPAL_ARN#POLICY_ARN`). What gets no resource is a comment
//! saying why.
//!
//! The import IDs use `var.cluster_name`, so the file needs Terraform 1.6
//! (1.5's import blocks take only literal IDs; expressions came in 1.6).
//! Both resources came in hashicorp/aws 5.33.

use std::collections::BTreeSet;

use super::check::{
    is_policy_arn, is_principal_arn, reserved_prefix, scope_problem, NODE_TYPES, PROVIDER_TYPES,
};
use super::hcl::{self, Block, Body, Expr, Item, Piece};
use super::{ExportFile, TargetAssociation, TargetEntry, TargetState};
use crate::core::plan::Action;
use crate::core::policy::{short_name, ScopeType, CLUSTER_ADMIN};

/// The file this format writes.
pub(crate) const FILE: &str = "access-entries.tf";
pub(crate) const TERRAFORM_VERSION: &str = ">= 1.6.0";
pub(crate) const PROVIDER_VERSION: &str = ">= 5.33.0";

/// Renders the target state.
pub(crate) fn render(state: &TargetState) -> Vec<ExportFile> {
    vec![ExportFile {
        name: FILE.into(),
        text: hcl::print(&body(state)),
    }]
}

/// An entry as the Terraform formats write it: what is valid for the
/// provider, and notes (comments) on what was dropped.
pub(super) struct Shaped<'a> {
    pub(super) entry: &'a TargetEntry,
    pub(super) username: Option<&'a str>,
    pub(super) groups: &'a [String],
    /// (association, its key in the entry: `cluster_admin`).
    pub(super) associations: Vec<(&'a TargetAssociation, String)>,
    pub(super) notes: Vec<String>,
}

/// Shapes every entry the provider can hold; the others join `left_out`
/// as (what, why). Association keys are unique per entry and `<entry>_<key>`
/// is unique in the export (terraform-aws-eks keys its associations so).
pub(super) fn shape(state: &TargetState) -> (Vec<Shaped<'_>>, Vec<(String, String)>) {
    let mut shaped = Vec::new();
    let mut left_out: Vec<(String, String)> = Vec::new();
    let mut joined: BTreeSet<String> = BTreeSet::new();
    for e in &state.entries {
        if !is_principal_arn(&e.principal_arn) {
            left_out.push((
                e.principal_arn.clone(),
                "not an IAM role or user ARN the provider takes (or one with '#', which its import IDs cannot hold)".into(),
            ));
            continue;
        }
        if !PROVIDER_TYPES.contains(&e.entry_type.as_str()) {
            left_out.push((
                e.principal_arn.clone(),
                format!(
                    "type {} is not one the provider knows ({}): manage this entry outside Terraform",
                    e.entry_type,
                    PROVIDER_TYPES.join(", ")
                ),
            ));
            continue;
        }
        let node = NODE_TYPES.contains(&e.entry_type.as_str());
        // EKS sets the username and groups of node entries (and of Auto
        // Mode's EC2 ones) itself; both attributes are computed, so an
        // imported entry keeps them.
        let eks_sets = node || e.entry_type == "EC2";
        let mut notes = Vec::new();
        let username = match e.username.as_deref() {
            Some(_) if eks_sets && e.exists => None,
            Some(u) if eks_sets => {
                notes.push(format!(
                    "username {u:?} not written: a {} entry takes none",
                    e.entry_type
                ));
                None
            }
            Some(u) => match reserved_prefix(u) {
                Some(prefix) => {
                    notes.push(format!(
                        "username {u:?} not written: EKS refuses usernames starting with {prefix}; {}",
                        if e.exists {
                            "user_name is computed, so the imported entry keeps its own"
                        } else {
                            "EKS gives the entry its default username"
                        }
                    ));
                    None
                }
                None if u.is_empty() => None,
                None => Some(u),
            },
            None => None,
        };
        let groups: &[String] = if eks_sets { &[] } else { &e.kubernetes_groups };
        if eks_sets && !e.exists && !e.kubernetes_groups.is_empty() {
            notes.push(format!(
                "groups not written: a {} entry takes none",
                e.entry_type
            ));
        }
        let mut associations = Vec::new();
        let mut keys: BTreeSet<String> = BTreeSet::new();
        for a in &e.associations {
            let p = &a.policy;
            let why = if node {
                Some(format!("a {} entry takes no access policy", e.entry_type))
            } else if !is_policy_arn(&p.policy_arn) {
                Some("not an EKS access policy ARN".to_string())
            } else {
                let t = match p.access_scope.scope_type {
                    ScopeType::Cluster => "cluster",
                    ScopeType::Namespace => "namespace",
                };
                scope_problem(t, &p.access_scope.namespaces)
            };
            if let Some(why) = why {
                left_out.push((format!("{} {}", e.principal_arn, p.policy_arn), why));
                continue;
            }
            let base = policy_key(&p.policy_arn);
            let mut key = base.clone();
            let mut n = 2;
            while keys.contains(&key) || joined.contains(&format!("{}_{key}", e.name)) {
                key = format!("{base}_{n}");
                n += 1;
            }
            keys.insert(key.clone());
            joined.insert(format!("{}_{key}", e.name));
            associations.push((a, key));
        }
        shaped.push(Shaped {
            entry: e,
            username,
            groups,
            associations,
            notes,
        });
    }
    (shaped, left_out)
}

/// A readable key for a policy: `AmazonEKSClusterAdminPolicy` ->
/// `cluster_admin`, `AmazonEMRJobPolicy` -> `amazon_emr_job`.
pub(super) fn policy_key(arn: &str) -> String {
    let name: Vec<char> = short_name(arn).chars().collect();
    let mut snake = String::new();
    for (i, &c) in name.iter().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            let prev = name[i - 1];
            let next_lower = name.get(i + 1).is_some_and(char::is_ascii_lowercase);
            if prev.is_ascii_lowercase()
                || prev.is_ascii_digit()
                || (prev.is_ascii_uppercase() && next_lower)
            {
                snake.push('_');
            }
        }
        if c.is_ascii_alphanumeric() {
            snake.push(c.to_ascii_lowercase());
        } else if !snake.ends_with('_') {
            snake.push('_');
        }
    }
    let snake = snake.trim_matches('_');
    let short = snake.strip_suffix("_policy").unwrap_or(snake);
    let short = short.strip_prefix("amazon_eks_").unwrap_or(short);
    if short.starts_with(|c: char| c.is_ascii_alphabetic()) {
        short.to_string()
    } else {
        format!("policy_{short}")
    }
}

/// What the plan does about an entry, for its comment.
pub(super) fn describe(e: &TargetEntry, live: bool) -> String {
    let what = match e.action {
        Action::Create if live => "new: terraform apply creates it",
        Action::Create => {
            "from an offline plan: whether it exists is not known (if it does, import it first)"
        }
        Action::Update => {
            "exists and lacks part of what aws-auth grants: imported, then updated in place"
        }
        Action::Noop => "exists and matches aws-auth: imported",
        Action::Unmanaged => {
            "exists but aws-auth does not name it (the cluster creator, an EKS-made node entry or one made by hand): imported as it is"
        }
        Action::Conflict | Action::Skip => "",
    };
    format!("{} ({}): {what}", e.principal_arn, e.entry_type)
}

/// Likely the cluster creator's entry: not in aws-auth, a standard entry
/// with cluster-wide admin.
pub(super) fn is_creator_like(e: &TargetEntry) -> bool {
    e.action == Action::Unmanaged
        && e.entry_type == "STANDARD"
        && e.associations.iter().any(|a| {
            short_name(&a.policy.policy_arn) == CLUSTER_ADMIN
                && a.policy.access_scope.scope_type == ScopeType::Cluster
        })
}

pub(super) fn left_out_comment(state: &TargetState, extra: &[(String, String)]) -> Option<Item> {
    let mut rows: Vec<(String, String)> = state
        .left_out
        .iter()
        .map(|l| (l.what.clone(), l.why.clone()))
        .collect();
    rows.extend(extra.iter().cloned());
    if rows.is_empty() {
        return None;
    }
    let mut text = String::from(
        "Left out, no resource (the migration does not carry these over as they are):",
    );
    for (what, why) in rows {
        text.push_str(&format!("\n- {what}: {}", why.replace('\n', "\n  ")));
    }
    Some(hcl::comment(&text))
}

pub(super) fn scope_object(a: &TargetAssociation) -> Body {
    let s = &a.policy.access_scope;
    let mut body = vec![];
    match s.scope_type {
        ScopeType::Cluster => body.push(Item::Attr("type".into(), Expr::str("cluster"))),
        ScopeType::Namespace => {
            body.push(Item::Attr("type".into(), Expr::str("namespace")));
            body.push(Item::Attr(
                "namespaces".into(),
                Expr::List(s.namespaces.iter().map(Expr::str).collect()),
            ));
        }
    }
    body
}

fn cluster_id(rest: String) -> Expr {
    Expr::Template(vec![
        Piece::Ref("var.cluster_name".into()),
        Piece::Lit(rest),
    ])
}

fn import(to: String, id: Expr) -> Item {
    Item::Block(Block::new(
        "import",
        &[],
        vec![
            Item::Attr("to".into(), Expr::Ref(to)),
            Item::Attr("id".into(), id),
        ],
    ))
}

/// The file as an HCL body (for [`super::check`]).
pub(crate) fn body(state: &TargetState) -> Body {
    let (shaped, extra) = shape(state);
    let mut out: Body = Vec::new();
    let mut header = format!(
        "Access entries{}, written by `aws-auth-migrate export --format terraform`.\n\
         Needs Terraform {TERRAFORM_VERSION} (import blocks whose id uses var.cluster_name; 1.5 takes only literal ids)\n\
         and hashicorp/aws {PROVIDER_VERSION} (the first release with these resources).\n\
         Entries and associations that exist on the cluster have an import block beside them: terraform plan\n\
         imports them instead of creating them (no 409 ResourceInUseException).\n\
         If your configuration already declares the aws provider's requirement or a variable \"cluster_name\",\n\
         delete the duplicate below.",
        state
            .cluster
            .as_deref()
            .map(|c| format!(" of EKS cluster {c:?}"))
            .unwrap_or_default()
    );
    if !state.live {
        header.push_str(
            "\nOffline plan: what exists on the cluster is not known, so there are no import blocks.\n\
             Export from the cluster (or from a live plan) to get them.",
        );
    }
    out.push(hcl::comment(&header));
    out.push(Item::Blank);
    out.push(Item::Block(Block::new(
        "terraform",
        &[],
        vec![
            Item::Attr("required_version".into(), Expr::str(TERRAFORM_VERSION)),
            Item::Blank,
            Item::Block(Block::new(
                "required_providers",
                &[],
                vec![Item::Attr(
                    "aws".into(),
                    Expr::Object(vec![
                        Item::Attr("source".into(), Expr::str("hashicorp/aws")),
                        Item::Attr("version".into(), Expr::str(PROVIDER_VERSION)),
                    ]),
                )],
            )),
        ],
    )));
    out.push(Item::Blank);
    let mut var = vec![
        Item::Attr(
            "description".into(),
            Expr::str("Name of the EKS cluster that holds these access entries."),
        ),
        Item::Attr("type".into(), Expr::Ref("string".into())),
    ];
    if let Some(c) = &state.cluster {
        var.push(Item::Attr("default".into(), Expr::str(c.clone())));
    }
    out.push(Item::Block(Block::new("variable", &["cluster_name"], var)));
    if let Some(c) = left_out_comment(state, &extra) {
        out.push(Item::Blank);
        out.push(c);
    }
    for s in &shaped {
        let e = s.entry;
        let address = format!("aws_eks_access_entry.{}", e.name);
        out.push(Item::Blank);
        let mut note = describe(e, state.live);
        for n in &s.notes {
            note.push('\n');
            note.push_str(n);
        }
        out.push(hcl::comment(&note));
        if e.exists {
            out.push(import(
                address.clone(),
                cluster_id(format!(":{}", e.principal_arn)),
            ));
            out.push(Item::Blank);
        }
        let mut body = vec![
            Item::Attr("cluster_name".into(), Expr::Ref("var.cluster_name".into())),
            Item::Attr("principal_arn".into(), Expr::str(e.principal_arn.clone())),
            Item::Attr("type".into(), Expr::str(e.entry_type.clone())),
        ];
        if let Some(u) = s.username {
            body.push(Item::Attr("user_name".into(), Expr::str(u)));
        }
        if !s.groups.is_empty() {
            body.push(Item::Attr(
                "kubernetes_groups".into(),
                Expr::List(s.groups.iter().map(Expr::str).collect()),
            ));
        }
        out.push(Item::Block(Block::new(
            "resource",
            &["aws_eks_access_entry", &e.name],
            body,
        )));
        for (a, key) in &s.associations {
            let name = format!("{}_{key}", e.name);
            out.push(Item::Blank);
            if a.exists {
                out.push(import(
                    format!("aws_eks_access_policy_association.{name}"),
                    cluster_id(format!("#{}#{}", e.principal_arn, a.policy.policy_arn)),
                ));
                out.push(Item::Blank);
            }
            out.push(Item::Block(Block::new(
                "resource",
                &["aws_eks_access_policy_association", &name],
                vec![
                    Item::Attr("cluster_name".into(), Expr::Ref("var.cluster_name".into())),
                    Item::Attr("principal_arn".into(), Expr::str(e.principal_arn.clone())),
                    Item::Attr("policy_arn".into(), Expr::str(a.policy.policy_arn.clone())),
                    Item::Blank,
                    Item::Block(Block::new("access_scope", &[], scope_object(a))),
                    Item::Blank,
                    Item::Attr(
                        "depends_on".into(),
                        Expr::List(vec![Expr::Ref(address.clone())]),
                    ),
                ],
            )));
        }
    }
    out
}

#[cfg(test)]
#[path = "terraform_tests.rs"]
pub(crate) mod tests;
