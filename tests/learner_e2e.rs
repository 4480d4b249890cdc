//! A learner's walk through a lab lesson in a real terminal (tmux, 80×24,
//! Chinese, as an ordinary user): the bugs found by doing exactly that.

mod learner_common;
use learner_common::*;
use std::time::{Duration, Instant};

const PROMPT: &str = "root@lab:~#";

#[test]
fn the_shell_prompt_shows_on_every_launch_without_a_key() {
    let Some(l) = Learner::new("prompt") else {
        return;
    };
    if !l.can_sandbox() {
        return;
    }
    // The namespaces pane of 00-opening never ticks: nothing but the
    // shell's own output can wake the UI to draw the prompt.
    for launch in 1..=20 {
        let (w, h, lang) = if launch % 2 == 0 {
            (120, 40, "en")
        } else {
            (80, 24, "zh")
        };
        l.start(w, h, &format!("--lang {lang} open 00-opening"));
        let s = l.wait(&format!("the prompt (launch {launch})"), |s| {
            s.contains(PROMPT)
        });

        l.keys(&["q"]);
        l.wait_for("KUBELAB_EXIT=0");
        l.kill_session();
    }
}
