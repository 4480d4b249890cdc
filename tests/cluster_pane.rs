//! A cluster lab in the reader with no cluster reachable: the shell's
//! sandbox does not start and says why, and the Objects pane and the status
//! bar say it too — never a hang or a panic. (HOME and XDG_DATA_HOME point at an empty
//! folder and KUBECONFIG is unset, so no kubeconfig of this machine is read.)

mod common;

use common::screen;
use common::standin::{sh_console, ShSandbox};
use kubelab::app::{build_app, handle, AppEvent, AppOptions};
use kubelab::course::model::{Lang, Requirement};
use kubelab::lab::backend::LabSandbox;
use kubelab::lab::harness::SandboxFactory;
use kubelab::lab::host::LabHost;
use kubelab::lab::trust::TrustState;
use kubelab::panes::inspect::model::*;
use kubelab::panes::inspect::sampler::Observe;
use kubelab::panes::pty::PtySize;
use kubelab_sandbox::spec::Spec;
use std::io;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

struct NoObserver;
impl Observe for NoObserver {
    fn namespaces(&self) -> Result<Vec<NsRow>, String> {
        Err("none".into())
    }
    fn processes(&self) -> Result<Vec<ProcRow>, String> {
        Err("none".into())
    }
    fn cgroup(&self) -> Result<CgroupStats, String> {
        Err("none".into())
    }
    fn filesystem(&self) -> Result<FsView, String> {
        Err("none".into())
    }
    fn network(&self) -> Result<NetView, String> {
        Err("none".into())
    }
}

struct ShFactory;

impl SandboxFactory for ShFactory {
    fn start(
        &self,
        _name: &str,
        _spec: &Spec,
        console: Option<PtySize>,
    ) -> io::Result<Box<dyn LabSandbox>> {
        let console = console.map(sh_console).transpose()?;
        Ok(Box::new(ShSandbox::new(console, Arc::new(NoObserver))))
    }
    fn unmet(&self, _req: Requirement) -> Option<String> {
        None
    }
}

#[test]
fn without_a_cluster_the_shell_and_the_objects_pane_say_why() {
    let home = tempfile::tempdir().unwrap();
    // One test in this binary: no other thread reads the environment.
    std::env::set_var("HOME", home.path());
    std::env::set_var("XDG_DATA_HOME", home.path().join("data"));
    std::env::remove_var("KUBECONFIG");
    kubelab::render::highlight::warm_up();
    let course = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cluster_lab");
    let opts = AppOptions {
        ui_lang: Lang::En,
        open: Some("rollout".into()),
        ..AppOptions::reader(course, Lang::En)
    };
    let mut app = build_app(&opts, (120, 40)).unwrap();
    app.panes = Box::new(LabHost::new(
        Arc::new(ShFactory),
        common::kubelab(),
        TrustState::Builtin,
    ));
    kubelab::app::update::notify_panes(&mut app);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        handle(&mut app, AppEvent::PaneDirty);
        let s = screen(&app);
        // The shell pane's start error and the Objects pane's line, both
        // naming the cause and doctor.
        if s.matches("needs a cluster").count() >= 2 {
            assert!(s.contains("objects"), "{s}");
            assert!(s.contains("kubelab-rollout"), "{s}");
            // And the status bar says it in a few words.
            let bar = s.lines().last().unwrap();
            assert!(
                bar.contains("no cluster here (`kubelab doctor` says how to make one)"),
                "{bar}"
            );
            break;
        }
        assert!(Instant::now() < deadline, "never said why:\n{s}");
        std::thread::sleep(Duration::from_millis(50));
    }
}
