//! Each namespace really isolates: observable facts from inside and outside.

mod common;
use common::*;
use kubelab_sandbox::observe;
use kubelab_sandbox::spec::Namespace;
use kubelab_sandbox::{Sandbox, StdioMode};

#[test]
fn hostname_change_is_invisible_outside() {
    if skip(userns_unavailable()) {
        return;
    }
    let before = host_hostname();
    let mut s = spec(&[]);
    s.hostname = Some("lab-one".into());
    // A default sandbox has a container's capabilities: no CAP_SYS_ADMIN.
    let (code, out, _) = run_sh(s.clone(), "hostname; hostname nope 2>/dev/null; echo $?");
    assert_eq!(code, 0);
    assert_eq!(out, "lab-one\n1\n");
    s.privileged = true;
    let (code, out, err) = run_sh(s, "hostname; hostname changed-inside; hostname");
    assert_eq!(code, 0, "stderr: {err}");
    assert_eq!(out, "lab-one\nchanged-inside\n");
    assert_eq!(host_hostname(), before);
}

#[test]
fn pid_one_inside_with_a_different_host_pid() {
    if skip(userns_unavailable()) {
        return;
    }
    let mut sb = Sandbox::spawn(
        &spec(&["/bin/sh", "-c", "echo $$; cat /proc/1/comm; sleep 30"]),
        &opts(StdioMode::Piped),
    )
    .unwrap();
    let init = sb.pid() as i32;
    assert_ne!(init, 1);
    let chain = observe::nspid(init).unwrap();
    assert_eq!(chain.last(), Some(&1), "NSpid of PID 1: {chain:?}");
    assert_eq!(chain.first(), Some(&init));
    let procs = observe::processes(sb.pid());
    assert!(
        procs.iter().any(|p| p.ns_pid == 1 && p.host_pid == init),
        "{procs:?}"
    );
    assert!(
        procs.iter().any(|p| p.ns_pid == 2 && p.comm == "sh"),
        "{procs:?}"
    );
    use std::io::BufRead;
    let mut lines = std::io::BufReader::new(sb.take_stdout().unwrap()).lines();
    assert_eq!(lines.next().unwrap().unwrap(), "2");
    assert_eq!(lines.next().unwrap().unwrap(), "kubelab-init");
    sb.kill().unwrap();
}

#[test]
fn every_namespace_type_has_its_own_inode() {
    if skip(userns_unavailable()) {
        return;
    }
    let mut sb = Sandbox::spawn(&spec(&["sleep", "30"]), &opts(StdioMode::Null)).unwrap();
    let pairs = observe::namespaces(sb.pid());
    assert_eq!(pairs.len(), 7);
    for p in &pairs {
        assert!(p.isolated(), "{:?} not isolated: {p:?}", p.ns);
    }
    for ns in Namespace::ALL {
        let v = kubelab_sandbox::inspect::field(sb.pid(), &format!("ns.{}", ns.name())).unwrap();
        let host = observe::ns_inode("self", ns).unwrap();
        assert_ne!(v, host.to_string(), "{ns:?}");
    }
    sb.kill().unwrap();
}

#[test]
fn no_host_processes_are_visible() {
    if skip(userns_unavailable()) {
        return;
    }
    let (code, out, err) = run_sh(
        spec(&[]),
        "ls /proc | grep -E '^[0-9]+$' | sort -n | tr '\\n' ' '",
    );
    assert_eq!(code, 0, "{err}");
    // PID 1 (init), 2 (sh) and the pipeline's children: all small numbers.
    let pids: Vec<u32> = out.split_whitespace().map(|p| p.parse().unwrap()).collect();
    assert!(pids.contains(&1) && pids.contains(&2), "{out}");
    // The host has far more processes than the handful inside.
    assert!(
        pids.iter().all(|&p| p < 10),
        "host processes visible: {out}"
    );
}

#[test]
fn writes_to_root_do_not_reach_the_host() {
    if skip(userns_unavailable()) {
        return;
    }
    let marker = format!("/kubelab-marker-{}", std::process::id());
    let mut sb = Sandbox::spawn(
        &spec(&[
            "/bin/sh",
            "-c",
            &format!("echo hi > {marker} && echo x >> /etc/hosts && rm /etc/hostname && sleep 30"),
        ]),
        &opts(StdioMode::Null),
    )
    .unwrap();
    let upper = sb.upper_dir().expect("upper dir");
    let mut listing = Vec::new();
    for _ in 0..500 {
        listing = observe::upper_listing(&upper).unwrap();
        if listing.iter().any(|e| e.path == "/etc/hostname") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(
        !std::path::Path::new(&marker).exists(),
        "{marker} leaked to the host"
    );
    let find = |p: &str| listing.iter().find(|e| e.path == p).map(|e| e.kind);
    assert_eq!(find(&marker), Some(observe::UpperKind::File), "{listing:?}");
    assert_eq!(find("/etc/hosts"), Some(observe::UpperKind::File));
    assert_eq!(find("/etc/hostname"), Some(observe::UpperKind::Whiteout));
    // /usr is the host's, read-only.
    let (code, out) = exec_sh(&sb, "touch /usr/kubelab-x 2>&1; echo $?");
    assert_eq!(code, 0);
    assert!(out.trim().ends_with('1'), "{out}");
    assert!(!std::path::Path::new("/usr/kubelab-x").exists());
    sb.kill().unwrap();
    assert!(!std::path::Path::new(&marker).exists());
}

#[test]
fn exec_joins_the_same_namespaces() {
    if skip(userns_unavailable()) {
        return;
    }
    let mut s = spec(&["sleep", "30"]);
    s.hostname = Some("exec-lab".into());
    let mut sb = Sandbox::spawn(&s, &opts(StdioMode::Null)).unwrap();
    let (code, out) = exec_sh(
        &sb,
        "hostname; for n in pid uts ipc mnt net user cgroup; do readlink /proc/self/ns/$n; done; cat /proc/1/comm; id -u",
    );
    assert_eq!(code, 0, "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "exec-lab");
    for (i, ns) in ["pid", "uts", "ipc", "mnt", "net", "user", "cgroup"]
        .iter()
        .enumerate()
    {
        let want = format!(
            "{ns}:[{}]",
            kubelab_sandbox::inspect::field(sb.pid(), &format!("ns.{ns}")).unwrap()
        );
        assert_eq!(lines[i + 1], want);
    }
    assert_eq!(lines[8], "kubelab-init");
    assert_eq!(lines[9], "0");
    // The exit code of an exec'd command is passed through.
    assert_eq!(exec_sh(&sb, "exit 7").0, 7);
    sb.kill().unwrap();
}

#[test]
fn exit_code_and_pty_work() {
    if skip(userns_unavailable()) {
        return;
    }
    let (code, _, _) = run_sh(spec(&[]), "exit 42");
    assert_eq!(code, 42);
    let mut sb = Sandbox::spawn(
        &spec(&["/bin/sh", "-c", "tty; stty size"]),
        &opts(StdioMode::Pty {
            rows: 33,
            cols: 101,
        }),
    )
    .unwrap();
    let master = sb.take_pty_master().unwrap();
    let mut f = std::fs::File::from(master);
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    use std::io::Read;
    loop {
        match f.read(&mut buf) {
            Ok(0) | Err(_) => break, // EIO when the slave side is gone
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
    assert_eq!(sb.wait().unwrap(), 0);
    let text = String::from_utf8_lossy(&out);
    assert!(
        text.contains("/dev/pts/0"),
        "PTY not from the sandbox's devpts: {text}"
    );
    assert!(text.contains("33 101"), "{text}");
}

/// The test helper binary, bind-mounted read-only at `/syscalls` inside a
/// sandbox, makes raw system calls there (`syscalls NR...`).
fn with_syscall_tool(mut s: kubelab_sandbox::spec::Spec) -> kubelab_sandbox::spec::Spec {
    s.mounts.push(kubelab_sandbox::spec::Mount::Bind {
        source: helper(),
        target: "/syscalls".into(),
        readonly: true,
    });
    s
}

/// `NR:RETURN:ERRNO` lines of the `syscalls` mode, after its Seccomp line.
fn check_syscalls(out: &str, x32_keyctl: &str) {
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 5, "{out}");
    assert_eq!(lines[0].split_whitespace().nth(1), Some("2"), "{out}");
    assert_eq!(lines[1], "250:-1:1", "keyctl must fail with EPERM: {out}");
    assert_eq!(
        lines[2],
        format!("{x32_keyctl}:-1:38"),
        "x32 gets ENOSYS: {out}"
    );
    assert_eq!(lines[3], "321:-1:1", "bpf must fail with EPERM: {out}");
    assert!(
        lines[4].starts_with("39:") && !lines[4].contains(":-1:"),
        "{out}"
    );
}

#[cfg(target_arch = "x86_64")]
#[test]
fn the_seccomp_filter_denies_kernel_interfaces_labs_never_need() {
    if skip(userns_unavailable()) {
        return;
    }
    // keyctl(250), its x32 twin, bpf(321), getpid(39) as a control.
    let x32_keyctl = (0x4000_0000 + 250).to_string();
    let args = ["/syscalls", "syscalls", "250", &x32_keyctl, "321", "39"];
    for privileged in [false, true] {
        // Privileged labs keep their capabilities, not these calls.
        let mut s = with_syscall_tool(spec(&args));
        s.privileged = privileged;
        let mut sb = Sandbox::spawn(&s, &opts(StdioMode::Piped)).expect("spawn");
        let (out, err) = read_all(&mut sb);
        assert_eq!(sb.wait().unwrap(), 0, "{err}");
        check_syscalls(&out, &x32_keyctl);
    }

    // An exec'd command (a check, a second shell) gets the filter too.
    let sb = Sandbox::spawn(
        &with_syscall_tool(spec(&["sleep", "30"])),
        &opts(StdioMode::Null),
    )
    .unwrap();
    let req = kubelab_sandbox::ExecRequest {
        command: args.iter().map(|a| a.to_string()).collect(),
        ..kubelab_sandbox::ExecRequest::shell("")
    };
    let p = sb.exec(&req, StdioMode::Piped).unwrap();
    let (code, out, _) = p.output().unwrap();
    drop(sb);
    assert_eq!(code, 0);
    check_syscalls(&String::from_utf8_lossy(&out), &x32_keyctl);
}
