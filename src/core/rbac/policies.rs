//! The rules of EKS access policies, as the EKS user guide publishes them
//! ("Review access policy permissions", docs/access-policies.md).
//!
//! Access policies are not cluster objects: nothing on a cluster says what
//! they grant, so the tool carries its own copy of the guide's tables, dated
//! ([`CHECKED`]) and pinned to the revision read ([`SOURCE`]). Each table
//! below is the guide's table row for row, in the guide's order: one
//! `PolicyRule` per row. Only a policy with a full rule table is published
//! here; one the guide describes in prose or merely lists is `None`, and the
//! analysis proves nothing about it.
//!
//! Transcription notes: the guide writes the core API group as an empty
//! cell (here `""`) and `*` as `{asterisk}`. Three cells carry markup slips
//! that are read as the evident names: ``` `get`,``list``, `watch` ``` (get,
//! list, watch), ``` ``pods/attach`` ``` (pods/attach) and
//! ``` r``esourcequotas/status`` ``` (resourcequotas/status).

use self::Row::{Res, Url};
use super::model::PolicyRule;

/// When the tables were last checked against the EKS user guide.
pub(crate) const CHECKED: &str = "2026-12-02";

/// The file and revision the tables were transcribed from.
pub(crate) const SOURCE: &str = "awsdocs/amazon-eks-user-guide \
     latest/ug/manage-access/k8s-access/access-policy-reference.adoc \
     at 145543a96a20b66b1e946cd818943e5aa7713f6c (its change log ends at \
     2025-11-06, AmazonEKSSecretReaderPolicy added); web page \
     docs.aws.amazon.com/eks/latest/userguide/access-policy-permissions.html";

/// The policies whose rules are published, in the guide's order.
const PUBLISHED: [&str; 7] = [
    "AmazonEKSAdminPolicy",
    "AmazonEKSClusterAdminPolicy",
    "AmazonEKSAdminViewPolicy",
    "AmazonEKSEditPolicy",
    "AmazonEKSViewPolicy",
    "AmazonEKSSecretReaderPolicy",
    "AmazonEKSHybridPolicy",
];

/// The short names of the policies whose rules the guide publishes.
pub(crate) fn published() -> &'static [&'static str] {
    &PUBLISHED
}

/// The rules of an access policy by short name; `None` when the EKS user
/// guide does not publish them (the analysis cannot prove anything about it).
pub(crate) fn rules_of(name: &str) -> Option<Vec<PolicyRule>> {
    table(name).map(|rows| rows.iter().map(Row::rule).collect())
}

fn table(name: &str) -> Option<&'static [Row]> {
    match name {
        "AmazonEKSAdminPolicy" => Some(ADMIN),
        "AmazonEKSClusterAdminPolicy" => Some(CLUSTER_ADMIN),
        "AmazonEKSAdminViewPolicy" => Some(ADMIN_VIEW),
        "AmazonEKSEditPolicy" => Some(EDIT),
        "AmazonEKSViewPolicy" => Some(VIEW),
        "AmazonEKSSecretReaderPolicy" => Some(SECRET_READER),
        "AmazonEKSHybridPolicy" => Some(HYBRID),
        _ => None,
    }
}

/// One cell of a table: a list of names.
type Cell = &'static [&'static str];

/// One row of a published table.
enum Row {
    /// Kubernetes API groups, resources, verbs.
    Res(Cell, Cell, Cell),
    /// Kubernetes nonResourceURLs, verbs.
    Url(Cell, Cell),
}

impl Row {
    fn rule(&self) -> PolicyRule {
        match self {
            Row::Res(groups, resources, verbs) => PolicyRule::resource(groups, resources, verbs),
            Row::Url(urls, verbs) => PolicyRule::urls(urls, verbs),
        }
    }
}

/// The guide's read verbs, as every table lists them.
const READ: Cell = &["get", "list", "watch"];
/// The guide's write verbs, as every table lists them.
const WRITE: Cell = &["create", "delete", "deletecollection", "patch", "update"];
const ANY: Cell = &["*"];
/// The core API group (an empty cell in the guide).
const CORE: Cell = &[""];

#[rustfmt::skip] // one row of the guide's table per line
const ADMIN: &[Row] = &[
    Res(&["apps"],                      &["daemonsets", "deployments", "deployments/rollback", "deployments/scale", "replicasets", "replicasets/scale", "statefulsets", "statefulsets/scale"], WRITE),
    Res(&["apps"],                      &["controllerrevisions", "daemonsets", "daemonsets/status", "deployments", "deployments/scale", "deployments/status", "replicasets", "replicasets/scale", "replicasets/status", "statefulsets", "statefulsets/scale", "statefulsets/status"], READ),
    Res(&["authorization.k8s.io"],      &["localsubjectaccessreviews"], &["create"]),
    Res(&["autoscaling"],               &["horizontalpodautoscalers"], WRITE),
    Res(&["autoscaling"],               &["horizontalpodautoscalers", "horizontalpodautoscalers/status"], READ),
    Res(&["batch"],                     &["cronjobs", "jobs"], WRITE),
    Res(&["batch"],                     &["cronjobs", "cronjobs/status", "jobs", "jobs/status"], READ),
    Res(&["discovery.k8s.io"],          &["endpointslices"], READ),
    Res(&["extensions"],                &["daemonsets", "deployments", "deployments/rollback", "deployments/scale", "ingresses", "networkpolicies", "replicasets", "replicasets/scale", "replicationcontrollers/scale"], WRITE),
    Res(&["extensions"],                &["daemonsets", "daemonsets/status", "deployments", "deployments/scale", "deployments/status", "ingresses", "ingresses/status", "networkpolicies", "replicasets", "replicasets/scale", "replicasets/status", "replicationcontrollers/scale"], READ),
    Res(&["networking.k8s.io"],         &["ingresses", "ingresses/status", "networkpolicies"], READ),
    Res(&["networking.k8s.io"],         &["ingresses", "networkpolicies"], WRITE),
    Res(&["policy"],                    &["poddisruptionbudgets"], WRITE),
    Res(&["policy"],                    &["poddisruptionbudgets", "poddisruptionbudgets/status"], READ),
    Res(&["rbac.authorization.k8s.io"], &["rolebindings", "roles"], &["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]),
    Res(CORE,                           &["configmaps", "endpoints", "persistentvolumeclaims", "persistentvolumeclaims/status", "pods", "replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts", "services", "services/status"], READ),
    Res(CORE,                           &["pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "secrets", "services/proxy"], READ),
    Res(CORE,                           &["configmaps", "events", "persistentvolumeclaims", "replicationcontrollers", "replicationcontrollers/scale", "secrets", "serviceaccounts", "services", "services/proxy"], WRITE),
    Res(CORE,                           &["pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy"], WRITE),
    Res(CORE,                           &["serviceaccounts"], &["impersonate"]),
    Res(CORE,                           &["bindings", "events", "limitranges", "namespaces/status", "pods/log", "pods/status", "replicationcontrollers/status", "resourcequotas", "resourcequotas/status"], READ),
    Res(CORE,                           &["namespaces"], READ),
];

#[rustfmt::skip] // one row of the guide's table per line
const CLUSTER_ADMIN: &[Row] = &[
    Res(ANY, ANY, ANY),
    Url(ANY, ANY),
];

#[rustfmt::skip] // one row of the guide's table per line
const ADMIN_VIEW: &[Row] = &[
    Res(ANY, ANY, READ),
];

#[rustfmt::skip] // one row of the guide's table per line
const EDIT: &[Row] = &[
    Res(&["apps"],              &["daemonsets", "deployments", "deployments/rollback", "deployments/scale", "replicasets", "replicasets/scale", "statefulsets", "statefulsets/scale"], WRITE),
    Res(&["apps"],              &["controllerrevisions", "daemonsets", "daemonsets/status", "deployments", "deployments/scale", "deployments/status", "replicasets", "replicasets/scale", "replicasets/status", "statefulsets", "statefulsets/scale", "statefulsets/status"], READ),
    Res(&["autoscaling"],       &["horizontalpodautoscalers", "horizontalpodautoscalers/status"], READ),
    Res(&["autoscaling"],       &["horizontalpodautoscalers"], WRITE),
    Res(&["batch"],             &["cronjobs", "jobs"], WRITE),
    Res(&["batch"],             &["cronjobs", "cronjobs/status", "jobs", "jobs/status"], READ),
    Res(&["discovery.k8s.io"],  &["endpointslices"], READ),
    Res(&["extensions"],        &["daemonsets", "deployments", "deployments/rollback", "deployments/scale", "ingresses", "networkpolicies", "replicasets", "replicasets/scale", "replicationcontrollers/scale"], WRITE),
    Res(&["extensions"],        &["daemonsets", "daemonsets/status", "deployments", "deployments/scale", "deployments/status", "ingresses", "ingresses/status", "networkpolicies", "replicasets", "replicasets/scale", "replicasets/status", "replicationcontrollers/scale"], READ),
    Res(&["networking.k8s.io"], &["ingresses", "networkpolicies"], WRITE),
    Res(&["networking.k8s.io"], &["ingresses", "ingresses/status", "networkpolicies"], READ),
    Res(&["policy"],            &["poddisruptionbudgets"], WRITE),
    Res(&["policy"],            &["poddisruptionbudgets", "poddisruptionbudgets/status"], READ),
    Res(CORE,                   &["namespaces"], READ),
    Res(CORE,                   &["pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "secrets", "services/proxy"], READ),
    Res(CORE,                   &["serviceaccounts"], &["impersonate"]),
    Res(CORE,                   &["pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy"], WRITE),
    Res(CORE,                   &["configmaps", "events", "persistentvolumeclaims", "replicationcontrollers", "replicationcontrollers/scale", "secrets", "serviceaccounts", "services", "services/proxy"], WRITE),
    Res(CORE,                   &["configmaps", "endpoints", "persistentvolumeclaims", "persistentvolumeclaims/status", "pods", "replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts", "services", "services/status"], READ),
    Res(CORE,                   &["bindings", "events", "limitranges", "namespaces/status", "pods/log", "pods/status", "replicationcontrollers/status", "resourcequotas", "resourcequotas/status"], READ),
];

#[rustfmt::skip] // one row of the guide's table per line
const VIEW: &[Row] = &[
    Res(&["apps"],              &["controllerrevisions", "daemonsets", "daemonsets/status", "deployments", "deployments/scale", "deployments/status", "replicasets", "replicasets/scale", "replicasets/status", "statefulsets", "statefulsets/scale", "statefulsets/status"], READ),
    Res(&["autoscaling"],       &["horizontalpodautoscalers", "horizontalpodautoscalers/status"], READ),
    Res(&["batch"],             &["cronjobs", "cronjobs/status", "jobs", "jobs/status"], READ),
    Res(&["discovery.k8s.io"],  &["endpointslices"], READ),
    Res(&["extensions"],        &["daemonsets", "daemonsets/status", "deployments", "deployments/scale", "deployments/status", "ingresses", "ingresses/status", "networkpolicies", "replicasets", "replicasets/scale", "replicasets/status", "replicationcontrollers/scale"], READ),
    Res(&["networking.k8s.io"], &["ingresses", "ingresses/status", "networkpolicies"], READ),
    Res(&["policy"],            &["poddisruptionbudgets", "poddisruptionbudgets/status"], READ),
    Res(CORE,                   &["configmaps", "endpoints", "persistentvolumeclaims", "persistentvolumeclaims/status", "pods", "replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts", "services", "services/status"], READ),
    Res(CORE,                   &["bindings", "events", "limitranges", "namespaces/status", "pods/log", "pods/status", "replicationcontrollers/status", "resourcequotas", "resourcequotas/status"], READ),
    Res(CORE,                   &["namespaces"], READ),
];

#[rustfmt::skip] // one row of the guide's table per line
const SECRET_READER: &[Row] = &[
    Res(CORE, &["secrets"], READ),
];

#[rustfmt::skip] // one row of the guide's table per line
const HYBRID: &[Row] = &[
    Res(ANY, &["nodes"], &["list"]),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::policy::KNOWN_POLICIES;
    use crate::core::rbac::rights::{rule_allows, Request};

    /// Known policies deliberately left unpublished: the guide describes
    /// them in prose (Auto Mode, Cluster Insights) or only lists them
    /// (AIOps, ARC, EMR, SageMaker HyperPod). Adding a name to
    /// `KNOWN_POLICIES` needs a decision: a table above, or a line here.
    const UNPUBLISHED: [&str; 12] = [
        "AmazonAIOpsAssistantPolicy",
        "AmazonARCRegionSwitchScalingPolicy",
        "AmazonEKSAutoNodePolicy",
        "AmazonEKSBlockStoragePolicy",
        "AmazonEKSClusterInsightsPolicy",
        "AmazonEKSComputePolicy",
        "AmazonEKSLoadBalancingPolicy",
        "AmazonEKSNetworkingPolicy",
        "AmazonEMRJobPolicy",
        "AmazonSagemakerHyperpodClusterPolicy",
        "AmazonSagemakerHyperpodControllerPolicy",
        "AmazonSagemakerHyperpodSystemNamespacePolicy",
    ];

    fn rules(name: &str) -> Vec<PolicyRule> {
        rules_of(name).unwrap_or_else(|| panic!("{name} is published"))
    }

    /// Every concrete (group, resource, verb) a table names; `*` cells are
    /// left out (they name no one tuple).
    fn tuples(rules: &[PolicyRule]) -> Vec<(String, String, String)> {
        let mut out = Vec::new();
        for r in rules {
            for g in r.api_groups.iter().filter(|g| *g != "*") {
                for res in r.resources.iter().filter(|r| *r != "*") {
                    for v in r.verbs.iter().filter(|v| *v != "*") {
                        out.push((g.clone(), res.clone(), v.clone()));
                    }
                }
            }
        }
        out
    }

    fn allows(rules: &[PolicyRule], verb: &str, group: &str, resource: &str) -> bool {
        let req = Request::resource(verb, group, resource, Some("default"));
        rules.iter().any(|r| rule_allows(r, &req))
    }

    /// The tuples of `small` that `big` does not allow.
    fn not_covered(big: &[PolicyRule], small: &[PolicyRule]) -> Vec<(String, String, String)> {
        tuples(small)
            .into_iter()
            .filter(|(g, r, v)| !allows(big, v, g, r))
            .collect()
    }

    #[test]
    fn every_known_policy_is_published_or_deliberately_unpublished() {
        for name in KNOWN_POLICIES {
            let published = published().contains(&name);
            let unpublished = UNPUBLISHED.contains(&name);
            assert!(
                published != unpublished,
                "{name}: published {published}, listed unpublished {unpublished}"
            );
            assert_eq!(rules_of(name).is_some(), published, "{name}");
        }
        for name in published().iter().chain(&UNPUBLISHED) {
            assert!(
                KNOWN_POLICIES.contains(name),
                "{name} is not a known policy"
            );
        }
        assert_eq!(rules_of("AmazonEKSViewerPolicy"), None);
    }

    #[test]
    fn tables_have_the_guides_row_counts_and_no_empty_cells() {
        let counts: Vec<(&str, usize)> = published().iter().map(|n| (*n, rules(n).len())).collect();
        assert_eq!(
            counts,
            [
                ("AmazonEKSAdminPolicy", 22),
                ("AmazonEKSClusterAdminPolicy", 2),
                ("AmazonEKSAdminViewPolicy", 1),
                ("AmazonEKSEditPolicy", 20),
                ("AmazonEKSViewPolicy", 10),
                ("AmazonEKSSecretReaderPolicy", 1),
                ("AmazonEKSHybridPolicy", 1),
            ]
        );
        for name in published() {
            for r in rules(name) {
                assert!(!r.verbs.is_empty(), "{name}: {r:?}");
                let resource_rule = !r.api_groups.is_empty() && !r.resources.is_empty();
                let url_rule = !r.non_resource_urls.is_empty();
                assert_ne!(resource_rule, url_rule, "{name}: {r:?}");
                assert!(r.resource_names.is_empty(), "{name}: {r:?}");
            }
        }
    }

    /// docs/access-policies.md shows Edit as View's rows plus more, and
    /// Admin as Edit's rows plus two: true row for row.
    #[test]
    fn edit_holds_views_rows_and_admin_is_edit_plus_two_rows() {
        let (admin, edit) = (rules("AmazonEKSAdminPolicy"), rules("AmazonEKSEditPolicy"));
        let view = rules("AmazonEKSViewPolicy");
        assert!(view.iter().all(|r| edit.contains(r)));
        assert!(edit.iter().all(|r| admin.contains(r)));
        let extra: Vec<&PolicyRule> = admin.iter().filter(|r| !edit.contains(r)).collect();
        assert_eq!(
            extra,
            [
                &PolicyRule::resource(
                    &["authorization.k8s.io"],
                    &["localsubjectaccessreviews"],
                    &["create"]
                ),
                &PolicyRule::resource(
                    &["rbac.authorization.k8s.io"],
                    &["rolebindings", "roles"],
                    &[
                        "create",
                        "delete",
                        "deletecollection",
                        "get",
                        "list",
                        "patch",
                        "update",
                        "watch"
                    ]
                ),
            ]
        );
    }

    #[test]
    fn cluster_admin_is_everything_and_every_url() {
        assert_eq!(
            rules("AmazonEKSClusterAdminPolicy"),
            vec![
                PolicyRule::resource(&["*"], &["*"], &["*"]),
                PolicyRule::urls(&["*"], &["*"]),
            ]
        );
    }

    #[test]
    fn view_has_no_secrets_access() {
        let view = rules("AmazonEKSViewPolicy");
        for verb in [
            "get", "list", "watch", "create", "update", "patch", "delete",
        ] {
            assert!(!allows(&view, verb, "", "secrets"), "{verb} secrets");
        }
        assert!(allows(&view, "list", "", "pods"));
        assert!(!allows(&view, "create", "", "pods"));
    }

    #[test]
    fn edit_grants_everything_view_grants() {
        let (edit, view) = (rules("AmazonEKSEditPolicy"), rules("AmazonEKSViewPolicy"));
        assert!(!tuples(&view).is_empty());
        assert_eq!(not_covered(&edit, &view), vec![]);
        assert!(allows(&edit, "get", "", "secrets"));
        assert!(allows(&edit, "create", "", "pods/exec"));
        assert!(!allows(&edit, "create", "", "endpoints"));
        assert!(!allows(
            &edit,
            "create",
            "rbac.authorization.k8s.io",
            "roles"
        ));
    }

    #[test]
    fn admin_grants_everything_edit_grants_and_roles_and_rolebindings() {
        let (admin, edit) = (rules("AmazonEKSAdminPolicy"), rules("AmazonEKSEditPolicy"));
        assert_eq!(not_covered(&admin, &edit), vec![]);
        let rbac = "rbac.authorization.k8s.io";
        for resource in ["roles", "rolebindings"] {
            for verb in [
                "create",
                "delete",
                "deletecollection",
                "get",
                "list",
                "patch",
                "update",
                "watch",
            ] {
                assert!(allows(&admin, verb, rbac, resource), "{verb} {resource}");
                assert!(!allows(&edit, verb, rbac, resource), "{verb} {resource}");
            }
        }
        assert!(allows(
            &admin,
            "create",
            "authorization.k8s.io",
            "localsubjectaccessreviews"
        ));
        assert!(!allows(&admin, "get", rbac, "clusterroles"));
    }

    #[test]
    fn admin_view_reads_secrets_and_writes_nothing() {
        let admin_view = rules("AmazonEKSAdminViewPolicy");
        for verb in ["get", "list", "watch"] {
            assert!(allows(&admin_view, verb, "", "secrets"));
            assert!(allows(
                &admin_view,
                verb,
                "apiextensions.k8s.io",
                "customresourcedefinitions"
            ));
        }
        assert!(!allows(&admin_view, "create", "", "configmaps"));
        let secrets = rules("AmazonEKSSecretReaderPolicy");
        assert!(allows(&secrets, "list", "", "secrets"));
        assert!(!allows(&secrets, "list", "", "configmaps"));
    }

    #[test]
    fn no_table_grants_bind_or_escalate() {
        for name in published() {
            let rules = rules(name);
            for r in &rules {
                for verb in ["bind", "escalate"] {
                    assert!(!r.verbs.iter().any(|v| v == verb), "{name} lists {verb}");
                }
            }
            // Only ClusterAdmin's `*` verb covers them, as it covers any verb.
            if *name == "AmazonEKSClusterAdminPolicy" {
                continue;
            }
            for verb in ["bind", "escalate"] {
                for resource in ["roles", "clusterroles"] {
                    let granted = allows(&rules, verb, "rbac.authorization.k8s.io", resource);
                    assert!(!granted, "{name} grants {verb} on {resource}");
                }
            }
        }
    }

    #[test]
    fn hybrid_lists_nodes_only() {
        let hybrid = rules("AmazonEKSHybridPolicy");
        assert!(allows(&hybrid, "list", "", "nodes"));
        assert!(!allows(&hybrid, "get", "", "nodes"));
        assert!(!allows(&hybrid, "list", "", "pods"));
    }
}
