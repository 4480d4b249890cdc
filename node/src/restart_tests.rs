use crate::restart::*;
use std::time::{Duration, Instant};

const S: fn(u64) -> Duration = Duration::from_secs;

#[test]
fn restart_policies_as_should_container_be_restarted() {
    use RestartPolicy::*;
    assert_eq!(RestartPolicy::from_spec(None), Some(Always));
    assert_eq!(RestartPolicy::from_spec(Some("OnFailure")), Some(OnFailure));
    assert_eq!(RestartPolicy::from_spec(Some("always")), None);
    assert!(Always.restarts_container(0) && Always.restarts_container(1));
    assert!(!OnFailure.restarts_container(0) && OnFailure.restarts_container(137));
    assert!(!Never.restarts_container(1));
    assert!(!Always.restarts_init_container(0));
    assert!(Always.restarts_init_container(1) && OnFailure.restarts_init_container(1));
    assert!(!Never.restarts_init_container(1));
}

/// Crashes a container right when each back-off ends and records the steps.
fn steps(b: &mut CrashLoopBackOff, start: Instant, n: usize) -> (Vec<Duration>, Instant) {
    let key = "uid/c";
    let mut now = start;
    let mut waits = Vec::new();
    for _ in 0..n {
        let finished = now; // it crashes at once
        match b.decide(key, finished, now) {
            BackOffDecision::Restart => waits.push(Duration::ZERO),
            BackOffDecision::Wait { remaining, backoff } => {
                assert_eq!(remaining, backoff, "asked right at the exit");
                // Asking again later, still inside the window: still waiting.
                let half = now + remaining / 2;
                assert!(matches!(
                    b.decide(key, finished, half),
                    BackOffDecision::Wait { .. }
                ));
                now += remaining;
                assert_eq!(b.decide(key, finished, now), BackOffDecision::Restart);
                waits.push(remaining);
            }
        }
    }
    (waits, now)
}

#[test]
fn back_off_doubles_from_10s_to_5min() {
    // Kubernetes docs, Pod lifecycle, "Container restarts": "an exponential
    // back-off delay (10s, 20s, 40s, …), that is capped at 300 seconds".
    let mut b = CrashLoopBackOff::new(BackOffConfig::default());
    let (waits, _) = steps(&mut b, Instant::now(), 9);
    assert_eq!(
        waits,
        [
            S(0),
            S(10),
            S(20),
            S(40),
            S(80),
            S(160),
            S(300),
            S(300),
            S(300)
        ]
    );
}

#[test]
fn back_off_resets_after_ten_quiet_minutes() {
    let mut b = CrashLoopBackOff::new(BackOffConfig::default());
    let t0 = Instant::now();
    let (_, now) = steps(&mut b, t0, 5); // restarted after waiting 80 s
    assert_eq!(b.current("uid/c"), Some(S(160)));
    // It ran fine for exactly 10 min after that restart, then crashed: not
    // yet expired (hasExpired needs *more* than 2×max) → waits 160 s.
    let exit = now + S(600);
    assert_eq!(
        b.decide("uid/c", exit, exit),
        BackOffDecision::Wait {
            remaining: S(160),
            backoff: S(160)
        }
    );
    let mut b2 = b.clone();
    assert_eq!(
        b.decide("uid/c", exit, exit + S(160)),
        BackOffDecision::Restart
    );
    assert_eq!(b.current("uid/c"), Some(S(300)));
    // 10 min and 1 s: forgotten, restarted at once, next step 10 s.
    let exit = now + S(601);
    assert_eq!(b2.decide("uid/c", exit, exit), BackOffDecision::Restart);
    assert_eq!(b2.current("uid/c"), Some(S(10)));
}

#[test]
fn lab_scaling_and_forget() {
    let cfg = BackOffConfig::scaled_down(10);
    assert_eq!((cfg.initial, cfg.max), (S(1), S(30)));
    assert_eq!(BackOffConfig::scaled_down(0), BackOffConfig::default());
    let mut b = CrashLoopBackOff::new(cfg);
    let (waits, _) = steps(&mut b, Instant::now(), 8);
    assert_eq!(waits, [S(0), S(1), S(2), S(4), S(8), S(16), S(30), S(30)]);
    b.forget_pod("uid");
    assert_eq!(b.current("uid/c"), None);
}

#[test]
fn messages_use_go_durations() {
    for (d, s) in [
        (S(10), "10s"),
        (S(80), "1m20s"),
        (S(300), "5m0s"),
        (S(3725), "1h2m5s"),
        (Duration::from_millis(500), "500ms"),
        (Duration::from_millis(1500), "1.5s"),
        (S(0), "0s"),
    ] {
        assert_eq!(GoDuration(d).to_string(), s);
    }
    assert_eq!(
        crash_loop_message(S(20), "web", "web", "default", "1234"),
        "back-off 20s restarting failed container=web pod=web_default(1234)"
    );
}
