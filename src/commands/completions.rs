//! `aws-auth-migrate completions SHELL` and `aws-auth-migrate man`: the
//! shell completion script and the man page, generated from the clap
//! definition of the command line (`cli::Cli`), printed on standard output.
//! No async runtime (see `needs_runtime`).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::{Cli, CompletionsArgs, ManArgs, ShellArg};
use crate::exit;

/// The name the scripts complete and the man page documents.
const BIN: &str = "aws-auth-migrate";

/// `completions SHELL`: the script on standard output.
pub(crate) fn completions(args: &CompletionsArgs) -> Result<i32> {
    let shell = ShellArg::parse(&args.shell)?;
    print(&script(shell))?;
    Ok(exit::OK)
}

/// `man`: the man page (roff) on standard output; `man --all DIR`: one
/// page per command and subcommand in DIR, each path on standard error.
pub(crate) fn man(args: &ManArgs) -> Result<i32> {
    match &args.all {
        None => print(&man_page()?)?,
        Some(dir) => {
            for path in man_pages(dir)? {
                eprintln!("wrote {}", path.display());
            }
        }
    }
    Ok(exit::OK)
}

/// Writes the man page of every command that is not hidden into `dir`
/// (created): `aws-auth-migrate.1`, `aws-auth-migrate-plan.1`,
/// `aws-auth-migrate-batch-plan.1`...; returns their paths, sorted.
fn man_pages(dir: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    let mut written = Vec::new();
    write_pages(&cmd, dir, &mut written)?;
    written.sort();
    Ok(written)
}

/// `cmd`'s page and those of its subcommands, recursively.
fn write_pages(cmd: &clap::Command, dir: &Path, written: &mut Vec<PathBuf>) -> Result<()> {
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_pages(sub, dir, written)?;
    }
    let man = clap_mangen::Man::new(cmd.clone());
    let path = dir.join(man.get_filename());
    let mut page = Vec::new();
    man.render(&mut page)
        .with_context(|| format!("cannot render {}", path.display()))?;
    std::fs::write(&path, page).with_context(|| format!("cannot write {}", path.display()))?;
    written.push(path);
    Ok(())
}

/// The completion script for `shell`.
fn script(shell: ShellArg) -> Vec<u8> {
    let shell = match shell {
        ShellArg::Bash => Shell::Bash,
        ShellArg::Zsh => Shell::Zsh,
        ShellArg::Fish => Shell::Fish,
        ShellArg::PowerShell => Shell::PowerShell,
    };
    // Generated into memory: clap_complete panics on a failed write, and
    // standard output may be a closed pipe.
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), BIN, &mut out);
    out
}

/// The man page of the command line (roff).
fn man_page() -> Result<Vec<u8>> {
    let mut out = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut out)
        .context("cannot render the man page")?;
    Ok(out)
}

fn print(bytes: &[u8]) -> Result<()> {
    let stdout = std::io::stdout();
    let mut w = stdout.lock();
    w.write_all(bytes)
        .and_then(|()| w.flush())
        .context("cannot write standard output")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_shell_gets_a_script_naming_the_binary() {
        for shell in [
            ShellArg::Bash,
            ShellArg::Zsh,
            ShellArg::Fish,
            ShellArg::PowerShell,
        ] {
            let text = String::from_utf8(script(shell)).expect("the script is UTF-8");
            assert!(text.contains(BIN), "{shell:?}");
        }
    }

    #[test]
    fn man_all_writes_a_page_per_command() {
        let dir = std::env::temp_dir().join(format!("aam-man-{}", std::process::id()));
        let written = man_pages(&dir.join("man1")).expect("the pages are written");
        let names: Vec<String> = written
            .iter()
            .filter_map(|p| p.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .collect();
        for name in [
            "aws-auth-migrate.1",
            "aws-auth-migrate-plan.1",
            "aws-auth-migrate-prune-configmap.1",
            "aws-auth-migrate-batch.1",
            "aws-auth-migrate-batch-plan.1",
            "aws-auth-migrate-batch-rollback.1",
        ] {
            assert!(names.iter().any(|n| n == name), "{name} in {names:?}");
        }
        assert!(!names.iter().any(|n| n.contains("help")), "{names:?}");
        let plan = std::fs::read_to_string(dir.join("man1/aws-auth-migrate-plan.1"))
            .expect("the plan page");
        assert!(plan.contains("detailed\\-exitcode"), "{plan}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn an_unknown_shell_is_named_with_the_known_ones() {
        let err = ShellArg::parse("tcsh").expect_err("tcsh is refused");
        assert_eq!(
            err.to_string(),
            "shell \"tcsh\" is not one of bash, zsh, fish, powershell"
        );
    }
}
