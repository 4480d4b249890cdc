//! `kubectl get pods` rows: READY, STATUS, RESTARTS and AGE computed by
//! kubectl's own rules (`pkg/printers/internalversion/printers.go`
//! `printPod`; ages by apimachinery `util/duration.HumanDuration`), so what
//! a learner reads on the node transfers to a cluster.

use k8s_openapi::api::core::v1::{ContainerStatus, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::chrono::{DateTime, Utc};

/// One row of `kubectl get pods` (`-o wide` adds IP and NODE, and the
/// NOMINATED NODE and READINESS GATES columns, always `<none>` here).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodRow {
    pub name: String,
    pub ready: String,
    pub status: String,
    pub restarts: String,
    pub age: String,
    pub ip: String,
    pub node: String,
}

/// `HumanDuration`: `45s`, `5m12s`, `12m`, `3h`, `5h30m`, `2d3h`, `10d`, `2y5d`.
pub fn human_duration(secs: i64) -> String {
    if secs < -1 {
        return "<invalid>".into();
    }
    if secs < 0 {
        return "0s".into();
    }
    if secs < 120 {
        return format!("{secs}s");
    }
    let minutes = secs / 60;
    if minutes < 10 {
        let s = secs % 60;
        return if s == 0 {
            format!("{minutes}m")
        } else {
            format!("{minutes}m{s}s")
        };
    }
    if minutes < 180 {
        return format!("{minutes}m");
    }
    let hours = minutes / 60;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 {
            format!("{hours}h")
        } else {
            format!("{hours}h{m}m")
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 {
            format!("{}d", hours / 24)
        } else {
            format!("{}d{h}h", hours / 24)
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let dy = (hours / 24) % 365;
        return if dy == 0 {
            format!("{}y", hours / 24 / 365)
        } else {
            format!("{}y{dy}d", hours / 24 / 365)
        };
    }
    format!("{}y", hours / 24 / 365)
}

/// `translateTimestampSince`: `<unknown>` without a time.
fn since(t: Option<&Time>, now: DateTime<Utc>) -> String {
    match t {
        Some(t) => human_duration((now - t.0).num_seconds()),
        None => "<unknown>".into(),
    }
}

fn last_termination(s: &ContainerStatus) -> Option<DateTime<Utc>> {
    let t = s.last_state.as_ref()?.terminated.as_ref()?;
    t.finished_at.as_ref().map(|f| f.0)
}

/// `printPod` for one Pod at time `now`.
pub fn pod_row(pod: &Pod, now: DateTime<Utc>) -> PodRow {
    let status = pod.status.clone().unwrap_or_default();
    let spec = pod.spec.clone().unwrap_or_default();
    let total = spec.containers.len();
    let n_init = spec.init_containers.as_ref().map_or(0, Vec::len);
    let mut reason = status
        .reason
        .clone()
        .or(status.phase.clone())
        .unwrap_or_default();
    let mut restarts: i64 = 0;
    let mut ready = 0;
    let mut last_restart: Option<DateTime<Utc>> = None;
    let note = |s: &ContainerStatus, restarts: &mut i64, last: &mut Option<DateTime<Utc>>| {
        *restarts += i64::from(s.restart_count);
        if let Some(t) = last_termination(s) {
            if last.is_none_or(|l| l < t) {
                *last = Some(t);
            }
        }
    };

    let mut initializing = false;
    for (i, c) in status.init_container_statuses.iter().flatten().enumerate() {
        note(c, &mut restarts, &mut last_restart);
        let state = c.state.clone().unwrap_or_default();
        match (&state.terminated, &state.waiting) {
            (Some(t), _) if t.exit_code == 0 => continue,
            (Some(t), _) => {
                reason = match t.reason.as_deref().filter(|r| !r.is_empty()) {
                    Some(r) => format!("Init:{r}"),
                    None => match t.signal.filter(|s| *s != 0) {
                        Some(sig) => format!("Init:Signal:{sig}"),
                        None => format!("Init:ExitCode:{}", t.exit_code),
                    },
                };
            }
            (None, Some(w))
                if w.reason
                    .as_deref()
                    .is_some_and(|r| !r.is_empty() && r != "PodInitializing") =>
            {
                reason = format!("Init:{}", w.reason.as_deref().unwrap_or_default());
            }
            _ => reason = format!("Init:{i}/{n_init}"),
        }
        initializing = true;
        break;
    }

    let initialized_true = status
        .conditions
        .iter()
        .flatten()
        .any(|c| c.type_ == "Initialized" && c.status == "True");
    if !initializing || initialized_true {
        restarts = 0;
        last_restart = None;
        let mut has_running = false;
        for c in status.container_statuses.iter().flatten().rev() {
            note(c, &mut restarts, &mut last_restart);
            let state = c.state.clone().unwrap_or_default();
            if let Some(r) = state
                .waiting
                .as_ref()
                .and_then(|w| w.reason.clone())
                .filter(|r| !r.is_empty())
            {
                reason = r;
            } else if let Some(t) = &state.terminated {
                reason = match t.reason.clone().filter(|r| !r.is_empty()) {
                    Some(r) => r,
                    None => match t.signal.filter(|s| *s != 0) {
                        Some(sig) => format!("Signal:{sig}"),
                        None => format!("ExitCode:{}", t.exit_code),
                    },
                };
            } else if c.ready && state.running.is_some() {
                has_running = true;
                ready += 1;
            }
        }
        if reason == "Completed" && has_running {
            let has_ready = status
                .conditions
                .iter()
                .flatten()
                .any(|c| c.type_ == "Ready" && c.status == "True");
            reason = if has_ready { "Running" } else { "NotReady" }.into();
        }
    }
    let phase_terminal = matches!(status.phase.as_deref(), Some("Succeeded" | "Failed"));
    if pod.metadata.deletion_timestamp.is_some() && !phase_terminal {
        reason = "Terminating".into();
    }
    let restarts = match last_restart {
        Some(t) if restarts != 0 => format!(
            "{restarts} ({} ago)",
            human_duration((now - t).num_seconds())
        ),
        _ => restarts.to_string(),
    };
    PodRow {
        name: pod.metadata.name.clone().unwrap_or_default(),
        ready: format!("{ready}/{total}"),
        status: reason,
        restarts,
        age: since(pod.metadata.creation_timestamp.as_ref(), now),
        ip: status.pod_ip.clone().unwrap_or_else(|| "<none>".into()),
        node: spec.node_name.clone().unwrap_or_else(|| "<none>".into()),
    }
}

/// The table as kubectl prints it (tabwriter, columns padded by 3 spaces,
/// the last one unpadded).
pub fn table(rows: &[PodRow], wide: bool) -> String {
    let mut cells: Vec<Vec<String>> = vec![["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
        .map(String::from)
        .to_vec()];
    if wide {
        cells[0].extend(["IP", "NODE", "NOMINATED NODE", "READINESS GATES"].map(String::from));
    }
    for r in rows {
        let mut row = vec![
            r.name.clone(),
            r.ready.clone(),
            r.status.clone(),
            r.restarts.clone(),
            r.age.clone(),
        ];
        if wide {
            // No scheduler and no readiness gates on kubelab's node.
            row.extend([
                r.ip.clone(),
                r.node.clone(),
                "<none>".into(),
                "<none>".into(),
            ]);
        }
        cells.push(row);
    }
    columns(&cells)
}

/// kubectl's tabwriter: each column as wide as its widest cell, three
/// spaces between columns, no padding after the last.
pub fn columns(cells: &[Vec<String>]) -> String {
    let cols = cells.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|i| {
            cells
                .iter()
                .filter_map(|r| r.get(i))
                .map(|c| c.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in cells {
        for (i, cell) in row.iter().enumerate() {
            out.push_str(cell);
            if i + 1 < row.len() {
                out.push_str(&" ".repeat(widths[i] - cell.chars().count() + 3));
            }
        }
        out.push('\n');
    }
    out
}
