//! UI strings in Chinese and English. Lesson text has its own language; this
//! is only the chrome around it.

use crate::locale::Lang;

/// Every user-visible UI string.
#[derive(Debug)]
pub struct Strings {
    pub outline: &'static str,
    pub draft: &'static str,
    /// `{want}` and `{shown}` are replaced by language names.
    pub fallback_note: &'static str,
    pub lang_names: [&'static str; 2],
    pub help_title: &'static str,
    pub help_close: &'static str,
    pub search_title: &'static str,
    pub search_prompt: &'static str,
    pub search_none: &'static str,
    pub search_hint: &'static str,
    pub too_small: &'static str,
    pub too_small_hint: &'static str,
    pub error_title: &'static str,
    pub error_hint: &'static str,
    /// The error page's hint in `kubelab preview`, which reloads on save.
    pub error_hint_preview: &'static str,
    pub draft_page: &'static str,
    pub status_help: &'static str,
    /// The status bar's keys while a shell has the focus: every other key
    /// goes to the shell, so only the way back is listed.
    pub status_shell_focus: &'static str,
    /// The status bar's keys while an inspector alone on show has the focus.
    pub status_inspector_focus: &'static str,
    /// The reading position in the status bar (not how much is done); `{p}`.
    pub status_position: &'static str,
    pub run_label: &'static str,
    pub run_hint: &'static str,
    pub check_label: &'static str,
    pub check_pending: &'static str,
    pub check_pass: &'static str,
    pub check_fail: &'static str,
    /// A check that passed before (saved) but not in this sandbox; `{date}`.
    pub check_done_earlier: &'static str,
    pub check_sandbox_fresh: &'static str,
    /// A `needs=limits` check of a sandbox without cgroup limits: skipped.
    pub check_unavailable: &'static str,
    /// A two-track lesson's cluster-track check while no cluster answers.
    pub check_track_skipped: &'static str,
    /// Enter on such a check (instead of a hint that would send the learner
    /// to redo what cannot work here).
    pub check_unavailable_enter: &'static str,
    /// The UI language (for texts chosen by language, not by field).
    pub lang: Lang,
    pub hint_label: &'static str,
    pub solution_label: &'static str,
    pub solution_hidden: &'static str,
    pub quiz_label: &'static str,
    /// `{keys}` is replaced by the quiz's letters ("a/b/c").
    pub quiz_hint: &'static str,
    pub quiz_correct: &'static str,
    pub quiz_wrong: &'static str,
    pub links: &'static str,
    pub run_unavailable: &'static str,
    pub empty_course: &'static str,
    /// GFM alert names: note, tip, important, warning, caution.
    pub alerts: [&'static str; 5],
    /// Help overlay footer when it scrolls.
    pub help_scroll: &'static str,
    /// Status line when `o` finds no link in the lesson.
    pub no_links: &'static str,
    /// Status bar after a corrupt progress file was moved aside;
    /// `{reason}`, `{to}`.
    pub progress_moved: &'static str,
    /// At start-up, the data directory cannot be written; `{dir}`, `{why}`.
    pub data_dir_unwritable: &'static str,
    /// The reader refuses a terminal that cannot draw it (TERM=dumb).
    pub dumb_terminal: &'static str,
    /// `R` asks before the lab's sandboxes are thrown away.
    pub reset_confirm: &'static str,
    pub reset_kept: &'static str,
    /// (key, description) pairs for the help overlay, in display order.
    pub keys: &'static [(&'static str, &'static str)],
}

static ZH: Strings = Strings {
    outline: "目录",
    draft: "（草稿）",
    fallback_note: "本课暂无{want}版，显示{shown}版",
    lang_names: ["中文", "英文"],
    help_title: "按键帮助",
    help_close: "? 或 Esc 关闭 · q 退出",
    search_title: "搜索全部课程",
    search_prompt: "搜索：",
    search_none: "没有匹配的结果",
    search_hint: "↑↓ 选择 · Enter 跳转 · Esc 取消",
    too_small: "终端太窄",
    too_small_hint: "请把窗口加宽到至少 40 列",
    error_title: "这一课无法加载",
    error_hint: "修正文件后重新打开 kubelab；运行 kubelab lint 可查看全部问题。",
    error_hint_preview: "修正文件并保存：预览会自动重新加载；kubelab lint 可查看全部问题。",
    draft_page: "这一章还在写作中。",
    status_help: "? 帮助 · / 搜索 · q 退出",
    status_shell_focus: "按键发往终端 · F6 回到课文",
    status_position: "位置 {p}%",
    status_inspector_focus: "j/k 滚动 · Esc 或 F6 回到课文",
    run_label: "▶ 运行",
    run_hint: "Enter 发送到终端",
    check_label: "检查",
    check_pending: "○ 尚未检查",
    check_pass: "✓ 已完成",
    check_fail: "✗ 未完成",
    check_done_earlier: "✓ 之前已完成 · {date}",
    check_sandbox_fresh: "沙箱是新的 — 重做一遍可以实时看到结果",
    check_unavailable: "– 本机无法完成，已跳过",
    check_track_skipped: "– 集群轨道，已跳过",
    check_unavailable_enter: "这一项需要 cgroup 限制，本机没有：已记为跳过，接着往下读即可",
    lang: Lang::Zh,
    hint_label: "提示：",
    solution_label: "参考答案",
    solution_hidden: "已隐藏 — 选中后按 Enter 显示",
    quiz_label: "小测验",
    quiz_hint: "选中后按 {keys} 作答",
    quiz_correct: "✓ 回答正确",
    quiz_wrong: "✗ 不对，正确答案是",
    links: "链接",
    run_unavailable: "运行功能尚未接入（实时面板）",
    empty_course: "课程为空",
    alerts: ["注意", "提示", "重要", "警告", "小心"],
    help_scroll: "j/k 滚动 · ? 或 Esc 关闭 · q 退出",
    no_links: "本课没有链接",
    progress_moved: "进度文件已移到 {to}，进度从头开始（原因：{reason}）",
    dumb_terminal: "kubelab：这个终端（TERM=dumb）无法显示阅读器。请在完整的终端（如 xterm、GNOME 终端、tmux）里运行；要纯文本的课程目录，用 `kubelab list`。",
    reset_confirm: "重置沙箱？在沙箱里做的一切都会丢失（y 重置 / n 取消）",
    reset_kept: "沙箱未重置",
    data_dir_unwritable:
        "进度不会保存：数据目录无法写入，请退出后用 --data-dir 指定可写目录（{dir}：{why}）",
    keys: &[
        ("j / ↓", "向下滚动一行"),
        ("k / ↑", "向上滚动一行"),
        ("PgDn / Space", "向下翻页"),
        ("PgUp / b", "向上翻页"),
        ("Ctrl-D / Ctrl-U", "向下 / 向上翻页"),
        ("g / Home", "跳到开头"),
        ("G / End", "跳到结尾"),
        ("n / p", "下一课 / 上一课"),
        ("] / [", "选中下一个 / 上一个互动块"),
        ("Enter", "运行代码块、显示答案、打开目录项"),
        ("a–d", "回答选中的小测验"),
        ("o / O", "下一个 / 上一个链接（状态栏显示完整网址）"),
        ("t", "显示 / 隐藏目录栏"),
        ("/", "搜索全部课程"),
        ("Tab / Shift-Tab", "切换焦点（目录、正文、面板）"),
        ("F6 / F7", "离开终端面板 / 切换检查面板"),
        ("R / y", "重置沙箱 / 复制代码块（OSC 52）"),
        ("鼠标", "滚轮滚动，点击选择"),
        ("Ctrl-Z", "挂起（fg 恢复）"),
        ("?", "显示 / 关闭本帮助"),
        ("q / Ctrl-C", "退出"),
    ],
};

static EN: Strings = Strings {
    outline: "Outline",
    draft: "(draft)",
    fallback_note: "Not available in {want} yet: showing the {shown} version",
    lang_names: ["Chinese", "English"],
    help_title: "Keys",
    help_close: "? or Esc close · q quit",
    search_title: "Search all lessons",
    search_prompt: "Search: ",
    search_none: "no matches",
    search_hint: "↑↓ select · Enter jump · Esc cancel",
    too_small: "Terminal too small",
    too_small_hint: "Make the window at least 40 columns wide",
    error_title: "This lesson could not be loaded",
    error_hint: "Fix the file and reopen kubelab; `kubelab lint` lists every problem.",
    error_hint_preview:
        "Fix the file and save: preview reloads it; `kubelab lint` lists every problem.",
    draft_page: "This chapter is not written yet.",
    status_help: "? help · / search · q quit",
    status_shell_focus: "keys go to the terminal · F6 back to the lesson",
    status_position: "at {p}%",
    status_inspector_focus: "j/k scroll · Esc or F6 back to the lesson",
    run_label: "▶ run",
    run_hint: "Enter sends it to the shell",
    check_label: "check",
    check_pending: "○ not checked yet",
    check_pass: "✓ done",
    check_fail: "✗ not yet",
    check_done_earlier: "✓ done earlier · {date}",
    check_sandbox_fresh: "the sandbox is fresh — redo to see it live",
    check_unavailable: "– not available on this machine, skipped",
    check_track_skipped: "– cluster track, skipped",
    check_unavailable_enter: "This needs cgroup limits, which this machine lacks: skipped, read on",
    lang: Lang::En,
    hint_label: "Hint: ",
    solution_label: "Solution",
    solution_hidden: "hidden — focus it and press Enter to reveal",
    quiz_label: "Quiz",
    quiz_hint: "focus it and answer with {keys}",
    quiz_correct: "✓ correct",
    quiz_wrong: "✗ not quite, the answer is",
    links: "Links",
    run_unavailable: "running blocks is not wired up yet (live panes)",
    empty_course: "The course is empty",
    alerts: ["Note", "Tip", "Important", "Warning", "Caution"],
    help_scroll: "j/k scroll · ? or Esc close · q quit",
    no_links: "this lesson has no links",
    progress_moved: "progress file {reason}: moved to {to}; progress starts fresh",
    dumb_terminal: "kubelab: this terminal (TERM=dumb) cannot show the reader. Run it in a full terminal (xterm, GNOME Terminal, tmux…); for the course outline as plain text use `kubelab list`.",
    reset_confirm: "Reset the sandbox? Everything done in it is lost (y reset / n cancel)",
    reset_kept: "sandbox not reset",
    data_dir_unwritable:
        "progress won't be saved: data dir not writable; use --data-dir DIR ({dir}: {why})",
    keys: &[
        ("j / ↓", "scroll down one line"),
        ("k / ↑", "scroll up one line"),
        ("PgDn / Space", "page down"),
        ("PgUp / b", "page up"),
        ("Ctrl-D / Ctrl-U", "page down / up"),
        ("g / Home", "go to the top"),
        ("G / End", "go to the end"),
        ("n / p", "next / previous lesson"),
        ("] / [", "focus next / previous interactive block"),
        ("Enter", "run block, reveal solution, open outline entry"),
        ("a–d", "answer the focused quiz"),
        (
            "o / O",
            "next / previous link (full URL in the status line)",
        ),
        ("t", "show / hide the outline column"),
        ("/", "search all lessons"),
        ("Tab / Shift-Tab", "move focus (outline, lesson, panes)"),
        ("F6 / F7", "leave the shell pane / next inspector pane"),
        ("R / y", "reset the sandbox / copy a run block (OSC 52)"),
        ("mouse", "wheel scrolls, click selects"),
        ("Ctrl-Z", "suspend (fg resumes)"),
        ("?", "show / hide this help"),
        ("q / Ctrl-C", "quit"),
    ],
};

impl Strings {
    /// Name of a language in this UI language.
    pub fn lang_name(&self, lang: Lang) -> &'static str {
        match lang {
            Lang::Zh => self.lang_names[0],
            Lang::En => self.lang_names[1],
        }
    }

    /// "Not available in X: showing Y".
    pub fn fallback(&self, want: Lang, shown: Lang) -> String {
        self.fallback_note
            .replace("{want}", self.lang_name(want))
            .replace("{shown}", self.lang_name(shown))
    }
}

/// The UI strings for `lang`.
pub fn strings(lang: Lang) -> &'static Strings {
    match lang {
        Lang::Zh => &ZH,
        Lang::En => &EN,
    }
}

/// UI language from the environment: `LC_ALL`, then `LC_MESSAGES`, then
/// `LANG`; `zh*` means Chinese, anything else English.
pub fn lang_from_env() -> Lang {
    for var in ["LC_ALL", "LC_MESSAGES", "LANG"] {
        if let Ok(v) = std::env::var(var) {
            if v.is_empty() {
                continue;
            }
            return if v.to_ascii_lowercase().starts_with("zh") {
                Lang::Zh
            } else {
                Lang::En
            };
        }
    }
    Lang::En
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_languages_list_the_same_keys() {
        assert_eq!(ZH.keys.len(), EN.keys.len());
        for (z, e) in ZH.keys.iter().zip(EN.keys) {
            assert_eq!(z.0.replace("鼠标", "mouse"), e.0);
        }
    }

    #[test]
    fn chinese_ui_says_shaxiang() {
        let all = format!("{ZH:?}");
        assert!(!all.contains("沙盒"), "use 沙箱, not 沙盒");
    }
}
