//! One flag vocabulary across commands (README, "Flags"): `--output` chooses
//! a report's format and `--out` names a file written; `--journal PATH` is
//! the journal a run writes and `--resume JOURNAL` the one it continues; a
//! saved plan is read with `--plan FILE`. Checked on every subcommand's
//! `--help`, as the binary prints it, and the older spellings still work.

use std::collections::BTreeMap;

use crate::cmd::bin;

/// One option of a `-h` listing: `--name`, its value's name, its help.
#[derive(Debug, Clone)]
struct Opt {
    long: String,
    value: Option<String>,
    help: String,
    /// Its visible aliases (`[aliases: --a, --b]` at the end of its help).
    aliases: Vec<String>,
}

/// Every command's options, by path (`plan`, `batch plan`...).
type Helps = BTreeMap<String, Vec<Opt>>;

/// The names in the `Commands:` section of a help text, `help` aside.
fn subcommands(help: &str) -> Vec<String> {
    section(help, "Commands:")
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(String::from)
        .collect()
}

/// The lines of a help section, up to the next blank line.
fn section<'a>(help: &'a str, title: &'a str) -> impl Iterator<Item = &'a str> {
    help.lines()
        .skip_while(move |l| l.trim() != title)
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
}

/// The options of a `-h` listing: `  -f, --file <PATH>  Read aws-auth...`,
/// the help on the same line or, when clap moves it there, on the lines
/// below.
fn options(help: &str) -> Vec<Opt> {
    let mut opts: Vec<Opt> = Vec::new();
    for line in section(help, "Options:") {
        let trimmed = line.trim_start();
        if !trimmed.starts_with('-') {
            if let Some(last) = opts.last_mut() {
                last.help = format!("{} {}", last.help, trimmed.trim())
                    .trim()
                    .to_string();
            }
            continue;
        }
        let Some(at) = line.find("--") else {
            continue;
        };
        let rest = &line[at + 2..];
        let (spec, help) = rest.split_once("  ").unwrap_or((rest, ""));
        let mut words = spec.split_whitespace();
        let Some(long) = words.next() else {
            continue;
        };
        let value = words
            .next()
            .map(|v| v.trim_matches(|c| "[<>]".contains(c)).to_string());
        opts.push(Opt {
            long: long.to_string(),
            value,
            help: help.trim().to_string(),
            aliases: Vec::new(),
        });
    }
    for o in &mut opts {
        o.aliases = o
            .help
            .rsplit_once("[alias")
            .map(|(_, list)| {
                list.split([',', ' ', ']'])
                    .filter_map(|a| a.strip_prefix("--"))
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default();
    }
    opts
}

fn help_of(path: &[&str]) -> String {
    let out = bin().args(path).args(["-h"]).run();
    assert_eq!(out.code, 0, "{path:?} -h: {}", out.stderr);
    out.stdout
}

/// Walks `aws-auth-migrate help` and every subcommand's `-h`, `batch`'s
/// subcommands included.
fn walk() -> Helps {
    let top = bin().args(["help"]).run();
    assert_eq!(top.code, 0, "{}", top.stderr);
    let mut helps = Helps::new();
    for name in subcommands(&top.stdout) {
        let text = help_of(&[&name]);
        let subs = subcommands(&text);
        for sub in &subs {
            helps.insert(format!("{name} {sub}"), options(&help_of(&[&name, sub])));
        }
        if subs.is_empty() {
            helps.insert(name, options(&text));
        }
    }
    helps
}

/// Commands that print no report: export writes infrastructure code
/// (its `--format` is which), completions and man print scripts and pages.
const NO_REPORT: [&str; 3] = ["export", "completions", "man"];
/// Commands that write a journal of their own.
const JOURNALED: [&str; 4] = ["apply", "rollback", "prune-configmap", "finalize"];
/// Commands that read a saved plan.
const READ_PLAN: [&str; 2] = ["apply", "export"];

/// Whether an option is `--long`, or shows `--long` as an alias.
fn has(opts: &[Opt], long: &str) -> bool {
    opts.iter()
        .any(|o| o.long == long || o.aliases.iter().any(|a| a == long))
}

/// Every way `helps` breaks the vocabulary, one line each.
fn violations(helps: &Helps) -> Vec<String> {
    let mut bad = Vec::new();
    for (cmd, opts) in helps {
        if has(opts, "format") && cmd != "export" {
            bad.push(format!(
                "{cmd}: a visible --format (the format is --output)"
            ));
        }
        if !NO_REPORT.contains(&cmd.as_str()) && !has(opts, "output") {
            bad.push(format!("{cmd}: prints a report but has no --output"));
        }
        if JOURNALED.contains(&cmd.as_str()) && !has(opts, "journal") {
            bad.push(format!("{cmd}: writes a journal but has no --journal"));
        }
        if READ_PLAN.contains(&cmd.as_str())
            && !opts
                .iter()
                .any(|o| o.long == "plan" && o.value.as_deref() == Some("FILE"))
        {
            bad.push(format!("{cmd}: reads a saved plan but has no --plan FILE"));
        }
        for o in opts {
            bad.extend(option_violation(cmd, o));
        }
    }
    bad
}

/// What is wrong with one option, if anything.
fn option_violation(cmd: &str, o: &Opt) -> Option<String> {
    let value = o.value.as_deref().unwrap_or("");
    let help = o.help.to_lowercase();
    let file_value = ["PATH", "FILE", "JOURNAL"].contains(&value);
    let why = if o.long == "output" && (value.contains("FILE") || value.contains("PATH")) {
        "--output names a format, not a file (files are --out)"
    } else if o.long == "out" && !value.contains("FILE") {
        "--out names a file"
    } else if file_value && help.contains("journal") && !["journal", "resume"].contains(&&*o.long) {
        "a journal is named by --journal PATH (written) or --resume JOURNAL (continued)"
    } else if value == "JOURNAL" && o.long != "resume" {
        "a journal read is --resume JOURNAL"
    } else if o.long == "journal" && value != "PATH" {
        "--journal takes a PATH"
    } else if (help.contains("plan saved by") || help.contains("saved plan of"))
        && value == "FILE"
        && o.long != "plan"
    {
        "a saved plan is read with --plan FILE"
    } else if o.long.contains("plan") && !["plan", "plans"].contains(&&*o.long) {
        "a saved plan is --plan (a folder of them: batch --plans)"
    } else {
        return None;
    };
    Some(format!("{cmd}: --{} <{value}>: {why}", o.long))
}

#[test]
fn every_subcommand_speaks_one_flag_vocabulary() {
    let helps = walk();
    let names: Vec<&str> = helps.keys().map(String::as_str).collect();
    for expected in [
        "plan",
        "apply",
        "rollback",
        "verify",
        "prune-configmap",
        "finalize",
        "batch plan",
        "batch apply",
        "batch verify",
        "batch finalize",
        "batch rollback",
        "export",
        "completions",
        "man",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} not walked: {names:?}"
        );
    }
    assert!(
        has(&helps["export"], "format"),
        "export's --format is its own"
    );
    for cmd in ["plan", "verify"] {
        assert!(has(&helps[cmd], "detailed-exitcode"), "{cmd}");
    }
    let bad = violations(&helps);
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

/// A change to one command's options that breaks the vocabulary.
type Breach = fn(&mut Vec<Opt>);

// The check must be able to fail: each way of breaking the vocabulary is
// caught on an otherwise clean walk.
#[test]
fn the_vocabulary_check_sees_each_breach() {
    let clean = walk();
    let breaches: [(&str, Breach); 6] = [
        ("plan", |o| {
            o.push(opt("format", Some("FORMAT"), "Output format."));
        }),
        ("verify", |o| {
            for x in o.iter_mut().filter(|x| x.long == "output") {
                x.aliases.push("format".into());
            }
        }),
        ("batch verify", |o| o.retain(|x| x.long != "output")),
        ("prune-configmap", |o| {
            for x in o.iter_mut().filter(|x| x.long == "journal") {
                x.long = "journal-file".into();
            }
        }),
        ("rollback", |o| {
            o.push(opt("undo", Some("JOURNAL"), "The journal to undo."));
        }),
        ("apply", |o| {
            for x in o.iter_mut().filter(|x| x.long == "plan") {
                x.long = "plan-file".into();
            }
        }),
    ];
    for (cmd, breach) in breaches {
        let mut helps = clean.clone();
        breach(helps.get_mut(cmd).expect("walked"));
        let bad = violations(&helps);
        assert!(
            bad.iter().any(|b| b.starts_with(&format!("{cmd}: "))),
            "{cmd}: {bad:?}"
        );
    }
}

fn opt(long: &str, value: Option<&str>, help: &str) -> Opt {
    Opt {
        long: long.into(),
        value: value.map(String::from),
        help: help.into(),
        aliases: Vec::new(),
    }
}

#[test]
fn format_is_a_hidden_alias_of_output() {
    for format in ["table", "json", "markdown"] {
        let base = ["plan", "--file", "examples/aws-auth.yaml"];
        let new = bin().args(base).args(["--output", format]).run();
        let old = bin().args(base).args(["--format", format]).run();
        assert_eq!(new.code, 0, "{format}: {}", new.stderr);
        assert_eq!(old.code, 0, "{format}: {}", old.stderr);
        assert_eq!(new.stdout, old.stdout, "{format}");
    }
    // `text`, the old name of apply's human output, is the table.
    let text = bin()
        .args([
            "plan",
            "--file",
            "examples/aws-auth.yaml",
            "--output",
            "text",
        ])
        .run();
    let table = bin()
        .args(["plan", "--file", "examples/aws-auth.yaml"])
        .run();
    assert_eq!(text.stdout, table.stdout);
    // One flag under two names: given twice, refused.
    let both = bin()
        .args(["plan", "--file", "examples/aws-auth.yaml"])
        .args(["--output", "json", "--format", "markdown"])
        .run();
    assert_eq!(both.code, 1, "{}", both.stdout);
    assert!(
        both.stderr.contains("cannot be used multiple times"),
        "{}",
        both.stderr
    );
}

#[test]
fn apply_reads_a_saved_plan_as_plan_or_positional() {
    let missing = "does/not/exist.json";
    let new = bin().args(["apply", "--plan", missing]).run();
    let old = bin().args(["apply", missing]).run();
    assert_eq!(new.code, 1, "{}", new.stdout);
    assert_eq!((new.code, &new.stderr), (old.code, &old.stderr));
    assert!(new.stderr.contains(missing), "{}", new.stderr);
    let both = bin().args(["apply", "--plan", missing, missing]).run();
    assert_eq!(both.code, 1);
    assert!(
        both.stderr.contains("cannot be used with"),
        "{}",
        both.stderr
    );
    // --journal is the journal a run writes; --resume continues the one it
    // names: not both (as prune-configmap and finalize).
    for cmd in ["apply", "prune-configmap", "finalize"] {
        let out = bin()
            .args([cmd, "--resume", "a.jsonl", "--journal", "b.jsonl"])
            .run();
        assert_eq!(out.code, 1, "{cmd}");
        assert!(
            out.stderr.contains("cannot be used with")
                && out.stderr.contains("'--journal <PATH>'")
                && out.stderr.contains("'--resume <JOURNAL>'"),
            "{cmd}: {}",
            out.stderr
        );
    }
    let none = bin().args(["apply"]).run();
    assert_eq!(
        none.stderr,
        "error: say what to apply: --cluster NAME, a saved plan (--plan FILE), or --resume JOURNAL\n"
    );
}

#[test]
fn man_all_writes_one_page_per_command() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let man1 = dir.path().join("man1");
    let out = bin()
        .args(["man", "--all", &man1.display().to_string()])
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, "", "pages go to files");
    let mut names: Vec<String> = std::fs::read_dir(&man1)
        .expect("the folder is made")
        .map(|e| {
            e.expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    let mut expected: Vec<String> = [
        "",
        "-apply",
        "-batch",
        "-batch-apply",
        "-batch-finalize",
        "-batch-plan",
        "-batch-report",
        "-batch-rollback",
        "-batch-verify",
        "-completions",
        "-export",
        "-finalize",
        "-man",
        "-plan",
        "-prune-configmap",
        "-rollback",
        "-verify",
    ]
    .iter()
    .map(|s| format!("aws-auth-migrate{s}.1"))
    .collect();
    expected.sort();
    assert_eq!(names, expected);
    for name in &names {
        assert!(out.stderr.contains(name.as_str()), "{name}: {}", out.stderr);
    }
    let verify =
        std::fs::read_to_string(man1.join("aws-auth-migrate-verify.1")).expect("verify's page");
    assert!(verify.contains(".TH aws-auth-migrate-verify 1"), "{verify}");
    assert!(verify.contains("\\-\\-output"), "{verify}");
    assert!(
        !verify.contains("\\fB\\-\\-format\\fR"),
        "the alias is hidden: {verify}"
    );
}

/// `batch`: `--output` is the report and `--progress` the progress; the
/// older `--format F --output text|json` (report, progress) still works.
#[test]
fn batch_output_progress_and_the_older_spelling() {
    use eks_emulator::seed::{Cluster, Seed};

    let a = "111122223333";
    let roles =
        format!("- rolearn: arn:aws:iam::{a}:role/dev\n  username: dev\n  groups: [devs]\n");
    let users = format!(
        "- userarn: arn:aws:iam::{a}:user/admin\n  username: admin\n  groups: [system:masters]\n"
    );
    let seed = Seed::default()
        .with_credential("AKIDFLEET0", a, &format!("arn:aws:iam::{a}:user/admin"))
        .with_user(a, "/", "admin")
        .with_role(a, "/", "dev")
        .with_cluster(
            Cluster::new("solo", a, "eu-west-1")
                .mode("API_AND_CONFIG_MAP")
                .aws_auth([("mapRoles", roles), ("mapUsers", users)]),
        );
    let fleet = crate::batch::Fleet::start(seed);
    let file = fleet.write_fleet(
        0,
        "  - name: solo\n    region: eu-west-1\n    profile: acct0\n",
    );
    let file = file.display().to_string();
    let run = |dir: &str, flags: &[&str]| {
        let out = fleet.path(dir).display().to_string();
        let mut args = vec!["batch", "plan", "--fleet", &file, "--out-dir", &out];
        args.extend_from_slice(flags);
        fleet.cmd(&args).run()
    };
    let new = run("new", &["--output", "json", "--progress", "json"]);
    let old = run("old", &["--format", "json", "--output", "json"]);
    for (which, out) in [("new", &new), ("old", &old)] {
        assert_eq!(out.code, 2, "{which}: changes planned: {}", out.stderr);
        let v = out.json();
        assert_eq!(v["command"], "plan", "{which}");
        assert_eq!(v["summary"]["clusters"], 1, "{which}");
        // JSON-lines progress on standard error.
        let first = out.stderr.lines().next().unwrap_or_default();
        assert!(
            serde_json::from_str::<serde_json::Value>(first).is_ok(),
            "{which}: {}",
            out.stderr
        );
    }
    // `--output text`, the older progress value, is the table report.
    let text = run("text", &["--output", "text"]);
    assert_eq!(text.code, 2, "{}", text.stderr);
    assert!(text.stdout.contains("solo"), "{}", text.stdout);
    assert!(serde_json::from_str::<serde_json::Value>(&text.stdout).is_err());
    // The older spelling cannot say markdown twice.
    let both = run("both", &["--format", "json", "--output", "markdown"]);
    assert_eq!(both.code, 1);
    assert_eq!(
        both.stderr,
        "error: --format is the older spelling of --output: give the report's format once (--output json), and the progress with --progress\n"
    );
}
