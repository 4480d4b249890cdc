//! kubelab installed like a real tool: the binary alone (as `cargo install`
//! leaves it) runs the built-in course with the source checkout gone, says
//! its course version, and prints shell completions and a man page.

use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_kubelab");
const HELPER: &str = env!("CARGO_BIN_EXE_kubelab-helper");

/// `bin/kubelab` and `bin/kubelab-helper` in a fresh prefix, as
/// `cargo install` lays them out (no `share/`), and an empty home.
/// The tests of this file, one at a time: one test's fork must not inherit
/// the other's half-written copy of the binary (exec would fail with
/// ETXTBSY).
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn installed() -> (tempfile::TempDir, PathBuf) {
    let prefix = tempfile::tempdir().unwrap();
    let bin = prefix.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::create_dir_all(prefix.path().join("home")).unwrap();
    std::fs::copy(BIN, bin.join("kubelab")).unwrap();
    std::fs::copy(HELPER, bin.join("kubelab-helper")).unwrap();
    let exe = bin.join("kubelab");
    (prefix, exe)
}

fn run(exe: &Path, home: &Path, args: &[&str]) -> std::process::Output {
    output(
        Command::new(exe)
            .args(args)
            .env_clear()
            .env("HOME", home)
            .env("PATH", "/usr/bin:/bin")
            .current_dir(home),
    )
}

/// `cmd.output()`, retried while the just-copied binary is "text file
/// busy" (a fork elsewhere in this process holding the copy's descriptor;
/// [`SERIAL`] keeps this file's own tests from doing that).
fn output(cmd: &mut Command) -> std::process::Output {
    let mut tries = 0;
    loop {
        match cmd.output() {
            Err(e) if e.raw_os_error() == Some(26) && tries < 100 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            r => return r.unwrap(),
        }
    }
}

#[test]
fn the_built_in_course_works_with_the_source_checkout_gone() {
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let (prefix, exe) = installed();
    let home = prefix.path().join("home");
    if !kubelab_sandbox::is_root() || Command::new("unshare").arg("--version").output().is_err() {
        eprintln!("SKIP: hiding the checkout needs root and unshare(1)");
        return;
    }
    // A private mount namespace where the checkout is an empty tmpfs: as
    // after moving it, or for `cargo install --git` (built in a temp dir).
    let checkout = env!("CARGO_MANIFEST_DIR");
    let script = format!(
        "mount -t tmpfs none {checkout} && exec {} --lang zh list",
        exe.display()
    );
    let out = output(
        Command::new("unshare")
            .args(["-m", "--propagation", "private", "sh", "-c", &script])
            .env_clear()
            .env("HOME", &home)
            .env("PATH", "/usr/bin:/bin:/usr/sbin:/sbin")
            .current_dir(&home),
    );
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("05-process"), "{stdout}");
    assert!(!stderr.contains(checkout), "names the checkout: {stderr}");
    // Unpacked once into the user's cache.
    assert!(home.join(".cache/kubelab").is_dir());
}

#[test]
fn version_names_the_course_and_completions_and_man_page_print() {
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let (prefix, exe) = installed();
    let home = prefix.path().join("home");
    let v = run(&exe, &home, &["--version"]);
    let v = String::from_utf8_lossy(&v.stdout);
    assert!(v.starts_with("kubelab ") && v.contains("(course "), "{v}");
    for (shell, marker) in [
        ("bash", "_kubelab"),
        ("zsh", "#compdef kubelab"),
        ("fish", "complete -c kubelab"),
    ] {
        let out = run(&exe, &home, &["completions", shell]);
        assert!(out.status.success(), "{shell}: {out:?}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(marker), "{shell}:\n{text}");
        assert!(text.contains("doctor"), "{shell} completes subcommands");
    }
    let man = run(&exe, &home, &["man"]);
    let man = String::from_utf8_lossy(&man.stdout);
    assert!(man.contains(".TH kubelab 1"), "{man}");
    assert!(
        man.contains("\\-\\-data\\-dir") || man.contains("--data-dir"),
        "{man}"
    );
}
