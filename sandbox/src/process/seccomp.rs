//! A small seccomp deny-list for every process in a sandbox, installed just
//! before the payload (or an exec'd command) starts, after no_new_privs.
//!
//! The user namespace and the dropped capabilities already stop most of
//! what a sandbox could do to the host; the filter removes kernel
//! interfaces that a lab never needs and that are the usual first step of
//! kernel exploits or cross-sandbox snooping on a shared classroom machine
//! (the same families Docker's and containerd's default profiles block).
//! It is a deny-list, not Docker's allow-list, so every lesson command
//! (strace, unshare, mount in privileged labs ...) keeps working.

use std::io;

/// What a denied call returns: EPERM, as for a missing privilege.
const DENY: u32 = libc::SECCOMP_RET_ERRNO | libc::EPERM as u32;
/// Calls made through another ABI (i386 `int 0x80`, x32) would bypass the
/// numbers below: they fail with ENOSYS, as on a kernel without that ABI.
const FOREIGN_ABI: u32 = libc::SECCOMP_RET_ERRNO | libc::ENOSYS as u32;

#[cfg(target_arch = "x86_64")]
const AUDIT_ARCH: u32 = 0xC000_003E; // EM_X86_64 | 64-bit | little endian
#[cfg(target_arch = "aarch64")]
const AUDIT_ARCH: u32 = 0xC000_00B7; // EM_AARCH64 | 64-bit | little endian
/// x86_64 numbers with this bit set are x32 calls.
#[cfg(target_arch = "x86_64")]
const X32_SYSCALL_BIT: u32 = 0x4000_0000;

/// The denied system calls.
fn denied() -> Vec<libc::c_long> {
    let mut v = vec![
        // Kernel keyrings: kernel state shared beyond the sandbox.
        libc::SYS_add_key,
        libc::SYS_request_key,
        libc::SYS_keyctl,
        // Classic exploit primitives and side channels.
        libc::SYS_bpf,
        libc::SYS_perf_event_open,
        libc::SYS_userfaultfd,
        // io_uring: a large attack surface (containerd blocks it too).
        libc::SYS_io_uring_setup,
        libc::SYS_io_uring_enter,
        libc::SYS_io_uring_register,
        // File handles: the "shocker" container escape.
        libc::SYS_open_by_handle_at,
        libc::SYS_name_to_handle_at,
        // Host-wide switches that have no place in a lab.
        libc::SYS_kexec_load,
        libc::SYS_kexec_file_load,
        libc::SYS_init_module,
        libc::SYS_finit_module,
        libc::SYS_delete_module,
        libc::SYS_acct,
        libc::SYS_swapon,
        libc::SYS_swapoff,
        libc::SYS_quotactl,
        libc::SYS_settimeofday,
        libc::SYS_clock_settime,
        libc::SYS_clock_adjtime,
    ];
    #[cfg(target_arch = "x86_64")]
    v.extend([
        libc::SYS_iopl,
        libc::SYS_ioperm,
        libc::SYS_uselib,
        libc::SYS_lookup_dcookie,
    ]);
    v
}

fn stmt(code: u32, k: u32) -> libc::sock_filter {
    libc::sock_filter {
        code: code as u16,
        jt: 0,
        jf: 0,
        k,
    }
}

fn jump(code: u32, k: u32, jt: usize, jf: usize) -> libc::sock_filter {
    libc::sock_filter {
        code: code as u16,
        jt: u8::try_from(jt).expect("seccomp jump too long"),
        jf: u8::try_from(jf).expect("seccomp jump too long"),
        k,
    }
}

/// Socket families denied by `socket(2)`'s first argument. AF_VSOCK talks
/// to the hypervisor and other VMs' vsock services and has no namespace:
/// a sandbox on a VM could reach the host's agents.
const DENIED_FAMILIES: &[u32] = &[libc::AF_VSOCK as u32];

/// The BPF program: check the ABI, then each denied number, then the
/// denied socket families, else allow.
pub(crate) fn program() -> Vec<libc::sock_filter> {
    const LD_W_ABS: u32 = libc::BPF_LD | libc::BPF_W | libc::BPF_ABS;
    const JEQ: u32 = libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K;
    const RET: u32 = libc::BPF_RET | libc::BPF_K;
    // Offsets into struct seccomp_data.
    const NR: u32 = 0;
    const ARCH: u32 = 4;
    /// args[0]'s low 32 bits (little endian): socket(2)'s `int domain`.
    const ARG0: u32 = 16;
    let deny = denied();
    let mut p = Vec::new();
    #[cfg(target_arch = "x86_64")]
    let checks = deny.len() + 1;
    #[cfg(not(target_arch = "x86_64"))]
    let checks = deny.len();
    // Layout: [ld arch][jeq arch][ld nr][checks...][jeq socket][ld arg0]
    // [families...][allow][deny][foreign]. A jump offset counts the
    // instructions skipped after the jump.
    let allow_at = 3 + checks + 2 + DENIED_FAMILIES.len();
    let (deny_at, foreign_at) = (allow_at + 1, allow_at + 2);
    p.push(stmt(LD_W_ABS, ARCH));
    p.push(jump(JEQ, AUDIT_ARCH, 0, foreign_at - 2));
    p.push(stmt(LD_W_ABS, NR));
    #[cfg(target_arch = "x86_64")]
    {
        let at = p.len();
        p.push(jump(
            libc::BPF_JMP | libc::BPF_JGE | libc::BPF_K,
            X32_SYSCALL_BIT,
            foreign_at - at - 1,
            0,
        ));
    }
    for nr in deny {
        let at = p.len();
        p.push(jump(JEQ, nr as u32, deny_at - at - 1, 0));
    }
    let at = p.len();
    p.push(jump(JEQ, libc::SYS_socket as u32, 0, allow_at - at - 1));
    p.push(stmt(LD_W_ABS, ARG0));
    for &family in DENIED_FAMILIES {
        let at = p.len();
        p.push(jump(JEQ, family, deny_at - at - 1, 0));
    }
    debug_assert_eq!(p.len(), allow_at);
    p.push(stmt(RET, libc::SECCOMP_RET_ALLOW));
    p.push(stmt(RET, DENY));
    p.push(stmt(RET, FOREIGN_ABI));
    p
}

/// Installs the filter on the calling thread (inherited by its children and
/// kept across exec). Needs no_new_privs (or CAP_SYS_ADMIN) first. A kernel
/// built without seccomp filters (EINVAL) runs the sandbox without one.
pub(crate) fn install() -> io::Result<()> {
    let prog = program();
    let fprog = libc::sock_fprog {
        len: prog.len() as u16,
        filter: prog.as_ptr() as *mut libc::sock_filter,
    };
    // SAFETY: `fprog` points at `prog`, which outlives the call; the kernel
    // copies the program before prctl returns.
    let r = unsafe {
        libc::prctl(
            libc::PR_SET_SECCOMP,
            libc::SECCOMP_MODE_FILTER as libc::c_ulong,
            &fprog as *const libc::sock_fprog,
        )
    };
    if r == 0 {
        return Ok(());
    }
    let e = io::Error::last_os_error();
    if e.raw_os_error() == Some(libc::EINVAL) {
        return Ok(());
    }
    Err(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the program on one (arch, nr) pair like the kernel does.
    fn verdict(prog: &[libc::sock_filter], arch: u32, nr: u32) -> u32 {
        verdict_arg(prog, arch, nr, 0)
    }

    /// The same with the call's first argument.
    fn verdict_arg(prog: &[libc::sock_filter], arch: u32, nr: u32, arg0: u32) -> u32 {
        let (mut acc, mut pc) = (0u32, 0usize);
        loop {
            let ins = prog[pc];
            let code = ins.code as u32;
            match code & 0x07 {
                c if c == libc::BPF_LD => {
                    acc = match ins.k {
                        0 => nr,
                        4 => arch,
                        16 => arg0,
                        k => panic!("unexpected load at {k}"),
                    };
                    pc += 1;
                }
                c if c == libc::BPF_JMP => {
                    let hit = match code & 0xf0 {
                        op if op == libc::BPF_JEQ => acc == ins.k,
                        op if op == libc::BPF_JGE => acc >= ins.k,
                        op => panic!("unexpected jump {op:#x}"),
                    };
                    pc += 1 + if hit { ins.jt } else { ins.jf } as usize;
                }
                c if c == libc::BPF_RET => return ins.k,
                c => panic!("unexpected class {c:#x}"),
            }
        }
    }

    #[test]
    fn denied_calls_fail_with_eperm_and_the_rest_pass() {
        let p = program();
        for nr in denied() {
            assert_eq!(verdict(&p, AUDIT_ARCH, nr as u32), DENY, "syscall {nr}");
        }
        for nr in [
            libc::SYS_read,
            libc::SYS_mount,
            libc::SYS_unshare,
            libc::SYS_ptrace,
        ] {
            assert_eq!(
                verdict(&p, AUDIT_ARCH, nr as u32),
                libc::SECCOMP_RET_ALLOW,
                "syscall {nr}"
            );
        }
    }

    #[test]
    fn vsock_sockets_are_denied_and_other_families_pass() {
        let p = program();
        let socket = libc::SYS_socket as u32;
        let vsock = libc::AF_VSOCK as u32;
        assert_eq!(verdict_arg(&p, AUDIT_ARCH, socket, vsock), DENY);
        for family in [
            libc::AF_UNIX,
            libc::AF_INET,
            libc::AF_INET6,
            libc::AF_NETLINK,
        ] {
            assert_eq!(
                verdict_arg(&p, AUDIT_ARCH, socket, family as u32),
                libc::SECCOMP_RET_ALLOW,
                "family {family}"
            );
        }
        // The family is only checked for socket(2).
        let read = libc::SYS_read as u32;
        assert_eq!(
            verdict_arg(&p, AUDIT_ARCH, read, vsock),
            libc::SECCOMP_RET_ALLOW
        );
        // x32's socket goes to ENOSYS before the family is looked at.
        #[cfg(target_arch = "x86_64")]
        assert_eq!(
            verdict_arg(&p, AUDIT_ARCH, X32_SYSCALL_BIT | socket, vsock),
            FOREIGN_ABI
        );
    }

    #[test]
    fn other_abis_cannot_go_around_the_list() {
        let p = program();
        // i386 (int 0x80 on x86_64) or arm32: another arch value.
        assert_eq!(verdict(&p, 0x4000_0003, 1), FOREIGN_ABI);
        #[cfg(target_arch = "x86_64")]
        assert_eq!(
            verdict(&p, AUDIT_ARCH, X32_SYSCALL_BIT | libc::SYS_keyctl as u32),
            FOREIGN_ABI
        );
    }
}
