//! A real cluster's Pods for the Pod inspector (issue 20): the lab's Pods
//! and their events from the Objects pane's watches (no API call), the
//! processes found on this machine by `panes::pods::discover` — the same
//! inspector the lab's node feeds. A Pod scheduled elsewhere says so.

use super::tree::Objects;
use crate::panes::pods::model::{EventLine, PodKey};
use crate::panes::pods::ClusterPods;
use k8s_openapi::api::core::v1::{Event, Pod};
use k8s_openapi::chrono::{DateTime, Utc};

/// Most events shown for one Pod (the newest).
pub const EVENTS: usize = 8;

/// The events about Pod `key` in `o`, oldest first, the newest [`EVENTS`].
pub fn pod_events(o: &Objects, key: &PodKey, now: DateTime<Utc>) -> Vec<EventLine> {
    let when = |e: &Event| {
        e.last_timestamp
            .as_ref()
            .map(|t| t.0)
            .or_else(|| e.event_time.as_ref().map(|t| t.0))
            .or_else(|| e.metadata.creation_timestamp.as_ref().map(|t| t.0))
    };
    let mut evs: Vec<&Event> = o
        .events
        .iter()
        .filter(|e| {
            e.involved_object.kind.as_deref() == Some("Pod")
                && e.involved_object.name.as_deref() == Some(key.name.as_str())
        })
        .collect();
    evs.sort_by_key(|e| when(e));
    let skip = evs.len().saturating_sub(EVENTS);
    evs.into_iter()
        .skip(skip)
        .map(|e| EventLine {
            age: when(e).map_or("<unknown>".into(), |t| {
                super::age::human((now - t).num_seconds())
            }),
            warning: e.type_.as_deref() == Some("Warning"),
            reason: e.reason.clone().unwrap_or_default(),
            message: super::error::one_line(&e.message.clone().unwrap_or_default()),
            count: e.count.unwrap_or(1).max(1) as u32,
        })
        .collect()
}

/// Reads the watches' stores: `Err` is why there are none (connecting,
/// a cluster that could not be used).
pub type Snapshot = Box<dyn Fn() -> Result<Objects, String> + Send + Sync>;

/// [`ClusterPods`] over the Objects pane's watches.
pub struct WatchPods {
    pub snapshot: Snapshot,
}

impl ClusterPods for WatchPods {
    fn pods(&self) -> Result<Vec<Pod>, String> {
        (self.snapshot)().map(|o| o.pods)
    }

    fn events(&self, key: &PodKey) -> Vec<EventLine> {
        (self.snapshot)()
            .map(|o| pod_events(&o, key, Utc::now()))
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::chrono::TimeZone;

    #[test]
    fn a_pods_events_are_its_own_oldest_first() {
        let o = crate::cluster::tree::tests::recorded();
        let now = Utc.with_ymd_and_hms(2026, 12, 6, 12, 10, 0).unwrap();
        let pod = o
            .events
            .iter()
            .filter(|e| e.involved_object.kind.as_deref() == Some("Pod"))
            .find_map(|e| e.involved_object.name.clone())
            .expect("the recording has Pod events");
        let key = PodKey {
            namespace: "kubelab-deploy".into(),
            name: pod.clone(),
        };
        let evs = pod_events(&o, &key, now);
        assert!(!evs.is_empty() && evs.len() <= EVENTS);
        let all = o
            .events
            .iter()
            .filter(|e| e.involved_object.name.as_deref() == Some(pod.as_str()))
            .count();
        assert_eq!(evs.len(), all.min(EVENTS));
        let none = PodKey {
            namespace: "kubelab-deploy".into(),
            name: "no-such-pod".into(),
        };
        assert!(pod_events(&o, &none, now).is_empty());
    }
}
