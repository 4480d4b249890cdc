//! Lint for cluster labs: `[cluster]` resources are API names, and a
//! `kind=cluster` check sits in a lesson that declares `[cluster]` (the
//! check's body itself is validated when the lesson is parsed).

use crate::course::model::Lesson;
use crate::diagnostic::Diagnostic;
use crate::doc::ir::CheckSide;

fn front_line(l: &Lesson, key: &str) -> u32 {
    std::fs::read_to_string(&l.path)
        .ok()
        .and_then(|t| t.lines().position(|x| x.trim_start().starts_with(key)))
        .map_or(1, |i| i as u32 + 1)
}

/// `plural` or `plural.group`: lowercase DNS-ish names.
fn valid_resource(r: &str) -> bool {
    let ok = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
            && !s.starts_with(['.', '-'])
            && !s.ends_with(['.', '-'])
    };
    ok(r) && !r.contains("..")
}

pub fn lint(l: &Lesson) -> Vec<Diagnostic> {
    let mut d = Vec::new();
    for p in &l.front.panes {
        let objects = p == "objects" || p.starts_with("objects@");
        if objects && (p != "objects" || l.front.cluster.is_none()) {
            d.push(Diagnostic::error(
                &l.path,
                front_line(l, "panes"),
                1,
                "pane `objects` shows the lab's namespace on the cluster: write it without `@` and \
                 add a `[cluster]` table"
                    .to_string(),
            ));
        }
    }
    if let Some(req) = &l.front.cluster {
        let line = front_line(l, "[cluster");
        for r in &req.resources {
            if !valid_resource(r) {
                d.push(Diagnostic::error(
                    &l.path,
                    line,
                    1,
                    format!(
                        "[cluster] resources: `{}` is not an API resource name; write plural.group \
                         as kubectl api-resources shows it (deployments.apps, cronjobs.batch) or a core plural (pods)",
                        super::error::one_line(r)
                    ),
                ));
            }
        }
    } else {
        for c in l.doc.checks() {
            if c.on == CheckSide::Cluster {
                d.push(Diagnostic::error(
                    &l.path,
                    c.line,
                    1,
                    format!(
                        "check `{}` asks the cluster, but the front matter has no [cluster]; add a \
                         `[cluster]` table so the lab gets a namespace and is skipped without a cluster",
                        c.id
                    ),
                ));
            }
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::course::model::Lang;
    use std::path::Path;

    /// Errors (line, message) for a lesson text: parse, then this lint.
    fn errors(text: &str) -> Vec<(u32, String)> {
        let load = crate::course::lesson::parse_text(text, Path::new("deploy.md"), Lang::En);
        let mut out: Vec<(u32, String)> = load
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(|d| (d.line, d.message.clone()))
            .collect();
        if let Some(l) = load.lesson.as_ref().or(load.partial.as_ref()) {
            out.extend(lint(l).into_iter().map(|d| (d.line, d.message)));
        }
        out
    }

    const FRONT: &str = "+++\nid = \"deploy\"\ntitle = \"Deployments\"\n[cluster]\nresources = [\"deployments.apps\"]\n+++\n";

    #[test]
    fn a_cluster_check_parses_into_a_cluster_side_check() {
        let text = format!(
            "{FRONT}# Deployments\n\n```toml check id=rolled kind=cluster\nobject = \"deployment/web\"\nrollout = \"complete\"\n```\n"
        );
        assert_eq!(errors(&text), vec![]);
        let l = crate::course::lesson::parse_text(&text, Path::new("deploy.md"), Lang::En)
            .lesson
            .unwrap();
        let c = l.doc.checks()[0].clone();
        assert_eq!((c.id.as_str(), c.on), ("rolled", CheckSide::Cluster));
    }

    #[test]
    fn lint_names_line_and_fix() {
        let bad_body = format!(
            "{FRONT}# D\n\n```toml check id=x kind=cluster\nobject = \"deployment\"\nexists = true\n```\n"
        );
        let e = errors(&bad_body);
        assert_eq!(e.len(), 1, "{e:?}");
        assert_eq!(e[0].0, 9);
        assert!(e[0].1.contains("kind/name"), "{e:?}");

        let wrong_lang =
            format!("{FRONT}# D\n\n```sh check id=x kind=cluster\nkubectl get deploy\n```\n");
        assert!(errors(&wrong_lang)[0]
            .1
            .contains("```toml check id=NAME kind=cluster```"));
        let wrong_kind = format!("{FRONT}# D\n\n```toml check id=x kind=clustr\nobject = \"pod/a\"\nexists = true\n```\n");
        assert!(errors(&wrong_kind)[0].1.contains("kind=clustr"));
        let with_on = format!("{FRONT}# D\n\n```toml check id=x kind=cluster on=host\nobject = \"pod/a\"\nexists = true\n```\n");
        assert!(errors(&with_on)[0]
            .1
            .contains("no meaning on a cluster check"));

        let no_table = "+++\nid = \"deploy\"\ntitle = \"D\"\n+++\n# D\n\n```toml check id=x kind=cluster\nobject = \"pod/a\"\nexists = true\n```\n";
        let e = errors(no_table);
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(e[0].1.contains("no [cluster]"), "{e:?}");

        let bad_res = "+++\nid = \"deploy\"\ntitle = \"D\"\n[cluster]\nresources = [\"Deployments\"]\n+++\n# D\n";
        let e = errors(bad_res);
        assert!(
            e.iter()
                .any(|(_, m)| m.contains("`Deployments` is not an API resource name")),
            "{e:?}"
        );
        let objects_no_table =
            "+++\nid = \"deploy\"\ntitle = \"D\"\npanes = [\"objects\"]\n+++\n# D\n";
        let e = errors(objects_no_table);
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(e[0].1.contains("add a `[cluster]` table"), "{e:?}");
        let objects_at = "+++\nid = \"deploy\"\ntitle = \"D\"\npanes = [\"objects@main\"]\n[cluster]\n[sandboxes.main]\n+++\n# D\n";
        assert!(errors(objects_at)[0].1.contains("without `@`"));
        let objects_ok =
            "+++\nid = \"deploy\"\ntitle = \"D\"\npanes = [\"objects\"]\n[cluster]\n+++\n# D\n";
        assert_eq!(
            errors(objects_ok),
            vec![],
            "no sandbox needed for the objects pane"
        );
        let unknown_key =
            "+++\nid = \"deploy\"\ntitle = \"D\"\n[cluster]\nnamespce = \"x\"\n+++\n# D\n";
        assert!(!errors(unknown_key).is_empty());
    }

    #[test]
    fn resource_names() {
        for ok in [
            "pods",
            "deployments.apps",
            "widgets.example.com",
            "cronjobs.batch",
        ] {
            assert!(valid_resource(ok), "{ok}");
        }
        for bad in [
            "",
            "Deployments",
            "deploy/web",
            ".apps",
            "a..b",
            "pods ",
            "x\x1b",
        ] {
            assert!(!valid_resource(bad), "{bad:?}");
        }
    }
}
