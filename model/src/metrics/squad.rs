//! SQuAD v1.1 exact match and F1, as the official evaluation script computes them:
//! answers are normalised (lower case, ASCII punctuation removed, the articles a/an/the
//! removed as words, whitespace collapsed), each prediction is scored against its best
//! reference answer, and the totals are percentages over all questions.

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::Regex;

/// Articles as whole words, with Unicode word boundaries like Python's `re`.
static ARTICLES: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b(a|an|the)\b").expect("valid regex"));

/// The official normalisation: lower, drop punctuation, drop articles, collapse spaces.
pub fn normalize_answer(text: &str) -> String {
    let lower = text.to_lowercase();
    let no_punct: String = lower
        .chars()
        .filter(|c| !c.is_ascii_punctuation())
        .collect();
    let no_articles = ARTICLES.replace_all(&no_punct, " ");
    no_articles.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// 1.0 when the normalised strings are equal, else 0.0.
pub fn exact_match(prediction: &str, truth: &str) -> f64 {
    f64::from(u8::from(
        normalize_answer(prediction) == normalize_answer(truth),
    ))
}

/// Token-overlap F1 of the normalised strings (0.0 when nothing overlaps, as in v1.1).
pub fn f1_score(prediction: &str, truth: &str) -> f64 {
    let prediction = normalize_answer(prediction);
    let truth = normalize_answer(truth);
    let predicted: Vec<&str> = prediction.split_whitespace().collect();
    let expected: Vec<&str> = truth.split_whitespace().collect();
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for token in &expected {
        *counts.entry(token).or_default() += 1;
    }
    let mut same = 0usize;
    for token in &predicted {
        if let Some(count) = counts.get_mut(token).filter(|c| **c > 0) {
            *count -= 1;
            same += 1;
        }
    }
    if same == 0 {
        return 0.0;
    }
    let precision = same as f64 / predicted.len() as f64;
    let recall = same as f64 / expected.len() as f64;
    2.0 * precision * recall / (precision + recall)
}

/// Corpus-level scores, in percent.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SquadScores {
    /// Exact match, 0-100.
    pub exact_match: f64,
    /// F1, 0-100.
    pub f1: f64,
    /// Questions scored.
    pub count: usize,
}

/// Scores `(prediction, reference answers)` pairs, each against its best reference.
pub fn squad_scores<'a, I>(examples: I) -> SquadScores
where
    I: IntoIterator<Item = (&'a str, &'a [String])>,
{
    let (mut em, mut f1, mut count) = (0.0, 0.0, 0usize);
    for (prediction, truths) in examples {
        let best = |metric: fn(&str, &str) -> f64| {
            truths
                .iter()
                .map(|t| metric(prediction, t))
                .fold(0.0, f64::max)
        };
        em += best(exact_match);
        f1 += best(f1_score);
        count += 1;
    }
    let percent = |total: f64| {
        if count == 0 {
            0.0
        } else {
            100.0 * total / count as f64
        }
    };
    SquadScores {
        exact_match: percent(em),
        f1: percent(f1),
        count,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation_cases() {
        // Case, punctuation, articles (only as words), whitespace.
        assert_eq!(normalize_answer("The  Eiffel Tower!"), "eiffel tower");
        assert_eq!(normalize_answer("an apple, a pear"), "apple pear");
        assert_eq!(
            normalize_answer("Theatre at the Anchor"),
            "theatre at anchor"
        );
        assert_eq!(normalize_answer("  1,000\tmiles. "), "1000 miles");
        assert_eq!(normalize_answer("A"), "");
        // Non-ASCII punctuation is kept, as in the official script.
        assert_eq!(normalize_answer("“Denver”"), "“denver”");
    }

    #[test]
    fn exact_match_after_normalisation() {
        assert_eq!(exact_match("the Broncos", "Broncos."), 1.0);
        assert_eq!(exact_match("Denver Broncos", "Broncos"), 0.0);
    }

    #[test]
    fn f1_by_hand() {
        // pred {denver, broncos}, truth {broncos}: p = 1/2, r = 1, F1 = 2/3.
        assert!((f1_score("Denver Broncos", "the Broncos") - 2.0 / 3.0).abs() < 1e-12);
        // pred {a1: "b b c"} vs truth "b c c": common b:1, c:1 = 2; p = r = 2/3; F1 = 2/3.
        assert!((f1_score("b b c", "b c c") - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(f1_score("Carolina Panthers", "Denver Broncos"), 0.0);
        // Both empty after normalisation: 0 in v1.1 (no shared token).
        assert_eq!(f1_score("the", "a"), 0.0);
    }

    #[test]
    fn corpus_scores_take_the_best_reference() {
        let q1 = vec!["Denver Broncos".to_string(), "the Broncos".to_string()];
        let q2 = vec!["Santa Clara, California".to_string()];
        let q3 = vec!["gold".to_string()];
        let examples: Vec<(&str, &[String])> =
            vec![("Broncos", &q1), ("Santa Clara", &q2), ("silver", &q3)];
        let scores = squad_scores(examples);
        // EM: 1 (vs "the Broncos"), 0, 0 -> 33.33. F1: 1, 2*(1*2/3)/(1+2/3) = 0.8, 0 -> 60.
        assert!((scores.exact_match - 100.0 / 3.0).abs() < 1e-9);
        assert!((scores.f1 - 60.0).abs() < 1e-9);
        assert_eq!(scores.count, 3);
    }
}
