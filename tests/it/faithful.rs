//! Issue 13: never call live access dead. Rows the authenticator matches
//! today (the account root, a federated user) are lossy from plan to
//! finalize; sections no cluster can hold are refused; the authenticator's
//! empty-section markers plan nothing. The real binary against the emulator.

use eks_emulator::seed::{Cluster, Seed};
use eks_emulator::Emulator;
use serde_json::Value;

use crate::cmd::{bin, Output};

const A: &str = "111122223333";
const REGION: &str = "eu-west-1";
const KEY: &str = "AKIDADMIN";
const CALLER: &str = "arn:aws:iam::111122223333:user/admin";
const DEV: &str = "arn:aws:iam::111122223333:role/dev";
const ROOT: &str = "arn:aws:iam::111122223333:root";
const FED: &str = "arn:aws:sts::111122223333:federated-user/alice";

const DEV_ROW: &str =
    "- rolearn: arn:aws:iam::111122223333:role/dev\n  username: dev\n  groups: [devs]\n";
const USERS: &str = "- userarn: arn:aws:iam::111122223333:root\n  username: root-admin\n  groups: [system:masters]\n- userarn: arn:aws:sts::111122223333:federated-user/alice\n  username: alice\n  groups: [devs]\n- userarn: arn:aws:sts::111122223333:assumed-role/dev/bob\n  username: bob\n";

struct Env {
    emu: Emulator,
    state: tempfile::TempDir,
}

impl Env {
    fn new(aws_auth: &[(&str, &str)]) -> Env {
        let seed = Seed::default()
            .with_caller(KEY, A, CALLER)
            .with_user(A, "/", "admin")
            .with_role(A, "/", "dev")
            .with_update_duration_ms(200)
            .with_cluster(
                Cluster::new("prod", A, REGION)
                    .mode("API_AND_CONFIG_MAP")
                    .creator(CALLER, true)
                    .aws_auth(aws_auth.iter().map(|(k, v)| (k.to_string(), v.to_string()))),
            );
        Env {
            emu: Emulator::start(seed).expect("emulator starts"),
            state: tempfile::tempdir().unwrap(),
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        let kubeconfig = self.emu.kubeconfig_path().display().to_string();
        let mut all: Vec<String> = args.iter().map(std::string::ToString::to_string).collect();
        all.extend([
            "--cluster".into(),
            "prod".into(),
            "--kubeconfig".into(),
            kubeconfig,
        ]);
        crate::cmd::against(&self.emu.endpoint_url(), KEY, REGION, self.state.path())
            .args(all)
            .run()
    }

    fn mode(&self) -> String {
        self.emu.state()["clusters"][0]["authentication_mode"]
            .as_str()
            .unwrap()
            .to_string()
    }

    fn entries(&self) -> Vec<String> {
        // Principal ARN → entry, sorted.
        self.emu
            .cluster_state("prod")
            .unwrap()
            .access_entries
            .into_keys()
            .collect()
    }
}

fn codes(m: &Value) -> Vec<String> {
    m["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap().to_string())
        .collect()
}

fn row<'a>(v: &'a Value, id: &str) -> &'a Value {
    v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("no row {id} in {v:#}"))
}

#[test]
fn root_and_federated_rows_block_finalize() {
    let env = Env::new(&[("mapRoles", DEV_ROW), ("mapUsers", USERS)]);

    // plan: both rows lossy with their own code, no entry, counted.
    let out = env.run(&["plan", "--format", "json", "--allow-lossy"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let p = out.json();
    let m = p["mappings"].as_array().unwrap();
    assert_eq!(codes(&m[1]), vec!["root-user"]);
    assert_eq!(m[1]["reasons"][0]["severity"], "lossy");
    assert_eq!(m[1]["outcome"], "skip");
    assert_eq!(codes(&m[2]), vec!["federated-user"]);
    assert_eq!(codes(&m[3]), vec!["sts-arn"]);
    let entries: Vec<&str> = p["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["principal_arn"].as_str().unwrap())
        .collect();
    assert!(
        !entries.contains(&ROOT) && !entries.contains(&FED),
        "{entries:?}"
    );
    assert_eq!(p["summary"]["lossy_rows"], 2);
    assert_eq!(p["summary"]["lossy"], 2);
    let msg = m[1]["reasons"][0]["message"].as_str().unwrap();
    assert!(
        msg.contains("username \"root-admin\" and groups system:masters"),
        "{msg}"
    );
    assert!(!msg.contains("matches no one"), "{msg}");

    // The table lists them under lossy, with what is lost.
    let table = env.run(&["plan"]);
    assert!(
        table.stdout.contains(&format!(
            "Lossy rows, no access entry possible (2):\n  mapUsers#1 {ROOT}\n    root-user: the account root"
        )),
        "{}",
        table.stdout
    );
    assert!(
        table
            .stdout
            .replace('\n', " ")
            .contains("; 2 lossy rows that no access entry can carry."),
        "{}",
        table.stdout
    );
    let md = env.run(&["plan", "--format", "markdown"]);
    assert!(
        md.stdout
            .contains(&format!("| mapUsers#2 | `{FED}` | federated-user: ")),
        "{}",
        md.stdout
    );

    // apply creates dev's entry only, and says what it leaves alone.
    let out = env.run(&["apply", "--yes", "--allow-lossy"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains(&format!(
            "left alone: mapUsers#1 {ROOT}: root-user, no access entry can carry it"
        )),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains(&format!("left alone: mapUsers#2 {FED}: federated-user")),
        "{}",
        out.stdout
    );
    assert_eq!(env.entries(), vec![DEV.to_string(), CALLER.to_string()]);
    assert_eq!(env.emu.calls().count("CreateAccessEntry"), 1);

    // verify: lossy, not ignored; no parity (exit 2).
    let out = env.run(&["verify", "--format", "json"]);
    assert_eq!(out.code, 2, "{}\n{}", out.stdout, out.stderr);
    let v = out.json();
    assert_eq!(v["parity"], false);
    assert_eq!(row(&v, "mapRoles#1")["status"], "migrated");
    let root = row(&v, "mapUsers#1");
    assert_eq!(root["status"], "lossy");
    assert_eq!(root["code"], "root-user");
    assert_eq!(root["arn"], ROOT);
    assert!(root["detail"]
        .as_str()
        .unwrap()
        .contains("username \"root-admin\" and groups system:masters"));
    assert_eq!(row(&v, "mapUsers#2")["status"], "lossy");
    assert_eq!(row(&v, "mapUsers#2")["code"], "federated-user");
    assert_eq!(row(&v, "mapUsers#3")["status"], "ignored");
    assert_eq!(v["summary"]["ignored"], 1);
    assert_eq!(v["summary"]["blocking"], 2);
    let table = env.run(&["verify"]);
    assert_eq!(table.code, 2);
    assert!(table.stdout.contains("│ mapUsers#1 │"), "{}", table.stdout);
    let md = env.run(&["verify", "--format", "markdown"]);
    assert_eq!(md.code, 2);
    assert!(
        md.stdout.contains(&format!(
            "| `mapUsers#1` | `{ROOT}` | lossy | root-user: the account root ({ROOT}) matches this row today"
        )),
        "{}",
        md.stdout
    );
    assert!(md
        .stdout
        .contains("so it gets username \"root-admin\" and groups system:masters"));

    // finalize refuses, naming both; nothing changes.
    let out = env.run(&["finalize", "--yes"]);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr
            .contains(&format!("  - mapUsers#1 ({ROOT}) is lossy: root-user: ")),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(&format!(
            "  - mapUsers#2 ({FED}) is lossy: federated-user: "
        )),
        "{}",
        out.stderr
    );
    assert_eq!(env.mode(), "API_AND_CONFIG_MAP");
    assert_eq!(env.emu.calls().count("UpdateClusterConfig"), 0);

    // Accepting one is not enough; accepting both lets it go ahead.
    let out = env.run(&["finalize", "--yes", "--accept-gaps", "mapUsers#1"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_eq!(env.mode(), "API_AND_CONFIG_MAP");
    let out = env.run(&[
        "finalize",
        "--yes",
        "--accept-gaps",
        "mapUsers#1,mapUsers#2",
    ]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert_eq!(env.mode(), "API");
}

#[test]
fn non_string_sections_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    for (doc, what) in [
        (
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\n  namespace: kube-system\ndata:\n  mapRoles:\n    - rolearn: arn:aws:iam::111122223333:role/dev\n      username: dev\n      groups: [system:masters]\n",
            "line 7: data.mapRoles is a list, not a string",
        ),
        (
            "{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"aws-auth\",\"namespace\":\"kube-system\"},\"data\":{\"mapUsers\":{\"userarn\":\"arn:aws:iam::111122223333:user/u\"}}}",
            "data.mapUsers is a mapping, not a string",
        ),
    ] {
        let path = dir.path().join("aws-auth.yaml");
        std::fs::write(&path, doc).unwrap();
        let out = bin()
            .args(["plan", "--file", &path.display().to_string(), "--format", "json"])
            .run();
        assert_eq!(out.code, 1, "{}", out.stdout);
        assert!(out.stdout.is_empty(), "{}", out.stdout);
        assert!(out.stderr.contains(what), "{}", out.stderr);
        assert_eq!(out.stderr.trim_end().lines().count(), 1, "{}", out.stderr);
    }

    // apply --file from a cluster's point of view: refused before any change.
    let env = Env::new(&[("mapRoles", DEV_ROW)]);
    let path = dir.path().join("aws-auth.yaml");
    std::fs::write(
        &path,
        "data:\n  mapRoles:\n    - rolearn: arn:aws:iam::111122223333:role/dev\n      username: dev\n",
    )
    .unwrap();
    let out = env.run(&["apply", "--yes", "--file", &path.display().to_string()]);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("data.mapRoles is a list, not a string"),
        "{}",
        out.stderr
    );
    assert_eq!(env.entries(), vec![CALLER.to_string()]);
}

#[test]
fn empty_section_markers_plan_nothing() {
    // Offline: each marker is an empty section, not an unreadable one.
    for marker in ["'``'", "\"\"", "''", "' '", "'\"\"'"] {
        let doc = format!("data:\n  mapRoles: |\n    - rolearn: {DEV}\n      username: dev\n      groups: [devs]\n  mapUsers: {marker}\n");
        let out = bin()
            .args(["plan", "--file", "-", "--format", "json"])
            .stdin(doc)
            .run();
        assert_eq!(out.code, 0, "{marker}: {}", out.stderr);
        let p = out.json();
        assert_eq!(p["sections"][1]["section"], "mapUsers");
        assert_eq!(p["sections"][1]["status"], "absent", "{marker}");
        assert_eq!(p["mappings"].as_array().unwrap().len(), 1, "{marker}");
    }

    // Live: plan, apply, verify (parity: nothing ignored), finalize goes ahead.
    let env = Env::new(&[("mapRoles", DEV_ROW), ("mapUsers", "``")]);
    let p = env.run(&["plan", "--format", "json"]).json();
    assert_eq!(p["sections"][1]["status"], "absent");
    assert_eq!(p["summary"]["rows"], 1);
    let out = env.run(&["apply", "--yes"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let out = env.run(&["verify", "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    let v = out.json();
    assert_eq!(v["parity"], true);
    assert_eq!(v["summary"]["rows"], 1);
    assert_eq!(v["summary"]["ignored"], 0);
    let out = env.run(&["finalize", "--yes"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert_eq!(env.mode(), "API");
}
