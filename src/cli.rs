//! The command line: global options, subcommands and dispatch.
//!
//! # Adding a subcommand (for other helpers)
//!
//! 1. Put `pub struct FooArgs` (`#[derive(clap::Args)]`, with doc comments:
//!    they become `--help`) and `pub fn run(ctx: &Context, args: FooArgs) ->
//!    anyhow::Result<i32>` (the exit code) in `src/commands/foo.rs`
//!    ([`Context`] is `crate::context::Context`: commands never import `cli`).
//! 2. Add one variant to [`Command`] — `Foo(crate::commands::foo::FooArgs),`
//!    with a `///` line for the command list — and one arm to
//!    [`dispatch`] — `Command::Foo(a) => crate::commands::foo::run(ctx, a),`.
//!
//! Errors returned from `run` are printed as `kubelab: error: ...` with exit
//! code 1; return `Ok(n)` for other codes (e.g. lint's 1 on findings).

use crate::context::Context;
use crate::locale::Lang;
use clap::{CommandFactory, Parser, Subcommand};
use std::path::PathBuf;

/// Help heading of the options every command accepts, so a command's own
/// options (e.g. `run --memory`) are not interleaved with them.
const GLOBAL: &str = "Global options";

/// kubelab — an interactive terminal course on containers and Kubernetes.
///
/// Without a subcommand, opens the course reader (needs a terminal).
#[derive(Debug, Parser)]
#[command(
    name = "kubelab",
    // The built-in course's version too: its files' hash (build.rs).
    version = concat!(env!("CARGO_PKG_VERSION"), " (course ", env!("KUBELAB_COURSE_HASH"), ")"),
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// Course directory to open instead of the built-in course: it holds
    /// `lessons/zh` and/or `lessons/en`, `zh/` and/or `en/`, or is one book
    /// (with book.toml). Default: $KUBELAB_COURSE, else the built-in course.
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "DIR")]
    pub course: Option<PathBuf>,

    /// Language of the interface and the lessons: zh or en. Default: from
    /// LC_ALL / LC_MESSAGES / LANG (zh* → zh, else en).
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "zh|en")]
    pub lang: Option<Lang>,

    /// Where progress is kept. Default: $XDG_DATA_HOME/kubelab or
    /// ~/.local/share/kubelab.
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Open the course only up to this lesson, so a class moves together
    /// (also `lock = "id"` under `[preprocessor.kubelab]` in book.toml).
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "LESSON-ID", env = "KUBELAB_LOCK")]
    pub lock: Option<String>,

    /// Run the labs of a `--course` course without asking first (the
    /// built-in course never asks).
    #[arg(long, global = true, help_heading = GLOBAL)]
    pub trust: bool,

    /// Kubernetes context for cluster labs (from the kubeconfig kubectl
    /// reads: $KUBECONFIG, else ~/.kube/config). Default: its current
    /// context.
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "NAME")]
    pub context: Option<String>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

// Parsed once per process: a boxed variant would only add noise.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open the reader at a lesson.
    Open(crate::commands::open::OpenArgs),
    /// Print the course outline with your progress (plain text, for scripts).
    List(crate::commands::list::ListArgs),
    /// Check books, SUMMARY.md, front matter and interactive blocks.
    Lint(crate::commands::lint::LintArgs),
    /// Show or reset your progress.
    Progress(crate::commands::progress::ProgressArgs),
    /// Prove every lab: fresh sandbox → checks fail → solutions → checks pass.
    Test(crate::commands::test::TestArgs),
    /// Create a new lesson from a template and add it to SUMMARY.md.
    New(crate::commands::new::NewArgs),
    /// mdBook preprocessor: builds the lessons into a web book.
    Mdbook(crate::commands::mdbook::MdbookArgs),
    /// Instructor tools: `kubelab class report FILES…`.
    Class(crate::commands::class::ClassArgs),
    /// Run a command in a fresh sandbox, like a tiny `docker run`.
    Run(crate::commands::run::RunArgs),
    /// Check what this host supports for labs, with the fix for each problem.
    Doctor(crate::commands::doctor::DoctorArgs),
    /// Print one value about a sandboxed process (for check scripts).
    Inspect(crate::commands::inspect::InspectArgs),
    /// Open a lesson file or course in the reader and reload it on every save.
    Preview(crate::commands::preview::PreviewArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(crate::commands::shell_help::CompletionsArgs),
    /// Print the manual page (roff): `kubelab man | man -l -`.
    Man(crate::commands::shell_help::ManArgs),
    /// Run a node agent in the foreground: Pods from real manifests.
    Node(crate::commands::node::NodeArgs),
    /// Pods on a running `kubelab node`: apply, get, describe, logs, exec, delete, top.
    Pod(crate::commands::pod::PodArgs),
    /// kubectl's spelling of `kubelab pod` (the `kubectl` of node labs).
    #[command(hide = true, disable_help_flag = true)]
    Kubectl(crate::commands::kubectl::KubectlArgs),
    /// Lab worlds: several nodes on their own network namespaces (up, exec, shell, status, down).
    World(crate::commands::world::WorldArgs),
}

/// Why the built-in course is not available (it could not be unpacked):
/// commands that read the course stop with it (see [`dispatch`]).
static COURSE_ERROR: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Resolves the global options once: the [`Context`] handed to every
/// command.
pub fn context_from(cli: &Cli) -> Context {
    let env_course = std::env::var_os("KUBELAB_COURSE").filter(|v| !v.is_empty());
    let mut course_error = None;
    let (course_dir, builtin_course) = match (&cli.course, env_course) {
        (Some(d), _) => (d.clone(), false),
        (None, Some(d)) => (PathBuf::from(d), false),
        (None, None) => match crate::course::default_course_dir() {
            Ok(d) => (d, true),
            Err(e) => {
                course_error = Some(e);
                (PathBuf::new(), true)
            }
        },
    };
    if let Some(e) = course_error {
        let _ = COURSE_ERROR.set(e);
    }
    Context {
        course_dir,
        builtin_course,
        lang: crate::locale::resolve(cli.lang),
        data_dir_flag: cli.data_dir.clone(),
        lock_flag: cli.lock.clone().filter(|l| !l.trim().is_empty()),
        trust: cli.trust,
    }
}

/// Runs the parsed command line; returns the process exit code.
pub fn dispatch(cli: Cli) -> i32 {
    let ctx = context_from(&cli);
    crate::cluster::lab::set_context(cli.context.clone());
    let reads_course = matches!(
        cli.command,
        None | Some(
            Command::Open(_)
                | Command::List(_)
                | Command::Progress(_)
                | Command::Test(_)
                | Command::Preview(_)
        )
    );
    if let (true, Some(e)) = (reads_course, COURSE_ERROR.get()) {
        eprintln!("kubelab: error: {e}");
        return 1;
    }
    let result = match cli.command {
        None => crate::commands::open::run_reader(&ctx, None),
        Some(Command::Open(a)) => crate::commands::open::run(&ctx, a),
        Some(Command::List(a)) => crate::commands::list::run(&ctx, a),
        Some(Command::Lint(a)) => crate::commands::lint::run(&ctx, a),
        Some(Command::Progress(a)) => crate::commands::progress::run(&ctx, a),
        Some(Command::Test(a)) => crate::commands::test::run(&ctx, a),
        Some(Command::New(a)) => crate::commands::new::run(&ctx, a),
        Some(Command::Mdbook(a)) => crate::commands::mdbook::run_command(a),
        Some(Command::Class(a)) => crate::commands::class::run(&ctx, a),
        Some(Command::Run(a)) => crate::commands::run::run(&ctx, a),
        Some(Command::Doctor(a)) => crate::commands::doctor::run(&ctx, a),
        Some(Command::Inspect(a)) => crate::commands::inspect::run(&ctx, a),
        Some(Command::Preview(a)) => crate::commands::preview::run(&ctx, a),
        Some(Command::Completions(a)) => {
            crate::commands::shell_help::completions(a, Cli::command())
        }
        Some(Command::Man(a)) => crate::commands::shell_help::man(a, Cli::command()),
        Some(Command::Node(a)) => crate::commands::node::run(a),
        Some(Command::Pod(a)) => crate::commands::pod::run(a),
        Some(Command::Kubectl(a)) => crate::commands::kubectl::run(a),
        Some(Command::World(a)) => crate::commands::world::run(&ctx, a),
    };
    match result {
        Ok(code) => code,
        // `kubelab list | head`: the reader went away; that is not an error.
        Err(e)
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) =>
        {
            0
        }
        Err(e) => {
            let raw = format!("{e:#}");
            let msg = crate::sanitize::text(&raw);
            match ctx.lang {
                Lang::Zh => eprintln!("kubelab：错误：{msg}"),
                Lang::En => eprintln!("kubelab: error: {msg}"),
            }
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn global_options_anywhere() {
        let c = Cli::try_parse_from(["kubelab", "list", "--lang", "zh", "--course", "/c"]).unwrap();
        assert_eq!(c.lang, Some(Lang::Zh));
        assert_eq!(c.course.as_deref(), Some(std::path::Path::new("/c")));
        assert!(matches!(c.command, Some(Command::List(_))));
        assert!(Cli::try_parse_from(["kubelab", "--lang", "fr"]).is_err());
        let c = Cli::try_parse_from(["kubelab"]).unwrap();
        assert!(c.command.is_none());
    }

    #[test]
    fn lock_flag_reaches_the_context() {
        let cli = Cli::try_parse_from(["kubelab", "--lock", "05-process", "list"]).unwrap();
        let ctx = context_from(&cli);
        assert_eq!(ctx.lock_flag.as_deref(), Some("05-process"));
        // An empty value (e.g. KUBELAB_LOCK="" in a manifest) means no lock.
        let cli = Cli::try_parse_from(["kubelab", "--lock", " ", "list"]).unwrap();
        assert_eq!(context_from(&cli).lock_flag, None);
    }

    #[test]
    fn global_options_are_listed_apart_from_a_commands_own() {
        let mut cmd = Cli::command();
        cmd.build(); // propagates the global options to subcommands
        let run = cmd.find_subcommand_mut("run").expect("run subcommand");
        let help = run.render_help().to_string();
        let own = help.find("--memory").expect("run's own option");
        let heading = help.find("Global options:").expect("global heading");
        let global = help.find("--course").expect("global option");
        assert!(own < heading && heading < global, "{help}");
    }
}

/// `kubelab pod` and `kubelab node` as kubectl and the kubelet spell them
/// (here, not in commands/: only `cli` may know the clap definition).
#[cfg(test)]
mod pod_and_node_args {
    use crate::commands::pod::{Output, PodArgs, PodCommand};
    use std::path::{Path, PathBuf};

    fn parse(args: &[&str]) -> crate::cli::Command {
        use clap::Parser;
        crate::cli::Cli::try_parse_from(args)
            .unwrap_or_else(|e| panic!("{args:?}: {e}"))
            .command
            .expect("a command")
    }

    fn pod_cmd(args: &[&str]) -> (PodArgs, PodCommand) {
        match parse(args) {
            crate::cli::Command::Pod(a) => {
                let PodArgs {
                    state_dir,
                    namespace,
                    command,
                } = a;
                (
                    PodArgs {
                        state_dir,
                        namespace,
                        command: PodCommand::Top {},
                    },
                    command,
                )
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_pod_commands_parse_as_kubectl_spells_them() {
        let (a, c) = pod_cmd(&[
            "kubelab",
            "pod",
            "apply",
            "-f",
            "web.yaml",
            "--state-dir",
            "/s",
        ]);
        assert!(matches!(c, PodCommand::Apply { ref file } if file == Path::new("web.yaml")));
        assert_eq!(a.state_dir.as_deref(), Some(Path::new("/s")));
        assert_eq!(a.namespace, "default");
        let (_, c) = pod_cmd(&["kubelab", "pod", "get", "-o", "wide", "-w"]);
        assert!(matches!(
            c,
            PodCommand::Get {
                name: None,
                output: Some(Output::Wide),
                watch: true
            }
        ));
        let (_, c) = pod_cmd(&["kubelab", "pod", "get", "web", "-o", "yaml"]);
        assert!(
            matches!(c, PodCommand::Get { name: Some(ref n), output: Some(Output::Yaml), watch: false } if n == "web")
        );
        let (_, c) = pod_cmd(&[
            "kubelab",
            "pod",
            "logs",
            "web",
            "-c",
            "side",
            "-f",
            "--previous",
            "--tail",
            "5",
        ]);
        assert!(matches!(
            c,
            PodCommand::Logs {
                follow: true,
                previous: true,
                tail: Some(5),
                ..
            }
        ));
        let (_, c) = pod_cmd(&[
            "kubelab", "pod", "exec", "web", "-c", "main", "--", "ls", "-l", "/",
        ]);
        match c {
            PodCommand::Exec {
                name,
                container,
                stdin,
                tty,
                command,
            } => {
                assert_eq!((name.as_str(), container.as_deref()), ("web", Some("main")));
                assert_eq!(command, ["ls", "-l", "/"]);
                assert!(!stdin && !tty);
            }
            other => panic!("{other:?}"),
        }
        let (_, c) = pod_cmd(&["kubelab", "pod", "exec", "-it", "web", "--", "sh"]);
        assert!(matches!(
            c,
            PodCommand::Exec {
                stdin: true,
                tty: true,
                ..
            }
        ));
        let (a, c) = pod_cmd(&[
            "kubelab",
            "pod",
            "-n",
            "kube-system",
            "delete",
            "web",
            "--grace-period",
            "0",
        ]);
        assert!(matches!(
            c,
            PodCommand::Delete {
                grace_period: Some(0),
                ..
            }
        ));
        assert_eq!(a.namespace, "kube-system");
        assert!(matches!(
            pod_cmd(&["kubelab", "pod", "top"]).1,
            PodCommand::Top {}
        ));
        assert!(matches!(
            pod_cmd(&["kubelab", "pod", "describe", "web"]).1,
            PodCommand::Describe { .. }
        ));
        use clap::Parser;
        assert!(
            crate::cli::Cli::try_parse_from(["kubelab", "pod", "exec", "web"]).is_err(),
            "exec needs -- CMD"
        );
        assert!(crate::cli::Cli::try_parse_from(["kubelab", "pod", "get", "-o", "toml"]).is_err());
    }

    #[test]
    fn the_node_command_parses() {
        match parse(&[
            "kubelab",
            "node",
            "--manifests",
            "/m",
            "--name",
            "lab",
            "--state-dir",
            "/s",
            "--allow-host-path",
            "/srv",
            "--backoff-divisor",
            "10",
            "--pod-cidr",
            "10.99.0.0/24",
        ]) {
            crate::cli::Command::Node(a) => {
                assert_eq!(a.manifests.as_deref(), Some(Path::new("/m")));
                assert_eq!(a.name, "lab");
                assert_eq!(
                    a.allow_host_path,
                    [kubelab_node::manifest::HostPathRoot::same("/srv")]
                );
                assert_eq!(a.backoff_divisor, 10);
                assert_eq!(a.pod_cidr, "10.99.0.0/24");
                assert_eq!(a.cni_bin_dirs, [PathBuf::from("/usr/lib/cni")]);
                assert_eq!(
                    crate::commands::node::state_dir(a.state_dir),
                    PathBuf::from("/s")
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_node_takes_the_kubelets_log_rotation_flags() {
        let node = |extra: &[&str]| {
            use clap::Parser;
            let mut args = vec!["kubelab", "node"];
            args.extend_from_slice(extra);
            match crate::cli::Cli::try_parse_from(args).map(|c| c.command) {
                Ok(Some(crate::cli::Command::Node(a))) => {
                    Ok((a.container_log_max_size, a.container_log_max_files))
                }
                Ok(other) => panic!("{other:?}"),
                Err(e) => Err(e.to_string()),
            }
        };
        // The kubelet's defaults: 10Mi, 5 files.
        assert_eq!(node(&[]), Ok((10 << 20, 5)));
        assert_eq!(
            node(&[
                "--container-log-max-size",
                "512Ki",
                "--container-log-max-files",
                "2"
            ]),
            Ok((512 << 10, 2))
        );
        assert_eq!(node(&["--container-log-max-size", "1k"]), Ok((1000, 5)));
        for bad in ["0", "-1Mi", "ten"] {
            let e = node(&[&format!("--container-log-max-size={bad}")]).unwrap_err();
            assert!(e.contains("--container-log-max-size"), "{e}");
        }
        assert!(node(&["--container-log-max-files", "1"]).is_err());
    }
}
