//! `kubelab world`: a lab world of several nodes on real network
//! namespaces (docs/worlds.md), outside the reader: `up FILE|LESSON`, `exec NODE
//! -- CMD`, `shell NODE`, `status`, `down`.

use kubelab_sandbox::world::{self, UpOptions, WorldState};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Lab worlds: nodes on their own network namespaces, joined by an
/// underlay switch, never touching the host's network.
#[derive(Debug, clap::Args)]
pub struct WorldArgs {
    #[command(subcommand)]
    pub command: WorldCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum WorldCommand {
    /// Build the world of a world file or of a lesson's `[world]` and print
    /// its nodes; it runs in the background until `kubelab world down`.
    Up {
        /// The world file (TOML), e.g. examples/worlds/two-nodes.toml; or a
        /// lesson file (.md) or lesson id whose front matter has [world].
        file: PathBuf,
    },
    /// Run a command in a node (its network and hostname, the host's
    /// tools: ip, ping, bridge, nft…). NODE `underlay` is the switch.
    Exec {
        /// The node, as the world file names it.
        node: String,
        /// The command and its arguments (after `--`).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true)]
        command: Vec<String>,
    },
    /// An interactive shell in a node ($SHELL, else /bin/sh).
    Shell {
        /// The node, as the world file names it.
        node: String,
    },
    /// Print the running world's nodes and addresses.
    Status,
    /// Stop the running world; nothing of it is left.
    Down,
}

/// The program re-executed for the world's processes: the small helper
/// beside kubelab, else kubelab itself.
fn helper() -> PathBuf {
    kubelab_sandbox::front::helper_beside_current_exe()
        .unwrap_or_else(|| PathBuf::from("/proc/self/exe"))
}

/// The engine's error without its "world:" stage name (every message here
/// is about the world).
fn plain(e: kubelab_sandbox::Error) -> anyhow::Error {
    anyhow::anyhow!(e.message)
}

pub fn run(ctx: &crate::context::Context, a: WorldArgs) -> anyhow::Result<i32> {
    let dir = world::default_dir();
    match a.command {
        WorldCommand::Up { file } => up(ctx, &file, &dir),
        WorldCommand::Exec { node, command } => exec(&dir, &node, command),
        WorldCommand::Shell { node } => {
            let shell = std::env::var("SHELL")
                .ok()
                .filter(|s| s.starts_with('/') && Path::new(s).exists())
                .unwrap_or_else(|| "/bin/sh".into());
            eprintln!(
                "{}: a shell in the node; `exit` leaves it (the world keeps running)",
                crate::sanitize::line(&node)
            );
            exec(&dir, &node, vec![shell])
        }
        WorldCommand::Status => match world::running(&dir).map_err(plain)? {
            Some(st) => {
                print_world(&st, "is up")?;
                Ok(0)
            }
            None => {
                println!("no world is up");
                Ok(1)
            }
        },
        WorldCommand::Down => match world::down(&dir).map_err(plain)? {
            Some(st) => {
                println!("world {} is down", crate::sanitize::line(&st.name));
                Ok(0)
            }
            None => {
                println!("no world was up");
                Ok(0)
            }
        },
    }
}

fn up(ctx: &crate::context::Context, what: &Path, dir: &Path) -> anyhow::Result<i32> {
    let src = match super::world_source::resolve(ctx, what) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return Ok(1);
        }
    };
    // Before the agents' folders exist: a second `up` leaves nothing.
    if let Some(st) = world::running(dir).map_err(plain)? {
        anyhow::bail!(
            "world \"{}\" (from {}) is already up; run `kubelab world down` first",
            crate::sanitize::line(&st.name),
            crate::sanitize::line(&st.source)
        );
    }
    let kubelab = std::env::current_exe()?;
    let agents = crate::lab::world::agents::node_agents(&src.spec, dir, &kubelab)?;
    let opts = UpOptions {
        name: src.name,
        source: src.source,
        dir: dir.to_path_buf(),
        helper_exe: helper(),
        agents,
    };
    let st = match world::up(&src.spec, &opts) {
        Ok(st) => st,
        Err(e) => {
            crate::lab::world::agents::remove_dirs(&opts.agents);
            return Err(plain(e));
        }
    };
    print_world(&st, "is up")?;
    println!("`kubelab world exec NODE -- CMD`, `kubelab world shell NODE`, `kubelab world down`");
    Ok(0)
}

fn print_world(st: &WorldState, what: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "world {} {what} (from {}): underlay {}, gateway {} on {} in `{}`",
        crate::sanitize::line(&st.name),
        crate::sanitize::line(&st.source),
        st.spec.underlay,
        st.spec.gateway(),
        world::BRIDGE,
        world::UNDERLAY,
    )?;
    writeln!(
        out,
        "{:<12} {:<26} {:<18} PODS",
        "NODE", "ADDRESS", "POD CIDR"
    )?;
    for n in &st.spec.nodes {
        writeln!(
            out,
            "{:<12} {:<26} {:<18} {}",
            n.name.as_str(),
            format!("{}/{} (eth0)", n.address, st.spec.underlay.prefix),
            n.pod_cidr.to_string(),
            pods_column(st, n.name.as_str())
        )?;
    }
    Ok(())
}

/// A node's PODS column: whether its agent runs, and where Pods go.
fn pods_column(st: &WorldState, node: &str) -> String {
    match st.agents.iter().find(|a| a.node == node) {
        Some(a) if a.is_running() => format!(
            "yes (kubelab node {}, bridge {})",
            a.pid,
            crate::lab::world::agents::BRIDGE
        ),
        Some(_) => "no: its node agent is gone".into(),
        None => "no".into(),
    }
}

/// Becomes the helper that runs `command` in `node` (exec: the shell that
/// started kubelab waits for the command itself, signals and all).
fn exec(dir: &Path, node: &str, command: Vec<String>) -> anyhow::Result<i32> {
    let Some(st) = world::running(dir).map_err(plain)? else {
        anyhow::bail!("no world is up; start one with `kubelab world up FILE|LESSON`");
    };
    let mut cmd = world::exec_command(&st, node, &command, &helper()).map_err(plain)?;
    use std::os::unix::process::CommandExt;
    let e = cmd.exec();
    anyhow::bail!("run the world's exec helper: {e}")
}
