//! Multi-platform images: the manifest for this machine is taken, whatever
//! the order of the index (issue 27).

mod common;

use common::oci::{index, manifest, put_blob, Layer};
use kubelab_sandbox::oci::{host_platform, prepare};

fn layer_saying(what: &str) -> Vec<u8> {
    Layer::new().file("which", what.as_bytes()).finish()
}

/// An image index blob listing (digest, arch) for linux.
fn nested_index(dir: &std::path::Path, entries: &[(&str, &str)]) -> String {
    let list: Vec<String> = entries
        .iter()
        .map(|(d, arch)| {
            format!(
                r#"{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{d}","size":1,"platform":{{"os":"linux","architecture":"{arch}"}}}}"#
            )
        })
        .collect();
    put_blob(
        dir,
        format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{}]}}"#,
            list.join(",")
        )
        .as_bytes(),
    )
}

fn which(layers: &[std::path::PathBuf]) -> String {
    assert_eq!(layers.len(), 1);
    std::fs::read_to_string(layers[0].join("which")).unwrap()
}

/// The other architecture of the pair, so the host's is never first.
fn other_arch() -> &'static str {
    if host_platform().1 == "arm64" {
        "amd64"
    } else {
        "arm64"
    }
}

#[test]
fn the_hosts_manifest_is_taken_from_a_nested_index_listing_another_first() {
    let t = tempfile::tempdir().unwrap();
    let img = t.path().join("img");
    let host = host_platform().1;
    let other = manifest(&img, &[layer_saying(other_arch())]);
    let mine = manifest(&img, &[layer_saying(host)]);
    let attestation = manifest(&img, &[layer_saying("attestation")]);
    let nested = nested_index(
        &img,
        &[
            (&other, other_arch()),
            (&attestation, "unknown"),
            (&mine, host),
        ],
    );
    index(&img, &[(nested, None)]);
    let layers = prepare(&img, &t.path().join("cache")).unwrap();
    assert_eq!(which(&layers), host);
}

#[test]
fn the_hosts_manifest_is_taken_from_index_json_itself() {
    let t = tempfile::tempdir().unwrap();
    let img = t.path().join("img");
    let host = host_platform().1;
    let other = manifest(&img, &[layer_saying(other_arch())]);
    let mine = manifest(&img, &[layer_saying(host)]);
    index(
        &img,
        &[
            (other, Some(("linux", other_arch()))),
            (mine, Some(("linux", host))),
        ],
    );
    let layers = prepare(&img, &t.path().join("cache")).unwrap();
    assert_eq!(which(&layers), host);
}

#[test]
fn an_image_without_this_machines_platform_is_refused_clearly() {
    let t = tempfile::tempdir().unwrap();
    let img = t.path().join("img");
    let a = manifest(&img, &[layer_saying("s390x")]);
    let b = manifest(&img, &[layer_saying(other_arch())]);
    let nested = nested_index(&img, &[(&a, "s390x"), (&b, other_arch())]);
    index(&img, &[(nested, None)]);
    let e = prepare(&img, &t.path().join("cache")).expect_err("no variant for this machine");
    let e = e.to_string();
    let host = host_platform().1;
    assert!(e.contains(&format!("no linux/{host} variant")), "{e}");
    assert!(
        e.contains(&format!("linux/s390x, linux/{}", other_arch())),
        "{e}"
    );
    assert!(
        !t.path().join("cache").exists()
            || std::fs::read_dir(t.path().join("cache")).unwrap().count() == 0
    );
}
