//! The built-in course is embedded in the binary (src/course/builtin.rs):
//! rebuild when `lessons/` changes, and name its content with a hash (the
//! course version in `--version`, and the folder it is unpacked to).

use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=lessons");
    let mut files = Vec::new();
    walk(Path::new("lessons"), &mut files);
    files.sort();
    // FNV-1a, 64 bits: a name for this content, not a security measure.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    for f in &files {
        eat(f.to_string_lossy().as_bytes());
        eat(&[0]);
        eat(&std::fs::read(f).expect("read a lesson file"));
        eat(&[0]);
    }
    println!("cargo:rustc-env=KUBELAB_COURSE_HASH={h:016x}");
}

fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        println!("cargo:rerun-if-changed={}", p.display());
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}
