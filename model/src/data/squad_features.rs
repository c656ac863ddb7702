//! SQuAD questions -> model inputs the way HF's `squad_convert_examples_to_features` cuts
//! them: `[CLS] question [SEP] context window [SEP]`, the question truncated to
//! `max_query_length` tokens, the context cut into windows that start `doc_stride` tokens
//! apart, each token's character span kept so a predicted span maps back to text.

use crate::data::squad::SquadExample;
use crate::error::TokenizeError;
use crate::tokenizer::{BertTokenizer, Encoded};

/// Window sizes (HF defaults 384 / 128 / 64).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SquadWindows {
    /// Tokens per input, special tokens included.
    pub max_length: usize,
    /// Tokens between the starts of consecutive windows.
    pub doc_stride: usize,
    /// Question tokens kept.
    pub max_query_length: usize,
}

impl Default for SquadWindows {
    fn default() -> Self {
        Self {
            max_length: 384,
            doc_stride: 128,
            max_query_length: 64,
        }
    }
}

/// One window of one question.
#[derive(Debug, Clone, PartialEq)]
pub struct SquadFeature {
    /// Index of the question in the example list.
    pub example: usize,
    /// The model input.
    pub encoded: Encoded,
    /// Character span in the context of each input token (`None`: not a context token).
    pub char_spans: Vec<Option<(usize, usize)>>,
    /// Whether this window gives the token its widest context (HF `token_is_max_context`).
    pub max_context: Vec<bool>,
    /// Training target: first answer's start and end token, or (0, 0) ([CLS]) when the
    /// answer is not wholly inside this window.
    pub target: (usize, usize),
}

/// Every window of every question.
pub fn squad_features(
    examples: &[SquadExample],
    tokenizer: &BertTokenizer,
    windows: SquadWindows,
) -> Result<Vec<SquadFeature>, TokenizeError> {
    let mut features = Vec::new();
    for (index, example) in examples.iter().enumerate() {
        let mut question = tokenizer.pieces(&example.question)?.ids;
        question.truncate(windows.max_query_length);
        let context = tokenizer.pieces(&example.context)?;
        let max_context_tokens = windows.max_length.saturating_sub(question.len() + 3).max(1);
        let spans = window_spans(context.ids.len(), max_context_tokens, windows.doc_stride);
        for &(start, length) in &spans {
            let mut input_ids = vec![tokenizer.cls_token_id()];
            input_ids.extend(&question);
            input_ids.push(tokenizer.sep_token_id());
            let offset = input_ids.len();
            input_ids.extend(&context.ids[start..start + length]);
            input_ids.push(tokenizer.sep_token_id());
            let n = input_ids.len();
            let token_type_ids = (0..n).map(|i| u32::from(i >= offset)).collect();
            let mut char_spans = vec![None; n];
            let mut max_context = vec![false; n];
            for j in 0..length {
                char_spans[offset + j] = Some(context.char_offsets[start + j]);
                max_context[offset + j] = is_max_context(&spans, (start, length), start + j);
            }
            let target = example
                .answers
                .first()
                .and_then(|a| answer_tokens(&char_spans, a.start, a.start + a.text.chars().count()))
                .unwrap_or((0, 0));
            let offsets = char_spans.iter().map(|s| s.unwrap_or((0, 0))).collect();
            features.push(SquadFeature {
                example: index,
                encoded: Encoded {
                    input_ids,
                    token_type_ids,
                    offsets,
                },
                char_spans,
                max_context,
                target,
            });
        }
    }
    Ok(features)
}

/// (start, length) of each context window.
pub fn window_spans(tokens: usize, max_tokens: usize, stride: usize) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut start = 0;
    loop {
        let length = max_tokens.min(tokens - start);
        spans.push((start, length));
        if start + length >= tokens {
            return spans;
        }
        start += length.min(stride.max(1));
    }
}

/// HF's rule: a token belongs to the window where min(left, right context) + 0.01 * window
/// length is largest (the first such window on ties).
fn is_max_context(spans: &[(usize, usize)], current: (usize, usize), position: usize) -> bool {
    let score = |&(start, length): &(usize, usize)| -> Option<f64> {
        if position < start || position >= start + length {
            return None;
        }
        let left = position - start;
        let right = start + length - 1 - position;
        Some(left.min(right) as f64 + 0.01 * length as f64)
    };
    let mut best: Option<((usize, usize), f64)> = None;
    for span in spans {
        if let Some(s) = score(span)
            && best.is_none_or(|(_, b)| s > b)
        {
            best = Some((*span, s));
        }
    }
    best.is_some_and(|(span, _)| span == current)
}

/// First and last input token of the character range [start, end), if the window holds it.
fn answer_tokens(
    spans: &[Option<(usize, usize)>],
    start: usize,
    end: usize,
) -> Option<(usize, usize)> {
    let first_context = spans.iter().position(Option::is_some)?;
    let last_context = spans.iter().rposition(Option::is_some)?;
    let (window_start, _) = spans[first_context]?;
    let (_, window_end) = spans[last_context]?;
    if start < window_start || end > window_end {
        return None;
    }
    let first = spans
        .iter()
        .position(|s| s.is_some_and(|(_, e)| e > start))?;
    let last = spans
        .iter()
        .rposition(|s| s.is_some_and(|(s, _)| s < end))?;
    (first <= last).then_some((first, last))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_start_a_stride_apart_and_cover_everything() {
        // 10 tokens, 4 per window, stride 3: [0,4) [3,7) [6,10).
        assert_eq!(window_spans(10, 4, 3), vec![(0, 4), (3, 4), (6, 4)]);
        assert_eq!(window_spans(3, 4, 3), vec![(0, 3)]);
        assert_eq!(window_spans(5, 4, 2), vec![(0, 4), (2, 3)]);
    }

    #[test]
    fn max_context_prefers_the_centred_window() {
        let spans = window_spans(10, 4, 3);
        // Token 3: window 0 gives min(3, 0) = 0, window 1 gives min(0, 3) = 0: tie, first wins.
        assert!(is_max_context(&spans, (0, 4), 3));
        // Token 4: window 1 gives min(1, 2) = 1, window 0 does not hold it.
        assert!(is_max_context(&spans, (3, 4), 4));
        assert!(!is_max_context(&spans, (0, 4), 4));
    }

    #[test]
    fn answers_map_to_tokens_inside_the_window_only() {
        // [CLS] q [SEP] "ab" "cd" "ef" [SEP] with character spans 0-2, 3-5, 6-8.
        let spans = vec![
            None,
            None,
            None,
            Some((0, 2)),
            Some((3, 5)),
            Some((6, 8)),
            None,
        ];
        assert_eq!(answer_tokens(&spans, 3, 8), Some((4, 5)));
        assert_eq!(answer_tokens(&spans, 4, 5), Some((4, 4)));
        assert_eq!(answer_tokens(&spans, 6, 12), None, "runs past the window");
    }
}
