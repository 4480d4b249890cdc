//! What a learner sees on the command line follows `--lang`: help,
//! `progress` labels, errors.

use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_kubelab");

fn kubelab(args: &[&str]) -> (Output, tempfile::TempDir) {
    let home = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args(["--data-dir", home.path().join("data").to_str().unwrap()])
        .args(args)
        .env("HOME", home.path())
        .env_remove("XDG_CACHE_HOME")
        .env("LANG", "C.UTF-8")
        .env_remove("LC_ALL")
        .output()
        .unwrap();
    (out, home)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn help_progress_and_errors_are_in_chinese_with_lang_zh() {
    let (out, _h) = kubelab(&["--lang", "zh", "--help"]);
    let help = text(&out.stdout);
    for zh in [
        "用法:",
        "命令:",
        "全局选项:",
        "在某一课打开阅读器",
        "打印帮助",
    ] {
        assert!(help.contains(zh), "{zh:?} in\n{help}");
    }
    assert!(
        !help.contains("Usage:") && !help.contains("Commands:"),
        "{help}"
    );

    let (out, _h) = kubelab(&["--lang", "zh", "progress"]);
    let p = text(&out.stdout);
    assert!(
        p.contains("进度文件:") && p.contains("还没有开始任何一课"),
        "{p}"
    );

    let (out, h) = kubelab(&["--lang", "zh", "open", "no-such-lesson"]);
    let e = text(&out.stderr);
    assert!(e.contains("错误") && e.contains("内置课程里没有"), "{e}");
    // Never the unpacked copy's path, which the learner did not give.
    assert!(!e.contains(h.path().to_str().unwrap()), "{e}");
}

#[test]
fn the_same_in_english_with_lang_en() {
    let (out, _h) = kubelab(&["--lang", "en", "--help"]);
    assert!(text(&out.stdout).contains("Usage:"));
    let (out, _h) = kubelab(&["--lang", "en", "open", "no-such-lesson"]);
    let e = text(&out.stderr);
    assert!(
        e.contains("kubelab: error: no lesson with id `no-such-lesson` in the built-in course"),
        "{e}"
    );
}

#[test]
fn doctor_names_its_checks_and_verdict_in_chinese() {
    let (out, _h) = kubelab(&["--lang", "zh", "doctor"]);
    let d = text(&out.stdout);
    assert!(
        d.contains("[正常] 内核") || d.contains("[失败] 内核"),
        "{d}"
    );
    assert!(
        d.contains("kubelab 可以在这台机器上运行实验")
            || d.contains("kubelab 无法在这台机器上运行实验"),
        "{d}"
    );
    assert!(
        !d.contains("[ok  ]") && !d.contains("can run its labs"),
        "{d}"
    );
}
