//! `kubelab::lint` on small generated courses, one problem each.

use kubelab::lint::{lint_path, Report};
use std::path::Path;

/// Writes a two-book course: `zh` and `en` lessons as (file name, text).
fn course(dir: &Path, zh: &[(&str, &str)], en: &[(&str, &str)]) {
    for (lang, lessons) in [("zh", zh), ("en", en)] {
        let src = dir.join(lang).join("src");
        std::fs::create_dir_all(&src).unwrap();
        std::fs::write(
            dir.join(lang).join("book.toml"),
            format!("[book]\ntitle = \"T\"\nlanguage = \"{lang}\"\n"),
        )
        .unwrap();
        let mut summary = String::from("# Summary\n\n# M\n\n");
        for (name, text) in lessons.iter() {
            if !name.is_empty() {
                summary.push_str(&format!("- [{name}]({name})\n"));
                std::fs::write(src.join(name), text).unwrap();
            }
        }
        std::fs::write(src.join("SUMMARY.md"), summary).unwrap();
    }
}

fn lesson(id: &str, extra_front: &str, body: &str) -> String {
    format!("+++\nid = \"{id}\"\ntitle = \"{id}\"\n{extra_front}+++\n{body}")
}

const SB: &str = "[sandboxes.main]\n";

fn messages(r: &Report) -> Vec<String> {
    r.diagnostics.iter().map(|d| d.to_string()).collect()
}

fn lint_one(zh: &str, en: &str) -> Report {
    let dir = tempfile::tempdir().unwrap();
    course(dir.path(), &[("01-a.md", zh)], &[("01-a.md", en)]);
    lint_path(dir.path()).unwrap()
}

#[test]
fn clean_lesson_has_no_findings() {
    let body = "## Step\n\n```sh run\nls\n```\n\n```sh check id=c\n# hint: h\ntrue\n```\n";
    let l = lesson("01-a", SB, body);
    let r = lint_one(&l, &l);
    assert!(r.diagnostics.is_empty(), "{:#?}", messages(&r));
    assert_eq!((r.books, r.lessons), (2, 2));
}

#[test]
fn duplicate_check_and_quiz_ids() {
    let body = "```sh check id=x\n# hint: h\ntrue\n```\n\n```toml quiz\nid = \"x\"\nquestion = \"?\"\nchoices = [\"a\", \"b\"]\nanswer = \"A\"\n```\n";
    let l = lesson("01-a", SB, body);
    let r = lint_one(&l, &l);
    let m = messages(&r);
    assert_eq!(r.errors(), 2, "{m:#?}");
    assert!(
        m[0].contains("01-a.md:11:1: error: id `x` is already used on line 6"),
        "{m:#?}"
    );
}

#[test]
fn sandbox_and_pane_references() {
    let front = format!("panes = [\"shell\", \"processes@web\", \"gpu\"]\n{SB}");
    let body = "```sh run sandbox=db\nls\n```\n";
    let l = lesson("01-a", &front, body);
    let r = lint_one(&l, &l);
    let m = messages(&r).join("\n");
    assert!(m.contains("run block names sandbox `db`"), "{m}");
    assert!(
        m.contains("pane `processes@web` names sandbox `web`"),
        "{m}"
    );
    assert!(m.contains("unknown pane `gpu`"), "{m}");
    assert!(
        m.contains("01-a.md:4:1: error: unknown pane"),
        "panes line: {m}"
    );
}

#[test]
fn step_panes_must_name_a_heading_and_a_declared_inspector() {
    let body = "## Limits\n\n```sh run\nls\n```\n";
    let good = format!(
        "panes = [\"shell\", \"namespaces\", \"cgroup\"]\n[step_panes]\n\"Limits\" = \"cgroup@main\"\n{SB}"
    );
    let l = lesson("01-a", &good, body);
    let r = lint_one(&l, &l);
    assert!(r.diagnostics.is_empty(), "{:#?}", messages(&r));

    let bad = format!(
        "panes = [\"shell\", \"namespaces\"]\n[step_panes]\n\"Limitz\" = \"namespaces\"\n\"Limits\" = \"network\"\n{SB}"
    );
    let l = lesson("01-a", &bad, body);
    let r = lint_one(&l, &l);
    let m = messages(&r).join("\n");
    assert_eq!(r.errors(), 4, "{m}");
    assert!(
        m.contains("01-a.md:6:1: error: step_panes names the step \"Limitz\", but no `##` heading has that text")
            && m.contains("(headings: \"Limits\")"),
        "{m}"
    );
    assert!(
        m.contains("01-a.md:7:1: error: step_panes shows `network` for \"Limits\", but it is not one of the inspector panes in `panes`; add it there or pick one of namespaces"),
        "{m}"
    );
}

#[test]
fn checks_need_a_sandbox_and_a_hint() {
    let l = lesson(
        "01-a",
        "",
        "```sh check id=c\ntrue\n```\n\n```sh run\nls\n```\n",
    );
    let r = lint_one(&l, &l);
    let m = messages(&r).join("\n");
    assert!(m.contains("error: check needs a sandbox"), "{m}");
    assert!(m.contains("warning: check `c` has no hint"), "{m}");
    assert!(m.contains("warning: run block needs a sandbox"), "{m}");
}

#[test]
fn a_check_without_commands_is_an_error() {
    let l = lesson(
        "01-a",
        SB,
        "```sh check id=c\n# title: t\n# hint: h\n\n```\n",
    );
    let r = lint_one(&l, &l);
    let m = messages(&r).join("\n");
    assert!(m.contains("error: check `c` has no commands"), "{m}");
}

#[test]
fn limits_without_requires_cgroups_warn() {
    let front = "[sandboxes.main]\nlimits = { memory = \"64M\" }\n";
    let l = lesson("01-a", front, "text\n");
    let r = lint_one(&l, &l);
    let m = messages(&r).join("\n");
    assert!(
        m.contains("01-a.md:4:1: warning: sandbox main sets limits"),
        "{m}"
    );
    let front = format!("requires = [\"cgroups\"]\n{front}");
    let l = lesson("01-a", &front, "text\n");
    assert!(lint_one(&l, &l).diagnostics.is_empty());
}

#[test]
fn needs_limits_wants_requires_cgroups_and_a_limited_sandbox() {
    let body = "## S\n\n```sh run needs=limits\nhog\n```\n\n\
                ```sh check id=c on=host needs=limits\n# hint: h\ntrue\n```\n";
    let limited = "requires = [\"cgroups\"]\n[sandboxes.main]\nlimits = { pids = 8 }\n";
    let l = lesson("01-a", limited, body);
    let r = lint_one(&l, &l);
    assert!(r.diagnostics.is_empty(), "{:#?}", messages(&r));
    // Without `requires`: `kubelab test` would not skip the lab.
    let l = lesson("01-a", "[sandboxes.main]\nlimits = { pids = 8 }\n", body);
    let m = messages(&lint_one(&l, &l)).join("\n");
    assert!(
        m.contains("error: this run block has needs=limits but the lesson does not say requires = [\"cgroups\"]"),
        "{m}"
    );
    assert!(
        m.contains("error: this check has needs=limits but the lesson"),
        "{m}"
    );
    // A sandbox without limits: there is nothing to need.
    let l = lesson("01-a", "requires = [\"cgroups\"]\n[sandboxes.main]\n", body);
    let m = messages(&lint_one(&l, &l)).join("\n");
    assert!(
        m.contains("error: this run block has needs=limits but sandbox `main` sets no limits"),
        "{m}"
    );
    // Only `limits` can be needed.
    let l = lesson("01-a", limited, "```sh run needs=root\nls\n```\n");
    let m = messages(&lint_one(&l, &l)).join("\n");
    assert!(
        m.contains("needs=root is not something a block can need"),
        "{m}"
    );
    // A check reading the sandbox's cgroup without the marker: a warning.
    let body = "```sh check id=c on=host\n# hint: h\n[ -n \"$KUBELAB_CGROUP_PIDS\" ]\n```\n";
    let l = lesson("01-a", limited, body);
    let m = messages(&lint_one(&l, &l)).join("\n");
    assert!(
        m.contains("warning: check `c` reads the sandbox's cgroup; add needs=limits"),
        "{m}"
    );
}

#[test]
fn language_parity() {
    let dir = tempfile::tempdir().unwrap();
    let zh = lesson("01-a", SB, "```sh check id=one\n# hint: h\ntrue\n```\n");
    let en = lesson("01-a", SB, "```sh check id=uno\n# hint: h\ntrue\n```\n");
    let only = lesson("02-b", "", "text\n");
    course(
        dir.path(),
        &[("01-a.md", &zh), ("02-b.md", &only)],
        &[("01-a.md", &en)],
    );
    let r = lint_path(dir.path()).unwrap();
    let m = messages(&r).join("\n");
    assert!(
        m.contains("lesson `02-b` is in the zh book but not in the en book"),
        "{m}"
    );
    assert!(m.contains("check `one` of"), "{m}");
    assert!(m.contains("check `uno` of"), "{m}");
    assert_eq!(r.errors(), 3, "{m}");
}

#[test]
fn unlinked_files_duplicates_and_summary_errors() {
    let dir = tempfile::tempdir().unwrap();
    let l = lesson("01-a", "", "text\n");
    course(dir.path(), &[("01-a.md", &l)], &[("01-a.md", &l)]);
    let zh = dir.path().join("zh/src");
    std::fs::write(zh.join("99-stray.md"), lesson("99-stray", "", "x\n")).unwrap();
    std::fs::write(
        zh.join("SUMMARY.md"),
        "# Summary\n# M\n- [A](01-a.md)\n- [A again](01-a.md)\nnonsense\n- [Draft]()\n",
    )
    .unwrap();
    let r = lint_path(dir.path()).unwrap();
    let m = messages(&r).join("\n");
    assert!(
        m.contains("SUMMARY.md:4:1: error: 01-a.md is already listed on line 3"),
        "{m}"
    );
    assert!(
        m.contains("SUMMARY.md:5:1: error: cannot read this SUMMARY line"),
        "{m}"
    );
    assert!(
        m.contains("SUMMARY.md:6:1: warning: `Draft` is a draft"),
        "{m}"
    );
    assert!(
        m.contains("99-stray.md:1:1: warning: not in SUMMARY.md"),
        "{m}"
    );
}

#[test]
fn id_must_match_file_name() {
    let l = lesson("01-b", "", "x\n");
    let r = lint_one(&l, &l);
    let m = messages(&r).join("\n");
    assert!(
        m.contains("01-a.md:2:1: error: id = \"01-b\" but the file is 01-a.md"),
        "{m}"
    );
}

#[test]
fn all_problems_of_a_file_are_reported_not_just_the_first() {
    let body = "```sh check\ntrue\n```\n\n```sh run colour=red\nls\n```\n\n```toml quiz\nid = \"q\"\n```\n";
    let l = lesson("01-a", SB, body);
    let r = lint_one(&l, &l);
    // three errors per language
    assert_eq!(r.errors(), 6, "{:#?}", messages(&r));
}

#[test]
fn the_shipped_course_has_no_errors() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let r = lint_path(root).unwrap();
    let errors: Vec<String> = r
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(r.books, 2);
}

#[test]
fn host_facts_a_lab_leans_on_must_be_in_requires() {
    let body = "## Step\n\n```sh run\ncp /bin/busybox /tmp/r/bin/\n```\n\n\
                ```sh solution\nmount -t overlay o -o lowerdir=/a,upperdir=/u,workdir=/w,userxattr /m\n\
                ip tuntap add mode tun tun0\n```\n\n\
                ```sh check id=c\n# hint: h\ntrue\n```\n";
    let bare = lesson("01-a", SB, body);
    let msgs = messages(&lint_one(&bare, &bare));
    for want in [
        "requires = [\"busybox\"]",
        "requires = [\"tmpfs-xattr\"]",
        "requires = [\"tun\"]",
    ] {
        assert_eq!(
            msgs.iter().filter(|m| m.contains(want)).count(),
            2,
            "{want} in both books: {msgs:#?}"
        );
    }
    assert!(
        msgs.iter().any(|m| m.contains("01-a.md:8:1:")),
        "points at the run block: {msgs:#?}"
    );
    let declared = lesson(
        "01-a",
        &format!("requires = [\"busybox\", \"tmpfs-xattr\", \"tun\"]\n{SB}"),
        body,
    );
    let r = lint_one(&declared, &declared);
    assert!(r.diagnostics.is_empty(), "{:#?}", messages(&r));
}

#[test]
fn every_error_of_a_file_in_one_run() {
    // A broken quiz (a load error) does not hide the check's unknown
    // sandbox (a lint error), nor a front-matter error the body's.
    let body = "```toml quiz\nid = \"q\"\nquestion = \"?\"\nchoices = [\"a\"]\nanswer = \"Z\"\n```\n\n```sh check id=c sandbox=nope\n# hint: h\ntrue\n```\n";
    let l = lesson("01-a", SB, body);
    let m = messages(&lint_one(&l, &l));
    assert!(m.iter().any(|d| d.contains("quiz `q`")), "{m:#?}");
    assert!(m.iter().any(|d| d.contains("nope")), "{m:#?}");
    let bad_front = lesson("01-a", "colour = \"red\"\n", body);
    let m = messages(&lint_one(&bad_front, &l));
    assert!(m.iter().any(|d| d.contains("colour")), "{m:#?}");
    assert!(m.iter().any(|d| d.contains("quiz `q`")), "{m:#?}");
}

/// Info strings other tools write (titles, Hugo options) are not kubelab's
/// business; a fence language the reader cannot highlight is a note only.
#[test]
fn foreign_info_strings_are_quiet_and_unknown_languages_are_notes() {
    let body = "```mermaid \"Kubernetes 分层架构\"\ngraph TD\n```\n\n```go {linenos=true}\nfunc main() {}\n```\n\n```dockerfile\nFROM debian\n```\n\n```ymal\nkind: Pod\n```\n\n```ymal\nkind: Pod\n```\n";
    let l = lesson("01-a", SB, body);
    let r = lint_one(&l, &l);
    let m = messages(&r);
    assert_eq!((r.errors(), r.warnings()), (0, 0), "{m:#?}");
    let notes: Vec<&String> = m.iter().filter(|d| d.contains(": note: ")).collect();
    // ymal, once per lesson (both books); dockerfile and go are known,
    // mermaid is drawn.
    assert_eq!(notes.len(), 2, "{m:#?}");
    assert!(notes.iter().all(|n| n.contains("`ymal`")), "{m:#?}");
}

/// A two-track lesson: each track is linted as the lab of its own it is
/// (a world beside the cluster sandbox is clean), and each needs a check.
#[test]
fn two_track_lessons_lint_each_track_and_want_a_check_in_each() {
    let front = "panes = [\"shell@node1\", \"network@node1\", \"shell@k8s\", \"objects\"]\n\
        requires = [\"ip\"]\n[world]\n[[world.nodes]]\nname = \"node1\"\n\
        [cluster]\nsandbox = \"k8s\"\nrequires = [\"kubectl\"]\n\
        [sandboxes.k8s]\nrootfs = \"host\"\n";
    let node = "## Node track\n\n```sh check id=n node=node1\n# hint: h\nip link show br0\n```\n\n\
        ```sh solution node=node1\nip link add br0 type bridge\n```\n";
    let cluster =
        "## Cluster track\n\n```sh check id=c sandbox=k8s\n# hint: h\nkubectl get cm x\n```\n\n\
        ```toml check id=k kind=cluster\n# hint: h\nobject = \"configmap/x\"\nexists = true\n```\n";
    let l = lesson("01-a", front, &format!("{node}\n{cluster}"));
    let r = lint_one(&l, &l);
    assert!(r.diagnostics.is_empty(), "{:#?}", messages(&r));

    let l = lesson("01-a", front, node);
    let m = messages(&lint_one(&l, &l));
    assert!(
        m.iter()
            .any(|x| x.contains("error: a two-track lesson whose cluster track has no check")),
        "{m:#?}"
    );
}
