//! `prune-configmap --output json` and `finalize --output json`: the report
//! is the one JSON document on standard output (progress goes to standard
//! error), and `--detailed-exitcode` changes nothing in verify. Against the
//! emulator, with the clusters of tests/it/finish.rs.

use serde_json::{json, Value};

use crate::finish::{cluster, map_roles, Env, DEV, DEV_ROW, NODE, NODE_ROW};

/// The whole of standard output as one JSON document; `exit_code` in it is
/// the process's.
fn report(out: &crate::cmd::Output) -> Value {
    let v = out.json();
    assert_eq!(
        v["exit_code"], out.code,
        "stdout: {}\nstderr: {}",
        out.stdout, out.stderr
    );
    v
}

#[test]
fn prune_json_reports_dry_run_pruned_and_nothing() {
    let env = Env::new(cluster(true, true, &map_roles()));
    // The report names the rows by id; their principals are in the progress.
    let rows = json!(["mapRoles#1", "mapRoles#2"]);

    let out = env.run(&["prune-configmap", "--dry-run", "--output", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        report(&out),
        json!({
            "command": "prune-configmap",
            "report": {"result": "dry_run", "rows": rows},
            "exit_code": 0,
        })
    );
    // What would be removed is still said, on standard error.
    assert!(
        out.stderr
            .contains(&format!("  - mapRoles#1 {NODE} (migrated)\n"))
            && out
                .stderr
                .contains(&format!("  - mapRoles#2 {DEV} (migrated)\n")),
        "{}",
        out.stderr
    );

    let journal = env.journal("prune.jsonl");
    let j = journal.display().to_string();
    let out = env.run(&[
        "prune-configmap",
        "--yes",
        "--journal",
        &j,
        "--output",
        "json",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v = report(&out);
    let version = v["report"]["resource_version"].clone();
    assert!(
        version.as_str().is_some_and(|s| !s.is_empty()),
        "a resourceVersion: {v:#}"
    );
    assert_eq!(
        v,
        json!({
            "command": "prune-configmap",
            "report": {
                "result": "pruned",
                "rows": rows,
                "journal": j,
                "resource_version": version,
            },
            "exit_code": 0,
        })
    );

    let out = env.run(&["prune-configmap", "--yes", "--output", "json"]);
    assert_eq!(
        report(&out),
        json!({"command": "prune-configmap", "report": {"result": "nothing"}, "exit_code": 0})
    );
}

#[test]
fn finalize_json_reports_refused_switched_and_already_api() {
    // The node role has no node entry: refused, exit 1, the blockers in the
    // report.
    let env = Env::new(cluster(true, false, &format!("{NODE_ROW}{DEV_ROW}")));
    let out = env.run(&["finalize", "--yes", "--output", "json"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let mut v = report(&out);
    let mut blockers: Vec<String> =
        serde_json::from_value(v["report"]["blockers"].take()).expect("blockers are strings");
    blockers.sort();
    assert_eq!(
        blockers,
        vec![
            format!("mapRoles#1 ({NODE}) is gap: no-entry: no access entry for {NODE}"),
            format!("node role {NODE} (in aws-auth) has no node-type access entry: its nodes could not join in API mode; create its node entry (apply), or remove the row from aws-auth if no node uses the role (--accept-gaps does not waive a node role)"),
        ]
    );
    assert_eq!(
        v,
        json!({
            "command": "finalize",
            "report": {
                "result": "refused",
                "cluster": "prod",
                "mode": "API_AND_CONFIG_MAP",
                "blockers": null,
            },
            "exit_code": 1,
        })
    );
    assert_eq!(env.mode(), "API_AND_CONFIG_MAP");

    // At parity: switched, aws-auth deleted.
    let env = Env::new(cluster(true, true, &format!("{NODE_ROW}{DEV_ROW}")));
    let journal = env.journal("finalize.jsonl");
    let j = journal.display().to_string();
    let out = env.run(&[
        "finalize",
        "--yes",
        "--delete-configmap",
        "--journal",
        &j,
        "--output",
        "json",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        report(&out),
        json!({
            "command": "finalize",
            "report": {"result": "switched", "journal": j, "configmap": {"status": "deleted"}},
            "exit_code": 0,
        })
    );
    assert!(
        out.stderr.contains("Cluster prod is in API mode.\n"),
        "progress on standard error: {}",
        out.stderr
    );
    assert_eq!(env.mode(), "API");
    assert_eq!(env.aws_auth(), None);

    let out = env.run(&["finalize", "--yes", "--output", "json"]);
    assert_eq!(
        report(&out),
        json!({
            "command": "finalize",
            "report": {"result": "already_api", "cluster": "prod", "configmap_present": false},
            "exit_code": 0,
        })
    );
}

#[test]
fn verify_takes_detailed_exitcode_and_both_output_spellings() {
    let env = Env::new(cluster(true, true, &map_roles()));
    let new = env.run(&["verify", "--output", "json", "--detailed-exitcode"]);
    let old = env.run(&["verify", "--format", "json"]);
    assert_eq!(new.code, 2, "gaps remain: {}", new.stderr);
    assert_eq!(old.code, 2, "{}", old.stderr);
    assert_eq!(new.json(), old.json());
    let md = env.run(&["verify", "--output", "markdown"]);
    assert_eq!(md.code, 2);
    assert!(md.stdout.starts_with('#'), "{}", md.stdout);
}
