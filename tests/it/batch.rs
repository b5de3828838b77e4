//! `batch`: the real binary over a fleet of 30 emulated clusters in 3
//! accounts and 2 regions, each account reached through its own AWS
//! profile (a shared config and credentials file in the test's folder).

use std::path::{Path, PathBuf};

use eks_emulator::seed::{Cluster, Seed};
use eks_emulator::{Emulator, FaultRule, Faults};

use aws_auth_migrate::batch::report::{FleetReport, Status};

use crate::cmd::{bin, Cmd, Output};

const ACCOUNTS: [&str; 3] = ["111122223333", "444455556666", "777788889999"];
const REGIONS: [&str; 2] = ["us-east-1", "eu-west-1"];

fn name(a: usize, r: usize, n: usize) -> String {
    format!("c-{a}-{r}-{n}")
}

/// aws-auth with the account's admin user (cluster admin), a node role and
/// `devs` developer roles.
fn aws_auth(account: &str, devs: usize) -> (String, String) {
    let mut roles = format!(
        "- rolearn: arn:aws:iam::{account}:role/nodes\n  username: \"system:node:{{{{EC2PrivateDNSName}}}}\"\n  groups: [system:bootstrappers, system:nodes]\n"
    );
    for i in 0..devs {
        roles.push_str(&format!(
            "- rolearn: arn:aws:iam::{account}:role/dev-{i}\n  username: dev-{i}\n  groups: [devs]\n"
        ));
    }
    let users = format!(
        "- userarn: arn:aws:iam::{account}:user/admin\n  username: admin\n  groups: [system:masters]\n"
    );
    (roles, users)
}

/// `per_region` clusters in every account and region, `devs` developer
/// rows each.
pub(super) fn seed(per_region: usize, devs: usize) -> Seed {
    let mut seed = Seed::default().with_update_duration_ms(50);
    for (ai, a) in ACCOUNTS.iter().enumerate() {
        seed = seed
            .with_credential(
                &format!("AKIDFLEET{ai}"),
                a,
                &format!("arn:aws:iam::{a}:user/admin"),
            )
            .with_user(a, "/", "admin")
            .with_role(a, "/", "nodes");
        for i in 0..devs {
            seed = seed.with_role(a, "/", &format!("dev-{i}"));
        }
        for (ri, r) in REGIONS.iter().enumerate() {
            for n in 0..per_region {
                let (roles, users) = aws_auth(a, devs);
                seed = seed.with_cluster(
                    Cluster::new(&name(ai, ri, n), a, r)
                        .mode("API_AND_CONFIG_MAP")
                        .version("1.31", "eks.1")
                        .aws_auth([("mapRoles", roles), ("mapUsers", users)]),
                );
            }
        }
    }
    seed
}

pub struct Fleet {
    pub emu: Emulator,
    pub dir: tempfile::TempDir,
}

impl Fleet {
    pub fn start(seed: Seed) -> Fleet {
        let fleet = Fleet {
            emu: Emulator::start(seed).expect("emulator starts"),
            dir: tempfile::tempdir().unwrap(),
        };
        // One profile per account, pointing at its access key.
        let mut config = String::new();
        let mut creds = String::new();
        for (ai, _) in ACCOUNTS.iter().enumerate() {
            config.push_str(&format!("[profile acct{ai}]\nregion = us-east-1\n\n"));
            creds.push_str(&format!(
                "[acct{ai}]\naws_access_key_id = AKIDFLEET{ai}\naws_secret_access_key = secret\n\n"
            ));
        }
        std::fs::write(fleet.dir.path().join("aws-config"), config).unwrap();
        std::fs::write(fleet.dir.path().join("aws-credentials"), creds).unwrap();
        fleet
    }

    pub fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    /// A fleet file: every `per_region` cluster of every account and
    /// region, plus `extra` YAML cluster items.
    pub fn write_fleet(&self, per_region: usize, extra: &str) -> PathBuf {
        let mut y = format!(
            "defaults:\n  kubeconfig: {}\n  concurrency: 4\n  labels: {{team: platform}}\nclusters:\n",
            self.emu.kubeconfig_path().display()
        );
        for (ai, _) in ACCOUNTS.iter().enumerate() {
            for (ri, r) in REGIONS.iter().enumerate() {
                for n in 0..per_region {
                    y.push_str(&format!(
                        "  - name: {}\n    region: {r}\n    profile: acct{ai}\n    labels: {{account: \"{ai}\", env: {}}}\n",
                        name(ai, ri, n),
                        if n == 0 { "prod" } else { "dev" }
                    ));
                }
            }
        }
        y.push_str(extra);
        let p = self.path("fleet.yaml");
        std::fs::write(&p, y).unwrap();
        p
    }

    pub fn cmd(&self, args: &[&str]) -> Cmd {
        bin()
            .env("AWS_ENDPOINT_URL", &self.emu.endpoint_url())
            .env("AWS_CONFIG_FILE", self.path("aws-config").to_str().unwrap())
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                self.path("aws-credentials").to_str().unwrap(),
            )
            .env("AWS_AUTH_MIGRATE_INITIAL_BACKOFF_MS", "5")
            .env("AWS_AUTH_MIGRATE_POLL_MS", "50")
            .env("XDG_STATE_HOME", self.dir.path().to_str().unwrap())
            .args(args)
    }

    fn entries(&self, cluster: &str) -> usize {
        self.emu
            .cluster_state(cluster)
            .unwrap()
            .access_entries
            .len()
    }
}

pub(super) fn report(out: &Output) -> FleetReport {
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not a fleet report ({e}):\n{}\nstderr:\n{}",
            out.stdout, out.stderr
        )
    })
}

fn by_name<'a>(r: &'a FleetReport, n: &str) -> &'a aws_auth_migrate::batch::report::ClusterResult {
    r.clusters
        .iter()
        .find(|c| c.name == n)
        .unwrap_or_else(|| panic!("{n} is in the report"))
}

pub(super) fn s(p: &Path) -> String {
    p.display().to_string()
}

#[test]
fn fleet_of_30_plan_apply_resume_verify_rollback() {
    let fleet = Fleet::start(seed(5, 3));
    fleet.emu.set_faults(Faults::new(
        3,
        vec![
            // Throttled: half the calls of one cluster answer 429.
            FaultRule::new("*")
                .on_cluster("c-1-1-2")
                .throttle_probability(0.5),
            // Interrupted: one refusal makes that cluster partial.
            FaultRule::new("CreateAccessEntry")
                .on_cluster("c-2-0-1")
                .fail_nth(2, 400, "InvalidRequestException"),
        ],
    ));
    // Unreachable: no such cluster in that account and region.
    let file = fleet.write_fleet(
        5,
        "  - name: ghost\n    region: eu-west-1\n    profile: acct1\n",
    );
    let out = fleet.path("run");

    // plan: 30 clusters with changes, the ghost failed → exit 3.
    let plan = fleet
        .cmd(&[
            "batch",
            "plan",
            "--fleet",
            &s(&file),
            "--out-dir",
            &s(&out),
            "--format",
            "json",
            "--parallel",
            "8",
        ])
        .run();
    assert_eq!(plan.code, 3, "{}", plan.stderr);
    let r = report(&plan);
    assert_eq!(r.command, "plan");
    assert_eq!(r.summary.clusters, 31);
    assert_eq!(r.summary.changes, 30);
    assert_eq!(r.summary.failed, 1);
    assert_eq!(r.exit_code, 3);
    let ghost = by_name(&r, "ghost");
    assert_eq!(ghost.status, Status::Failed);
    assert!(
        ghost
            .error
            .as_deref()
            .unwrap()
            .contains("no cluster named ghost"),
        "{:?}",
        ghost.error
    );
    let c = by_name(&r, "c-2-1-4");
    assert_eq!(c.account.as_deref(), Some("777788889999"));
    assert_eq!(c.region.as_deref(), Some("eu-west-1"));
    assert_eq!(c.mode.as_deref(), Some("API_AND_CONFIG_MAP"));
    let counts = c.counts.unwrap();
    assert_eq!(
        (counts.create, counts.update, counts.noop, counts.conflict),
        (5, 0, 0, 0)
    );
    assert_eq!(
        (counts.skipped, counts.lossy, counts.lockout_warnings),
        (0, 0, 0)
    );
    assert_eq!(r.summary.totals.create, 150);
    let plan_file = out.join("777788889999-eu-west-1-c-2-1-4.plan.json");
    assert_eq!(c.plan_file.as_deref(), Some(plan_file.as_path()));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&plan_file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    // Progress went to stderr as JSON lines, naming the clusters.
    let events: Vec<serde_json::Value> = plan
        .stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}")))
        .collect();
    assert_eq!(events.first().unwrap()["event"], "fleet_start");
    assert_eq!(events.last().unwrap()["event"], "fleet_done");
    assert_eq!(
        events
            .iter()
            .filter(|e| e["event"] == "cluster_done")
            .count(),
        31
    );
    assert!(out.join("batch-plan.md").exists() && out.join("batch.json").exists());
    assert_eq!(fleet.entries("c-0-0-0"), 0, "plan changes nothing");

    // apply the reviewed plans: c-2-0-1 ends partial, the ghost has no plan.
    let apply = fleet
        .cmd(&[
            "batch",
            "apply",
            "--plans",
            &s(&out),
            "--format",
            "json",
            "--parallel",
            "8",
        ])
        .run();
    assert_eq!(apply.code, 3, "{}", apply.stderr);
    let r = report(&apply);
    assert_eq!(r.summary.ok, 29, "{:#?}", r.summary);
    assert_eq!(r.summary.partial, 1);
    assert_eq!(r.summary.failed, 1);
    let partial = by_name(&r, "c-2-0-1");
    assert_eq!(partial.status, Status::Partial);
    assert!(partial
        .error
        .as_deref()
        .unwrap()
        .contains("InvalidRequestException"));
    let journal = out.join("777788889999-us-east-1-c-2-0-1.apply.jsonl");
    assert_eq!(partial.journal.as_deref(), Some(journal.as_path()));
    let throttled = by_name(&r, "c-1-1-2");
    assert_eq!(throttled.status, Status::Ok, "{throttled:?}");
    assert_eq!(throttled.steps.as_ref().unwrap().done, 5 + 1);
    assert_eq!(fleet.entries("c-1-1-2"), 5);
    assert_eq!(fleet.entries("c-2-0-1"), 4);
    assert!(by_name(&r, "ghost")
        .error
        .as_deref()
        .unwrap()
        .contains("no saved plan"));

    // A second apply of the same folder is refused per cluster.
    let again = fleet
        .cmd(&[
            "batch",
            "apply",
            "--plans",
            &s(&out),
            "--select",
            "c-0-0-0",
            "--format",
            "json",
        ])
        .run();
    assert_eq!(again.code, 3);
    assert!(report(&again).clusters[0]
        .error
        .as_deref()
        .unwrap()
        .contains("batch apply --resume"));

    // resume finishes the interrupted cluster; the others have nothing left.
    fleet.emu.set_faults(Faults::new(1, vec![]));
    let resume = fleet
        .cmd(&[
            "batch",
            "apply",
            "--resume",
            "--out-dir",
            &s(&out),
            "--format",
            "json",
        ])
        .run();
    assert_eq!(resume.code, 0, "{}\n{}", resume.stdout, resume.stderr);
    assert_eq!(fleet.entries("c-2-0-1"), 5);

    // verify: parity on every real cluster.
    let verify = fleet
        .cmd(&[
            "batch",
            "verify",
            "--out-dir",
            &s(&out),
            "--select",
            "c-*",
            "--format",
            "json",
            "--parallel",
            "8",
        ])
        .run();
    assert_eq!(verify.code, 0, "{}\n{}", verify.stdout, verify.stderr);
    let r = report(&verify);
    assert_eq!(r.summary.ok, 30);
    assert!(r.clusters.iter().all(|c| c.verify.as_ref().unwrap().parity));
    assert!(out
        .join("111122223333-us-east-1-c-0-0-0.verify.json")
        .exists());

    // Re-planning the account-1 prod clusters by label: nothing left to do.
    let replan = fleet
        .cmd(&[
            "batch",
            "plan",
            "--fleet",
            &s(&file),
            "--out-dir",
            &s(&fleet.path("replan")),
            "--select",
            "account=1,env=prod",
            "--format",
            "json",
        ])
        .run();
    assert_eq!(replan.code, 0, "{}", replan.stderr);
    let r = report(&replan);
    let names: Vec<&str> = r.clusters.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["c-1-0-0", "c-1-1-0"]);
    assert!(r.clusters.iter().all(|c| c.counts.unwrap().noop == 5));

    // rollback: every cluster of the run back to no entries.
    let rb = fleet
        .cmd(&[
            "batch",
            "rollback",
            "--out-dir",
            &s(&out),
            "--yes",
            "--format",
            "json",
        ])
        .run();
    assert_eq!(rb.code, 0, "{}\n{}", rb.stdout, rb.stderr);
    for (ai, _) in ACCOUNTS.iter().enumerate() {
        for ri in 0..2 {
            for n in 0..5 {
                assert_eq!(fleet.entries(&name(ai, ri, n)), 0, "{}", name(ai, ri, n));
            }
        }
    }
}

#[test]
fn fail_fast_stops_starting_clusters() {
    let fleet = Fleet::start(seed(2, 1));
    let file = fleet.write_fleet(0, "  - name: ghost\n    region: eu-west-1\n    profile: acct0\n  - name: c-0-0-0\n    region: us-east-1\n    profile: acct0\n  - name: c-0-0-1\n    region: us-east-1\n    profile: acct0\n");
    let out = fleet.path("run");
    let plan = fleet
        .cmd(&[
            "batch",
            "plan",
            "--fleet",
            &s(&file),
            "--out-dir",
            &s(&out),
            "--parallel",
            "1",
            "--fail-fast",
            "--format",
            "json",
        ])
        .run();
    assert_eq!(plan.code, 3);
    let r = report(&plan);
    let st: Vec<Status> = r.clusters.iter().map(|c| c.status).collect();
    assert_eq!(st, [Status::Failed, Status::NotRun, Status::NotRun]);
}

#[test]
fn refusals_before_any_cluster() {
    let fleet = Fleet::start(seed(1, 1));
    let bad = fleet.path("bad.yaml");
    std::fs::write(&bad, "clusters:\n  - name: a\n    regoin: x\n").unwrap();
    let out = fleet
        .cmd(&[
            "batch",
            "plan",
            "--fleet",
            &s(&bad),
            "--out-dir",
            &s(&fleet.path("o")),
        ])
        .run();
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("unknown field `regoin`"),
        "{}",
        out.stderr
    );
    let file = fleet.write_fleet(1, "");
    let out = fleet
        .cmd(&[
            "batch",
            "apply",
            "--fleet",
            &s(&file),
            "--out-dir",
            &s(&fleet.path("o")),
        ])
        .run();
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("pass --yes"), "{}", out.stderr);
    let out = fleet
        .cmd(&[
            "batch",
            "plan",
            "--fleet",
            &s(&file),
            "--out-dir",
            &s(&fleet.path("o")),
            "--select",
            "nothing-*",
        ])
        .run();
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("matches no cluster"), "{}", out.stderr);
}

#[test]
fn table_and_markdown_reports() {
    let fleet = Fleet::start(seed(1, 2));
    let file = fleet.write_fleet(
        1,
        "  - name: ghost\n    region: eu-west-1\n    profile: acct0\n",
    );
    let out = fleet.path("run");
    let common = [
        "--fleet",
        &s(&file),
        "--out-dir",
        &s(&out),
        "--select",
        "c-0-*",
        "--select",
        "ghost",
    ];
    let mut args = vec!["batch", "plan"];
    args.extend_from_slice(&common);
    let table = fleet.cmd(&args).run();
    assert_eq!(table.code, 3, "{}", table.stderr);
    insta::assert_snapshot!("batch_plan_table", redact(&table.stdout));
    args.extend_from_slice(&["--format", "markdown"]);
    let md = fleet.cmd(&args).run();
    assert_eq!(md.code, 3);
    insta::assert_snapshot!("batch_plan_markdown", redact(&md.stdout));
    assert_eq!(
        std::fs::read_to_string(out.join("batch-plan.md")).unwrap(),
        md.stdout
    );
}

/// Request ids differ from run to run.
fn redact(text: &str) -> String {
    let mut out = String::new();
    for (i, part) in text.split("request id ").enumerate() {
        if i == 0 {
            out.push_str(part);
        } else {
            out.push_str("request id [id]");
            let rest = part.trim_start_matches(|c: char| c.is_ascii_alphanumeric() || c == '-');
            out.push_str(rest);
        }
    }
    out
}

#[test]
fn plan_apply_verify_finalize_a_small_fleet() {
    let fleet = Fleet::start(seed(1, 1));
    let file = fleet.write_fleet(1, "");
    let out = fleet.path("run");
    let o = s(&out);
    let plan = fleet
        .cmd(&["batch", "plan", "--fleet", &s(&file), "--out-dir", &o])
        .run();
    assert_eq!(plan.code, 2, "{}", plan.stderr);
    let apply = fleet.cmd(&["batch", "apply", "--plans", &o]).run();
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    let verify = fleet.cmd(&["batch", "verify", "--out-dir", &o]).run();
    assert_eq!(verify.code, 0, "{}\n{}", verify.stdout, verify.stderr);
    let refused = fleet.cmd(&["batch", "finalize", "--out-dir", &o]).run();
    assert_eq!(refused.code, 1);
    let fin = fleet
        .cmd(&[
            "batch",
            "finalize",
            "--out-dir",
            &o,
            "--yes",
            "--delete-configmap",
        ])
        .run();
    assert_eq!(fin.code, 0, "{}\n{}", fin.stdout, fin.stderr);
    let r: FleetReport =
        serde_json::from_slice(&std::fs::read(out.join("batch-finalize.json")).unwrap()).unwrap();
    assert_eq!(r.summary.ok, 6, "{:#?}", r.clusters);
    let clusters: Vec<String> = (0..ACCOUNTS.len())
        .flat_map(|ai| (0..2).map(move |ri| name(ai, ri, 0)))
        .collect();
    let finalized: Vec<_> = clusters
        .iter()
        .map(|c| {
            let state = fleet.emu.cluster_state(c).unwrap();
            assert_eq!(state.authentication_mode, "API");
            assert!(fleet.emu.aws_auth(c).unwrap().is_none(), "{c}: deleted");
            (c.clone(), fleet.entries(c))
        })
        .collect();

    let rollback = |extra: &[&str]| {
        let mut args = vec![
            "batch",
            "rollback",
            "--out-dir",
            &o,
            "--yes",
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        fleet.cmd(&args).run()
    };
    // batch rollback restores aws-auth from the finalize journals, then
    // refuses to delete the entries of clusters now in API mode.
    let rb = rollback(&[]);
    assert_eq!(rb.code, 3, "{}\n{}", rb.stdout, rb.stderr);
    let r = report(&rb);
    for (c, entries) in &finalized {
        let one = by_name(&r, c);
        assert_eq!(one.status, Status::Failed, "{one:#?}");
        assert!(
            one.error
                .as_deref()
                .is_some_and(|e| e.contains("is in API mode (finalized)")),
            "{one:#?}"
        );
        assert!(fleet.emu.aws_auth(c).unwrap().is_some(), "{c}: restored");
        assert_eq!(fleet.entries(c), *entries, "{c}: entries kept");
    }
    // --force deletes them; aws-auth is not restored a second time.
    let forced = rollback(&["--force"]);
    assert_eq!(forced.code, 0, "{}\n{}", forced.stdout, forced.stderr);
    let r = report(&forced);
    for (c, _) in &finalized {
        let one = by_name(&r, c);
        assert_eq!(one.status, Status::Ok, "{one:#?}");
        assert!(
            one.note
                .starts_with("aws-auth restored by an earlier rollback; "),
            "{one:#?}"
        );
        assert_eq!(fleet.entries(c), 0, "{c}: the migrated entries are gone");
    }
}

/// `batch apply --plans` checks each saved plan as `apply PLAN_FILE` does:
/// one edited after review (`ClusterAdmin` added, digest recomputed) is
/// refused for its cluster, and nothing changes there; the other applies.
#[test]
fn an_edited_plan_is_refused_for_its_cluster() {
    let fleet = Fleet::start(seed(1, 1));
    let file = fleet.write_fleet(1, "");
    let out = fleet.path("run");
    let plan = fleet
        .cmd(&[
            "batch",
            "plan",
            "--fleet",
            &s(&file),
            "--out-dir",
            &s(&out),
            "--select",
            "c-0-*",
        ])
        .run();
    assert_eq!(plan.code, 2, "{}", plan.stderr);
    let edited = out.join("111122223333-us-east-1-c-0-0-0.plan.json");
    let mut doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&edited).unwrap()).unwrap();
    let dev = "arn:aws:iam::111122223333:role/dev-0";
    let entry = doc["entries"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|e| e["principal_arn"] == dev)
        .unwrap();
    entry["policies"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({
            "policy_arn": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
            "access_scope": {"type": "cluster", "namespaces": []}
        }));
    doc["digest"] = aws_auth_migrate::core::review::content_digest(&doc).into();
    std::fs::write(&edited, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();

    let apply = fleet
        .cmd(&["batch", "apply", "--plans", &s(&out), "--format", "json"])
        .run();
    assert_eq!(apply.code, 3, "{}", apply.stderr);
    let r = report(&apply);
    let refused = by_name(&r, "c-0-0-0");
    assert_eq!(refused.status, Status::Failed);
    assert!(
        refused.error.as_deref().unwrap().contains(&format!(
            "does not match the plan made now from the cluster: entry {dev}: policies [AmazonEKSClusterAdminPolicy (cluster)] in the file, [] now"
        )),
        "{:?}",
        refused.error
    );
    assert_eq!(fleet.entries("c-0-0-0"), 0, "nothing changed there");
    assert_eq!(by_name(&r, "c-0-1-0").status, Status::Ok);
    assert_eq!(fleet.entries("c-0-1-0"), 3);
}
