fn main() {
    // Sandbox helper modes (`__sandbox-init`/`__sandbox-exec`) must run before
    // any thread exists: the engine re-executes this binary for them.
    if let Some(code) = kubelab_sandbox::dispatch() {
        std::process::exit(code);
    }
    // The terminal watchdog (src/terminal_guard.rs), as small as possible.
    if let Some(code) = kubelab::terminal_guard::dispatch() {
        std::process::exit(code);
    }
    // The supervisor of a host check (src/lab/host_run.rs).
    if let Some(code) = kubelab::lab::host_run::dispatch() {
        std::process::exit(code);
    }
    std::process::exit(kubelab::main_entry());
}
