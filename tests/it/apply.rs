//! `apply` and `rollback`: the real binary against the emulator, including
//! kills at random points followed by `--resume` or `rollback`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use eks_emulator::seed::{AccessEntry, Cluster, Seed};
use eks_emulator::{Emulator, FaultRule, Faults};

use crate::cmd::{against, Cmd, Output};

const A: &str = "111122223333";
const REGION: &str = "eu-west-1";
const KEY: &str = "AKIDADMIN";
const CALLER: &str = "arn:aws:iam::111122223333:role/platform-admin";

fn role(name: &str) -> String {
    format!("arn:aws:iam::{A}:role/{name}")
}

/// aws-auth with `n` admin, developer and node rows.
fn aws_auth(n: usize) -> String {
    let mut s = String::new();
    s.push_str(&format!(
        "- rolearn: {}\n  username: \"platform-admin:{{{{SessionName}}}}\"\n  groups: [system:masters]\n",
        role("platform-admin")
    ));
    s.push_str(&format!(
        "- rolearn: {}\n  username: \"system:node:{{{{EC2PrivateDNSName}}}}\"\n  groups: [system:bootstrappers, system:nodes]\n",
        role("nodes")
    ));
    for i in 0..n {
        s.push_str(&format!(
            "- rolearn: {}\n  username: dev-{i}\n  groups: [devs, \"team-{i}\"]\n",
            role(&format!("dev-{i}"))
        ));
    }
    s
}

fn seed(n: usize, mode: &str) -> Seed {
    let mut seed = Seed::default()
        .with_caller(
            KEY,
            A,
            "arn:aws:sts::111122223333:assumed-role/platform-admin/me",
        )
        .with_role(A, "/", "platform-admin")
        .with_role(A, "/", "nodes")
        .with_update_duration_ms(200);
    for i in 0..n {
        seed = seed.with_role(A, "/", &format!("dev-{i}"));
    }
    seed.with_cluster(
        Cluster::new("prod", A, REGION)
            .mode(mode)
            .version("1.31", "eks.1")
            .aws_auth([("mapRoles", aws_auth(n))]),
    )
}

struct Env {
    emu: Emulator,
    dir: tempfile::TempDir,
}

impl Env {
    fn new(seed: Seed) -> Env {
        Env {
            emu: Emulator::start(seed).expect("emulator starts"),
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn journal(&self) -> PathBuf {
        self.dir.path().join("journal.jsonl")
    }

    fn cmd(&self, args: &[&str]) -> Cmd {
        against(&self.emu.endpoint_url(), KEY, REGION, self.dir.path()).args(args)
    }

    fn apply(&self, extra: &[&str]) -> Output {
        let kubeconfig = self.emu.kubeconfig_path().display().to_string();
        let journal = self.journal().display().to_string();
        let mut args = vec![
            "apply",
            "--cluster",
            "prod",
            "--kubeconfig",
            &kubeconfig,
            "--journal",
            &journal,
        ];
        args.extend_from_slice(extra);
        self.cmd(&args).run()
    }

    fn plan(&self) -> serde_json::Value {
        let kubeconfig = self.emu.kubeconfig_path().display().to_string();
        let out = self
            .cmd(&[
                "plan",
                "--cluster",
                "prod",
                "--kubeconfig",
                &kubeconfig,
                "--format",
                "json",
            ])
            .run();
        assert_eq!(out.code, 0, "{}", out.stderr);
        out.json()
    }

    fn rollback(&self, extra: &[&str]) -> Output {
        let journal = self.journal().display().to_string();
        let mut args = vec!["rollback", &journal];
        args.extend_from_slice(extra);
        self.cmd(&args).run()
    }

    /// The entries as a comparable value: no timestamps, ARNs or tokens;
    /// the migration id tag reduced to its presence.
    fn entries(&self) -> BTreeMap<String, String> {
        let c = self.emu.cluster_state("prod").unwrap();
        c.access_entries
            .values()
            .map(|e| {
                let mut groups = e.kubernetes_groups.clone();
                groups.sort();
                let policies: Vec<String> = e
                    .policies
                    .iter()
                    .map(|(arn, a)| format!("{arn}@{:?}", a.scope))
                    .collect();
                let tags: Vec<&String> = e.tags.keys().collect();
                (
                    e.principal_arn.clone(),
                    format!(
                        "{} {:?} {groups:?} {policies:?} {tags:?}",
                        e.entry_type, e.username
                    ),
                )
            })
            .collect()
    }

    fn resume(&self) -> Output {
        let journal = self.journal().display().to_string();
        self.cmd(&["apply", "--resume", &journal]).run()
    }

    fn mode(&self) -> String {
        self.emu.cluster_state("prod").unwrap().authentication_mode
    }
}

fn ok(out: &Output) {
    assert_eq!(
        out.code, 0,
        "stdout:\n{}\nstderr:\n{}",
        out.stdout, out.stderr
    );
}

#[test]
fn apply_then_plan_is_noop_and_apply_twice_changes_nothing() {
    let env = Env::new(seed(3, "API_AND_CONFIG_MAP"));
    let out = env.apply(&["--yes"]);
    ok(&out);
    assert!(out.stdout.contains("Apply of prod (mig-"), "{}", out.stdout);
    assert!(
        out.stdout.contains(": 6 of 6 steps done, 0 failed"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains(&format!(
        "Undo:     aws-auth-migrate rollback {}",
        env.journal().display()
    )));
    let entries = env.entries();
    assert_eq!(entries.len(), 5);
    assert!(
        entries[&role("nodes")].starts_with("EC2_LINUX"),
        "{entries:?}"
    );
    assert!(
        entries[&role("platform-admin")].contains("AmazonEKSClusterAdminPolicy@"),
        "{entries:?}"
    );
    assert!(
        entries[&role("dev-0")].contains("[\"devs\", \"team-0\"]"),
        "{entries:?}"
    );
    assert!(entries[&role("dev-0")].contains("aws-auth-migrate/migration-id"));

    let plan = env.plan();
    assert_eq!(plan["summary"]["create"], 0);
    assert_eq!(plan["summary"]["update"], 0);
    assert_eq!(plan["summary"]["noop"], 5);

    let calls = env.emu.calls().count("CreateAccessEntry");
    std::fs::remove_file(env.journal()).unwrap();
    let again = env.apply(&["--yes"]);
    ok(&again);
    assert!(
        again.stdout.contains("Nothing to apply on prod"),
        "{}",
        again.stdout
    );
    assert_eq!(env.emu.calls().count("CreateAccessEntry"), calls);
}

#[test]
fn state_dir_holds_the_default_journal_and_the_lock() {
    let env = Env::new(seed(2, "API_AND_CONFIG_MAP"));
    let kubeconfig = env.emu.kubeconfig_path().display().to_string();
    let shared = env.dir.path().join("shared-state");
    let shared_arg = shared.display().to_string();
    // Without --journal: the journal goes under --state-dir, not under
    // XDG_STATE_HOME (which `against` points at the test's directory).
    let out = env
        .cmd(&[
            "apply",
            "--cluster",
            "prod",
            "--kubeconfig",
            &kubeconfig,
            "--yes",
            "--state-dir",
            &shared_arg,
        ])
        .run();
    ok(&out);
    let journals: Vec<String> = std::fs::read_dir(&shared)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| !n.to_ascii_lowercase().ends_with(".run.json"))
        .collect();
    assert_eq!(journals.len(), 1, "{journals:?}");
    assert!(
        journals[0].starts_with("prod-")
            && std::path::Path::new(&journals[0]).extension() == Some("jsonl".as_ref()),
        "{journals:?}"
    );
    assert!(!env.dir.path().join("aws-auth-migrate").exists());
    // The variable does the same (on a fresh cluster: a run with nothing
    // to do writes no journal).
    let env = Env::new(seed(2, "API_AND_CONFIG_MAP"));
    let kubeconfig = env.emu.kubeconfig_path().display().to_string();
    let other = env.dir.path().join("from-env");
    let out = env
        .cmd(&[
            "apply",
            "--cluster",
            "prod",
            "--kubeconfig",
            &kubeconfig,
            "--yes",
        ])
        .env("AWS_AUTH_MIGRATE_STATE_DIR", &other.display().to_string())
        .run();
    ok(&out);
    assert!(other.is_dir(), "{}", out.stderr);
}

#[test]
fn journal_is_private_and_complete() {
    let env = Env::new(seed(2, "API_AND_CONFIG_MAP"));
    ok(&env.apply(&["--yes"]));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for p in [
            env.journal(),
            aws_auth_migrate::apply::run_file_path(&env.journal()),
        ] {
            let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", p.display());
        }
    }
    let contents = aws_auth_migrate::journal::read(&env.journal()).unwrap();
    assert!(aws_auth_migrate::journal::pending(&contents).is_empty());
    let done = aws_auth_migrate::journal::effective(&contents);
    assert_eq!(done.len(), 5);
    assert!(done.iter().all(|(_, o)| o.took_effect()));
    let text = std::fs::read_to_string(env.journal()).unwrap();
    assert!(!text.contains("secret"), "the journal holds no credentials");
}

#[test]
fn refuses_without_confirmation_or_the_mode_flag() {
    let env = Env::new(seed(1, "API_AND_CONFIG_MAP"));
    let out = env.apply(&[]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .contains("refusing to change the cluster without confirmation: standard input is not a terminal; pass --yes to confirm"),
        "{}",
        out.stderr
    );
    assert!(env.entries().is_empty());

    let env = Env::new(seed(1, "CONFIG_MAP"));
    let out = env.apply(&["--yes"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("is in CONFIG_MAP mode"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("--enable-access-entries"),
        "{}",
        out.stderr
    );
    assert_eq!(env.mode(), "CONFIG_MAP");
}

#[test]
fn config_map_switch_adopts_eks_made_entries_without_409() {
    let s = seed(2, "CONFIG_MAP");
    let mut s = s;
    if let Some(c) = s.clusters.last_mut() {
        *c = c
            .clone()
            .node_group("general", &role("nodes"), false)
            .creator(CALLER, true);
    }
    let env = Env::new(s);
    let out = env.apply(&["--yes", "--enable-access-entries"]);
    ok(&out);
    assert_eq!(env.mode(), "API_AND_CONFIG_MAP");
    assert!(!out.stderr.contains("ResourceInUse"), "{}", out.stderr);
    let entries = env.entries();
    // The node role's entry was made by EKS during the switch: not ours.
    assert!(
        !entries[&role("nodes")].contains("migration-id"),
        "{entries:?}"
    );
    assert!(entries[&role("dev-1")].contains("migration-id"));
    assert_eq!(env.plan()["summary"]["create"], 0);
    // Rollback lists the switch as irreversible and removes only our entries.
    let rb = env.rollback(&["--yes"]);
    ok(&rb);
    assert!(
        rb.stdout
            .contains("cannot be undone: enable-access-entries"),
        "{}",
        rb.stdout
    );
    let after = env.entries();
    assert!(after.contains_key(&role("nodes")));
    assert!(!after.contains_key(&role("dev-0")));
}

#[test]
fn rollback_restores_the_exact_starting_state() {
    let existing = AccessEntry::new(&role("dev-1"))
        .username("dev-1")
        .groups(&["devs"]);
    let mut s = seed(3, "API_AND_CONFIG_MAP");
    if let Some(c) = s.clusters.last_mut() {
        *c = c.clone().access_entry(existing);
    }
    let env = Env::new(s);
    let before = env.entries();
    ok(&env.apply(&["--yes", "--merge-existing"]));
    assert_ne!(env.entries(), before);
    assert!(
        env.entries()[&role("dev-1")].contains("team-1"),
        "merged: {:?}",
        env.entries()
    );
    let rb = env.rollback(&["--yes"]);
    ok(&rb);
    assert_eq!(env.entries(), before);
}

#[test]
fn rollback_in_api_mode_is_refused_unless_forced() {
    let env = Env::new(seed(2, "API_AND_CONFIG_MAP"));
    ok(&env.apply(&["--yes"]));
    let applied = env.entries();
    env.emu.set_authentication_mode("prod", "API").unwrap();
    for rb in [
        env.rollback(&["--yes"]),
        env.cmd(&[
            "rollback",
            "--migration-id",
            "x",
            "--cluster",
            "prod",
            "--yes",
        ])
        .run(),
    ] {
        assert_eq!(rb.code, 1, "{}\n{}", rb.stdout, rb.stderr);
        assert_eq!(
            rb.stderr.trim_end(),
            "error: cluster prod is in API mode (finalized): EKS no longer reads aws-auth and the mode cannot be switched back, so deleting the migrated access entries would remove that access outright; rolling back is refused (--force deletes them anyway)"
        );
        assert_eq!(env.entries(), applied, "nothing is deleted");
    }
    ok(&env.rollback(&["--yes", "--force"]));
    assert!(!env.entries().contains_key(&role("dev-0")));
}

#[test]
fn rollback_skips_what_a_third_party_changed() {
    let env = Env::new(seed(2, "API_AND_CONFIG_MAP"));
    ok(&env.apply(&["--yes"]));
    let mut touched = AccessEntry::new(&role("dev-0"))
        .username("dev-0")
        .groups(&["devs", "team-0", "extra"]);
    touched
        .tags
        .insert("aws-auth-migrate/migration-id".into(), "someone".into());
    env.emu.upsert_access_entry("prod", &touched).unwrap();
    let rb = env.rollback(&["--yes"]);
    assert_eq!(rb.code, 3, "{}\n{}", rb.stdout, rb.stderr);
    assert!(
        rb.stdout.contains("changed since the apply"),
        "{}",
        rb.stdout
    );
    let after = env.entries();
    assert!(
        after.contains_key(&role("dev-0")),
        "the changed entry is left alone"
    );
    assert!(!after.contains_key(&role("dev-1")));
}

#[test]
fn throttling_at_half_the_calls_still_completes() {
    let env = Env::new(seed(6, "API_AND_CONFIG_MAP"));
    env.emu.set_faults(Faults::new(
        7,
        vec![
            FaultRule::new("CreateAccessEntry").throttle_probability(0.5),
            FaultRule::new("AssociateAccessPolicy").throttle_probability(0.5),
        ],
    ));
    ok(&env.apply(&["--yes"]));
    assert_eq!(env.entries().len(), 8);
    assert_eq!(env.plan()["summary"]["create"], 0);
}

#[test]
fn random_429s_are_sent_again_unpaced_and_a_rate_limit_is_paced_and_told() {
    // Half the creates and associations answered 429 whatever the pace:
    // slowing down would not help, so nothing is paced (issue 14: the
    // pacer took this for a limit and crawled).
    let env = Env::new(seed(60, "API_AND_CONFIG_MAP"));
    env.emu.set_faults(Faults::new(
        7,
        vec![
            FaultRule::new("CreateAccessEntry").throttle_probability(0.5),
            FaultRule::new("AssociateAccessPolicy").throttle_probability(0.5),
        ],
    ));
    let out = env.apply(&["--yes"]);
    ok(&out);
    assert!(!out.stderr.contains("rate-limiting"), "{}", out.stderr);
    assert_eq!(env.entries().len(), 62);

    // A token bucket on the creates: slowing down empties the 429s, the
    // creates are paced below the limit, and the user is told once.
    let env = Env::new(seed(80, "API_AND_CONFIG_MAP"));
    env.emu.set_faults(Faults::new(
        1,
        vec![FaultRule::new("CreateAccessEntry").rate_limit(20.0, 20.0)],
    ));
    let out = env.apply(&["--yes"]);
    ok(&out);
    assert_eq!(
        out.stderr
            .matches("create-entry: EKS is rate-limiting these calls; pacing them at about ")
            .count(),
        1,
        "{}",
        out.stderr
    );
    assert!(
        !out.stderr.contains("associate-policy: EKS"),
        "{}",
        out.stderr
    );
    assert_eq!(env.entries().len(), 82);
}

#[test]
fn a_failed_call_leaves_a_journal_that_resume_finishes() {
    let env = Env::new(seed(4, "API_AND_CONFIG_MAP"));
    // A 500 is retried and the run completes.
    env.emu.set_faults(Faults::new(
        1,
        vec![FaultRule::new("CreateAccessEntry").fail_nth(2, 500, "ServerException")],
    ));
    ok(&env.apply(&["--yes"]));
    assert_eq!(env.entries().len(), 6);

    let env = Env::new(seed(4, "API_AND_CONFIG_MAP"));
    // A refusal is not retried: that principal stops, the others go on.
    env.emu.set_faults(Faults::new(
        1,
        vec![FaultRule::new("CreateAccessEntry").fail_nth(3, 400, "InvalidRequestException")],
    ));
    let out = env.apply(&["--yes", "--concurrency", "1"]);
    assert_eq!(out.code, 3, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("1 failed"), "{}", out.stdout);
    assert!(out.stdout.contains(&format!(
        "Resume:   aws-auth-migrate apply --resume {}",
        env.journal().display()
    )));
    assert_eq!(env.entries().len(), 5);
    env.emu.set_faults(Faults::new(1, vec![]));
    let journal = env.journal().display().to_string();
    let resumed = env.cmd(&["apply", "--resume", &journal]).run();
    ok(&resumed);
    assert_eq!(env.entries().len(), 6);
    assert_eq!(env.plan()["summary"]["create"], 0);
}

/// Starts an apply and SIGKILLs it once its journal holds `lines` lines
/// (0: as soon as it starts, before any journal exists). False when the
/// apply finished first.
fn kill_at(env: &Env, lines: usize) -> bool {
    kill_when(env, &[], |_, journal| journal.lines().count() >= lines)
}

/// Starts `apply --yes --concurrency 4` (with `extra`) and SIGKILLs it once
/// `when` holds: it is polled every millisecond with the journal's text (""
/// before it exists), so kills follow progress, not wall time. False when
/// the apply finished first.
fn kill_when(env: &Env, extra: &[&str], when: impl Fn(&Env, &str) -> bool) -> bool {
    let kubeconfig = env.emu.kubeconfig_path().display().to_string();
    let journal = env.journal().display().to_string();
    let mut args = vec![
        "apply",
        "--cluster",
        "prod",
        "--kubeconfig",
        &kubeconfig,
        "--journal",
        &journal,
        "--yes",
        "--concurrency",
        "4",
    ];
    args.extend_from_slice(extra);
    let mut child = env.cmd(&args).spawn();
    let started = std::time::Instant::now();
    loop {
        if matches!(child.try_wait(), Ok(Some(_))) {
            return false;
        }
        let written = std::fs::read_to_string(&journal).unwrap_or_default();
        if when(env, &written) || started.elapsed() > Duration::from_mins(1) {
            break;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let _ = child.kill();
    let _ = child.wait();
    true
}

fn slow(env: &Env) {
    env.emu
        .set_faults(Faults::new(3, vec![FaultRule::new("*").latency_ms(25)]));
}

/// Whether a killed run left the cluster part-way: some of the tool's
/// entries exist, not all.
fn partway(env: &Env, complete: usize) -> bool {
    let n = env.entries().len();
    n > 0 && n < complete
}

fn reference_end_state(n: usize) -> BTreeMap<String, String> {
    let env = Env::new(seed(n, "API_AND_CONFIG_MAP"));
    ok(&env.apply(&["--yes"]));
    env.entries()
}

/// Where seed `seed` kills: after 0 to 30 journal lines (a header and an
/// intent and outcome per step), spread deterministically.
fn kill_line(seed: u64) -> usize {
    ((seed * 7 + 3) % 31) as usize
}

/// Twenty applies of `n` principals, each `SIGKILLed` at its seed's point,
/// then `finish` (resume or rollback) run on its journal; `want` is the
/// state every cluster must end in. The kills must land while the binary
/// runs, most of them between entries.
fn kill_then(n: usize, seed_offset: u64, finish: &[&str], want: &BTreeMap<String, String>) {
    let complete = n + 2;
    let (mut interrupted, mut killed) = (0, 0);
    for seed_no in 0..20u64 {
        let env = Env::new(seed(n, "API_AND_CONFIG_MAP"));
        let before = env.entries();
        slow(&env);
        killed += usize::from(kill_at(&env, kill_line(seed_no + seed_offset)));
        env.emu.set_faults(Faults::new(1, vec![]));
        interrupted += usize::from(partway(&env, complete));
        if !env.journal().exists() {
            // Killed before the journal existed: nothing was changed.
            assert_eq!(env.entries(), before, "seed {seed_no}");
            continue;
        }
        let journal = env.journal().display().to_string();
        let mut args = finish.to_vec();
        args.push(&journal);
        let out = env.cmd(&args).run();
        assert_eq!(
            out.code, 0,
            "seed {seed_no}: {}\n{}",
            out.stdout, out.stderr
        );
        assert_eq!(
            &env.entries(),
            want,
            "seed {seed_no}: no orphan entry or association"
        );
    }
    assert!(
        killed == 20,
        "only {killed} of 20 kills hit a running apply"
    );
    assert!(
        interrupted >= 12,
        "only {interrupted} of 20 kills landed between entries"
    );
}

#[test]
fn sigkill_then_resume_reaches_the_same_end_state() {
    let want = reference_end_state(12);
    assert_eq!(want.len(), 14);
    kill_then(12, 0, &["apply", "--resume"], &want);
}

#[test]
fn sigkill_then_rollback_reaches_the_starting_state() {
    kill_then(12, 5, &["rollback", "--yes"], &BTreeMap::new());
}

#[test]
fn sigint_stops_cleanly_and_resume_finishes() {
    let env = Env::new(seed(10, "API_AND_CONFIG_MAP"));
    slow(&env);
    let kubeconfig = env.emu.kubeconfig_path().display().to_string();
    let journal = env.journal().display().to_string();
    let child = env
        .cmd(&[
            "apply",
            "--cluster",
            "prod",
            "--kubeconfig",
            &kubeconfig,
            "--journal",
            &journal,
            "--yes",
            "--concurrency",
            "2",
        ])
        .spawn();
    // Once the apply is under way (the handler is installed before the
    // journal is written): on progress, not wall time, which a loaded CI
    // machine stretches.
    let started = std::time::Instant::now();
    while std::fs::read_to_string(&journal).map_or(0, |t| t.lines().count()) < 3
        && started.elapsed() < Duration::from_mins(1)
    {
        std::thread::sleep(Duration::from_millis(1));
    }
    let _ = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let code = out.status.code().unwrap_or(-1);
    assert!(code == 3 || code == 0, "{code}: {stdout}");
    if code == 3 {
        assert!(stdout.contains("(interrupted)"), "{stdout}");
    }
    let contents = aws_auth_migrate::journal::read(Path::new(&journal)).unwrap();
    assert!(
        aws_auth_migrate::journal::pending(&contents).is_empty(),
        "every started step has its outcome"
    );
    env.emu.set_faults(Faults::new(1, vec![]));
    ok(&env.cmd(&["apply", "--resume", &journal]).run());
    assert_eq!(env.plan()["summary"]["create"], 0);
}

#[test]
fn saved_plans_apply_and_stale_ones_are_refused() {
    let env = Env::new(seed(2, "API_AND_CONFIG_MAP"));
    let kubeconfig = env.emu.kubeconfig_path().display().to_string();
    let plan_path = env.dir.path().join("plan.json").display().to_string();
    ok(&env
        .cmd(&[
            "plan",
            "--cluster",
            "prod",
            "--kubeconfig",
            &kubeconfig,
            "--out",
            &plan_path,
            "--format",
            "json",
        ])
        .run());
    // Someone adds an entry: the plan is stale.
    env.emu
        .upsert_access_entry("prod", &AccessEntry::new(&role("dev-0")).username("x"))
        .unwrap();
    let journal = env.journal().display().to_string();
    let stale = env
        .cmd(&[
            "apply",
            &plan_path,
            "--kubeconfig",
            &kubeconfig,
            "--journal",
            &journal,
        ])
        .run();
    assert_eq!(stale.code, 1);
    assert!(
        stale
            .stderr
            .contains("the saved plan is stale: the access entries changed (0 → 1 entries"),
        "{}",
        stale.stderr
    );
    env.emu.delete_access_entry("prod", &role("dev-0")).unwrap();
    let applied = env
        .cmd(&[
            "apply",
            &plan_path,
            "--kubeconfig",
            &kubeconfig,
            "--journal",
            &journal,
        ])
        .run();
    ok(&applied);
    assert_eq!(env.entries().len(), 4);
}

/// What was reviewed is what runs: a saved plan edited after review is
/// refused (its digest; and, when the digest is recomputed or absent, the
/// plan made again from the cluster), and nothing changes.
#[test]
fn edited_saved_plans_are_refused_and_change_nothing() {
    let env = Env::new(seed(2, "API_AND_CONFIG_MAP"));
    let kubeconfig = env.emu.kubeconfig_path().display().to_string();
    let plan_path = env.dir.path().join("plan.json");
    let shown = plan_path.display().to_string();
    ok(&env
        .cmd(&[
            "plan",
            "--cluster",
            "prod",
            "--kubeconfig",
            &kubeconfig,
            "--out",
            &shown,
        ])
        .run());
    let saved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&plan_path).unwrap()).unwrap();
    let dev0 = role("dev-0");
    let admin = serde_json::json!({
        "policy_arn": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
        "access_scope": {"type": "cluster", "namespaces": []}
    });
    let with_admin = |mut v: serde_json::Value| {
        let e = v["entries"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|e| e["principal_arn"] == dev0.as_str())
            .unwrap();
        e["policies"].as_array_mut().unwrap().push(admin.clone());
        v
    };
    let redigest = |mut v: serde_json::Value| {
        v["digest"] = aws_auth_migrate::core::review::content_digest(&v).into();
        v
    };
    let journal = env.journal();
    let apply = |doc: &serde_json::Value| {
        std::fs::write(&plan_path, serde_json::to_vec_pretty(doc).unwrap()).unwrap();
        let out = env
            .cmd(&[
                "apply",
                &shown,
                "--kubeconfig",
                &kubeconfig,
                "--journal",
                &journal.display().to_string(),
            ])
            .run();
        assert_eq!(
            out.code, 1,
            "stdout:\n{}\nstderr:\n{}",
            out.stdout, out.stderr
        );
        assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
        assert!(env.entries().is_empty(), "nothing changed");
        assert!(!journal.exists(), "no journal: nothing started");
        out.stderr.trim_end().to_string()
    };

    // ClusterAdmin added to one entry, fingerprint and digest left alone.
    let line = apply(&with_admin(saved.clone()));
    assert!(
        line.starts_with(&format!("error: the saved plan {shown} is refused: it was edited after it was saved: its content no longer matches its digest (")),
        "{line}"
    );
    assert_eq!(
        saved["digest"].as_str().map(str::len),
        Some(64),
        "plan --out writes a digest"
    );
    // The same edit with the digest recomputed (anyone can): the plan made
    // again from the cluster does not agree.
    let line = apply(&redigest(with_admin(saved.clone())));
    assert_eq!(
        line,
        format!("error: the saved plan {shown} does not match the plan made now from the cluster: entry {dev0}: policies [AmazonEKSClusterAdminPolicy (cluster)] in the file, [] now; it was changed after review, or planned with other flags (apply needs the --policy-map, --allow-lossy and --merge-existing that plan was given); plan again and review the new plan")
    );
    // An entry removed, in a plan without a digest (as saved before digests).
    let mut fewer = saved.clone();
    fewer.as_object_mut().unwrap().remove("digest");
    fewer["entries"]
        .as_array_mut()
        .unwrap()
        .retain(|e| e["principal_arn"] != dev0.as_str());
    let line = apply(&fewer);
    assert!(
        line.contains(&format!("does not match the plan made now from the cluster: entry {dev0} (create) is missing from the file;")),
        "{line}"
    );
    // Planned with --allow-lossy in the file, not given to apply.
    let mut lossy = saved.clone();
    lossy["allow_lossy"] = true.into();
    let line = apply(&redigest(lossy));
    assert!(
        line.contains("allow_lossy is true in the file, false now"),
        "{line}"
    );
    assert_eq!(env.emu.calls().count("CreateAccessEntry"), 0);

    // Untouched, it applies.
    std::fs::write(&plan_path, serde_json::to_vec_pretty(&saved).unwrap()).unwrap();
    ok(&env
        .cmd(&[
            "apply",
            &shown,
            "--kubeconfig",
            &kubeconfig,
            "--journal",
            &journal.display().to_string(),
        ])
        .run());
    assert_eq!(env.entries().len(), 4);
}

#[test]
fn rollback_by_tag_without_the_journal() {
    let env = Env::new(seed(2, "API_AND_CONFIG_MAP"));
    ok(&env.apply(&["--yes"]));
    let contents = aws_auth_migrate::journal::read(&env.journal()).unwrap();
    let id = contents.header.migration_id.clone();
    std::fs::remove_file(env.journal()).unwrap();
    let out = env
        .cmd(&[
            "rollback",
            "--migration-id",
            &id,
            "--cluster",
            "prod",
            "--yes",
        ])
        .run();
    ok(&out);
    assert!(env.entries().is_empty());
}

/// The shipped example, rehearsed end to end: apply, a second plan that
/// has nothing to do, and a rollback to the starting state.
#[test]
fn rehearsal_of_the_shipped_example() {
    let manifest: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string("examples/aws-auth.yaml").unwrap()).unwrap();
    let data: Vec<(String, String)> = ["mapRoles", "mapUsers", "mapAccounts"]
        .iter()
        .filter_map(|k| {
            manifest["data"][*k]
                .as_str()
                .map(|v| (k.to_string(), v.to_string()))
        })
        .collect();
    let mut s = Seed::default()
        .with_caller(
            KEY,
            A,
            "arn:aws:sts::111122223333:assumed-role/platform-admin/me",
        )
        .with_role(
            A,
            "/aws-reserved/sso.amazonaws.com/",
            "AWSReservedSSO_ReadOnly_0123456789abcdef",
        )
        .with_role(
            A,
            "/aws-service-role/emr-containers.amazonaws.com/",
            "AWSServiceRoleForAmazonEMRContainers",
        )
        .with_role(A, "/team/", "legacy-admin")
        .with_role("444455556666", "/", "ci-deployer")
        .with_user(A, "/", "alice")
        .with_user(A, "/", "bob");
    for r in [
        "eks-nodegroup-general",
        "eks-nodegroup-windows",
        "eks-fargate-pods",
        "eks-hybrid-nodes",
        "KarpenterNodeRole-prod",
        "platform-admin",
        "monitoring",
        "developers",
    ] {
        s = s.with_role(A, "/", r);
    }
    let s = s.with_cluster(
        Cluster::new("prod", A, REGION)
            .mode("API_AND_CONFIG_MAP")
            .version("1.31", "eks.1")
            .aws_auth(data),
    );
    let env = Env::new(s);
    let before = env.entries();
    let out = env.apply(&["--yes", "--policy-map", "examples/policy-map.yaml"]);
    ok(&out);
    assert!(
        out.stdout.contains(
            "left alone: arn:aws:iam::111122223333:role/developers: lossy, held back (--allow-lossy to include)"
        ),
        "{}",
        out.stdout
    );
    let entries = env.entries();
    assert_eq!(
        entries.len(),
        11,
        "the lossy developers row is held back: {entries:?}"
    );
    assert!(entries[&role("eks-nodegroup-windows")].starts_with("EC2_WINDOWS"));
    assert!(entries[&role("eks-fargate-pods")].starts_with("FARGATE_LINUX"));
    assert!(entries[&role("eks-hybrid-nodes")].starts_with("HYBRID_LINUX"));
    let sso = "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_ReadOnly_0123456789abcdef";
    assert!(
        entries.contains_key(sso),
        "the SSO role is created with its real path: {entries:?}"
    );
    let plan = env.plan();
    assert_eq!(plan["summary"]["create"], 0, "{:#}", plan["summary"]);
    ok(&env.rollback(&["--yes"]));
    assert_eq!(env.entries(), before);
}

/// A `CONFIG_MAP` cluster with a managed node group (role `nodes`) and the
/// caller as its creator: on the switch EKS makes entries for both.
fn config_map_seed(n: usize, update_ms: u64) -> Seed {
    let mut s = seed(n, "CONFIG_MAP").with_update_duration_ms(update_ms);
    if let Some(c) = s.clusters.last_mut() {
        *c = c
            .clone()
            .node_group("general", &role("nodes"), false)
            .creator(CALLER, true);
    }
    s
}

fn updating(env: &Env) -> bool {
    env.emu.cluster_state("prod").unwrap().status == "UPDATING"
}

/// The entries EKS made itself (no migration tag).
fn eks_made(entries: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    entries
        .iter()
        .filter(|(_, v)| !v.contains("aws-auth-migrate/migration-id"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

#[test]
fn resume_during_the_mode_switch_waits_for_it_and_adopts_what_eks_made() {
    let want = {
        let env = Env::new(config_map_seed(3, 200));
        ok(&env.apply(&["--yes", "--enable-access-entries"]));
        env.entries()
    };
    let env = Env::new(config_map_seed(3, 1500));
    let aws_auth = env.emu.aws_auth("prod").unwrap();
    assert!(kill_when(&env, &["--enable-access-entries"], |e, _| {
        updating(e)
    }));
    assert_eq!(env.mode(), "CONFIG_MAP", "killed while the switch runs");
    let out = env.resume();
    ok(&out);
    assert!(!out.stderr.contains("ResourceInUse"), "{}", out.stderr);
    assert!(!out.stdout.contains("ResourceInUse"), "{}", out.stdout);
    assert_eq!(
        env.emu.calls().count("UpdateClusterConfig"),
        1,
        "the switch is not sent twice"
    );
    assert_eq!(env.mode(), "API_AND_CONFIG_MAP");
    assert_eq!(env.entries(), want);
    assert!(!env.entries()[&role("nodes")].contains("migration-id"));
    assert_eq!(env.plan()["summary"]["create"], 0);
    // Nothing left: a second resume is a no-op that succeeds.
    ok(&env.resume());
    // Rollback keeps what EKS made and the mode (it cannot go back).
    let rb = env.rollback(&["--yes"]);
    ok(&rb);
    assert!(
        rb.stdout
            .contains("cannot be undone: enable-access-entries"),
        "{}",
        rb.stdout
    );
    assert_eq!(env.entries(), eks_made(&want));
    assert!(env.entries().contains_key(&role("nodes")));
    assert_eq!(env.mode(), "API_AND_CONFIG_MAP");
    assert_eq!(env.emu.aws_auth("prod").unwrap(), aws_auth);
}

/// The journal's steps with the status of their last outcome.
fn outcomes(env: &Env) -> Vec<(String, String, String)> {
    let text = std::fs::read_to_string(env.journal()).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut out = Vec::new();
    for l in &lines {
        if l["record"] != "intent" {
            continue;
        }
        let status = lines
            .iter()
            .filter(|o| o["record"] == "outcome" && o["intent"] == l["seq"])
            .map(|o| {
                let out = &o["outcome"];
                match out["code"].as_str() {
                    Some(code) => code.to_string(),
                    None => out["status"].as_str().unwrap_or("").to_string(),
                }
            })
            .next_back()
            .unwrap_or_else(|| "pending".into());
        out.push((
            l["step"]["op"].as_str().unwrap_or("").to_string(),
            l["step"]["principal_arn"]
                .as_str()
                .unwrap_or("")
                .to_string(),
            status,
        ));
    }
    out
}

#[test]
fn resume_adopts_a_matching_entry_made_since_and_reports_a_different_one() {
    let env = Env::new(seed(3, "API_AND_CONFIG_MAP"));
    // Every CreateAccessEntry is refused: nothing is created.
    let mut refuse =
        FaultRule::new("CreateAccessEntry").fail_nth(1, 400, "InvalidRequestException");
    if let Some(f) = refuse.fail_nth.as_mut() {
        f.count = 1000;
    }
    env.emu.set_faults(Faults::new(1, vec![refuse]));
    let out = env.apply(&["--yes"]);
    assert_ne!(out.code, 0, "{}", out.stdout);
    env.emu.set_faults(Faults::new(1, vec![]));
    assert!(env.entries().is_empty(), "{:?}", env.entries());
    // Meanwhile someone makes the node entry exactly as planned, and
    // dev-0's with other groups.
    env.emu
        .upsert_access_entry(
            "prod",
            &AccessEntry::new(&role("nodes")).entry_type("EC2_LINUX"),
        )
        .unwrap();
    env.emu
        .upsert_access_entry(
            "prod",
            &AccessEntry::new(&role("dev-0"))
                .username("dev-0")
                .groups(&["ops"]),
        )
        .unwrap();
    let resumed = env.resume();
    assert_eq!(resumed.code, 3, "{}\n{}", resumed.stdout, resumed.stderr);
    assert!(
        !resumed.stdout.contains("ResourceInUse"),
        "{}",
        resumed.stdout
    );
    assert!(resumed.stdout.contains("1 adopted"), "{}", resumed.stdout);
    assert!(resumed.stdout.contains("Diverged"), "{}", resumed.stdout);
    let entries = env.entries();
    assert!(
        !entries[&role("nodes")].contains("migration-id"),
        "{entries:?}"
    );
    assert!(
        entries[&role("dev-0")].contains("[\"ops\"]"),
        "not overwritten: {entries:?}"
    );
    assert!(
        entries[&role("dev-1")].contains("migration-id"),
        "{entries:?}"
    );
    let journal = outcomes(&env);
    assert!(
        journal.contains(&("create-entry".into(), role("nodes"), "skipped".into())),
        "{journal:?}"
    );
    assert!(
        journal.contains(&("create-entry".into(), role("dev-0"), "Diverged".into())),
        "{journal:?}"
    );
    // The next resume reports the same and changes nothing.
    let calls = env.emu.calls().count("CreateAccessEntry");
    assert_eq!(env.resume().code, 3);
    assert_eq!(env.emu.calls().count("CreateAccessEntry"), calls);
    // Rollback removes only what the tool created.
    ok(&env.rollback(&["--yes"]));
    let after = env.entries();
    assert_eq!(
        after.keys().cloned().collect::<Vec<_>>(),
        vec![role("dev-0"), role("nodes")],
        "{after:?}"
    );
}

#[test]
fn resume_neither_redoes_nor_undoes_an_association_changed_since() {
    let env = Env::new(seed(2, "API_AND_CONFIG_MAP"));
    env.emu.set_faults(Faults::new(
        1,
        vec![FaultRule::new("AssociateAccessPolicy").latency_ms(5000)],
    ));
    // The association's intent is on disk (its call takes 5 s, so its
    // outcome cannot be): kill. Not "the last line": another principal's
    // outcome may land after the intent and stay last.
    assert!(kill_when(&env, &[], |_, journal| journal.lines().any(
        |l| l.contains("\"record\":\"intent\"") && l.contains("associate-policy")
    )));
    env.emu.set_faults(Faults::new(1, vec![]));
    // Out of band: the association is made at another scope.
    let admin = role("platform-admin");
    let c = env.emu.cluster_state("prod").unwrap();
    let ours = &c.access_entries[&admin];
    let mut changed = AccessEntry::new(&admin)
        .username(ours.username.as_deref().unwrap())
        .namespace_policy("AmazonEKSClusterAdminPolicy", &["other"]);
    changed.kubernetes_groups = ours.kubernetes_groups.clone();
    changed.tags = ours.tags.clone();
    env.emu.upsert_access_entry("prod", &changed).unwrap();
    let before = env.entries();
    let out = env.resume();
    assert_eq!(out.code, 3, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("Diverged"), "{}", out.stdout);
    let after = env.entries();
    assert_eq!(after[&admin], before[&admin], "not redone");
    assert!(after[&admin].contains("other"), "{after:?}");
    assert_eq!(
        after.len(),
        4,
        "the other principals are finished: {after:?}"
    );
    assert_eq!(env.resume().code, 3, "still reported, still not redone");
    assert_eq!(env.entries()[&admin], before[&admin]);
}

#[test]
fn rollback_reports_an_entry_deleted_since() {
    for json in [false, true] {
        let env = Env::new(seed(2, "API_AND_CONFIG_MAP"));
        ok(&env.apply(&["--yes"]));
        env.emu.delete_access_entry("prod", &role("dev-0")).unwrap();
        let mut args = vec!["--yes"];
        if json {
            args.extend(["--output", "json"]);
        }
        let rb = env.rollback(&args);
        assert_eq!(rb.code, 3, "{}\n{}", rb.stdout, rb.stderr);
        assert!(env.entries().is_empty(), "{:?}", env.entries());
        if json {
            let summary: serde_json::Value =
                serde_json::from_str(rb.stdout.lines().last().unwrap()).unwrap();
            assert_eq!(summary["exit_code"], 3);
            let failures = summary["report"]["failures"].as_array().unwrap();
            assert_eq!(failures.len(), 1, "{summary:#}");
            assert_eq!(failures[0]["target"], role("dev-0"));
            assert_eq!(failures[0]["code"], "skipped");
            assert_eq!(
                failures[0]["message"],
                format!(
                    "the entry for {} was deleted by someone else since the apply: nothing to undo",
                    role("dev-0")
                )
            );
        } else {
            assert!(rb.stdout.contains("1 skipped"), "{}", rb.stdout);
            // The table wraps the reason between words (never inside the
            // ARN): joined again, it reads whole.
            let joined = rb
                .stdout
                .split_whitespace()
                .filter(|w| *w != "│")
                .collect::<Vec<_>>()
                .join(" ");
            assert!(
                joined.contains(&format!(
                    "the entry for {} was deleted by someone else since the apply",
                    role("dev-0")
                )),
                "{}",
                rb.stdout
            );
        }
        // Running it again reports it again; --force accepts it.
        assert_eq!(env.rollback(&["--yes"]).code, 3);
        ok(&env.rollback(&["--yes", "--force"]));
    }
}

/// Where the sweep over a `CONFIG_MAP` cluster kills the apply.
#[derive(Debug, Clone, Copy)]
enum KillPoint {
    /// Once the journal holds this many lines (1: the header, 2: the
    /// switch's intent, 3: its outcome, then the entries' steps).
    Lines(usize),
    /// While EKS runs the authentication-mode update.
    Updating,
}

/// Kills an `--enable-access-entries` apply of a `CONFIG_MAP` cluster before,
/// during and after the mode update, then resumes or rolls it back: resume
/// reaches the end state of an uninterrupted apply; rollback the starting
/// state, except what cannot go back: once the switch took effect, the mode
/// stays `API_AND_CONFIG_MAP` with the entries EKS made on it.
#[test]
fn sigkill_around_the_mode_switch_then_resume_or_rollback() {
    let n = 4;
    let want = {
        let env = Env::new(config_map_seed(n, 300));
        ok(&env.apply(&["--yes", "--enable-access-entries"]));
        env.entries()
    };
    let points = [
        KillPoint::Lines(1),
        KillPoint::Lines(2),
        KillPoint::Updating,
        KillPoint::Lines(3),
        KillPoint::Lines(4),
        KillPoint::Lines(7),
        KillPoint::Lines(10),
    ];
    for point in points {
        for rollback in [false, true] {
            let env = Env::new(config_map_seed(n, 300));
            let aws_auth = env.emu.aws_auth("prod").unwrap();
            slow(&env);
            let killed = kill_when(
                &env,
                &["--enable-access-entries"],
                |e, journal| match point {
                    KillPoint::Lines(l) => journal.lines().count() >= l,
                    KillPoint::Updating => updating(e),
                },
            );
            assert!(killed, "{point:?}: the apply finished before the kill");
            env.emu.set_faults(Faults::new(1, vec![]));
            let what = format!("{point:?}, rollback {rollback}");
            if !env.journal().exists() {
                assert_eq!(env.mode(), "CONFIG_MAP", "{what}");
                assert!(env.entries().is_empty(), "{what}");
                continue;
            }
            let out = if rollback {
                env.rollback(&["--yes"])
            } else {
                env.resume()
            };
            assert_eq!(out.code, 0, "{what}: {}\n{}", out.stdout, out.stderr);
            if rollback {
                // Wait out an update the kill left running, then compare.
                while updating(&env) {
                    std::thread::sleep(Duration::from_millis(20));
                }
                let start = if env.mode() == "CONFIG_MAP" {
                    BTreeMap::new()
                } else {
                    eks_made(&want)
                };
                assert_eq!(env.entries(), start, "{what}");
            } else {
                assert_eq!(env.mode(), "API_AND_CONFIG_MAP", "{what}");
                assert_eq!(env.entries(), want, "{what}");
            }
            assert_eq!(env.emu.aws_auth("prod").unwrap(), aws_auth, "{what}");
        }
    }
}
