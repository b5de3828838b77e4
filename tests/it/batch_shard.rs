//! `batch --shard I/N` and `batch report --merge`: the real binary over a
//! fleet of 12 emulated clusters in 3 accounts (docs/batch.md, "Shards").

use std::path::PathBuf;

use serde_json::Value;

use crate::batch::{report, s, seed, Fleet};

/// The one fleet folder of the state directory (`fleet-<hash>`).
fn fleet_dir(fleet: &Fleet) -> PathBuf {
    let root = fleet.path("aws-auth-migrate").join("fleet");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs.remove(0)
}

/// A report's JSON without what differs from run to run (timings) and
/// what only a merge says (`missing_shards`).
fn timeless(text: &str) -> Value {
    let mut v: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"));
    let obj = v.as_object_mut().unwrap();
    obj.remove("missing_shards");
    for c in obj["clusters"].as_array_mut().unwrap() {
        c.as_object_mut().unwrap().remove("elapsed_ms");
    }
    v
}

#[test]
fn three_shards_merge_into_the_report_of_one_run() {
    let fleet = Fleet::start(seed(2, 1));
    let file = fleet.write_fleet(2, "");
    let out = fleet.path("run");
    let (f, o) = (s(&file), s(&out));
    let plan = |extra: &[&str]| {
        let mut args = vec![
            "batch",
            "plan",
            "--fleet",
            &f,
            "--out-dir",
            &o,
            "--output",
            "json",
        ];
        args.extend_from_slice(extra);
        fleet.cmd(&args).run()
    };

    // The whole fleet in one go: 12 clusters with changes (a part 1 of 1).
    let whole = plan(&[]);
    assert_eq!(whole.code, 2, "{}", whole.stderr);
    assert_eq!(report(&whole).clusters.len(), 12);
    let whole_md = std::fs::read_to_string(out.join("batch-plan.md")).unwrap();
    let dir = fleet_dir(&fleet).join("plan");
    assert!(dir.join("shard-1-of-1.json").exists());
    let one = fleet
        .cmd(&[
            "batch",
            "report",
            "--merge",
            "--fleet",
            &s(&file),
            "--command",
            "plan",
            "--output",
            "json",
        ])
        .run();
    assert_eq!(one.code, 0, "{}", one.stderr);
    assert_eq!(timeless(&one.stdout), timeless(&whole.stdout));

    // Three shards, one after the other: every cluster in exactly one.
    let mut names = Vec::new();
    for i in 1..=3 {
        let part = plan(&["--shard", &format!("{i}/3")]);
        assert!([0, 2].contains(&part.code), "{i}: {}", part.stderr);
        names.extend(report(&part).clusters.into_iter().map(|c| c.name));
        assert!(dir.join(format!("shard-{i}-of-3.json")).exists());
    }
    names.sort();
    let mut all: Vec<String> = report(&whole)
        .clusters
        .into_iter()
        .map(|c| c.name)
        .collect();
    all.sort();
    assert_eq!(names, all);
    // The part of the earlier split (1 of 1) is replaced.
    assert!(!dir.join("shard-1-of-1.json").exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("shard-2-of-3.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // Merged: the JSON and Markdown of the run in one go.
    let merge = |output: &str| {
        fleet
            .cmd(&[
                "batch",
                "report",
                "--merge",
                "--fleet",
                &s(&file),
                "--command",
                "plan",
                "--output",
                output,
            ])
            .run()
    };
    let json = merge("json");
    assert_eq!(json.code, 0, "{}", json.stderr);
    assert_eq!(timeless(&json.stdout), timeless(&whole.stdout));
    let v: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["missing_shards"], serde_json::json!([]));
    let md = merge("markdown");
    assert_eq!(md.code, 0, "{}", md.stderr);
    assert_eq!(md.stdout, whole_md);
    let table = merge("table");
    assert_eq!(table.code, 0, "{}", table.stderr);
    assert!(
        table.stdout.contains("Fleet plan: 12 clusters"),
        "{}",
        table.stdout
    );

    // One shard missing: named, exit 2.
    let kept = fleet.path("shard-2-of-3.json");
    std::fs::rename(dir.join("shard-2-of-3.json"), &kept).unwrap();
    let json = merge("json");
    assert_eq!(json.code, 2, "{}", json.stderr);
    let v: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["missing_shards"], serde_json::json!([2]));
    let table = merge("table");
    assert_eq!(table.code, 2);
    assert!(
        table.stdout.contains("Missing shard 2/3:"),
        "{}",
        table.stdout
    );
    let md = merge("markdown");
    assert_eq!(md.code, 2);
    assert!(
        md.stdout.starts_with("> **Missing shard 2/3:"),
        "{}",
        md.stdout
    );

    // Explicit files: the folder and the one put aside make the whole.
    let files = fleet
        .cmd(&[
            "batch",
            "report",
            "--merge",
            "--from",
            &s(&dir),
            &s(&kept),
            "--output",
            "json",
        ])
        .run();
    assert_eq!(files.code, 0, "{}", files.stderr);
    assert_eq!(timeless(&files.stdout), timeless(&whole.stdout));

    // Parts of another split (N) or another fleet are refused.
    let two = plan(&["--shard", "1/2"]);
    assert!([0, 2].contains(&two.code), "{}", two.stderr);
    let mixed = fleet
        .cmd(&[
            "batch",
            "report",
            "--merge",
            &s(&kept),
            &s(&dir.join("shard-1-of-2.json")),
        ])
        .run();
    assert_eq!(mixed.code, 1, "{}", mixed.stdout);
    assert!(
        mixed.stderr.contains("not of one run: N (shards)"),
        "{}",
        mixed.stderr
    );
    let other = fleet.cmd(&[
        "batch",
        "plan",
        "--fleet",
        &s(&file),
        "--out-dir",
        &s(&out),
        "--fleet-id",
        "other",
        "--shard",
        "1/2",
    ]);
    assert!([0, 2].contains(&other.run().code));
    let other_part = fleet
        .path("aws-auth-migrate")
        .join("fleet/other/plan/shard-1-of-2.json");
    let mixed = fleet
        .cmd(&[
            "batch",
            "report",
            "--merge",
            &s(&other_part),
            &s(&dir.join("shard-1-of-2.json")),
        ])
        .run();
    assert_eq!(mixed.code, 1);
    assert!(mixed.stderr.contains("fleet id"), "{}", mixed.stderr);
    assert_eq!(mixed.stderr.lines().count(), 1, "{}", mixed.stderr);
}

#[test]
fn shard_by_account_keeps_an_account_together_and_a_shard_may_be_empty() {
    let fleet = Fleet::start(seed(1, 1));
    let file = fleet.write_fleet(1, "");
    let out = fleet.path("run");
    let mut seen = Vec::new();
    let mut empty = 0;
    for i in 1..=5 {
        let part = fleet
            .cmd(&[
                "batch",
                "plan",
                "--fleet",
                &s(&file),
                "--out-dir",
                &s(&out),
                "--output",
                "json",
                "--shard",
                &format!("{i}/5"),
                "--shard-by",
                "account",
            ])
            .run();
        let r = report(&part);
        if r.clusters.is_empty() {
            empty += 1;
            assert_eq!(part.code, 0, "{}", part.stderr);
        }
        let mut accounts: Vec<String> = r
            .clusters
            .iter()
            .map(|c| c.account.clone().unwrap())
            .collect();
        accounts.dedup();
        assert!(accounts.len() <= 3);
        for a in accounts {
            assert!(!seen.contains(&a), "account {a} in two shards");
            seen.push(a);
        }
        seen.sort();
        seen.dedup();
    }
    // 3 accounts, 5 shards: at least 2 are empty, and every account ran.
    assert!(empty >= 2, "{empty}");
    assert_eq!(seen.len(), 3);
    let merged = fleet
        .cmd(&[
            "batch",
            "report",
            "--merge",
            "--fleet",
            &s(&file),
            "--command",
            "plan",
            "--output",
            "json",
        ])
        .run();
    assert_eq!(merged.code, 0, "{}", merged.stderr);
    assert_eq!(report(&merged).clusters.len(), 6);
    // Without --fleet, from the manifest: the parts go under the same
    // fleet id (the one fleet folder), as shard 1 of 1.
    let verify = fleet
        .cmd(&["batch", "verify", "--out-dir", &s(&out), "--output", "json"])
        .run();
    assert_eq!(report(&verify).clusters.len(), 6, "{}", verify.stderr);
    assert!(fleet_dir(&fleet).join("verify/shard-1-of-1.json").exists());
}

#[test]
fn bad_shards_are_refused_in_one_line() {
    let fleet = Fleet::start(seed(1, 1));
    let file = fleet.write_fleet(1, "");
    for (bad, why) in [
        ("0/3", "I counts from 1"),
        ("4/3", "I must be at most N"),
        ("1/0", "N must be at least 1"),
        ("3", "expected I/N"),
    ] {
        let out = fleet
            .cmd(&[
                "batch",
                "plan",
                "--fleet",
                &s(&file),
                "--out-dir",
                &s(&fleet.path("run")),
                "--shard",
                bad,
            ])
            .run();
        assert_eq!(out.code, 1, "{bad}");
        assert!(out.stderr.contains(why), "{bad}: {}", out.stderr);
        assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    }
    let none = fleet.cmd(&["batch", "report", "--merge"]).run();
    assert_eq!(none.code, 1);
    assert!(none.stderr.contains("say which parts"), "{}", none.stderr);
    let no_merge = fleet.cmd(&["batch", "report", "--fleet-id", "x"]).run();
    assert_eq!(no_merge.code, 1);
    assert!(no_merge.stderr.contains("--merge"), "{}", no_merge.stderr);
}
