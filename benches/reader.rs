//! Reader benchmark (`cargo bench --bench reader`), printing:
//! - time to first frame: process start → first full frame, in a real PTY
//!   (the binary quits right after drawing it), also until the first frame
//!   with syntax-highlighted code;
//! - parse + layout of every shipped lesson;
//! - frame render time for the longest lesson;
//! - peak RSS of the reader during a scripted session;
//! - glow / mdcat on the same file, when installed;
//! - a generated 400 KB page (tables, code, links, CJK prose): parse + full
//!   layout in process, and its first frame in a PTY — beside the previous
//!   release's binary when `KUBELAB_BENCH_BASELINE=/path/to/old/kubelab`,
//!   measured in the same run and printed on one line with the ratio
//!   (there is no stored figure: without the variable the line says the
//!   previous release was not measured).
//!
//! Targets (issue 2): first frame < 60 ms incl. syntect, frame < 2 ms, RSS < 40 MB.

use kubelab::app::{build_app, handle, AppEvent, AppOptions};
use kubelab::course::model::Lang;
use kubelab::panes::pty::{self, PtySize};
use kubelab::render::{highlight, render_doc, BlockStates};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_kubelab");

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn main() {
    // `cargo bench` passes `--bench`; ignore arguments.
    println!(
        "kubelab reader benchmark ({} cores, load average {})",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        // Other work on the machine inflates every figure: say how much.
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .split(' ')
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    let longest = longest_lesson();
    println!(
        "longest lesson: {} ({} bytes)",
        longest.0.display(),
        longest.1
    );
    first_frame();
    parse_and_layout();
    frame_render(&longest.2);
    peak_rss(&longest.2);
    reference_viewers(&longest.0);
    big_page();
}

/// A lesson of about `bytes` bytes in the shapes real pages have: CJK
/// prose with links, three-column tables, YAML and text code blocks.
fn big_lesson(bytes: usize) -> String {
    let mut s = String::from("+++\nid = \"big\"\ntitle = \"大页面\"\n+++\n\n# 大页面\n\n");
    let mut n = 0;
    while s.len() < bytes {
        n += 1;
        s.push_str(&format!(
            "## 第 {n} 节\n\n容器其实是宿主机上一个普通的进程，只不过内核给它戴上了几副“眼罩”（Namespace），又套上了几道“缰绳”（Cgroups）。详见 [API 概念](https://kubernetes.io/zh-cn/docs/reference/using-api/api-concepts/#section-{n})，以及 `unshare --pid --fork` 的用法。\n\n\
| 标识 | 描述 | 示例 |\n| --- | --- | --- |\n| uid | 对象的唯一标识，由系统自动生成 | 1b4e28ba-2fa1-11d2-883f-0016d3cca427 |\n| name | 用户指定的名称 | nginx-{n} |\n\n\
```yaml\napiVersion: v1\nkind: Pod\nmetadata:\n  name: web-{n}\nspec:\n  containers:\n    - name: app\n      args: [\"--config=/etc/app/config.yaml\", \"--log-level=debug\", \"--listen=0.0.0.0:8080\"]\n```\n\n\
```text\nkubectl → kube-apiserver → Authentication → Authorization → Mutating Admission → Validating Admission → etcd\n```\n\n"
        ));
    }
    s
}

fn big_page() {
    const SIZE: usize = 400 * 1024;
    let dir = tempfile::tempdir().unwrap();
    let book = dir.path().join("lessons/zh");
    std::fs::create_dir_all(book.join("src")).unwrap();
    std::fs::write(
        book.join("book.toml"),
        "[book]\ntitle = \"bench\"\nlanguage = \"zh\"\nsrc = \"src\"\n",
    )
    .unwrap();
    std::fs::write(
        book.join("src/SUMMARY.md"),
        "# Summary\n\n- [大页面](big.md)\n",
    )
    .unwrap();
    let text = big_lesson(SIZE);
    let path = book.join("src/big.md");
    std::fs::write(&path, &text).unwrap();

    // In process: parse, then lay the whole page out at 80 and 120 columns.
    let mut parse = Vec::new();
    let mut layout = Vec::new();
    let mut lines = 0;
    for _ in 0..10 {
        let start = Instant::now();
        let loaded = kubelab::course::lesson::parse_text(&text, &path, Lang::Zh);
        let lesson = loaded.lesson.expect("generated lesson parses");
        parse.push(start.elapsed());
        let start = Instant::now();
        for w in [80u16, 120] {
            let r = render_doc(
                &lesson.doc,
                w,
                &BlockStates::default(),
                kubelab::i18n::strings(Lang::Zh),
            );
            lines = r.lines.len();
        }
        layout.push(start.elapsed());
    }
    println!(
        "{:<40} parse median {}, full layout at 80+120 median {} ({} KB, {lines} lines at 120)",
        "400 KB page, in process",
        ms(median(parse)),
        ms(median(layout)),
        text.len() / 1024
    );

    // The whole app, first frame of that page: this build, and the previous
    // release's binary when given.
    let bins = binaries();
    let mut medians = Vec::new();
    for (label, bin) in bins {
        let report = dir.path().join("frames");
        let data = dir.path().join("data");
        let mut first = Vec::new();
        for _ in 0..7 {
            let _ = std::fs::remove_file(&report);
            let t0 = unix_ns();
            let (mut child, _master) = spawn_bin_in_pty(
                &bin,
                dir.path(),
                &[
                    ("KUBELAB_DEBUG_EXIT_AFTER_FIRST_FRAME", "1"),
                    ("KUBELAB_DEBUG_FRAME_REPORT", report.to_str().unwrap()),
                ],
                &["--data-dir", data.to_str().unwrap(), "open", "big"],
            );
            let status = child.wait().unwrap();
            assert!(status.success(), "{} failed: {status}", bin.display());
            let text = std::fs::read_to_string(&report).expect("frame report written");
            if let Some(ns) = text
                .lines()
                .find_map(|l| l.strip_prefix("first_frame "))
                .and_then(|n| n.parse::<u128>().ok())
            {
                first.push(Duration::from_nanos((ns - t0) as u64));
            }
        }
        println!(
            "{:<40} median {} (min {}, {} runs, 120x40)",
            format!("400 KB page first frame, {label}"),
            ms(median(first.clone())),
            ms(*first.iter().min().unwrap()),
            first.len()
        );
        medians.push(median(first));
    }
    side_by_side(
        "400 KB page first frame (parse + full layout + draw)",
        &medians,
    );
}

/// This build beside the previous release's binary (`KUBELAB_BENCH_BASELINE`)
/// on one line, with their ratio; the previous release is measured in this
/// same run, never a stored number.
fn side_by_side(what: &str, medians: &[Duration]) {
    match medians {
        [this, previous] => println!(
            "{what}: this build {} | previous release {} | ratio {:.2}x",
            ms(*this),
            ms(*previous),
            this.as_secs_f64() / previous.as_secs_f64().max(1e-9)
        ),
        [this] => println!(
            "{what}: this build {} | previous release not measured \
             (set KUBELAB_BENCH_BASELINE to its kubelab binary)",
            ms(*this)
        ),
        _ => {}
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

/// Starts the reader in a fresh 120×40 PTY; returns the child and a thread
/// draining the master (a full PTY buffer would block the app).
fn spawn_in_pty(env: &[(&str, &str)], args: &[&str]) -> (std::process::Child, std::fs::File) {
    spawn_bin_in_pty(Path::new(BIN), &root(), env, args)
}

fn spawn_bin_in_pty(
    bin: &Path,
    course: &Path,
    env: &[(&str, &str)],
    args: &[&str],
) -> (std::process::Child, std::fs::File) {
    let pair = pty::open(PtySize {
        rows: 40,
        cols: 120,
    })
    .expect("open pty");
    let mut cmd = Command::new(bin);
    cmd.args(["--course", course.to_str().unwrap(), "--lang", "zh"])
        .args(args)
        .env("TERM", "xterm-256color")
        .env("KUBELAB_COURSE", course)
        .stdin(Stdio::from(pair.slave.try_clone().unwrap()))
        .stdout(Stdio::from(pair.slave.try_clone().unwrap()))
        .stderr(Stdio::from(pair.slave));
    for (k, v) in env {
        cmd.env(k, v);
    }
    let child = cmd.spawn().expect("start kubelab");
    let master = std::fs::File::from(pair.master);
    let mut reader = master.try_clone().unwrap();
    std::thread::spawn(move || {
        let mut buf = [0u8; 65536];
        while matches!(reader.read(&mut buf), Ok(n) if n > 0) {}
    });
    (child, master)
}

fn unix_ns() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

/// This build, and the previous release's binary when
/// `KUBELAB_BENCH_BASELINE` names one.
fn binaries() -> Vec<(&'static str, PathBuf)> {
    let mut bins = vec![("this build", PathBuf::from(BIN))];
    if let Some(b) = std::env::var_os("KUBELAB_BENCH_BASELINE") {
        bins.push(("previous", PathBuf::from(b)));
    }
    bins
}

fn first_frame() {
    let medians: Vec<Duration> = binaries()
        .into_iter()
        .map(|(label, bin)| first_frame_of(label, &bin))
        .collect();
    side_by_side("first frame (05-process)", &medians);
}

/// Prints the figures of one binary; returns its median first frame.
fn first_frame_of(label: &str, bin: &Path) -> Duration {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let report = dir.path().join("frames");
    let (mut first, mut highlighted, mut total) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..15 {
        let _ = std::fs::remove_file(&report);
        let t0 = unix_ns();
        let start = Instant::now();
        let (mut child, _master) = spawn_bin_in_pty(
            bin,
            &root(),
            &[
                ("KUBELAB_DEBUG_EXIT_AFTER_FIRST_FRAME", "highlighted"),
                ("KUBELAB_DEBUG_FRAME_REPORT", report.to_str().unwrap()),
            ],
            &["--data-dir", data.to_str().unwrap(), "open", "05-process"],
        );
        let status = child.wait().unwrap();
        total.push(start.elapsed());
        assert!(status.success(), "kubelab failed: {status}");
        let text = std::fs::read_to_string(&report).expect("frame report written");
        for line in text.lines() {
            let (name, ns) = line.split_once(' ').unwrap();
            let d = Duration::from_nanos((ns.parse::<u128>().unwrap() - t0) as u64);
            match name {
                "first_frame" => first.push(d),
                _ => highlighted.push(d),
            }
        }
    }
    let row = |label: &str, v: &Vec<Duration>| {
        println!(
            "{label:<40} median {} (min {}, {} runs)",
            ms(median(v.clone())),
            ms(*v.iter().min().unwrap()),
            v.len()
        );
    };
    row(&format!("first frame, {label}"), &first);
    row(&format!("highlighted frame, {label}"), &highlighted);
    row(&format!("process total, {label}"), &total);
    median(first)
}

fn parse_and_layout() {
    let mut runs = Vec::new();
    let mut lessons = 0;
    for _ in 0..20 {
        let start = Instant::now();
        let loaded = kubelab::course::load(&root()).expect("course loads");
        for l in &loaded.lessons {
            highlight::highlight_all(kubelab::render::code_blocks(&l.doc));
            for w in [80u16, 120] {
                let r = render_doc(
                    &l.doc,
                    w,
                    &BlockStates::default(),
                    kubelab::i18n::strings(Lang::Zh),
                );
                std::hint::black_box(r.lines.len());
            }
        }
        lessons = loaded.lessons.len();
        runs.push(start.elapsed());
    }
    println!("{:<40} median {} ({lessons} lessons, laid out at 80 and 120 columns; first run highlights)", "parse + layout of every shipped lesson", ms(median(runs.clone())));
    println!(
        "{:<40} {} (syntect's regexes compile on first use)",
        "  first run, incl. highlighting",
        ms(runs[0])
    );
}

fn longest_lesson() -> (PathBuf, u64, String) {
    let mut best = (PathBuf::new(), 0, String::new());
    for lang in ["zh", "en"] {
        let dir = root().join("lessons").join(lang).join("src");
        for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let p = e.path();
            let len = e.metadata().map_or(0, |m| m.len());
            if p.extension().is_some_and(|x| x == "md")
                && p.file_name().is_some_and(|n| n != "SUMMARY.md")
                && len > best.1
            {
                let id = p.file_stem().unwrap().to_string_lossy().into_owned();
                best = (p, len, id);
            }
        }
    }
    best
}

fn frame_render(id: &str) {
    let opts = AppOptions {
        course_dir: root(),
        ui_lang: Lang::Zh,
        lesson_lang: Lang::Zh,
        open: Some(id.to_string()),
        panes: None,
        progress: None,
        lock: None,
        preview: None,
    };
    for (w, h) in [(80u16, 24u16), (120, 40)] {
        let mut app = build_app(&opts, (w, h)).expect("app");
        let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
        let mut runs = Vec::new();
        for i in 0..2000 {
            // Scroll every frame so each one differs, wrapping at the end.
            let key = if (i / 200) % 2 == 0 { 'j' } else { 'k' };
            handle(
                &mut app,
                AppEvent::Key(crossterm::event::KeyEvent::from(
                    crossterm::event::KeyCode::Char(key),
                )),
            );
            let start = Instant::now();
            term.draw(|f| kubelab::ui::draw(f, &app)).unwrap();
            runs.push(start.elapsed());
        }
        let mut sorted = runs.clone();
        sorted.sort();
        println!(
            "{:<40} median {}, p99 {} at {w}x{h} (2000 frames, scrolling)",
            format!("frame render ({id})"),
            ms(median(runs)),
            ms(sorted[sorted.len() * 99 / 100])
        );
        // A resize re-wraps the whole lesson (cache miss).
        let start = Instant::now();
        for k in 0..50u16 {
            handle(&mut app, AppEvent::Resize(w - (k % 2), h));
            term.draw(|f| kubelab::ui::draw(f, &app)).unwrap();
        }
        println!(
            "{:<40} mean {} at {w}x{h}",
            "frame after resize (re-wrap + draw)",
            ms(start.elapsed() / 50)
        );
    }
}

fn peak_rss(id: &str) {
    let data = tempfile::tempdir().unwrap();
    let (mut child, mut master) = spawn_in_pty(
        &[],
        &["--data-dir", data.path().to_str().unwrap(), "open", id],
    );
    std::thread::sleep(Duration::from_millis(400));
    use std::io::Write;
    for k in ["G", "g", "/", "namespace", "\r", "?", "\x1b", "n", "p"] {
        let _ = master.write_all(k.as_bytes());
        std::thread::sleep(Duration::from_millis(60));
    }
    for _ in 0..100 {
        let _ = master.write_all(b"j");
    }
    std::thread::sleep(Duration::from_millis(300));
    let status =
        std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap_or_default();
    let hwm = status
        .lines()
        .find(|l| l.starts_with("VmHWM"))
        .unwrap_or("VmHWM: ?")
        .to_string();
    let _ = master.write_all(b"q");
    let _ = child.wait();
    println!(
        "{:<40} {} (scripted session: open, scroll, search, help, n/p)",
        "peak RSS",
        hwm.trim_start_matches("VmHWM:").trim()
    );
}

fn reference_viewers(file: &Path) {
    let mut any = false;
    for (tool, args) in [
        ("glow", vec!["-s", "dark", "-w", "120"]),
        ("mdcat", vec!["--columns", "120"]),
    ] {
        if Command::new(tool).arg("--version").output().is_err() {
            continue;
        }
        any = true;
        let mut runs = Vec::new();
        for _ in 0..10 {
            let start = Instant::now();
            let out = Command::new(tool)
                .args(&args)
                .arg(file)
                .output()
                .expect("run");
            runs.push(start.elapsed());
            assert!(out.status.success());
        }
        println!(
            "{:<40} median {} (render {} to a pipe)",
            format!("{tool} (reference)"),
            ms(median(runs)),
            file.display()
        );
    }
    if !any {
        let policy = Command::new("apt-cache")
            .args(["policy", "glow", "mdcat"])
            .output();
        let candidates = policy
            .map(|o| String::from_utf8_lossy(&o.stdout).contains("Candidate"))
            .unwrap_or(false);
        println!(
            "{:<40} not available{}",
            "glow / mdcat (reference)",
            if candidates {
                " (install with apt-get install glow or mdcat)"
            } else {
                " (no Debian package: apt-cache policy glow mdcat is empty)"
            }
        );
    }
}
