//! A stand-in lab sandbox for app-level tests: a real `/bin/sh` (prompt
//! `lab$ `) on a real PTY as its console, checks that never pass, and the
//! observations the test gives.

use kubelab::lab::backend::{LabSandbox, ScriptOutput};
use kubelab::panes::inspect::sampler::Observe;
use kubelab::panes::pty::{self, PtySize, Spawned};
use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The stand-in's console: `/bin/sh` with the prompt `lab$ `.
pub fn sh_console(size: PtySize) -> io::Result<Spawned> {
    pty::spawn_host("/bin/sh", &[], &[("PS1", "lab$ "), ("ENV", "")], size)
}

pub struct ShSandbox {
    console: Mutex<Option<Spawned>>,
    observer: Arc<dyn Observe>,
    on_drop: Option<Box<dyn Fn() + Send + Sync>>,
}

impl ShSandbox {
    pub fn new(console: Option<Spawned>, observer: Arc<dyn Observe>) -> ShSandbox {
        ShSandbox {
            console: Mutex::new(console),
            observer,
            on_drop: None,
        }
    }

    /// Runs `f` when the sandbox is dropped (its teardown).
    pub fn on_drop(mut self, f: impl Fn() + Send + Sync + 'static) -> ShSandbox {
        self.on_drop = Some(Box::new(f));
        self
    }
}

impl Drop for ShSandbox {
    fn drop(&mut self) {
        if let Some(f) = &self.on_drop {
            f();
        }
    }
}

impl LabSandbox for ShSandbox {
    fn name(&self) -> &str {
        "main"
    }
    fn pid(&self) -> u32 {
        4242
    }
    fn take_console(&self) -> Option<Spawned> {
        self.console.lock().unwrap().take()
    }
    fn exec_script(&self, _script: &str, _t: Duration) -> io::Result<ScriptOutput> {
        Ok(ScriptOutput {
            code: 1,
            stdout: "not done in the stand-in\n".into(),
            ..ScriptOutput::default()
        })
    }
    fn host_env(&self) -> Vec<(String, String)> {
        Vec::new()
    }
    fn observer(&self) -> Arc<dyn Observe> {
        self.observer.clone()
    }
}
