//! A live plan as a reviewer reads it: existing entries that differ shown
//! as a diff, skipped rows pointing at their line in the ConfigMap's
//! string, at 100 columns and in Markdown.

use eks_emulator::seed::{AccessEntry, Cluster, Seed};
use eks_emulator::Emulator;

use crate::cmd::{bin, Output};

const A: &str = "111122223333";
const REGION: &str = "eu-west-1";
const KEY: &str = "AKIDADMIN";
const CALLER: &str = "arn:aws:iam::111122223333:user/admin";

fn role(name: &str) -> String {
    format!("arn:aws:iam::{A}:role/{name}")
}

/// mapRoles; its rows start on lines 1, 6, 11 and 15 of the string.
fn map_roles() -> String {
    [
        // Lines 1-5.
        format!("- rolearn: {}", role("node")),
        "  username: system:node:{{EC2PrivateDNSName}}".into(),
        "  groups:".into(),
        "    - system:bootstrappers".into(),
        "    - system:nodes".into(),
        // Lines 6-10: the existing entry has another username and groups.
        format!("- rolearn: {}", role("dev")),
        "  username: dev".into(),
        "  groups:".into(),
        "    - devs".into(),
        "    - viewers".into(),
        // Lines 11-14: skipped (EKS refuses system: groups).
        format!("- rolearn: {}", role("monitoring")),
        "  username: monitoring".into(),
        "  groups:".into(),
        "    - system:monitoring".into(),
        // Lines 15-18: the existing entry lacks the cluster-admin policy.
        format!("- rolearn: {}", role("platform")),
        "  username: platform".into(),
        "  groups:".into(),
        "    - system:masters".into(),
    ]
    .join("\n")
        + "\n"
}

fn emulator() -> Emulator {
    let seed = Seed::default()
        .with_caller(KEY, A, CALLER)
        .with_user(A, "/", "admin")
        .with_role(A, "/", "node")
        .with_role(A, "/", "dev")
        .with_role(A, "/", "monitoring")
        .with_role(A, "/", "platform")
        .with_cluster(
            Cluster::new("review", A, REGION)
                .mode("API_AND_CONFIG_MAP")
                .creator(CALLER, true)
                .node_group("linux", &role("node"), false)
                .access_entry(
                    AccessEntry::new(&role("dev"))
                        .username("old-dev")
                        .groups(&["devs", "legacy"]),
                )
                .access_entry(AccessEntry::new(&role("platform")).username("platform"))
                .aws_auth([("mapRoles", map_roles())]),
        );
    Emulator::start(seed).expect("emulator starts")
}

fn plan(emu: &Emulator, extra: &[&str]) -> Output {
    let kubeconfig = emu.kubeconfig_path().display().to_string();
    let mut args = vec!["plan", "--cluster", "review", "--kubeconfig", &kubeconfig];
    args.extend_from_slice(extra);
    bin()
        .env("AWS_ENDPOINT_URL", &emu.endpoint_url())
        .env("AWS_ACCESS_KEY_ID", KEY)
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .env("AWS_REGION", REGION)
        .env("AWS_CONFIG_FILE", "/nonexistent/aws-config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/aws-credentials",
        )
        .env("COLUMNS", "100")
        .args(args)
        .run()
}

fn ok(out: &Output) -> &str {
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    &out.stdout
}

#[test]
fn conflicts_and_updates_read_as_a_diff_and_skipped_rows_give_their_line() {
    let emu = emulator();

    let json = plan(&emu, &["--format", "json"]);
    let v = json.json();
    let monitoring = v["mappings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["arn"] == role("monitoring").as_str())
        .unwrap();
    // The row starts on line 11 of the mapRoles string.
    assert_eq!(monitoring["section_line"], 11);
    assert_eq!(monitoring["outcome"], "skip");

    let table = plan(&emu, &["--format", "table"]);
    let text = ok(&table);
    assert!(text.contains("mapRoles line 11"), "{text}");
    insta::assert_snapshot!("review_conflict_table", text);
    let md = plan(&emu, &["--format", "markdown"]);
    insta::assert_snapshot!("review_conflict_markdown", ok(&md));

    let merged = plan(&emu, &["--format", "table", "--merge-existing"]);
    insta::assert_snapshot!("review_update_table", ok(&merged));
    let merged_md = plan(&emu, &["--format", "markdown", "--merge-existing"]);
    insta::assert_snapshot!("review_update_markdown", ok(&merged_md));

    // Narrow: the compact layout, nothing wider than the terminal.
    let kubeconfig = emu.kubeconfig_path().display().to_string();
    let narrow = bin()
        .env("AWS_ENDPOINT_URL", &emu.endpoint_url())
        .env("AWS_ACCESS_KEY_ID", KEY)
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .env("AWS_REGION", REGION)
        .env("AWS_CONFIG_FILE", "/nonexistent/aws-config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/aws-credentials",
        )
        .env("COLUMNS", "80")
        .args([
            "plan",
            "--cluster",
            "review",
            "--kubeconfig",
            &kubeconfig,
            "--format",
            "table",
        ])
        .run();
    let text = ok(&narrow);
    assert!(text.contains("│ Principal"), "{text}");
    assert!(!text.contains("Fidelity"), "{text}");
    let wide: Vec<&str> = text.lines().filter(|l| l.chars().count() > 80).collect();
    assert!(wide.is_empty(), "{wide:#?}\n{text}");
}
