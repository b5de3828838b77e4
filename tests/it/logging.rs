//! `-v`, `-vv`, `--debug` and `RUST_LOG`: logs on stderr only (stdout stays
//! the JSON a pipe reads), and never a credential, token or signature, even
//! with every library's logs on.

use eks_emulator::seed::{Cluster, Seed};
use eks_emulator::{Emulator, FaultRule, Faults};

use crate::cmd::{against, Output};

const A: &str = "111122223333";
const REGION: &str = "eu-west-1";
const KEY: &str = "AKIDLOGGINGTEST";
const CALLER: &str = "arn:aws:iam::111122223333:user/admin";
/// Credentials no log may show (the emulator accepts any secret).
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzSECRETKEY";
const SESSION_TOKEN: &str = "IQoJb3JpZ2luX2VjEXAMPLESESSIONTOKEN";

fn emulator() -> Emulator {
    let map_roles = format!(
        "- rolearn: arn:aws:iam::{A}:role/node\n  username: system:node:{{{{EC2PrivateDNSName}}}}\n  groups:\n    - system:bootstrappers\n    - system:nodes\n- rolearn: arn:aws:iam::{A}:role/dev\n  username: dev\n  groups:\n    - devs\n"
    );
    Emulator::start(
        Seed::default()
            .with_caller(KEY, A, CALLER)
            .with_user(A, "/", "admin")
            .with_role(A, "/", "node")
            .with_role(A, "/", "dev")
            .with_cluster(
                Cluster::new("prod", A, REGION)
                    .mode("API_AND_CONFIG_MAP")
                    .creator(CALLER, true)
                    .version("1.29", "eks.3")
                    .aws_auth([("mapRoles", map_roles)]),
            ),
    )
    .expect("emulator starts")
}

/// One 503 to retry and one failed ConfigMap read (a 500: kube's client
/// retries 429, 503 and 504 itself, unseen), so that the retry paths log
/// too (set anew for each run: the rules count calls).
fn faults() -> Faults {
    Faults::new(
        1,
        vec![
            FaultRule::new("GetRole").fail_nth(1, 503, "ServiceUnavailable"),
            FaultRule::new("kube:GetConfigMap").fail_nth(1, 500, "InternalError"),
        ],
    )
}

fn plan(emu: &Emulator, flags: &[&str], env: &[(&str, &str)]) -> Output {
    emu.set_faults(faults());
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = emu.kubeconfig_path().display().to_string();
    let mut cmd = against(&emu.endpoint_url(), KEY, REGION, dir.path())
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env("AWS_SESSION_TOKEN", SESSION_TOKEN)
        .args([
            "plan",
            "--cluster",
            "prod",
            "--kubeconfig",
            &kubeconfig,
            "--format",
            "json",
        ])
        .args(flags);
    for (k, v) in env {
        cmd = cmd.env(k, v);
    }
    let out = cmd.run();
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    // stdout is the plan alone, whatever is logged.
    let plan = out.json();
    assert_eq!(plan["cluster"]["name"], "prod", "{}", out.stdout);
    out
}

/// The bearer token of the emulator's kubeconfig.
fn bearer_token(emu: &Emulator) -> String {
    let kc: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(emu.kubeconfig_path()).unwrap()).unwrap();
    let token = kc["users"][0]["user"]["token"]
        .as_str()
        .expect("the kubeconfig's user has a token")
        .to_string();
    assert!(!token.is_empty());
    token
}

fn assert_no_secret(stderr: &str, token: &str, how: &str) {
    let lower = stderr.to_ascii_lowercase();
    // "authorization" alone is in RBAC's API group (rbac.authorization.k8s.io).
    let header = ["\"authorization\"", "authorization:", "authorization="]
        .iter()
        .any(|h| lower.contains(h));
    for (what, found) in [
        ("the secret access key", stderr.contains(SECRET)),
        ("the session token", stderr.contains(SESSION_TOKEN)),
        ("the kubeconfig's bearer token", stderr.contains(token)),
        ("Authorization", stderr.contains("Authorization") || header),
        (
            "X-Amz-Security-Token",
            lower.contains("x-amz-security-token"),
        ),
        ("a bearer token", lower.contains("bearer ")),
        ("a signature", lower.contains("signature=")),
        ("a string to sign", lower.contains("string_to_sign")),
        ("a canonical request", lower.contains("canonical_request")),
    ] {
        assert!(!found, "{how}: stderr shows {what}:\n{stderr}");
    }
}

#[test]
fn debug_logs_show_no_credential_token_or_signature() {
    let emu = emulator();
    let token = bearer_token(&emu);
    let out = plan(&emu, &["--debug"], &[]);
    // Everything is on: ours at trace, the SDK's and kube's at debug.
    for expected in [
        "aws_auth_migrate::live",
        "AWS request",
        "Kubernetes request",
        "aws_smithy_runtime",
        "kube_client",
    ] {
        assert!(
            out.stderr.contains(expected),
            "--debug: no {expected}:\n{}",
            out.stderr
        );
    }
    assert_no_secret(&out.stderr, &token, "--debug");

    // RUST_LOG=trace asks for every library's trace level: still nothing.
    let out = plan(&emu, &[], &[("RUST_LOG", "trace")]);
    assert!(out.stderr.contains("aws_smithy_runtime"), "{}", out.stderr);
    assert_no_secret(&out.stderr, &token, "RUST_LOG=trace");
}

#[test]
fn verbosity_levels_and_rust_log() {
    let emu = emulator();
    // Nothing asked, nothing logged.
    assert_eq!(plan(&emu, &[], &[]).stderr, "");

    // -v: phases, timings and retries, not each request.
    let out = plan(&emu, &["-v"], &[]);
    for expected in [
        "phase: cluster and caller",
        "phase: aws-auth read",
        "phase: IAM lookups",
        "phase: access entries read",
        "elapsed_ms=",
        "AWS retry",
        "operation=\"GetRole\"",
        "retrying the Kubernetes request",
    ] {
        assert!(
            out.stderr.contains(expected),
            "-v: no {expected}:\n{}",
            out.stderr
        );
    }
    assert!(!out.stderr.contains("AWS request"), "{}", out.stderr);
    assert!(!out.stderr.contains("aws_smithy_runtime"), "{}", out.stderr);

    // -vv (before the subcommand as well as after): every request.
    let out = plan(&emu, &["-vv"], &[]);
    for expected in [
        "AWS request",
        "operation=\"DescribeCluster\"",
        "method=\"GET\"",
        "target=\"/clusters/prod\"",
        "status=200",
        "status=503",
        "Kubernetes request",
        "target=\"configmaps/kube-system/aws-auth\"",
        "status=500",
    ] {
        assert!(
            out.stderr.contains(expected),
            "-vv: no {expected}:\n{}",
            out.stderr
        );
    }
    assert!(!out.stderr.contains("aws_smithy_runtime"), "{}", out.stderr);

    // RUST_LOG overrides the flags.
    let out = plan(
        &emu,
        &["-vv"],
        &[("RUST_LOG", "aws_auth_migrate::live=info")],
    );
    assert!(out.stderr.contains("phase: IAM lookups"), "{}", out.stderr);
    assert!(!out.stderr.contains("AWS request"), "{}", out.stderr);
}

#[test]
fn the_flags_go_before_or_after_the_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["-vv", "plan", "--file", "examples/aws-auth.yaml"][..],
        &["plan", "--debug", "--file", "examples/aws-auth.yaml"][..],
        &[
            "--verbose",
            "plan",
            "--file",
            "examples/aws-auth.yaml",
            "-v",
        ][..],
    ] {
        let out = against("http://127.0.0.1:9", KEY, REGION, dir.path())
            .args(args)
            .run();
        assert_eq!(out.code, 0, "{args:?}: {}", out.stderr);
    }
}
