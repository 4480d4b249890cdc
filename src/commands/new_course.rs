//! `kubelab new --course DIR` on an empty or missing folder: a new course
//! to start from — a `zh` and an `en` book (book.toml, src/SUMMARY.md, laid
//! out like kubelab's own `lessons/`) into which `kubelab new` then writes
//! the first lesson, with a lab (a check and its solution). The result
//! passes `kubelab lint` and `kubelab test` as created.

use crate::course::model::Lang;
use std::path::Path;

/// Lesson id of the first lesson when none is given.
pub const FIRST_ID: &str = "01-first-lab";

/// The first lesson's title when none is given.
pub fn first_title(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "A first lab",
        Lang::Zh => "第一个实验",
    }
}

/// The lesson id and title `kubelab new` makes, and whether it made a new
/// course for them: with `--course` naming an empty or missing folder the
/// books are laid out first and id/title default to a first lesson;
/// otherwise both must be given.
pub fn prepare(
    ctx: &crate::context::Context,
    id: Option<String>,
    title: Option<String>,
) -> anyhow::Result<(String, String, bool)> {
    let fresh = !ctx.builtin_course && is_fresh(&ctx.course_dir);
    let (id, title) = match (id, title, fresh) {
        (Some(id), Some(title), _) => (id, title),
        (id, title, true) => (
            id.unwrap_or_else(|| FIRST_ID.into()),
            title.unwrap_or_else(|| first_title(ctx.lang).into()),
        ),
        _ => anyhow::bail!(
            "kubelab new: give the lesson id and --title (e.g. `kubelab new 07-images --title \"Images\"`), \
             or `--course DIR` with an empty or new folder to start a course there"
        ),
    };
    if fresh {
        // Validate before writing anything: a bad id leaves no half course.
        if !super::new_input::valid_id(&id) {
            return Err(super::new_input::NewError::BadId(id).into());
        }
        scaffold(&ctx.course_dir)
            .map_err(|e| super::new_input::NewError::Io(ctx.course_dir.clone(), e))?;
    }
    Ok((id, title, fresh))
}

/// Whether `dir` is a place for a new course: missing, or an empty folder.
pub fn is_fresh(dir: &Path) -> bool {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => entries.next().is_none(),
        Err(e) => e.kind() == std::io::ErrorKind::NotFound,
    }
}

/// Writes both books' book.toml and an empty outline into `dir`.
pub fn scaffold(dir: &Path) -> std::io::Result<()> {
    for lang in Lang::ALL {
        let book = dir.join(lang.code());
        std::fs::create_dir_all(book.join("src"))?;
        let (title, module) = match lang {
            Lang::En => ("My kubelab course", "Module 1"),
            Lang::Zh => ("我的 kubelab 课程", "第一单元"),
        };
        let toml = format!(
            "# mdBook configuration of the {code} book; kubelab reads [book] title\n\
             # and language (see kubelab's lessons/README.md).\n\
             [book]\n\
             title = \"{title}\"\n\
             language = \"{code}\"\n\
             src = \"src\"\n\
             \n\
             # The web book (`mdbook build`): kubelab turns labs into plain HTML.\n\
             # It runs before mdBook's `links` so {{{{#include}}}} stays inside the course.\n\
             [preprocessor.kubelab]\n\
             command = \"kubelab mdbook\"\n\
             before = [\"links\"]\n",
            code = lang.code()
        );
        crate::atomic_write::write_atomic(&book.join("book.toml"), toml.as_bytes(), 0o644)?;
        let summary = format!("# Summary\n\n# {module}\n\n");
        crate::atomic_write::write_atomic(&book.join("src/SUMMARY.md"), summary.as_bytes(), 0o644)?;
    }
    Ok(())
}
