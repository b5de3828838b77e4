//! Which cluster a kubeconfig context reaches: another cluster's context is
//! refused by every command; one that cannot be tied to the cluster either
//! way (a proxy, a tunnel) is a notice for reads and needs
//! --allow-unverified-context for changes. The real binary against two
//! emulated clusters, each with its own kube URL and context.

use eks_emulator::seed::{Cluster, Seed};
use eks_emulator::Emulator;
use serde_json::Value;

use crate::cmd::{against, Output};

const A: &str = "111122223333";
const REGION: &str = "eu-west-1";
const KEY: &str = "AKIDADMIN";
const CALLER: &str = "arn:aws:iam::111122223333:user/admin";
const DEV: &str = "arn:aws:iam::111122223333:role/dev";
const STAGING_ADMIN: &str = "arn:aws:iam::111122223333:role/staging-admin";

fn start() -> Emulator {
    let seed = Seed::default()
        .with_caller(KEY, A, CALLER)
        .with_user(A, "/", "admin")
        .with_role(A, "/", "dev")
        .with_role(A, "/", "staging-admin")
        .with_update_duration_ms(100)
        .with_cluster(
            Cluster::new("prod", A, REGION)
                .mode("API_AND_CONFIG_MAP")
                .creator(CALLER, true)
                .aws_auth([(
                    "mapRoles",
                    format!("- rolearn: {DEV}\n  username: dev\n  groups: [devs]\n"),
                )]),
        )
        .with_cluster(
            Cluster::new("staging", A, REGION)
                .mode("API_AND_CONFIG_MAP")
                .creator(CALLER, true)
                .aws_auth([(
                    "mapRoles",
                    format!("- rolearn: {STAGING_ADMIN}\n  username: admin\n  groups: [system:masters]\n"),
                )]),
        );
    Emulator::start(seed).expect("emulator starts")
}

struct Env {
    emu: Emulator,
    dir: tempfile::TempDir,
    kubeconfig: String,
}

impl Env {
    /// The emulator's kubeconfig plus two contexts by other names: `stg`
    /// (staging's server, an entry not named by an ARN) and `tunnel`
    /// (prod's kube API reached as localhost: nothing ties it either way).
    fn new() -> Env {
        let emu = start();
        let dir = tempfile::tempdir().unwrap();
        let mut kc: serde_yaml::Value =
            serde_yaml::from_str(&std::fs::read_to_string(emu.kubeconfig_path()).unwrap()).unwrap();
        let staging = emu.kube_url("staging").unwrap();
        let tunnel = emu
            .kube_url("prod")
            .unwrap()
            .replace("127.0.0.1", "localhost");
        let user = kc["users"][0]["name"].clone();
        for (name, server) in [("stg", staging), ("tunnel", tunnel)] {
            kc["clusters"].as_sequence_mut().unwrap().push(
                serde_yaml::from_str(&format!(
                    "{{name: {name}-cluster, cluster: {{server: \"{server}\"}}}}"
                ))
                .unwrap(),
            );
            let mut ctx: serde_yaml::Value = serde_yaml::from_str(&format!(
                "{{name: {name}, context: {{cluster: {name}-cluster}}}}"
            ))
            .unwrap();
            ctx["context"]["user"] = user.clone();
            kc["contexts"].as_sequence_mut().unwrap().push(ctx);
        }
        let path = dir.path().join("kubeconfig");
        std::fs::write(&path, serde_yaml::to_string(&kc).unwrap()).unwrap();
        Env {
            emu,
            kubeconfig: path.display().to_string(),
            dir,
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        let journal = self.dir.path().join("j.jsonl");
        let mut all: Vec<String> = args.iter().map(std::string::ToString::to_string).collect();
        all.extend(["--kubeconfig".to_string(), self.kubeconfig.clone()]);
        if ["apply", "prune-configmap", "finalize"].contains(&args[0]) {
            all.extend(["--journal".to_string(), journal.display().to_string()]);
        }
        against(&self.emu.endpoint_url(), KEY, REGION, self.dir.path())
            .args(all)
            .run()
    }

    /// Prod's entries, aws-auth and mode as the emulator holds them.
    fn prod(&self) -> Value {
        let state = self.emu.state();
        let c = state["clusters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == "prod")
            .unwrap()
            .clone();
        serde_json::json!({
            "entries": c["access_entries"],
            "aws_auth": c["aws_auth"],
            "mode": c["authentication_mode"],
        })
    }
}

fn one_line(out: &Output) -> &str {
    assert_eq!(
        out.code, 1,
        "stdout:\n{}\nstderr:\n{}",
        out.stdout, out.stderr
    );
    let line = out.stderr.trim_end();
    assert!(!line.contains('\n'), "one line: {line}");
    line
}

#[test]
fn another_clusters_context_is_refused_by_every_command() {
    let env = Env::new();
    let before = env.prod();
    let staging_arn = env.emu.cluster_arn("staging").unwrap();
    let prod_arn = env.emu.cluster_arn("prod").unwrap();
    let staging_url = env.emu.kube_url("staging").unwrap();
    let prod_url = env.emu.kube_url("prod").unwrap();

    // The case: staging's own context (named by its ARN).
    let out = env.run(&[
        "apply",
        "--cluster",
        "prod",
        "--context",
        &staging_arn,
        "--yes",
    ]);
    assert_eq!(
        one_line(&out),
        format!("error: --context {staging_arn} (server {staging_url}) is for another cluster, {staging_arn}, not for cluster prod ({prod_arn}, endpoint {prod_url}): aws-auth would be read from (and written to) the wrong cluster; pass --context with cluster prod's context, or run aws eks update-kubeconfig --name prod")
    );
    // A context of another name whose server is staging's: refused too,
    // even with --allow-unverified-context (it is not unverified: it is wrong).
    let out = env.run(&[
        "apply",
        "--cluster",
        "prod",
        "--context",
        "stg",
        "--yes",
        "--allow-unverified-context",
    ]);
    assert!(
        one_line(&out).starts_with(&format!("error: --context stg (server {staging_url}) is for another cluster, the cluster at {staging_url}, not for cluster prod")),
        "{}",
        out.stderr
    );
    for cmd in [
        vec!["plan", "--cluster", "prod"],
        vec!["verify", "--cluster", "prod"],
        vec!["prune-configmap", "--cluster", "prod", "--yes"],
        vec!["finalize", "--cluster", "prod", "--yes"],
    ] {
        for ctx in [staging_arn.as_str(), "stg"] {
            let mut args = cmd.clone();
            args.extend(["--context", ctx]);
            let out = env.run(&args);
            let line = one_line(&out);
            assert!(
                line.contains("is for another cluster") && line.contains("not for cluster prod"),
                "{cmd:?} {ctx}: {line}"
            );
        }
    }
    assert_eq!(env.prod(), before, "nothing changed on prod");
    assert_eq!(env.emu.calls().count("CreateAccessEntry"), 0);
    assert_eq!(env.emu.calls().count("UpdateClusterConfig"), 0);
    assert_eq!(
        env.emu.calls().count("kube:GetConfigMap"),
        0,
        "no aws-auth was read"
    );

    // Prod's own context still works.
    let out = env.run(&[
        "apply",
        "--cluster",
        "prod",
        "--context",
        &prod_arn,
        "--yes",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_ne!(env.prod()["entries"], before["entries"]);
}

#[test]
fn an_unverifiable_context_is_a_notice_for_reads_and_needs_the_flag_for_changes() {
    let env = Env::new();
    let before = env.prod();
    let notice = "aws-auth is read through --context tunnel (server http://localhost:";

    // Reads: used, with the notice in what they print.
    let plan = env.run(&[
        "plan",
        "--cluster",
        "prod",
        "--context",
        "tunnel",
        "--format",
        "json",
    ]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    assert_notice(&plan, notice);
    let verify = env.run(&[
        "verify",
        "--cluster",
        "prod",
        "--context",
        "tunnel",
        "--format",
        "json",
    ]);
    assert_eq!(verify.code, 2, "{}", verify.stderr);
    assert_notice(&verify, notice);
    let dry = env.run(&[
        "prune-configmap",
        "--cluster",
        "prod",
        "--context",
        "tunnel",
        "--dry-run",
    ]);
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(
        dry.stderr.contains(&format!("notice: {notice}")),
        "{}",
        dry.stderr
    );

    // Changes: refused without --allow-unverified-context, nothing changed.
    for cmd in [
        vec!["apply", "--cluster", "prod", "--yes"],
        vec!["prune-configmap", "--cluster", "prod", "--yes"],
        vec!["finalize", "--cluster", "prod", "--yes"],
    ] {
        let mut args = cmd.clone();
        args.extend(["--context", "tunnel"]);
        let out = env.run(&args);
        let line = one_line(&out);
        assert!(
            line.starts_with("error: --context tunnel (server http://localhost:")
                && line.contains("cannot be tied to cluster prod (")
                && line.ends_with("pass --allow-unverified-context (dangerous: the wrong cluster's aws-auth would be migrated)"),
            "{cmd:?}: {line}"
        );
    }
    assert_eq!(env.prod(), before, "nothing changed on prod");
    assert_eq!(env.emu.calls().count("CreateAccessEntry"), 0);

    // With the flag: applied, and said.
    let out = env.run(&[
        "apply",
        "--cluster",
        "prod",
        "--context",
        "tunnel",
        "--yes",
        "--allow-unverified-context",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!("notice: {notice}")),
        "{}",
        out.stderr
    );
    let entries = env.prod()["entries"].clone();
    assert!(entries.to_string().contains(DEV), "{entries:#}");
    assert!(!entries.to_string().contains(STAGING_ADMIN), "{entries:#}");
}

/// The command's JSON output has a notice starting with `notice`.
fn assert_notice(out: &Output, notice: &str) {
    let notices = out.json()["notices"].clone();
    assert!(
        notices
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().starts_with(notice)),
        "{notices:#}"
    );
}
