//! SQuAD v1.1 JSON: articles, questions and answers, read with record-level errors.

use std::path::Path;

use serde::Deserialize;

use crate::error::DataError;

/// One question on one paragraph.
#[derive(Debug, Clone, PartialEq)]
pub struct SquadExample {
    /// The question id.
    pub id: String,
    /// The article's title.
    pub title: String,
    /// The paragraph.
    pub context: String,
    /// The question.
    pub question: String,
    /// Reference answers (the first is the training target).
    pub answers: Vec<SquadAnswer>,
}

impl SquadExample {
    /// The context's characters `start..end` (character, not byte, offsets).
    pub fn context_chars(&self, start: usize, end: usize) -> String {
        self.context
            .chars()
            .skip(start)
            .take(end.saturating_sub(start))
            .collect()
    }
}

/// A reference answer: its text and where it starts in the context, in characters.
#[derive(Debug, Clone, PartialEq)]
pub struct SquadAnswer {
    /// The answer text.
    pub text: String,
    /// Character index of its start in the context.
    pub start: usize,
}

impl SquadAnswer {
    /// Whether the text really is at `start` in `context`.
    pub fn is_aligned(&self, context: &str) -> bool {
        let found: String = context
            .chars()
            .skip(self.start)
            .take(self.text.chars().count())
            .collect();
        found == self.text
    }
}

/// An article: its title and its questions.
#[derive(Debug, Clone, PartialEq)]
pub struct SquadArticle {
    /// The title.
    pub title: String,
    /// Every question of every paragraph, in file order.
    pub examples: Vec<SquadExample>,
}

#[derive(Deserialize)]
struct RawFile {
    data: Vec<RawArticle>,
}
#[derive(Deserialize)]
struct RawArticle {
    title: String,
    paragraphs: Vec<RawParagraph>,
}
#[derive(Deserialize)]
struct RawParagraph {
    context: String,
    qas: Vec<RawQuestion>,
}
#[derive(Deserialize)]
struct RawQuestion {
    id: String,
    question: String,
    answers: Vec<RawAnswer>,
}
#[derive(Deserialize)]
struct RawAnswer {
    text: String,
    answer_start: usize,
}

/// Reads a SQuAD v1.1 file. Every question needs at least one answer inside its context.
pub fn read_squad_json(path: &Path) -> Result<Vec<SquadArticle>, DataError> {
    let text = std::fs::read_to_string(path).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let raw: RawFile = serde_json::from_str(&text).map_err(|e| DataError::Malformed {
        path: path.to_path_buf(),
        line: e.line(),
        reason: format!("not SQuAD v1.1 JSON: {e}"),
    })?;
    let mut articles = Vec::with_capacity(raw.data.len());
    for (a, article) in raw.data.into_iter().enumerate() {
        let mut examples = Vec::new();
        for (p, paragraph) in article.paragraphs.into_iter().enumerate() {
            let length = paragraph.context.chars().count();
            for (q, question) in paragraph.qas.into_iter().enumerate() {
                let record = || format!("data[{a}].paragraphs[{p}].qas[{q}] (id {})", question.id);
                let fail = |reason: String| DataError::Record {
                    path: path.to_path_buf(),
                    record: record(),
                    reason,
                };
                if question.answers.is_empty() {
                    return Err(fail(
                        "no answers (SQuAD v1.1 questions all have one)".into(),
                    ));
                }
                let answers: Vec<SquadAnswer> = question
                    .answers
                    .into_iter()
                    .map(|r| SquadAnswer {
                        text: r.text,
                        start: r.answer_start,
                    })
                    .collect();
                if let Some(bad) = answers
                    .iter()
                    .find(|x| x.start + x.text.chars().count() > length)
                {
                    return Err(fail(format!(
                        "answer `{}` at {} runs past the context ({length} characters)",
                        bad.text, bad.start
                    )));
                }
                examples.push(SquadExample {
                    id: question.id,
                    title: article.title.clone(),
                    context: paragraph.context.clone(),
                    question: question.question,
                    answers,
                });
            }
        }
        articles.push(SquadArticle {
            title: article.title,
            examples,
        });
    }
    Ok(articles)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(name: &str, text: &str) -> std::path::PathBuf {
        let path = std::env::temp_dir().join(format!("lat-squad-{}-{name}", std::process::id()));
        std::fs::write(&path, text).expect("temp file");
        path
    }

    #[test]
    fn reads_articles_questions_and_answers() {
        let path = write(
            "ok.json",
            r#"{"data": [{"title": "T", "paragraphs": [{"context": "Crème brûlée is sweet.",
            "qas": [{"id": "q1", "question": "What is sweet?",
            "answers": [{"text": "Crème brûlée", "answer_start": 0}, {"text": "sweet", "answer_start": 16}]}]}]}],
            "version": "1.1"}"#,
        );
        let articles = read_squad_json(&path).expect("valid file");
        assert_eq!(articles.len(), 1);
        let ex = &articles[0].examples[0];
        assert_eq!((ex.id.as_str(), ex.title.as_str()), ("q1", "T"));
        // Character, not byte, offsets: "sweet" starts at character 16.
        assert!(ex.answers.iter().all(|a| a.is_aligned(&ex.context)));
    }

    #[test]
    fn malformed_records_name_the_record() {
        let path = write(
            "bad.json",
            r#"{"data": [{"title": "T", "paragraphs": [{"context": "short",
            "qas": [{"id": "q9", "question": "?", "answers": [{"text": "longer than it", "answer_start": 2}]}]}]}]}"#,
        );
        let err = read_squad_json(&path)
            .expect_err("answer past the context")
            .to_string();
        assert!(
            err.contains("data[0].paragraphs[0].qas[0] (id q9)"),
            "{err}"
        );
        let path = write("syntax.json", "{\"data\": [\n{\"title\": 3}]}");
        let err = read_squad_json(&path).expect_err("not SQuAD").to_string();
        assert!(err.contains(":2:"), "line of the error: {err}");
    }
}
