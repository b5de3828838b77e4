//! The Kubernetes bootstrap RBAC objects (cluster-admin, admin, edit, view,
//! the aggregate-to-* roles, system:basic-user, system:discovery,
//! system:public-info-viewer and their bindings), served by a cluster whose
//! seed says `rbac: {bootstrap: true}`. The data is `bootstrap_rbac.yaml`, in
//! the seed's compact form; the file says where it comes from.

use std::sync::OnceLock;

use serde::Deserialize;

use crate::seed::{RbacBinding, RbacRole};

/// The bootstrap ClusterRoles and ClusterRoleBindings.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Bootstrap {
    pub cluster_roles: Vec<RbacRole>,
    pub cluster_role_bindings: Vec<RbacBinding>,
}

const TEXT: &str = include_str!("bootstrap_rbac.yaml");

/// The bootstrap objects, parsed once. The text is part of the emulator and
/// a unit test parses it, so a failure here is a bug in the build.
pub(crate) fn bootstrap() -> &'static Bootstrap {
    static PARSED: OnceLock<Bootstrap> = OnceLock::new();
    PARSED.get_or_init(|| parse().expect("emulator/src/bootstrap_rbac.yaml parses"))
}

fn parse() -> Result<Bootstrap, serde_yaml::Error> {
    serde_yaml::from_str(TEXT)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::RbacRule;

    #[test]
    fn the_bootstrap_objects_parse_and_are_the_ones_kubernetes_ships() {
        let b = parse().expect("parses");
        let names: Vec<&str> = b.cluster_roles.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "cluster-admin",
                "admin",
                "edit",
                "view",
                "system:aggregate-to-admin",
                "system:aggregate-to-edit",
                "system:aggregate-to-view",
                "system:basic-user",
                "system:discovery",
                "system:public-info-viewer"
            ]
        );
        let role = |n: &str| b.cluster_roles.iter().find(|r| r.name == n).expect(n);
        // Every role carries the bootstrapping label; the aggregated ones no rules.
        for r in &b.cluster_roles {
            assert_eq!(
                r.labels
                    .get("kubernetes.io/bootstrapping")
                    .map(String::as_str),
                Some("rbac-defaults"),
                "{}",
                r.name
            );
            assert_eq!(
                r.aggregate_from.is_empty(),
                !r.rules.is_empty(),
                "{}",
                r.name
            );
        }
        // The chain admin ← edit ← view, by label.
        assert_eq!(
            role("edit").labels["rbac.authorization.k8s.io/aggregate-to-admin"],
            "true"
        );
        assert_eq!(
            role("view").labels["rbac.authorization.k8s.io/aggregate-to-edit"],
            "true"
        );
        assert_eq!(
            role("view").aggregate_from[0]["rbac.authorization.k8s.io/aggregate-to-view"],
            "true"
        );
        assert_eq!(
            role("cluster-admin").rules,
            [
                RbacRule::new(&["*"], &["*"], &["*"]),
                RbacRule::urls(&["*"], &["*"])
            ]
        );
        let edit = &role("system:aggregate-to-edit").rules;
        assert_eq!(edit.len(), 13);
        assert!(edit.contains(&RbacRule::new(
            &[""],
            &["serviceaccounts/token"],
            &["create"]
        )));
        let view = &role("system:aggregate-to-view").rules;
        assert_eq!(view.len(), 10);
        assert!(!view.iter().any(|r| r.resources.contains(&"secrets".into())));
        let bindings: Vec<(&str, Vec<&str>)> = b
            .cluster_role_bindings
            .iter()
            .map(|x| {
                (
                    x.role_name.as_str(),
                    x.subjects.iter().map(|s| s.name.as_str()).collect(),
                )
            })
            .collect();
        assert_eq!(
            bindings,
            [
                ("cluster-admin", vec!["system:masters"]),
                ("system:basic-user", vec!["system:authenticated"]),
                ("system:discovery", vec!["system:authenticated"]),
                (
                    "system:public-info-viewer",
                    vec!["system:authenticated", "system:unauthenticated"]
                ),
            ]
        );
    }
}
