//! Extractive QA head (HF `BertForQuestionAnswering`): start/end logits for every position of
//! the restored full-length sequence (Drop-and-Restore).

use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Device, Tensor};

use crate::batch::Batch;
use crate::bert::BertModel;
use crate::config::BertConfig;
use crate::encoder::DropMode;
use crate::length_config::LengthConfig;

/// BERT with a span-prediction head.
#[derive(Module, Debug)]
pub struct BertForQuestionAnswering {
    /// HF `bert` (no pooler).
    pub bert: BertModel,
    /// HF `qa_outputs` (d -> 2: start, end).
    pub qa_outputs: Linear,
}

/// Span logits and what the forward pass kept.
#[derive(Debug)]
pub struct QuestionAnsweringOutput {
    /// `[batch_size, N]` start logits; positions at or past `lengths[b]` are padding.
    pub start_logits: Tensor<2>,
    /// `[batch_size, N]` end logits; positions at or past `lengths[b]` are padding.
    pub end_logits: Tensor<2>,
    /// Real tokens each input kept after each layer.
    pub kept_tokens: Vec<Vec<usize>>,
}

impl BertForQuestionAnswering {
    /// Randomly initialised model.
    pub fn init(config: &BertConfig, device: &Device) -> Self {
        Self {
            bert: BertModel::init(config, false, device),
            qa_outputs: LinearConfig::new(config.hidden_size, 2).init(device),
        }
    }

    /// Predicts span logits under a length configuration.
    ///
    /// # Shapes
    /// - outputs: `[batch_size, N]`
    pub fn forward(&self, batch: &Batch, config: &LengthConfig) -> QuestionAnsweringOutput {
        let encoded = self.bert.forward(batch, config, DropMode::DropAndRestore);
        let logits = self.qa_outputs.forward(encoded.last_hidden_state);
        let [batch_size, seq_length, _] = logits.dims();
        let start = logits.clone().slice([0..batch_size, 0..seq_length, 0..1]);
        let end = logits.slice([0..batch_size, 0..seq_length, 1..2]);
        QuestionAnsweringOutput {
            start_logits: start.reshape([batch_size, seq_length]),
            end_logits: end.reshape([batch_size, seq_length]),
            kept_tokens: encoded.kept_tokens,
        }
    }
}
