//! Guards on the shape of the core, checked on its source text:
//!
//! - purity: no file under src/core reaches for I/O, async, a clock, the
//!   environment, printing, the cloud or cluster clients, or a module of
//!   the crate outside the core;
//! - layering: the modules of the core import one another without cycles
//!   (a parent that names its own child module counts as importing it).
//!
//! Comments and the contents of string and character literals are blanked
//! before anything is matched, so docs that mention stdin or `tokio` do
//! not trip the guard. This file is the one exception to the purity rule:
//! it reads the source tree (at test time), so it is not scanned.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// This file, relative to src/core: the only one allowed to read files.
const SELF: &str = "guard_tests.rs";

/// Paths and names that do I/O, run async, read a clock or the
/// environment, print, or talk to AWS or Kubernetes.
const FORBIDDEN: &[&str] = &[
    "std::fs",
    "std::net",
    "std::process",
    "std::env",
    "std::thread",
    "std::io::stdin",
    "std::io::stdout",
    "std::io::stderr",
    "stdin()",
    "stdout()",
    "stderr()",
    "SystemTime",
    "Instant::now",
    "Utc::now",
    "Local::now",
    "tokio",
    "async",
    ".await",
    "aws_sdk_",
    "aws_config",
    "aws_smithy_",
    "aws_types",
    "kube::",
    "k8s_openapi",
    "indicatif",
    "println!",
    "print!",
    "eprintln!",
    "eprint!",
    "dbg!",
];

/// Modules of the crate outside the core (adapters, commands, rendering).
const OUTSIDE_CORE: &[&str] = &[
    "aws", "kube", "files", "exit", "journal", "live", "apply", "commands", "render", "finish",
    "batch", "cli",
];

/// Modules of `std` that do I/O or touch the process, when imported by
/// name from a group (`use std::{fs, ...}`).
const FORBIDDEN_STD_GROUP: &[&str] = &["fs", "net", "process", "env", "thread"];

/// Blanks comments and the contents of string, byte-string, raw-string and
/// character literals (each blanked character becomes a space, newlines
/// are kept so line numbers still hold). Lifetimes are left alone.
pub(crate) fn blank_comments_and_literals(src: &str) -> String {
    let c: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let blank = |out: &mut String, ch: char| out.push(if ch == '\n' { '\n' } else { ' ' });
    let ident = |ch: char| ch.is_alphanumeric() || ch == '_';
    let mut i = 0;
    while i < c.len() {
        let prev_ident = i > 0 && ident(c[i - 1]);
        // Line comment.
        if c[i] == '/' && c.get(i + 1) == Some(&'/') {
            while i < c.len() && c[i] != '\n' {
                blank(&mut out, c[i]);
                i += 1;
            }
            continue;
        }
        // Block comment (nested).
        if c[i] == '/' && c.get(i + 1) == Some(&'*') {
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && c.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if c[i] == '*' && c.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    blank(&mut out, c[i]);
                    i += 1;
                }
            }
            continue;
        }
        // Raw string: r"..", r#".."#, br#".."#.
        if !prev_ident && (c[i] == 'r' || (c[i] == 'b' && c.get(i + 1) == Some(&'r'))) {
            let mut j = if c[i] == 'b' { i + 2 } else { i + 1 };
            let mut hashes = 0;
            while c.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if c.get(j) == Some(&'"') {
                c[i..=j].iter().for_each(|&ch| out.push(ch));
                j += 1;
                loop {
                    if j >= c.len() {
                        break;
                    }
                    if c[j] == '"' && (0..hashes).all(|k| c.get(j + 1 + k) == Some(&'#')) {
                        out.push('"');
                        (0..hashes).for_each(|_| out.push('#'));
                        j += 1 + hashes;
                        break;
                    }
                    blank(&mut out, c[j]);
                    j += 1;
                }
                i = j;
                continue;
            }
        }
        // String or byte string.
        if c[i] == '"' {
            out.push('"');
            i += 1;
            while i < c.len() && c[i] != '"' {
                if c[i] == '\\' {
                    blank(&mut out, c[i]);
                    i += 1;
                    if i >= c.len() {
                        break;
                    }
                }
                blank(&mut out, c[i]);
                i += 1;
            }
            if i < c.len() {
                out.push('"');
                i += 1;
            }
            continue;
        }
        // Character literal ('x', '\n', '\u{..}'); a lifetime has no closing quote.
        if c[i] == '\'' {
            let end = if c.get(i + 1) == Some(&'\\') {
                (i + 2..c.len().min(i + 12)).find(|&k| c[k] == '\'')
            } else if c.get(i + 2) == Some(&'\'') {
                Some(i + 2)
            } else {
                None
            };
            if let Some(end) = end {
                out.push('\'');
                (i + 1..end).for_each(|k| blank(&mut out, c[k]));
                out.push('\'');
                i = end + 1;
                continue;
            }
        }
        out.push(c[i]);
        i += 1;
    }
    out
}

fn is_ident(ch: char) -> bool {
    ch.is_alphanumeric() || ch == '_'
}

/// Occurrences of `needle` in `code` that are whole names: not part of a
/// longer identifier on either side.
pub(crate) fn find_name(code: &str, needle: &str) -> Vec<usize> {
    let first = needle.chars().next().is_some_and(is_ident);
    let last = needle.chars().last().is_some_and(is_ident);
    code.match_indices(needle)
        .map(|(at, _)| at)
        .filter(|&at| !first || !code[..at].chars().next_back().is_some_and(is_ident))
        .filter(|&at| {
            !last
                || !code[at + needle.len()..]
                    .chars()
                    .next()
                    .is_some_and(is_ident)
        })
        .collect()
}

/// The top-level names of the group after `prefix{` at each occurrence,
/// e.g. `std::{fs, io::Write}` gives `fs` and `io`.
fn group_heads(code: &str, prefix: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for at in find_name(code, prefix) {
        let rest = code[at + prefix.len()..].trim_start();
        let Some(rest) = rest.strip_prefix('{') else {
            continue;
        };
        let mut depth = 0;
        let mut item = String::new();
        for ch in rest.chars() {
            match ch {
                '{' => depth += 1,
                '}' if depth == 0 => break,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    out.push((at, head(&item)));
                    item.clear();
                    continue;
                }
                _ => {}
            }
            item.push(ch);
        }
        out.push((at, head(&item)));
    }
    out.retain(|(_, h)| !h.is_empty());
    out
}

fn head(item: &str) -> String {
    item.trim().chars().take_while(|&c| is_ident(c)).collect()
}

fn line_of(code: &str, at: usize) -> usize {
    code[..at].matches('\n').count() + 1
}

/// What in one file's (blanked) code breaks the purity rule, as
/// `line: what` descriptions.
fn impurities(code: &str) -> Vec<String> {
    let mut found = Vec::new();
    for pat in FORBIDDEN {
        for at in find_name(code, pat) {
            found.push((line_of(code, at), format!("`{pat}`")));
        }
    }
    for m in OUTSIDE_CORE {
        for at in find_name(code, &format!("crate::{m}")) {
            found.push((
                line_of(code, at),
                format!("`crate::{m}` (outside the core)"),
            ));
        }
    }
    for (at, h) in group_heads(code, "crate::") {
        if OUTSIDE_CORE.contains(&h.as_str()) {
            found.push((
                line_of(code, at),
                format!("`crate::{{{h}}}` (outside the core)"),
            ));
        }
    }
    for (at, h) in group_heads(code, "std::") {
        if FORBIDDEN_STD_GROUP.contains(&h.as_str()) {
            found.push((line_of(code, at), format!("`std::{{{h}}}`")));
        }
    }
    for (at, h) in group_heads(code, "std::io::") {
        if ["stdin", "stdout", "stderr"].contains(&h.as_str()) {
            found.push((line_of(code, at), format!("`std::io::{{{h}}}`")));
        }
    }
    found.sort();
    found.dedup();
    found
        .into_iter()
        .map(|(line, what)| format!("{line}: {what}"))
        .collect()
}

/// Every .rs file under src/core, relative to it, sorted.
fn core_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, base: &Path, out: &mut Vec<PathBuf>) {
        let entries = std::fs::read_dir(dir).expect("src/core is readable");
        for e in entries {
            let path = e.expect("a directory entry").path();
            if path.is_dir() {
                walk(&path, base, out);
            } else if path.extension().is_some_and(|x| x == "rs") {
                out.push(
                    path.strip_prefix(base)
                        .expect("under src/core")
                        .to_path_buf(),
                );
            }
        }
    }
    let base = core_dir();
    let mut out = Vec::new();
    walk(&base, &base, &mut out);
    out.sort();
    out
}

fn core_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src")
        .join("core")
}

fn read_blanked(rel: &Path) -> String {
    let text = std::fs::read_to_string(core_dir().join(rel)).expect("a core file is readable");
    blank_comments_and_literals(&text)
}

/// The module a file under src/core is (`steps::settle`; "" for mod.rs).
fn module_of(rel: &Path) -> String {
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let file = parts.pop().unwrap_or_default();
    if file != "mod.rs" {
        parts.push(file.trim_end_matches(".rs").to_string());
    }
    parts.join("::")
}

/// Removes the items under `#[cfg(test)]` (inline test modules, test-only
/// `mod x;` declarations, helpers), returning the code left and the names
/// of the test-only modules declared with `mod x;`.
pub(crate) fn strip_test_items(code: &str) -> (String, Vec<String>) {
    let mut out = String::new();
    let mut test_mods = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let item = &rest[at..];
        // The item ends at its first `;` outside braces, or its closing brace.
        let mut depth = 0usize;
        let mut end = item.len();
        for (i, ch) in item.char_indices() {
            match ch {
                '{' => depth += 1,
                '}' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        end = i + 1;
                        break;
                    }
                }
                ';' if depth == 0 => {
                    end = i + 1;
                    let decl = item[..i].split_whitespace().collect::<Vec<_>>();
                    if let [.., "mod", name] = decl.as_slice() {
                        test_mods.push(name.to_string());
                    }
                    break;
                }
                _ => {}
            }
        }
        // Keep the line count.
        out.extend(item[..end].chars().filter(|&c| c == '\n'));
        rest = &item[end..];
    }
    out.push_str(rest);
    (out, test_mods)
}

/// The modules of the core `code` (of module `me`) refers to by path:
/// `super::x`, `super::super::x`, `crate::core::x`, and groups of them.
fn references(me: &str, code: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let segs = |m: &str| -> Vec<String> {
        m.split("::")
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    };
    // The module `self` names in this file.
    let here = segs(me);
    let mut found = BTreeSet::new();
    let mut resolve = |base: Vec<String>, path: &str| {
        // The longest known module that `base::path` starts with.
        let base_name = base.join("::");
        let mut full = base;
        let mut best: Option<String> = None;
        for s in path.split("::").map(str::trim) {
            if s.is_empty() || !s.chars().all(is_ident) {
                break;
            }
            full.push(s.to_string());
            let name = full.join("::");
            if modules.contains(&name) {
                best = Some(name);
            }
        }
        // `super::Item`: an item of the base module itself.
        if let Some(b) = best.or(Some(base_name)) {
            found.insert(b);
        }
    };
    let visit = |base: Vec<String>, after: &str, resolve: &mut dyn FnMut(Vec<String>, &str)| {
        let after = after.trim_start();
        if let Some(group) = after.strip_prefix('{') {
            let mut depth = 0;
            let mut item = String::new();
            for ch in group.chars() {
                match ch {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        resolve(base.clone(), &item);
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                item.push(ch);
            }
            resolve(base, &item);
        } else {
            let path: String = after
                .chars()
                .take_while(|&c| is_ident(c) || c == ':' || c.is_whitespace())
                .collect();
            resolve(base, &path);
        }
    };
    for at in find_name(code, "crate::core::") {
        let after = &code[at + "crate::core::".len()..];
        visit(Vec::new(), after, &mut resolve);
    }
    for at in find_name(code, "super::") {
        // Count this `super` and any that follow.
        let mut after = &code[at..];
        let mut ups = 0;
        while let Some(r) = after.strip_prefix("super::") {
            ups += 1;
            after = r.trim_start();
        }
        // Skip the inner `super::` of a `super::super::` already counted.
        if code[..at].trim_end().ends_with("super::") {
            continue;
        }
        // In x.rs, `self` is x and `super` its parent; in x/mod.rs too.
        let mut base = here.clone();
        for _ in 0..ups {
            base.pop();
        }
        visit(base, after, &mut resolve);
    }
    // The module's own children, named from it (`use rows::check_rows`,
    // `self::report::X`, `rows::check_rows(..)`): a parent that uses its
    // child while the child uses the parent is a cycle too.
    let prefix = if me.is_empty() {
        String::new()
    } else {
        format!("{me}::")
    };
    for child in modules {
        let Some(name) = child.strip_prefix(&prefix) else {
            continue;
        };
        if name.is_empty() || name.contains("::") {
            continue;
        }
        let named = find_name(code, &format!("{name}::")).into_iter().any(|at| {
            let before = code[..at].trim_end();
            !before.ends_with("::") || before.ends_with("self::") && !before.ends_with("::self::")
        });
        if named {
            found.insert(child.clone());
        }
    }
    found.remove(me);
    found.remove("");
    found
}

/// The module graph of the core's non-test code: module → modules it refers to.
fn module_graph() -> BTreeMap<String, BTreeSet<String>> {
    let files = core_files();
    let mut code: Vec<(PathBuf, String, String)> = Vec::new();
    let mut test_only: BTreeSet<String> = BTreeSet::new();
    for rel in &files {
        let me = module_of(rel);
        let (c, tests) = strip_test_items(&read_blanked(rel));
        for t in tests {
            test_only.insert(if me.is_empty() {
                t
            } else {
                format!("{me}::{t}")
            });
        }
        code.push((rel.clone(), me, c));
    }
    code.retain(|(rel, me, _)| !test_only.contains(me) && rel != Path::new(SELF));
    let modules: BTreeSet<String> = code.iter().map(|(_, me, _)| me.clone()).collect();
    code.iter()
        .map(|(_, me, c)| (me.clone(), references(me, c, &modules)))
        .filter(|(me, _)| !me.is_empty())
        .collect()
}

/// A cycle of the graph, if it has one: the modules in order, the first
/// repeated at the end.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn dfs(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        done: &mut BTreeSet<String>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|p| p == node) {
            let mut cycle = path[start..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(c) = dfs(next, graph, done, path) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|n| dfs(n, graph, &mut done, &mut Vec::new()))
}

#[test]
fn core_does_no_io_async_or_printing() {
    let files = core_files();
    assert!(
        files.iter().any(|f| f == Path::new(SELF)),
        "the guard skips {SELF}, so it must be that file"
    );
    let mut violations = Vec::new();
    for rel in files.iter().filter(|f| *f != Path::new(SELF)) {
        for v in impurities(&read_blanked(rel)) {
            violations.push(format!("src/core/{}:{v}", rel.display()));
        }
    }
    assert!(
        violations.is_empty(),
        "the core must stay pure (no I/O, async, clock, environment, printing, clients, or modules outside the core):\n{}",
        violations.join("\n")
    );
}

#[test]
fn core_modules_import_one_another_without_cycles() {
    let graph = module_graph();
    assert!(graph.contains_key("plan") && graph.contains_key("steps::settle"));
    if let Some(cycle) = find_cycle(&graph) {
        panic!(
            "the modules of the core import one another in a cycle: {}\nthe graph:\n{}",
            cycle.join(" -> "),
            graph
                .iter()
                .map(|(m, to)| format!(
                    "  {m} -> {}",
                    to.iter().cloned().collect::<Vec<_>>().join(", ")
                ))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

// The guards themselves must be able to fail, and must not fire on words
// in comments and literals.

#[test]
fn purity_guard_flags_io_and_ignores_comments_and_literals() {
    let bad = "use std::fs::File;\nuse std::{env, collections::BTreeMap};\nasync fn f() { g().await; println!(\"x\"); }\nuse crate::journal::Journal;\nuse crate::{render, core};\nlet x = std::io::stdin();\n";
    let found = impurities(&blank_comments_and_literals(bad));
    for want in [
        "1: `std::fs`",
        "2: `std::{env}`",
        "3: `async`",
        "3: `.await`",
        "3: `println!`",
        "4: `crate::journal` (outside the core)",
        "5: `crate::{render}` (outside the core)",
        "6: `std::io::stdin`",
        "6: `stdin()`",
    ] {
        assert!(found.iter().any(|f| f == want), "{want} not in {found:?}");
    }
    let fine = "//! Reads stdin? No: the caller does (std::fs, tokio).\n/* println!(\"x\") */\nfn f<'a>(s: &'a str) -> char { let _ = \"std::fs .await\"; let _ = r#\"tokio \"quoted\" kube::Api\"#; let _ = b\"async\"; '\"' }\nfn asynchronous() {}\nuse crate::core::aws_auth;\nlet kubeconfig = 1;\n";
    assert_eq!(
        impurities(&blank_comments_and_literals(fine)),
        Vec::<String>::new()
    );
}

#[test]
fn cycle_guard_resolves_paths_and_finds_cycles() {
    let modules: BTreeSet<String> = ["plan", "diff", "steps", "steps::settle", "steps::model"]
        .into_iter()
        .map(str::to_string)
        .collect();
    let refs = |me: &str, code: &str| {
        references(me, code, &modules)
            .into_iter()
            .collect::<Vec<_>>()
    };
    assert_eq!(
        refs("steps::settle", "use super::model::Step;\nuse crate::core::diff::X;\nfn f(p: super::super::plan::Plan) {}"),
        ["diff", "plan", "steps::model"]
    );
    assert_eq!(
        refs("plan", "use super::{diff::EntryDiff, policy};"),
        ["diff"]
    );
    // A parent naming its children (not another module's of that name).
    assert_eq!(
        refs(
            "steps",
            "pub use model::Step;\nuse self::settle::x;\nfn f() { other::model::y(); }"
        ),
        ["steps::model", "steps::settle"]
    );
    assert_eq!(
        refs("diff", "use serde::model::X; fn f() { model::y(); }"),
        Vec::<String>::new()
    );
    let (code, tests) = strip_test_items("use super::diff;\n#[cfg(test)]\nmod tests {\n    use super::super::plan;\n}\n#[cfg(test)]\nmod more;\n");
    assert_eq!(refs("steps", &code), ["diff"]);
    assert_eq!(tests, ["more"]);
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("plan", vec!["diff"]),
        ("diff", vec!["lockout"]),
        ("lockout", vec!["plan"]),
    ]
    .into_iter()
    .map(|(m, to)| (m.to_string(), to.into_iter().map(str::to_string).collect()))
    .collect();
    assert_eq!(
        find_cycle(&graph),
        Some(vec![
            "diff".into(),
            "lockout".into(),
            "plan".into(),
            "diff".into()
        ])
    );
}
