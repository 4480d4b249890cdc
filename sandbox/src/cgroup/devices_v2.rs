//! Device rules on cgroup v2: a `BPF_PROG_TYPE_CGROUP_DEVICE` program,
//! assembled here instruction by instruction (the way runc's
//! `devicefilter` does), loaded and attached to the cgroup. The kernel
//! runs it at every open and mknod of a device node by a process of the
//! cgroup; 0 is EPERM. It goes when the cgroup is removed.

use super::devices::{DeviceKind, DeviceRule};
use crate::sys::BpfInsn;
use std::io;
use std::os::fd::AsFd;
use std::path::Path;

// Opcodes (linux/bpf_common.h, linux/bpf.h).
const LDX_MEM_W: u8 = 0x61;
const ALU32_AND_K: u8 = 0x54;
const ALU32_RSH_K: u8 = 0x74;
const ALU32_MOV_K: u8 = 0xb4;
const ALU32_MOV_X: u8 = 0xbc;
const JMP_JNE_K: u8 = 0x55;
const JMP_JNE_X: u8 = 0x5d;
const JMP_EXIT: u8 = 0x95;

// `struct bpf_cgroup_dev_ctx`: access_type (type | access << 16), major, minor.
const DEV_BLOCK: i32 = 1;
const DEV_CHAR: i32 = 2;
const ACC_MKNOD: i32 = 1;
const ACC_READ: i32 = 2;
const ACC_WRITE: i32 = 4;

// Registers: r1 the context, then what the prologue loads.
const R0: u8 = 0;
const R1: u8 = 1;
const R_TYPE: u8 = 2;
const R_ACCESS: u8 = 3;
const R_MAJOR: u8 = 4;
const R_MINOR: u8 = 5;

const fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> BpfInsn {
    BpfInsn {
        code,
        regs: dst | (src << 4),
        off,
        imm,
    }
}

/// The program: load the request into r2..r5, then one block per rule
/// that falls through to the next block on any mismatch and returns 1
/// (allow) when all of it matches; after the last block, 0 (deny).
pub(crate) fn program(allowed: &[DeviceRule]) -> Vec<BpfInsn> {
    let mut out = vec![
        insn(LDX_MEM_W, R_TYPE, R1, 0, 0),
        insn(ALU32_AND_K, R_TYPE, 0, 0, 0xffff),
        insn(LDX_MEM_W, R_ACCESS, R1, 0, 0),
        insn(ALU32_RSH_K, R_ACCESS, 0, 0, 16),
        insn(LDX_MEM_W, R_MAJOR, R1, 4, 0),
        insn(LDX_MEM_W, R_MINOR, R1, 8, 0),
    ];
    for rule in allowed {
        out.extend(block(rule));
    }
    out.push(insn(ALU32_MOV_K, R0, 0, 0, 0));
    out.push(insn(JMP_EXIT, 0, 0, 0, 0));
    out
}

/// One rule's block; its jumps skip to the first instruction after it.
fn block(rule: &DeviceRule) -> Vec<BpfInsn> {
    let mut b = Vec::new();
    match rule.kind {
        DeviceKind::Char => b.push(insn(JMP_JNE_K, R_TYPE, 0, 0, DEV_CHAR)),
        DeviceKind::Block => b.push(insn(JMP_JNE_K, R_TYPE, 0, 0, DEV_BLOCK)),
        DeviceKind::All => {}
    }
    let access = [
        (rule.read, ACC_READ),
        (rule.write, ACC_WRITE),
        (rule.mknod, ACC_MKNOD),
    ]
    .iter()
    .filter(|(on, _)| *on)
    .fold(0, |a, (_, bit)| a | bit);
    if access != ACC_READ | ACC_WRITE | ACC_MKNOD {
        // Allowed only when the request asks for nothing outside `access`.
        b.push(insn(ALU32_MOV_X, R1, R_ACCESS, 0, 0));
        b.push(insn(ALU32_AND_K, R1, 0, 0, access));
        b.push(insn(JMP_JNE_X, R1, R_ACCESS, 0, 0));
    }
    if let Some(major) = rule.major {
        b.push(insn(JMP_JNE_K, R_MAJOR, 0, 0, major as i32));
    }
    if let Some(minor) = rule.minor {
        b.push(insn(JMP_JNE_K, R_MINOR, 0, 0, minor as i32));
    }
    b.push(insn(ALU32_MOV_K, R0, 0, 0, 1));
    b.push(insn(JMP_EXIT, 0, 0, 0, 0));
    let len = b.len();
    for (i, x) in b.iter_mut().enumerate() {
        if x.code == JMP_JNE_K || x.code == JMP_JNE_X {
            x.off = (len - i - 1) as i16;
        }
    }
    b
}

pub(super) fn restrict(dir: &Path, allowed: &[DeviceRule]) -> io::Result<()> {
    let cgroup = std::fs::File::open(dir)
        .map_err(|e| io::Error::new(e.kind(), format!("open {}: {e}", dir.display())))?;
    let prog = crate::sys::bpf_load_device_program(&program(allowed))
        .map_err(|e| io::Error::new(e.kind(), format!("load the device program: {e}")))?;
    crate::sys::bpf_attach_device_program(cgroup.as_fd(), prog.as_fd()).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("attach the device program to {}: {e}", dir.display()),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(p: &[BpfInsn]) -> Vec<String> {
        p.iter()
            .map(|i| {
                format!(
                    "{:02x} {} {} {} {}",
                    i.code,
                    i.regs & 0xf,
                    i.regs >> 4,
                    i.off,
                    i.imm
                )
            })
            .collect()
    }

    #[test]
    fn a_small_list_assembles_to_one_block_per_rule_then_deny() {
        let mknod_any = DeviceRule {
            kind: DeviceKind::Char,
            major: None,
            minor: None,
            read: false,
            write: false,
            mknod: true,
        };
        let null = DeviceRule {
            read: true,
            write: true,
            mknod: true,
            ..DeviceRule::char_rw(1, 3)
        };
        let p = program(&[mknod_any, null, DeviceRule::char_rw(10, 229)]);
        assert_eq!(
            text(&p),
            [
                // The request: type, access, major, minor.
                "61 2 1 0 0",
                "54 2 0 0 65535",
                "61 3 1 0 0",
                "74 3 0 0 16",
                "61 4 1 4 0",
                "61 5 1 8 0",
                // c *:* m — char, access ⊆ {mknod}, any numbers.
                "55 2 0 5 2",
                "bc 1 3 0 0",
                "54 1 0 0 1",
                "5d 1 3 2 0",
                "b4 0 0 0 1",
                "95 0 0 0 0",
                // c 1:3 rwm — no access check needed.
                "55 2 0 4 2",
                "55 4 0 3 1",
                "55 5 0 2 3",
                "b4 0 0 0 1",
                "95 0 0 0 0",
                // c 10:229 rw
                "55 2 0 7 2",
                "bc 1 3 0 0",
                "54 1 0 0 6",
                "5d 1 3 4 0",
                "55 4 0 3 10",
                "55 5 0 2 229",
                "b4 0 0 0 1",
                "95 0 0 0 0",
                // Nothing matched: EPERM.
                "b4 0 0 0 0",
                "95 0 0 0 0",
            ]
        );
    }

    #[test]
    fn every_jump_lands_inside_the_program() {
        let p = program(&super::super::devices::with_defaults(&[]));
        for (i, x) in p.iter().enumerate() {
            if x.code == JMP_JNE_K || x.code == JMP_JNE_X {
                let to = i as i64 + 1 + i64::from(x.off);
                assert!(to > i as i64 && (to as usize) < p.len(), "insn {i}");
            }
        }
    }
}
