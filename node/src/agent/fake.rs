//! A test double of the runtime: records every call, and lets a test make
//! a container exit or its exec commands fail. Test code only.

use crate::runtime::{
    CheckOutcome, Container, ContainerConfig, NetCheck, PodSandbox, PodSandboxConfig, Runtime,
};
use crate::status::container::Exit;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Clone, PartialEq)]
pub enum Call {
    RunSandbox(String),
    Start {
        pod: String,
        container: String,
        argv: Vec<String>,
        log: PathBuf,
    },
    Stop {
        container: String,
        grace: Duration,
    },
    Exec {
        container: String,
        argv: Vec<String>,
    },
    RemoveSandbox(String),
    NetCheck(NetCheck),
    MountMemory {
        dir: PathBuf,
        size: u64,
    },
    Unmount(PathBuf),
    SyncServices(crate::service::ServicePlan),
    ClusterDns(std::net::Ipv4Addr),
    StartVolumePlugins(crate::runtime::VolumePluginConfig),
    /// A driver call: its arguments after the executable.
    VolumePlugin(Vec<String>),
}

#[derive(Default)]
pub struct Shared {
    pub calls: Vec<Call>,
    /// Pending exits by container name (taken by the next try_wait).
    pub exits: BTreeMap<String, i32>,
    /// Containers that exit with this code as soon as they start.
    pub exit_on_start: BTreeMap<String, i32>,
    /// Exit code of exec commands by container name (default 0).
    pub exec_code: BTreeMap<String, i32>,
    /// The IP every Pod sandbox gets (`None`: loopback only).
    pub pod_ip: Option<std::net::IpAddr>,
    /// Why Pods have no network (`pod_network`'s answer), if they have none.
    pub no_network: Option<String>,
    /// What every Pod sandbox reports as not applied (`resource_note`).
    pub resource_note: Option<String>,
    /// Network checks that succeed, by port (the others fail).
    pub open_ports: std::collections::BTreeSet<u16>,
    /// What `run_pod_sandbox` reports as the Pod's cgroup directories.
    pub pod_cgroup_dirs: Vec<PathBuf>,
    /// While true, `exec_sync` (a hook, an exec probe) does not return: a
    /// test watches what the node shows meanwhile, then lets it go.
    pub hold_exec: bool,
    /// The last start's mounts by container name: (host path, container path).
    pub mounts: BTreeMap<String, Vec<(PathBuf, String)>>,
    /// Why the node has no cluster DNS (`cluster_dns`'s answer), if it has none.
    pub no_dns: Option<String>,
    /// A driver's reply by verb (default: `Success`, and no attach for `init`).
    pub driver_replies: BTreeMap<String, String>,
}

#[derive(Clone, Default)]
pub struct FakeRuntime(pub Arc<Mutex<Shared>>);

impl FakeRuntime {
    pub fn calls(&self) -> Vec<Call> {
        self.0.lock().unwrap().calls.clone()
    }
    pub fn exit(&self, container: &str, code: i32) {
        self.0.lock().unwrap().exits.insert(container.into(), code);
    }
    pub fn starts_of(&self, container: &str) -> usize {
        self.calls()
            .iter()
            .filter(|c| matches!(c, Call::Start { container: n, .. } if n == container))
            .count()
    }
}

fn exit(code: i32, id: &str) -> Exit {
    let t = crate::agent::now_time();
    Exit {
        exit_code: code,
        signal: None,
        oom_killed: false,
        started_at: t.clone(),
        finished_at: t,
        container_id: Some(format!("kubelab://{id}")),
        message: None,
    }
}

struct FakeContainer {
    name: String,
    id: String,
    shared: Arc<Mutex<Shared>>,
    done: bool,
}

struct FakeTtyExec {
    master: Option<std::os::fd::OwnedFd>,
    code: i32,
}

impl crate::runtime::TtyExec for FakeTtyExec {
    fn take_master(&mut self) -> Option<std::os::fd::OwnedFd> {
        self.master.take()
    }
    fn try_wait(&mut self) -> std::io::Result<Option<i32>> {
        Ok(Some(self.code))
    }
    fn kill(&mut self) -> std::io::Result<i32> {
        Ok(self.code)
    }
}

impl Container for FakeContainer {
    fn id(&self) -> &str {
        &self.id
    }
    fn pid(&self) -> u32 {
        4242
    }
    fn try_wait(&mut self) -> std::io::Result<Option<Exit>> {
        if self.done {
            return Ok(None);
        }
        match self.shared.lock().unwrap().exits.remove(&self.name) {
            Some(code) => {
                self.done = true;
                Ok(Some(exit(code, &self.id)))
            }
            None => Ok(None),
        }
    }
    fn stop(&mut self, grace: Duration) -> std::io::Result<Exit> {
        self.shared.lock().unwrap().calls.push(Call::Stop {
            container: self.name.clone(),
            grace,
        });
        self.done = true;
        Ok(exit(143, &self.id))
    }
    fn exec_sync(
        &self,
        argv: &[String],
        _timeout: Duration,
    ) -> std::io::Result<(i32, Vec<u8>, Vec<u8>)> {
        self.shared.lock().unwrap().calls.push(Call::Exec {
            container: self.name.clone(),
            argv: argv.to_vec(),
        });
        while self.shared.lock().unwrap().hold_exec {
            std::thread::sleep(Duration::from_millis(2));
        }
        let s = self.shared.lock().unwrap();
        let code = s.exec_code.get(&self.name).copied().unwrap_or(0);
        Ok((
            code,
            format!("ran {}\n", argv.join(" ")).into_bytes(),
            Vec::new(),
        ))
    }
    /// The "terminal" is one end of a socket pair: the other end has
    /// written `ran ARGV ROWSxCOLS` and is closed, as a PTY ends.
    fn exec_tty(
        &self,
        argv: &[String],
        rows: u16,
        cols: u16,
    ) -> std::io::Result<Box<dyn crate::runtime::TtyExec>> {
        use std::io::Write;
        let mut s = self.shared.lock().unwrap();
        s.calls.push(Call::Exec {
            container: self.name.clone(),
            argv: argv.to_vec(),
        });
        let (master, mut inner) = std::os::unix::net::UnixStream::pair()?;
        write!(inner, "ran {} {rows}x{cols}\r\n", argv.join(" "))?;
        let code = s.exec_code.get(&self.name).copied().unwrap_or(0);
        Ok(Box::new(FakeTtyExec {
            master: Some(master.into()),
            code,
        }))
    }
}

impl Runtime for FakeRuntime {
    fn run_pod_sandbox(&self, config: &PodSandboxConfig) -> std::io::Result<PodSandbox> {
        let mut s = self.0.lock().unwrap();
        s.calls.push(Call::RunSandbox(config.name.clone()));
        Ok(PodSandbox {
            id: format!("sb-{}", config.uid),
            infra_pid: 1,
            netns: PathBuf::from("/proc/1/ns/net"),
            ip: s.pod_ip.filter(|_| s.no_network.is_none()),
            network_note: s.no_network.clone(),
            host_network: config.host_network,
            host_ip: None,
            resource_note: s.resource_note.clone(),
            pod_cgroup_dirs: s.pod_cgroup_dirs.clone(),
        })
    }
    fn start_container(
        &self,
        pod: &PodSandbox,
        config: &ContainerConfig,
    ) -> std::io::Result<Box<dyn Container>> {
        let mut s = self.0.lock().unwrap();
        s.mounts.insert(
            config.name.clone(),
            config
                .mounts
                .iter()
                .map(|m| (m.host_path.clone(), m.container_path.clone()))
                .collect(),
        );
        s.calls.push(Call::Start {
            pod: pod.id.clone(),
            container: config.name.clone(),
            argv: config.argv.clone(),
            log: config.log_path.clone(),
        });
        // A line in the CRI format, as the runtime's log pump writes it.
        let mut log = crate::logs::LogFile::open(&config.log_path, config.log_rotation)?;
        log.write_record(
            crate::logs::Stream::Stdout,
            crate::logs::Tag::Full,
            format!("hello from {}", config.name).as_bytes(),
        )?;
        if let Some(code) = s.exit_on_start.get(&config.name).copied() {
            s.exits.insert(config.name.clone(), code);
        }
        let n = s.calls.len();
        Ok(Box::new(FakeContainer {
            name: config.name.clone(),
            id: format!("{}-{n}", config.name),
            shared: self.0.clone(),
            done: false,
        }))
    }
    fn remove_pod_sandbox(&self, pod: &PodSandbox) -> std::io::Result<()> {
        self.0
            .lock()
            .unwrap()
            .calls
            .push(Call::RemoveSandbox(pod.id.clone()));
        Ok(())
    }
    fn pod_network(&self) -> Result<(), String> {
        self.0
            .lock()
            .unwrap()
            .no_network
            .clone()
            .map_or(Ok(()), Err)
    }
    fn net_check(&self, check: &NetCheck, _timeout: Duration) -> CheckOutcome {
        let mut s = self.0.lock().unwrap();
        s.calls.push(Call::NetCheck(check.clone()));
        let port = match check {
            NetCheck::Tcp { port, .. } | NetCheck::Http { port, .. } => *port,
        };
        let success = s.open_ports.contains(&port);
        CheckOutcome {
            success,
            message: if success {
                String::new()
            } else {
                format!("dial tcp :{port}: connect: connection refused")
            },
            status: success.then_some(200),
        }
    }
    fn mount_memory_volume(&self, dir: &Path, size_bytes: u64) -> std::io::Result<()> {
        self.0.lock().unwrap().calls.push(Call::MountMemory {
            dir: dir.to_path_buf(),
            size: size_bytes,
        });
        Ok(())
    }
    fn unmount_volume(&self, dir: &Path) -> std::io::Result<()> {
        self.0
            .lock()
            .unwrap()
            .calls
            .push(Call::Unmount(dir.to_path_buf()));
        Ok(())
    }
    fn start_volume_plugins(
        &self,
        _pod: &PodSandbox,
        config: &crate::runtime::VolumePluginConfig,
    ) -> std::io::Result<()> {
        let mut s = self.0.lock().unwrap();
        s.calls.push(Call::StartVolumePlugins(config.clone()));
        Ok(())
    }
    fn volume_plugin_call(
        &self,
        _pod: &PodSandbox,
        argv: &[String],
        _timeout: Duration,
    ) -> std::io::Result<(i32, Vec<u8>, Vec<u8>)> {
        let mut s = self.0.lock().unwrap();
        let args = argv[1..].to_vec();
        let verb = args.first().cloned().unwrap_or_default();
        s.calls.push(Call::VolumePlugin(args));
        let reply = s.driver_replies.get(&verb).cloned().unwrap_or_else(|| {
            if verb == "init" {
                r#"{"status": "Success", "capabilities": {"attach": false}}"#.into()
            } else {
                r#"{"status": "Success"}"#.into()
            }
        });
        Ok((0, reply.into_bytes(), Vec::new()))
    }
    fn sync_services(&self, plan: &crate::service::ServicePlan) -> Result<(), String> {
        let mut s = self.0.lock().unwrap();
        s.calls.push(Call::SyncServices(plan.clone()));
        s.no_network.clone().map_or(Ok(()), Err)
    }
    fn cluster_dns(&self, address: std::net::Ipv4Addr) -> Result<(), String> {
        let mut s = self.0.lock().unwrap();
        s.calls.push(Call::ClusterDns(address));
        s.no_dns.clone().map_or(Ok(()), Err)
    }
}
