//! The shipped books list the whole course outline: 12 sections, 56 chapters
//! (00–52 plus three extras), the same shape in both languages.

use kubelab::course::{self, model::Lang};
use std::path::Path;

#[test]
fn both_books_list_every_outline_entry() {
    let c = course::load(Path::new(env!("CARGO_MANIFEST_DIR"))).unwrap();
    let shape = |lang| -> Vec<usize> {
        c.book(lang)
            .unwrap()
            .parts
            .iter()
            .map(|p| p.chapters.len())
            .collect()
    };
    let zh = shape(Lang::Zh);
    // The outline's sections, in order (extras and closing share one).
    assert_eq!(
        zh,
        vec![5, 5, 3, 15, 4, 8, 5, 3, 3, 1, 1, 3],
        "modules: {zh:?}"
    );
    assert_eq!(zh.iter().sum::<usize>(), 56);
    assert_eq!(zh, shape(Lang::En));
    // Written chapters use the outline's id scheme: NN-slug or extra-*.
    for b in &c.course.books {
        for (n, ch) in b.parts.iter().flat_map(|p| &p.chapters).enumerate() {
            if let Some(id) = &ch.id {
                let want = if n <= 52 {
                    format!("{n:02}-")
                } else {
                    "extra-".into()
                };
                assert!(id.starts_with(&want), "{} entry {n} has id {id}", b.lang);
            }
        }
    }
}
