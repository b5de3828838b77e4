//! Access equivalence end to end (issue 16): the real binary against an
//! emulator cluster seeded with realistic RBAC — the Kubernetes bootstrap
//! roles, view/edit/admin bound to custom groups cluster-wide and per
//! namespace, a User binding, an aggregated role, an unbound group, a
//! wildcard role.

use eks_emulator::seed::{Cluster, RbacBinding, RbacRole, RbacRule, Seed};
use eks_emulator::Emulator;
use serde_json::Value;

use crate::cmd::Output;

const A: &str = "111122223333";
const REGION: &str = "eu-west-1";
const KEY: &str = "AKIDADMIN";
const CALLER: &str = "arn:aws:iam::111122223333:user/admin";

fn role(name: &str) -> String {
    format!("arn:aws:iam::{A}:role/{name}")
}

const MAP_ROLES: &str = "- rolearn: arn:aws:iam::111122223333:role/admin
  username: admin
  groups: [system:masters]
- rolearn: arn:aws:iam::111122223333:role/node
  username: system:node:{{EC2PrivateDNSName}}
  groups: [system:bootstrappers, system:nodes]
- rolearn: arn:aws:iam::111122223333:role/viewer
  username: \"viewer:{{SessionName}}\"
  groups: [viewers]
- rolearn: arn:aws:iam::111122223333:role/dev
  username: dev
  groups: [devs]
- rolearn: arn:aws:iam::111122223333:role/nsadmin
  username: nsadmin
  groups: [team-a-admins]
- rolearn: arn:aws:iam::111122223333:role/ops
  username: ops
- rolearn: arn:aws:iam::111122223333:role/ghost
  username: ghost
  groups: [ghosts]
- rolearn: arn:aws:iam::111122223333:role/apps
  username: apps
  groups: [apps-readers]
";

fn rbac_cluster(c: Cluster) -> Cluster {
    c.bootstrap_rbac()
        // A CRD add-on's rules, aggregated into admin.
        .cluster_role(
            RbacRole::cluster(
                "crontab-admin",
                vec![RbacRule::new(
                    &["stable.example.com"],
                    &["crontabs"],
                    &["*"],
                )],
            )
            .labelled("rbac.authorization.k8s.io/aggregate-to-admin", "true"),
        )
        // A wildcard role.
        .cluster_role(RbacRole::cluster(
            "apps-star",
            vec![RbacRule::new(&["apps"], &["*"], &["get", "list"])],
        ))
        .cluster_role_binding(RbacBinding::new("viewers", "view", &[("Group", "viewers")]))
        .role_binding(RbacBinding::new("devs", "edit", &[("Group", "devs")]).in_namespace("team-a"))
        .role_binding(RbacBinding::new("devs", "edit", &[("Group", "devs")]).in_namespace("team-b"))
        .role_binding(
            RbacBinding::new("admins", "admin", &[("Group", "team-a-admins")])
                .in_namespace("team-a"),
        )
        .role_binding(RbacBinding::new("ops", "edit", &[("User", "ops")]).in_namespace("ops"))
        .cluster_role_binding(RbacBinding::new(
            "apps",
            "apps-star",
            &[("Group", "apps-readers")],
        ))
}

fn seed(c: Cluster) -> Seed {
    let mut s = Seed::default()
        .with_caller(KEY, A, CALLER)
        .with_user(A, "/", "admin");
    for r in [
        "admin", "node", "viewer", "dev", "nsadmin", "ops", "ghost", "apps",
    ] {
        s = s.with_role(A, "/", r);
    }
    s.with_update_duration_ms(50).with_cluster(c)
}

fn cluster() -> Cluster {
    rbac_cluster(
        Cluster::new("prod", A, REGION)
            .mode("API_AND_CONFIG_MAP")
            .creator(CALLER, true)
            .node_group("workers", &role("node"), false)
            .aws_auth([("mapRoles", MAP_ROLES.to_string())]),
    )
}

struct Env {
    emu: Emulator,
    state: tempfile::TempDir,
}

impl Env {
    fn new(c: Cluster) -> Env {
        Env {
            emu: Emulator::start(seed(c)).expect("emulator starts"),
            state: tempfile::tempdir().unwrap(),
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).run()
    }

    fn cmd(&self, args: &[&str]) -> crate::cmd::Cmd {
        let kubeconfig = self.emu.kubeconfig_path().display().to_string();
        let mut all: Vec<String> = args.iter().map(ToString::to_string).collect();
        all.extend([
            "--cluster".into(),
            "prod".into(),
            "--kubeconfig".into(),
            kubeconfig,
        ]);
        crate::cmd::against(&self.emu.endpoint_url(), KEY, REGION, self.state.path()).args(all)
    }

    fn path(&self, name: &str) -> String {
        self.state.path().join(name).display().to_string()
    }
}

/// (principal without its account prefix, verdict), sorted by principal.
fn verdicts(access: &Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = access["principals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["principal_arn"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches("arn:aws:iam::111122223333:")
                    .to_string(),
                p["verdict"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

fn principal<'a>(access: &'a Value, name: &str) -> &'a Value {
    access["principals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["principal_arn"] == role(name))
        .unwrap_or_else(|| panic!("no {name} in {access:#}"))
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(a, b)| ((*a).to_string(), (*b).to_string()))
        .collect()
}

#[test]
fn a_plan_that_keeps_groups_keeps_every_right() {
    let env = Env::new(cluster());
    let out = env.run(&["plan", "--output", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let plan = out.json();
    let access = &plan["access"];
    assert_eq!(access["rbac"]["kind"], "cluster");
    assert_eq!(access["unbound_groups"], serde_json::json!(["ghosts"]));
    assert_eq!(
        verdicts(access),
        pairs(&[
            ("role/admin", "same"),
            ("role/apps", "same"),
            ("role/dev", "same"),
            ("role/ghost", "same"),
            ("role/node", "same"),
            ("role/nsadmin", "same"),
            ("role/ops", "same"),
            ("role/viewer", "same"),
        ])
    );
    let admin = principal(access, "admin");
    assert_eq!(
        admin["after"]["policies"],
        serde_json::json!(["AmazonEKSClusterAdminPolicy"])
    );
    assert_eq!(
        admin["notes"],
        serde_json::json!(["system:masters bypassed authorization; after, the same rights come through the authorizers (equal rules)"])
    );
}

/// A policy map that replaces groups by policies the way a hasty migration
/// would: each verdict kind shows.
const HASTY_MAP: &str = "groups:
  team-a-admins:
    policies: [{policy: AmazonEKSAdminPolicy, namespaces: [team-a]}]
    keep_group: false
  apps-readers:
    policies: [AmazonEKSViewPolicy]
    keep_group: false
  devs:
    policies: [{policy: AmazonEKSEditPolicy, namespaces: [team-a, team-b]}]
    keep_group: false
";

#[test]
fn a_plan_that_replaces_groups_by_policies_shows_what_each_principal_loses() {
    let env = Env::new(cluster());
    let map = env.path("hasty.yaml");
    std::fs::write(&map, HASTY_MAP).unwrap();
    let out = env.run(&["plan", "--output", "json", "--policy-map", &map]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let access = out.json()["access"].clone();
    let v: std::collections::BTreeMap<String, String> = verdicts(&access).into_iter().collect();
    assert_eq!(
        v["role/nsadmin"],
        "loses",
        "{:#}",
        principal(&access, "nsadmin")
    );
    assert_eq!(v["role/apps"], "loses", "{:#}", principal(&access, "apps"));
    let nsadmin = principal(&access, "nsadmin");
    let lost: Vec<String> = nsadmin["loses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| format!("{} {} {}", l["verbs"][0], l["target"], l["scope"]))
        .collect();
    assert!(
        lost.iter()
            .any(|l| l
                .starts_with("\"bind\" \"rolebindings granting the roles it held through RBAC")),
        "{lost:?}"
    );
    assert!(
        lost.iter()
            .any(|l| l.contains("stable.example.com/crontabs")),
        "{lost:?}"
    );
    let apps = principal(&access, "apps");
    assert_eq!(apps["loses"][0]["target"], "apps/*");
    assert!(
        apps["loses"][0]["example"]
            .as_str()
            .unwrap()
            .starts_with("get apps/"),
        "{apps:#}"
    );

    // The table shows the Rights column and the details.
    let table = env.run(&["plan", "--policy-map", &map]);
    assert_eq!(table.code, 0, "{}", table.stderr);
    assert!(table.stdout.contains("│ Rights"), "{}", table.stdout);
    assert!(
        table
            .stdout
            .contains("Access equivalence (RBAC from the cluster:"),
        "{}",
        table.stdout
    );

    // --explain: before and after side by side.
    let explain = env.run(&["plan", "--policy-map", &map, "--explain", &role("nsadmin")]);
    assert_eq!(explain.code, 0, "{}", explain.stderr);
    assert!(
        explain
            .stdout
            .starts_with(&format!("{}\n", role("nsadmin"))),
        "{}",
        explain.stdout
    );
    assert!(
        explain.stdout.contains("Before (aws-auth + RBAC)"),
        "{}",
        explain.stdout
    );
    assert!(
        explain
            .stdout
            .contains("RoleBinding team-a/admins → ClusterRole admin:"),
        "{}",
        explain.stdout
    );
    assert!(
        explain
            .stdout
            .contains("access policy AmazonEKSAdminPolicy [namespace"),
        "{}",
        explain.stdout
    );
    assert!(
        explain.stdout.contains("\nVerdict: loses\n"),
        "{}",
        explain.stdout
    );
}

#[test]
fn suggested_policies_applied_give_verify_same_or_documented_gains() {
    let env = Env::new(cluster());
    let map = env.path("suggested.yaml");
    let out = env.run(&["plan", "--output", "json", "--suggest-policies", &map]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let text = std::fs::read_to_string(&map).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&map).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    // viewers (view, cluster-wide) get View; devs keep their group (the
    // Kubernetes 1.30 edit grants leases, pods/eviction and
    // serviceaccounts/token, which the Edit policy lacks), as does
    // team-a-admins (admin also carries the crontab add-on and can bind
    // roles); apps-readers' wildcard matches no policy exactly.
    assert!(text.contains("  \"viewers\":\n"), "{text}");
    assert!(
        text.contains("      - policy: AmazonEKSViewPolicy\n"),
        "{text}"
    );
    assert!(!text.contains("  \"devs\":\n"), "{text}");
    assert!(text.contains("#   devs: AmazonEKSEditPolicy lacks rights its bindings grant: create,delete,deletecollection,get,list,patch,update,watch coordination.k8s.io/leases in namespace team-a;"), "{text}");
    assert!(
        text.contains("#   team-a-admins: AmazonEKSAdminPolicy lacks rights"),
        "{text}"
    );
    assert!(text.contains("#   apps-readers: bound to custom roles that no access policy matches exactly (closest: AmazonEKSAdminViewPolicy, 1 right apart)\n"), "{text}");
    assert!(
        text.contains("# Bound to nothing (they grant nothing, before or after): ghosts\n"),
        "{text}"
    );

    let plan = env.run(&["plan", "--output", "json", "--policy-map", &map]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    let access = plan.json()["access"].clone();
    for (name, verdict) in verdicts(&access) {
        assert!(
            verdict == "same" || verdict == "gains",
            "{name}: {verdict}: {access:#}"
        );
    }

    let apply = env.run(&[
        "apply",
        "--yes",
        "--policy-map",
        &map,
        "--journal",
        &env.path("apply.jsonl"),
    ]);
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    let out = env.run(&["verify", "--output", "json", "--policy-map", &map]);
    let v = out.json();
    assert_eq!(v["summary"]["access_losses"], 0, "{:#}", v["access"]);
    for (name, verdict) in verdicts(&v["access"]) {
        assert!(
            verdict == "same" || verdict == "gains",
            "{name}: {verdict}: {:#}",
            v["access"]
        );
    }
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert_eq!(v["parity"], true);
}

#[test]
fn verify_counts_a_lost_right_as_a_gap_until_accepted() {
    let env = Env::new(cluster());
    let map = env.path("hasty.yaml");
    std::fs::write(&map, HASTY_MAP).unwrap();
    let apply = env.run(&[
        "apply",
        "--yes",
        "--policy-map",
        &map,
        "--journal",
        &env.path("apply.jsonl"),
    ]);
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    let out = env.run(&["verify", "--output", "json", "--policy-map", &map]);
    assert_eq!(out.code, 2, "{}", out.stdout);
    let v = out.json();
    assert_eq!(v["parity"], false);
    assert_eq!(v["summary"]["blocking"], 0);
    let losers: Vec<(String, String)> = verdicts(&v["access"])
        .into_iter()
        .filter(|(_, verdict)| verdict != "same" && verdict != "gains")
        .collect();
    // dev loses too: Kubernetes 1.30's edit grants leases, pods/eviction and
    // serviceaccounts/token, which AmazonEKSEditPolicy (as published) does not.
    assert_eq!(
        losers,
        pairs(&[
            ("role/apps", "loses"),
            ("role/dev", "loses"),
            ("role/nsadmin", "loses")
        ])
    );
    let dev = principal(&v["access"], "dev");
    assert_eq!(dev["loses"][0]["target"], "coordination.k8s.io/leases");
    assert_eq!(
        dev["loses"][0]["via"],
        "RoleBinding team-a/devs → ClusterRole edit"
    );
    assert_eq!(v["summary"]["access_losses"], 3);

    // finalize refuses, naming the principal and the flag.
    let fin = env.run(&[
        "finalize",
        "--yes",
        "--policy-map",
        &map,
        "--journal",
        &env.path("fin.jsonl"),
    ]);
    assert_ne!(fin.code, 0);
    assert!(
        fin.stderr.contains(&format!("{} loses ", role("nsadmin"))),
        "{}",
        fin.stderr
    );
    assert!(
        fin.stderr.contains("--accept-access-loss"),
        "{}",
        fin.stderr
    );

    // Accepting a principal that loses nothing is refused.
    let bad = env.run(&[
        "verify",
        "--policy-map",
        &map,
        "--accept-access-loss",
        &role("admin"),
    ]);
    assert_eq!(bad.code, 1);
    assert!(
        bad.stderr.contains(&format!(
            "--accept-access-loss {}: that principal",
            role("admin")
        )),
        "{}",
        bad.stderr
    );

    // All accepted: parity.
    let accept = format!("{},{},{}", role("nsadmin"), role("apps"), role("dev"));
    let ok = env.run(&[
        "verify",
        "--output",
        "json",
        "--policy-map",
        &map,
        "--accept-access-loss",
        &accept,
    ]);
    assert_eq!(ok.code, 0, "{}", ok.stdout);
    assert_eq!(ok.json()["summary"]["access_losses"], 0);
}

#[test]
fn a_forbidden_rbac_list_makes_the_analysis_incomplete_never_same() {
    let env = Env::new(cluster().forbid_rbac_list("rolebindings"));
    let out = env.run(&["plan", "--output", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let access = out.json()["access"].clone();
    assert_eq!(
        access["rbac"]["incomplete"][0],
        format!("cannot list rolebindings (forbidden for {CALLER}): grant list on clusterroles, clusterrolebindings, roles and rolebindings to analyse access")
    );
    for (name, verdict) in verdicts(&access) {
        assert_eq!(verdict, "unproven", "{name}");
    }
}

#[test]
fn offline_rbac_file_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let aws_auth = dir.path().join("aws-auth.yaml");
    std::fs::write(
        &aws_auth,
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: aws-auth, namespace: kube-system}}\ndata:\n  mapRoles: |\n{}", MAP_ROLES.lines().map(|l| format!("    {l}\n")).collect::<String>()),
    )
    .unwrap();
    let a = aws_auth.display().to_string();
    let rbac = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/rbac/eks-dump.yaml"
    );
    let out = crate::cmd::bin()
        .args(["plan", "-f", &a, "--rbac", rbac, "--output", "json"])
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let access = out.json()["access"].clone();
    assert_eq!(access["rbac"]["kind"], "file");
    assert_eq!(access["rbac"]["path"], rbac);
    assert_eq!(access["principals"].as_array().unwrap().len(), 8);

    // --explain and --suggest-policies need RBAC.
    let out = crate::cmd::bin()
        .args(["plan", "-f", &a, "--explain", &role("dev")])
        .run();
    assert_eq!(out.code, 1);
    assert_eq!(
        out.stderr.trim_end(),
        "error: --explain needs RBAC to compare with: give --rbac FILE (kubectl get clusterroles,clusterrolebindings,roles,rolebindings -A -o yaml), or plan with --cluster"
    );
    // A broken RBAC file is one clear line, and nothing is printed.
    let bad = dir.path().join("rbac.yaml");
    std::fs::write(&bad, "apiVersion: v1\nkind: List\nitems:\n- kind: RoleBinding\n  apiVersion: rbac.authorization.k8s.io/v1\n  metadata: {name: x, namespace: a}\n").unwrap();
    let b = bad.display().to_string();
    let out = crate::cmd::bin()
        .args(["plan", "-f", &a, "--rbac", &b])
        .run();
    assert_eq!(out.code, 1);
    assert_eq!(out.stdout, "");
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!("RBAC file {b}: ")),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("roleRef is missing"), "{}", out.stderr);
}

#[test]
fn a_forbidden_rbac_list_is_a_warning_in_the_table() {
    let env = Env::new(cluster().forbid_rbac_list("roles"));
    // Wide enough that the warning is not wrapped.
    let out = env.cmd(&["plan"]).env("COLUMNS", "300").run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout
            .contains(&format!("! RBAC incomplete, no principal can be shown `same`: cannot list roles (forbidden for {CALLER}):")),
        "{}",
        out.stdout
    );
}
