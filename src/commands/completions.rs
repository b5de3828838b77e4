//! `aws-auth-migrate completions SHELL` and `aws-auth-migrate man`: the
//! shell completion script and the man page, generated from the clap
//! definition of the command line (`cli::Cli`), printed on standard output.
//! No async runtime (see `needs_runtime`).

use std::io::Write;

use anyhow::{Context, Result};
use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::{Cli, CompletionsArgs, ShellArg};
use crate::exit;

/// The name the scripts complete and the man page documents.
const BIN: &str = "aws-auth-migrate";

/// `completions SHELL`: the script on standard output.
pub(crate) fn completions(args: &CompletionsArgs) -> Result<i32> {
    let shell = ShellArg::parse(&args.shell)?;
    print(&script(shell))?;
    Ok(exit::OK)
}

/// `man`: the man page (roff) on standard output.
pub(crate) fn man() -> Result<i32> {
    print(&man_page()?)?;
    Ok(exit::OK)
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
    fn an_unknown_shell_is_named_with_the_known_ones() {
        let err = ShellArg::parse("tcsh").expect_err("tcsh is refused");
        assert_eq!(
            err.to_string(),
            "shell \"tcsh\" is not one of bash, zsh, fish, powershell"
        );
    }
}
