//! `batch plan` over 50 emulated clusters of 20 aws-auth rows each, every
//! call delayed 25 ms by the emulator, against one cluster alone. Runs the
//! real binary. Ignored by default (it takes a few seconds and starts an
//! emulator): `cargo bench --bench batch -- --ignored`, or set
//! `AWS_AUTH_MIGRATE_BENCH_BATCH=1`. With `-- shards`: a 300-cluster fleet
//! planned by one runner against 6 shards run at once, then merged
//! (issue 19). Prints Markdown tables for docs/benchmarks.md; timing is
//! reported, never asserted.

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
    seed_of(CLUSTERS)
}

fn seed_of(clusters: usize) -> Seed {
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
    for c in 0..clusters {
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
    let status = plan_command(emu, dir, fleet, &out, parallel, None)
        .status()
        .expect("the binary runs");
    let took = started.elapsed();
    // 2: changes planned, on every cluster.
    assert_eq!(status.code(), Some(2), "batch plan failed");
    took
}

/// `batch plan` of `fleet` into `out`, shard `I/N` when given.
fn plan_command(
    emu: &Emulator,
    dir: &Path,
    fleet: &Path,
    out: &Path,
    parallel: usize,
    shard: Option<&str>,
) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_aws-auth-migrate"));
    cmd.args(["batch", "plan", "--fleet"])
        .arg(fleet)
        .arg("--out-dir")
        .arg(out)
        .args(["--parallel", &parallel.to_string(), "--progress", "json"]);
    if let Some(s) = shard {
        cmd.args(["--shard", s]);
    }
    cmd.env("AWS_ENDPOINT_URL", emu.endpoint_url())
        .env("AWS_ACCESS_KEY_ID", "AKIDBENCH")
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("XDG_STATE_HOME", dir)
        .env_remove("AWS_PROFILE")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    cmd
}

/// 300 clusters: one runner, then 6 shards started at once (each its own
/// process and output folder, one state folder), then the merge.
fn shards() {
    const FLEET: usize = 300;
    const SHARDS: usize = 6;
    const PARALLEL: usize = 16;
    let emu = Emulator::start(seed_of(FLEET)).expect("emulator starts");
    emu.set_faults(Faults::new(
        1,
        vec![FaultRule::new("*").latency_ms(LATENCY_MS)],
    ));
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("fleet.yaml");
    fleet(&file, emu.kubeconfig_path(), FLEET);
    let one = batch_plan(&emu, dir.path(), &file, PARALLEL);
    let started = Instant::now();
    let children: Vec<_> = (1..=SHARDS)
        .map(|i| {
            let out = dir.path().join(format!("shard-{i}"));
            let shard = format!("{i}/{SHARDS}");
            let t = Instant::now();
            let child = plan_command(&emu, dir.path(), &file, &out, PARALLEL, Some(&shard))
                .spawn()
                .expect("the binary runs");
            (i, t, child)
        })
        .collect();
    let mut per_shard = Vec::new();
    for (i, t, mut child) in children {
        let status = child.wait().expect("the shard ends");
        assert_eq!(status.code(), Some(2), "shard {i} failed");
        per_shard.push((i, t.elapsed()));
    }
    let shards_wall = started.elapsed();
    let merge_started = Instant::now();
    let merged = Command::new(env!("CARGO_BIN_EXE_aws-auth-migrate"))
        .args(["batch", "report", "--merge", "--fleet"])
        .arg(&file)
        .args(["--command", "plan", "--output", "markdown"])
        .env("XDG_STATE_HOME", dir.path())
        .stdout(std::process::Stdio::null())
        .status()
        .expect("the merge runs");
    let merge = merge_started.elapsed();
    assert!(matches!(merged.code(), Some(0 | 2)), "merge failed");
    println!("| run | wall time |\n|---|---|");
    println!(
        "| {FLEET} clusters, one runner, --parallel {PARALLEL} | {:.2} s |",
        one.as_secs_f64()
    );
    println!(
        "| {FLEET} clusters, {SHARDS} shards at once (--parallel {PARALLEL} each) | {:.2} s |",
        shards_wall.as_secs_f64()
    );
    for (i, t) in per_shard {
        println!("| shard {i}/{SHARDS} | {:.2} s |", t.as_secs_f64());
    }
    println!(
        "| batch report --merge (Markdown) | {:.2} s |",
        merge.as_secs_f64()
    );
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    if std::env::args().any(|a| a == "shards") {
        shards();
        return;
    }
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
