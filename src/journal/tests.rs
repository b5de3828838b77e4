//! Unit tests of the journal: record shapes, reading and validation, the
//! writer and its group commit, paths and the cluster lock.

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::format::now;
use super::read::parse;
use super::*;
use crate::core::diff::ExistingEntry;
use crate::core::plan::EntryType;
use crate::core::policy::AccessScope;
use crate::core::steps::{client_request_token, rollback_steps, Outcome, Step, TAG_MIGRATION_ID};
use chrono::DateTime;

const ROLE: &str = "arn:aws:iam::111122223333:role/dev";
const VIEW: &str = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy";

fn cluster() -> ClusterInfo {
    ClusterInfo {
        name: "prod".into(),
        region: "eu-west-1".into(),
        account: "111122223333".into(),
        arn: "arn:aws:eks:eu-west-1:111122223333:cluster/prod".into(),
    }
}

fn header() -> Header {
    Header {
        format_version: "1".into(),
        tool_version: "0.1.0".into(),
        migration_id: "m1".into(),
        cluster: cluster(),
        command: Command::Apply,
        started_at: "2026-11-28T17:00:00Z".into(),
        rollback_of: None,
    }
}

fn create() -> Step {
    Step::CreateEntry {
        principal_arn: ROLE.into(),
        entry_type: EntryType::Standard,
        username: None,
        kubernetes_groups: vec!["dev".into()],
        tags: [(TAG_MIGRATION_ID.to_string(), "m1".to_string())].into(),
        client_request_token: client_request_token("m1", ROLE),
    }
}

fn associate() -> Step {
    Step::AssociatePolicy {
        principal_arn: ROLE.into(),
        policy_arn: VIEW.into(),
        access_scope: AccessScope::cluster(),
        prior_scope: None,
        on_created_entry: true,
    }
}

fn done(v: serde_json::Value) -> Outcome {
    Outcome::Done { response: v }
}

fn lines(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn round_trip_and_record_shapes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state").join("j.jsonl");
    let j = Journal::create(&path, header()).unwrap();
    assert_eq!(j.path(), path.as_path());
    assert_eq!(j.header(), &header());
    assert_eq!(j.intent(&create(), None).unwrap(), 1);
    assert_eq!(
        j.outcome(1, done(serde_json::json!({"accessEntryArn": "arn:x"})))
            .unwrap(),
        2
    );
    assert_eq!(j.intent(&associate(), None).unwrap(), 3);
    assert_eq!(j.open_intents(), vec![3]);
    drop(j);

    let l = lines(&path);
    assert_eq!(l.len(), 4);
    assert_eq!(
        l[0],
        serde_json::json!({
            "record": "header",
            "format_version": "1",
            "tool_version": "0.1.0",
            "migration_id": "m1",
            "cluster": {
                "name": "prod",
                "region": "eu-west-1",
                "account": "111122223333",
                "arn": "arn:aws:eks:eu-west-1:111122223333:cluster/prod"
            },
            "command": "apply",
            "started_at": "2026-11-28T17:00:00Z"
        })
    );
    assert_eq!(l[1]["record"], "intent");
    assert_eq!(l[1]["seq"], 1);
    assert_eq!(l[1]["step"], serde_json::to_value(create()).unwrap());
    assert_eq!(l[1]["prior"], serde_json::Value::Null);
    assert_eq!(
        l[1]["inverse"],
        serde_json::to_value(create().inverse()).unwrap()
    );
    assert!(DateTime::parse_from_rfc3339(l[1]["at"].as_str().unwrap()).is_ok());
    assert_eq!(l[2]["record"], "outcome");
    assert_eq!(l[2]["seq"], 2);
    assert_eq!(l[2]["intent"], 1);
    assert_eq!(
        l[2]["outcome"],
        serde_json::json!({"status": "done", "response": {"accessEntryArn": "arn:x"}})
    );

    let c = read(&path).unwrap();
    assert_eq!(c.header, header());
    assert_eq!(c.records.len(), 3);
    assert_eq!(c.torn_line, None);
    assert_eq!(c.valid_len, std::fs::metadata(&path).unwrap().len());
    assert_eq!(c.last_seq(), 3);
    assert_eq!(c.outcome_of(1).unwrap().seq, 2);
    assert_eq!(c.outcome_of(3), None);
    let p = pending(&c);
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].seq, 3);
    assert_eq!(p[0].step, associate());
    assert_eq!(
        effective(&c),
        vec![(
            create(),
            done(serde_json::json!({"accessEntryArn": "arn:x"}))
        )]
    );
}

#[test]
fn prior_state_is_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.jsonl");
    let j = Journal::create(&path, header()).unwrap();
    let prior = ExistingEntry {
        principal_arn: ROLE.into(),
        entry_type: "STANDARD".into(),
        username: Some("dev".into()),
        kubernetes_groups: vec!["a".into()],
        policies: vec![],
        tags: BTreeMap::new(),
    };
    j.intent(&associate(), Some(&prior)).unwrap();
    drop(j);
    let c = read(&path).unwrap();
    match &c.records[0] {
        Record::Intent(i) => assert_eq!(i.prior.as_ref(), Some(&prior)),
        other => panic!("{other:?}"),
    }
}

#[cfg(unix)]
#[test]
fn file_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new").join("j.jsonl");
    Journal::create(&path, header()).unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let dmode = std::fs::metadata(path.parent().unwrap())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(dmode & 0o777, 0o700);
}

#[test]
fn refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.jsonl");
    std::fs::write(&path, "keep me\n").unwrap();
    let err = Journal::create(&path, header()).unwrap_err();
    assert!(matches!(err, JournalError::Exists { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!(
            "journal {} already exists: choose another path, or resume it with --resume",
            path.display()
        )
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "keep me\n");
}

#[test]
fn torn_last_line_is_ignored_and_cut_on_resume() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.jsonl");
    let j = Journal::create(&path, header()).unwrap();
    j.intent(&create(), None).unwrap();
    drop(j);
    let good_len = std::fs::metadata(&path).unwrap().len();
    // A crash in the middle of writing the outcome.
    let mut f = OpenOptions::new().append(true).open(&path).unwrap();
    f.write_all(br#"{"record":"outcome","seq":2,"inte"#)
        .unwrap();
    drop(f);

    let c = read(&path).unwrap();
    assert_eq!(c.torn_line, Some(3));
    assert_eq!(c.valid_len, good_len);
    assert_eq!(pending(&c).len(), 1);

    let (j, c2) = Journal::open_append(&path).unwrap();
    assert_eq!(c2, c);
    assert_eq!(std::fs::metadata(&path).unwrap().len(), good_len);
    assert_eq!(j.open_intents(), vec![1]);
    assert_eq!(j.outcome(1, done(serde_json::json!({}))).unwrap(), 2);
    assert_eq!(j.intent(&associate(), None).unwrap(), 3);
    drop(j);
    let c3 = read(&path).unwrap();
    assert_eq!(c3.torn_line, None);
    assert_eq!(c3.last_seq(), 3);
    assert_eq!(pending(&c3)[0].seq, 3);
}

#[test]
fn corruption_in_the_middle_is_refused_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.jsonl");
    let j = Journal::create(&path, header()).unwrap();
    j.intent(&create(), None).unwrap();
    j.outcome(1, done(serde_json::json!({}))).unwrap();
    drop(j);
    let text = std::fs::read_to_string(&path).unwrap();
    let mut l: Vec<&str> = text.lines().collect();
    l[1] = "{\"record\":\"intent\",garbage";
    std::fs::write(&path, l.join("\n") + "\n").unwrap();
    let err = read(&path).unwrap_err();
    match &err {
        JournalError::Corrupt { line, .. } => assert_eq!(*line, 2),
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().starts_with(&format!(
        "journal {} is corrupt at line 2: ",
        path.display()
    )));
    assert!(matches!(
        Journal::open_append(&path).unwrap_err(),
        JournalError::Corrupt { line: 2, .. }
    ));
}

fn check(text: &str) -> Result<JournalContents> {
    parse(Path::new("j"), text.as_bytes())
}

fn hline() -> String {
    serde_json::to_string(&Record::Header(header())).unwrap()
}

fn iline(seq: u64) -> String {
    serde_json::to_string(&Record::Intent(IntentRecord {
        seq,
        at: "2026-11-28T17:00:01Z".into(),
        step: create(),
        prior: None,
        inverse: create().inverse(),
    }))
    .unwrap()
}

fn oline(seq: u64, intent: u64) -> String {
    serde_json::to_string(&Record::Outcome(OutcomeRecord {
        seq,
        intent,
        at: "2026-11-28T17:00:02Z".into(),
        outcome: Outcome::Failed {
            code: "ThrottlingException".into(),
            message: "Rate exceeded".into(),
        },
    }))
    .unwrap()
}

fn corrupt_line(r: Result<JournalContents>) -> (usize, String) {
    match r {
        Err(JournalError::Corrupt { line, message, .. }) => (line, message),
        other => panic!("{other:?}"),
    }
}

#[test]
fn structure_is_checked() {
    let h = hline();
    assert!(matches!(check(""), Err(JournalError::NoHeader { .. })));
    assert!(matches!(
        check(&h[..10]),
        Err(JournalError::NoHeader { .. })
    ));
    assert_eq!(
        corrupt_line(check(&format!("{}\n", iline(1)))),
        (1, "the first line is not a header".into())
    );
    assert_eq!(
        corrupt_line(check(&format!("{h}\n{h}\n"))),
        (2, "a second header".into())
    );
    assert_eq!(
        corrupt_line(check(&format!("{h}\n{}\n{}\n", iline(2), iline(2)))),
        (3, "seq 2 does not follow seq 2".into())
    );
    assert_eq!(
        corrupt_line(check(&format!("{h}\n{}\n{}\n", iline(1), oline(2, 5)))),
        (
            3,
            "outcome for seq 5, which is no earlier intent awaiting one".into()
        )
    );
    assert_eq!(
        corrupt_line(check(&format!(
            "{h}\n{}\n{}\n{}\n",
            iline(1),
            oline(2, 1),
            oline(3, 1)
        ))),
        (
            4,
            "outcome for seq 1, which is no earlier intent awaiting one".into()
        )
    );
    let v2 = h.replace("\"format_version\":\"1\"", "\"format_version\":\"2\"");
    assert!(matches!(
        check(&format!("{v2}\n")),
        Err(JournalError::UnsupportedVersion { version, .. }) if version == "2"
    ));
    let ok = check(&format!("{h}\n{}\n{}\n", iline(1), oline(2, 1))).unwrap();
    assert_eq!(ok.records.len(), 2);
    assert!(pending(&ok).is_empty());
    assert!(effective(&ok).is_empty());
}

#[test]
fn pending_and_effective_feed_rollback() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.jsonl");
    let j = Journal::create(&path, header()).unwrap();
    let update = Step::UpdateEntry {
        principal_arn: "arn:aws:iam::111122223333:role/ops".into(),
        username: Some("ops".into()),
        kubernetes_groups: vec!["a".into(), "b".into()],
        prior_username: Some("ops".into()),
        prior_groups: vec!["a".into()],
    };
    let failed = Outcome::Failed {
        code: "InvalidParameterException".into(),
        message: "bad".into(),
    };
    let s1 = j.intent(&create(), None).unwrap();
    let s2 = j.intent(&update, None).unwrap();
    j.outcome(s1, done(serde_json::json!({"a": 1}))).unwrap();
    let s4 = j.intent(&associate(), None).unwrap();
    j.outcome(s2, failed.clone()).unwrap();
    j.outcome(s4, done(serde_json::json!({}))).unwrap();
    let s7 = j.intent(&update, None).unwrap();
    assert_eq!((s1, s2, s4, s7), (1, 2, 4, 7));
    drop(j);
    let c = read(&path).unwrap();
    assert_eq!(
        pending(&c).iter().map(|i| i.seq).collect::<Vec<_>>(),
        vec![7]
    );
    let eff = effective(&c);
    assert_eq!(
        eff,
        vec![
            (create(), done(serde_json::json!({"a": 1}))),
            (associate(), done(serde_json::json!({}))),
        ]
    );
    let undos = rollback_steps(&eff);
    assert_eq!(undos.len(), 1);
    assert_eq!(undos[0].step, create());
    assert_eq!(c.outcome_of(2).unwrap().outcome, failed);
}

#[test]
fn concurrent_writers_keep_the_journal_valid() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.jsonl");
    let j = std::sync::Arc::new(Journal::create(&path, header()).unwrap());
    let workers: Vec<_> = (0..8)
        .map(|_| {
            let j = j.clone();
            std::thread::spawn(move || {
                for _ in 0..10 {
                    let s = j.intent(&create(), None).unwrap();
                    j.outcome(s, done(serde_json::json!({}))).unwrap();
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    assert!(j.open_intents().is_empty());
    let c = read(&path).unwrap();
    assert_eq!(c.records.len(), 160);
    assert_eq!(c.last_seq(), 160);
    assert_eq!(effective(&c).len(), 80);
}

#[test]
fn one_sync_covers_every_record_written_before_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.jsonl");
    let j = Journal::create(&path, header()).unwrap();
    let syncs = |j: &Journal| j.durability.lock().unwrap().syncs;
    assert_eq!(syncs(&j), 1, "the header is synced");
    // Two workers write before either syncs: the first sync covers both.
    let rec = |seq| {
        Record::Intent(IntentRecord {
            seq,
            at: now(),
            step: create(),
            prior: None,
            inverse: create().inverse(),
        })
    };
    let a = j.append(&mut j.lock_inner(), &rec(1)).unwrap();
    let b = j.append(&mut j.lock_inner(), &rec(2)).unwrap();
    j.make_durable(a).unwrap();
    assert_eq!(syncs(&j), 2);
    j.make_durable(b).unwrap();
    assert_eq!(syncs(&j), 2, "b was written before a's sync began");
    // A record written after the last sync needs one of its own.
    let c = j.append(&mut j.lock_inner(), &rec(3)).unwrap();
    j.make_durable(c).unwrap();
    assert_eq!(syncs(&j), 3);
    drop(j);
    assert_eq!(read(&path).unwrap().records.len(), 3);
}

#[test]
fn outcome_needs_an_open_intent() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.jsonl");
    let j = Journal::create(&path, header()).unwrap();
    assert!(matches!(
        j.outcome(1, done(serde_json::json!({}))),
        Err(JournalError::UnknownIntent { seq: 1, .. })
    ));
    let s = j.intent(&create(), None).unwrap();
    j.outcome(s, done(serde_json::json!({}))).unwrap();
    assert!(matches!(
        j.outcome(s, done(serde_json::json!({}))),
        Err(JournalError::UnknownIntent { seq: 1, .. })
    ));
    drop(j);
    assert_eq!(read(&path).unwrap().records.len(), 2);
}

#[test]
fn credentials_are_redacted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.jsonl");
    let j = Journal::create(&path, header()).unwrap();
    let s = j.intent(&create(), None).unwrap();
    j.outcome(
        s,
        done(serde_json::json!({
            "accessEntryArn": "arn:x",
            "Credentials": {"AccessKeyId": "AKIA", "SecretAccessKey": "s"},
            "list": [{"session_token": "t", "ok": 1}]
        })),
    )
    .unwrap();
    drop(j);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(!text.contains("AKIA"));
    assert_eq!(
        lines(&path)[2]["outcome"]["response"],
        serde_json::json!({
            "accessEntryArn": "arn:x",
            "Credentials": "[redacted]",
            "list": [{"session_token": "[redacted]", "ok": 1}]
        })
    );
    // The idempotency token of a step is not a credential.
    assert!(text.contains(&client_request_token("m1", ROLE)));
}

#[test]
fn documented_examples_form_a_valid_journal() {
    let doc = include_str!("../../docs/journal.md");
    let text: String = doc
        .lines()
        .filter(|l| l.starts_with("{\"record\""))
        .map(|l| format!("{l}\n"))
        .collect();
    let c = check(&text).unwrap();
    assert_eq!(c.header.migration_id, "mig-20261128T170000Z-3f9a1c");
    // The documented id has the shape of the ids the tool writes.
    let real = crate::apply::new_migration_id();
    assert_eq!(c.header.migration_id.len(), real.len(), "{real}");
    assert_eq!(c.header.migration_id[..4], real[..4]);
    assert_eq!(c.records.len(), 4);
    assert_eq!(c.last_seq(), 4);
    assert!(pending(&c).is_empty());
    assert_eq!(effective(&c).len(), 1);
    for r in &c.records {
        if let Record::Intent(i) = r {
            assert_eq!(i.inverse, i.step.inverse());
        }
    }
    match &c.records[0] {
        Record::Intent(i) => match &i.step {
            Step::CreateEntry {
                principal_arn,
                client_request_token: token,
                ..
            } => assert_eq!(
                token,
                &client_request_token("mig-20261128T170000Z-3f9a1c", principal_arn)
            ),
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
    // Every documented record re-serialises to the same JSON.
    for l in text.lines() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        let r: Record = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(serde_json::to_value(&r).unwrap(), v);
    }
}

#[test]
fn header_new_and_rollback_header() {
    let mut h = Header::new("0.1.0", "m1", cluster(), Command::Rollback);
    assert_eq!(h.format_version, "1");
    assert!(DateTime::parse_from_rfc3339(&h.started_at).is_ok());
    assert!(h.started_at.ends_with('Z'));
    h.rollback_of = Some("/tmp/j.jsonl".into());
    let v = serde_json::to_value(Record::Header(h.clone())).unwrap();
    assert_eq!(v["command"], "rollback");
    assert_eq!(v["rollback_of"], "/tmp/j.jsonl");
    let back: Record = serde_json::from_value(v).unwrap();
    assert_eq!(back, Record::Header(h));
    assert_eq!(cluster().lock_key(), "111122223333-eu-west-1-prod");
}

#[test]
fn default_locations() {
    assert_eq!(
        state_dir_from(Some("/x/state".into()), Some("/home/u".into())).unwrap(),
        PathBuf::from("/x/state/aws-auth-migrate")
    );
    assert_eq!(
        state_dir_from(Some("relative".into()), Some("/home/u".into())).unwrap(),
        PathBuf::from("/home/u/.local/state/aws-auth-migrate")
    );
    assert_eq!(
        state_dir_from(None, Some("/home/u".into())).unwrap(),
        PathBuf::from("/home/u/.local/state/aws-auth-migrate")
    );
    assert!(matches!(
        state_dir_from(Some("".into()), None),
        Err(JournalError::NoStateDir)
    ));
    assert_eq!(
        journal_file_in(Path::new("/s"), "prod", "20261128T170000Z-ab12"),
        PathBuf::from("/s/prod-20261128T170000Z-ab12.jsonl")
    );
    assert_eq!(
        journal_file_in(Path::new("/s"), "../etc", "a/b c"),
        PathBuf::from("/s/_.._etc-a_b_c.jsonl")
    );
    let p = default_path("prod", "m1").unwrap();
    assert!(
        p.ends_with("aws-auth-migrate/prod-m1.jsonl"),
        "{}",
        p.display()
    );
}

#[test]
fn lock_excludes_and_is_removed_on_drop() {
    let dir = tempfile::tempdir().unwrap();
    let lock = ClusterLock::acquire(dir.path(), "111122223333-eu-west-1-prod").unwrap();
    let path = dir.path().join("111122223333-eu-west-1-prod.lock");
    assert_eq!(lock.path(), path.as_path());
    assert_eq!(lock.took_over(), None);
    assert_eq!(lock.message(), None);
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        format!("{} {}\n", std::process::id(), super::lock::this_host())
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let err = ClusterLock::acquire(dir.path(), "111122223333-eu-west-1-prod").unwrap_err();
    match &err {
        LockError::Held { pid, path: p } => {
            assert_eq!(*pid, std::process::id());
            assert_eq!(p, &path);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        err.to_string(),
        format!(
            "another aws-auth-migrate (pid {}) is working on this cluster (lock {}); if no such process runs, remove the lock file",
            std::process::id(),
            path.display()
        )
    );
    // Another cluster is not blocked.
    let other = ClusterLock::acquire(dir.path(), "other").unwrap();
    drop(other);
    drop(lock);
    assert!(!path.exists());
    let again = ClusterLock::acquire(dir.path(), "111122223333-eu-west-1-prod").unwrap();
    drop(again);
    assert!(!path.exists());
}

/// A pid that runs no process: one past the kernel's `pid_max`.
#[cfg(target_os = "linux")]
fn dead_pid() -> u32 {
    let max: u32 = std::fs::read_to_string("/proc/sys/kernel/pid_max")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(4_194_304);
    assert!(!Path::new(&format!("/proc/{}", max + 1)).exists());
    max + 1
}

#[cfg(target_os = "linux")]
#[test]
fn stale_lock_is_taken_over() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.lock");
    let dead = dead_pid();
    std::fs::write(&path, format!("{dead}\n")).unwrap();
    let lock = ClusterLock::acquire(dir.path(), "c").unwrap();
    assert_eq!(lock.took_over(), Some(dead));
    assert_eq!(
        lock.message(),
        Some(format!(
            "took over the lock {} left by pid {dead}, which no longer runs",
            path.display()
        ))
    );
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        format!("{} {}\n", std::process::id(), super::lock::this_host())
    );
    drop(lock);
    assert!(!path.exists());
}

#[test]
fn a_lock_of_another_host_is_never_taken_over() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.lock");
    // Even a pid that runs nowhere here: its host is not this one.
    std::fs::write(&path, "4242 ci-runner-7\n").unwrap();
    let err = ClusterLock::acquire(dir.path(), "c").unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "another aws-auth-migrate (pid 4242 on host ci-runner-7) is working on this cluster (lock {}); a lock of another host is never taken over: if no run is active there, remove the lock file",
            path.display()
        )
    );
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "4242 ci-runner-7\n"
    );
}

#[test]
fn lock_owner_lines_parse_old_and_new() {
    use super::lock::parse_owner;
    assert_eq!(parse_owner("12\n"), Some((12, None)));
    assert_eq!(parse_owner("12 host-a\n"), Some((12, Some("host-a"))));
    assert_eq!(parse_owner("12 a b\n"), None);
    assert_eq!(parse_owner("x\n"), None);
    assert_eq!(parse_owner(""), None);
}

#[test]
fn unreadable_lock_is_not_taken() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.lock");
    std::fs::write(&path, "").unwrap();
    let err = ClusterLock::acquire(dir.path(), "c").unwrap_err();
    assert!(matches!(err, LockError::Unreadable { .. }), "{err:?}");
    assert!(path.exists());
}

#[test]
fn drop_leaves_a_lock_that_is_no_longer_ours() {
    let dir = tempfile::tempdir().unwrap();
    let lock = ClusterLock::acquire(dir.path(), "c").unwrap();
    std::fs::write(lock.path(), "1\n").unwrap();
    let path = lock.path().to_path_buf();
    drop(lock);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "1\n");
}
