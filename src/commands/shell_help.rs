//! `kubelab completions SHELL` and `kubelab man`: what a shell and `man`
//! need, generated from the same clap definition as `--help`.

use clap::CommandFactory;
use std::io::Write;

#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// bash, zsh, fish, elvish or powershell. Install e.g. with
    /// `kubelab completions bash > ~/.local/share/bash-completion/completions/kubelab`.
    pub shell: clap_complete::Shell,
}

#[derive(Debug, clap::Args)]
pub struct ManArgs {}

pub fn completions(args: CompletionsArgs) -> anyhow::Result<i32> {
    let mut cmd = crate::cli::Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "kubelab", &mut out);
    write_out(&out)
}

pub fn man(_args: ManArgs) -> anyhow::Result<i32> {
    let mut out = Vec::new();
    clap_mangen::Man::new(crate::cli::Cli::command()).render(&mut out)?;
    write_out(&out)
}

/// Written, not print!: `kubelab man | head` must not panic.
fn write_out(bytes: &[u8]) -> anyhow::Result<i32> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(bytes)?;
    stdout.flush()?;
    Ok(0)
}
