//! The resources of Kubernetes' built-in API groups, so that a rule naming
//! several groups and several resources (`apiGroups: ["", apps]`,
//! `resources: [pods, deployments]`) is not read as granting `apps/pods`,
//! which does not exist. Only a resource known to belong to *another*
//! built-in group is dropped: a name this table does not know (a resource
//! added later, an aggregated API) is kept, so a gap in the table can only
//! show more, never hide a loss.

/// Built-in groups and their resources (Kubernetes 1.22 to 1.31, with the
/// `extensions` group rules still name; subresources after a `/`).
const GROUPS: &[(&str, &[&str])] = &[
    (
        "",
        &[
            "bindings",
            "componentstatuses",
            "configmaps",
            "endpoints",
            "events",
            "limitranges",
            "namespaces",
            "namespaces/finalize",
            "namespaces/status",
            "nodes",
            "nodes/proxy",
            "nodes/status",
            "nodes/metrics",
            "nodes/stats",
            "nodes/log",
            "nodes/spec",
            "persistentvolumeclaims",
            "persistentvolumeclaims/status",
            "persistentvolumes",
            "persistentvolumes/status",
            "pods",
            "pods/attach",
            "pods/binding",
            "pods/ephemeralcontainers",
            "pods/eviction",
            "pods/exec",
            "pods/log",
            "pods/portforward",
            "pods/proxy",
            "pods/resize",
            "pods/status",
            "podtemplates",
            "replicationcontrollers",
            "replicationcontrollers/scale",
            "replicationcontrollers/status",
            "resourcequotas",
            "resourcequotas/status",
            "secrets",
            "serviceaccounts",
            "serviceaccounts/token",
            "services",
            "services/proxy",
            "services/status",
        ],
    ),
    (
        "apps",
        &[
            "controllerrevisions",
            "daemonsets",
            "daemonsets/status",
            "deployments",
            "deployments/rollback",
            "deployments/scale",
            "deployments/status",
            "replicasets",
            "replicasets/scale",
            "replicasets/status",
            "statefulsets",
            "statefulsets/scale",
            "statefulsets/status",
        ],
    ),
    (
        "batch",
        &["cronjobs", "cronjobs/status", "jobs", "jobs/status"],
    ),
    (
        "autoscaling",
        &[
            "horizontalpodautoscalers",
            "horizontalpodautoscalers/status",
        ],
    ),
    (
        "policy",
        &[
            "poddisruptionbudgets",
            "poddisruptionbudgets/status",
            "podsecuritypolicies",
        ],
    ),
    (
        "extensions",
        &[
            "daemonsets",
            "daemonsets/status",
            "deployments",
            "deployments/rollback",
            "deployments/scale",
            "deployments/status",
            "ingresses",
            "ingresses/status",
            "networkpolicies",
            "podsecuritypolicies",
            "replicasets",
            "replicasets/scale",
            "replicasets/status",
            "replicationcontrollers/scale",
        ],
    ),
    (
        "networking.k8s.io",
        &[
            "ingressclasses",
            "ingresses",
            "ingresses/status",
            "ipaddresses",
            "networkpolicies",
            "networkpolicies/status",
            "servicecidrs",
            "servicecidrs/status",
        ],
    ),
    ("discovery.k8s.io", &["endpointslices"]),
    ("events.k8s.io", &["events"]),
    ("coordination.k8s.io", &["leases", "leasecandidates"]),
    (
        "rbac.authorization.k8s.io",
        &[
            "clusterrolebindings",
            "clusterroles",
            "rolebindings",
            "roles",
        ],
    ),
    (
        "storage.k8s.io",
        &[
            "csidrivers",
            "csinodes",
            "csistoragecapacities",
            "storageclasses",
            "volumeattachments",
            "volumeattachments/status",
            "volumeattributesclasses",
        ],
    ),
    (
        "apiextensions.k8s.io",
        &[
            "customresourcedefinitions",
            "customresourcedefinitions/status",
        ],
    ),
    (
        "apiregistration.k8s.io",
        &["apiservices", "apiservices/status"],
    ),
    (
        "admissionregistration.k8s.io",
        &[
            "mutatingwebhookconfigurations",
            "validatingadmissionpolicies",
            "validatingadmissionpolicies/status",
            "validatingadmissionpolicybindings",
            "validatingwebhookconfigurations",
        ],
    ),
    (
        "certificates.k8s.io",
        &[
            "certificatesigningrequests",
            "certificatesigningrequests/approval",
            "certificatesigningrequests/status",
            "clustertrustbundles",
            "signers",
        ],
    ),
    (
        "authorization.k8s.io",
        &[
            "localsubjectaccessreviews",
            "selfsubjectaccessreviews",
            "selfsubjectrulesreviews",
            "subjectaccessreviews",
        ],
    ),
    (
        "authentication.k8s.io",
        &["selfsubjectreviews", "tokenreviews"],
    ),
    ("scheduling.k8s.io", &["priorityclasses"]),
    ("node.k8s.io", &["runtimeclasses"]),
    (
        "flowcontrol.apiserver.k8s.io",
        &[
            "flowschemas",
            "flowschemas/status",
            "prioritylevelconfigurations",
            "prioritylevelconfigurations/status",
        ],
    ),
];

/// False when `resource` of `group` cannot exist: the group is built in,
/// does not serve it, and another built-in group does. True otherwise
/// (wildcards, unknown groups, unknown names).
pub(crate) fn may_exist(group: &str, resource: &str) -> bool {
    if group == "*" || resource.starts_with('*') {
        return true;
    }
    let Some((_, own)) = GROUPS.iter().find(|(g, _)| *g == group) else {
        return true;
    };
    if own.contains(&resource) {
        return true;
    }
    let base = resource.split('/').next().unwrap_or(resource);
    let elsewhere = GROUPS
        .iter()
        .filter(|(g, _)| *g != group)
        .any(|(_, rs)| rs.iter().any(|r| r.split('/').next() == Some(base)));
    let own_base = own.iter().any(|r| r.split('/').next() == Some(base));
    own_base || !elsewhere
}

#[cfg(test)]
mod tests {
    use super::may_exist;

    #[test]
    fn resources_of_other_built_in_groups_do_not_exist_here() {
        assert!(may_exist("", "pods"));
        assert!(may_exist("", "pods/log"));
        assert!(!may_exist("apps", "pods"));
        assert!(!may_exist("apps", "pods/log"));
        assert!(!may_exist("", "deployments"));
        assert!(may_exist("extensions", "deployments"));
        assert!(may_exist("events.k8s.io", "events"));
        // Names no built-in group serves may be anything: kept.
        assert!(may_exist("apps", "widgets"));
        assert!(may_exist("example.com", "pods"));
        assert!(may_exist("*", "pods"));
        assert!(may_exist("apps", "*"));
        // A subresource the table does not list, of a resource of this group.
        assert!(may_exist("apps", "deployments/newthing"));
    }
}
