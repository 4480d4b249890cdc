use super::*;
use serde_json::json;

#[test]
fn labels_follow_language() {
    assert_eq!(Labels::for_language("zh-CN"), Labels::ZH);
    assert_eq!(Labels::for_language("zh"), Labels::ZH);
    assert_eq!(Labels::for_language("en"), Labels::EN);
    assert_eq!(Labels::for_language(""), Labels::EN);
}

#[test]
fn zh_labels_use_full_width_punctuation() {
    let zh = Labels::ZH;
    for label in [
        zh.run,
        zh.verify,
        zh.verify_untitled,
        zh.hint,
        zh.solution,
        zh.show_answer,
        zh.answer,
        zh.open,
        zh.close,
        zh.answer_end,
        zh.banner_lead,
        zh.banner_before,
        zh.banner_after,
    ] {
        assert!(
            !label.contains([':', '(', ')', ',', ';']),
            "ASCII punctuation in zh label {label:?}"
        );
    }
}

#[test]
fn code_fence_outgrows_backticks_in_code() {
    assert_eq!(code_fence("sh", "echo hi\n"), "```sh\necho hi\n```");
    assert_eq!(code_fence("md", "````\n"), "`````md\n````\n`````");
}

fn quiz() -> Quiz {
    Quiz {
        id: "q1".into(),
        question: "Which PID does the \"first\" process see?".into(),
        choices: vec!["0".into(), "1".into(), "<host pid>".into()],
        answer: 1,
        explain: Some("It is PID 1 in its namespace.".into()),
        line: 3,
    }
}

#[test]
fn quiz_renders_letters_and_hidden_answer() {
    let out = render_quiz(&quiz(), &Labels::EN);
    // No "Quiz:" label: the lessons' quizzes sit under a Quiz heading.
    assert!(!out.contains("Quiz\\:") && !out.contains("Quiz:"), "{out}");
    assert!(
        out.contains("**Which PID does the \"first\" process see\\?**"),
        "{out}"
    );
    assert!(
        out.contains("- **A.** 0\n- **B.** 1\n- **C.** \\<host pid\\>"),
        "{out}"
    );
    assert!(
        out.contains(
            "<details class=\"kubelab-quiz-answer\" data-answer=\"B\" data-pagefind-ignore>\n<summary>Show the answer</summary>"
        ),
        "{out}"
    );
    assert!(
        out.contains("<strong>Answer: B.</strong> 1\n\nIt is PID 1"),
        "{out}"
    );
    // The answer is only inside the collapsed element.
    let before = &out[..out.find("<details").unwrap()];
    assert!(!before.contains("It is PID 1"), "{out}");
}

#[test]
fn zh_quiz_answer_is_full_width() {
    let out = render_quiz(&quiz(), &Labels::ZH);
    assert!(out.contains("<strong>答案：B。</strong>1"), "{out}");
    assert!(out.contains("<summary>查看答案</summary>"), "{out}");
}

#[test]
fn plain_text_is_literal_but_code_spans_stay() {
    assert_eq!(md_text("a_b <x>"), "a\\_b \\<x\\>");
    assert_eq!(md_text("use `ps -ef` now"), "use `ps -ef` now");
    assert_eq!(md_text("``a ` b`` end"), "``a ` b`` end");
    assert_eq!(md_text("lone ` tick"), "lone \\` tick");
    assert_eq!(md_text("中文，`--fork` 不能少"), "中文，`--fork` 不能少");
    // Prose leaves quotes to smart punctuation.
    assert_eq!(md_prose("the \"old\" way's"), "the \"old\" way's");
    assert_eq!(md_text("\"x\""), "\\\"x\\\"");
}

fn check(title: Option<&str>, hint: Option<&str>, on: CheckSide) -> CheckBlock {
    CheckBlock {
        id: "c".into(),
        lang: "sh".into(),
        code: "# title: t\n# hint: h\ntest \"$(cat /proc/$KUBELAB_PID/status)\" = lab\n".into(),
        on,
        sandbox: None,
        node: None,
        needs_limits: false,
        title: title.map(Into::into),
        hint: hint.map(Into::into),
        line: 1,
    }
}

#[test]
fn check_is_shown_in_words_with_the_hint_collapsed() {
    let b = check(
        Some("hostname changed"),
        Some("use `hostname NAME`"),
        CheckSide::Host,
    );
    let out = render_check(&b, &Labels::ZH);
    assert!(
        out.contains("<strong>kubelab 会检查：</strong>hostname changed（在宿主机上）"),
        "{out}"
    );
    assert!(
        out.contains(
            "<details class=\"kubelab-hint\" data-pagefind-ignore>\n<summary>提示</summary>\n\nuse `hostname NAME`\n\n</details>"
        ),
        "{out}"
    );
    // The script is kubelab's business, not the web reader's.
    assert!(!out.contains("KUBELAB"), "{out}");
    assert!(!out.contains("```"), "{out}");
    assert!(!out.contains("提示:"), "{out}");

    let untitled = render_check(&check(None, None, CheckSide::Sandbox), &Labels::EN);
    assert!(
        untitled.contains("<strong>kubelab checks this step for you.</strong>"),
        "{untitled}"
    );
    assert!(!untitled.contains("<details"), "{untitled}");
}

#[test]
fn commands_in_hints_get_code_font() {
    let cases = [
        (
            "pgrep -f '^sleep 3600$' > /root/outer-pid",
            "`pgrep -f '^sleep 3600$' > /root/outer-pid`",
        ),
        (
            "run unshare --pid --fork sleep 3600 & (do not forget --fork)",
            "run `unshare --pid --fork sleep 3600 &` \\(do not forget \\-\\-fork\\)",
        ),
        (
            "make bash PID 1: unshare --pid --fork bash &",
            "make bash PID 1\\: `unshare --pid --fork bash &`",
        ),
        (
            "mkdir -p /root/v, then run hostname > /data/w",
            "`mkdir -p /root/v`\\, then run `hostname > /data/w`",
        ),
        // Prose stays prose, with quotes left to curl.
        (
            "Run hostname whale in the shell on the right",
            "Run hostname whale in the shell on the right",
        ),
        (
            "run the three \"old JVM\" lines above",
            "run the three \"old JVM\" lines above",
        ),
        ("use `ls -l` here", "use `ls -l` here"),
        (
            "运行 unshare --pid --fork sleep 3600 &，--fork 不能少",
            "运行 `unshare --pid --fork sleep 3600 &`，\\-\\-fork 不能少",
        ),
        (
            "先 tar -xf /root/i.tar，再 chroot /root/c /bin/sh",
            "先 `tar -xf /root/i.tar`，再 `chroot /root/c /bin/sh`",
        ),
        ("hostname web-1", "hostname web\\-1"),
        (
            "run sh -c 'while :; do :; done' & in the sandbox, wait, then kill $!",
            "run `sh -c 'while :; do :; done' &` in the sandbox\\, wait\\, then `kill $!`",
        ),
        (
            "sh -c 'for i in $(seq 2); do sleep 6 & done' then pkill -f '^sleep 6$'",
            "`sh -c 'for i in $(seq 2); do sleep 6 & done'` then `pkill -f '^sleep 6$'`",
        ),
        (
            "it changes the sandbox's own namespace",
            "it changes the sandbox's own namespace",
        ),
        (
            "copy busybox into /tmp/rootfs/bin as shown above",
            "copy busybox into \\/tmp\\/rootfs\\/bin as shown above",
        ),
        (
            "then start /bin/sleep 3600 & with mini-run.sh",
            "then start `/bin/sleep 3600 &` with mini\\-run\\.sh",
        ),
    ];
    for (hint, want) in cases {
        assert_eq!(md_hint(hint), want, "hint {hint:?}");
    }
}

#[test]
fn run_label_is_a_tag_not_a_control() {
    let b = RunBlock {
        lang: "sh".into(),
        code: "ls\n".into(),
        sandbox: Some("web".into()),
        node: None,
        needs_limits: false,
        line: 1,
    };
    let out = render_run(&b, &Labels::ZH);
    assert_eq!(
        out,
        "<p class=\"kubelab-run-label\"><span class=\"kubelab-tag\">在 kubelab 中运行</span>（沙箱 web）</p>\n\n```sh\nls\n```"
    );
    assert!(!out.contains("<a") && !out.contains("<button"), "{out}");
}

#[test]
fn banner_and_summary_go_under_the_title() {
    let out = decorate_lesson(
        "# Start from a process\n\nText.\n",
        "05-process",
        Some("A <process> first."),
        &Labels::EN,
    );
    let title = out.find("# Start").unwrap();
    let summary = out
        .find("<p class=\"kubelab-summary\">A &lt;process&gt; first.</p>")
        .unwrap();
    let banner = out.find("<div class=\"kubelab-banner\"").unwrap();
    let text = out.find("Text.").unwrap();
    assert!(
        title < summary && summary < banner && banner < text,
        "{out}"
    );
    assert!(
        out.contains("<code>kubelab open 05-process</code>"),
        "{out}"
    );
    // A hostile id is escaped; no heading: banner at the top.
    let out = decorate_lesson("Text.\n", "<x>", None, &Labels::ZH);
    assert!(out.starts_with("<div class=\"kubelab-banner\""), "{out}");
    assert!(out.contains("kubelab open &lt;x&gt;"), "{out}");
    assert!(!out.contains("kubelab-summary"), "{out}");
}

#[test]
fn front_matter_gives_id_and_summary_or_a_located_error() {
    let fm = lesson_front(
        "+++\nid = \"05-process\"\ntitle = \"t\"\nsummary = \"s\"\n+++\n# T\n",
        "05.md",
    )
    .unwrap()
    .unwrap();
    assert_eq!(
        (fm.id.as_str(), fm.summary.as_deref()),
        ("05-process", Some("s"))
    );
    assert_eq!(lesson_front("# Plain page\n", "p.md").unwrap(), None);
    let e = lesson_front("+++\nid = \"x\"\ntitle = 3\n+++\n", "bad.md").unwrap_err();
    assert!(e.contains("bad.md:3"), "{e}");
}

#[test]
fn chapters_are_numbered_as_the_lessons() {
    let chapter = |path: Option<&str>, n: u64| {
        json!({"Chapter": {"name": "x", "source_path": path, "path": path,
                           "number": [n], "sub_items": []}})
    };
    let mut items = vec![
        json!({"PartTitle": "Part"}),
        chapter(Some("00-opening.md"), 1),
        chapter(Some("05-process.md"), 2),
        json!("Separator"),
        chapter(None, 3),
        chapter(None, 4),
        chapter(Some("intro.md"), 5),
        json!({"Chapter": {"name": "y", "source_path": "20-x.md", "number": [6],
                           "sub_items": [{"Chapter": {"name": "z", "number": [6, 1],
                                                      "sub_items": []}}]}}),
        json!({"Chapter": {"name": "unnumbered", "source_path": "pre.md", "number": null,
                           "sub_items": []}}),
    ];
    number_chapters(&mut items);
    let numbers: Vec<Value> = items
        .iter()
        .filter_map(|i| i.pointer("/Chapter/number").cloned())
        .collect();
    assert_eq!(
        numbers,
        vec![
            json!([0]),
            json!([5]),
            json!([6]),
            json!([7]),
            // a lesson file without a number (an outline special) is unnumbered
            Value::Null,
            json!([20]),
            Value::Null
        ]
    );
    assert_eq!(
        items[7].pointer("/Chapter/sub_items/0/Chapter/number"),
        Some(&json!([20, 1]))
    );
    // No numbered files: mdBook's numbers stay.
    let mut plain = vec![chapter(Some("intro.md"), 1), chapter(None, 2)];
    let before = plain.clone();
    number_chapters(&mut plain);
    assert_eq!(plain, before);
}
