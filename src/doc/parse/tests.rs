use super::*;
use crate::diagnostic::Severity;

fn parse(src: &str) -> Parsed {
    parse_body(src, 1, Path::new("t.md"))
}

fn errors(p: &Parsed) -> Vec<(u32, u32, String)> {
    p.diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| (d.line, d.col, d.message.clone()))
        .collect()
}

#[test]
fn headings_paragraphs_and_line_numbers_with_offset() {
    let p = parse_body(
        "# 标题\n\n第一段，**粗体**和`代码`。\n\n## Step\n",
        7,
        Path::new("t.md"),
    );
    assert!(p.diagnostics.is_empty());
    let b = &p.doc.blocks;
    assert_eq!(b.len(), 3);
    assert!(matches!(
        &b[0],
        Block::Heading {
            level: 1,
            line: 7,
            ..
        }
    ));
    match &b[1] {
        Block::Paragraph { text, line } => {
            assert_eq!(*line, 9);
            assert_eq!(
                text,
                &vec![
                    Inline::Text("第一段，".into()),
                    Inline::Strong(vec![Inline::Text("粗体".into())]),
                    Inline::Text("和".into()),
                    Inline::Code("代码".into()),
                    Inline::Text("。".into()),
                ]
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(b[2].line(), 11);
    assert_eq!(p.doc.steps(), vec![(2, "Step".to_string())]);
}

#[test]
fn cjk_text_without_spaces_stays_one_text_run() {
    let p = parse("容器其实是一种特殊的进程，它看到的世界被隔离了。\n第二行仍在同一段落。\n");
    match &p.doc.blocks[0] {
        Block::Paragraph { text, .. } => {
            assert_eq!(
                text[0],
                Inline::Text("容器其实是一种特殊的进程，它看到的世界被隔离了。".into())
            );
            assert_eq!(text[1], Inline::SoftBreak);
            assert_eq!(text.len(), 3);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn links_images_emphasis_strike_breaks() {
    let p = parse("*em* ~~gone~~ [link **b**](https://k8s.io) ![alt 图](i.png)  \nnext<br>x\n");
    let Block::Paragraph { text, .. } = &p.doc.blocks[0] else {
        panic!()
    };
    assert!(matches!(&text[0], Inline::Emph(_)));
    assert!(text.iter().any(|i| matches!(i, Inline::Strike(_))));
    assert!(text
        .iter()
        .any(|i| matches!(i, Inline::Link { url, .. } if url == "https://k8s.io")));
    assert!(text
        .iter()
        .any(|i| matches!(i, Inline::Image { alt, .. } if alt == "alt 图")));
    assert_eq!(text.iter().filter(|i| **i == Inline::HardBreak).count(), 2);
}

#[test]
fn alerts_of_every_kind_and_plain_quotes() {
    let src = "> [!NOTE]\n> n\n\n> [!TIP]\n> t\n\n> [!IMPORTANT]\n> i\n\n> [!WARNING]\n> w\n\n> [!CAUTION]\n> c\n\n> plain\n";
    let p = parse(src);
    let alerts: Vec<_> = p
        .doc
        .blocks
        .iter()
        .map(|b| match b {
            Block::Quote { alert, blocks, .. } => {
                assert_eq!(blocks.len(), 1);
                *alert
            }
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        alerts,
        vec![
            Some(Alert::Note),
            Some(Alert::Tip),
            Some(Alert::Important),
            Some(Alert::Warning),
            Some(Alert::Caution),
            None
        ]
    );
    assert_eq!(p.doc.blocks[5].line(), 16);
}

#[test]
fn tables_with_alignment_and_cjk() {
    let p = parse("intro\n\n| 命名空间 | 作用 | n |\n|:---|:---:|--:|\n| pid | 进程号 | 1 |\n| net | 网络 | 2 |\n");
    let Block::Table {
        align,
        header,
        rows,
        line,
    } = &p.doc.blocks[1]
    else {
        panic!("{:?}", p.doc)
    };
    assert_eq!(*line, 3);
    assert_eq!(align, &vec![Align::Left, Align::Center, Align::Right]);
    assert_eq!(plain_text(&header[0]), "命名空间");
    assert_eq!(rows.len(), 2);
    assert_eq!(plain_text(&rows[1][1]), "网络");
}

#[test]
fn task_lists_tight_and_loose_lists() {
    let p = parse("- [x] done\n- [ ] todo\n\n3. a\n\n   b para\n4. c\n");
    let Block::List {
        ordered: None,
        items,
        ..
    } = &p.doc.blocks[0]
    else {
        panic!()
    };
    assert_eq!(items[0].task, Some(true));
    assert_eq!(items[1].task, Some(false));
    assert!(
        matches!(&items[0].blocks[0], Block::Paragraph { text, .. } if plain_text(text) == "done")
    );
    let Block::List {
        ordered: Some(3),
        items,
        line,
    } = &p.doc.blocks[1]
    else {
        panic!()
    };
    assert_eq!(*line, 4);
    assert_eq!(items[0].blocks.len(), 2);
    assert_eq!(items[0].blocks[1].line(), 6);
}

#[test]
fn rules_html_and_comments() {
    let p = parse("a\n\n---\n\n<!-- author note -->\n\n<div>x</div>\n");
    assert!(matches!(p.doc.blocks[1], Block::Rule { line: 3 }));
    assert_eq!(p.doc.blocks.len(), 3, "{:?}", p.doc.blocks);
    assert!(matches!(&p.doc.blocks[2], Block::Html { line: 7, .. }));
}

#[test]
fn every_interactive_kind() {
    let src = r#"## Step one

```sh run
echo hi
```

```bash run sandbox=web
ls
```

```sh check id=pid1 on=host sandbox="main"
#!/bin/sh
# title: PID 1 is sh
# hint: run `unshare --pid --fork sh`
# hint: then look at `ps`
test "$(cat /proc/1/comm)" = sh || { echo "PID 1 is not sh"; exit 1; }
```

```sh solution
unshare --pid --fork --mount-proc sh
```

```toml quiz
id = "q1"
question = "容器里第一个进程的 PID 是？"
choices = ["0", "1"]
answer = "B"
explain = "它是 init。"
```
"#;
    let p = parse(src);
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    let i = p.doc.interactives();
    assert_eq!(i.len(), 5);
    match i[0] {
        Interactive::Run(r) => {
            assert_eq!(
                (r.lang.as_str(), r.code.as_str(), r.line),
                ("sh", "echo hi\n", 3)
            );
            assert_eq!(r.sandbox, None);
        }
        other => panic!("{other:?}"),
    }
    match i[1] {
        Interactive::Run(r) => assert_eq!(r.sandbox.as_deref(), Some("web")),
        other => panic!("{other:?}"),
    }
    match i[2] {
        Interactive::Check(c) => {
            assert_eq!(c.id, "pid1");
            assert_eq!(c.on, CheckSide::Host);
            assert_eq!(c.sandbox.as_deref(), Some("main"));
            assert_eq!(c.title.as_deref(), Some("PID 1 is sh"));
            assert_eq!(
                c.hint.as_deref(),
                Some("run `unshare --pid --fork sh`\nthen look at `ps`")
            );
            assert_eq!(c.line, 11);
            assert!(c.code.starts_with("#!/bin/sh"));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(i[3], Interactive::Solution(s) if s.line == 19));
    match i[4] {
        Interactive::Quiz(q) => {
            assert_eq!((q.id.as_str(), q.answer, q.line), ("q1", 1, 23));
            assert_eq!(q.explain.as_deref(), Some("它是 init。"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(p.doc.checks().len(), 1);
    assert_eq!(p.doc.quizzes().len(), 1);
}

#[test]
fn interactive_blocks_inside_lists_and_quotes() {
    let p =
        parse("1. do this:\n\n   ```sh run\n   ls\n   ```\n\n> ```sh check id=x\n> true\n> ```\n");
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    let i = p.doc.interactives();
    assert_eq!(i.len(), 2);
    assert_eq!(i[0].line(), 3);
    assert_eq!(i[1].line(), 7);
}

#[test]
fn unknown_attribute_is_an_error_with_column() {
    let p = parse("text\n\n```sh check id=a colour=red\ntrue\n```\n");
    let e = errors(&p);
    assert_eq!(e.len(), 1);
    assert_eq!((e[0].0, e[0].1), (3, 18), "{e:?}");
    assert!(e[0].2.contains("colour"));
    // The block degrades to plain code.
    assert!(matches!(&p.doc.blocks[1], Block::Code { lang: Some(l), .. } if l == "sh"));
}

#[test]
fn check_without_id_and_bad_quiz_are_errors() {
    let p = parse("```sh check\ntrue\n```\n\n```toml quiz\nid = \"q\"\nquestion = \"?\"\nchoices = [\"a\", \"b\"]\nanswer = \"Z\"\n```\n");
    let e = errors(&p);
    assert_eq!(e.len(), 2, "{e:?}");
    assert_eq!(e[0].0, 1);
    assert!(e[0].2.contains("needs an id"));
    assert_eq!(e[1].0, 9, "{e:?}");
    assert!(e[1].2.contains("answer"));
}

#[test]
fn unclosed_fence_is_an_error_at_its_opening_line() {
    let p = parse("# T\n\nsome text\n\n```sh run\necho hi\n\n## Never a heading\n");
    let e = errors(&p);
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!((e[0].0, e[0].1), (5, 1));
    // Which fence: its opening line and info string.
    assert!(
        e[0].2
            .contains("the code fence \"```sh run\" opened on line 5 is never closed"),
        "{e:?}"
    );
    // Closed fences with longer closers, tildes and nested backticks are fine.
    let p = parse("````md\n```sh run\nx\n```\n`````\n\n~~~\ncode\n~~~\n");
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
}

#[test]
fn plain_code_with_unknown_word_warns_but_keeps_the_block() {
    let p = parse("```sh runn\nls\n```\n");
    assert!(!p.has_errors());
    assert_eq!(p.diagnostics.len(), 1);
    assert_eq!(p.diagnostics[0].severity, Severity::Warning);
    assert!(
        matches!(&p.doc.blocks[0], Block::Code { lang: Some(l), code, .. } if l == "sh" && code == "ls\n")
    );
}

#[test]
fn wrong_language_for_kind() {
    let p = parse("```python run\nprint(1)\n```\n\n```sh quiz\nid=1\n```\n");
    assert_eq!(errors(&p).len(), 2);
}

#[test]
fn search_lines_carry_file_lines() {
    let p = parse_body(
        "# 进程\n\n文字 text\n\n```sh run\necho pid\n```\n",
        5,
        Path::new("t.md"),
    );
    let lines = p.doc.search_lines();
    assert_eq!(
        lines,
        vec![
            (5, "进程".to_string()),
            (7, "文字 text".to_string()),
            (10, "echo pid".to_string())
        ]
    );
}

#[test]
fn empty_body() {
    let p = parse("");
    assert!(p.doc.blocks.is_empty());
    assert!(p.diagnostics.is_empty());
}

#[test]
fn arbitrary_combinations_never_panic() {
    let pieces = [
        "# 标题\n",
        "```sh run\n",
        "```\n",
        "~~~toml quiz\n",
        "> [!WARNING]\n> ",
        "- [x] 任务\n",
        "| a | 表 |\n|---|---|\n| 1 | 二 |\n",
        "```sh check id=\"未闭合\n",
        "**粗体*斜体~~删除\n",
        "<!-- 注释\n",
        "    缩进代码\n",
        "\n",
        "1. 项\n   ```sh solution\n   ls\n",
        "[链接](http://例子)\n",
        "+++\n",
        "中文没有空格的长句子，继续写下去。",
    ];
    // A small deterministic generator (xorshift) picks sequences.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..500 {
        let mut doc = String::new();
        for _ in 0..8 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            doc.push_str(pieces[(x % pieces.len() as u64) as usize]);
        }
        let p = parse(&doc);
        let n = doc.lines().count() as u32 + 1;
        for d in &p.diagnostics {
            assert!(d.line >= 1 && d.line <= n, "{d} in\n{doc}");
        }
        fn check(blocks: &[Block], n: u32, doc: &str) {
            for b in blocks {
                assert!(b.line() >= 1 && b.line() <= n, "{b:?} in\n{doc}");
                match b {
                    Block::Quote { blocks, .. } => check(blocks, n, doc),
                    Block::List { items, .. } => {
                        for i in items {
                            check(&i.blocks, n, doc)
                        }
                    }
                    _ => {}
                }
            }
        }
        check(&p.doc.blocks, n, &doc);
    }
}

/// Deepest container nesting of the IR (quotes and list items).
fn block_depth(blocks: &[Block]) -> usize {
    blocks
        .iter()
        .map(|b| match b {
            Block::Quote { blocks, .. } => 1 + block_depth(blocks),
            Block::List { items, .. } => {
                1 + items
                    .iter()
                    .map(|i| block_depth(&i.blocks))
                    .max()
                    .unwrap_or(0)
            }
            _ => 0,
        })
        .max()
        .unwrap_or(0)
}

fn inline_depth(inlines: &[Inline]) -> usize {
    inlines
        .iter()
        .map(|i| match i {
            Inline::Emph(x) | Inline::Strong(x) | Inline::Strike(x) => 1 + inline_depth(x),
            Inline::Link { text, .. } => 1 + inline_depth(text),
            _ => 0,
        })
        .max()
        .unwrap_or(0)
}

#[test]
fn deep_nesting_is_flattened_with_one_warning_and_keeps_the_content() {
    for src in [
        format!("{}deep text\n", "> ".repeat(10_000)),
        format!("{}deep text\n", "- ".repeat(10_000)),
        format!("{}deep text\n", "> 1. ".repeat(3_000)),
    ] {
        let p = parse(&src);
        assert!(block_depth(&p.doc.blocks) <= MAX_BLOCK_NESTING);
        let warnings: Vec<_> = p
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Warning)
            .collect();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert_eq!(warnings[0].line, 1);
        assert!(warnings[0].message.contains("nested"), "{warnings:?}");
        assert!(
            p.doc.search_lines().iter().any(|(_, t)| t == "deep text"),
            "{:?}",
            p.doc.search_lines()
        );
    }
    // Shallow nesting is kept as written and does not warn.
    let p = parse(&format!("{}x\n", "> ".repeat(MAX_BLOCK_NESTING)));
    assert_eq!(block_depth(&p.doc.blocks), MAX_BLOCK_NESTING);
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
}

#[test]
fn deep_inline_markup_is_flattened_and_keeps_the_text() {
    let src = format!("{}deep{}\n", "*".repeat(5_000), "*".repeat(5_000));
    let p = parse(&src);
    let Block::Paragraph { text, .. } = &p.doc.blocks[0] else {
        panic!("{:?}", p.doc.blocks[0]);
    };
    assert!(inline_depth(text) <= MAX_INLINE_NESTING);
    assert_eq!(plain_text(text), "deep");
    assert_eq!(p.diagnostics.len(), 1, "{:?}", p.diagnostics);
    let src = format!("{}deep{}\n", "[".repeat(3_000), "](u)".repeat(3_000));
    let p = parse(&src);
    assert!(p.doc.search_lines().iter().any(|(_, t)| t.contains("deep")));
}
