//! Planner speed on generated aws-auth `ConfigMaps` (`cargo bench --bench plan`).
//! Prints a Markdown table; figures go in docs/benchmarks.md. Timing is
//! reported, never asserted.

use std::time::Instant;

use aws_auth_migrate::core::equivalence::analyse_dump;
use aws_auth_migrate::core::planner::{plan_offline, SourceInfo};
use aws_auth_migrate::core::policy_map::PolicyMap;
use aws_auth_migrate::core::translate::Options;

/// An aws-auth manifest with `rows` rows in the shapes real clusters carry.
fn generate(rows: usize) -> String {
    let mut roles = String::new();
    let mut users = String::new();
    for i in 0..rows {
        match i % 5 {
            0 => roles.push_str(&format!(
                "    - rolearn: arn:aws:iam::111122223333:role/nodegroup-{i}\n      username: system:node:{{{{EC2PrivateDNSName}}}}\n      groups:\n        - system:bootstrappers\n        - system:nodes\n"
            )),
            1 => roles.push_str(&format!(
                "    - rolearn: arn:aws:iam::111122223333:role/admin-{i}\n      username: admin-{i}:{{{{SessionName}}}}\n      groups:\n        - system:masters\n        - platform\n"
            )),
            2 => roles.push_str(&format!(
                "    - rolearn: arn:aws:iam::111122223333:role/AWSReservedSSO_Dev_{i:016x}\n      username: sso-dev:{{{{SessionName}}}}\n      groups:\n        - developers\n        - viewers\n"
            )),
            3 => roles.push_str(&format!(
                "    - rolearn: arn:aws:iam::444455556666:role/ci-{i}\n      username: ci-{i}\n      groups:\n        - deployers\n"
            )),
            _ => users.push_str(&format!(
                "    - userarn: arn:aws:iam::111122223333:user/person-{i}\n      username: person-{i}\n      groups:\n        - system:masters\n"
            )),
        }
    }
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\n  namespace: kube-system\ndata:\n  mapRoles: |\n{roles}  mapUsers: |\n{users}"
    )
}

/// aws-auth for the access benchmark: `principals` rows over 300 groups,
/// each principal also bound by a User binding of its own every 4th row.
fn access_aws_auth(principals: usize) -> String {
    let mut roles = String::new();
    for i in 0..principals {
        roles.push_str(&format!(
            "    - rolearn: arn:aws:iam::111122223333:role/p-{i}\n      username: user-{i}\n      groups: [g-{}, g-{}]\n",
            i % 300,
            (i * 7 + 3) % 300
        ));
    }
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\n  namespace: kube-system\ndata:\n  mapRoles: |\n{roles}"
    )
}

/// A kubectl List of `roles` ClusterRoles (1 to 12 rules each, wildcards
/// among them) and `bindings` bindings: ClusterRoleBindings and
/// RoleBindings in 50 namespaces to groups, User bindings to usernames.
fn access_rbac(roles: usize, bindings: usize) -> String {
    let groups = ["\"\"", "apps", "batch", "networking.k8s.io", "example.com"];
    let resources = [
        "pods",
        "services",
        "configmaps",
        "deployments",
        "jobs",
        "ingresses",
        "widgets",
        "secrets",
        "pods/log",
        "*",
    ];
    let verbs = [
        "get", "list", "watch", "create", "update", "patch", "delete", "*",
    ];
    let mut out = String::from("apiVersion: v1\nkind: List\nitems:\n");
    for r in 0..roles {
        out.push_str(&format!(
            "- apiVersion: rbac.authorization.k8s.io/v1\n  kind: ClusterRole\n  metadata:\n    name: role-{r}\n  rules:\n"
        ));
        for k in 0..=(r % 12) {
            let g = groups[(r + k) % groups.len()];
            let res = resources[(r * 3 + k) % resources.len()];
            let v1 = verbs[(r + k) % verbs.len()];
            let v2 = verbs[(r + 2 * k + 1) % verbs.len()];
            out.push_str(&format!(
                "  - apiGroups: [{g}]\n    resources: [\"{res}\"]\n    verbs: [\"{v1}\", \"{v2}\"]\n"
            ));
        }
    }
    for b in 0..bindings {
        let role = b % roles;
        let subject = if b % 4 == 0 {
            format!("User\n    name: user-{}", b * 5 / 2)
        } else {
            format!("Group\n    name: g-{}", b % 300)
        };
        if b % 3 == 0 {
            out.push_str(&format!(
                "- apiVersion: rbac.authorization.k8s.io/v1\n  kind: RoleBinding\n  metadata:\n    name: b-{b}\n    namespace: ns-{}\n  roleRef:\n    apiGroup: rbac.authorization.k8s.io\n    kind: ClusterRole\n    name: role-{role}\n  subjects:\n  - apiGroup: rbac.authorization.k8s.io\n    kind: {subject}\n",
                b % 50
            ));
        } else {
            out.push_str(&format!(
                "- apiVersion: rbac.authorization.k8s.io/v1\n  kind: ClusterRoleBinding\n  metadata:\n    name: b-{b}\n  roleRef:\n    apiGroup: rbac.authorization.k8s.io\n    kind: ClusterRole\n    name: role-{role}\n  subjects:\n  - apiGroup: rbac.authorization.k8s.io\n    kind: {subject}\n"
            ));
        }
    }
    out
}

/// The access analysis (issue 16): parse the RBAC dump, index it and
/// compare every principal, with a policy map that moves a third of the
/// groups to access policies (so most principals lose bindings to compare).
fn access_bench() {
    let principals = 5_000;
    let (roles, bindings) = (500, 2_000);
    let aws_auth = access_aws_auth(principals);
    let rbac = access_rbac(roles, bindings);
    let mut map = String::from("groups:\n");
    for g in (0..300).step_by(3) {
        let policy = [
            "AmazonEKSViewPolicy",
            "AmazonEKSEditPolicy",
            "AmazonEKSAdminPolicy",
        ][g % 3];
        map.push_str(&format!(
            "  g-{g}:\n    policies: [{policy}]\n    keep_group: false\n"
        ));
    }
    let opts = Options {
        policy_map: PolicyMap::parse(&map).expect("generated policy map parses"),
        ..Options::default()
    };
    let plan = plan_offline(
        aws_auth.as_bytes(),
        SourceInfo {
            kind: "file".into(),
            path: None,
        },
        &opts,
    )
    .expect("generated input plans");
    let runs = 7;
    let mut times = Vec::new();
    let mut summary = String::new();
    for _ in 0..runs {
        let start = Instant::now();
        let report = analyse_dump(&plan, rbac.as_bytes()).expect("generated RBAC parses");
        times.push(start.elapsed());
        let s = &report.summary;
        summary = format!(
            "{} same, {} gains, {} loses, {} unproven",
            s.same, s.gains, s.loses, s.unproven
        );
    }
    times.sort();
    let median = times[times.len() / 2];
    println!();
    println!(
        "| principals | roles | bindings | RBAC bytes | verdicts | median analysis time | runs |"
    );
    println!("| ---: | ---: | ---: | ---: | --- | ---: | ---: |");
    println!(
        "| {principals} | {roles} | {bindings} | {} | {summary} | {:.1} ms | {runs} |",
        rbac.len(),
        median.as_secs_f64() * 1000.0
    );
}

fn main() {
    if std::env::args().any(|a| a == "access") {
        access_bench();
        return;
    }
    println!("| rows | input bytes | entries | median plan time | runs |");
    println!("| ---: | ---: | ---: | ---: | ---: |");
    for rows in [100, 1_000, 5_000, 7_000] {
        let input = generate(rows);
        let runs = if rows >= 5_000 { 15 } else { 40 };
        let mut times = Vec::new();
        let mut entries = 0;
        for _ in 0..runs {
            let start = Instant::now();
            let plan = plan_offline(
                input.as_bytes(),
                SourceInfo {
                    kind: "file".into(),
                    path: None,
                },
                &Options::default(),
            )
            .expect("generated input plans");
            times.push(start.elapsed());
            entries = plan.entries.len();
        }
        times.sort();
        let median = times[times.len() / 2];
        println!(
            "| {rows} | {} | {entries} | {:.1} ms | {runs} |",
            input.len(),
            median.as_secs_f64() * 1000.0
        );
    }
    access_bench();
}
