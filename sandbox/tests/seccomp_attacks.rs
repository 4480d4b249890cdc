//! Kernel interfaces without a namespace stay out of reach from a sandbox
//! (issue 14, hole 7): AF_VSOCK reaches the hypervisor and its agents.

mod common;
use common::*;
use kubelab_sandbox::{Sandbox, StdioMode};

/// python3 from the host (the default `host` rootfs shows /usr).
fn python_missing() -> Option<String> {
    let ok = std::process::Command::new("python3")
        .args(["-c", "import socket; socket.AF_VSOCK"])
        .output()
        .is_ok_and(|o| o.status.success());
    (!ok).then(|| "python3 with socket.AF_VSOCK not installed".into())
}

const PROBE: &str = "import socket, errno
try:
    socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM)
    print('created')
except OSError as e:
    print(errno.errorcode.get(e.errno, e.errno))
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
print('unix ok')";

#[test]
fn a_vsock_socket_cannot_be_created_in_a_sandbox() {
    if skip(userns_unavailable()) || skip(python_missing()) {
        return;
    }
    let mut sb = Sandbox::spawn(&spec(&["python3", "-c", PROBE]), &opts(StdioMode::Piped)).unwrap();
    let (out, err) = read_all(&mut sb);
    assert_eq!(sb.wait().unwrap(), 0, "{out}{err}");
    assert_eq!(out, "EPERM\nunix ok\n", "{err}");
}
