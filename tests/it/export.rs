//! `export`: the migration's target state as Terraform, the terraform-aws-eks
//! module's input, CloudFormation and eksctl (docs/iac-export.md): offline on
//! the example, live on an emulator cluster that has entries already, from a
//! saved plan, and again after apply (only imports then).
//!
//! With `AWS_AUTH_MIGRATE_EXPORT_SAMPLES=DIR`, the live test also writes
//! its exports there, for `.ci/validate-export.py` to check with the
//! ecosystem's own tools.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use eks_emulator::seed::{AccessEntry, Cluster, Seed};
use eks_emulator::Emulator;

use crate::cmd::{against, bin, Cmd, Output};

const FORMATS: [&str; 4] = ["terraform", "terraform-module", "cloudformation", "eksctl"];

fn export(args: &[&str]) -> Output {
    bin().args(["export"]).args(args).run()
}

fn ok(out: &Output) {
    assert_eq!(
        out.code, 0,
        "stdout:\n{}\nstderr:\n{}",
        out.stdout, out.stderr
    );
}

/// A refusal: exit 1, nothing on stdout, one line on stderr; that line.
fn one_line_error(out: &Output) -> &str {
    assert_eq!(out.code, 1, "stdout: {}", out.stdout);
    assert_eq!(out.stdout, "");
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    out.stderr.trim_end()
}

#[test]
fn example_in_every_format_exact_and_deterministic() {
    for format in FORMATS {
        let out = export(&["--format", format, "--file", "examples/aws-auth.yaml"]);
        ok(&out);
        assert_eq!(out.stderr, "", "{format}");
        assert!(!out.stdout.is_empty(), "{format}: nothing exported");
        let again = export(&["--format", format, "--file", "examples/aws-auth.yaml"]);
        assert_eq!(out.stdout, again.stdout, "{format}: not deterministic");
        insta::assert_snapshot!(format!("example_{}", format.replace('-', "_")), out.stdout);
    }
}

#[test]
fn out_writes_private_files_with_what_stdout_shows() {
    let dir = tempfile::tempdir().unwrap();
    for format in FORMATS {
        let shown = export(&["--format", format, "--file", "examples/aws-auth.yaml"]);
        ok(&shown);
        let target = dir.path().join(format);
        let target_s = target.display().to_string();
        let out = export(&[
            "--format",
            format,
            "--file",
            "examples/aws-auth.yaml",
            "--out",
            &target_s,
        ]);
        ok(&out);
        assert_eq!(out.stdout, "", "{format}");
        assert_eq!(out.stderr, "", "{format}");
        let files: Vec<(String, String)> = if target.is_dir() {
            let mut names: Vec<String> = std::fs::read_dir(&target)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            assert!(names.len() > 1, "{format}: a directory for one file");
            names
                .into_iter()
                .map(|n| {
                    let text = std::fs::read_to_string(target.join(&n)).unwrap();
                    (n, text)
                })
                .collect()
        } else {
            vec![(String::new(), std::fs::read_to_string(&target).unwrap())]
        };
        for (name, _) in &files {
            assert_private(&if name.is_empty() {
                target.clone()
            } else {
                target.join(name)
            });
        }
        // Standard output is the same files, with a header line each when
        // there are several.
        let joined = match &files[..] {
            [(_, text)] => text.clone(),
            _ => files
                .iter()
                .map(|(n, t)| format!("# ==> {n} <==\n{t}"))
                .collect::<Vec<_>>()
                .join("\n"),
        };
        if files.len() > 1 {
            // The headers follow the renderer's order, not the directory's.
            let mut shown_sorted: Vec<&str> = shown.stdout.split("# ==> ").collect();
            let mut joined_sorted: Vec<&str> = joined.split("# ==> ").collect();
            shown_sorted.sort_unstable();
            joined_sorted.sort_unstable();
            assert_eq!(shown_sorted, joined_sorted, "{format}");
        } else {
            assert_eq!(shown.stdout, joined, "{format}");
        }
    }
    // One file into an existing directory lands there under its own name.
    let into = dir.path().join("into");
    std::fs::create_dir(&into).unwrap();
    let out = export(&[
        "--format",
        "eksctl",
        "--file",
        "examples/aws-auth.yaml",
        "--out",
        &into.display().to_string(),
    ]);
    ok(&out);
    assert_eq!(std::fs::read_dir(&into).unwrap().count(), 1);
}

#[cfg(unix)]
fn assert_private(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{}", path.display());
}

#[cfg(not(unix))]
fn assert_private(_path: &Path) {}

#[test]
fn bad_input_is_one_line_exit_1() {
    let out = export(&["--format", "pulumi", "--file", "examples/aws-auth.yaml"]);
    assert_eq!(
        one_line_error(&out),
        "error: --format \"pulumi\" is not one of terraform, terraform-module, cloudformation, eksctl"
    );
    let out = export(&["--format", "terraform"]);
    assert!(one_line_error(&out).contains("--file"), "{}", out.stderr);
    let out = export(&["--format", "terraform", "--file", "does/not/exist.yaml"]);
    assert!(one_line_error(&out).starts_with("error: cannot open does/not/exist.yaml"));
    let out = export(&["--format", "terraform", "--plan", "does/not/exist.json"]);
    assert!(one_line_error(&out).starts_with("error: cannot read does/not/exist.json"));
}

#[test]
fn a_saved_offline_plan_exports_as_the_file_does() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plan.json");
    let path_s = path.display().to_string();
    ok(&bin()
        .args(["plan", "--file", "examples/aws-auth.yaml", "--out", &path_s])
        .run());
    for format in FORMATS {
        let from_file = export(&["--format", format, "--file", "examples/aws-auth.yaml"]);
        let from_plan = export(&["--format", format, "--plan", &path_s]);
        ok(&from_plan);
        assert_eq!(from_plan.stderr, "", "{format}");
        assert_eq!(from_plan.stdout, from_file.stdout, "{format}");
    }
}

// ---- live, on the emulator ----

const A: &str = "111122223333";
const REGION: &str = "eu-west-1";
const KEY: &str = "AKIDADMIN";
/// The cluster's creator, and the caller: its entry exists (EKS made it
/// with the admin policy) and aws-auth does not name it.
const CREATOR: &str = "arn:aws:iam::111122223333:user/admin";

fn role(name: &str) -> String {
    format!("arn:aws:iam::{A}:role/{name}")
}

struct Env {
    emu: Emulator,
    dir: tempfile::TempDir,
}

impl Env {
    fn cmd(&self, args: &[&str]) -> Cmd {
        let kubeconfig = self.emu.kubeconfig_path().display().to_string();
        against(&self.emu.endpoint_url(), KEY, REGION, self.dir.path())
            .args(args)
            .args(["--kubeconfig", &kubeconfig])
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).run()
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }
}

/// `prod`, in `API_AND_CONFIG_MAP` mode: the creator's entry, the node
/// group's (made by EKS), `dev`'s (as aws-auth says: a noop) exist; aws-auth
/// also maps `ops` and `platform` (system:masters), to create.
fn live_env() -> Env {
    let map_roles = format!(
        "- rolearn: {nodes}\n  username: system:node:{{{{EC2PrivateDNSName}}}}\n  groups:\n    - system:bootstrappers\n    - system:nodes\n\
         - rolearn: {dev}\n  username: dev\n  groups:\n    - devs\n\
         - rolearn: {ops}\n  username: ops\n  groups:\n    - ops\n    - viewers\n\
         - rolearn: {platform}\n  username: platform:{{{{SessionName}}}}\n  groups:\n    - system:masters\n",
        nodes = role("nodes"),
        dev = role("dev"),
        ops = role("ops"),
        platform = role("platform"),
    );
    let seed = Seed::default()
        .with_caller(KEY, A, CREATOR)
        .with_user(A, "/", "admin")
        .with_role(A, "/", "nodes")
        .with_role(A, "/", "dev")
        .with_role(A, "/", "ops")
        .with_role(A, "/", "platform")
        .with_cluster(
            Cluster::new("prod", A, REGION)
                .version("1.31", "eks.1")
                .mode("API_AND_CONFIG_MAP")
                .creator(CREATOR, true)
                .node_group("general", &role("nodes"), false)
                .access_entry(
                    AccessEntry::new(&role("dev"))
                        .username("dev")
                        .groups(&["devs"]),
                )
                .aws_auth([("mapRoles", map_roles)]),
        );
    Env {
        emu: Emulator::start(seed).expect("emulator starts"),
        dir: tempfile::tempdir().unwrap(),
    }
}

/// The Terraform resources and import targets of a `terraform` export:
/// `(entries, associations, imported addresses)`, each as an address.
fn terraform_addresses(text: &str) -> (BTreeSet<String>, BTreeSet<String>, BTreeSet<String>) {
    let mut entries = BTreeSet::new();
    let mut associations = BTreeSet::new();
    let mut imports = BTreeSet::new();
    let mut in_import = false;
    for line in text.lines() {
        let t = line.trim();
        if let Some(rest) = t.strip_prefix("resource ") {
            let parts: Vec<&str> = rest.split('"').collect();
            let (kind, name) = (parts[1], parts[3]);
            let address = format!("{kind}.{name}");
            match kind {
                "aws_eks_access_entry" => entries.insert(address),
                "aws_eks_access_policy_association" => associations.insert(address),
                other => panic!("unexpected resource type {other}"),
            };
        } else if t.starts_with("import {") {
            in_import = true;
        } else if in_import && t.starts_with("to ") {
            let to = t.split_once('=').unwrap().1.trim().to_string();
            imports.insert(to);
        } else if in_import && t == "}" {
            in_import = false;
        }
    }
    (entries, associations, imports)
}

/// The import ID of each imported address (`CLUSTER:ARN` or `CLUSTER#ARN#POLICY`).
fn terraform_import_ids(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter_map(|t| t.strip_prefix("id"))
        .filter_map(|t| t.trim_start().strip_prefix('='))
        .map(|t| t.trim().to_string())
        .collect()
}

/// Exports with `--out` into a fresh directory of the test's: file name →
/// text. With `AWS_AUTH_MIGRATE_EXPORT_SAMPLES`, the files are also copied
/// to `SAMPLES/CASE/FORMAT/`, for `.ci/validate-export.py`.
fn export_files(env: &Env, case: &str, format: &str) -> BTreeMap<String, String> {
    let dir = env.dir.path().join(case).join(format);
    std::fs::create_dir_all(&dir).unwrap();
    let dir_s = dir.display().to_string();
    let out = env.run(&[
        "export",
        "--format",
        format,
        "--cluster",
        "prod",
        "--out",
        &dir_s,
    ]);
    ok(&out);
    assert_eq!(out.stdout, "", "{format}");
    let mut files = BTreeMap::new();
    for e in std::fs::read_dir(&dir).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().into_owned();
        files.insert(name, std::fs::read_to_string(e.path()).unwrap());
    }
    if let Ok(samples) = std::env::var("AWS_AUTH_MIGRATE_EXPORT_SAMPLES") {
        let to = Path::new(&samples).join(case).join(format);
        std::fs::create_dir_all(&to).unwrap();
        for (name, text) in &files {
            std::fs::write(to.join(name), text).unwrap();
        }
    }
    files
}

/// The one file of a Terraform export.
fn tf_text(files: &BTreeMap<String, String>) -> &str {
    let tf: Vec<&String> = files
        .iter()
        .filter(|(n, _)| {
            std::path::Path::new(n)
                .extension()
                .is_some_and(|x| x.eq_ignore_ascii_case("tf"))
        })
        .map(|(_, t)| t)
        .collect();
    assert_eq!(tf.len(), 1, "{:?}", files.keys());
    tf[0]
}

/// A CloudFormation export's resources to create and identifiers to
/// import: `(logical IDs of the template, logical IDs to import)`.
fn cfn_resources(files: &BTreeMap<String, String>) -> (BTreeSet<String>, BTreeSet<String>) {
    let template = files
        .iter()
        .find(|(n, _)| n.ends_with(".cfn.yaml") && !n.starts_with("import"))
        .map_or_else(|| panic!("no template in {:?}", files.keys()), |(_, t)| t);
    let doc: serde_yaml::Value = serde_yaml::from_str(
        // CloudFormation's short form (`!Ref X`) is a tag serde_yaml keeps.
        template,
    )
    .unwrap();
    let resources: BTreeSet<String> = doc["Resources"]
        .as_mapping()
        .unwrap()
        .keys()
        .map(|k| k.as_str().unwrap().to_string())
        .collect();
    let imported: BTreeSet<String> = files
        .get("import-resources.json")
        .map(|t| {
            let v: serde_json::Value = serde_json::from_str(t).unwrap();
            v.as_array()
                .unwrap()
                .iter()
                .map(|r| r["LogicalResourceId"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default();
    (resources, imported)
}

#[test]
fn live_cluster_with_entries_imports_what_exists_and_after_apply_only_imports() {
    let env = live_env();

    // 1. Export now: the creator's, the node group's and dev's entries
    // exist (imports), ops and platform are to create.
    let mut before = Vec::new();
    for format in FORMATS {
        let out = env.run(&["export", "--format", format, "--cluster", "prod"]);
        ok(&out);
        assert_eq!(out.stderr, "", "{format}");
        let files = export_files(&env, "live-before-apply", format);
        if files.len() == 1 {
            assert_eq!(files.values().next(), Some(&out.stdout), "{format}");
        }
        before.push(out.stdout);
    }
    let tf = &before[0];
    let (entries, associations, imports) = terraform_addresses(tf);
    assert_eq!(entries.len(), 5, "{tf}");
    let imported_entries: BTreeSet<&String> = entries.intersection(&imports).collect();
    assert_eq!(imported_entries.len(), 3, "{tf}");
    // The creator's entry and its admin association are imported, never created.
    assert!(tf.contains(&format!(":{CREATOR}\"")), "{tf}");
    let creator_assoc =
        format!("{CREATOR}#arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy");
    assert!(tf.contains(&creator_assoc), "{tf}");
    // platform's system:masters: an association to create.
    assert_eq!(associations.len(), 2, "{tf}");
    for id in terraform_import_ids(tf) {
        assert!(
            !id.contains(&role("ops")) && !id.contains(&role("platform")),
            "imports what does not exist: {id}"
        );
    }
    let (resources, imported) =
        cfn_resources(&export_files(&env, "live-before-apply", "cloudformation"));
    assert_eq!(resources.len(), 5, "{resources:?}");
    assert_eq!(imported.len(), 3, "{imported:?}");
    assert!(imported.is_subset(&resources));

    // 2. A saved live plan exports the same bytes; the fingerprint still
    // matches, so nothing is said.
    let saved = env.path("plan.json");
    ok(&env.run(&[
        "plan",
        "--cluster",
        "prod",
        "--out",
        &saved,
        "--format",
        "json",
    ]));
    for (format, now) in FORMATS.iter().zip(&before) {
        let out = env.run(&["export", "--format", format, "--plan", &saved]);
        ok(&out);
        assert_eq!(out.stderr, "", "{format}");
        assert_eq!(&out.stdout, now, "{format}");
    }

    // A saved plan edited after it was saved is refused, as apply refuses
    // it (live plans carry a digest).
    let edited = env.path("edited.json");
    let mut doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&saved).unwrap()).unwrap();
    doc["entries"][0]["kubernetes_groups"] = serde_json::json!(["system:masters"]);
    std::fs::write(&edited, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    let out = env.run(&["export", "--format", "terraform", "--plan", &edited]);
    let line = one_line_error(&out);
    assert!(
        line.starts_with(&format!(
            "error: the saved plan {edited} is refused: it was edited after it was saved"
        )),
        "{line}"
    );

    // 3. Apply, then export again: everything exists, so only imports and
    // resources that match them.
    ok(&env.run(&["apply", "--cluster", "prod", "--yes"]));
    let after: BTreeMap<&str, BTreeMap<String, String>> = FORMATS
        .iter()
        .map(|f| (*f, export_files(&env, "live-after-apply", f)))
        .collect();
    let tf = tf_text(&after["terraform"]);
    let (entries, associations, imports) = terraform_addresses(tf);
    assert_eq!(entries.len(), 5, "{tf}");
    for address in entries.iter().chain(&associations) {
        assert!(
            imports.contains(address),
            "{address} is not imported:\n{tf}"
        );
    }
    assert_eq!(imports.len(), entries.len() + associations.len());
    let (resources, imported) = cfn_resources(&after["cloudformation"]);
    assert_eq!(resources.len(), 5, "{resources:?}");
    assert_eq!(imported, resources);

    // 4. The saved plan is stale now: exported as saved, with a warning.
    let out = env.run(&["export", "--format", "terraform", "--plan", &saved]);
    ok(&out);
    assert_eq!(out.stdout, before[0]);
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    assert!(
        out.stderr
            .starts_with(&format!("warning: the saved plan {saved} is stale: ")),
        "{}",
        out.stderr
    );
}
