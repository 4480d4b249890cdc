//! `kubelab completions SHELL` and `kubelab man`: what a shell and `man`
//! need, generated from the same clap definition as `--help` (handed in by
//! `cli`, which owns it: commands never import `cli`).

use std::io::Write;

#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// bash, zsh, fish, elvish or powershell. Install e.g. with
    /// `kubelab completions bash > ~/.local/share/bash-completion/completions/kubelab`.
    pub shell: clap_complete::Shell,
}

#[derive(Debug, clap::Args)]
pub struct ManArgs {}

/// `cmd` is the whole command line's definition (`Cli::command()`).
pub fn completions(args: CompletionsArgs, mut cmd: clap::Command) -> anyhow::Result<i32> {
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "kubelab", &mut out);
    write_out(&out)
}

/// `cmd` is the whole command line's definition (`Cli::command()`).
pub fn man(_args: ManArgs, cmd: clap::Command) -> anyhow::Result<i32> {
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd).render(&mut out)?;
    write_out(&out)
}

/// Written, not print!: `kubelab man | head` must not panic.
fn write_out(bytes: &[u8]) -> anyhow::Result<i32> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(bytes)?;
    stdout.flush()?;
    Ok(0)
}
