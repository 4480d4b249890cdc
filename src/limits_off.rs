//! A sandbox that runs without the cgroup limits its lesson declares: why,
//! in one sentence a learner can act on, in the UI language.
//!
//! The engine says why in English ([`kubelab_sandbox::Sandbox::cgroup_note`],
//! `kubelab test`'s skip reason): full of paths and errno text, right for
//! `kubelab doctor` and bug reports, wrong for a pane. [`Why::of`] sorts
//! that note into the few cases a learner meets, each with its fix.

use crate::locale::Lang;

/// Why limits are off, as far as the learner's next step is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// cgroup v1 (or hybrid) and not root: v1 has no safe delegation.
    V1NeedsRoot,
    /// cgroup v2, but no subtree of it is delegated to the learner.
    NotDelegated,
    /// cgroup v2 delegated, but without the memory/cpu/pids controller.
    ControllerMissing,
    /// No systemd user manager to ask for a delegated scope.
    NoUserBus,
    /// No cgroup filesystem mounted at all.
    NoCgroupFs,
    /// Anything else (a kernel refusal, a full disk): `kubelab doctor`.
    Other,
}

impl Why {
    /// Sorts an engine note (see the module comment). Order matters: the v2
    /// "not delegated" note also names the missing user bus, which is then
    /// the thing to fix first.
    pub fn of(note: &str) -> Why {
        let n = note.to_ascii_lowercase();
        if n.contains("no cgroup filesystem is mounted") {
            Why::NoCgroupFs
        } else if n.contains("cgroup v1") {
            Why::V1NeedsRoot
        } else if n.contains("no user d-bus") {
            Why::NoUserBus
        } else if n.contains("controller is not available") || n.contains("controller(s) are not") {
            Why::ControllerMissing
        } else if n.contains("not delegated") {
            Why::NotDelegated
        } else {
            Why::Other
        }
    }

    /// One sentence: why limits are off here and how to turn them on.
    pub fn sentence(self, lang: Lang) -> &'static str {
        match (lang, self) {
            (Lang::En, Why::V1NeedsRoot) => {
                "This machine uses cgroup v1, which cannot hand limits to an ordinary user: \
                 run kubelab as root (sudo kubelab), or boot with cgroup v2, to turn them on."
            }
            (Lang::Zh, Why::V1NeedsRoot) => {
                "这台机器用的是 cgroup v1，它无法把限制交给普通用户：\
                 以 root 运行 kubelab（sudo kubelab），或改用 cgroup v2 启动，即可开启限制。"
            }
            (Lang::En, Why::NotDelegated) => {
                "No part of the cgroup v2 tree is delegated to you: start kubelab with \
                 `systemd-run --user --scope -p Delegate=yes kubelab`, or as root, to turn \
                 limits on."
            }
            (Lang::Zh, Why::NotDelegated) => {
                "cgroup v2 的树没有任何一部分委派给你：用 \
                 `systemd-run --user --scope -p Delegate=yes kubelab` 启动 kubelab，\
                 或者以 root 运行，即可开启限制。"
            }
            (Lang::En, Why::ControllerMissing) => {
                "The memory, cpu or pids controller is not delegated to you: \
                 `kubelab doctor` prints the command that delegates it; or run kubelab as root."
            }
            (Lang::Zh, Why::ControllerMissing) => {
                "memory、cpu 或 pids 控制器没有委派给你：\
                 `kubelab doctor` 会给出委派它的命令；或者以 root 运行 kubelab。"
            }
            (Lang::En, Why::NoUserBus) => {
                "Your systemd user manager is not running, so kubelab cannot ask it for a \
                 cgroup of your own: run `sudo loginctl enable-linger $USER` and log in again, \
                 or run kubelab as root."
            }
            (Lang::Zh, Why::NoUserBus) => {
                "你的 systemd 用户管理器没有运行，kubelab 无法向它要一个属于你的 cgroup：\
                 运行 `sudo loginctl enable-linger $USER` 后重新登录，或者以 root 运行 kubelab。"
            }
            (Lang::En, Why::NoCgroupFs) => {
                "No cgroup filesystem is mounted on this machine: mount cgroup2 at \
                 /sys/fs/cgroup (`kubelab doctor` shows how) to turn limits on."
            }
            (Lang::Zh, Why::NoCgroupFs) => {
                "这台机器没有挂载 cgroup 文件系统：把 cgroup2 挂到 /sys/fs/cgroup\
                 （`kubelab doctor` 会说明怎么做），即可开启限制。"
            }
            (Lang::En, Why::Other) => {
                "kubelab could not give this sandbox a cgroup: `kubelab doctor` says why and \
                 how to turn limits on."
            }
            (Lang::Zh, Why::Other) => {
                "kubelab 没能给这个沙箱建立 cgroup：`kubelab doctor` 会说明原因，\
                 以及怎样开启限制。"
            }
        }
    }
}

/// The note when the engine gave none (sorted as [`Why::Other`]).
pub const UNKNOWN: &str = "the sandbox runs without cgroup limits";

/// The note of a sandbox whose spec asks for limits it did not get, `None`
/// when it has them (or asked for none). A cgroup without limits (only a
/// swap note) still counts as limited: the note is then a detail.
pub fn note(asked: bool, has_cgroup: bool, note: Option<&str>) -> Option<String> {
    (asked && !has_cgroup).then(|| note.unwrap_or(UNKNOWN).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_notes_sort_into_what_the_learner_can_do() {
        // The engine's own wordings (sandbox/src/cgroup.rs, cgroup_delegation.rs).
        let cases = [
            (
                "cgroup v1 (/sys/fs/cgroup/cpu) is not writable by uid 65534: Permission denied \
                 (os error 13); cgroup v1 has no safe delegation, so limits need root \
                 (sudo kubelab ...) or a cgroup v2 host",
                Why::V1NeedsRoot,
            ),
            (
                "needs cgroup limits: cgroup v1 (or hybrid) has no safe delegation to ordinary \
                 users; boot with cgroup v2",
                Why::V1NeedsRoot,
            ),
            (
                "cgroup v2 is not delegated to uid 1000 (own cgroup /user.slice/x is not owned \
                 by you); no delegated systemd scope either (no user D-Bus at /run/user/1000/bus); \
                 start your systemd user manager",
                Why::NoUserBus,
            ),
            (
                "cgroup v2 is not delegated to uid 1000 (own cgroup /user.slice/x is not owned \
                 by you); run kubelab inside a delegated scope",
                Why::NotDelegated,
            ),
            (
                "the systemd scope /sys/fs/cgroup/u.scope is not delegated to uid 1000",
                Why::NotDelegated,
            ),
            (
                "the `pids` controller is not available in /sys/fs/cgroup/x (cgroup.controllers: \
                 `cpu memory`); delegate it",
                Why::ControllerMissing,
            ),
            (
                "needs cgroup limits: the pids controller(s) are not delegated to /x; fix",
                Why::ControllerMissing,
            ),
            (
                "no cgroup filesystem is mounted; mount cgroup2 at /sys/fs/cgroup",
                Why::NoCgroupFs,
            ),
            ("cannot create a cgroup in /x: No space left", Why::Other),
        ];
        for (note, want) in cases {
            assert_eq!(Why::of(note), want, "{note}");
        }
    }

    #[test]
    fn every_reason_has_a_sentence_in_each_language_that_names_a_fix() {
        let all = [
            Why::V1NeedsRoot,
            Why::NotDelegated,
            Why::ControllerMissing,
            Why::NoUserBus,
            Why::NoCgroupFs,
            Why::Other,
        ];
        for w in all {
            let (en, zh) = (w.sentence(Lang::En), w.sentence(Lang::Zh));
            assert_ne!(en, zh);
            assert!(en.is_ascii(), "{en}");
            assert!(!zh.is_ascii(), "{zh}");
            // The fix: root, or a command / the doctor.
            assert!(
                ["root", "`"].iter().any(|k| en.contains(k)),
                "no fix in {en}"
            );
            assert!(
                ["root", "`"].iter().any(|k| zh.contains(k)),
                "no fix in {zh}"
            );
        }
    }

    #[test]
    fn only_a_sandbox_that_asked_for_limits_and_got_no_cgroup_lacks_them() {
        assert_eq!(note(false, false, Some("no cgroup requested")), None);
        assert_eq!(note(true, true, Some("swap is on")), None);
        assert_eq!(
            note(true, false, Some("cgroup v1 ...")).as_deref(),
            Some("cgroup v1 ...")
        );
        assert!(note(true, false, None).is_some());
    }
}
