//! `--format terraform-module`: the `access_entries` input of
//! terraform-aws-eks (v20 and v21), as one file to drop into the root
//! module that calls it, `eks-access-entries.tf`:
//!
//! - `locals { migrated_access_entries = { ... } }`, keyed by entry name,
//!   for `access_entries = local.migrated_access_entries` in the module
//!   block (a local rather than a `module` block: the user's block holds
//!   far more than this, and a local merges with entries they already have);
//! - an `import {}` block for every entry and association that exists, at
//!   the module's addresses `module.eks.aws_eks_access_entry.this["<entry>"]`
//!   and `module.eks.aws_eks_access_policy_association.this["<entry>_<association>"]`.
//!
//! Import IDs are literal when the plan knows the cluster (Terraform 1.5),
//! else they use `var.cluster_name` (1.6).

use super::hcl::{self, Block, Body, Expr, Item, Piece};
use super::terraform::{describe, is_creator_like, left_out_comment, scope_object, shape};
use super::{ExportFile, TargetState};

/// The file this format writes.
pub(crate) const FILE: &str = "eks-access-entries.tf";
/// The local that holds the map.
pub(crate) const LOCAL: &str = "migrated_access_entries";
/// The module block's name the import addresses assume.
pub(crate) const MODULE: &str = "eks";

/// Renders the target state.
pub(crate) fn render(state: &TargetState) -> Vec<ExportFile> {
    vec![ExportFile {
        name: FILE.into(),
        text: hcl::print(&body(state)),
    }]
}

fn id(state: &TargetState, rest: String) -> Expr {
    match &state.cluster {
        Some(c) => Expr::Str(format!("{c}{rest}")),
        None => Expr::Template(vec![
            Piece::Ref("var.cluster_name".into()),
            Piece::Lit(rest),
        ]),
    }
}

/// The file as an HCL body (for [`super::check`]).
pub(crate) fn body(state: &TargetState) -> Body {
    let (shaped, extra) = shape(state);
    let creators: Vec<&str> = shaped
        .iter()
        .filter(|s| is_creator_like(s.entry))
        .map(|s| s.entry.name.as_str())
        .collect();
    let any_import = shaped
        .iter()
        .any(|s| s.entry.exists || s.associations.iter().any(|(a, _)| a.exists));
    let mut header = format!(
        "Access entries{} for terraform-aws-eks (v20: hashicorp/aws >= 5.34; v21: >= 6.0),\n\
         written by `aws-auth-migrate export --format terraform-module`.\n\
         \n\
         Layout: one file for the root module that calls terraform-aws-eks.\n\
         1. local.{LOCAL} is the module's access_entries map. In your module block set\n\
         \x20  access_entries = local.{LOCAL}\n\
         \x20  (or merge(local.{LOCAL}, {{ ... }}) with entries you already list).\n\
         2. Entries and associations that exist on the cluster have import blocks at the module's\n\
         \x20  addresses (associations are keyed \"<entry>_<association>\"), so terraform plan imports\n\
         \x20  them instead of creating them (no 409 ResourceInUseException). They assume the module block\n\
         \x20  is named \"{MODULE}\": replace module.{MODULE} if yours is not. Import blocks need Terraform >= {}.\n\
         3. Keep enable_cluster_creator_admin_permissions = false (the default): with true the module\n\
         \x20  adds its own cluster_creator entry for whoever runs terraform, which collides with an entry\n\
         \x20  listed here for the same principal.",
        state
            .cluster
            .as_deref()
            .map(|c| format!(" of EKS cluster {c:?}"))
            .unwrap_or_default(),
        if state.cluster.is_some() {
            "1.5 (literal ids)"
        } else {
            "1.6 (ids use var.cluster_name; declare it or replace it by the cluster's name)"
        }
    );
    if !creators.is_empty() {
        header.push_str(&format!(
            "\n\nThe cluster creator's entry is exported ({}: not in aws-auth, cluster admin):\n\
             set enable_cluster_creator_admin_permissions = false in the module block, or the module\n\
             manages it twice and terraform apply fails with 409 ResourceInUseException.",
            creators.join(", ")
        ));
    }
    if !state.live {
        header.push_str(
            "\n\nOffline plan: what exists on the cluster is not known, so there are no import blocks.\n\
             Export from the cluster (or from a live plan) to get them.",
        );
    }
    let mut out: Body = vec![hcl::comment(&header)];
    if let Some(c) = left_out_comment(state, &extra) {
        out.push(Item::Blank);
        out.push(c);
    }
    let mut map: Body = Vec::new();
    for (n, s) in shaped.iter().enumerate() {
        let e = s.entry;
        if n > 0 {
            map.push(Item::Blank);
        }
        let mut note = describe(e, state.live);
        if is_creator_like(e) {
            note.push_str("\nlikely the cluster creator's entry: keep enable_cluster_creator_admin_permissions = false");
        }
        for x in &s.notes {
            note.push('\n');
            note.push_str(x);
        }
        map.push(hcl::comment(&note));
        let mut fields = vec![
            Item::Attr("principal_arn".into(), Expr::str(e.principal_arn.clone())),
            Item::Attr("type".into(), Expr::str(e.entry_type.clone())),
        ];
        if let Some(u) = s.username {
            fields.push(Item::Attr("user_name".into(), Expr::str(u)));
        }
        if !s.groups.is_empty() {
            fields.push(Item::Attr(
                "kubernetes_groups".into(),
                Expr::List(s.groups.iter().map(Expr::str).collect()),
            ));
        }
        if !s.associations.is_empty() {
            let assocs: Body = s
                .associations
                .iter()
                .map(|(a, key)| {
                    Item::Attr(
                        key.clone(),
                        Expr::Object(vec![
                            Item::Attr("policy_arn".into(), Expr::str(a.policy.policy_arn.clone())),
                            Item::Attr("access_scope".into(), Expr::Object(scope_object(a))),
                        ]),
                    )
                })
                .collect();
            fields.push(Item::Attr(
                "policy_associations".into(),
                Expr::Object(assocs),
            ));
        }
        map.push(Item::Attr(e.name.clone(), Expr::Object(fields)));
    }
    out.push(Item::Blank);
    out.push(Item::Block(Block::new(
        "locals",
        &[],
        vec![Item::Attr(LOCAL.into(), Expr::Object(map))],
    )));
    if any_import {
        out.push(Item::Blank);
        out.push(hcl::comment(
            "What exists already: imported into the module, not created.",
        ));
    }
    for s in &shaped {
        let e = s.entry;
        if e.exists {
            out.push(Item::Blank);
            out.push(import(
                format!(
                    "module.{MODULE}.aws_eks_access_entry.this[{}]",
                    hcl::quote(&e.name)
                ),
                id(state, format!(":{}", e.principal_arn)),
            ));
        }
        for (a, key) in s.associations.iter().filter(|(a, _)| a.exists) {
            out.push(Item::Blank);
            out.push(import(
                format!(
                    "module.{MODULE}.aws_eks_access_policy_association.this[{}]",
                    hcl::quote(&format!("{}_{key}", e.name))
                ),
                id(
                    state,
                    format!("#{}#{}", e.principal_arn, a.policy.policy_arn),
                ),
            ));
        }
    }
    out
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

#[cfg(test)]
#[path = "terraform_module_tests.rs"]
mod tests;
