//! Pane text in the UI language (the same scheme as `crate::i18n`: one
//! static table per language). `{name}` in a template is filled by [`fill`].
//!
//! Notes that come from the sandbox side (why a pane has no data) are made
//! from the English templates here and translated when drawn by [`note`],
//! gettext-style: the English text is the key, so a note this table does not
//! know is shown as it is.

use crate::course::model::Lang;
use crate::panes::kind::PaneKind;

/// Every user-visible string of the panes.
#[derive(Debug)]
pub struct PaneText {
    pub lang: Lang,
    // Shell pane.
    pub shell: &'static str,
    pub f6_leaves: &'static str,
    /// The `?` help row of F8 in a lab with several shells (a world's
    /// nodes).
    pub help_next_shell: (&'static str, &'static str),
    /// `{n}`: lines scrolled back.
    pub scrolled: &'static str,
    /// `{code}`: the exit code.
    pub exited: &'static str,
    /// `{e}`: the error.
    pub terminal_error: &'static str,
    pub press_enter_to_start: &'static str,
    pub starting: &'static str,
    /// `{e}`: the error.
    pub cannot_start: &'static str,
    // Lab.
    /// `{e}`: the error.
    pub sandbox_failed: &'static str,
    pub stopped: &'static str,
    pub panes: &'static str,
    pub no_sandbox: &'static str,
    /// `{name}`: the sandbox name.
    pub no_sandbox_named: &'static str,
    pub not_trusted_yet: &'static str,
    pub nothing_to_run_in: &'static str,
    /// `{name}`: the sandbox name.
    pub no_shell_for: &'static str,
    pub nothing_to_reset: &'static str,
    pub resetting: &'static str,
    /// `{e}`: the error.
    pub cannot_copy: &'static str,
    pub copied: &'static str,
    // Inspector names (tabs), in [`PaneKind`] order.
    pub kinds: [&'static str; PaneKind::ALL.len()],
    // Inspector bodies.
    pub ns_head: [&'static str; 3],
    pub isolated: &'static str,
    pub shared: &'static str,
    pub proc_head: [&'static str; 3],
    pub nested_pid: &'static str,
    pub no_limit: &'static str,
    pub no_quota: &'static str,
    /// `{used}`, `{limit}`.
    pub memory: &'static str,
    /// `{used}`, `{quota}`.
    pub cpu: &'static str,
    /// `{pct}`.
    pub throttled: &'static str,
    /// `{n}`, `{max}`.
    pub pids: &'static str,
    /// Under the why-sentence of a sandbox without limits: what the figures
    /// below are.
    pub usage_without_limits: &'static str,
    /// A `needs=limits` run block refused (one status-bar line at 80
    /// columns; the why is in the cgroup pane and the check).
    pub refused_without_limits: &'static str,
    /// `{n}`, `{peak}`.
    pub oom_kills: &'static str,
    /// `{pid}`, `{name}`, `{at}`.
    pub oom_victim: &'static str,
    /// `{at}`.
    pub oom_unknown: &'static str,
    /// `{event}`: the OOM event line.
    pub oom_ended: &'static str,
    pub mounts_inside: &'static str,
    pub overlay_upper: &'static str,
    pub upper_empty: &'static str,
    pub whiteout: &'static str,
    pub opaque: &'static str,
    /// The network pane's own words.
    pub net: &'static crate::panes::inspect::net::text::NetText,
    // Trust prompt.
    pub trust_title: &'static str,
    /// `{path}`.
    pub trust_from: &'static str,
    pub trust_allowed: &'static str,
    /// `{name}`.
    pub trust_sandbox: &'static str,
    pub trust_answer: &'static str,
    /// The answer keys when the course runs something on the host.
    pub trust_answer_host: &'static str,
    pub trust_changed: &'static str,
    pub trust_no_host_now: &'static str,
    /// Heading of the host part.
    pub trust_on_host: &'static str,
    /// `{lesson}`, `{id}`, `{line}`.
    pub trust_host_check: &'static str,
    /// `{lesson}`, `{name}`, `{src}`, `{dst}`.
    pub trust_host_writes: &'static str,
    /// A world lab's nodes: shells and checks there see the host's files.
    pub trust_host_world: &'static str,
    /// A world lab after "sandboxes only": not started, and why.
    pub world_declined: &'static str,
    pub trust_declined: &'static str,
    pub trust_still_works: &'static str,
    /// A host check's result after "sandboxes only".
    pub host_declined: &'static str,
    /// `{list}`.
    pub own_namespaces: &'static str,
    /// `{rootfs}`.
    pub root_fs: &'static str,
    /// `{src}`, `{dst}`.
    pub reads_host: &'static str,
    /// `{src}`, `{dst}` (shown in red: starts with a warning word).
    pub writes_host: &'static str,
    /// `{dst}`.
    pub scratch_tmpfs: &'static str,
    /// `{mem}`, `{cpu}`, `{pids}`.
    pub limits: &'static str,
    /// `{n}`.
    pub cores: &'static str,
    pub privileged: &'static str,
    /// `{cmd}`.
    pub runs: &'static str,
    /// Observer notes: (English template, this language's template). The
    /// English ones are what [`Note`] builds.
    notes: &'static [(&'static str, &'static str)],
}

/// Notes the observer builds (English keys of [`PaneText::notes`]).
pub struct Note;

impl Note {
    pub const GONE: &'static str = "the sandbox is gone (its PID 1 exited)";
    pub const CGROUP_GONE: &'static str = "the sandbox has ended (its cgroup is gone)";
    pub const NO_MOUNTS: &'static str = "cannot read the sandbox's mount table: {e}";
    pub const NO_OVERLAY: &'static str =
        "no overlay: the sandbox shares the host's mount namespace";
    pub const NO_UPPER: &'static str = "cannot list the overlay upper dir: {e}";
    pub const NO_NETNS: &'static str =
        "no network namespace: the sandbox shares the host's network";
    pub const NO_NET: &'static str = "cannot read the sandbox's network: {e}";
}

static EN: PaneText = PaneText {
    lang: Lang::En,
    shell: "shell",
    f6_leaves: "· F6 leaves ",
    help_next_shell: ("F8", "show the next node's shell (lab worlds)"),
    scrolled: "· scrolled {n} ",
    exited: "exited (code {code}) — press Enter to restart",
    terminal_error: "terminal error: {e} — press Enter to restart",
    press_enter_to_start: "press Enter to start the shell",
    starting: "starting…",
    cannot_start: "cannot start: {e} — press Enter to retry",
    sandbox_failed: "sandbox failed to start: {e}",
    stopped: "stopped",
    panes: "panes",
    no_sandbox: "this lesson has no sandbox",
    no_sandbox_named: "no sandbox `{name}` in the front matter",
    not_trusted_yet:
        "this course is not trusted yet: Tab to the panes and press y to allow its sandbox",
    nothing_to_run_in: "this lesson has no sandbox to run commands in",
    no_shell_for: "no shell pane for sandbox `{name}`: add \"shell\" to the lesson's panes",
    nothing_to_reset: "this lesson has no sandbox to reset",
    resetting: "starting a fresh sandbox…",
    cannot_copy: "cannot copy: {e}",
    copied: "copied to the clipboard (OSC 52; in tmux: set -g set-clipboard on)",
    kinds: [
        "shell",
        "namespaces",
        "processes",
        "cgroup",
        "filesystem",
        "network",
        "objects",
        "Pods",
    ],
    ns_head: ["type", "host", "sandbox"],
    isolated: "isolated",
    shared: "shared",
    proc_head: ["HOST PID", "PID", "COMMAND"],
    nested_pid: "(PID›n: n in a nested PID namespace)",
    no_limit: "no limit",
    no_quota: "no quota",
    memory: "memory {used} / {limit}",
    cpu: "cpu {used} / {quota} cores",
    throttled: "  throttled {pct}%",
    pids: "pids {n} / {max}",
    usage_without_limits: "Usage of the sandbox's processes, unlimited:",
    refused_without_limits: "Not run: it needs cgroup limits, off here; the cgroup pane says why",
    oom_kills: "OOM kills {n}   peak {peak}",
    oom_victim: "OOM: pid {pid} ({name}) killed at {at}",
    oom_unknown: "OOM: a process was killed at {at}",
    oom_ended: "the kernel's OOM killer ended the sandbox — {event}",
    mounts_inside: "mounts inside",
    overlay_upper: "overlay upper (writes land here)",
    upper_empty: "(empty: nothing written yet)",
    whiteout: "whiteout: deleted",
    opaque: "opaque dir",
    net: &crate::panes::inspect::net::text::EN,
    trust_title: " run this lesson's sandbox? ",
    trust_from: "{path} comes from a course that is not built in.",
    trust_allowed: "Its sandboxes will be allowed to:",
    trust_sandbox: "sandbox {name}",
    trust_answer: "y: allow this course (remembered for its folder)   n: read without running (kubelab --trust skips this)",
    trust_answer_host: "y: allow all  s: sandboxes only  n: just read  (↑↓ scroll)",
    trust_changed: "This course changed since you answered; new or changed (+):",
    trust_no_host_now: "  it no longer runs anything on your machine",
    trust_on_host: "ON YOUR MACHINE, outside any sandbox, as you (root under sudo):",
    trust_host_check: "  {lesson}: check {id} (line {line}) runs",
    trust_host_writes: "  {lesson}: sandbox {name} CAN WRITE your {src} (at {dst})",
    world_declined: "lab world not started: you allowed sandboxes only",
    trust_host_world: "  {lesson}: lab world (nodes {nodes}): its shells and {n} check(s) run AS YOU on your files (a world isolates networks, not files)",
    trust_declined: "You declined this course's lab: no sandbox starts and nothing runs on your machine.",
    trust_still_works: "Reading, hints, solutions and quizzes still work. Tab here and press y to allow it after all.",
    host_declined: "not run: you declined host commands",
    own_namespaces: "own namespaces: {list}",
    root_fs: "root filesystem: {rootfs} (writes go to a throw-away layer)",
    reads_host: "reads host {src} at {dst}",
    writes_host: "CAN WRITE host {src} (at {dst})",
    scratch_tmpfs: "scratch tmpfs at {dst}",
    limits: "limits: memory {mem}, cpu {cpu}, pids {pids}",
    cores: "{n} cores",
    privileged: "all capabilities inside its user namespace (still not host root)",
    runs: "runs: {cmd}",
    notes: &[],
};

static ZH: PaneText = PaneText {
    lang: Lang::Zh,
    shell: "终端",
    f6_leaves: "· F6 返回课文 ",
    help_next_shell: ("F8", "显示下一个节点的终端（实验世界）"),
    scrolled: "· 已上翻 {n} 行 ",
    exited: "已退出（退出码 {code}）— 按 Enter 重新启动",
    terminal_error: "终端出错：{e} — 按 Enter 重新启动",
    press_enter_to_start: "按 Enter 启动终端",
    starting: "正在启动…",
    cannot_start: "无法启动：{e} — 按 Enter 重试",
    sandbox_failed: "沙箱启动失败：{e}",
    stopped: "已停止",
    panes: "面板",
    no_sandbox: "本课没有沙箱",
    no_sandbox_named: "front matter 中没有名为 `{name}` 的沙箱",
    not_trusted_yet: "尚未信任此课程：按 Tab 进入面板，按 y 允许运行它的沙箱",
    nothing_to_run_in: "本课没有可以运行命令的沙箱",
    no_shell_for: "沙箱 `{name}` 没有终端面板：请在课程的 panes 中加入 \"shell\"",
    nothing_to_reset: "本课没有可以重置的沙箱",
    resetting: "正在启动一个全新的沙箱…",
    cannot_copy: "无法复制：{e}",
    copied: "已复制到剪贴板（OSC 52；tmux 中需 set -g set-clipboard on）",
    kinds: [
        "终端",
        "命名空间",
        "进程",
        "cgroup",
        "文件系统",
        "网络",
        "对象",
        "Pod",
    ],
    ns_head: ["类型", "宿主机", "沙箱"],
    isolated: "已隔离",
    shared: "共享",
    proc_head: ["宿主PID", "PID", "命令"],
    nested_pid: "(PID›n：n 是嵌套 PID 命名空间中的编号)",
    no_limit: "不限",
    no_quota: "不限",
    memory: "内存 {used} / {limit}",
    cpu: "CPU {used} / {quota} 核",
    throttled: "  节流 {pct}%",
    pids: "进程数 {n} / {max}",
    usage_without_limits: "沙箱里各进程的用量（没有上限）：",
    refused_without_limits: "没有运行：它需要 cgroup 限制，本机没有；cgroup 面板会说明原因",
    oom_kills: "OOM 次数 {n}   峰值 {peak}",
    oom_victim: "OOM：pid {pid}（{name}）在 {at} 时被杀死",
    oom_unknown: "OOM：一个进程在 {at} 时被杀死",
    oom_ended: "内核的 OOM killer 结束了沙箱 — {event}",
    mounts_inside: "沙箱内的挂载",
    overlay_upper: "overlay 上层（写入落在这里）",
    upper_empty: "（空：还没有写入任何文件）",
    whiteout: "whiteout：已删除",
    opaque: "不透明目录",
    net: &crate::panes::inspect::net::text::ZH,
    trust_title: " 运行本课的沙箱？ ",
    trust_from: "{path} 来自一个非内置的课程。",
    trust_allowed: "它的沙箱将被允许：",
    trust_sandbox: "沙箱 {name}",
    trust_answer:
        "y：信任此课程（按课程目录记住）   n：只阅读不运行（kubelab --trust 可跳过此问题）",
    trust_answer_host: "y：全部允许  s：只允许沙箱  n：只阅读（↑↓ 滚动）",
    trust_changed: "自你上次回答后此课程有改动；新增或改动的（+）：",
    trust_no_host_now: "  它不再在你的机器上运行任何东西",
    trust_on_host: "在你的机器上、任何沙箱之外，以你的身份（sudo 下为 root）：",
    trust_host_check: "  {lesson}：检查 {id}（第 {line} 行）运行",
    trust_host_writes: "  {lesson}：沙箱 {name} 可以写入你的 {src}（挂在 {dst}）",
    world_declined: "实验世界未启动：你只允许了沙箱",
    trust_host_world: "  {lesson}：实验世界（节点 {nodes}）：其中的 shell 和 {n} 个检查以你的身份运行，能访问你的文件（世界只隔离网络，不隔离文件）",
    trust_declined: "你拒绝了本课程的实验：不启动沙箱，也不在你的机器上运行任何东西。",
    trust_still_works: "阅读、提示、参考答案和小测验照常可用。按 Tab 到这里再按 y 即可改为允许。",
    host_declined: "未运行：你拒绝了宿主机命令",
    own_namespaces: "独立的命名空间：{list}",
    root_fs: "根文件系统：{rootfs}（写入进入一个用后即弃的层）",
    reads_host: "读取宿主机的 {src}（挂在 {dst}）",
    writes_host: "可以写入宿主机的 {src}（挂在 {dst}）",
    scratch_tmpfs: "临时 tmpfs 挂在 {dst}",
    limits: "限制：内存 {mem}，CPU {cpu}，进程数 {pids}",
    cores: "{n} 核",
    privileged: "在它的用户命名空间内拥有全部 capability（仍不是宿主机 root）",
    runs: "运行：{cmd}",
    notes: &[
        (Note::GONE, "沙箱已结束（它的 PID 1 已退出）"),
        (Note::CGROUP_GONE, "沙箱已结束（它的 cgroup 已被删除）"),
        (Note::NO_MOUNTS, "无法读取沙箱的挂载表：{e}"),
        (
            Note::NO_OVERLAY,
            "没有 overlay：沙箱与宿主机共享挂载命名空间",
        ),
        (Note::NO_UPPER, "无法列出 overlay 上层目录：{e}"),
        (Note::NO_NETNS, "没有网络命名空间：沙箱与宿主机共享网络"),
        (Note::NO_NET, "无法读取沙箱的网络：{e}"),
    ],
};

/// The pane strings for `lang`.
pub fn text(lang: Lang) -> &'static PaneText {
    match lang {
        Lang::Zh => &ZH,
        Lang::En => &EN,
    }
}

/// Replaces each `{key}` in `template` with its value.
pub fn fill(template: &str, values: &[(&str, &dyn std::fmt::Display)]) -> String {
    let mut out = template.to_string();
    for (k, v) in values {
        out = out.replace(&format!("{{{k}}}"), &v.to_string());
    }
    out
}

impl PaneText {
    /// The display name of an inspector/shell kind.
    pub fn kind(&self, k: PaneKind) -> &'static str {
        self.kinds[k as usize]
    }

    /// Why a sandbox runs without limits and how to turn them on, from the
    /// engine's note, in this language.
    pub fn limits_off(&self, note: &str) -> &'static str {
        crate::limits_off::Why::of(note).sentence(self.lang)
    }

    /// Translates a note built from a [`Note`] template: the template's
    /// fixed text is matched, its `{…}` part is kept (and translated too
    /// when it is itself a known note).
    pub fn note(&'static self, msg: &str) -> String {
        for (en, local) in self.notes {
            if *en == msg {
                return local.to_string();
            }
            if let Some((pre, post)) = en.split_once('{') {
                let post = post.split_once('}').map_or("", |(_, p)| p);
                if let Some(mid) = msg
                    .strip_prefix(pre)
                    .and_then(|m| m.strip_suffix(post))
                    .filter(|_| msg.len() >= pre.len() + post.len())
                {
                    let hole = &en[pre.len() + 1..en.len() - post.len() - 1];
                    let inner = self.note(mid);
                    return local.replace(&format!("{{{hole}}}"), &inner);
                }
            }
        }
        msg.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_translate_with_their_details_kept() {
        let zh = text(Lang::Zh);
        let why = fill(Note::NO_MOUNTS, &[("e", &Note::GONE)]);
        assert_eq!(
            zh.note(&why),
            "无法读取沙箱的挂载表：沙箱已结束（它的 PID 1 已退出）"
        );
        let e = fill(Note::NO_MOUNTS, &[("e", &"EACCES")]);
        assert_eq!(zh.note(&e), "无法读取沙箱的挂载表：EACCES");
        assert_eq!(zh.note("something else"), "something else");
        assert_eq!(text(Lang::En).note(&why), why);
    }

    #[test]
    fn both_languages_fill_the_same_holes() {
        let holes = |s: &str| {
            let mut v: Vec<String> = s
                .split('{')
                .skip(1)
                .filter_map(|p| p.split_once('}').map(|(h, _)| h.to_string()))
                .collect();
            v.sort();
            v
        };
        let pairs = [
            (EN.exited, ZH.exited),
            (EN.memory, ZH.memory),
            (EN.cpu, ZH.cpu),
            (EN.oom_victim, ZH.oom_victim),
            (EN.oom_ended, ZH.oom_ended),
            (EN.limits, ZH.limits),
            (EN.refused_without_limits, ZH.refused_without_limits),
            (EN.trust_from, ZH.trust_from),
            (EN.writes_host, ZH.writes_host),
            (EN.no_shell_for, ZH.no_shell_for),
        ];
        for (en, zh) in pairs {
            assert_eq!(holes(en), holes(zh), "{en} / {zh}");
        }
        for (en, zh) in ZH.notes {
            assert_eq!(holes(en), holes(zh), "{en} / {zh}");
        }
    }
}
