//! verify, prune-configmap and finalize: the real binary against the
//! emulator, plus the library undo of their journals.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use eks_emulator::seed::{AccessEntry, Cluster, Seed};
use eks_emulator::{Emulator, FaultRule, Faults};
use serde_json::Value;

use crate::cmd::Output;

const A: &str = "111122223333";
const REGION: &str = "eu-west-1";
const KEY: &str = "AKIDADMIN";
const CALLER: &str = "arn:aws:iam::111122223333:user/admin";
pub(crate) const NODE: &str = "arn:aws:iam::111122223333:role/node";
pub(crate) const DEV: &str = "arn:aws:iam::111122223333:role/dev";
const OPS: &str = "arn:aws:iam::111122223333:role/ops";
const MON: &str = "arn:aws:iam::111122223333:role/mon";
const WIN: &str = "arn:aws:iam::111122223333:role/winnode";
const GPU: &str = "arn:aws:iam::111122223333:role/gpu";
const FARGATE: &str = "arn:aws:iam::111122223333:role/fargate";

pub(crate) const NODE_ROW: &str = "- rolearn: arn:aws:iam::111122223333:role/node
  username: system:node:{{EC2PrivateDNSName}}
  groups:
    - system:bootstrappers
    - system:nodes
";
pub(crate) const DEV_ROW: &str = "- rolearn: arn:aws:iam::111122223333:role/dev   # the dev team
  username: dev
  groups:
    - devs
";
const OPS_ROW: &str = "- rolearn: arn:aws:iam::111122223333:role/ops
  username: ops
  groups: [ops]
";
const MON_ROW: &str = "- rolearn: arn:aws:iam::111122223333:role/mon
  username: mon
  groups: [system:monitoring]
";

pub(crate) fn map_roles() -> String {
    format!("# platform nodes\n{NODE_ROW}\n# developers\n{DEV_ROW}{OPS_ROW}")
}

fn seed() -> Seed {
    Seed::default()
        .with_caller(KEY, A, CALLER)
        .with_user(A, "/", "admin")
        .with_role(A, "/", "node")
        .with_role(A, "/", "dev")
        .with_role(A, "/", "ops")
        .with_role(A, "/", "mon")
        .with_role(A, "/", "late")
        .with_role(A, "/", "winnode")
        .with_role(A, "/", "gpu")
        .with_role(A, "/", "fargate")
        .with_update_duration_ms(200)
}

/// A cluster in `API_AND_CONFIG_MAP` whose caller is admin (creator entry when
/// `admin`), with an entry for dev, a Windows managed node group and a
/// Fargate profile (whose node entries EKS made); with `node_entry`, also a
/// managed node group of the aws-auth node role and its `EC2_LINUX` entry.
pub(crate) fn cluster(admin: bool, node_entry: bool, map_roles: &str) -> Cluster {
    let mut c = Cluster::new("prod", A, REGION)
        .mode("API_AND_CONFIG_MAP")
        .creator(CALLER, admin)
        .node_group("win", WIN, true)
        .fargate_profile("fp", FARGATE)
        .access_entry(AccessEntry::new(DEV).username("dev").groups(&["devs"]))
        .aws_auth([
            ("mapRoles", map_roles.to_string()),
            ("note", "kept as is".to_string()),
        ]);
    if node_entry {
        c = c
            .node_group("workers", NODE, false)
            .access_entry(AccessEntry::new(NODE).entry_type("EC2_LINUX"));
    }
    c
}

pub(crate) struct Env {
    pub(crate) emu: Emulator,
    state: tempfile::TempDir,
}

impl Env {
    pub(crate) fn new(c: Cluster) -> Env {
        Env {
            emu: Emulator::start(seed().with_cluster(c)).expect("emulator starts"),
            state: tempfile::tempdir().unwrap(),
        }
    }

    pub(crate) fn journal(&self, name: &str) -> PathBuf {
        self.state.path().join(name)
    }

    fn cmd(&self, args: &[&str]) -> crate::cmd::Cmd {
        let kubeconfig = self.emu.kubeconfig_path().display().to_string();
        let mut all: Vec<String> = args.iter().map(std::string::ToString::to_string).collect();
        all.extend([
            "--cluster".into(),
            "prod".into(),
            "--kubeconfig".into(),
            kubeconfig,
        ]);
        crate::cmd::against(&self.emu.endpoint_url(), KEY, REGION, self.state.path()).args(all)
    }

    pub(crate) fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).run()
    }

    pub(crate) fn aws_auth(&self) -> Option<BTreeMap<String, String>> {
        self.emu.aws_auth("prod").unwrap()
    }

    pub(crate) fn mode(&self) -> String {
        self.emu.state()["clusters"][0]["authentication_mode"]
            .as_str()
            .unwrap()
            .to_string()
    }

    fn add_entry(&self, e: AccessEntry) {
        self.emu.upsert_access_entry("prod", &e).unwrap();
    }
}

fn row<'a>(v: &'a Value, id: &str) -> &'a Value {
    v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("no row {id} in {v:#}"))
}

fn journal_steps(path: &Path) -> Vec<(String, Value)> {
    let text = std::fs::read_to_string(path).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut out = Vec::new();
    for l in &lines {
        if l["record"] == "intent" {
            let outcome = lines
                .iter()
                .find(|o| o["record"] == "outcome" && o["intent"] == l["seq"])
                .map_or(Value::Null, |o| o["outcome"].clone());
            out.push((l["step"]["op"].as_str().unwrap().to_string(), outcome));
        }
    }
    out
}

/// The library undo of a prune-configmap or finalize journal.
/// `rollback JOURNAL` through the real binary; its JSON summary.
fn undo(env: &Env, journal: &Path, out: &Path) -> aws_auth_migrate::finish::undo::UndoReport {
    let journal = journal.display().to_string();
    let out_path = out.display().to_string();
    let out = env.run(&[
        "rollback",
        &journal,
        "--journal",
        &out_path,
        "--yes",
        "--output",
        "json",
    ]);
    assert!(
        out.code == 0 || out.code == 3,
        "{}\n{}",
        out.stdout,
        out.stderr
    );
    let v = out.json();
    assert_eq!(v["exit_code"], out.code);
    serde_json::from_value(v["report"].clone()).expect("an undo report")
}

#[test]
fn verify_reports_gaps_then_parity() {
    let env = Env::new(cluster(true, true, &map_roles()));
    let out = env.run(&["verify", "--format", "json"]);
    assert_eq!(out.code, 2, "stderr: {}", out.stderr);
    let v = out.json();
    assert_eq!(v["parity"], false);
    assert_eq!(row(&v, "mapRoles#1")["status"], "migrated");
    assert_eq!(row(&v, "mapRoles#1")["entry"], NODE);
    assert_eq!(row(&v, "mapRoles#2")["status"], "migrated");
    let ops = row(&v, "mapRoles#3");
    assert_eq!(ops["status"], "gap");
    assert_eq!(ops["code"], "no-entry");
    assert_eq!(ops["detail"], format!("no access entry for {OPS}"));
    assert_eq!(ops["prunable"], false);
    assert_eq!(v["summary"]["blocking"], 1);
    assert_eq!(v["lockout"]["caller_admin_after"], true);

    // Table and Markdown say the same.
    let table = env.run(&["verify"]);
    assert_eq!(table.code, 2);
    assert!(
        table
            .stdout
            .contains("Gaps: 1 aws-auth row would lose access (2 migrated, 1 gaps, 0 lossy, 0 ignored of 3 rows)."),
        "{}",
        table.stdout
    );
    let md = env.run(&["verify", "--format", "markdown"]);
    assert!(
        md.stdout
            .starts_with("### aws-auth-migrate verify: gaps remain\n"),
        "{}",
        md.stdout
    );
    assert!(md.stdout.contains("| `mapRoles#3` | `arn:aws:iam::111122223333:role/ops` | gap | no-entry: no access entry for arn:aws:iam::111122223333:role/ops |"), "{}", md.stdout);

    // A differing entry is still a gap; the right one gives parity.
    env.add_entry(AccessEntry::new(OPS).username("ops").groups(&["other"]));
    let v = env.run(&["verify", "--format", "json"]).json();
    assert_eq!(row(&v, "mapRoles#3")["code"], "entry-differs");
    assert_eq!(
        row(&v, "mapRoles#3")["detail"],
        "the entry lacks groups ops"
    );
    env.add_entry(AccessEntry::new(OPS).username("ops").groups(&["ops"]));
    let out = env.run(&["verify", "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert_eq!(out.json()["parity"], true);

    // An entry whose role IAM no longer has is reported.
    env.add_entry(AccessEntry::new("arn:aws:iam::111122223333:role/late").groups(&["x"]));
    assert!(env.emu.delete_role(A, "late"));
    let v = env.run(&["verify", "--format", "json"]).json();
    assert_eq!(
        v["orphan_entries"][0]["principal_arn"],
        "arn:aws:iam::111122223333:role/late"
    );
    assert_eq!(v["summary"]["orphan_entries"], 1);
}

#[test]
fn prune_keeps_unmigrated_rows_and_formatting_and_undo_restores_bytes() {
    let env = Env::new(cluster(true, true, &map_roles()));
    let before = env.aws_auth().unwrap();
    let journal = env.journal("prune.jsonl");
    let j = journal.display().to_string();

    // Without --yes and without a terminal: refused, nothing changed.
    let out = env.run(&["prune-configmap"]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(
        out.stderr.contains("pass --yes to confirm"),
        "{}",
        out.stderr
    );
    assert_eq!(env.aws_auth().unwrap(), before);

    let out = env.run(&["prune-configmap", "--yes", "--journal", &j]);
    assert_eq!(
        out.code, 0,
        "stdout: {}\nstderr: {}",
        out.stdout, out.stderr
    );
    assert!(
        out.stdout
            .contains(&format!("  - mapRoles#1 {NODE} (migrated)\n")),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains(&format!("  - mapRoles#2 {DEV} (migrated)\n")),
        "{}",
        out.stdout
    );
    let after = env.aws_auth().unwrap();
    assert_eq!(
        after["mapRoles"],
        format!("# platform nodes\n\n# developers\n{OPS_ROW}")
    );
    assert_eq!(after["note"], "kept as is");
    assert_eq!(after.len(), 2);

    // The journal holds the whole ConfigMap before, and is private.
    let steps = journal_steps(&journal);
    assert_eq!(steps.len(), 1);
    assert_eq!(steps[0].0, "put-configmap");
    assert_eq!(steps[0].1["status"], "done");
    let text = std::fs::read_to_string(&journal).unwrap();
    let intent: Value = serde_json::from_str(text.lines().nth(1).unwrap()).unwrap();
    assert_eq!(
        intent["step"]["backup_data"],
        serde_json::to_value(&before).unwrap()
    );
    assert_eq!(
        intent["step"]["removed_rows"],
        serde_json::json!(["mapRoles#1", "mapRoles#2"])
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&journal).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    // Nothing left to prune: unchanged.
    let out = env.run(&["prune-configmap", "--yes"]);
    assert_eq!(out.code, 0);
    assert!(out.stdout.starts_with("Nothing to prune"), "{}", out.stdout);

    // Undo: the ConfigMap's data comes back byte for byte.
    let report = undo(&env, &journal, &env.journal("prune-rollback.jsonl"));
    assert_eq!(
        report.undone,
        vec!["put-configmap (restore mapRoles#1, restore mapRoles#2)"]
    );
    assert!(report.skipped.is_empty() && report.irreversible.is_empty());
    assert_eq!(env.aws_auth().unwrap(), before);
    // A second undo finds aws-auth no longer as the prune left it: skipped.
    let report = undo(&env, &journal, &env.journal("prune-rollback-2.jsonl"));
    assert!(report.undone.is_empty());
    assert_eq!(report.skipped.len(), 1, "{report:?}");
    assert_eq!(env.aws_auth().unwrap(), before);
}

#[test]
fn prune_survives_a_concurrent_edit() {
    let env = Env::new(cluster(true, true, &map_roles()));
    let late_row =
        "- rolearn: arn:aws:iam::111122223333:role/late\n  username: late\n  groups: [late]\n";
    // The tool's PUT waits 1.5 s before it is handled: an edit lands meanwhile.
    env.emu.set_faults(Faults::new(
        1,
        vec![FaultRule::new("kube:ReplaceConfigMap")
            .on_cluster("prod")
            .latency_ms(1500)],
    ));
    let journal = env.journal("prune.jsonl");
    let cmd = env.cmd(&[
        "prune-configmap",
        "--yes",
        "--journal",
        &journal.display().to_string(),
    ]);
    let child = std::thread::spawn(move || cmd.run());
    let start = std::time::Instant::now();
    while env.emu.calls().count_on("kube:ReplaceConfigMap", "prod") == 0 {
        assert!(
            start.elapsed().as_secs() < 60,
            "the tool never sent its PUT"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let mut edited = env.aws_auth().unwrap();
    edited.insert("mapRoles".into(), format!("{}{late_row}", map_roles()));
    env.emu.put_aws_auth("prod", edited).unwrap();
    let out = child.join().unwrap();
    assert_eq!(
        out.code, 0,
        "stdout: {}\nstderr: {}",
        out.stdout, out.stderr
    );
    assert!(
        out.stderr
            .contains("was changed by someone else while pruning"),
        "{}",
        out.stderr
    );
    // The concurrent edit is kept; the migrated rows are gone.
    let after = env.aws_auth().unwrap();
    assert_eq!(
        after["mapRoles"],
        format!("# platform nodes\n\n# developers\n{OPS_ROW}{late_row}")
    );
    assert_eq!(env.emu.calls().count_on("kube:ReplaceConfigMap", "prod"), 2);
    let steps = journal_steps(&journal);
    assert_eq!(steps.len(), 2);
    assert_eq!(steps[0].1["status"], "failed");
    assert_eq!(steps[0].1["code"], "Conflict");
    assert_eq!(steps[1].1["status"], "done");
}

#[test]
fn prune_stops_when_every_put_conflicts() {
    let env = Env::new(cluster(true, true, &map_roles()));
    let before = env.aws_auth().unwrap();
    let rules = (1..=3)
        .map(|n| {
            FaultRule::new("kube:ReplaceConfigMap")
                .on_cluster("prod")
                .fail_nth(n, 409, "Conflict")
        })
        .collect();
    env.emu.set_faults(Faults::new(1, rules));
    let out = env.run(&[
        "prune-configmap",
        "--yes",
        "--journal",
        &env.journal("p.jsonl").display().to_string(),
    ]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(
        out.stderr
            .contains("aws-auth kept changing while pruning (3 attempts"),
        "{}",
        out.stderr
    );
    assert_eq!(env.aws_auth().unwrap(), before);
    assert_eq!(env.emu.calls().count_on("kube:ReplaceConfigMap", "prod"), 3);
}

fn finalize(env: &Env, extra: &[&str]) -> Output {
    let mut args = vec!["finalize", "--yes"];
    args.extend_from_slice(extra);
    env.run(&args)
}

fn refused(out: &Output, env: &Env, line: &str) {
    assert_eq!(
        out.code, 1,
        "stdout: {}\nstderr: {}",
        out.stdout, out.stderr
    );
    assert!(
        out.stderr.starts_with("finalize refused: cluster prod stays in API_AND_CONFIG_MAP mode; nothing was changed.\n"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(&format!("  - {line}")),
        "missing {line:?} in:\n{}",
        out.stderr
    );
    assert_eq!(env.mode(), "API_AND_CONFIG_MAP");
    assert_eq!(env.emu.calls().count("UpdateClusterConfig"), 0);
}

#[test]
fn finalize_refuses_when_a_node_role_lacks_an_entry() {
    let env = Env::new(cluster(true, false, &format!("{NODE_ROW}{DEV_ROW}")));
    let blocker = format!("node role {NODE} (in aws-auth) has no node-type access entry: its nodes could not join in API mode; create its node entry (apply), or remove the row from aws-auth if no node uses the role (--accept-gaps does not waive a node role)");
    let out = finalize(&env, &[]);
    refused(&out, &env, &blocker);
    // --accept-gaps takes the row (its gap is accepted) but does not waive
    // the node role: finalize still refuses, as verify says it will.
    let said = format!("Node role {NODE}: no node-type access entry (finalize refuses, even with --accept-gaps: create its node entry, or remove the row if no node uses the role).");
    for args in [
        vec!["verify"],
        vec!["verify", "--accept-gaps", "mapRoles#1"],
    ] {
        let v = env.run(&args);
        assert!(v.stdout.contains(&said), "{args:?}: {}", v.stdout);
    }
    let accepted = finalize(&env, &["--accept-gaps", "mapRoles#1"]);
    refused(&accepted, &env, &blocker);
    assert_eq!(
        accepted.stderr.matches("\n  - ").count(),
        1,
        "{}",
        accepted.stderr
    );
    assert!(
        out.stderr.contains(&format!(
            "  - mapRoles#1 ({NODE}) is gap: no-entry: no access entry for {NODE}\n"
        )),
        "{}",
        out.stderr
    );
}

#[test]
fn finalize_refuses_when_a_compute_role_lacks_a_node_entry() {
    let env = Env::new(
        cluster(true, true, &format!("{NODE_ROW}{DEV_ROW}")).node_group("gpu", GPU, false),
    );
    // EKS made node entries for every node group and Fargate role; take two away.
    assert!(env.emu.delete_access_entry("prod", GPU).unwrap());
    assert!(env.emu.delete_access_entry("prod", FARGATE).unwrap());
    let gpu_line = format!(
        "managed node group gpu uses role {GPU}, which has no node-type access entry: its nodes or pods could not join in API mode"
    );
    let fp_line = format!(
        "Fargate profile fp uses role {FARGATE}, which has no node-type access entry: its nodes or pods could not join in API mode"
    );
    let out = finalize(&env, &[]);
    refused(&out, &env, &gpu_line);
    assert!(
        out.stderr.contains(&format!("  - {fp_line}\n")),
        "{}",
        out.stderr
    );
    assert_eq!(out.stderr.matches("\n  - ").count(), 2, "{}", out.stderr);
    // Every node group and profile was described: win, workers, gpu and fp.
    let calls = env.emu.calls();
    assert_eq!(calls.count_on("ListNodegroups", "prod"), 1);
    assert_eq!(calls.count_on("DescribeNodegroup", "prod"), 3);
    assert_eq!(calls.count_on("ListFargateProfiles", "prod"), 1);
    assert_eq!(calls.count_on("DescribeFargateProfile", "prod"), 1);

    // A STANDARD entry for the node group role is not a node entry.
    env.add_entry(AccessEntry::new(GPU).username("gpu"));
    env.add_entry(AccessEntry::new(FARGATE).entry_type("FARGATE_LINUX"));
    let out = finalize(&env, &[]);
    refused(&out, &env, &gpu_line);
    assert_eq!(out.stderr.matches("\n  - ").count(), 1, "{}", out.stderr);

    // With its node entry, finalize goes ahead.
    env.add_entry(AccessEntry::new(GPU).entry_type("EC2_LINUX"));
    let out = finalize(
        &env,
        &["--journal", &env.journal("f.jsonl").display().to_string()],
    );
    assert_eq!(
        out.code, 0,
        "stdout: {}\nstderr: {}",
        out.stdout, out.stderr
    );
    assert!(!out.stdout.contains("NOT checked"), "{}", out.stdout);
    assert_eq!(env.mode(), "API");
    assert_eq!(env.emu.calls().count("UpdateClusterConfig"), 1);
}

#[test]
fn finalize_refuses_when_the_caller_would_lose_admin() {
    let env = Env::new(cluster(false, true, &format!("{NODE_ROW}{DEV_ROW}")));
    let out = finalize(&env, &[]);
    refused(
        &out,
        &env,
        &format!("the caller {CALLER} has no access entry with AmazonEKSClusterAdminPolicy at cluster scope: in API mode it could lose admin access; create one (or run as a principal that has one)"),
    );
    assert_eq!(out.stderr.matches("\n  - ").count(), 1, "{}", out.stderr);
}

#[test]
fn finalize_refuses_a_lossy_row_unless_accepted() {
    let env = Env::new(cluster(
        true,
        true,
        &format!("{NODE_ROW}{DEV_ROW}{MON_ROW}"),
    ));
    env.add_entry(AccessEntry::new(MON).username("mon"));
    // The code once, then its message (it was printed twice: "code: code: ...").
    let why = "system:monitoring: EKS refuses groups starting with system:; map it with --policy-map (policies or a rename) to migrate this row";
    let v = env.run(&["verify", "--format", "json"]).json();
    let mon = row(&v, "mapRoles#3");
    assert_eq!(mon["code"], "system-group-not-allowed");
    assert_eq!(
        mon["detail"],
        format!("{why}; the lossy entry exists as planned")
    );
    let table = env.run(&["verify"]).stdout;
    assert_eq!(
        table.matches("system-group-not-allowed").count(),
        1,
        "{table}"
    );
    let md = env.run(&["verify", "--format", "markdown"]).stdout;
    assert!(
        md.contains(&format!(
            "system-group-not-allowed: {why}; the lossy entry exists as planned"
        )),
        "{md}"
    );
    assert_eq!(md.matches("system-group-not-allowed").count(), 1, "{md}");
    let out = finalize(&env, &[]);
    refused(
        &out,
        &env,
        &format!("mapRoles#3 ({MON}) is lossy: system-group-not-allowed: {why}; the lossy entry exists as planned\n"),
    );
    assert_eq!(out.stderr.matches("\n  - ").count(), 1, "{}", out.stderr);
    // A wrong id is refused before anything else.
    let out = finalize(&env, &["--accept-gaps", "mapRoles#2"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .contains("--accept-gaps mapRoles#2: that row is migrated, not a gap"),
        "{}",
        out.stderr
    );
    assert_eq!(env.mode(), "API_AND_CONFIG_MAP");
    // Accepted: it goes ahead, and says what is lost.
    let journal = env.journal("finalize.jsonl");
    let out = finalize(
        &env,
        &[
            "--accept-gaps",
            "mapRoles#3",
            "--journal",
            &journal.display().to_string(),
        ],
    );
    assert_eq!(
        out.code, 0,
        "stdout: {}\nstderr: {}",
        out.stdout, out.stderr
    );
    assert!(
        out.stdout.contains(&format!(
            "  accepted gap mapRoles#3 ({MON}): its access is LOST in API mode: system-group-not-allowed: {why}; the lossy entry exists as planned\n"
        )),
        "{}",
        out.stdout
    );
    assert_eq!(env.mode(), "API");
    // aws-auth is left in place without --delete-configmap.
    assert!(env.aws_auth().is_some());
}

#[test]
fn finalize_checks_compute_roles_and_confirmation() {
    let env = Env::new(cluster(true, true, &format!("{NODE_ROW}{DEV_ROW}")));
    // ListNodegroups denied: the roles cannot be checked, which is a refusal.
    env.emu.set_faults(Faults::new(
        1,
        vec![FaultRule::new("ListNodegroups")
            .on_cluster("prod")
            .fail_nth(1, 403, "AccessDeniedException")],
    ));
    let out = env.run(&["finalize", "--yes"]);
    refused(
        &out,
        &env,
        "cannot list the managed node groups and Fargate profiles (ListNodegroups prod",
    );
    assert!(
        out.stderr.contains("grant eks:ListNodegroups, eks:DescribeNodegroup, eks:ListFargateProfiles and eks:DescribeFargateProfile, or pass --skip-compute-check"),
        "{}",
        out.stderr
    );
    env.emu.set_faults(Faults::default());

    // No terminal, no --yes: refused after the checks (every node group and
    // Fargate role has its node entry), nothing changed.
    env.emu.reset_calls();
    let out = env.run(&["finalize"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stdout.contains("THIS CANNOT BE UNDONE"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("every node role has a node entry.\n"),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr.contains("pass --yes to confirm"),
        "{}",
        out.stderr
    );
    let calls = env.emu.calls();
    assert_eq!(calls.count_on("DescribeNodegroup", "prod"), 2);
    assert_eq!(calls.count_on("DescribeFargateProfile", "prod"), 1);
    assert_eq!(env.mode(), "API_AND_CONFIG_MAP");
    assert_eq!(env.emu.calls().count("UpdateClusterConfig"), 0);

    // --skip-compute-check lists nothing, and says so.
    env.emu.reset_calls();
    let out = env.run(&["finalize", "--skip-compute-check"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stdout.contains(
            "(managed node groups and Fargate profiles NOT checked: --skip-compute-check)"
        ),
        "{}",
        out.stdout
    );
    assert_eq!(env.emu.calls().count("ListNodegroups"), 0);
    assert_eq!(env.emu.calls().count("ListFargateProfiles"), 0);
    assert_eq!(env.mode(), "API_AND_CONFIG_MAP");
}

#[test]
fn finalize_at_parity_switches_deletes_and_undo_recreates_aws_auth() {
    let env = Env::new(cluster(true, true, &format!("{NODE_ROW}{DEV_ROW}")));
    let before = env.aws_auth().unwrap();
    let journal = env.journal("finalize.jsonl");
    let out = finalize(
        &env,
        &[
            "--delete-configmap",
            "--journal",
            &journal.display().to_string(),
        ],
    );
    assert_eq!(
        out.code, 0,
        "stdout: {}\nstderr: {}",
        out.stdout, out.stderr
    );
    assert_eq!(env.mode(), "API");
    assert_eq!(env.aws_auth(), None);
    let steps = journal_steps(&journal);
    let ops: Vec<&str> = steps.iter().map(|(op, _)| op.as_str()).collect();
    assert_eq!(ops, vec!["switch-to-api", "delete-configmap"]);
    assert!(
        steps.iter().all(|(_, o)| o["status"] == "done"),
        "{steps:?}"
    );
    assert_eq!(steps[0].1["response"]["status"], "Successful");

    // Finalize again: already done.
    let out = finalize(&env, &["--delete-configmap"]);
    assert_eq!(out.code, 0);
    assert_eq!(
        out.stdout,
        "Cluster prod is already in API mode and has no aws-auth.\n"
    );

    // Undo recreates aws-auth byte for byte; the switch is irreversible.
    let report = undo(&env, &journal, &env.journal("finalize-rollback.jsonl"));
    assert_eq!(report.undone, vec!["create-configmap"]);
    assert_eq!(report.irreversible.len(), 1);
    assert!(report.irreversible[0]
        .starts_with("switch-to-api: EKS authentication modes only move forward"));
    assert_eq!(env.aws_auth().unwrap(), before);
    assert_eq!(env.mode(), "API");
}

/// An alias bomb in aws-auth's mapUsers (anyone who can edit aws-auth can
/// write one): live plan and verify report that section as the
/// authenticator treats it, dropped with goyaml's message, and go on.
#[test]
fn an_alias_bomb_in_a_live_section_is_reported_not_expanded() {
    let users = format!(
        "- userarn: arn:aws:iam::111122223333:user/u\n  bomb:\n{}",
        crate::plan_offline::alias_bomb("    ")
    );
    let env = Env::new(
        Cluster::new("prod", A, REGION)
            .mode("API_AND_CONFIG_MAP")
            .creator(CALLER, true)
            .access_entry(AccessEntry::new(DEV).username("dev").groups(&["devs"]))
            .aws_auth([("mapRoles", DEV_ROW.to_string()), ("mapUsers", users)]),
    );
    let plan = env.run(&["plan", "--format", "json"]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    let plan = plan.json();
    assert_eq!(plan["sections"][1]["section"], "mapUsers");
    assert_eq!(plan["sections"][1]["status"], "unparseable");
    assert_eq!(
        plan["sections"][1]["error"],
        "YAML error at line 5: document contains excessive aliasing"
    );
    let out = env.run(&["verify", "--format", "json"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let v = out.json();
    let rows = v["rows"].as_array().unwrap();
    let bomb = rows
        .iter()
        .find(|r| r["code"] == "section-unparseable")
        .unwrap_or_else(|| panic!("{rows:#?}"));
    assert_eq!(bomb["status"], "ignored");
    assert_eq!(
        bomb["detail"],
        "the authenticator ignores all of mapUsers today: YAML error at line 5: document contains excessive aliasing"
    );
}
