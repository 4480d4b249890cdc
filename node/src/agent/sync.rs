//! The sync loop: one pass over every Pod (`syncPod`), plus what the
//! worker threads report.

use super::handlers::{self, Use};
use super::state::{EventType, Msg, PodEntry, ProbeSlot, Running, Slot};
use super::{
    build, devices, etc_hosts, flex_volume, now_time, resolv_conf, volumes, Inner, Node, State,
};
use crate::probe::{self, KillReason, ProbeAction, ProbeKind, ProbeResult, ProbeWorker};
use crate::restart::{self, BackOffDecision, CrashLoopBackOff, RestartPolicy};
use crate::runtime::ContainerConfig;
use crate::status::{self, container as cs, PodFacts};
use k8s_openapi::api::core::v1::{Container, ContainerStatus};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

impl Node {
    /// Waits for a report or the tick, then syncs every Pod once.
    pub(crate) fn sync_once(&self) {
        let inner = &*self.inner;
        let mut msgs = Vec::new();
        if let Ok(rx) = inner.rx.lock() {
            if let Ok(m) = rx.recv_timeout(inner.config.tick) {
                msgs.push(m);
            }
            while let Ok(m) = rx.try_recv() {
                msgs.push(m);
            }
        }
        self.scan_static_if_due();
        let mut st = self.lock();
        for m in msgs {
            handle_msg(inner, &mut st, m);
        }
        let now = Instant::now();
        let others: Vec<_> = st
            .pods
            .values()
            .filter_map(|p| crate::qos::PodResources::from_pod(&p.pod).ok())
            .collect();
        let State { pods, backoff, .. } = &mut *st;
        for entry in pods.values_mut() {
            sync_pod(self, entry, backoff, &others, now);
            refresh_status(entry, now);
        }
        st.generation = st.generation.wrapping_add(1);
        drop(st);
        self.sync_services();
        inner.changed.notify_all();
    }
}

fn handle_msg(inner: &Inner, st: &mut State, m: Msg) {
    let now = Instant::now();
    match m {
        Msg::Kick => {}
        Msg::PodGone { uid, errors } => {
            if let Ok(mut d) = inner.devices.lock() {
                d.free_pod(&uid);
            }
            if let Some(entry) = st.pods.remove(&uid) {
                for e in errors {
                    st.message(format!("pod {:?}: {e}", entry.name()));
                }
                let dir = volumes::pod_dir(&inner.config.state_dir, &uid);
                if let Err(e) = volumes::remove_pod_dir(&*inner.runtime, &dir) {
                    st.message(format!("pod {:?}: {e}", entry.name()));
                }
            }
            st.backoff.forget_pod(&uid);
            // A static file that lists this UID again (removed and put
            // back while the Pod was stopping) is read again to restart it.
            let mut again = false;
            for f in st.statics.values_mut() {
                again |= f.forget_if_listed(&uid);
            }
            if again {
                st.last_static_scan = None;
            }
        }
        Msg::Stopped {
            uid,
            container,
            instance,
            exit,
        } => {
            let Some(entry) = st.pods.get_mut(&uid) else {
                return;
            };
            let Some(slot) = entry.slot_mut(&container) else {
                return;
            };
            if slot.running.as_ref().map(|r| r.instance) != Some(instance) {
                return;
            }
            match exit {
                Ok(e) => {
                    let oom = e.oom_killed;
                    slot.exited(e, now);
                    if oom {
                        entry.event(
                            EventType::Warning,
                            cs::OOM_KILLED,
                            format!("Container {container} was killed: out of memory"),
                        );
                    }
                }
                Err(e) => {
                    if let Some(r) = &mut slot.running {
                        r.killing = false;
                    }
                    entry.event(
                        EventType::Warning,
                        "FailedKillPod",
                        format!("error killing container {container}: {e}"),
                    );
                }
            }
        }
        Msg::PostStart {
            uid,
            container,
            instance,
            result,
        } => {
            let Some(entry) = st.pods.get_mut(&uid) else {
                return;
            };
            let grace = kill_grace_of(entry, &container, KillReason::PodStop);
            let Some(slot) = entry.slot_mut(&container) else {
                return;
            };
            let Some(run) = slot.running.as_mut().filter(|r| r.instance == instance) else {
                return;
            };
            run.post_start_pending = false;
            if let Err(out) = result {
                kill(inner, &uid, &container, run, grace);
                slot.waiting = Some((cs::POST_START_HOOK_ERROR.into(), Some(out.clone())));
                entry.event(
                    EventType::Warning,
                    "FailedPostStartHook",
                    format!("PostStartHook failed: {out}"),
                );
                entry.event(
                    EventType::Normal,
                    "Killing",
                    format!("FailedPostStartHook: stopping container {container}"),
                );
            }
        }
        Msg::Probe {
            uid,
            container,
            instance,
            kind,
            result,
        } => {
            let Some(entry) = st.pods.get_mut(&uid) else {
                return;
            };
            let grace = kill_grace_of(entry, &container, KillReason::ProbeFailure(kind));
            let Some(slot) = entry.slot_mut(&container) else {
                return;
            };
            let Some(run) = slot.running.as_mut().filter(|r| r.instance == instance) else {
                return;
            };
            let Some(p) = run.probes.iter_mut().find(|p| p.worker.kind == kind) else {
                return;
            };
            p.busy = false;
            let verdict = if result.is_ok() {
                ProbeResult::Success
            } else {
                ProbeResult::Failure
            };
            let action = p.worker.record(verdict);
            let mut events = Vec::new();
            if let Err(out) = &result {
                let what = match kind {
                    ProbeKind::Liveness => "Liveness",
                    ProbeKind::Readiness => "Readiness",
                    ProbeKind::Startup => "Startup",
                };
                events.push((
                    EventType::Warning,
                    "Unhealthy",
                    format!("{what} probe failed: {out}"),
                ));
            }
            match action {
                ProbeAction::None => {}
                ProbeAction::SetReady(r) => run.ready = r,
                ProbeAction::Started => {
                    run.started = true;
                    // Without a readiness probe, started means ready.
                    if !run
                        .probes
                        .iter()
                        .any(|p| p.worker.kind == ProbeKind::Readiness)
                    {
                        run.ready = true;
                    }
                }
                ProbeAction::Kill => {
                    events.push((
                        EventType::Normal,
                        "Killing",
                        probe::probe_kill_message(&container, kind),
                    ));
                    kill(inner, &uid, &container, run, grace);
                }
            }
            for (t, r, m) in events {
                entry.event(t, r, m);
            }
        }
    }
}

fn kill_grace_of(entry: &PodEntry, container: &str, reason: KillReason) -> Duration {
    let spec = entry.pod.spec.clone().unwrap_or_default();
    spec.containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
        .find(|c| c.name == container)
        .map(|c| probe::kill_grace(&entry.pod, c, reason))
        .unwrap_or(probe::MIN_GRACE)
}

/// Stops one instance on a thread; the exit comes back as `Msg::Stopped`.
fn kill(inner: &Inner, uid: &str, container: &str, run: &mut Running, grace: Duration) {
    if run.killing {
        return;
    }
    run.killing = true;
    let handle = run.handle.clone();
    let tx = Ok::<_, ()>(inner.tx.clone());
    let (uid, container, instance) = (uid.to_string(), container.to_string(), run.instance);
    std::thread::spawn(move || {
        let exit = handle
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .stop(grace)
            .map_err(|e| e.to_string());
        if let Ok(tx) = tx {
            let _ = tx.send(Msg::Stopped {
                uid,
                container,
                instance,
                exit,
            });
        }
    });
}

fn sync_pod(
    node: &Node,
    entry: &mut PodEntry,
    backoff: &mut CrashLoopBackOff,
    others: &[crate::qos::PodResources],
    now: Instant,
) {
    let inner = &*node.inner;
    poll_exits(entry, now);
    if entry.deleting.is_some() {
        if !entry.terminating {
            entry.terminating = true;
            terminate(node, entry);
        }
        return;
    }
    let spec = entry.pod.spec.clone().unwrap_or_default();
    let policy = RestartPolicy::from_spec(spec.restart_policy.as_deref()).unwrap_or_default();
    if entry.sandbox.is_none() {
        if entry.sandbox_retry_at.is_some_and(|t| now < t) {
            return;
        }
        if let Err(msg) = admit_devices(inner, entry) {
            // Shown as the Pod's STATUS until a retry admits it.
            for slot in entry.init.iter_mut().chain(entry.containers.iter_mut()) {
                slot.waiting = Some((
                    devices::UNEXPECTED_ADMISSION_ERROR.into(),
                    Some(msg.clone()),
                ));
            }
            entry.event(EventType::Warning, devices::UNEXPECTED_ADMISSION_ERROR, msg);
            entry.sandbox_retry_at = Some(now + inner.config.backoff.initial);
            return;
        }
        match create_sandbox(inner, entry, others) {
            Ok(()) => entry.sandbox_retry_at = None,
            Err(SandboxError::Mount(e)) => {
                entry.event(EventType::Warning, "FailedMount", e);
                entry.sandbox_retry_at = Some(now + inner.config.backoff.initial);
                return;
            }
            Err(SandboxError::Create(e)) => {
                entry.event(
                    EventType::Warning,
                    "FailedCreatePodSandBox",
                    format!("Failed to create pod sandbox: {e}"),
                );
                entry.sandbox_retry_at = Some(now + inner.config.backoff.initial);
                return;
            }
        }
    }
    if entry.failed {
        return;
    }
    refresh_projected_if_due(inner, entry, now);
    // Init containers, one at a time, in order.
    let inits = spec.init_containers.clone().unwrap_or_default();
    for c in &inits {
        let i = entry.init.iter().position(|s| s.name == c.name);
        let Some(i) = i else { continue };
        if entry.init[i].done {
            continue;
        }
        if entry.init[i].running.is_some() {
            return;
        }
        if let Some((e, _)) = &entry.init[i].last_exit {
            if e.exit_code == 0 {
                entry.init[i].done = true;
                continue;
            }
            if !policy.restarts_init_container(e.exit_code) {
                entry.failed = true;
                return;
            }
        }
        maybe_start(node, entry, backoff, c, true, now);
        return;
    }
    for c in &spec.containers {
        let Some(slot) = entry.containers.iter().find(|s| s.name == c.name) else {
            continue;
        };
        if let Some(run) = &slot.running {
            if !run.killing && !run.post_start_pending {
                schedule_probes(&node.inner, entry, &c.name, now);
            }
            continue;
        }
        if let Some((e, _)) = &slot.last_exit {
            if !policy.restarts_container(e.exit_code) {
                continue;
            }
        }
        maybe_start(node, entry, backoff, c, false, now);
    }
}

/// Every `sync_frequency`, while a container of the Pod runs, writes its
/// configMap/secret/downwardAPI volumes again, as the kubelet's periodic
/// sync does: an edited source reaches running containers through the
/// `..data` swap. A failure is a `FailedMount` warning; the Pod runs on.
fn refresh_projected_if_due(inner: &Inner, entry: &mut PodEntry, now: Instant) {
    let running = entry
        .init
        .iter()
        .chain(&entry.containers)
        .any(|s| s.running.is_some());
    if !running || !volumes::has_projected(&entry.pod) {
        return;
    }
    if entry
        .projected_at
        .is_some_and(|t| now.duration_since(t) < inner.config.sync_frequency)
    {
        return;
    }
    entry.projected_at = Some(now);
    let facts = build::node_facts(&inner.config);
    if let Err(e) = volumes::refresh_projected(&inner.config.state_dir, &entry.pod, &facts) {
        entry.event(
            EventType::Warning,
            "FailedMount",
            format!("MountVolume.SetUp failed: {e}"),
        );
    }
}

/// The event saying what of a Pod's resource plan the kernel did not take
/// (the kubelet has none: on its nodes the plan always applies).
const RESOURCES_NOT_APPLIED: &str = "ResourcesNotApplied";

/// Reaps instances that ended by themselves.
fn poll_exits(entry: &mut PodEntry, now: Instant) {
    let mut ended = Vec::new();
    for slot in entry.init.iter_mut().chain(entry.containers.iter_mut()) {
        let Some(run) = &slot.running else { continue };
        // A probe or exec holds the container: look again next tick.
        let Ok(mut c) = run.handle.try_lock() else {
            continue;
        };
        match c.try_wait() {
            Ok(Some(exit)) => {
                drop(c);
                let oom = exit.oom_killed;
                slot.exited(exit, now);
                if oom {
                    ended.push(slot.name.clone());
                }
            }
            Ok(None) => {}
            Err(_) => {}
        }
    }
    for name in ended {
        entry.event(
            EventType::Warning,
            cs::OOM_KILLED,
            format!("Container {name} was killed: out of memory"),
        );
    }
}

/// Why a Pod has no sandbox yet: its creation failed, or a volume plugin
/// could not mount a volume (the sandbox is then removed again, and both
/// are tried again later).
enum SandboxError {
    Create(String),
    Mount(String),
}

/// The device manager's admission: a Pod asking for devices gets all of
/// them (and their device nodes) or does not start.
fn admit_devices(inner: &Inner, entry: &PodEntry) -> Result<(), String> {
    let wants = devices::requests(&entry.pod);
    if wants.is_empty() {
        return Ok(());
    }
    inner.runtime.device_rules().map_err(|why| {
        format!(
            "the Pod asks for a device but this node cannot enforce device rules ({why}): \
             a device given without them would open every device; run the node as root"
        )
    })?;
    let mut manager = inner
        .devices
        .lock()
        .map_err(|_| "the device manager is poisoned".to_string())?;
    let allocs = manager.allocate(entry.uid(), &wants)?.to_vec();
    let dir = volumes::pod_dir(&inner.config.state_dir, entry.uid());
    let owner = devices::pod_root();
    for a in &allocs {
        for id in &a.ids {
            if let Err(e) = devices::make_node(&devices::node_path(&dir, id), a.kind, owner) {
                manager.free_pod(entry.uid());
                return Err(format!("Allocate {id}: {e}"));
            }
        }
    }
    Ok(())
}

fn create_sandbox(
    inner: &Inner,
    entry: &mut PodEntry,
    others: &[crate::qos::PodResources],
) -> Result<(), SandboxError> {
    let facts = build::node_facts(&inner.config);
    volumes::prepare(
        &*inner.runtime,
        &inner.config.state_dir,
        &inner.config.host_path_roots,
        &entry.pod,
        &facts,
    )
    .map_err(SandboxError::Create)?;
    let cfg =
        build::sandbox_config(&entry.pod, &inner.config, others).map_err(SandboxError::Create)?;
    let sb = inner
        .runtime
        .run_pod_sandbox(&cfg)
        .map_err(|e| SandboxError::Create(e.to_string()))?;
    // FlexVolume: the drivers mount before any container starts (they
    // need the Pod's user namespace, which the infra holds).
    if flex_volume::has_flex(&entry.pod) {
        let setup = flex_volume::setup(
            &*inner.runtime,
            &sb,
            &inner.config.state_dir,
            inner.config.volume_plugin_dir.as_deref(),
            &entry.pod,
        );
        if let Err(e) = setup {
            let _ = inner.runtime.remove_pod_sandbox(&sb);
            return Err(SandboxError::Mount(e));
        }
    }
    if let Some(note) = &sb.network_note {
        // The kubelet's event when its CNI is not ready; here the Pod
        // still runs, with loopback only.
        entry.event(
            EventType::Warning,
            "NetworkNotReady",
            format!("network is not ready: {note}"),
        );
    }
    if let Some(note) = &sb.resource_note {
        entry.event(
            EventType::Warning,
            RESOURCES_NOT_APPLIED,
            format!("pod sandbox: {note}"),
        );
    }
    entry.sandbox = Some(sb);
    Ok(())
}

/// Starts a container now, or leaves it in CrashLoopBackOff.
fn maybe_start(
    node: &Node,
    entry: &mut PodEntry,
    backoff: &mut CrashLoopBackOff,
    c: &Container,
    init: bool,
    now: Instant,
) {
    let inner = &*node.inner;
    let uid = entry.uid().to_string();
    let (pod_name, ns) = (entry.name().to_string(), entry.namespace().to_string());
    let Some(slot) = entry.slot_mut(&c.name) else {
        return;
    };
    let finished = slot
        .last_exit
        .as_ref()
        .map(|(_, t)| *t)
        .or(slot.start_failed_at);
    if let Some(finished_at) = finished {
        let key = CrashLoopBackOff::key(&uid, &c.name);
        if let BackOffDecision::Wait { backoff: step, .. } = backoff.decide(&key, finished_at, now)
        {
            let entering =
                slot.waiting.as_ref().map(|w| w.0.as_str()) != Some(cs::CRASH_LOOP_BACK_OFF);
            slot.waiting = Some((
                cs::CRASH_LOOP_BACK_OFF.into(),
                Some(restart::crash_loop_message(
                    step, &c.name, &pod_name, &ns, &uid,
                )),
            ));
            if entering {
                entry.event(
                    EventType::Warning,
                    "BackOff",
                    format!(
                        "Back-off restarting failed container {} in pod {pod_name}_{ns}({uid})",
                        c.name
                    ),
                );
            }
            return;
        }
    }
    let restart_count = if slot.starts == 0 { 0 } else { slot.starts };
    let image = entry
        .images
        .iter()
        .find(|(n, _)| *n == c.name)
        .map(|(_, i)| i.clone());
    let resolv = if entry.sandbox.is_some() {
        let dir = volumes::pod_dir(&inner.config.state_dir, entry.uid());
        resolv_conf::ensure(inner, entry, &dir)
    } else {
        None
    };
    let result = (|| {
        let image = image.ok_or_else(|| {
            (
                cs::CREATE_CONTAINER_CONFIG_ERROR,
                "no image resolved".to_string(),
            )
        })?;
        let facts = build::node_facts(&inner.config);
        let vols = volumes::prepare(
            &*inner.runtime,
            &inner.config.state_dir,
            &inner.config.host_path_roots,
            &entry.pod,
            &facts,
        )
        .map_err(|e| (cs::CREATE_CONTAINER_CONFIG_ERROR, e))?;
        let pod_ip = entry.sandbox.as_ref().and_then(|sb| sb.ip);
        let uid = entry.pod.metadata.uid.as_deref().unwrap_or_default();
        let hosts = etc_hosts::ensure(
            &volumes::pod_dir(&inner.config.state_dir, uid),
            &entry.pod,
            pod_ip,
        )
        .map_err(|e| {
            (
                cs::CREATE_CONTAINER_CONFIG_ERROR,
                format!("/etc/hosts: {e}"),
            )
        })?;
        let cfg = build::container_config(
            &entry.pod,
            c,
            &image,
            &inner.config,
            &vols,
            restart_count,
            (pod_ip, entry.sandbox.as_ref().and_then(|sb| sb.host_ip)),
        )
        .map_err(|e| (cs::CREATE_CONTAINER_CONFIG_ERROR, e))?;
        let cfg = ContainerConfig {
            mounts: resolv_conf::with_resolv_conf(
                build::with_etc_hosts(cfg.mounts, Some(&hosts)),
                resolv.as_deref(),
            ),
            ..cfg
        };
        let held = inner
            .devices
            .lock()
            .map(|d| d.allocated(uid).to_vec())
            .unwrap_or_default();
        let cfg =
            devices::with_allocation(cfg, &held, &volumes::pod_dir(&inner.config.state_dir, uid));
        if let Some(dir) = cfg.log_path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| {
                (
                    cs::CREATE_CONTAINER_ERROR,
                    format!("{}: {e}", dir.display()),
                )
            })?;
        }
        let sb = entry
            .sandbox
            .as_ref()
            .ok_or((cs::CREATE_CONTAINER_ERROR, "no pod sandbox".to_string()))?;
        inner
            .runtime
            .start_container(sb, &cfg)
            .map_err(|e| (cs::RUN_CONTAINER_ERROR, e.to_string()))
    })();
    let image_name = c.image.clone().unwrap_or_default();
    let pod_ip = entry.sandbox.as_ref().and_then(|sb| sb.reach_ip());
    let slot = entry.slot_mut(&c.name).expect("slot exists");
    match result {
        Err((reason, msg)) => {
            slot.waiting = Some((reason.to_string(), Some(msg.clone())));
            slot.start_failed_at = Some(now);
            entry.event(EventType::Warning, "Failed", format!("Error: {msg}"));
        }
        Ok(handle) => {
            let instance = inner.next_instance.fetch_add(1, Ordering::Relaxed);
            let id = handle.id().to_string();
            let pid = handle.pid();
            let resource_note = handle.resource_note();
            let handle = Arc::new(Mutex::new(handle));
            let probes: Vec<ProbeSlot> = if init {
                Vec::new()
            } else {
                super::state::probes_of(c)
                    .into_iter()
                    .filter_map(|(kind, p)| {
                        let handler = handlers::of_probe(p, c, pod_ip)?;
                        let worker = ProbeWorker::new(kind, p);
                        Some(ProbeSlot {
                            next_due: now + worker.timing.initial_delay,
                            worker,
                            handler,
                            busy: false,
                        })
                    })
                    .collect()
            };
            let has = |k| probes.iter().any(|p: &ProbeSlot| p.worker.kind == k);
            let started = !has(ProbeKind::Startup);
            let ready = started && !has(ProbeKind::Readiness);
            let post_start = c
                .lifecycle
                .as_ref()
                .and_then(|l| l.post_start.as_ref())
                .and_then(|h| handlers::of_hook(h, c, pod_ip));
            slot.starts += 1;
            slot.waiting = None;
            slot.start_failed_at = None;
            slot.running = Some(Running {
                handle: handle.clone(),
                id,
                pid,
                instance,
                started_at: now_time(),
                since: now,
                probes,
                started,
                ready,
                post_start_pending: post_start.is_some(),
                killing: false,
            });
            entry.event(
                EventType::Normal,
                "Pulled",
                format!("Container image {image_name:?} already present on machine"),
            );
            entry.event(
                EventType::Normal,
                "Created",
                format!("Created container {}", c.name),
            );
            entry.event(
                EventType::Normal,
                "Started",
                format!("Started container {}", c.name),
            );
            if let Some(note) = resource_note {
                entry.event(
                    EventType::Warning,
                    RESOURCES_NOT_APPLIED,
                    format!("container {}: {note}", c.name),
                );
            }
            if let Some(hook) = post_start {
                let tx = Ok::<_, ()>(inner.tx.clone());
                let name = c.name.clone();
                let grace = kill_grace_of(entry, &c.name, KillReason::PodStop);
                let inner = node.inner.clone();
                std::thread::spawn(move || {
                    let result = handlers::run(&*inner.runtime, &handle, &hook, grace, Use::Hook);
                    if let Ok(tx) = tx {
                        let _ = tx.send(Msg::PostStart {
                            uid,
                            container: name,
                            instance,
                            result,
                        });
                    }
                });
            }
        }
    }
}

fn schedule_probes(inner: &Arc<Inner>, entry: &mut PodEntry, container: &str, now: Instant) {
    let uid = entry.uid().to_string();
    let Some(slot) = entry.slot_mut(container) else {
        return;
    };
    let Some(run) = &mut slot.running else { return };
    let running_for = now.saturating_duration_since(run.since);
    let started = run.started;
    for p in &mut run.probes {
        if p.busy || now < p.next_due || !p.worker.should_run(running_for, started) {
            continue;
        }
        p.busy = true;
        p.next_due = now + p.worker.timing.period;
        let (handle, handler, timeout) = (
            run.handle.clone(),
            p.handler.clone(),
            p.worker.timing.timeout,
        );
        let tx = Ok::<_, ()>(inner.tx.clone());
        let inner = inner.clone();
        let (uid, container, instance, kind) = (
            uid.clone(),
            container.to_string(),
            run.instance,
            p.worker.kind,
        );
        std::thread::spawn(move || {
            let result = handlers::run(&*inner.runtime, &handle, &handler, timeout, Use::Probe);
            if let Ok(tx) = tx {
                let _ = tx.send(Msg::Probe {
                    uid,
                    container,
                    instance,
                    kind,
                    result,
                });
            }
        });
    }
}

/// Deletion: preStop then stop with the grace period, every container at
/// once, then the sandbox; reported as `Msg::PodGone`.
fn terminate(node: &Node, entry: &mut PodEntry) {
    let grace = entry.deleting.unwrap_or(probe::MIN_GRACE);
    let spec = entry.pod.spec.clone().unwrap_or_default();
    let pod_ip = entry.sandbox.as_ref().and_then(|sb| sb.reach_ip());
    let mut jobs = Vec::new();
    let mut events = Vec::new();
    for slot in entry.init.iter_mut().chain(entry.containers.iter_mut()) {
        let Some(run) = &mut slot.running else {
            continue;
        };
        run.killing = true;
        let pre_stop = spec
            .containers
            .iter()
            .find(|c| c.name == slot.name)
            .and_then(|c| handlers::of_hook(c.lifecycle.as_ref()?.pre_stop.as_ref()?, c, pod_ip));
        events.push(format!("Stopping container {}", slot.name));
        jobs.push((slot.name.clone(), run.handle.clone(), pre_stop));
    }
    for m in events {
        entry.event(EventType::Normal, "Killing", m);
    }
    let sandbox = entry.sandbox.clone();
    let uid = entry.uid().to_string();
    let inner = node.inner.clone();
    let flex_pod = flex_volume::has_flex(&entry.pod).then(|| entry.pod.clone());
    std::thread::spawn(move || {
        let started = Instant::now();
        let workers: Vec<_> = jobs
            .into_iter()
            .map(|(name, handle, pre_stop)| {
                let inner = inner.clone();
                std::thread::spawn(move || -> Result<(), String> {
                    let mut left = grace;
                    if let Some(hook) = pre_stop {
                        // The hook runs within the grace period; the stop
                        // gets what is left, at least 2 s (kubelet).
                        let _ = handlers::run(&*inner.runtime, &handle, &hook, grace, Use::Hook);
                        left = grace
                            .saturating_sub(started.elapsed())
                            .max(probe::MIN_GRACE.min(grace));
                    }
                    handle
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .stop(left)
                        .map(|_| ())
                        .map_err(|e| format!("stopping container {name}: {e}"))
                })
            })
            .collect();
        let mut errors: Vec<String> = workers
            .into_iter()
            .filter_map(|w| {
                w.join()
                    .unwrap_or_else(|_| Err("a stop thread panicked".into()))
                    .err()
            })
            .collect();
        if let Some(sb) = sandbox {
            // The kubelet's TearDown of each flexVolume volume, once its
            // containers are gone.
            if let Some(pod) = &flex_pod {
                errors.extend(flex_volume::teardown(&*inner.runtime, &sb, pod));
            }
            if let Err(e) = inner.runtime.remove_pod_sandbox(&sb) {
                errors.push(format!("removing the pod sandbox: {e}"));
            }
        }
        if let Ok(tx) = Ok::<_, ()>(&inner.tx) {
            let _ = tx.send(Msg::PodGone { uid, errors });
        }
    });
}

fn slot_status(slot: &Slot, creating_reason: &str) -> (ContainerStatus, bool) {
    let last = |e: &Option<crate::status::container::Exit>| e.as_ref().map(cs::terminated);
    let container_id = slot
        .running
        .as_ref()
        .map(|r| format!("kubelab://{}", r.id))
        .or_else(|| {
            slot.last_exit
                .as_ref()
                .and_then(|(e, _)| e.container_id.clone())
        });
    let (state, last_state, ready, started) = match (&slot.running, &slot.last_exit, &slot.waiting)
    {
        // The kubelet runs postStart inside its start of the container, so
        // the API shows it still being created until the hook returns.
        (Some(r), last_exit, _) if r.post_start_pending => (
            cs::waiting(creating_reason, None),
            last_exit.as_ref().map(|(e, _)| cs::terminated(e)),
            false,
            false,
        ),
        // An init container is ready only once it exited 0 (the prober
        // manager's rule): while it runs, the Pod is `Init:N/M`.
        (Some(r), last_exit, _) => (
            cs::running(r.started_at.clone()),
            last_exit.as_ref().map(|(e, _)| cs::terminated(e)),
            !slot.init && r.ready && r.started && !r.killing,
            r.started,
        ),
        (None, Some((e, _)), Some((reason, msg))) => (
            cs::waiting(reason, msg.clone()),
            Some(cs::terminated(e)),
            false,
            false,
        ),
        (None, Some((e, _)), None) => (
            cs::terminated(e),
            last(&slot.prev_exit),
            slot.init && e.exit_code == 0,
            false,
        ),
        (None, None, Some((reason, msg))) => (cs::waiting(reason, msg.clone()), None, false, false),
        (None, None, None) => (cs::waiting(creating_reason, None), None, false, false),
    };
    let s = cs::container_status(cs::ContainerView {
        name: slot.name.clone(),
        image: slot.image.clone(),
        image_id: String::new(),
        container_id,
        state,
        last_state,
        restart_count: slot.restart_count() as i32,
        ready,
        started,
    });
    (s, ready)
}

/// Rewrites `entry.pod.status` from what the node knows.
pub(crate) fn refresh_status(entry: &mut PodEntry, _now: Instant) {
    let init_pending = entry.init.iter().any(|s| !s.done);
    let init: Vec<ContainerStatus> = entry
        .init
        .iter()
        .map(|s| slot_status(s, cs::POD_INITIALIZING).0)
        .collect();
    let creating = if init_pending {
        cs::POD_INITIALIZING
    } else {
        cs::CONTAINER_CREATING
    };
    let statuses: Vec<ContainerStatus> = entry
        .containers
        .iter()
        .map(|s| slot_status(s, creating).0)
        .collect();
    let facts = PodFacts {
        sandbox_ready: entry.sandbox.is_some(),
        pod_ip: entry
            .sandbox
            .as_ref()
            .and_then(|sb| sb.ip)
            .map(|ip| ip.to_string()),
        host_ip: entry
            .sandbox
            .as_ref()
            .and_then(|sb| sb.host_ip)
            .map(|ip| ip.to_string()),
        start_time: entry.pod.metadata.creation_timestamp.clone(),
        terminal: entry.deleting.is_some(),
        static_pod: matches!(entry.source, super::state::Source::File(_)),
    };
    let previous = entry.pod.status.clone();
    let st = status::pod_status(
        &entry.pod,
        init,
        statuses,
        &facts,
        previous.as_ref(),
        &now_time(),
    );
    entry.pod.status = Some(st);
}
