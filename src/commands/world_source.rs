//! What `kubelab world up ARG` builds: a world file (TOML), a lesson file
//! (`.md`) whose front matter declares `[world]`, or the id of such a
//! lesson in the course. Errors name the file or the lesson and what to do.

use crate::context::Context;
use crate::course::model::{Lang, Lesson};
use kubelab_sandbox::world_spec::WorldSpec;
use std::path::Path;

/// A world to build: its spec, the name `status` shows and where it came
/// from.
pub struct WorldSource {
    pub spec: WorldSpec,
    pub name: String,
    pub source: String,
}

/// Resolves `path`: a `.md` file is a lesson, any other file a world
/// file, anything else a lesson id of the course. What looks like a path
/// (a `/`, a `.toml` or `.md` ending) is read as one, so a missing file is
/// reported as such.
pub fn resolve(ctx: &Context, path: &Path) -> anyhow::Result<WorldSource> {
    let looks_like_path = path.to_string_lossy().contains('/')
        || path.extension().is_some_and(|e| e == "toml" || e == "md");
    if path.is_file() || looks_like_path {
        if path.extension().is_some_and(|e| e == "md") {
            return from_lesson_file(path);
        }
        let spec = super::world_file::load(path)
            .map_err(|d| anyhow::anyhow!("{}", crate::sanitize::text(&d.to_string())))?;
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "world".into());
        return Ok(WorldSource {
            spec,
            name,
            source: path.display().to_string(),
        });
    }
    from_lesson_id(ctx, &path.to_string_lossy())
}

fn from_lesson_file(path: &Path) -> anyhow::Result<WorldSource> {
    // The language only words the lesson's own errors: a `zh`/`en` folder
    // on the path, as `kubelab lint FILE` guesses it.
    let lang = path
        .components()
        .filter_map(|c| c.as_os_str().to_str()?.parse::<Lang>().ok())
        .next_back()
        .unwrap_or(Lang::En);
    let load = crate::course::lesson::load_file(path, lang);
    match (load.lesson, load.diagnostics.iter().find(|d| d.is_error())) {
        (Some(lesson), _) => of_lesson(&lesson),
        (None, Some(d)) => anyhow::bail!(
            "{}\n(the lesson must load before its world can start; `kubelab lint {}` lists every problem)",
            crate::sanitize::text(&d.to_string()),
            crate::sanitize::line(&path.display().to_string())
        ),
        (None, None) => anyhow::bail!(
            "{}: the lesson did not load",
            crate::sanitize::line(&path.display().to_string())
        ),
    }
}

fn from_lesson_id(ctx: &Context, id: &str) -> anyhow::Result<WorldSource> {
    let shown = crate::sanitize::line(id);
    let loaded = ctx.load_course().map_err(|e| {
        anyhow::anyhow!(
            "`{shown}` is not a file, and the course to look it up in did not load: {e}"
        )
    })?;
    // The learner's language first; translations share one world.
    let lesson = loaded
        .lessons
        .iter()
        .filter(|l| l.front.id == id)
        .min_by_key(|l| l.lang != ctx.lang);
    match lesson {
        Some(l) => of_lesson(l),
        None => {
            let ids = loaded.lesson_ids();
            let near = crate::course::suggest::near(&ids, id)
                .iter()
                .map(|s| format!("`{}`", crate::sanitize::line(s)))
                .collect::<Vec<_>>()
                .join(", ");
            let hint = if near.is_empty() {
                "run `kubelab list` to see the lesson ids".to_string()
            } else {
                format!("did you mean {near}?")
            };
            anyhow::bail!(
                "`{shown}` is neither a world file nor a lesson id of {}; {hint}",
                crate::sanitize::line(
                    &crate::course::load::books_root(&ctx.course_dir)
                        .display()
                        .to_string()
                )
            )
        }
    }
}

fn of_lesson(lesson: &Lesson) -> anyhow::Result<WorldSource> {
    let id = crate::sanitize::line(&lesson.front.id);
    let path = lesson.path.display().to_string();
    let Some(spec) = lesson.front.world.clone() else {
        anyhow::bail!(
            "lesson `{id}` ({}) has no [world] in its front matter: `kubelab world up` needs a \
             world file (e.g. examples/worlds/two-nodes.toml) or a lesson that declares [world]",
            crate::sanitize::line(&path)
        );
    };
    Ok(WorldSource {
        spec,
        name: lesson.front.id.clone(),
        source: path,
    })
}
