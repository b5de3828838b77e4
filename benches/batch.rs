//! `batch plan` over 50 emulated clusters of 20 aws-auth rows each, every
//! call delayed 25 ms by the emulator, against one cluster alone. Runs the
//! real binary. Ignored by default (it takes a few seconds and starts an
//! emulator): `cargo bench --bench batch -- --ignored`, or set
//! `AWS_AUTH_MIGRATE_BENCH_BATCH=1`. Prints a Markdown table for
//! docs/benchmarks.md; timing is reported, never asserted.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use eks_emulator::seed::{Cluster, Seed};
use eks_emulator::{Emulator, FaultRule, Faults};

const ACCOUNT: &str = "111122223333";
const REGION: &str = "eu-west-1";
const CLUSTERS: usize = 50;
const ROWS: usize = 20;
const LATENCY_MS: u64 = 25;
const RUNS: usize = 3;

fn seed() -> Seed {
    let mut seed = Seed::default()
        .with_caller(
            "AKIDBENCH",
            ACCOUNT,
            &format!("arn:aws:iam::{ACCOUNT}:user/admin"),
        )
        .with_user(ACCOUNT, "/", "admin");
    for i in 0..ROWS {
        seed = seed.with_role(ACCOUNT, "/", &format!("role-{i}"));
    }
    let mut roles = String::new();
    for i in 0..ROWS - 1 {
        roles.push_str(&format!(
            "- rolearn: arn:aws:iam::{ACCOUNT}:role/role-{i}\n  username: u-{i}\n  groups: [team-{}]\n",
            i % 4
        ));
    }
    let users = format!(
        "- userarn: arn:aws:iam::{ACCOUNT}:user/admin\n  username: admin\n  groups: [system:masters]\n"
    );
    for c in 0..CLUSTERS {
        seed = seed.with_cluster(
            Cluster::new(&format!("bench-{c:02}"), ACCOUNT, REGION)
                .mode("API_AND_CONFIG_MAP")
                .version("1.31", "eks.1")
                .aws_auth([("mapRoles", roles.clone()), ("mapUsers", users.clone())]),
        );
    }
    seed
}

fn fleet(path: &Path, kubeconfig: &Path, n: usize) {
    let mut y = format!(
        "defaults:\n  region: {REGION}\n  kubeconfig: {}\nclusters:\n",
        kubeconfig.display()
    );
    for c in 0..n {
        y.push_str(&format!("  - name: bench-{c:02}\n"));
    }
    std::fs::write(path, y).expect("fleet file written");
}

fn batch_plan(emu: &Emulator, dir: &Path, fleet: &Path, parallel: usize) -> Duration {
    let out = dir.join(format!("out-{}", fleet.display().to_string().len()));
    let started = Instant::now();
    let status = Command::new(env!("CARGO_BIN_EXE_aws-auth-migrate"))
        .args(["batch", "plan", "--fleet"])
        .arg(fleet)
        .arg("--out-dir")
        .arg(&out)
        .args(["--parallel", &parallel.to_string(), "--progress", "json"])
        .env("AWS_ENDPOINT_URL", emu.endpoint_url())
        .env("AWS_ACCESS_KEY_ID", "AKIDBENCH")
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("XDG_STATE_HOME", dir)
        .env_remove("AWS_PROFILE")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("the binary runs");
    let took = started.elapsed();
    // 2: changes planned, on every cluster.
    assert_eq!(status.code(), Some(2), "batch plan failed");
    took
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let wanted = std::env::args().any(|a| a == "--ignored" || a == "--include-ignored")
        || std::env::var_os("AWS_AUTH_MIGRATE_BENCH_BATCH").is_some();
    if !wanted {
        println!("batch: ignored (run with `cargo bench --bench batch -- --ignored`)");
        return;
    }
    let emu = Emulator::start(seed()).expect("emulator starts");
    emu.set_faults(Faults::new(
        1,
        vec![FaultRule::new("*").latency_ms(LATENCY_MS)],
    ));
    let dir = tempfile::tempdir().expect("temp dir");
    let one = dir.path().join("one.yaml");
    let all = dir.path().join("fleet-of-fifty.yaml");
    fleet(&one, emu.kubeconfig_path(), 1);
    fleet(&all, emu.kubeconfig_path(), CLUSTERS);

    let t1 = median(
        (0..RUNS)
            .map(|_| batch_plan(&emu, dir.path(), &one, 1))
            .collect(),
    );
    println!(
        "| clusters | --parallel | wall time (median of {RUNS}) | ratio to one cluster |\n|---|---|---|---|"
    );
    println!("| 1 | 1 | {:.2} s | 1.0 |", t1.as_secs_f64());
    for parallel in [1, 4, 16] {
        let t = median(
            (0..RUNS)
                .map(|_| batch_plan(&emu, dir.path(), &all, parallel))
                .collect(),
        );
        println!(
            "| {CLUSTERS} | {parallel} | {:.2} s | {:.1} |",
            t.as_secs_f64(),
            t.as_secs_f64() / t1.as_secs_f64()
        );
    }
    let calls = emu.calls();
    let runs = (RUNS * 4) as f64;
    println!(
        "\ncalls per plan of bench-00: DescribeCluster {}, GetConfigMap {}, ListAccessEntries {}",
        calls.count_on("DescribeCluster", "bench-00") as f64 / runs,
        calls.count_on("kube:GetConfigMap", "bench-00") as f64 / runs,
        calls.count_on("ListAccessEntries", "bench-00") as f64 / runs,
    );
}
