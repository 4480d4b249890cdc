//! bpf(2) for a cgroup device program: load it, attach it to a cgroup.
//! Hand-written: rustix has no bpf(2), and kubelab needs only these two
//! commands (no maps, no BTF), not a BPF library.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

/// One eBPF instruction as the kernel reads it (`struct bpf_insn`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(C)]
pub struct BpfInsn {
    pub code: u8,
    /// dst in the low nibble, src in the high one.
    pub regs: u8,
    pub off: i16,
    pub imm: i32,
}

const BPF_PROG_LOAD: libc::c_int = 5;
const BPF_PROG_ATTACH: libc::c_int = 8;
const BPF_PROG_TYPE_CGROUP_DEVICE: u32 = 15;
const BPF_CGROUP_DEVICE: u32 = 6;
/// Programs of the cgroup's ancestors run too, and so may other ones here.
const BPF_F_ALLOW_MULTI: u32 = 2;

/// The leading fields of `union bpf_attr` for BPF_PROG_LOAD; the kernel
/// wants the rest of the union zero, which the padding keeps.
#[repr(C)]
#[derive(Default)]
struct ProgLoad {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
    pad: [u64; 12],
}

/// The leading fields of `union bpf_attr` for BPF_PROG_ATTACH.
#[repr(C)]
#[derive(Default)]
struct ProgAttach {
    target_fd: u32,
    attach_bpf_fd: u32,
    attach_type: u32,
    attach_flags: u32,
    replace_bpf_fd: u32,
    pad: [u32; 11],
}

fn bpf<T>(cmd: libc::c_int, attr: &mut T) -> io::Result<libc::c_long> {
    // SAFETY: `attr` is a live, zero-padded `repr(C)` bpf_attr prefix of
    // the size passed; every pointer inside it points to memory the caller
    // keeps alive for the call. The kernel reads (and for the log, writes)
    // only within those sizes.
    let r = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            cmd,
            attr as *mut T as *mut libc::c_void,
            std::mem::size_of::<T>() as libc::c_uint,
        )
    };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// Loads `insns` as a `BPF_PROG_TYPE_CGROUP_DEVICE` program (license
/// "Apache"); the verifier's log is in the error when it refuses.
pub fn bpf_load_device_program(insns: &[BpfInsn]) -> io::Result<OwnedFd> {
    let license = c"Apache";
    let mut log = vec![0u8; 16 * 1024];
    let load = |log_buf: &mut [u8]| {
        // No log: both fields zero (a pointer without a size is EINVAL).
        let (buf, size) = if log_buf.is_empty() {
            (0, 0)
        } else {
            (log_buf.as_mut_ptr() as u64, log_buf.len() as u32)
        };
        let mut attr = ProgLoad {
            prog_type: BPF_PROG_TYPE_CGROUP_DEVICE,
            insn_cnt: insns.len() as u32,
            insns: insns.as_ptr() as u64,
            license: license.as_ptr() as u64,
            log_level: u32::from(size > 0),
            log_size: size,
            log_buf: buf,
            ..ProgLoad::default()
        };
        bpf(BPF_PROG_LOAD, &mut attr)
    };
    // Without a log first (a log too small would fail a good program);
    // again with one only to say why it was refused.
    let fd = match load(&mut []) {
        Ok(fd) => fd,
        Err(e) => match load(&mut log) {
            Ok(fd) => fd,
            Err(_) => {
                let end = log.iter().position(|b| *b == 0).unwrap_or(log.len());
                let text = String::from_utf8_lossy(&log[..end]);
                return Err(io::Error::new(
                    e.kind(),
                    format!("{e}; verifier: {}", text.trim()),
                ));
            }
        },
    };
    // SAFETY: BPF_PROG_LOAD returned a new descriptor owned by no one else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as libc::c_int) })
}

/// Attaches a device program to the cgroup open at `cgroup`
/// (`BPF_CGROUP_DEVICE`, `BPF_F_ALLOW_MULTI`); it stays attached, and
/// loaded, until the cgroup is removed.
pub fn bpf_attach_device_program(cgroup: BorrowedFd<'_>, prog: BorrowedFd<'_>) -> io::Result<()> {
    let mut attr = ProgAttach {
        target_fd: cgroup.as_raw_fd() as u32,
        attach_bpf_fd: prog.as_raw_fd() as u32,
        attach_type: BPF_CGROUP_DEVICE,
        attach_flags: BPF_F_ALLOW_MULTI,
        ..ProgAttach::default()
    };
    bpf(BPF_PROG_ATTACH, &mut attr).map(drop)
}
