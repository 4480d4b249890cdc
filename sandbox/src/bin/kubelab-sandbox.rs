//! Helper binary of the kubelab-sandbox crate: re-executed as the sandbox
//! supervisor/exec helper by the crate's own tests, and a tiny runner:
//! `kubelab-sandbox run-hold ID [RUNTIME_DIR]` spawns a sandbox that sleeps, prints
//! `PIDS <supervisor> <init>` and waits (the leak test SIGKILLs it).
//! `kubelab-sandbox run [--ns ..] [--memory M] [--cpus C] [--pids N] -- CMD` is a
//! plain runner with inherited stdio, for timing the engine alone.
//! `kubelab-sandbox world-smoke SPEC-JSON [NODE CMD]...` brings a world up
//! in `$XDG_RUNTIME_DIR/world`, runs each `sh -c CMD` in its NODE, prints
//! its output and `EXIT <code>`, and takes the world down;
//! `kubelab-sandbox world-up SPEC-JSON` brings one up, prints `STATE <json>`
//! and leaves it running (the rootless world tests).

use kubelab_sandbox::{spec::Spec, Sandbox, SpawnOptions, StdioMode};

fn main() {
    if let Some(code) = kubelab_sandbox::dispatch() {
        std::process::exit(code);
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("world-smoke") => std::process::exit(world_smoke(&args[1..], false)),
        Some("world-up") => std::process::exit(world_smoke(&args[1..], true)),
        Some("run-hold") => {
            let mut spec = Spec {
                command: vec![
                    "/bin/sh".into(),
                    "-c".into(),
                    "sleep 1000 & sleep 1000".into(),
                ],
                ..Spec::default()
            };
            spec.limits.pids = Some(64);
            let opts = SpawnOptions {
                stdio: StdioMode::Null,
                id: args.get(1).cloned(),
                runtime_dir: args.get(2).map(Into::into),
                ..SpawnOptions::default()
            };
            match Sandbox::spawn(&spec, &opts) {
                Ok(sb) => {
                    println!("PIDS {} {}", sb.supervisor_pid(), sb.pid());
                    std::thread::sleep(std::time::Duration::from_secs(1000));
                    drop(sb);
                }
                Err(e) => {
                    eprintln!("{e}");
                    std::process::exit(e.exit_code);
                }
            }
        }
        Some("exec-print") => {
            // exec-print: starts `sleep` in a sandbox, then execs `sh -c
            // 'readlink /proc/self/ns/pid; id -u'` into it and prints that
            // output, then `NS <pid-ns inode of the sandbox seen from outside>`.
            let spec = Spec {
                command: vec!["sleep".into(), "30".into()],
                hostname: Some("exec-lab".into()),
                ..Spec::default()
            };
            let opts = SpawnOptions {
                stdio: StdioMode::Null,
                ..SpawnOptions::default()
            };
            let result = Sandbox::spawn(&spec, &opts).and_then(|mut sb| {
                let req = kubelab_sandbox::ExecRequest::shell(
                    "readlink /proc/self/ns/pid; hostname; id -u",
                );
                let p = sb.exec(&req, StdioMode::Piped)?;
                let (code, out, err) = p
                    .output()
                    .map_err(|e| kubelab_sandbox::Error::new("exec", e.to_string()))?;
                print!("{}", String::from_utf8_lossy(&out));
                eprint!("{}", String::from_utf8_lossy(&err));
                let ns = kubelab_sandbox::inspect::field(sb.pid(), "ns.pid").unwrap_or_default();
                println!("NS {ns}");
                let _ = sb.kill();
                Ok(code)
            });
            match result {
                Ok(code) => std::process::exit(code),
                Err(e) => {
                    eprintln!("ERROR {e}");
                    std::process::exit(e.exit_code);
                }
            }
        }
        Some("syscalls") => {
            // syscalls NR...: makes each raw system call with zero arguments
            // and prints `NR:RETURN:ERRNO`, after this process's `Seccomp:`
            // status line (tests of the sandbox's seccomp filter).
            let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
            let seccomp = status.lines().find(|l| l.starts_with("Seccomp:"));
            println!("{}", seccomp.unwrap_or("Seccomp: unknown"));
            for nr in &args[1..] {
                let Ok(n) = nr.parse::<libc::c_long>() else {
                    eprintln!("syscalls: `{nr}` is not a number");
                    std::process::exit(2);
                };
                // SAFETY: the calls tested take no pointers that are read
                // (zero arguments are null or invalid ids); a denied one
                // never reaches the kernel's implementation.
                let r = unsafe { libc::syscall(n, 0, 0, 0, 0) };
                let errno = if r < 0 {
                    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
                } else {
                    0
                };
                println!("{n}:{r}:{errno}");
            }
        }
        Some("run-print") => {
            // run-print [--cgroup-v2] [--privileged] [--pids N] -- CMD...: runs CMD in a
            // sandbox with piped stdio, prints its output, `NOTE: ...` for a
            // missing cgroup, and exits with its code.
            let mut spec = Spec::default();
            let mut rest = &args[1..];
            let v2 = rest.first().map(String::as_str) == Some("--cgroup-v2");
            if v2 {
                rest = &rest[1..];
            }
            if rest.first().map(String::as_str) == Some("--privileged") {
                spec.privileged = true;
                rest = &rest[1..];
            }
            if rest.first().map(String::as_str) == Some("--pids") {
                spec.limits.pids = rest.get(1).and_then(|p| p.parse().ok());
                rest = &rest[2.min(rest.len())..];
            }
            if rest.first().map(String::as_str) == Some("--") {
                rest = &rest[1..];
            }
            spec.command = rest.to_vec();
            let opts = SpawnOptions {
                stdio: StdioMode::Piped,
                cgroup_version: v2.then_some(2),
                ..SpawnOptions::default()
            };
            match Sandbox::spawn(&spec, &opts) {
                Ok(mut sb) => {
                    if let Some(n) = sb.cgroup_note() {
                        eprintln!("NOTE: {n}");
                    }
                    use std::io::Read;
                    drop(sb.take_stdin());
                    let mut out = String::new();
                    if let Some(mut o) = sb.take_stdout() {
                        let _ = o.read_to_string(&mut out);
                    }
                    print!("{out}");
                    let code = sb.wait().unwrap_or(125);
                    std::process::exit(code);
                }
                Err(e) => {
                    eprintln!("ERROR {e}");
                    std::process::exit(e.exit_code);
                }
            }
        }
        Some("run") => {
            // run [--ns a,b] [--memory M] [--cpus C] [--pids N] [--init] -- CMD...:
            // CMD in a sandbox sharing our stdio, exit code passed through
            // (timing runs: `KUBELAB_SANDBOX_TRACE=1 kubelab-sandbox run -- /bin/true`).
            use std::str::FromStr;
            let mut spec = Spec {
                init: false,
                ..Spec::default()
            };
            let mut rest = &args[1..];
            let bad = |what: &str| -> ! {
                eprintln!("run: bad {what}");
                std::process::exit(125)
            };
            while let [opt, val, tail @ ..] = rest {
                let l = &mut spec.limits;
                match opt.as_str() {
                    "--ns" => {
                        spec.namespaces = val
                            .split(',')
                            .map(|n| {
                                kubelab_sandbox::spec::Namespace::from_str(n)
                                    .unwrap_or_else(|_| bad("--ns"))
                            })
                            .collect()
                    }
                    "--memory" => {
                        l.memory = Some(
                            kubelab_sandbox::spec::ByteSize::from_str(val)
                                .unwrap_or_else(|_| bad("--memory")),
                        )
                    }
                    "--cpus" => {
                        l.cpus = Some(
                            kubelab_sandbox::spec::Cpus::from_str(val)
                                .unwrap_or_else(|_| bad("--cpus")),
                        )
                    }
                    "--pids" => l.pids = Some(val.parse().unwrap_or_else(|_| bad("--pids"))),
                    _ => break,
                }
                rest = tail;
            }
            if rest.first().map(String::as_str) == Some("--init") {
                spec.init = true;
                rest = &rest[1..];
            }
            if rest.first().map(String::as_str) == Some("--") {
                rest = &rest[1..];
            }
            spec.command = rest.to_vec();
            let opts = SpawnOptions {
                stdio: StdioMode::Inherit,
                ..SpawnOptions::default()
            };
            match Sandbox::spawn(&spec, &opts) {
                Ok(mut sb) => std::process::exit(sb.wait().unwrap_or(125)),
                Err(e) => {
                    eprintln!("ERROR {e}");
                    std::process::exit(e.exit_code);
                }
            }
        }
        _ => {
            eprintln!("usage: kubelab-sandbox run-hold [ID [RUNTIME_DIR]] | run-print [--pids N] -- CMD... | exec-print | syscalls NR... | run [--ns ..] [--memory M] [--cpus C] [--pids N] [--init] -- CMD  (test helper; normally re-executed by kubelab)");
            std::process::exit(2);
        }
    }
}

fn world_smoke(args: &[String], leave_up: bool) -> i32 {
    use kubelab_sandbox::world;
    let Some((json, pairs)) = args.split_first() else {
        eprintln!("usage: world-smoke SPEC-JSON [NODE CMD]...");
        return 2;
    };
    let spec: kubelab_sandbox::world_spec::WorldSpec = match serde_json::from_str(json) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("spec: {e}");
            return 2;
        }
    };
    let dir = std::path::PathBuf::from(std::env::var_os("XDG_RUNTIME_DIR").unwrap_or_default())
        .join("world");
    let opts = world::UpOptions {
        name: "smoke".into(),
        source: "test".into(),
        dir: dir.clone(),
        helper_exe: std::env::current_exe().unwrap(),
        agents: Vec::new(),
    };
    let st = match world::up(&spec, &opts) {
        Ok(st) => st,
        Err(e) => {
            eprintln!("UP FAILED {e}");
            return 1;
        }
    };
    if leave_up {
        println!("STATE {}", serde_json::to_string(&st).unwrap());
        return 0;
    }
    for pair in pairs.chunks(2) {
        let [node, cmd] = pair else {
            eprintln!("NODE without CMD");
            break;
        };
        let argv = vec!["/bin/sh".to_string(), "-c".to_string(), cmd.clone()];
        let out = world::exec_command(&st, node, &argv, &opts.helper_exe).and_then(|mut c| {
            c.output()
                .map_err(|e| kubelab_sandbox::Error::new("world", e.to_string()))
        });
        match out {
            Ok(o) => {
                print!("{}", String::from_utf8_lossy(&o.stdout));
                eprint!("{}", String::from_utf8_lossy(&o.stderr));
                println!("EXIT {}", o.status.code().unwrap_or(-1));
            }
            Err(e) => println!("EXEC FAILED {e}"),
        }
    }
    match world::down(&dir) {
        Ok(_) => 0,
        Err(e) => {
            eprintln!("DOWN FAILED {e}");
            1
        }
    }
}
