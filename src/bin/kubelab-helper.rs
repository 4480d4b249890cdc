//! kubelab's small sandbox helper, installed beside `kubelab`. kubelab
//! re-executes it for the processes that live as long as a sandbox: the
//! supervisor, `exec` into a sandbox (checks, extra shells) and the
//! foreground side of `kubelab run`. It links only the sandbox engine, so
//! each of those costs a few hundred kB, not a copy of the whole app.
//! Without it kubelab re-executes itself, which works the same.

fn main() {
    if let Some(code) = kubelab_sandbox::dispatch() {
        std::process::exit(code);
    }
    eprintln!(
        "kubelab-helper: this program is started by kubelab for its sandboxes; \
         run `kubelab` instead (e.g. `kubelab run -- sh`)"
    );
    std::process::exit(2);
}
