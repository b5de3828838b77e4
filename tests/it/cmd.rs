//! A tiny builder that runs the real binary and captures what it says.

use std::io::Write;
use std::process::{Command, Stdio};

pub struct Cmd {
    args: Vec<String>,
    env: Vec<(String, String)>,
    env_removed: Vec<String>,
    stdin: Option<Vec<u8>>,
}

#[derive(Debug)]
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

/// The binary under test, with a clean, offline environment.
pub fn bin() -> Cmd {
    Cmd {
        args: Vec::new(),
        env: vec![
            ("NO_COLOR".into(), "1".into()),
            ("COLUMNS".into(), "100".into()),
            ("AWS_EC2_METADATA_DISABLED".into(), "true".into()),
        ],
        env_removed: Vec::new(),
        stdin: None,
    }
}

/// The binary pointed at an emulator by environment only: its endpoint,
/// static credentials of `key`, `region`, no AWS config files, short
/// backoffs and polls, and journals and locks under `state`.
pub fn against(endpoint: &str, key: &str, region: &str, state: &std::path::Path) -> Cmd {
    bin()
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", key)
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .env("AWS_REGION", region)
        .env("AWS_CONFIG_FILE", "/nonexistent/aws-config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/aws-credentials",
        )
        .env("AWS_AUTH_MIGRATE_INITIAL_BACKOFF_MS", "5")
        .env("AWS_AUTH_MIGRATE_POLL_MS", "50")
        .env("XDG_STATE_HOME", &state.display().to_string())
}

impl Cmd {
    pub fn args<I, S>(mut self, args: I) -> Cmd
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_string()));
        self
    }

    pub fn env(mut self, k: &str, v: &str) -> Cmd {
        self.env.push((k.into(), v.into()));
        self
    }

    /// Removes a variable the test process may have from the binary's environment.
    pub fn env_remove(mut self, k: &str) -> Cmd {
        self.env_removed.push(k.into());
        self
    }

    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Cmd {
        self.stdin = Some(bytes.into());
        self
    }

    /// Starts the binary without waiting (stdin closed, output captured).
    pub fn spawn(self) -> std::process::Child {
        self.command()
            .stdin(Stdio::null())
            .spawn()
            .expect("the binary starts")
    }

    fn command(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_aws-auth-migrate"));
        c.args(&self.args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_ENDPOINT_URL")
            // -v/--debug logs are asked for by a test, not inherited.
            .env_remove("RUST_LOG")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for k in &self.env_removed {
            c.env_remove(k);
        }
        for (k, v) in &self.env {
            c.env(k, v);
        }
        c
    }

    pub fn run(self) -> Output {
        let mut c = self.command();
        c.stdin(if self.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        let mut child = c.spawn().expect("the binary starts");
        if let Some(bytes) = self.stdin {
            let mut pipe = child.stdin.take().expect("stdin is piped");
            // The binary may refuse early and close its end: ignore EPIPE.
            let _ = pipe.write_all(&bytes);
        }
        let out = child.wait_with_output().expect("the binary runs");
        Output {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// Every subcommand of the command line, as the scripts and the man page name them.
const SUBCOMMANDS: [&str; 10] = [
    "plan",
    "apply",
    "rollback",
    "verify",
    "prune-configmap",
    "finalize",
    "batch",
    "export",
    "completions",
    "man",
];

#[test]
fn completions_for_every_shell_name_every_subcommand() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let out = bin().args(["completions", shell]).run();
        assert_eq!(out.code, 0, "{shell}: {}", out.stderr);
        assert_eq!(out.stderr, "", "{shell}");
        for sub in SUBCOMMANDS {
            assert!(out.stdout.contains(sub), "{shell}: no {sub}");
        }
    }
}

#[test]
fn completions_for_an_unknown_shell_is_a_one_line_error() {
    let out = bin().args(["completions", "tcsh"]).run();
    assert_eq!(out.code, 1, "stdout: {}", out.stdout);
    assert_eq!(out.stdout, "");
    assert_eq!(
        out.stderr,
        "error: shell \"tcsh\" is not one of bash, zsh, fish, powershell\n"
    );
}

#[test]
fn man_is_a_roff_page_naming_every_subcommand() {
    let out = bin().args(["man"]).run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stderr, "");
    assert!(
        out.stdout.starts_with(".ie \\n(.g .ds Aq \\(aq"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("\n.TH aws-auth-migrate 1 "),
        "{}",
        out.stdout
    );
    for sub in SUBCOMMANDS {
        assert!(
            out.stdout.contains(&format!(
                "aws\\-auth\\-migrate\\-{}",
                sub.replace('-', "\\-")
            )),
            "no {sub}"
        );
    }
}
