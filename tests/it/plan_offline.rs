//! `plan --file`: the real binary on real-world shaped inputs.

use std::collections::BTreeSet;

use crate::cmd::bin;

fn plan(args: &[&str]) -> crate::cmd::Output {
    bin().args(["plan"]).args(args).run()
}

#[test]
fn example_table() {
    let out = plan(&["--file", "examples/aws-auth.yaml"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stderr, "");
    insta::assert_snapshot!("example_table", out.stdout);
}

#[test]
fn example_table_with_policy_map() {
    let out = plan(&[
        "--file",
        "examples/aws-auth.yaml",
        "--policy-map",
        "examples/policy-map.yaml",
        "--account",
        "111122223333",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    insta::assert_snapshot!("example_table_policy_map", out.stdout);
}

#[test]
fn example_markdown() {
    let out = plan(&["--file", "examples/aws-auth.yaml", "--format", "markdown"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    insta::assert_snapshot!("example_markdown", out.stdout);
}

#[test]
fn example_json_exact() {
    let out = plan(&["--file", "examples/aws-auth.yaml", "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v = out.json();
    assert_eq!(v["format_version"], "1");
    assert_eq!(v["cluster"]["account"], "111122223333");
    assert_eq!(v["cluster"]["account_source"], "inferred");
    assert_eq!(v["cluster"]["partition"], "aws");
    assert_eq!(v["source"]["kind"], "file");
    assert_eq!(v["source"]["resource_version"], "81233");
    let s = &v["summary"];
    assert_eq!(
        (
            s["rows"].as_u64(),
            s["migrate"].as_u64(),
            s["skipped"].as_u64()
        ),
        (Some(15), Some(10), Some(5))
    );
    assert_eq!(
        (
            s["create"].as_u64(),
            s["skip"].as_u64(),
            s["lossy"].as_u64()
        ),
        (Some(10), Some(2), Some(2))
    );
    let admin = v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["principal_arn"] == "arn:aws:iam::111122223333:role/platform-admin")
        .expect("platform-admin is planned");
    assert_eq!(
        admin,
        &serde_json::json!({
            "principal_arn": "arn:aws:iam::111122223333:role/platform-admin",
            "type": "STANDARD",
            "username": "platform-admin:{{SessionName}}",
            "kubernetes_groups": ["platform"],
            "policies": [{
                "policy_arn": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
                "access_scope": {"type": "cluster", "namespaces": []}
            }],
            "fidelity": "exact",
            "reasons": [{
                "code": "masters-to-cluster-admin",
                "severity": "info",
                "message": "system:masters becomes AmazonEKSClusterAdminPolicy at cluster scope; the policy is enforced by EKS, so kubectl auth can-i --list does not show it and impersonation does not carry it"
            }],
            "action": "create",
            "from": [5]
        })
    );
    let m = &v["mappings"][5];
    assert_eq!(m["section"], "mapRoles");
    assert_eq!(m["index"], 5);
    assert_eq!(m["line"], 46);
    assert_eq!(m["outcome"], "migrate");
}

/// The documented fields and the printed fields are the same sets.
#[test]
fn json_matches_docs_plan_format() {
    let doc = std::fs::read_to_string("docs/plan-format.md").unwrap();
    let fields = |heading: &str| -> BTreeSet<String> {
        let start = doc
            .find(heading)
            .unwrap_or_else(|| panic!("{heading} missing"));
        doc[start..]
            .lines()
            .skip(1)
            .skip_while(|l| !l.starts_with('|'))
            .take_while(|l| l.starts_with('|'))
            .filter_map(|l| l.split('`').nth(1).map(str::to_string))
            .collect()
    };
    let out = plan(&[
        "--file",
        "examples/aws-auth.yaml",
        "--format",
        "json",
        "--allow-lossy",
        "--rbac",
        "examples/rbac.yaml",
    ]);
    let v = out.json();
    let keys = |o: &serde_json::Value| -> BTreeSet<String> {
        o.as_object().unwrap().keys().cloned().collect()
    };
    let live_only: BTreeSet<String> = ["existing", "lockout", "fingerprint", "digest"]
        .map(String::from)
        .into();
    let top: BTreeSet<String> = fields("## Top level")
        .difference(&live_only)
        .cloned()
        .collect();
    assert_eq!(keys(&v), top);
    assert_eq!(keys(&v["summary"]), fields("## summary"));
    assert_eq!(keys(&v["access"]), fields("## access"));
    let mut entry_fields = fields("## entries[]");
    entry_fields.remove("diff");
    for e in v["entries"].as_array().unwrap() {
        assert_eq!(keys(e), entry_fields);
    }
    let mapping_fields = fields("## mappings[]");
    for m in v["mappings"].as_array().unwrap() {
        let mut k = keys(m);
        k.insert("account".into());
        assert_eq!(k, mapping_fields, "{m}");
    }
}

#[test]
fn detailed_exitcode() {
    let out = plan(&["--file", "examples/aws-auth.yaml", "--detailed-exitcode"]);
    assert_eq!(out.code, 2);
    let nothing = bin()
        .args(["plan", "--file", "-", "--detailed-exitcode"])
        .stdin("data:\n  mapAccounts: |\n    - \"111122223333\"\n")
        .run();
    assert_eq!(nothing.code, 0, "{}", nothing.stderr);
    assert!(
        nothing.stdout.contains("Plan: 0 to create"),
        "{}",
        nothing.stdout
    );
}

#[test]
fn out_file_is_private_and_equals_json() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plan.json");
    let out = plan(&[
        "--file",
        "examples/aws-auth.yaml",
        "--format",
        "json",
        "--out",
        path.to_str().unwrap(),
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let saved = std::fs::read_to_string(&path).unwrap();
    assert_eq!(saved, out.stdout);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}

#[test]
fn json_manifest_and_list_plan_like_yaml() {
    let yaml = plan(&["--file", "examples/aws-auth.yaml", "--format", "json"]).json();
    let data = &yaml["mappings"];
    let manifest = serde_json::json!({
        "apiVersion": "v1", "kind": "List", "items": [{
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "aws-auth", "namespace": "kube-system"},
            "data": {
                "mapRoles": "- rolearn: arn:aws:iam::111122223333:role/admin\n  username: admin\n  groups: [system:masters]\n",
                "mapUsers": "- userarn: arn:aws:iam::111122223333:user/bob\n  groups: [viewers]\n"
            }
        }]
    });
    let out = bin()
        .args(["plan", "--file", "-", "--format", "json"])
        .stdin(manifest.to_string())
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v = out.json();
    assert!(data.is_array());
    let arns: Vec<&str> = v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["principal_arn"].as_str().unwrap())
        .collect();
    assert_eq!(
        arns,
        vec![
            "arn:aws:iam::111122223333:role/admin",
            "arn:aws:iam::111122223333:user/bob"
        ]
    );
    assert_eq!(v["source"]["kind"], "stdin");
}

fn refused(input: &[u8], expect: &str) {
    let out = bin()
        .args(["plan", "--file", "-"])
        .stdin(input.to_vec())
        .run();
    assert_eq!(out.code, 1, "stdout: {}", out.stdout);
    assert_eq!(out.stdout, "");
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{}", out.stderr);
    assert!(
        lines[0].starts_with("error: standard input: "),
        "{}",
        lines[0]
    );
    assert!(lines[0].contains(expect), "{:?} lacks {expect:?}", lines[0]);
}

#[test]
fn bad_input_is_refused_in_one_line() {
    refused(b"", "the input is empty");
    refused(
        b"apiVersion: v1\nkind: ConfigMap\n  data: x\n",
        "line 3: not valid YAML or JSON",
    );
    refused(
        b"apiVersion: v1\nkind: Secret\nmetadata: {name: aws-auth}\n",
        "line 1: this is a Secret, not a ConfigMap",
    );
    refused(
        b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: coredns, namespace: kube-system}\ndata: {}\n",
        "this is ConfigMap kube-system/coredns, not kube-system/aws-auth",
    );
    refused(
        b"\x7fELF\x02\x01\x01\x00\x00",
        "not text (binary data at byte 7)",
    );
    refused(b"just some words\n", "no aws-auth data here");
    let mut big = b"data:\n  mapRoles: |\n".to_vec();
    while big.len() < 5 * 1024 * 1024 {
        big.extend_from_slice(b"    - rolearn: arn:aws:iam::111122223333:role/r\n");
    }
    refused(&big, "an aws-auth ConfigMap manifest is at most");
}

#[test]
fn missing_file_and_bad_flags() {
    let out = plan(&["--file", "does/not/exist.yaml"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .starts_with("error: cannot open does/not/exist.yaml: "),
        "{}",
        out.stderr
    );
    let out = plan(&["--file", "examples/aws-auth.yaml", "--account", "12"]);
    assert_eq!(out.code, 1);
    assert_eq!(
        out.stderr,
        "error: --account \"12\" is not a 12-digit AWS account ID\n"
    );
    let out = plan(&[]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("--file"), "{}", out.stderr);
}

#[test]
fn bad_policy_map_names_the_known_policies() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("map.yaml");
    std::fs::write(
        &path,
        "groups:\n  viewers:\n    policies: [AmazonEKSReadOnlyPolicy]\n",
    )
    .unwrap();
    let out = plan(&[
        "--file",
        "examples/aws-auth.yaml",
        "--policy-map",
        path.to_str().unwrap(),
    ]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .contains("unknown access policy \"AmazonEKSReadOnlyPolicy\"; known policies: "),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("AmazonEKSViewPolicy"));
}

#[test]
fn a_broken_section_is_reported_not_fatal() {
    let out = bin()
        .args(["plan", "--file", "-", "--format", "json"])
        .stdin("data:\n  mapRoles: |\n    - rolearn: arn:aws:iam::111122223333:role/a\n      username: {{SessionName}}\n  mapUsers: |\n    - userarn: arn:aws:iam::111122223333:user/u\n      groups: [system:masters]\n")
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v = out.json();
    assert_eq!(v["sections"][0]["status"], "unparseable");
    assert_eq!(
        v["mappings"][0]["reasons"][0]["code"],
        "section-unparseable"
    );
    assert_eq!(v["mappings"][0]["line"], 4);
    assert_eq!(v["entries"].as_array().unwrap().len(), 1);
}

/// Nine anchors, each a list of nine aliases of the one before: 9^9
/// strings (gigabytes in any parser that expands them) from 342 bytes.
pub(crate) fn alias_bomb(indent: &str) -> String {
    let mut out = format!(
        "{indent}a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
    );
    for (prev, name) in "abcdefgh".chars().zip("bcdefghi".chars()) {
        let items = vec![format!("*{prev}"); 9].join(",");
        out.push_str(&format!("{indent}{name}: &{name} [{items}]\n"));
    }
    out
}

#[test]
fn an_alias_bomb_in_the_file_is_refused_in_one_line() {
    let bomb = alias_bomb("");
    refused(
        bomb.as_bytes(),
        "line 4: refused: document contains excessive aliasing",
    );
}

#[test]
fn an_alias_bomb_in_a_section_drops_that_section_only() {
    let input = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\n  namespace: kube-system\ndata:\n  mapRoles: |\n    - rolearn: arn:aws:iam::111122223333:role/a\n      groups: [ops]\n    - bomb:\n{}  mapUsers: |\n    - userarn: arn:aws:iam::111122223333:user/u\n      groups: [devs]\n",
        alias_bomb("        ")
    );
    let out = bin()
        .args(["plan", "--file", "-", "--format", "json"])
        .stdin(input)
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v = out.json();
    assert_eq!(v["sections"][0]["section"], "mapRoles");
    assert_eq!(v["sections"][0]["status"], "unparseable");
    assert_eq!(
        v["sections"][0]["error"],
        "YAML error at line 14: document contains excessive aliasing"
    );
    assert_eq!(v["sections"][1]["status"], "loaded");
    assert_eq!(
        v["mappings"][0]["reasons"][0]["code"],
        "section-unparseable"
    );
    assert_eq!(
        v["mappings"][0]["reasons"][0]["message"],
        "the authenticator ignores all of mapRoles today: YAML error at line 14: document contains excessive aliasing"
    );
    let entries = v["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(
        entries[0]["principal_arn"],
        "arn:aws:iam::111122223333:user/u"
    );
}

/// Repeated keys: the authenticator uses one value without a word; the
/// plan names the keys, their lines and the one used, in every format.
#[test]
fn duplicate_keys_are_noticed() {
    let input = "data:\n  mapRoles: |\n    - rolearn: arn:aws:iam::111122223333:role/old\n  mapRoles: |\n    - rolearn: arn:aws:iam::111122223333:role/a\n      groups: [ops]\n      rolearn: arn:aws:iam::111122223333:role/b\n      Groups: [devs]\n";
    let row_notice = "mapRoles #1, line 5: 2 keys of this row set rolearn: rolearn (line 5), rolearn (line 7); the authenticator uses rolearn (line 7)";
    let row_notice_groups = "mapRoles #1, line 5: 2 keys of this row set groups: groups (line 6), Groups (line 8); the authenticator uses groups (line 6)";
    let data_notice = "line 4: data.mapRoles is given 2 times (lines 2, 4): only the last is read";
    let out = bin()
        .args(["plan", "--file", "-", "--format", "json"])
        .stdin(input)
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v = out.json();
    assert_eq!(
        v["notices"],
        serde_json::json!([data_notice, row_notice, row_notice_groups])
    );
    assert_eq!(v["mappings"][0]["reasons"][0]["code"], "duplicate-key");
    assert_eq!(v["mappings"][0]["reasons"][0]["severity"], "info");
    assert_eq!(
        v["entries"][0]["principal_arn"],
        "arn:aws:iam::111122223333:role/b"
    );
    assert_eq!(
        v["entries"][0]["kubernetes_groups"],
        serde_json::json!(["ops"])
    );
    for format in ["table", "markdown"] {
        let out = bin()
            .args(["plan", "--file", "-", "--format", format])
            .env("COLUMNS", "400")
            .stdin(input)
            .run();
        assert_eq!(out.code, 0, "{}", out.stderr);
        let flat = out.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
        for n in [data_notice, row_notice, row_notice_groups] {
            assert!(flat.contains(n), "{format} lacks {n:?}:\n{}", out.stdout);
        }
    }
}

#[test]
fn example_with_rbac_table_markdown_and_explain() {
    let base = [
        "--file",
        "examples/aws-auth.yaml",
        "--rbac",
        "examples/rbac.yaml",
        "--policy-map",
        "examples/policy-map.yaml",
        "--allow-lossy",
    ];
    let table = plan(&base);
    assert_eq!(table.code, 0, "{}", table.stderr);
    insta::assert_snapshot!("example_rbac_table", table.stdout);
    let md = plan(&[&base[..], &["--output", "markdown"]].concat());
    assert_eq!(md.code, 0, "{}", md.stderr);
    insta::assert_snapshot!("example_rbac_markdown", md.stdout);
    let explain = plan(
        &[
            &base[..],
            &["--explain", "arn:aws:iam::111122223333:role/monitoring"],
        ]
        .concat(),
    );
    assert_eq!(explain.code, 0, "{}", explain.stderr);
    insta::assert_snapshot!("example_rbac_explain", explain.stdout);
}
