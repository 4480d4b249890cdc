//! `kubelab new <id> --title ...`: scaffolds a lesson an author can start
//! from: commented front matter, one example of every interactive block, and
//! an entry in the book's SUMMARY.md. The scaffold passes `kubelab lint` as
//! created, and its lab is a real one (the check fails in a fresh sandbox and
//! the solution makes it pass), so `kubelab test` has something to run.

use super::new_input::check_text;
pub use super::new_input::{valid_id, NewError, MAX_ID_CHARS, MAX_TITLE_CHARS};
use crate::authoring::summary_edit::{self, Placement};
use crate::course::model::Lang;
use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Create a new lesson: the file, with commented front matter and one example
/// of every interactive block, and its entry in SUMMARY.md, in the --lang
/// book and (unless --single) the other language's book of --course.
#[derive(Debug, Clone, clap::Args)]
pub struct NewArgs {
    /// Lesson id, also the file name: `NN-slug` (e.g. 07-images) or a slug.
    /// Optional only when --course names an empty or missing folder: then
    /// a new course is made there, its first lesson `01-first-lab`.
    pub id: Option<String>,
    /// The lesson's title.
    #[arg(long)]
    pub title: Option<String>,
    /// Module (`# Title` in SUMMARY.md) to add it to; created if missing.
    /// Default: a draft entry with the same title or number, else the module
    /// whose lesson numbers surround the id's.
    #[arg(long, value_name = "MODULE TITLE")]
    pub part: Option<String>,
    /// Create it only in the --lang book. By default the other language's
    /// book gets a copy too (titled from its outline's draft entry), since
    /// lint wants every lesson in both languages.
    #[arg(long)]
    pub single: bool,
}

/// `kubelab new`.
pub fn run(ctx: &crate::context::Context, args: NewArgs) -> anyhow::Result<i32> {
    let (id, title, fresh) = super::new_course::prepare(ctx, args.id, args.title)?;
    let mut created = create(&NewLesson {
        course: ctx.course_dir.clone(),
        id,
        title,
        lang: ctx.lang,
        part: args.part,
        single: args.single,
    })?;
    if !ctx.builtin_course {
        for c in &mut created {
            c.course = Some(ctx.course_dir.clone());
        }
    }
    if fresh {
        println_safe(&format!(
            "created a new course in {} (books zh and en)",
            ctx.course_dir.display()
        ))?;
    }
    for c in &created {
        println_safe(&c.to_string())?;
    }
    Ok(0)
}

/// One line to stdout, written (not println!): `kubelab new … | head -1`
/// must not panic after the lesson was created.
fn println_safe(line: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    std::io::Write::write_all(&mut out, format!("{line}\n").as_bytes())
}

/// What `kubelab new` was asked for.
#[derive(Debug, Clone)]
pub struct NewLesson {
    /// The course directory: holding `lessons/{zh,en}/` or `{zh,en}/`.
    pub course: PathBuf,
    pub id: String,
    pub title: String,
    pub lang: Lang,
    /// Module title to put the entry in (created at the end if missing).
    pub part: Option<String>,
    /// Only the `lang` book, not the other language's too.
    pub single: bool,
}

/// What was done, for the message to the author.
#[derive(Debug, Clone)]
pub struct Created {
    pub file: PathBuf,
    pub summary: PathBuf,
    pub placement: Placement,
    /// The `--course` folder, named in the hint (`None`: the built-in one).
    pub course: Option<PathBuf>,
}

impl fmt::Display for Created {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "created {}", self.file.display())?;
        let s = self.summary.display();
        match &self.placement {
            Placement::AlreadyListed { line } => {
                writeln!(f, "{s}:{line}: already lists it; left unchanged")
            }
            Placement::ReplacedDraft { line, old_title } => {
                writeln!(f, "{s}:{line}: filled in the draft entry \"{old_title}\"")
            }
            Placement::Inserted { line, part } => match part {
                Some(p) => writeln!(f, "{s}:{line}: added to module \"{p}\""),
                None => writeln!(f, "{s}:{line}: added"),
            },
            Placement::NewPart { line, part } => {
                writeln!(f, "{s}:{line}: added in a new module \"{part}\"")
            }
        }?;
        let course = match &self.course {
            Some(c) => format!(" --course {}", c.display()),
            None => String::new(),
        };
        write!(
            f,
            "  next: edit it, then `kubelab{course} preview {}`, `kubelab{course} lint` and `kubelab{course} test`",
            self.file.display()
        )
    }
}

/// Creates the lesson in the `lang` book and, unless `single`, in the
/// course's other book too (lint requires every lesson in both languages).
/// The other book's copy takes its title from the draft entry it fills in
/// (the outline is already translated), else the given title. The `lang`
/// file must not exist; an existing other-language file is left alone.
pub fn create(req: &NewLesson) -> Result<Vec<Created>, NewError> {
    if !valid_id(&req.id) {
        return Err(NewError::BadId(req.id.clone()));
    }
    if req.title.trim().is_empty() {
        return Err(NewError::BadTitle);
    }
    check_text("--title", &req.title)?;
    if let Some(part) = &req.part {
        check_text("--part", part)?;
    }
    let books = crate::classroom::hash::book_dirs(&req.course);
    let primary = BookFiles::find(&books, req.lang)?.ok_or_else(|| {
        NewError::NoBook(crate::course::books_root(&req.course).join(req.lang.code()))
    })?;
    if primary.lesson(&req.id).exists() {
        return Err(NewError::Exists(primary.lesson(&req.id)));
    }
    let first = primary.create(
        &req.id,
        req.title.trim(),
        req.lang,
        req.part.as_deref(),
        None,
    )?;
    // The slot the primary entry took, to fill the same one in the other book.
    let slot = match &first.placement {
        Placement::ReplacedDraft { line, .. } => std::fs::read_to_string(&first.summary)
            .ok()
            .and_then(|t| summary_edit::entry_index_at_line(&t, *line)),
        _ => None,
    };
    let mut created = vec![first];
    if !req.single {
        let other = req.lang.other();
        if let Some(book) = BookFiles::find(&books, other)? {
            if !book.lesson(&req.id).exists() {
                created.push(book.create(
                    &req.id,
                    req.title.trim(),
                    other,
                    req.part.as_deref(),
                    Some(slot),
                )?);
            }
        }
    }
    Ok(created)
}

/// One book's `src/` and SUMMARY.
struct BookFiles {
    src: PathBuf,
    summary: PathBuf,
}

impl BookFiles {
    fn find(books: &[(Lang, PathBuf)], lang: Lang) -> Result<Option<BookFiles>, NewError> {
        let Some((_, book)) = books.iter().find(|(l, _)| *l == lang) else {
            return Ok(None);
        };
        let src = book.join(book_src_dir(book));
        let summary = src.join("SUMMARY.md");
        if !book.join("book.toml").is_file() || !summary.is_file() {
            return Err(NewError::NoBook(book.clone()));
        }
        Ok(Some(BookFiles { src, summary }))
    }

    fn lesson(&self, id: &str) -> PathBuf {
        self.src.join(format!("{id}.md"))
    }

    /// Writes the lesson (never over an existing file), then the SUMMARY.
    /// `other_book`: this is the other language's copy; `Some(slot)` is the
    /// entry index the first book filled, whose draft (and its translated
    /// title) is taken here too.
    fn create(
        &self,
        id: &str,
        title: &str,
        lang: Lang,
        part: Option<&str>,
        other_book: Option<Option<usize>>,
    ) -> Result<Created, NewError> {
        let summary = std::fs::read_to_string(&self.summary)
            .map_err(|e| NewError::Io(self.summary.clone(), e))?;
        let same_slot = other_book
            .flatten()
            .and_then(|slot| summary_edit::fill_draft_at(&summary, slot, id));
        let (new_summary, placement, title) = match same_slot {
            Some(filled) => filled,
            None => {
                let (text, placement) = summary_edit::add_entry(&summary, id, title, part);
                (text, placement, title.to_owned())
            }
        };
        let file = self.lesson(id);
        let mut out = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&file)
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::AlreadyExists => NewError::Exists(file.clone()),
                _ => NewError::Io(file.clone(), e),
            })?;
        out.write_all(template(id, &title, lang).as_bytes())
            .map_err(|e| NewError::Io(file.clone(), e))?;
        if new_summary != summary {
            write_atomic(&self.summary, &new_summary)
                .map_err(|e| NewError::Io(self.summary.clone(), e))?;
        }
        Ok(Created {
            file,
            summary: self.summary.clone(),
            placement,
            course: None,
        })
    }
}

/// `[book] src` from book.toml (mdBook's default is `src`).
fn book_src_dir(book: &Path) -> String {
    std::fs::read_to_string(book.join("book.toml"))
        .ok()
        .and_then(|t| t.parse::<toml::Table>().ok())
        .and_then(|t| t.get("book")?.get("src")?.as_str().map(str::to_owned))
        .unwrap_or_else(|| "src".to_owned())
}

fn write_atomic(path: &Path, text: &str) -> std::io::Result<()> {
    crate::atomic_write::write_atomic(path, text.as_bytes(), 0o644)
}

fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

/// The new lesson's text.
pub fn template(id: &str, title: &str, lang: Lang) -> String {
    let t = match lang {
        Lang::En => &EN,
        Lang::Zh => &ZH,
    };
    format!(
        r#"+++
# {fm_intro}
# {fm_ref}
schema = 1
# {fm_id}
id = {id}
title = {title_toml}
# {fm_summary}
summary = {summary}
# {fm_panes}
panes = ["shell", "processes"]
# {fm_requires}
requires = []

# {fm_sandbox}
[sandboxes.main]
# {fm_ns}
namespaces = ["pid", "uts", "ipc", "mount", "user"]
hostname = "lab"
# {fm_rootfs}
rootfs = "host"
# {fm_privileged}
# privileged = true

# {fm_limits}
# [sandboxes.main.limits]
# memory = "64M"
# pids = 64

# {fm_step_panes}
# [step_panes]
# "{step1}" = "processes"
+++

# {title}

{intro}

## {step1}

{step1_text}

```sh run
hostname
ps -ef
```

{task}

```sh check id=hello-file
# title: {check_title}
# hint: {check_hint}
grep -qx hello /tmp/hello.txt 2>/dev/null || {{ echo "{check_fail}"; exit 1; }}
```

{solution_intro}

```sh solution
echo hello > /tmp/hello.txt
```

## {step2}

```toml quiz
id = "whose-tmp"
question = {quiz_q}
choices = [{quiz_a}, {quiz_b}, {quiz_c}]
answer = "B"
explain = {quiz_explain}
```
"#,
        fm_intro = t.fm_intro,
        fm_ref = t.fm_ref,
        fm_id = t.fm_id,
        id = toml_str(id),
        title_toml = toml_str(title),
        fm_summary = t.fm_summary,
        summary = toml_str(t.summary),
        fm_panes = t.fm_panes,
        fm_requires = t.fm_requires,
        fm_sandbox = t.fm_sandbox,
        fm_ns = t.fm_ns,
        fm_rootfs = t.fm_rootfs,
        fm_limits = t.fm_limits,
        fm_step_panes = t.fm_step_panes,
        fm_privileged = t.fm_privileged,
        title = title,
        intro = t.intro,
        step1 = t.step1,
        step1_text = t.step1_text,
        task = t.task,
        check_title = t.check_title,
        check_hint = t.check_hint,
        check_fail = t.check_fail,
        solution_intro = t.solution_intro,
        step2 = t.step2,
        quiz_q = toml_str(t.quiz_q),
        quiz_a = toml_str(t.quiz_a),
        quiz_b = toml_str(t.quiz_b),
        quiz_c = toml_str(t.quiz_c),
        quiz_explain = toml_str(t.quiz_explain),
    )
}

struct Words {
    fm_intro: &'static str,
    fm_ref: &'static str,
    fm_id: &'static str,
    fm_summary: &'static str,
    summary: &'static str,
    fm_panes: &'static str,
    fm_requires: &'static str,
    fm_sandbox: &'static str,
    fm_ns: &'static str,
    fm_rootfs: &'static str,
    fm_limits: &'static str,
    fm_step_panes: &'static str,
    fm_privileged: &'static str,
    intro: &'static str,
    step1: &'static str,
    step1_text: &'static str,
    task: &'static str,
    check_title: &'static str,
    check_hint: &'static str,
    check_fail: &'static str,
    solution_intro: &'static str,
    step2: &'static str,
    quiz_q: &'static str,
    quiz_a: &'static str,
    quiz_b: &'static str,
    quiz_c: &'static str,
    quiz_explain: &'static str,
}

const EN: Words = Words {
    fm_intro: "Front matter (TOML). Every field is explained in lessons/README.md.",
    fm_ref: "schema: front-matter version; leave at 1 until kubelab asks for more.",
    fm_id: "id: the file name without .md; the same id in every language's book.",
    fm_summary: "summary: one line for the outline and search results.",
    summary: "Replace with one sentence on what the learner will see happen.",
    fm_panes: "panes beside the text: shell, namespaces, processes, cgroup, filesystem, network (kind@sandbox picks a sandbox).",
    fm_requires: "requires: what the labs need from the host: \"root\", \"cgroups\" (kubelab test skips them elsewhere).",
    fm_sandbox: "One sandbox named main (the default for run/check/solution blocks); add more as [sandboxes.NAME].",
    fm_ns: "Namespaces to create: pid, uts, ipc, mount, net, user, cgroup.",
    fm_rootfs: "rootfs: host (read-only host /usr /bin /lib, writable overlay), busybox, a directory, or oci:DIR.",
    fm_limits: "Resource limits: memory (\"64M\"), cpus (0.5), pids (64). If you set any, add \"cgroups\" to requires.",
    fm_step_panes: "Which inspector comes to the front while a step is read: `##` heading = one of the panes above.",
    fm_privileged: "Sandbox root has a container's usual capabilities; uncomment to keep all of them (mount, unshare, hostname inside).",
    intro: "Start with what the learner is about to see and why it matters. Keep it short: the panes do the showing.",
    step1: "Look around",
    step1_text: "Each `##` section is one step: its text, run blocks, checks, hints and solution belong together. A run block is sent to the shell pane when the learner presses Enter on it:",
    task: "Now a task. The check below runs inside the sandbox until it exits 0; its first output line says what is still wrong.",
    check_title: "/tmp/hello.txt holds the word hello",
    check_hint: "In the shell pane: `echo hello > /tmp/hello.txt`.",
    check_fail: "/tmp/hello.txt does not contain the line hello yet",
    solution_intro: "The solution stays hidden until the learner asks; `kubelab test` types it into a fresh sandbox to prove the check can pass.",
    step2: "Check your understanding",
    quiz_q: "You wrote /tmp/hello.txt inside the sandbox. Does the host's /tmp have it?",
    quiz_a: "Yes: the sandbox shares the host's /tmp",
    quiz_b: "No: the sandbox has its own mount namespace and its own writable /tmp",
    quiz_c: "Only after the sandbox exits",
    quiz_explain: "The sandbox sees a filesystem tree built in its own mount namespace; what it writes stays in its own layer.",
};

const ZH: Words = Words {
    fm_intro: "Front matter（TOML）。每个字段的说明见 lessons/README.md。",
    fm_ref: "schema：front matter 的版本，保持为 1，除非 kubelab 要求更新。",
    fm_id: "id：去掉 .md 的文件名；各语言的书中使用同一个 id。",
    fm_summary: "summary：一句话，显示在目录和搜索结果里。",
    summary: "用一句话替换这里：学习者会亲眼看到什么。",
    fm_panes: "正文旁的面板：shell、namespaces、processes、cgroup、filesystem、network（kind@sandbox 指定沙箱）。",
    fm_requires: "requires：实验对宿主机的要求：\"root\"、\"cgroups\"（不满足时 kubelab test 跳过）。",
    fm_sandbox: "一个名为 main 的沙箱（run/check/solution 默认使用它）；更多沙箱写成 [sandboxes.NAME]。",
    fm_ns: "要创建的 namespace：pid、uts、ipc、mount、net、user、cgroup。",
    fm_rootfs: "rootfs：host（只读的宿主机 /usr /bin /lib，加可写 overlay）、busybox、一个目录，或 oci:DIR。",
    fm_limits: "资源限制：memory（\"64M\"）、cpus（0.5）、pids（64）。设置了任何一项，就在 requires 里加上 \"cgroups\"。",
    fm_step_panes: "读到某一步时放到前面的检查面板：`##` 标题 = 上面 panes 里的一个。",
    fm_privileged: "沙箱里的 root 只有普通容器的那组 capability；取消注释则保留全部（可在里面 mount、unshare、改主机名）。",
    intro: "先说清楚学习者马上会看到什么、为什么重要。文字要短：让面板去展示。",
    step1: "四处看看",
    step1_text: "每个 `##` 小节是一步：其中的文字、run 块、检查、提示和答案属于同一步。学习者在 run 块上按回车，它就被发送到 shell 面板：",
    task: "现在是一个任务。下面的检查脚本在沙箱里反复运行，直到它以 0 退出；失败时输出的第一行说明还差什么。",
    check_title: "/tmp/hello.txt 里写着 hello",
    check_hint: "在 shell 面板里执行 `echo hello > /tmp/hello.txt`。",
    check_fail: "/tmp/hello.txt 里还没有 hello 这一行",
    solution_intro: "参考答案在学习者主动查看前一直隐藏；`kubelab test` 会把它输入一个全新的沙箱，证明检查能够通过。",
    step2: "检验一下",
    quiz_q: "你在沙箱里写了 /tmp/hello.txt。宿主机的 /tmp 里有这个文件吗？",
    quiz_a: "有：沙箱和宿主机共用 /tmp",
    quiz_b: "没有：沙箱有自己的 mount namespace 和自己可写的 /tmp",
    quiz_c: "沙箱退出之后才会有",
    quiz_explain: "沙箱看到的文件树是在它自己的 mount namespace 里搭起来的；它写下的东西留在它自己的那一层。",
};

#[cfg(test)]
mod tests {
    use super::*;

    fn course() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for lang in ["zh", "en"] {
            let book = dir.path().join(lang);
            std::fs::create_dir_all(book.join("src")).unwrap();
            std::fs::write(
                book.join("book.toml"),
                format!("[book]\ntitle = \"T\"\nlanguage = \"{lang}\"\nsrc = \"src\"\n"),
            )
            .unwrap();
            let summary = if lang == "zh" {
                "# Summary\n\n# 基础\n\n- [开篇]()\n- [第二课]()\n"
            } else {
                "# Summary\n\n# Basics\n\n- [Opening]()\n- [Second]()\n"
            };
            std::fs::write(book.join("src/SUMMARY.md"), summary).unwrap();
        }
        dir
    }

    #[test]
    fn ids() {
        assert!(valid_id("07-images"));
        assert!(valid_id("extra-2019"));
        for bad in ["", "-x", "x-", "A1", "a--b", "a b", "../x", "a.md"] {
            assert!(!valid_id(bad), "{bad}");
        }
    }

    #[test]
    fn template_front_matter_and_blocks() {
        for lang in Lang::ALL {
            let text = template("07-x", "A \"quoted\" title", lang);
            let fm = text
                .strip_prefix("+++\n")
                .and_then(|t| t.split_once("\n+++\n"))
                .unwrap()
                .0;
            let front: crate::course::model::FrontMatter = toml::from_str(fm).unwrap();
            assert_eq!(front.id, "07-x");
            assert_eq!(front.title, "A \"quoted\" title");
            assert_eq!(front.default_sandbox(), Some("main"));
            for marker in [
                "```sh run",
                "```sh check id=hello-file",
                "# title:",
                "# hint:",
                "```sh solution",
                "```toml quiz",
            ] {
                assert!(text.contains(marker), "{lang}: {marker}");
            }
        }
    }

    #[test]
    fn creates_file_and_summary_entry_and_refuses_overwrite() {
        let dir = course();
        let req = NewLesson {
            course: dir.path().to_owned(),
            id: "01-second".into(),
            title: "Second".into(),
            lang: Lang::En,
            part: None,
            single: true,
        };
        let created = create(&req).unwrap();
        assert_eq!(created.len(), 1);
        let created = &created[0];
        assert_eq!(created.file, dir.path().join("en/src/01-second.md"));
        let summary = std::fs::read_to_string(dir.path().join("en/src/SUMMARY.md")).unwrap();
        assert_eq!(
            summary,
            "# Summary\n\n# Basics\n\n- [Opening]()\n- [Second](01-second.md)\n"
        );
        assert!(
            created.to_string().contains("filled in the draft entry"),
            "{created}"
        );
        // --single: zh untouched.
        let zh = std::fs::read_to_string(dir.path().join("zh/src/SUMMARY.md")).unwrap();
        assert!(zh.contains("- [第二课]()"));

        let before = std::fs::read_to_string(&created.file).unwrap();
        let err = create(&req).unwrap_err();
        assert!(matches!(err, NewError::Exists(_)), "{err}");
        assert_eq!(std::fs::read_to_string(&created.file).unwrap(), before);

        // Without --single the other book gets its copy, titled from its draft.
        let both = create(&NewLesson {
            id: "00-opening".into(),
            title: "Opening".into(),
            single: false,
            ..req.clone()
        })
        .unwrap();
        assert_eq!(both.len(), 2);
        let zh = std::fs::read_to_string(dir.path().join("zh/src/SUMMARY.md")).unwrap();
        assert!(zh.contains("- [开篇](00-opening.md)\n- [第二课]()"), "{zh}");
        let zh_lesson = std::fs::read_to_string(dir.path().join("zh/src/00-opening.md")).unwrap();
        assert!(
            zh_lesson.contains("title = \"开篇\"") && zh_lesson.contains("# 开篇\n"),
            "{zh_lesson}"
        );
        // An existing other-language file is left alone.
        std::fs::write(dir.path().join("zh/src/01-second.md"), "mine").unwrap();
        std::fs::remove_file(dir.path().join("en/src/01-second.md")).unwrap();
        let again = create(&NewLesson {
            single: false,
            ..req.clone()
        })
        .unwrap();
        assert_eq!(again.len(), 1);
        assert_eq!(
            std::fs::read_to_string(dir.path().join("zh/src/01-second.md")).unwrap(),
            "mine"
        );
    }

    #[test]
    fn missing_book_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = create(&NewLesson {
            course: dir.path().to_owned(),
            id: "01-a".into(),
            title: "A".into(),
            lang: Lang::Zh,
            part: None,
            single: false,
        })
        .unwrap_err();
        assert!(err.to_string().contains("--course"), "{err}");
        assert!(matches!(
            create(&NewLesson {
                course: dir.path().to_owned(),
                id: "Bad Id".into(),
                title: "A".into(),
                lang: Lang::Zh,
                part: None,
                single: false,
            }),
            Err(NewError::BadId(_))
        ));
    }
}
