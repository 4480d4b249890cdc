//! Reading a world file (`examples/worlds/two-nodes.toml`): capped, strict,
//! every error at `file:line:col` with what to do. The file's table is
//! `kubelab_sandbox::world_spec::WorldSpec` itself, the same a lesson's
//! `[world]` front matter will hold.

use crate::diagnostic::{Diagnostic, LineIndex};
use kubelab_sandbox::world_spec::WorldSpec;
use std::path::Path;

/// Larger world files are refused unread: a world of eight nodes takes a
/// few hundred bytes.
pub const MAX_WORLD_FILE_BYTES: u64 = 64 * 1024;

/// Reads and checks the world file at `path`.
pub fn load(path: &Path) -> Result<WorldSpec, Diagnostic> {
    use std::io::Read;
    let f = std::fs::File::open(path)
        .map_err(|e| Diagnostic::error(path, 0, 0, format!("cannot read the world file: {e}")))?;
    let mut bytes = Vec::new();
    f.take(MAX_WORLD_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Diagnostic::error(path, 0, 0, format!("cannot read the world file: {e}")))?;
    if bytes.len() as u64 > MAX_WORLD_FILE_BYTES {
        return Err(Diagnostic::error(
            path,
            0,
            0,
            format!(
                "the world file is larger than {} KiB; a world file holds a few nodes",
                MAX_WORLD_FILE_BYTES / 1024
            ),
        ));
    }
    let text = String::from_utf8(bytes)
        .map_err(|_| Diagnostic::error(path, 0, 0, "the world file is not UTF-8 text"))?;
    parse(&text, path)
}

/// Parses world-file text; errors point at the value they are about.
pub fn parse(text: &str, path: &Path) -> Result<WorldSpec, Diagnostic> {
    let spec: WorldSpec = toml::from_str(text).map_err(|e| {
        let idx = LineIndex::new(text);
        let (line, col) = idx.line_col(text, e.span().map_or(0, |s| s.start));
        Diagnostic::error(path, line, col, format!("world: {}", e.message().trim()))
    })?;
    Ok(spec)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> &'static Path {
        Path::new("w.toml")
    }

    #[test]
    fn the_example_world_reads() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/worlds/two-nodes.toml");
        let w = load(&path).unwrap();
        let names: Vec<&str> = w.nodes.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["node1", "node2"]);
        assert!(w.nodes.iter().all(|n| !n.pods));
    }

    #[test]
    fn errors_name_the_line_and_column_of_the_value() {
        let t = "underlay = \"192.168.50.0/24\"\n\n[[nodes]]\nname = \"node1\"\npod_cidr = \"10.244.1.0/33\"\n";
        let e = parse(t, p()).unwrap_err();
        assert_eq!(e.line, 5, "{e}");
        assert!(e.col > 1 && e.message.contains("IPv4 subnet"), "{e}");
        let t = "[[nodes]]\nname = \"node1\"\nadress = \"192.168.50.3\"\n";
        let e = parse(t, p()).unwrap_err();
        assert_eq!((e.line, e.col), (3, 1), "{e}");
        assert!(e.message.contains("adress"), "{e}");
        let t = "[[nodes]]\nname = \"Node_1\"\n";
        let e = parse(t, p()).unwrap_err();
        assert_eq!(e.line, 2, "{e}");
        let t = "[[nodes]]\nname = \"a\"\n\n[[nodes]]\nname = \"b\"\npods = true\n";
        let w = parse(t, p()).unwrap();
        assert!(!w.nodes[0].pods && w.nodes[1].pods);
    }

    #[test]
    fn the_same_table_is_a_front_matter_world() {
        // What `[world]` in a lesson's front matter will hold.
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Front {
            #[allow(dead_code)]
            id: String,
            world: WorldSpec,
        }
        let t = "id = \"33-vxlan\"\n[world]\nunderlay = \"10.0.0.0/24\"\n[[world.nodes]]\nname = \"a\"\n[[world.nodes]]\nname = \"b\"\n";
        let f: Front = toml::from_str(t).unwrap();
        assert_eq!(f.world.nodes[1].address.to_string(), "10.0.0.12");
        let t = "id = \"x\"\n[world]\n[[world.nodes]]\nname = \"a\"\nport = 1\n";
        let e = toml::from_str::<Front>(t).err().unwrap();
        let span = e.span().unwrap();
        assert_eq!(LineIndex::new(t).line_col(t, span.start).0, 5, "{e}");
    }

    #[test]
    fn oversized_files_are_refused_unread() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.toml");
        std::fs::write(&path, "#".repeat(MAX_WORLD_FILE_BYTES as usize + 10)).unwrap();
        let e = load(&path).unwrap_err();
        assert!(e.message.contains("larger than"), "{e}");
    }
}
