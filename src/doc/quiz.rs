//! ```` ```toml quiz ```` blocks: one multiple-choice question in TOML.
//!
//! ```toml
//! id = "pid-inside"
//! question = "Which PID does the first process in a new PID namespace see?"
//! choices = ["0", "1", "Its host PID"]
//! answer = "B"            # a letter: A is the first choice
//! explain = "The first process of a PID namespace is its init, PID 1."
//! ```

use super::ir::Quiz;
use crate::diagnostic::LineIndex;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQuiz {
    id: String,
    question: String,
    choices: Vec<String>,
    answer: String,
    #[serde(default)]
    explain: Option<String>,
}

/// A quiz problem at a file position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuizError {
    pub line: u32,
    pub col: u32,
    pub message: String,
}

/// The letter for a 0-based choice index (`0` → `A`).
pub fn letter(index: usize) -> char {
    (b'A' + (index.min(25) as u8)) as char
}

/// The reader answers a quiz with the keys a–d (other letters are taken by
/// navigation: g, j, k, n, p, q, ...), so a quiz offers at most four choices.
pub const MAX_CHOICES: usize = 4;

/// Parses a quiz body; `fence_line` is the file line of the opening fence.
pub fn parse(code: &str, fence_line: u32) -> Result<Quiz, QuizError> {
    let first = fence_line + 1;
    let idx = LineIndex::new(code);
    let at = |offset: usize, message: String| {
        let (l, c) = idx.line_col(code, offset);
        QuizError {
            line: first + l - 1,
            col: c,
            message,
        }
    };
    let raw: RawQuiz = toml::from_str(code).map_err(|e| {
        let off = e.span().map_or(0, |s| s.start);
        at(off, format!("quiz: {}", e.message().trim()))
    })?;
    let key_offset = |key: &str| {
        code.lines()
            .scan(0usize, |pos, l| {
                let start = *pos;
                *pos += l.len() + 1;
                Some((start, l))
            })
            .find(|(_, l)| l.trim_start().starts_with(key))
            .map_or(0, |(s, _)| s)
    };
    if raw.id.trim().is_empty() {
        return Err(at(key_offset("id"), "quiz: `id` is empty".into()));
    }
    if raw.choices.len() < 2 {
        return Err(at(
            key_offset("choices"),
            format!(
                "quiz `{}`: give at least two choices (has {})",
                raw.id,
                raw.choices.len()
            ),
        ));
    }
    if raw.choices.len() > MAX_CHOICES {
        return Err(at(
            key_offset("choices"),
            format!(
                "quiz `{}`: at most {MAX_CHOICES} choices, because the reader answers with the keys a–d (has {}); merge or drop some",
                raw.id,
                raw.choices.len()
            ),
        ));
    }
    let a = raw.answer.trim().to_ascii_uppercase();
    let last = letter(raw.choices.len() - 1);
    let answer = match a.as_bytes() {
        [c @ b'A'..=b'Z'] if ((c - b'A') as usize) < raw.choices.len() => (c - b'A') as usize,
        _ => {
            return Err(at(
                key_offset("answer"),
                format!(
                    "quiz `{}`: answer = \"{}\" is not one of the choices; write a letter A–{last}",
                    raw.id, raw.answer
                ),
            ))
        }
    };
    Ok(Quiz {
        id: raw.id,
        question: raw.question,
        choices: raw.choices,
        answer,
        explain: raw.explain,
        line: fence_line,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_quiz() {
        let q = parse(
            "id = \"q1\"\nquestion = \"哪个？\"\nchoices = [\"甲\", \"乙\"]\nanswer = \"b\"\nexplain = \"因为\"\n",
            10,
        )
        .unwrap();
        assert_eq!(q.answer, 1);
        assert_eq!(q.choices, vec!["甲", "乙"]);
        assert_eq!(q.line, 10);
        assert_eq!(letter(q.answer), 'B');
    }

    #[test]
    fn answer_out_of_range_points_at_the_answer_line() {
        let e = parse(
            "id = \"q1\"\nquestion = \"?\"\nchoices = [\"a\", \"b\"]\nanswer = \"C\"\n",
            10,
        )
        .unwrap_err();
        assert_eq!(e.line, 14);
        assert!(e.message.contains("A–B"), "{}", e.message);
    }

    #[test]
    fn unknown_field_and_missing_field() {
        let e = parse(
            "id = \"q\"\nquestion = \"?\"\nchoices = [\"a\", \"b\"]\nanswer = \"A\"\nhint = \"x\"\n",
            1,
        )
        .unwrap_err();
        assert_eq!(e.line, 6);
        assert!(e.message.contains("hint"), "{}", e.message);
        let e = parse("id = \"q\"\nchoices = [\"a\", \"b\"]\nanswer = \"A\"\n", 1).unwrap_err();
        assert!(e.message.contains("question"), "{}", e.message);
    }

    #[test]
    fn more_choices_than_answer_keys_is_an_error() {
        let e = parse(
            "id = \"q\"\nquestion = \"?\"\nchoices = [\"a\", \"b\", \"c\", \"d\", \"e\"]\nanswer = \"E\"\n",
            1,
        )
        .unwrap_err();
        assert_eq!(e.line, 4, "points at the choices line");
        assert!(e.message.contains("at most 4 choices"), "{}", e.message);
        let four = "id = \"q\"\nquestion = \"?\"\nchoices = [\"a\", \"b\", \"c\", \"d\"]\nanswer = \"D\"\n";
        assert_eq!(parse(four, 1).unwrap().answer, 3);
    }

    #[test]
    fn too_few_choices() {
        let e = parse(
            "id = \"q\"\nquestion = \"?\"\nchoices = [\"a\"]\nanswer = \"A\"\n",
            1,
        )
        .unwrap_err();
        assert_eq!(e.line, 4);
    }
}
