//! The sampler: a thread per sandbox that reads the engine's observations
//! at 4 Hz for the inspector panes currently shown, keeps histories and
//! derives rates and events, and wakes the UI only when something changed.

use super::model::*;
use crate::panes::kind::PaneKind;
use crate::panes::session::Notify;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Sampling period of the inspectors (4 Hz).
pub const PERIOD: Duration = Duration::from_millis(250);

/// Read-only views of one running sandbox. Implemented over the engine's
/// observation API; `Err` is the one line the pane shows instead of data
/// (e.g. "no cgroup: …" when running without cgroup limits).
pub trait Observe: Send + Sync {
    fn namespaces(&self) -> Result<Vec<NsRow>, String>;
    fn processes(&self) -> Result<Vec<ProcRow>, String>;
    fn cgroup(&self) -> Result<CgroupStats, String>;
    fn filesystem(&self) -> Result<FsView, String>;
    fn network(&self) -> Result<NetView, String>;
    /// OOM kills in the sandbox's cgroup (host PID, name) recorded since the
    /// last call by a source that outlives the cgroup (the kernel log); empty
    /// when there is none.
    fn oom_kills_logged(&self) -> Vec<(u32, String)> {
        Vec::new()
    }
}

/// A running sampler; dropping it stops the thread (within one period).
pub struct Sampler {
    data: Arc<Mutex<Inspection>>,
    wanted: Arc<AtomicU8>,
    stop: Arc<AtomicBool>,
}

fn bit(k: PaneKind) -> u8 {
    1 << (k as u8)
}

impl Sampler {
    /// Starts sampling the kinds in `wanted` (others are skipped: a hidden
    /// pane costs nothing).
    pub fn start(obs: Arc<dyn Observe>, wanted: &[PaneKind], notify: Notify) -> Sampler {
        let s = Sampler {
            data: Arc::new(Mutex::new(Inspection::default())),
            wanted: Arc::new(AtomicU8::new(0)),
            stop: Arc::new(AtomicBool::new(false)),
        };
        s.set_wanted(wanted);
        let (data, want, stop) = (s.data.clone(), s.wanted.clone(), s.stop.clone());
        let _ = std::thread::Builder::new()
            .name("inspector".into())
            .spawn(move || {
                let mut st = State::default();
                while !stop.load(Ordering::Acquire) {
                    let changed = st.sample(obs.as_ref(), want.load(Ordering::Acquire), &data);
                    if changed && !stop.load(Ordering::Acquire) {
                        notify();
                    }
                    std::thread::sleep(PERIOD);
                }
            });
        s
    }

    pub fn set_wanted(&self, kinds: &[PaneKind]) {
        let m = kinds.iter().fold(0u8, |m, k| m | bit(*k));
        self.wanted.store(m, Ordering::Release);
    }

    /// The latest data (hold the guard only while drawing).
    pub fn data(&self) -> MutexGuard<'_, Inspection> {
        self.data.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
    }
}

/// What the sampler remembers between samples.
#[derive(Default)]
struct State {
    cpu: Option<(Instant, u64, u64)>,
    oom_kills: Option<u64>,
    last_procs: Vec<ProcRow>,
    last_memory: u64,
    view: CgroupView,
    /// The network pane's packet view: counters diffed between samples.
    packets: super::net::packet::Tracker,
}

impl State {
    /// One round; returns whether anything visible changed.
    fn sample(&mut self, obs: &dyn Observe, wanted: u8, out: &Mutex<Inspection>) -> bool {
        let want = |k: PaneKind| wanted & bit(k) != 0;
        let mut next = out.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if want(PaneKind::Namespaces) {
            next.namespaces = shown(obs.namespaces());
        }
        // Processes are also needed to name an OOM victim.
        let procs = if want(PaneKind::Processes) || want(PaneKind::Cgroup) {
            Some(obs.processes())
        } else {
            None
        };
        if want(PaneKind::Cgroup) {
            next.cgroup = match obs.cgroup() {
                Ok(stats) => {
                    let now_procs = procs.as_ref().and_then(|p| p.as_ref().ok());
                    self.cgroup(stats, now_procs, obs);
                    Shown::Data(self.view.clone())
                }
                // The sandbox ended (e.g. the OOM killer took its shell):
                // keep the last view, add kills the counter could not show.
                Err(why) if self.oom_kills.is_some() => {
                    if self.view.ended.is_none() {
                        let at = self.view.stats.memory_max.unwrap_or(self.last_memory);
                        for (pid, name) in obs.oom_kills_logged() {
                            let ev = self.logged_event(pid, name, at);
                            push_bounded(&mut self.view.events, ev, 5);
                            self.view.stats.oom_kills += 1;
                        }
                        self.view.ended = Some(why);
                    }
                    Shown::Data(self.view.clone())
                }
                Err(why) => Shown::Unavailable(why),
            };
        }
        if let Some(p) = procs {
            if let Ok(p) = &p {
                self.last_procs = p.clone();
            }
            if want(PaneKind::Processes) {
                next.processes = shown(p);
            }
        }
        if want(PaneKind::Filesystem) {
            next.filesystem = shown(obs.filesystem());
        }
        if want(PaneKind::Network) {
            next.network = match obs.network() {
                Ok(mut v) => {
                    self.packets.update(&mut v, Instant::now());
                    Shown::Data(v)
                }
                Err(why) => Shown::Unavailable(why),
            };
        }
        let mut cur = out.lock().unwrap_or_else(|e| e.into_inner());
        if *cur == next {
            return false;
        }
        *cur = next;
        true
    }

    /// An event for a kill the kernel log names (host PID → sandbox PID
    /// when the process was seen).
    fn logged_event(&self, host_pid: u32, name: String, at: u64) -> OomEvent {
        let pid = self
            .last_procs
            .iter()
            .find(|p| p.host_pid == host_pid)
            .and_then(|p| p.ns_pid)
            .unwrap_or(host_pid);
        OomEvent {
            victim: Some((pid, name)),
            at,
        }
    }

    fn cgroup(&mut self, s: CgroupStats, procs: Option<&Vec<ProcRow>>, obs: &dyn Observe) {
        let now = Instant::now();
        if let Some((t, usage, thr)) = self.cpu {
            let dt = now.duration_since(t).as_micros().max(1) as u64;
            let used = s.cpu_usage_usec.saturating_sub(usage);
            push_bounded(&mut self.view.cpu_milli, used * 1000 / dt, HISTORY);
            self.view.throttled_milli = s.cpu_throttled_usec.saturating_sub(thr) * 1000 / dt;
        }
        self.cpu = Some((now, s.cpu_usage_usec, s.cpu_throttled_usec));
        push_bounded(&mut self.view.memory, s.memory_current, HISTORY);
        if let Some(prev) = self.oom_kills {
            if s.oom_kills > prev {
                let at = s.memory_max.unwrap_or(self.last_memory.max(s.memory_peak));
                // The kernel log names each victim; else guess from the
                // processes that vanished.
                let logged = obs.oom_kills_logged();
                if logged.is_empty() {
                    let ev = oom_event(&self.last_procs, procs, at);
                    push_bounded(&mut self.view.events, ev, 5);
                }
                for (pid, name) in logged {
                    let ev = self.logged_event(pid, name, at);
                    push_bounded(&mut self.view.events, ev, 5);
                }
            }
        }
        self.oom_kills = Some(s.oom_kills);
        self.last_memory = s.memory_current;
        self.view.stats = s;
    }
}

fn shown<T>(r: Result<T, String>) -> Shown<T> {
    match r {
        Ok(v) => Shown::Data(v),
        Err(why) => Shown::Unavailable(why),
    }
}

/// "OOM: pid 12 (hog) killed at 64 MiB": the victim is the biggest process
/// of the previous sample that is gone now (the kernel picks the largest).
pub fn oom_event(before: &[ProcRow], after: Option<&Vec<ProcRow>>, at: u64) -> OomEvent {
    let alive: HashMap<u32, ()> = after
        .map(|a| a.iter().map(|p| (p.host_pid, ())).collect())
        .unwrap_or_default();
    let victim = before
        .iter()
        .filter(|p| !alive.contains_key(&p.host_pid))
        .max_by_key(|p| p.rss);
    OomEvent {
        victim: victim.map(|p| (p.ns_pid.unwrap_or(p.host_pid), p.name.clone())),
        at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(host: u32, ns: u32, name: &str, rss: u64) -> ProcRow {
        ProcRow {
            host_pid: host,
            ns_pid: Some(ns),
            inner_pid: None,
            ppid: 1,
            name: name.into(),
            cmdline: name.into(),
            rss,
        }
    }

    #[test]
    fn oom_victim_is_the_biggest_vanished_process() {
        let before = vec![
            p(100, 1, "sh", 1 << 20),
            p(101, 7, "hog", 60 << 20),
            p(102, 8, "cat", 2 << 20),
        ];
        let after = vec![p(100, 1, "sh", 1 << 20)];
        let ev = oom_event(&before, Some(&after), 64 << 20);
        use crate::course::model::Lang;
        use crate::panes::text::text;
        assert_eq!(ev.line(text(Lang::En)), "OOM: pid 7 (hog) killed at 64 MiB");
        assert_eq!(
            ev.line(text(Lang::Zh)),
            "OOM：pid 7（hog）在 64 MiB 时被杀死"
        );
    }
}

#[cfg(test)]
mod network_tests {
    use super::*;
    use crate::panes::inspect::net::{Hop, LinkRow};
    use std::sync::atomic::AtomicU64;

    /// A namespace whose eth0 sends one more packet at each sample.
    struct Sending(AtomicU64);

    impl Observe for Sending {
        fn namespaces(&self) -> Result<Vec<NsRow>, String> {
            Err("-".into())
        }
        fn processes(&self) -> Result<Vec<ProcRow>, String> {
            Err("-".into())
        }
        fn cgroup(&self) -> Result<CgroupStats, String> {
            Err("-".into())
        }
        fn filesystem(&self) -> Result<FsView, String> {
            Err("-".into())
        }
        fn network(&self) -> Result<NetView, String> {
            let n = self.0.fetch_add(1, Ordering::SeqCst);
            let mut v = NetView::default();
            v.links.rows.push(LinkRow {
                name: "eth0".into(),
                tx_packets: n,
                tx_bytes: n * 98,
                ..LinkRow::default()
            });
            Ok(v)
        }
    }

    #[test]
    fn the_sampler_fills_the_packet_view_only_while_the_pane_is_wanted() {
        let obs = Sending(AtomicU64::new(0));
        let out = Mutex::new(Inspection::default());
        let mut st = State::default();
        st.sample(&obs, bit(PaneKind::Cgroup), &out);
        assert_eq!(
            obs.0.load(Ordering::SeqCst),
            0,
            "a hidden pane costs nothing"
        );
        st.sample(&obs, bit(PaneKind::Network), &out);
        st.sample(&obs, bit(PaneKind::Network), &out);
        let Shown::Data(v) = &out.lock().unwrap().network else {
            panic!("no network data");
        };
        assert_eq!(
            v.packet,
            vec![Hop::Out {
                link: "eth0".into(),
                packets: 1,
                bytes: 98
            }]
        );
    }
}
