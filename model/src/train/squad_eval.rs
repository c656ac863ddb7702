//! SQuAD evaluation: n-best span decoding over every window of a question (HF
//! `compute_predictions_logits`: n_best 20, max answer length 30) and the official EM/F1.

use std::collections::BTreeMap;

use burn::tensor::Device;

use crate::batch::Batch;
use crate::data::{SquadExample, SquadFeature, sorted_batches};
use crate::error::TrainError;
use crate::length_config::LengthConfig;
use crate::metrics::{SquadScores, squad_scores};
use crate::question_answering::BertForQuestionAnswering;
use crate::train::eval::{DevSet, EvalScores};
use crate::train::task::TaskModel;

/// Decoding limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpanDecoding {
    /// Start and end candidates per window (paper: 20).
    pub n_best: usize,
    /// Longest answer in tokens (paper: 30).
    pub max_answer_length: usize,
}

impl Default for SpanDecoding {
    fn default() -> Self {
        Self {
            n_best: 20,
            max_answer_length: 30,
        }
    }
}

/// A decoded answer span.
#[derive(Debug, Clone, PartialEq)]
pub struct SpanPrediction {
    /// start logit + end logit.
    pub score: f32,
    /// Character range in the context.
    pub chars: (usize, usize),
}

fn top_indices(logits: &[f32], n: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..logits.len()).collect();
    order.sort_by(|&a, &b| logits[b].total_cmp(&logits[a]));
    order.truncate(n);
    order
}

/// Best span of one window: both ends on context tokens, start is max-context, end not
/// before start, at most `max_answer_length` tokens.
pub fn best_span(
    feature: &SquadFeature,
    start: &[f32],
    end: &[f32],
    limits: SpanDecoding,
) -> Option<SpanPrediction> {
    let mut best: Option<SpanPrediction> = None;
    for &s in &top_indices(start, limits.n_best) {
        for &e in &top_indices(end, limits.n_best) {
            let (Some(Some(first)), Some(Some(last))) =
                (feature.char_spans.get(s), feature.char_spans.get(e))
            else {
                continue;
            };
            if e < s || e - s + 1 > limits.max_answer_length || !feature.max_context[s] {
                continue;
            }
            let score = start[s] + end[e];
            if best.as_ref().is_none_or(|b| score > b.score) {
                best = Some(SpanPrediction {
                    score,
                    chars: (first.0, last.1),
                });
            }
        }
    }
    best
}

/// SQuAD dev set: the questions and their windows.
pub struct SquadDevSet {
    /// The questions.
    pub examples: Vec<SquadExample>,
    /// Their windows.
    pub features: Vec<SquadFeature>,
    /// Windows per forward pass.
    pub batch_size: usize,
    /// Padding id of the tokenizer.
    pub pad_token_id: u32,
    /// Decoding limits.
    pub decoding: SpanDecoding,
    /// Device to evaluate on.
    pub device: Device,
}

impl SquadDevSet {
    /// The predicted answer text of every question, in order.
    pub fn predict(&self, model: &BertForQuestionAnswering, config: &LengthConfig) -> Vec<String> {
        let lengths: Vec<usize> = self
            .features
            .iter()
            .map(|f| f.encoded.input_ids.len())
            .collect();
        let mut best: Vec<Option<SpanPrediction>> = vec![None; self.examples.len()];
        for indices in sorted_batches(&lengths, self.batch_size) {
            let inputs: Vec<_> = indices
                .iter()
                .map(|&i| self.features[i].encoded.clone())
                .collect();
            let batch = Batch::new(&inputs, self.pad_token_id, &self.device);
            let groups = model.logit_groups(&batch, config);
            let width = batch.input_ids.dims()[1];
            let read = |t: &burn::tensor::Tensor<2>| -> Vec<f32> {
                t.clone()
                    .into_data()
                    .convert::<f32>()
                    .try_to_vec::<f32>()
                    .expect("float logits")
            };
            let (start, end) = (read(&groups[0]), read(&groups[1]));
            for (row, &i) in indices.iter().enumerate() {
                let feature = &self.features[i];
                let n = lengths[i];
                let span = best_span(
                    feature,
                    &start[row * width..row * width + n],
                    &end[row * width..row * width + n],
                    self.decoding,
                );
                let slot = &mut best[feature.example];
                if let Some(span) = span
                    && slot.as_ref().is_none_or(|b| span.score > b.score)
                {
                    *slot = Some(span);
                }
            }
        }
        best.iter()
            .zip(&self.examples)
            .map(|(span, example)| match span {
                Some(SpanPrediction { chars: (a, b), .. }) => example.context_chars(*a, *b),
                None => String::new(),
            })
            .collect()
    }
}

/// Official SQuAD v1.1 EM/F1 of one predicted answer per example, each against its best
/// reference answer.
pub fn score_predictions(examples: &[SquadExample], predictions: &[String]) -> SquadScores {
    let truths: Vec<Vec<String>> = examples
        .iter()
        .map(|e| e.answers.iter().map(|a| a.text.clone()).collect())
        .collect();
    squad_scores(
        predictions
            .iter()
            .map(String::as_str)
            .zip(truths.iter().map(Vec::as_slice)),
    )
}

impl DevSet<BertForQuestionAnswering> for SquadDevSet {
    fn metric(&self) -> &'static str {
        "f1"
    }

    fn evaluate(
        &self,
        model: &BertForQuestionAnswering,
        config: &LengthConfig,
    ) -> Result<EvalScores, TrainError> {
        if self.examples.is_empty() {
            return Err(TrainError::Invalid("the dev set is empty".into()));
        }
        let predictions = self.predict(model, config);
        let scores = score_predictions(&self.examples, &predictions);
        Ok(EvalScores {
            score: scores.f1,
            metrics: BTreeMap::from([
                ("exact_match".to_string(), scores.exact_match),
                ("f1".to_string(), scores.f1),
            ]),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokenizer::Encoded;

    fn feature() -> SquadFeature {
        // [CLS] q [SEP] t3 t4 t5 t6 [SEP]; context tokens at 3..7, token 3 not max-context.
        let n = 8;
        let spans = vec![
            None,
            None,
            None,
            Some((0, 3)),
            Some((4, 7)),
            Some((8, 11)),
            Some((12, 15)),
            None,
        ];
        SquadFeature {
            example: 0,
            encoded: Encoded {
                input_ids: vec![0; n],
                token_type_ids: vec![0; n],
                offsets: vec![(0, 0); n],
            },
            char_spans: spans,
            max_context: vec![false, false, false, false, true, true, true, false],
            target: (0, 0),
        }
    }

    #[test]
    fn picks_the_best_valid_span() {
        let f = feature();
        // Higher-scoring pairs are all invalid: (0, 6) starts on [CLS], (3, 6) starts on a
        // token that is not max-context, (5, 4) ends before it starts. Best valid: (5, 6).
        let start = [9.0, 0.0, 0.0, 8.0, 3.0, 7.0, 0.0, 0.0];
        let end = [9.0, 0.0, 0.0, 0.0, 8.0, 6.0, 9.5, 0.0];
        let limits = SpanDecoding::default();
        let best = best_span(&f, &start, &end, limits).expect("a valid span");
        assert_eq!(best.chars, (8, 15));
        assert_eq!(best.score, 16.5);
        // With answers of at most one token: (4, 4) = 11, (5, 5) = 13, (6, 6) = 9.5.
        let short = SpanDecoding {
            max_answer_length: 1,
            ..limits
        };
        assert_eq!(
            best_span(&f, &start, &end, short).expect("span").chars,
            (8, 11)
        );
    }
}
