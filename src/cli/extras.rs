//! For packagers: shell completions (clap_complete) and a man page (clap_mangen), both generated
//! from the same clap definition as the parser, so they never drift from the flags.

use clap::{Args, CommandFactory, ValueEnum};
use std::io::{self, Write};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Writes the completion script for `shell`.
pub fn completions(args: &CompletionsArgs, w: &mut dyn Write) -> io::Result<()> {
    let mut cmd = super::Cli::command();
    let shell = match args.shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
    };
    clap_complete::generate(shell, &mut cmd, "wspath", w);
    Ok(())
}

/// Writes the roff man page of wspath (`wspath man > wspath.1`).
pub fn man(w: &mut dyn Write) -> io::Result<()> {
    clap_mangen::Man::new(super::Cli::command()).render(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completions_name_every_subcommand() {
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
            let mut out = Vec::new();
            completions(&CompletionsArgs { shell }, &mut out).unwrap();
            let text = String::from_utf8(out).unwrap();
            for word in ["check", "audit", "lint", "report-junit", "per-host"] {
                assert!(text.contains(word), "{shell:?} lacks {word}");
            }
        }
    }

    #[test]
    fn man_page_is_roff_with_the_commands() {
        let mut out = Vec::new();
        man(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with(".ie \\n(.g .ds Aq"), "{}", &text[..80]);
        assert!(text.contains(".TH wspath 1"), "{text}");
        assert!(text.contains("audit"), "{text}");
    }
}
