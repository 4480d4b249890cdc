//! Device rules on cgroup v1: the `devices` controller's own files.

use super::devices::DeviceRule;
use std::io::{self, Write};
use std::path::Path;

/// What is written, in order: `a` to `devices.deny` (nothing is allowed
/// any more), then one line per rule to `devices.allow`.
pub(crate) fn lines(allowed: &[DeviceRule]) -> Vec<(&'static str, String)> {
    let mut out = vec![("devices.deny", "a".to_string())];
    out.extend(allowed.iter().map(|r| ("devices.allow", r.line())));
    out
}

pub(super) fn restrict(dir: &Path, allowed: &[DeviceRule]) -> io::Result<()> {
    for (file, line) in lines(allowed) {
        let path = dir.join(file);
        // One write per rule: the kernel takes one rule per write(2).
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .and_then(|mut f| f.write_all(line.as_bytes()))
            .map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("write `{line}` to {}: {e}", path.display()),
                )
            })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deny_all_comes_first_then_one_allow_per_rule() {
        let l = lines(&[DeviceRule::char_rw(1, 3), DeviceRule::char_rw(10, 229)]);
        assert_eq!(
            l,
            [
                ("devices.deny", "a".to_string()),
                ("devices.allow", "c 1:3 rw".to_string()),
                ("devices.allow", "c 10:229 rw".to_string()),
            ]
        );
    }
}
