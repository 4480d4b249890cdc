//! `kubelab --help` in Chinese: clap's text comes from the English doc
//! comments in `cli.rs`, so with `--lang zh` (or a zh locale) the command
//! is rewritten before parsing — the top-level description, section
//! headings, every subcommand's summary and the global options. A
//! subcommand's own options keep their English help (reference text for
//! authors and scripts).

use crate::course::model::Lang;
use clap::Command;

/// The UI language as far as it can be known before parsing: `--lang X`
/// or `--lang=X` among the arguments, else the locale.
pub fn early_lang(args: &[std::ffi::OsString]) -> Lang {
    let mut it = args.iter().map(|a| a.to_string_lossy());
    while let Some(a) = it.next() {
        let v = match a.strip_prefix("--lang=") {
            Some(v) => Some(v.to_string()),
            None if a == "--lang" => it.next().map(|v| v.to_string()),
            None => None,
        };
        if let Some(v) = v {
            if let Ok(l) = v.parse::<Lang>() {
                return l;
            }
        }
    }
    crate::locale::resolve(None)
}

const ABOUT: &str = "kubelab —— 在终端里学容器和 Kubernetes 的互动课程。\n\n不带子命令时打开课程阅读器（需要终端）。";

const TEMPLATE: &str = "\
{before-help}{about-with-newline}
用法: {usage}

{all-args}{after-help}";

/// Subcommand summaries, by name.
const COMMANDS: &[(&str, &str)] = &[
    ("open", "在某一课打开阅读器"),
    ("list", "打印课程目录和你的进度（纯文本，供脚本使用）"),
    ("lint", "检查课程：SUMMARY.md、front matter 和交互代码块"),
    ("progress", "查看或重置你的进度"),
    (
        "test",
        "验证每个实验：新沙箱 → 检查失败 → 参考答案 → 检查通过",
    ),
    ("new", "用模板新建一课并加入 SUMMARY.md"),
    ("mdbook", "mdBook 预处理器：把课程构建成网页版"),
    ("class", "教师工具：`kubelab class report 文件…`"),
    (
        "run",
        "在一个全新的沙箱里运行命令，像一个小小的 `docker run`",
    ),
    (
        "doctor",
        "检查本机对实验的支持情况，并给出每个问题的解决办法",
    ),
    ("inspect", "打印沙箱中某个进程的一项数据（供检查脚本使用）"),
    (
        "preview",
        "在阅读器里打开一课或一门课程，每次保存都重新加载",
    ),
    (
        "completions",
        "打印 shell 补全脚本（bash、zsh、fish、elvish、powershell）",
    ),
    ("man", "打印手册页（roff 格式）：`kubelab man | man -l -`"),
    ("node", "在前台运行一个节点代理：用真实的 Pod 清单运行 Pod"),
    (
        "pod",
        "操作运行中的 `kubelab node` 上的 Pod：apply、get、describe、logs、exec、delete、top",
    ),
    (
        "kubectl",
        "以 kubectl 的写法操作实验自己的节点上的 Pod（节点实验沙箱里的 `kubectl`）",
    ),
    ("help", "打印本帮助，或指定子命令的帮助"),
];

/// Global options, by id.
const OPTIONS: &[(&str, &str)] = &[
    ("course", "要打开的课程目录（代替内置课程）：包含 `lessons/zh` 和/或 `lessons/en`、`zh/` 和/或 `en/`，或本身就是一本书（有 book.toml）。默认：$KUBELAB_COURSE，否则用内置课程"),
    ("lang", "界面和课文的语言：zh 或 en。默认取自 LC_ALL / LC_MESSAGES / LANG（zh* → zh，否则 en）"),
    ("data_dir", "进度保存的位置。默认：$XDG_DATA_HOME/kubelab 或 ~/.local/share/kubelab"),
    ("lock", "只开放到这一课为止，让全班同步前进（也可在 book.toml 的 [preprocessor.kubelab] 下写 lock = \"id\"）"),
    ("trust", "运行 `--course` 课程的实验前不再询问（内置课程从不询问）"),
    ("context", "集群实验使用的 Kubernetes 上下文（取自 kubectl 读取的 kubeconfig：$KUBECONFIG，否则 ~/.kube/config）。默认：其中的当前上下文"),
];

/// `cmd` with Chinese help when `lang` is zh; unchanged otherwise.
pub fn localize(cmd: Command, lang: Lang) -> Command {
    if lang != Lang::Zh {
        return cmd;
    }
    let mut cmd = cmd
        .about(ABOUT)
        .long_about(ABOUT)
        .help_template(TEMPLATE)
        .next_help_heading("选项")
        .subcommand_help_heading("命令")
        .disable_help_flag(true)
        .disable_version_flag(true)
        .arg(
            clap::Arg::new("help")
                .short('h')
                .long("help")
                .action(clap::ArgAction::Help)
                .global(true)
                .help("打印帮助"),
        )
        .arg(
            clap::Arg::new("version")
                .short('V')
                .long("version")
                .action(clap::ArgAction::Version)
                .help("打印版本"),
        );
    for (id, help) in OPTIONS {
        cmd = cmd.mut_arg(*id, |a| {
            a.help(*help).long_help(*help).help_heading("全局选项")
        });
    }
    // The generated `help` subcommand, and the global options' copies in
    // each subcommand, exist only once the command is built.
    cmd.build();
    for (name, about) in COMMANDS {
        if cmd.find_subcommand(name).is_some() {
            cmd = cmd.mut_subcommand(*name, |s| s.about(*about).long_about(None::<&str>));
        }
    }
    cmd.mut_subcommands(sub_headings)
}

/// A subcommand's headings, its help flag and the global options in
/// Chinese (its own options keep their English text).
fn sub_headings(sub: Command) -> Command {
    sub.help_template(TEMPLATE)
        .subcommand_help_heading("命令")
        .mut_args(|a| {
            let id = a.get_id().as_str().to_string();
            let own = a.get_help_heading().is_none() || matches!(id.as_str(), "help" | "version");
            let a = a.help_heading(if own { "选项" } else { "全局选项" });
            match id.as_str() {
                "help" => a.help("打印帮助").long_help(None::<&str>),
                "version" => a.help("打印版本").long_help(None::<&str>),
                _ => match OPTIONS.iter().find(|(o, _)| *o == id) {
                    Some((_, h)) => a.help(*h).long_help(*h),
                    None => a,
                },
            }
        })
        .mut_subcommands(sub_headings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_chinese_help_names_every_command_and_global_option_in_chinese() {
        let mut cmd = localize(crate::cli::Cli::command(), Lang::Zh);
        let help = cmd.render_long_help().to_string();
        let hidden = |name: &str| {
            crate::cli::Cli::command()
                .find_subcommand(name)
                .is_some_and(|s| s.is_hide_set())
        };
        for (name, about) in COMMANDS.iter().filter(|(n, _)| !hidden(n)) {
            assert!(
                help.contains(name) && help.contains(about),
                "{name}:\n{help}"
            );
        }
        for (_, text) in OPTIONS {
            // Wrapped to the terminal width: compare without line breaks.
            let flat: String = help.split_whitespace().collect();
            let want: String = text.split_whitespace().collect();
            assert!(flat.contains(&want), "{text}:\n{help}");
        }
        for english in [
            "Usage:",
            "Commands:",
            "Options:",
            "Global options:",
            "Print ",
        ] {
            assert!(!help.contains(english), "{english:?} left:\n{help}");
        }
        // Every subcommand is covered (a new one must get a Chinese line).
        for sub in crate::cli::Cli::command().get_subcommands() {
            assert!(
                COMMANDS.iter().any(|(n, _)| *n == sub.get_name()),
                "no Chinese summary for `{}`",
                sub.get_name()
            );
        }
    }

    #[test]
    fn a_subcommand_help_has_chinese_headings() {
        let mut cmd = localize(crate::cli::Cli::command(), Lang::Zh);
        let list = cmd.find_subcommand_mut("list").unwrap();
        let help = list.render_long_help().to_string();
        for zh in ["用法:", "选项:", "全局选项:", "打印帮助", "进度保存的位置"] {
            assert!(help.contains(zh), "{zh:?} missing:\n{help}");
        }
        assert!(
            !help.contains("Usage:") && !help.contains("Print help"),
            "{help}"
        );
    }

    #[test]
    fn the_language_is_known_before_parsing() {
        let a = |v: &[&str]| v.iter().map(std::ffi::OsString::from).collect::<Vec<_>>();
        assert_eq!(
            early_lang(&a(&["kubelab", "--lang", "zh", "--help"])),
            Lang::Zh
        );
        assert_eq!(early_lang(&a(&["kubelab", "--lang=en", "list"])), Lang::En);
    }
}
