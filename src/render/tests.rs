use super::*;
use crate::course::model::Lang;
use crate::doc::ir::*;

fn text(s: &str) -> Vec<Inline> {
    vec![Inline::Text(s.into())]
}

fn line_text(l: &Line) -> String {
    l.spans.iter().map(|s| s.content.as_ref()).collect()
}

fn render(doc: &Doc, w: u16) -> (Rendered, Vec<String>) {
    let r = render_doc(
        doc,
        w,
        &BlockStates::default(),
        crate::i18n::strings(Lang::En),
    );
    let t = r.lines.iter().map(line_text).collect();
    (r, t)
}

#[test]
fn table_columns_align_by_display_width() {
    let doc = Doc {
        blocks: vec![Block::Table {
            align: vec![Align::Left, Align::Right],
            header: vec![text("名称"), text("PID")],
            rows: vec![
                vec![text("容器进程"), text("1")],
                vec![text("host"), text("4242")],
            ],
            line: 3,
        }],
    };
    let (_, lines) = render(&doc, 40);
    let widths: Vec<usize> = lines.iter().map(|l| crate::wrap::width(l)).collect();
    assert!(widths.iter().all(|w| *w == widths[0]), "{lines:#?}");
    assert_eq!(lines[1], "│ 名称     │  PID │");
    assert_eq!(lines[3], "│ 容器进程 │    1 │");
}

#[test]
fn narrow_table_wraps_cells_and_stays_inside_width() {
    let doc = Doc {
        blocks: vec![Block::Table {
            align: vec![],
            header: vec![text("命名空间"), text("隔离的内容")],
            rows: vec![vec![
                text("PID"),
                text("进程编号，容器里的第一个进程看到自己是一号进程"),
            ]],
            line: 1,
        }],
    };
    let (_, lines) = render(&doc, 30);
    for l in &lines {
        assert!(crate::wrap::width(l) <= 30, "{l:?}");
    }
    assert!(lines.len() > 5);
}

#[test]
fn interactive_blocks_are_distinct_and_tracked() {
    let doc = Doc {
        blocks: vec![
            Block::Paragraph {
                text: text("intro"),
                line: 5,
            },
            Block::Interactive(Interactive::Run(RunBlock {
                lang: "sh".into(),
                code: "echo $$".into(),
                sandbox: None,
                node: None,
                needs_limits: false,
                line: 7,
            })),
            Block::Interactive(Interactive::Solution(SolutionBlock {
                lang: "sh".into(),
                code: "secret-answer".into(),
                sandbox: None,
                node: None,
                needs_limits: false,
                line: 11,
            })),
            Block::Interactive(Interactive::Quiz(Quiz {
                id: "q1".into(),
                question: "PID 1 inside?".into(),
                choices: vec!["init".into(), "bash".into()],
                answer: 1,
                explain: Some("the first process".into()),
                line: 15,
            })),
        ],
    };
    let (r, lines) = render(&doc, 60);
    let all = lines.join("\n");
    assert!(all.contains("▶ run") && all.contains("┃ echo $$"), "{all}");
    assert!(!all.contains("secret-answer"), "solution must start hidden");
    assert_eq!(r.blocks.len(), 3);
    assert_eq!(r.blocks[0].kind, InteractiveKind::Run);
    assert!(lines[r.blocks[0].lines.start].contains("run"));
    assert_eq!(
        r.block_at(r.blocks[2].lines.start).map(|b| b.index),
        Some(2)
    );
    assert_eq!(r.src_lines[r.blocks[1].lines.start], 11);

    let mut st = BlockStates::default();
    st.revealed.insert(1);
    st.quiz.insert("q1".into(), 0);
    let r2 = render_doc(&doc, 60, &st, crate::i18n::strings(Lang::En));
    let all2: Vec<String> = r2.lines.iter().map(line_text).collect();
    let all2 = all2.join("\n");
    assert!(all2.contains("secret-answer"));
    assert!(
        all2.contains("✗ a) init") && all2.contains("→ b) bash"),
        "{all2}"
    );
    assert!(all2.contains("the first process"));
}

#[test]
fn nested_lists_quotes_and_links() {
    let doc = Doc {
        blocks: vec![
            Block::List {
                ordered: None,
                items: vec![
                    ListItem {
                        task: Some(true),
                        blocks: vec![Block::Paragraph {
                            text: text("完成"),
                            line: 2,
                        }],
                    },
                    ListItem {
                        task: None,
                        blocks: vec![Block::Paragraph {
                            text: vec![
                                Inline::Text("see ".into()),
                                Inline::Link {
                                    text: text("docs"),
                                    url: "https://kubernetes.io".into(),
                                },
                            ],
                            line: 3,
                        }],
                    },
                ],
                line: 2,
            },
            Block::Quote {
                alert: Some(Alert::Warning),
                blocks: vec![Block::Paragraph {
                    text: text("小心"),
                    line: 6,
                }],
                line: 5,
            },
        ],
    };
    let (r, lines) = render(&doc, 40);
    assert_eq!(lines[0], "☑ 完成");
    assert_eq!(lines[1], "• see docs[1]");
    assert_eq!(lines[3], "▌ ⚠ Warning");
    assert_eq!(lines[4], "▌ 小心");
    // The references close the section, the URL whole.
    assert_eq!(lines[6], "  [1] https://kubernetes.io");
    assert_eq!(r.ref_lines, vec![6]);
    // Link text (inside the list's indent), its number and the URL are
    // link cells.
    let spans: Vec<(usize, std::ops::Range<u16>)> = r
        .link_spans
        .iter()
        .map(|s| (s.line, s.cols.clone()))
        .collect();
    assert_eq!(spans, vec![(1, 6..10), (1, 10..13), (6, 6..27)]);
}

#[test]
fn a_url_wider_than_the_column_gets_lines_of_its_own() {
    let url = "https://kubernetes.io/zh-cn/docs/concepts/workloads/pods/";
    let doc = Doc {
        blocks: vec![Block::Paragraph {
            text: vec![Inline::Link {
                text: text("Pod"),
                url: url.into(),
            }],
            line: 1,
        }],
    };
    let (_, lines) = render(&doc, 60);
    assert_eq!(lines[2], "  [1]");
    assert_eq!(lines[3], url);
}

#[test]
fn line_for_source_finds_block() {
    let doc = Doc {
        blocks: vec![
            Block::Heading {
                level: 1,
                text: text("Title"),
                line: 4,
            },
            Block::Paragraph {
                text: text("a"),
                line: 6,
            },
            Block::Paragraph {
                text: text("b"),
                line: 9,
            },
        ],
    };
    let (r, lines) = render(&doc, 20);
    let l = r.line_for_source(9);
    assert_eq!(lines[l], "b");
    assert_eq!(lines[r.line_for_source(7)], "a");
}

fn render_with(doc: &Doc, w: u16, st: &BlockStates, lang: Lang) -> Vec<String> {
    render_doc(doc, w, st, crate::i18n::strings(lang))
        .lines
        .iter()
        .map(line_text)
        .collect()
}

#[test]
fn run_code_wraps_at_a_space_with_a_continuation_mark() {
    let doc = Doc {
        blocks: vec![Block::Interactive(Interactive::Run(RunBlock {
            lang: "sh".into(),
            code: "unshare --pid --fork --mount-proc sleep 3600 &\n".into(),
            sandbox: None,
            node: None,
            needs_limits: false,
            line: 1,
        }))],
    };
    let lines = render_with(&doc, 44, &BlockStates::default(), Lang::En);
    let code: Vec<&String> = lines.iter().filter(|l| l.starts_with('┃')).collect();
    assert_eq!(code.len(), 2, "{lines:#?}");
    assert_eq!(
        code[0].trim_end(),
        "┃ unshare --pid --fork --mount-proc sleep"
    );
    assert_eq!(code[1], "┃ ↪ 3600 &");
}

#[test]
fn text_blocks_wrap_and_lose_nothing() {
    // A flow line and a URL template as real-world `text` blocks write them.
    let flow = "kubectl → apiserver → Authentication → Validating Admission → etcd";
    let url = "https://k8s.example/apis/apps/v1/namespaces/{namespace}/deployments";
    let doc = Doc {
        blocks: vec![Block::Code {
            lang: Some("text".into()),
            code: format!("{flow}\n{url}\n"),
            line: 1,
        }],
    };
    for w in [30u16, 44, 56] {
        let lines = render_with(&doc, w, &BlockStates::default(), Lang::En);
        for l in &lines {
            assert!(crate::wrap::width(l) <= usize::from(w), "{l:?}");
        }
        // Join the continuation lines back: every character is there.
        let body: String = lines[1..]
            .iter()
            .map(|l| l.trim_start_matches("│ ").trim_start_matches("↪ "))
            .collect();
        assert_eq!(body, format!("{flow}{url}"), "at {w}: {lines:#?}");
        // Breaks fall at spaces: no word of the flow line is split.
        for word in ["Authentication", "Validating", "Admission", "etcd"] {
            assert!(
                lines.iter().any(|l| l.contains(word)),
                "{word} split at {w}: {lines:#?}"
            );
        }
    }
}

#[test]
fn code_breaks_at_the_last_space_that_fits() {
    let doc = Doc {
        blocks: vec![Block::Code {
            lang: None,
            code: "ab cdefghijklmnopqrstuvwxyz0123456789\n".into(),
            line: 1,
        }],
    };
    let lines = render_with(&doc, 24, &BlockStates::default(), Lang::En);
    assert_eq!(lines[0].trim_end(), "│ ab", "{lines:#?}");
    assert_eq!(lines[1], "│ ↪ cdefghijklmnopqrstuv");
}

#[test]
fn a_code_block_ending_a_list_item_is_set_off_from_the_next_bullet() {
    let item = |blocks| ListItem { task: None, blocks };
    let doc = Doc {
        blocks: vec![Block::List {
            ordered: None,
            items: vec![
                item(vec![
                    Block::Paragraph {
                        text: text("first"),
                        line: 1,
                    },
                    Block::Code {
                        lang: Some("sh".into()),
                        code: "ls\n".into(),
                        line: 3,
                    },
                ]),
                item(vec![Block::Paragraph {
                    text: text("second"),
                    line: 6,
                }]),
            ],
            line: 1,
        }],
    };
    let lines = render_with(&doc, 40, &BlockStates::default(), Lang::En);
    let second = lines.iter().position(|l| l.contains("second")).unwrap();
    assert_eq!(lines[second - 1].trim(), "", "{lines:#?}");
    assert!(lines[second - 2].contains("ls"), "{lines:#?}");
}

fn check_doc() -> Doc {
    Doc {
        blocks: vec![Block::Interactive(Interactive::Check(CheckBlock {
            id: "outer-pid".into(),
            lang: "sh".into(),
            code: "test -s /root/outer-pid".into(),
            on: CheckSide::Sandbox,
            sandbox: None,
            node: None,
            needs_limits: false,
            title: Some("Write the PID".into()),
            hint: Some("看 ps 的输出".into()),
            line: 1,
        }))],
    }
}

#[test]
fn a_check_passed_earlier_reads_done_in_a_fresh_sandbox() {
    let mut st = BlockStates::default();
    st.checks.insert(
        "outer-pid".into(),
        CheckStatus::Fail(Some("missing".into())),
    );
    let lines = render_with(&check_doc(), 60, &st, Lang::En).join("\n");
    assert!(
        lines.contains("✗ not yet") && lines.contains("missing"),
        "{lines}"
    );

    // 2026-11-22 04:38 UTC
    st.done_earlier.insert("outer-pid".into(), 1_795_322_280);
    let lines = render_with(&check_doc(), 60, &st, Lang::En).join("\n");
    assert!(lines.contains("✓ done earlier · 11-22 04:38"), "{lines}");
    assert!(
        lines.contains("the sandbox is fresh — redo to see it live"),
        "{lines}"
    );
    assert!(
        !lines.contains("✗") && !lines.contains("missing"),
        "{lines}"
    );

    st.checks.insert("outer-pid".into(), CheckStatus::Pass);
    let lines = render_with(&check_doc(), 60, &st, Lang::En).join("\n");
    assert!(
        lines.contains("✓ done") && !lines.contains("earlier"),
        "{lines}"
    );
}

#[test]
fn chinese_ui_labels_alerts_hints_and_quiz_keys() {
    let doc = Doc {
        blocks: vec![
            Block::Quote {
                alert: Some(Alert::Note),
                blocks: vec![Block::Paragraph {
                    text: text("内容"),
                    line: 2,
                }],
                line: 1,
            },
            check_doc().blocks.remove(0),
            Block::Interactive(Interactive::Quiz(Quiz {
                id: "q".into(),
                question: "哪一个？".into(),
                choices: vec!["一".into(), "二".into(), "三".into()],
                answer: 1,
                explain: None,
                line: 9,
            })),
        ],
    };
    let mut st = BlockStates::default();
    st.hints.insert("outer-pid".into());
    let lines = render_with(&doc, 60, &st, Lang::Zh).join("\n");
    assert!(lines.contains("ℹ 注意"), "{lines}");
    assert!(lines.contains("提示：看 ps 的输出"), "{lines}");
    assert!(lines.contains("选中后按 a/b/c 作答"), "{lines}");
    let en = render_with(&doc, 60, &st, Lang::En).join("\n");
    assert!(
        en.contains("ℹ Note") && en.contains("Hint: 看") && en.contains("answer with a/b/c"),
        "{en}"
    );
}

#[test]
fn table_columns_keep_latin_words_whole_when_they_can() {
    // As in zh 06-isolation-limits in a narrow lesson pane.
    let doc = Doc {
        blocks: vec![Block::Table {
            align: vec![],
            header: vec![text("namespace"), text("clone 标志"), text("隔离的内容")],
            rows: vec![
                vec![
                    text("mount"),
                    text("CLONE_NEWNS"),
                    text("挂载点，也就是进程看到的文件系统树"),
                ],
                vec![
                    text("uts"),
                    text("CLONE_NEWUTS"),
                    text("主机名和域名，容器可以有自己的 hostname"),
                ],
            ],
            line: 1,
        }],
    };
    let (_, lines) = render(&doc, 40);
    let all = lines.join("\n");
    for word in ["namespace", "CLONE_NEWNS", "CLONE_NEWUTS", "hostname"] {
        assert!(all.contains(word), "{word} is split:\n{all}");
    }
    for l in &lines {
        assert!(crate::wrap::width(l) <= 40, "{l:?}");
        for cell in l.split('│').skip(1) {
            assert!(!cell.trim_start().starts_with(['，', '、', '。']), "{all}");
        }
    }
    // Too narrow for the words: one record per row instead of split words.
    let (_, lines) = render(&doc, 24);
    assert!(
        lines.iter().all(|l| crate::wrap::width(l) <= 24),
        "{lines:#?}"
    );
    let all = lines.join("\n");
    for field in ["namespace: mount", "CLONE_NEWNS", "CLONE_NEWUTS"] {
        assert!(all.contains(field), "{field}:\n{all}");
    }
}

#[test]
fn a_cjk_column_is_never_crushed_beside_a_uuid() {
    let doc = Doc {
        blocks: vec![Block::Table {
            align: vec![],
            header: vec![text("标识"), text("描述"), text("示例")],
            rows: vec![vec![
                text("uid"),
                text("对象的唯一标识，由系统自动生成，自动化程度高"),
                text("1b4e28ba-2fa1-11d2-883f-0016d3cca427"),
            ]],
            line: 1,
        }],
    };
    for w in [40u16, 56, 60, 76] {
        let (_, lines) = render(&doc, w);
        let all = lines.join("\n");
        assert!(
            all.contains("1b4e28ba-2fa1-11d2-883f-0016d3cca427"),
            "{all}"
        );
        for l in &lines {
            assert!(crate::wrap::width(l) <= usize::from(w), "{l:?}");
        }
        // In the grid, the description column keeps 4 CJK characters.
        if let Some(desc) = lines[0].split('┬').nth(1) {
            assert!(desc.chars().count() >= 8 + 2, "crushed at {w}:\n{all}");
        }
        if w <= 56 {
            assert!(
                all.contains("描述: 对象的唯一标识"),
                "records at {w}:\n{all}"
            );
        } else {
            assert!(all.starts_with('┌'), "grid at {w}:\n{all}");
        }
    }
}

#[test]
fn table_layout_shares_room_by_content() {
    use super::table::layout;
    // Everything fits: natural widths.
    assert_eq!(layout(&[4, 10], &[4, 8], 20), Some(vec![4, 10]));
    // Not all: minimums first, the rest to whoever wants more.
    assert_eq!(layout(&[4, 40, 36], &[4, 8, 36], 60), Some(vec![4, 20, 36]));
    // Minimums do not fit: no grid.
    assert_eq!(layout(&[4, 40, 36], &[4, 8, 36], 46), None);
}

#[test]
fn min_width_is_the_longest_unbreakable_run() {
    let p = |s: &str| vec![crate::wrap::Piece::new(s, Style::default())];
    assert_eq!(crate::wrap::min_width(&p("CLONE_NEWNS 标志")), 11);
    assert_eq!(crate::wrap::min_width(&p("进程树")), 2);
    assert_eq!(crate::wrap::min_width(&p("界，真相")), 4);
}

/// CRLF lesson files: code blocks show no `^M`, and controls inside code
/// are shown escaped, whether or not the block is highlighted yet.
#[test]
fn code_blocks_escape_controls_but_not_crlf_line_ends() {
    let doc = crate::doc::parse_body(
        "```sh\r\necho a\r\nprintf '\u{1b}[2J'\r\n```\r\n\r\n```text\r\nx\u{7}\r\n```\r\n",
        1,
        std::path::Path::new("t.md"),
    )
    .doc;
    for _ in 0..2 {
        let r = render_doc(
            &doc,
            60,
            &BlockStates::default(),
            crate::i18n::strings(crate::course::model::Lang::En),
        );
        let text: String = r
            .lines
            .iter()
            .flat_map(|l| l.spans.iter().map(|s| s.content.to_string()))
            .collect::<Vec<_>>()
            .join("|");
        assert!(!text.contains("^M"), "{text}");
        assert!(!text.chars().any(char::is_control), "{text:?}");
        assert!(text.contains("^[[2J") && text.contains("x^G"), "{text}");
        // Second round: with the highlighted lines in the cache.
        crate::render::highlight::highlight_all(crate::render::code_blocks(&doc));
    }
}

#[test]
fn links_in_table_cells_are_link_cells_too() {
    let doc = Doc {
        blocks: vec![Block::Table {
            align: vec![],
            header: vec![text("名称"), text("文档")],
            rows: vec![vec![
                text("Pod"),
                vec![Inline::Link {
                    text: text("概念"),
                    url: "https://kubernetes.io/docs/concepts/workloads/pods/".into(),
                }],
            ]],
            line: 1,
        }],
    };
    let (r, lines) = render(&doc, 60);
    let cell = r.link_spans.first().expect("a link span");
    let line = &lines[cell.line];
    // The span covers "概念" where the grid drew it.
    let before: String = line.chars().take_while(|&c| c != '概').collect();
    let start = crate::wrap::width(&before) as u16;
    assert_eq!(cell.cols, start..start + 4, "{line}");
}

#[test]
fn a_url_in_code_breaks_after_a_slash() {
    let doc = Doc {
        blocks: vec![Block::Code {
            lang: Some("text".into()),
            code:
                "https://kubernetes.default.svc/apis/apps/v1/namespaces/{namespace}/deployments\n"
                    .into(),
            line: 1,
        }],
    };
    let lines = render_with(&doc, 60, &BlockStates::default(), Lang::En);
    assert_eq!(
        lines[1].trim_end(),
        "│ https://kubernetes.default.svc/apis/apps/v1/namespaces/",
        "{lines:#?}"
    );
    assert_eq!(lines[2], "│ ↪ {namespace}/deployments");
}

#[test]
fn a_check_that_cannot_pass_here_reads_not_available_with_why_and_no_hint() {
    let mut st = BlockStates::default();
    // The learner asked for the hint: it would say "run the hog again".
    st.hints.insert("outer-pid".into());
    st.checks.insert(
        "outer-pid".into(),
        CheckStatus::Unavailable(
            "cgroup v1 (/sys/fs/cgroup/cpu) is not writable by uid 1000: Permission denied".into(),
        ),
    );
    for (lang, mark, why) in [
        (
            Lang::En,
            "not available on this machine, skipped",
            "run kubelab as root",
        ),
        (Lang::Zh, "本机无法完成，已跳过", "以 root 运行 kubelab"),
    ] {
        let lines = render_with(&check_doc(), 200, &st, lang).join("\n");
        assert!(lines.contains(mark), "{lines}");
        assert!(lines.contains(why), "{lines}");
        assert!(!lines.contains("看 ps 的输出"), "a hint:\n{lines}");
        assert!(
            !lines.contains("not writable") && !lines.contains('✗'),
            "{lines}"
        );
    }
}
