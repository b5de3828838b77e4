//! Guards on the shape of the whole crate, checked on its source text (the
//! rules docs/architecture.md states; the core's own purity and acyclic
//! guards are in `core::guard_tests`):
//!
//! - the top-level modules import one another only along the edges of
//!   [`ALLOWED`], which has no cycle;
//! - only `src/aws/` names the AWS SDK crates, only the Kubernetes adapter
//!   names `kube` and `k8s_openapi`;
//! - only the commands (and `lib.rs`, `main.rs`) print or pick exit codes;
//! - one async runtime, built in `lib.rs`.
//!
//! Comments and literals are blanked first (as in the core's guard), and
//! `#[cfg(test)]` items are left out: tests may print and use anything.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::core::guard_tests::{blank_comments_and_literals, find_name, strip_test_items};

/// Each top-level module and the top-level modules it may import: the
/// layer table of docs/architecture.md. A new edge is a design decision:
/// add it here and there, never one that makes a cycle.
const ALLOWED: &[(&str, &[&str])] = &[
    // The pure bottom.
    ("core", &[]),
    ("outcome", &[]),
    ("render", &["core"]),
    // Adapters: all I/O, each on its own.
    ("aws", &["core"]),
    ("kube", &["core", "outcome"]),
    ("files", &["core"]),
    // The state backend (local or S3) under the journal and the parts.
    ("state", &["core", "aws", "files"]),
    ("journal", &["core", "state"]),
    // Execution: async, returns values.
    ("live", &["core", "aws", "kube", "files"]),
    (
        "apply",
        &[
            "core", "outcome", "render", "aws", "kube", "journal", "files", "live", "state",
        ],
    ),
    (
        "finish",
        &[
            "core", "outcome", "render", "aws", "kube", "journal", "files", "live", "apply",
        ],
    ),
    (
        "batch",
        &[
            "core", "outcome", "render", "aws", "kube", "journal", "files", "live", "apply",
            "finish", "state",
        ],
    ),
    // The top: flags, commands, exit codes.
    ("cli", &["core", "aws", "kube", "live"]),
    ("exit", &["outcome"]),
    (
        "commands",
        &[
            "core", "outcome", "render", "aws", "kube", "journal", "files", "live", "apply",
            "finish", "batch", "cli", "exit", "state",
        ],
    ),
    ("lib", &["cli", "commands", "exit", "outcome"]),
];

/// Modules allowed to print and to use `crate::exit`.
const TOP: &[&str] = &["commands", "lib", "main", "exit"];

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every .rs file under src, relative to it, sorted.
fn src_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, base: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).expect("src is readable") {
            let path = e.expect("a directory entry").path();
            if path.is_dir() {
                walk(&path, base, out);
            } else if path.extension().is_some_and(|x| x == "rs") {
                out.push(path.strip_prefix(base).expect("under src").to_path_buf());
            }
        }
    }
    let mut out = Vec::new();
    walk(&src_dir(), &src_dir(), &mut out);
    out.sort();
    out
}

/// The top-level module a file belongs to: `apply` for apply/exec.rs,
/// `lib` for lib.rs.
fn top_of(rel: &Path) -> String {
    let first = rel
        .components()
        .next()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .unwrap_or_default();
    first.trim_end_matches(".rs").to_string()
}

/// Test-only files: the guards, `tests.rs` files and `*_tests.rs` files.
fn test_only(rel: &Path) -> bool {
    let name = rel
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    name == "tests.rs" || name.ends_with("_tests.rs")
}

/// Each non-test file with its blanked, test-stripped code.
fn code_files() -> Vec<(PathBuf, String)> {
    src_files()
        .into_iter()
        .filter(|rel| !test_only(rel))
        .map(|rel| {
            let text =
                std::fs::read_to_string(src_dir().join(&rel)).expect("a source file is readable");
            let (code, _) = strip_test_items(&blank_comments_and_literals(&text));
            (rel, code)
        })
        .collect()
}

/// The top-level modules `code` names as `crate::x` (also in groups:
/// `crate::{x, y::z}`).
fn crate_refs(code: &str, tops: &BTreeSet<String>) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for at in find_name(code, "crate::") {
        let after = code[at + "crate::".len()..].trim_start();
        let names: Vec<String> = if let Some(group) = after.strip_prefix('{') {
            let mut depth = 0;
            let mut items = vec![String::new()];
            for ch in group.chars() {
                match ch {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        items.push(String::new());
                        continue;
                    }
                    _ => {}
                }
                if let Some(last) = items.last_mut() {
                    last.push(ch);
                }
            }
            items
        } else {
            vec![after.to_string()]
        };
        for n in names {
            let head: String = n
                .trim()
                .chars()
                .take_while(|&c| c.is_alphanumeric() || c == '_')
                .collect();
            if tops.contains(&head) {
                found.insert(head);
            }
        }
    }
    found
}

/// top-level module → the top-level modules its non-test code imports.
fn crate_graph() -> BTreeMap<String, BTreeSet<String>> {
    let files = code_files();
    let tops: BTreeSet<String> = files.iter().map(|(rel, _)| top_of(rel)).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (rel, code) in &files {
        let me = top_of(rel);
        let mut refs = crate_refs(code, &tops);
        refs.remove(&me);
        graph.entry(me).or_default().extend(refs);
    }
    graph
}

fn allowed() -> BTreeMap<&'static str, BTreeSet<&'static str>> {
    ALLOWED
        .iter()
        .map(|(m, to)| (*m, to.iter().copied().collect()))
        .collect()
}

#[test]
fn modules_import_only_along_the_layers() {
    let graph = crate_graph();
    let allowed = allowed();
    let mut wrong = Vec::new();
    for (m, to) in &graph {
        if m == "main" {
            continue;
        }
        let Some(may) = allowed.get(m.as_str()) else {
            wrong.push(format!("{m}: a top-level module the layer table does not know; add it to ALLOWED and docs/architecture.md"));
            continue;
        };
        for t in to {
            if !may.contains(t.as_str()) {
                wrong.push(format!("{m} imports {t}"));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the layers of docs/architecture.md:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_layer_table_has_no_cycle() {
    let allowed = allowed();
    // Kahn's algorithm: every module must come out.
    let mut indegree: BTreeMap<&str, usize> = allowed.keys().map(|m| (*m, 0)).collect();
    for to in allowed.values() {
        for t in to {
            *indegree.entry(t).or_default() += 1;
        }
    }
    let mut ready: Vec<&str> = indegree
        .iter()
        .filter(|(_, d)| **d == 0)
        .map(|(m, _)| *m)
        .collect();
    let mut seen = 0;
    while let Some(m) = ready.pop() {
        seen += 1;
        for t in allowed.get(m).into_iter().flatten() {
            let d = indegree.get_mut(t).expect("counted");
            *d -= 1;
            if *d == 0 {
                ready.push(t);
            }
        }
    }
    assert_eq!(seen, indegree.len(), "the layer table has a cycle");
}

/// Names that belong to one adapter, the files that may use them, and who
/// that is.
type Owned = (&'static [&'static str], fn(&Path) -> bool, &'static str);

/// Names that belong to one adapter.
fn owned_names() -> [Owned; 2] {
    [
        (
            &[
                "aws_sdk_",
                "aws_config",
                "aws_smithy_",
                "aws_types",
                "aws_sigv4",
                "aws_credential_types",
            ],
            |rel| top_of(rel) == "aws",
            "src/aws/",
        ),
        (
            &[
                "k8s_openapi",
                "::kube::",
                "use kube::",
                "kube::api::",
                "kube::Api",
                "kube::Client",
                "kube::Error",
                "kube::config::",
                "kube::Config",
            ],
            |rel| top_of(rel) == "kube",
            "the Kubernetes adapter (src/kube)",
        ),
    ]
}

/// Where `code` names `needle` as the external crate's path: not as the
/// tail of a longer path (`crate::kube::X` is our adapter, `::kube::X` and
/// `kube::Api` are the crate).
fn extern_uses(code: &str, needle: &str) -> Vec<usize> {
    find_name(code, needle)
        .into_iter()
        .filter(|&at| {
            let before = &code[..at];
            if needle.starts_with("::") {
                !before
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_alphanumeric() || c == '_')
            } else {
                !before.ends_with("::")
            }
        })
        .collect()
}

#[test]
fn only_the_adapters_name_the_sdks() {
    let mut wrong = Vec::new();
    for (rel, code) in code_files() {
        for (names, owner, who) in owned_names() {
            if owner(&rel) {
                continue;
            }
            for n in names {
                if !extern_uses(&code, n).is_empty() {
                    wrong.push(format!("src/{}: names {n} (only {who} may)", rel.display()));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn only_the_commands_print_or_pick_exit_codes() {
    let mut wrong = Vec::new();
    for (rel, code) in code_files() {
        if TOP.contains(&top_of(&rel).as_str()) {
            continue;
        }
        for n in [
            "println!",
            "print!",
            "eprintln!",
            "eprint!",
            "dbg!",
            "stdout()",
            "stderr()",
            "crate::exit",
        ] {
            if !find_name(&code, n).is_empty() {
                wrong.push(format!("src/{}: {n}", rel.display()));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "below the commands, results go up as values (docs/architecture.md):\n{}",
        wrong.join("\n")
    );
}

#[test]
fn one_runtime_built_in_lib_rs() {
    let mut found = Vec::new();
    for (rel, code) in code_files() {
        for n in [
            "block_on",
            "runtime::Builder",
            "tokio::main",
            "Runtime::new",
        ] {
            for at in find_name(&code, n) {
                found.push(format!(
                    "src/{}:{}: {n}",
                    rel.display(),
                    code[..at].matches('\n').count() + 1
                ));
            }
        }
    }
    // state::block runs the S3 state's calls from the synchronous journal
    // writer and lock on the current runtime's handle (block_in_place): the
    // same runtime, not a second one.
    found.retain(|f| !f.starts_with("src/state/mod.rs:"));
    assert!(
        found.len() == 2 && found.iter().all(|f| f.starts_with("src/lib.rs:")),
        "one async runtime, built in lib.rs run() (docs/architecture.md); found:\n{}",
        found.join("\n")
    );
}

#[test]
fn no_file_holds_over_800_lines_of_non_test_code() {
    let mut long = Vec::new();
    for (rel, code) in code_files() {
        let lines = code.lines().filter(|l| !l.trim().is_empty()).count();
        if lines > 800 {
            long.push(format!("src/{}: {lines} lines", rel.display()));
        }
    }
    assert!(
        long.is_empty(),
        "split these by concept:\n{}",
        long.join("\n")
    );
}

// The guards must be able to fail.
#[test]
fn the_guards_see_imports_and_names() {
    let tops: BTreeSet<String> = ["apply", "core", "exit"].map(String::from).into();
    let code = blank_comments_and_literals(
        "use crate::{core::plan, exit};\n// crate::apply\nfn f() { crate::apply::x(); let s = \"crate::exit\"; }",
    );
    assert_eq!(crate_refs(&code, &tops), tops);
    assert_eq!(top_of(Path::new("apply/exec.rs")), "apply");
    assert_eq!(top_of(Path::new("lib.rs")), "lib");
    assert!(test_only(Path::new("journal/tests.rs")) && !test_only(Path::new("journal/read.rs")));
    let code = "use crate::kube::{self, KubeTarget};\nfn f(c: ::kube::Client, k: kube::Api<X>) { crate::kube::Unverified::Notice; }";
    assert_eq!(extern_uses(code, "::kube::").len(), 1);
    assert_eq!(extern_uses(code, "kube::Api").len(), 1);
    assert!(extern_uses("use crate::kube::Client;", "kube::Client").is_empty());
}
