//! Sequence classification head (HF `BertForSequenceClassification`): pooler on the [CLS]
//! vector, dropout, linear classifier. Single texts and text pairs alike.

use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig};
use burn::tensor::{Device, Tensor};

use crate::batch::Batch;
use crate::bert::{BertModel, cls_vectors};
use crate::config::BertConfig;
use crate::encoder::DropMode;
use crate::fused_ops::dropout;
use crate::length_config::LengthConfig;

/// BERT with a classification head; [CLS] is always kept when tokens are dropped.
#[derive(Module, Debug)]
pub struct BertForSequenceClassification {
    /// HF `bert` (always with its pooler).
    pub bert: BertModel,
    /// HF `classifier`.
    pub classifier: Linear,
    dropout: Dropout,
}

/// Classification logits and what the forward pass kept.
#[derive(Debug)]
pub struct SequenceClassifierOutput {
    /// `[batch_size, num_labels]` unnormalised scores.
    pub logits: Tensor<2>,
    /// Real tokens each input kept after each layer.
    pub kept_tokens: Vec<Vec<usize>>,
}

impl BertForSequenceClassification {
    /// Randomly initialised model with `num_labels` classes.
    pub fn init(config: &BertConfig, num_labels: usize, device: &Device) -> Self {
        Self {
            bert: BertModel::init(config, true, device),
            classifier: LinearConfig::new(config.hidden_size, num_labels).init(device),
            dropout: DropoutConfig::new(config.hidden_dropout_prob).init(),
        }
    }

    /// Classifies a batch under a length configuration.
    ///
    /// # Shapes
    /// - output `logits`: `[batch_size, num_labels]`
    pub fn forward(&self, batch: &Batch, config: &LengthConfig) -> SequenceClassifierOutput {
        let encoded = self.bert.forward(batch, config, DropMode::Extract);
        SequenceClassifierOutput {
            logits: self.head(encoded.last_hidden_state),
            kept_tokens: encoded.kept_tokens,
        }
    }

    /// The head alone: logits `[batch_size, num_labels]` from the encoder's output
    /// (`Extract` mode, [CLS] in slot 0).
    pub fn head(&self, last_hidden_state: Tensor<3>) -> Tensor<2> {
        let cls = cls_vectors(last_hidden_state);
        let pooled = match &self.bert.pooler {
            Some(pooler) => pooler.forward(cls),
            None => cls,
        };
        self.classifier.forward(dropout(&self.dropout, pooled))
    }

    /// Number of labels.
    pub fn num_labels(&self) -> usize {
        self.classifier.weight.val().dims()[1]
    }
}
