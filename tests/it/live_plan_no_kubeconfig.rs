//! `plan --cluster` with no kubeconfig at all: the Kubernetes API reached
//! with DescribeCluster's endpoint and an EKS token minted from the same
//! credentials (`--kube-auth auto`, the default, and `eks-token`).

use eks_emulator::seed::{Cluster, Seed};
use eks_emulator::Emulator;

use crate::cmd::{bin, Cmd, Output};

const A: &str = "111122223333";
const REGION: &str = "eu-west-1";
const KEY: &str = "AKIDADMIN";
const CALLER: &str = "arn:aws:iam::111122223333:user/admin";

fn start() -> Emulator {
    let seed = Seed::default()
        .with_caller(KEY, A, CALLER)
        .with_user(A, "/", "admin")
        .with_role(A, "/", "dev")
        .with_role(A, "/", "platform")
        .with_cluster(Cluster::new("legacy", A, REGION).aws_auth([(
            "mapRoles",
            format!("- rolearn: arn:aws:iam::{A}:role/dev\n  username: dev\n  groups: [devs]\n"),
        )]));
    Emulator::start(seed).expect("emulator starts")
}

/// The binary with the emulator's endpoints and `secret` as the secret
/// key, and no kubeconfig: KUBECONFIG names a file that does not exist.
fn no_kubeconfig(emu: &Emulator, secret: &str) -> Cmd {
    let url = emu.endpoint_url();
    bin()
        .env("AWS_ENDPOINT_URL_EKS", &url)
        .env("AWS_ENDPOINT_URL_IAM", &url)
        .env("AWS_ENDPOINT_URL_STS", &url)
        .env("AWS_ACCESS_KEY_ID", KEY)
        .env("AWS_SECRET_ACCESS_KEY", secret)
        .env("AWS_REGION", REGION)
        .env("AWS_CONFIG_FILE", "/nonexistent/aws-config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/aws-credentials",
        )
        .env("AWS_AUTH_MIGRATE_INITIAL_BACKOFF_MS", "5")
        .env("KUBECONFIG", "/nonexistent/kubeconfig")
}

fn assert_no_token(out: &Output) {
    for (name, text) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        let lower = text.to_ascii_lowercase();
        assert!(
            !text.contains("k8s-aws-v1."),
            "{name} shows the token:\n{text}"
        );
        assert!(!lower.contains("x-amz-signature"), "{name}:\n{text}");
        assert!(!lower.contains("bearer "), "{name}:\n{text}");
    }
}

#[test]
fn a_live_plan_needs_no_kubeconfig() {
    let emu = start();
    for extra in [&[][..], &["--kube-auth", "eks-token"][..]] {
        let out = no_kubeconfig(&emu, "secret")
            .args(["plan", "--cluster", "legacy", "--format", "json"])
            .args(extra)
            .run();
        assert_eq!(out.code, 0, "{extra:?}: {}", out.stderr);
        let v = out.json();
        assert_eq!(v["source"]["kind"], "cluster", "{extra:?}");
        assert!(
            v["entries"]
                .to_string()
                .contains(&format!("arn:aws:iam::{A}:role/dev")),
            "{extra:?}: aws-auth was read: {v:#}"
        );
        assert_no_token(&out);
    }
    assert_eq!(emu.calls().count("kube:GetConfigMap"), 2);
    let state = emu.cluster_state("legacy").unwrap();
    assert_eq!(state.token_callers, vec![CALLER.to_string()]);

    // --debug logs every request: never the token or its signature.
    let out = no_kubeconfig(&emu, "secret")
        .args(["plan", "--cluster", "legacy", "--debug"])
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("Kubernetes request"), "{}", out.stderr);
    assert_no_token(&out);
}

#[test]
fn the_token_is_the_assumed_roles_with_role_arn() {
    let emu = start();
    let out = no_kubeconfig(&emu, "secret")
        .args(["plan", "--cluster", "legacy", "--format", "json"])
        .args(["--role-arn", &format!("arn:aws:iam::{A}:role/platform")])
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let callers = emu.cluster_state("legacy").unwrap().token_callers;
    assert_eq!(callers.len(), 1, "{callers:?}");
    assert!(
        callers[0].starts_with(&format!("arn:aws:sts::{A}:assumed-role/platform/")),
        "{callers:?}"
    );
}

#[test]
fn a_token_signed_with_a_wrong_secret_is_refused() {
    let emu = start();
    // The AWS calls pass (the emulator does not check their signatures);
    // the token's is checked, as EKS checks it through STS.
    let out = no_kubeconfig(&emu, "not-the-secret")
        .args(["plan", "--cluster", "legacy", "--format", "json"])
        .run();
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(
        out.stderr
            .contains("the EKS token of the AWS credentials is not accepted"),
        "{}",
        out.stderr
    );
    assert_no_token(&out);
    assert!(emu
        .cluster_state("legacy")
        .unwrap()
        .token_callers
        .is_empty());
}

#[test]
fn kubeconfig_only_keeps_the_old_refusal() {
    let emu = start();
    let out = no_kubeconfig(&emu, "secret")
        .args(["plan", "--cluster", "legacy", "--kube-auth", "kubeconfig"])
        .run();
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert_eq!(emu.calls().count("kube:GetConfigMap"), 0);
}

#[test]
fn apply_and_prune_write_aws_auth_through_the_token() {
    let seed = Seed::default()
        .with_caller(KEY, A, CALLER)
        .with_user(A, "/", "admin")
        .with_role(A, "/", "dev")
        .with_update_duration_ms(100)
        .with_cluster(
            Cluster::new("prod", A, REGION)
                .mode("API_AND_CONFIG_MAP")
                .creator(CALLER, true)
                .aws_auth([(
                    "mapRoles",
                    format!(
                        "- rolearn: arn:aws:iam::{A}:role/dev\n  username: dev\n  groups: [devs]\n"
                    ),
                )]),
        );
    let emu = Emulator::start(seed).expect("emulator starts");
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().display().to_string();
    let run = |args: &[&str]| {
        no_kubeconfig(&emu, "secret")
            .env("XDG_STATE_HOME", &state)
            .env("AWS_AUTH_MIGRATE_POLL_MS", "50")
            .args(args)
            .run()
    };
    let out = run(&["apply", "--cluster", "prod", "--yes"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_no_token(&out);
    let out = run(&["prune-configmap", "--cluster", "prod", "--yes"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert_no_token(&out);
    let prod = emu.cluster_state("prod").unwrap();
    assert_eq!(prod.token_callers, vec![CALLER.to_string()]);
    let calls = emu.calls();
    let writes = calls.count("kube:ReplaceConfigMap")
        + calls.count("kube:PatchConfigMap")
        + calls.count("kube:DeleteConfigMap");
    assert!(writes > 0, "aws-auth was written");
}
