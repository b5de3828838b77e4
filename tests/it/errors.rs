//! "Errors you may meet" (docs/errors.md): each failure a user can cause
//! is one line on stderr that says what happened and what to do, exit 1.
//! The real binary; the emulator only where AWS must answer.

use eks_emulator::seed::{Cluster, Seed};
use eks_emulator::{Emulator, FaultRule, Faults};

use crate::cmd::{against, bin, Output};

const A: &str = "111122223333";
const REGION: &str = "eu-west-1";
const KEY: &str = "AKIDADMIN";
const CALLER: &str = "arn:aws:iam::111122223333:user/admin";

/// A refusal: exit 1, nothing on stdout, one line on stderr; that line.
fn one_line_error(out: &Output) -> &str {
    assert_eq!(
        out.code, 1,
        "stdout: {}\nstderr: {}",
        out.stdout, out.stderr
    );
    assert_eq!(out.stdout, "");
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    out.stderr.trim_end()
}

/// A port on 127.0.0.1 that nothing listens on (bound, then released).
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let port = listener.local_addr().expect("a local address").port();
    drop(listener);
    port
}

#[test]
fn unknown_profile_names_it_and_where_profiles_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    let credentials = dir.path().join("credentials");
    std::fs::write(&config, "[profile other]\nregion = eu-west-1\n").unwrap();
    let endpoint = format!("http://127.0.0.1:{}", closed_port());
    let out = against(&endpoint, KEY, REGION, dir.path())
        .env("AWS_CONFIG_FILE", &config.display().to_string())
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            &credentials.display().to_string(),
        )
        .args(["plan", "--cluster", "prod", "--profile", "nosuch"])
        .run();
    assert_eq!(
        one_line_error(&out),
        format!(
            "error: no AWS profile named nosuch (from --profile) in {} (AWS_CONFIG_FILE) or {} (AWS_SHARED_CREDENTIALS_FILE); check the name (aws configure list-profiles), or add it (aws configure --profile nosuch)",
            config.display(),
            credentials.display()
        )
    );
}

#[test]
fn unknown_profile_from_aws_profile_is_named_too() {
    let dir = tempfile::tempdir().unwrap();
    let out = bin()
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env("AWS_PROFILE", "nosuch")
        .env("AWS_CONFIG_FILE", "/nonexistent/aws-config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/aws-credentials",
        )
        .env("XDG_STATE_HOME", &dir.path().display().to_string())
        .args(["plan", "--cluster", "prod"])
        .run();
    assert_eq!(
        one_line_error(&out),
        "error: no AWS profile named nosuch (from AWS_PROFILE) in /nonexistent/aws-config (AWS_CONFIG_FILE) or /nonexistent/aws-credentials (AWS_SHARED_CREDENTIALS_FILE); check the name (aws configure list-profiles), or add it (aws configure --profile nosuch)"
    );
}

#[test]
fn unreachable_endpoint_names_the_url_and_its_setting() {
    let dir = tempfile::tempdir().unwrap();
    let endpoint = format!("http://127.0.0.1:{}", closed_port());
    let out = against(&endpoint, KEY, REGION, dir.path())
        .args(["plan", "--cluster", "prod"])
        .run();
    let line = one_line_error(&out);
    assert_eq!(
        line,
        format!("error: DescribeCluster prod: cannot reach {endpoint} (from AWS_ENDPOINT_URL) (dispatch failure: io error: client error (Connect): tcp connect error: Connection refused (os error 111)); check that this host can reach it (network, VPN, HTTPS_PROXY/NO_PROXY), or point AWS_ENDPOINT_URL (or --region) at a reachable endpoint")
    );
    assert!(!line.contains("DispatchFailure("), "{line}");
}

#[test]
fn unreachable_per_service_endpoint_names_its_variable() {
    let dir = tempfile::tempdir().unwrap();
    let endpoint = format!("http://127.0.0.1:{}", closed_port());
    let elsewhere = format!("http://127.0.0.1:{}", closed_port());
    let out = against(&elsewhere, KEY, REGION, dir.path())
        .env("AWS_ENDPOINT_URL_EKS", &endpoint)
        .args(["plan", "--cluster", "prod"])
        .run();
    assert_eq!(
        one_line_error(&out),
        format!("error: DescribeCluster prod: cannot reach {endpoint} (from AWS_ENDPOINT_URL_EKS) (dispatch failure: io error: client error (Connect): tcp connect error: Connection refused (os error 111)); check that this host can reach it (network, VPN, HTTPS_PROXY/NO_PROXY), or point AWS_ENDPOINT_URL (or --region) at a reachable endpoint")
    );
}

#[test]
fn missing_credentials_name_the_sources_tried() {
    let dir = tempfile::tempdir().unwrap();
    let endpoint = format!("http://127.0.0.1:{}", closed_port());
    // Not `against`: it exports static keys, and a removal cannot undo them.
    let out = bin()
        .env("AWS_ENDPOINT_URL", &endpoint)
        .env("AWS_REGION", REGION)
        .env("AWS_CONFIG_FILE", "/nonexistent/aws-config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/aws-credentials",
        )
        .env("XDG_STATE_HOME", &dir.path().display().to_string())
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_WEB_IDENTITY_TOKEN_FILE")
        .env_remove("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
        .env_remove("AWS_CONTAINER_CREDENTIALS_FULL_URI")
        .args(["plan", "--cluster", "prod"])
        .run();
    assert_eq!(
        one_line_error(&out),
        "error: DescribeCluster prod: no AWS credentials found (tried the environment (AWS_ACCESS_KEY_ID), the profile (--profile, AWS_PROFILE or default) in /nonexistent/aws-config (AWS_CONFIG_FILE) or /nonexistent/aws-credentials (AWS_SHARED_CREDENTIALS_FILE), web identity (AWS_WEB_IDENTITY_TOKEN_FILE), the ECS container and EC2 instance metadata); set AWS_PROFILE or pass --profile, or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
    );
}

#[test]
fn cluster_not_found_names_the_cluster_and_the_region() {
    let emu =
        Emulator::start(Seed::default().with_caller(KEY, A, CALLER)).expect("emulator starts");
    let dir = tempfile::tempdir().unwrap();
    let out = against(&emu.endpoint_url(), KEY, REGION, dir.path())
        .args(["plan", "--cluster", "nope"])
        .run();
    assert_eq!(
        one_line_error(&out),
        "error: DescribeCluster nope: no cluster named nope in eu-west-1 (No cluster found for name: nope.); check --cluster and --region (or AWS_REGION)"
    );
}

#[test]
fn no_region_says_where_to_set_one() {
    let dir = tempfile::tempdir().unwrap();
    let endpoint = format!("http://127.0.0.1:{}", closed_port());
    let out = bin()
        .env("AWS_ENDPOINT_URL", &endpoint)
        .env("AWS_ACCESS_KEY_ID", KEY)
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .env("AWS_CONFIG_FILE", "/nonexistent/aws-config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/aws-credentials",
        )
        .env("XDG_STATE_HOME", &dir.path().display().to_string())
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .args(["plan", "--cluster", "prod"])
        .run();
    assert_eq!(
        one_line_error(&out),
        "error: no AWS region: pass --region or set AWS_REGION (or a region in the profile)"
    );
}

/// A rule that answers the first call of `operation` with EKS's 403
/// AccessDeniedException and the message AWS gives for `caller`.
fn deny(operation: &str, action: &str, caller: &str, resource: &str) -> Faults {
    let mut rule = FaultRule::new(operation).fail_nth(1, 403, "AccessDeniedException");
    if let Some(f) = rule.fail_nth.as_mut() {
        f.message = Some(format!(
            "User: {caller} is not authorized to perform: {action} on resource: {resource}"
        ));
    }
    Faults::new(1, vec![rule])
}

#[test]
fn access_denied_names_the_action_and_the_caller() {
    let emu = Emulator::start(
        Seed::default().with_caller(KEY, A, CALLER).with_cluster(
            Cluster::new("prod", A, REGION)
                .mode("API_AND_CONFIG_MAP")
                .version("1.29", "eks.3")
                .aws_auth([("mapRoles", "")]),
        ),
    )
    .expect("emulator starts");
    let arn = emu.cluster_arn("prod").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = emu.kubeconfig_path().display().to_string();
    let run = || {
        against(&emu.endpoint_url(), KEY, REGION, dir.path())
            .args(["plan", "--cluster", "prod", "--kubeconfig", &kubeconfig])
            .run()
    };

    // The first call: the caller comes from GetCallerIdentity, made beside it.
    emu.set_faults(deny("DescribeCluster", "eks:DescribeCluster", CALLER, &arn));
    assert_eq!(
        one_line_error(&run()),
        format!("error: DescribeCluster prod: access denied for {CALLER} (User: {CALLER} is not authorized to perform: eks:DescribeCluster on resource: {arn}); grant eks:DescribeCluster to that principal, or run as one that has it")
    );

    // A later call, once the cluster is known.
    emu.set_faults(deny(
        "ListAccessEntries",
        "eks:ListAccessEntries",
        CALLER,
        &arn,
    ));
    assert_eq!(
        one_line_error(&run()),
        format!("error: ListAccessEntries prod: access denied for {CALLER} (User: {CALLER} is not authorized to perform: eks:ListAccessEntries on resource: {arn}); grant eks:ListAccessEntries to that principal, or run as one that has it")
    );
}
