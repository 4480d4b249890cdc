//! `kubelab mdbook` round trip on a fixture captured from mdBook 0.5.4
//! (`[context, book]` as mdBook sends it): JSON in, JSON out, content asserted.

use kubelab::commands::mdbook;
use serde_json::Value;

const INPUT: &str = include_str!("fixtures/mdbook/input.json");

fn run(input: &str) -> Result<Value, String> {
    let mut out = Vec::new();
    mdbook::run(input.as_bytes(), &mut out).map_err(|e| e.to_string())?;
    serde_json::from_slice(&out).map_err(|e| format!("output is not JSON: {e}"))
}

fn chapter<'a>(items: &'a Value, path: &str) -> &'a serde_json::Map<String, Value> {
    fn find<'a>(items: &'a Value, path: &str) -> Option<&'a serde_json::Map<String, Value>> {
        for item in items.as_array()? {
            if let Some(c) = item.get("Chapter").and_then(Value::as_object) {
                if c.get("path").and_then(Value::as_str) == Some(path) {
                    return Some(c);
                }
                if let Some(found) = find(&c["sub_items"], path) {
                    return Some(found);
                }
            }
        }
        None
    }
    find(items, path).unwrap_or_else(|| panic!("no chapter {path}"))
}

/// The block structure pulldown-cmark (mdBook's parser) sees: one string
/// per code block / HTML block / list item, prefixed with its containers.
fn structure(md: &str) -> Vec<String> {
    use pulldown_cmark::{CodeBlockKind, Event, Parser, Tag, TagEnd};
    let mut out = Vec::new();
    let mut stack: Vec<&str> = Vec::new();
    let mut code: Option<String> = None;
    for ev in Parser::new_ext(md, kubelab::doc::parse::options()) {
        match ev {
            Event::Start(Tag::Item) => stack.push("item"),
            Event::Start(Tag::BlockQuote(_)) => stack.push("quote"),
            Event::End(TagEnd::Item) | Event::End(TagEnd::BlockQuote(_)) => {
                stack.pop();
            }
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info))) => {
                code = Some(format!(
                    "{}code[{info}]:",
                    stack.iter().map(|s| format!("{s}>")).collect::<String>()
                ));
            }
            Event::Text(t) if code.is_some() => code.as_mut().unwrap().push_str(&t),
            Event::End(TagEnd::CodeBlock) => out.push(code.take().unwrap()),
            Event::Html(h) => out.push(format!(
                "{}html:{}",
                stack.iter().map(|s| format!("{s}>")).collect::<String>(),
                h.trim_end()
            )),
            _ => {}
        }
    }
    out
}

#[test]
fn round_trip_converts_lessons_and_keeps_the_rest() {
    let input: Value = serde_json::from_str(INPUT).unwrap();
    let out = run(INPUT).unwrap();
    let (items_in, items_out) = (&input[1]["items"], &out["items"]);
    assert_eq!(
        items_in.as_array().unwrap().len(),
        items_out.as_array().unwrap().len()
    );

    // Separators, part titles and drafts pass through untouched.
    for (a, b) in items_in
        .as_array()
        .unwrap()
        .iter()
        .zip(items_out.as_array().unwrap())
    {
        if a.get("Chapter").is_none() {
            assert_eq!(a, b);
        }
    }
    assert!(items_out
        .as_array()
        .unwrap()
        .contains(&Value::String("Separator".into())));
    assert!(items_out
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["PartTitle"] == "Part one"));
    assert_eq!(chapter(items_out, "intro.md")["content"], "# Intro\n");
    // Only `content` changes; every other field is kept as mdBook sent it.
    let (a_in, a_out) = (chapter(items_in, "a.md"), chapter(items_out, "a.md"));
    for (k, v) in a_in {
        if k != "content" && k != "sub_items" {
            assert_eq!(Some(v), a_out.get(k), "field {k}");
        }
    }

    let a = a_out["content"].as_str().unwrap();
    assert!(
        !a.contains("+++") && !a.contains("panes ="),
        "front matter left:\n{a}"
    );
    assert!(a.starts_with("\n# 从进程说开去"), "{a}");
    assert!(a.contains("容器其实是一个特殊的进程。"), "{a}");
    // The web-edition banner under the title, before the text.
    let banner = a
        .find("<div class=\"kubelab-banner\" data-pagefind-ignore>")
        .expect(a);
    assert!(banner < a.find("容器其实是").unwrap(), "{a}");
    assert!(a.contains("<code>kubelab open a</code>"), "{a}");
    // Run block → label + plain sh block (mdBook adds its copy button).
    assert!(
        a.contains(
            "<span class=\"kubelab-tag\">在 kubelab 中运行</span></p>\n\n```sh\nps -ef\n```"
        ),
        "{a}"
    );
    // Inside a list item the replacement keeps the item's indentation.
    assert!(
        a.contains("（沙箱 main）</p>\n\n  ```sh\n  echo in-list\n  ```"),
        "{a}"
    );
    // Check → what kubelab verifies, in words; the hint collapsed; no script.
    assert!(
        a.contains("<strong>kubelab 会检查：</strong>沙箱里的 sleep 是 1 号进程"),
        "{a}"
    );
    assert!(a.contains("<details class=\"kubelab-hint\" data-pagefind-ignore>\n<summary>提示</summary>\n\n用 exec 启动 sleep\n\n</details>"), "{a}");
    assert!(!a.contains("pgrep -x sleep"), "{a}");
    assert!(!a.contains("# title:"), "{a}");
    // Solution → collapsed.
    assert!(a.contains("<details class=\"kubelab-solution\" data-pagefind-ignore>\n<summary>参考答案</summary>\n\n```sh\nexec sleep 1000\n```\n\n</details>"), "{a}");
    // Quiz → question, lettered choices, answer + explanation collapsed.
    assert!(
        a.contains("**容器里的第一个进程看到自己的 PID 是多少？**") && !a.contains("小测验"),
        "{a}"
    );
    assert!(
        a.contains("- **A.** 0\n- **B.** 1\n- **C.** 宿主机上的 PID"),
        "{a}"
    );
    assert!(a.contains("<summary>查看答案</summary>\n\n<strong>答案：B。</strong>1\n\nPID namespace 让它看到自己是 1 号进程。"), "{a}");
    assert!(
        !a.contains("```toml quiz") && !a.contains("answer = "),
        "{a}"
    );
    // Plain code is untouched.
    assert!(a.contains("```sh\nplain code stays\n```"), "{a}");

    // mdBook's parser sees the intended structure.
    let st = structure(a);
    for want in [
        "code[sh]:ps -ef\n",
        "item>code[sh]:echo in-list\n",
        "html:<details class=\"kubelab-solution\" data-pagefind-ignore>",
        "html:<summary>参考答案</summary>",
        "code[sh]:exec sleep 1000\n",
        "html:</details>",
        "html:<div class=\"kubelab-quiz\">",
        "code[sh]:plain code stays\n",
    ] {
        assert!(st.iter().any(|s| s == want), "missing {want:?} in {st:#?}");
    }

    // sub_items are walked; a fence inside a block quote stays in it.
    let sub = chapter(items_out, "sub.md")["content"].as_str().unwrap();
    assert!(sub.contains("> <details class=\"kubelab-solution\" data-pagefind-ignore>\n> <summary>参考答案</summary>\n>\n> ```sh\n> echo sub-solution\n> ```\n>\n> </details>"), "{sub}");
    let st = structure(sub);
    assert!(
        st.iter().any(|s| s == "quote>code[sh]:echo sub-solution\n"),
        "{st:#?}"
    );
    assert!(
        st.iter().any(|s| s.starts_with("quote>html:<details")),
        "{st:#?}"
    );
}

#[test]
fn labels_follow_the_book_language() {
    let mut input: Value = serde_json::from_str(INPUT).unwrap();
    input[0]["config"]["book"]["language"] = "en".into();
    let out = run(&input.to_string()).unwrap();
    let a = chapter(&out["items"], "a.md")["content"].as_str().unwrap();
    assert!(a.contains(">Run in kubelab</span>"), "{a}");
    assert!(a.contains("<strong>kubelab checks:</strong> "), "{a}");
    assert!(a.contains("<summary>Solution</summary>"), "{a}");
    assert!(
        a.contains("<summary>Show the answer</summary>\n\n<strong>Answer: B.</strong>"),
        "{a}"
    );
}

#[test]
fn mdbook_0_4_sections_shape_is_accepted() {
    let input = INPUT.replacen("\"items\"", "\"sections\"", 1);
    let out = run(&input).unwrap();
    let a = chapter(&out["sections"], "a.md")["content"]
        .as_str()
        .unwrap();
    assert!(a.contains("<summary>参考答案</summary>"), "{a}");
}

#[test]
fn bad_lesson_and_bad_json_fail_with_file_and_line() {
    let mut input: Value = serde_json::from_str(INPUT).unwrap();
    let bad = "+++\nid = \"b\"\ntitle = \"B\"\n+++\n\ntext\n\n```toml quiz\nid = \"q\"\nquestion = \"?\"\nchoices = [\"x\"]\nanswer = \"Z\"\n```\n";
    for item in input[1]["items"].as_array_mut().unwrap() {
        if item["Chapter"]["path"] == "b.md" {
            item["Chapter"]["content"] = bad.into();
        }
    }
    let e = run(&input.to_string()).unwrap_err();
    assert!(e.contains("b.md:11:") && e.contains("quiz `q`"), "{e}");

    let e = run("{\"not\": \"a pair\"}").unwrap_err();
    assert!(e.contains("[context, book]"), "{e}");
    let e = run("not json").unwrap_err();
    assert!(e.contains("mdbook build"), "{e}");
    assert!(mdbook::supports("html"));
    assert!(!mdbook::supports("latex"));
}

#[test]
fn the_binary_speaks_the_protocol() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let bin = env!("CARGO_BIN_EXE_kubelab");
    let status = |args: &[&str]| Command::new(bin).args(args).status().unwrap().code();
    assert_eq!(status(&["mdbook", "supports", "html"]), Some(0));
    assert_eq!(status(&["mdbook", "supports", "markdown"]), Some(1));

    let mut child = Command::new(bin)
        .arg("mdbook")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(INPUT.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let book: Value = serde_json::from_slice(&out.stdout).unwrap();
    let a = chapter(&book["items"], "a.md")["content"].as_str().unwrap();
    assert!(a.contains("<summary>参考答案</summary>"), "{a}");

    // Garbage in: a clear error and a failing exit code for mdbook to report.
    let mut child = Command::new(bin)
        .arg("mdbook")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"[1,").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("mdbook build"));
}

/// A page brought in from Hugo/Jekyll (YAML front matter between `---`
/// lines, which the reader accepts) shows none of its YAML in the web book.
#[test]
fn yaml_front_matter_is_stripped_from_the_web_page() {
    let mut input: Value = serde_json::from_str(INPUT).unwrap();
    let page = "---\ntitle: Pod 的生命周期\ndescription: 阶段与探针\nweight: 30\ntags: [k8s]\n---\n\nPod 有五个阶段。\n";
    for item in input[1]["items"].as_array_mut().unwrap() {
        if item["Chapter"]["path"] == "intro.md" {
            item["Chapter"]["content"] = page.into();
        }
    }
    let out = run(&input.to_string()).unwrap();
    let intro = chapter(&out["items"], "intro.md")["content"]
        .as_str()
        .unwrap();
    assert!(
        !intro.contains("weight") && !intro.contains("tags:") && !intro.contains("---"),
        "{intro}"
    );
    assert!(intro.starts_with("# Pod 的生命周期\n"), "{intro}");
    assert!(intro.contains("Pod 有五个阶段。"), "{intro}");
    // mdBook's parser sees no thematic break or setext heading left over.
    let events: Vec<_> = pulldown_cmark::Parser::new(intro).collect();
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, pulldown_cmark::Event::Rule)),
        "{intro}"
    );
}
