//! What the training loop needs from a task: logits under a length configuration, and
//! tokenised examples with one target per logit group.

use burn::module::Module;
use burn::tensor::{Device, Int, Tensor, TensorData};

use crate::batch::Batch;
use crate::classification::BertForSequenceClassification;
use crate::data::ClassificationDataset;
use crate::error::TokenizeError;
use crate::length_config::LengthConfig;
use crate::question_answering::BertForQuestionAnswering;
use crate::tokenizer::{BertTokenizer, Encoded, TextInput};

/// Value given to logits at padded positions: far below any real logit, still finite so
/// that 0 * (log p_s - log p_t) stays 0 in the KL.
const MASKED_LOGIT: f32 = -1e9;

/// A model the LengthDrop loop can train.
pub trait TaskModel: Module + Clone {
    /// One `[batch, classes]` logit tensor per prediction the task makes (classification:
    /// the label; QA: start and end position), padding masked out.
    fn logit_groups(&self, batch: &Batch, config: &LengthConfig) -> Vec<Tensor<2>>;

    /// Encoder layers.
    fn num_layers(&self) -> usize;
}

impl TaskModel for BertForSequenceClassification {
    fn logit_groups(&self, batch: &Batch, config: &LengthConfig) -> Vec<Tensor<2>> {
        vec![self.forward(batch, config).logits]
    }

    fn num_layers(&self) -> usize {
        self.bert.num_layers()
    }
}

impl TaskModel for BertForQuestionAnswering {
    fn logit_groups(&self, batch: &Batch, config: &LengthConfig) -> Vec<Tensor<2>> {
        let out = self.forward(batch, config);
        let [batch_size, width] = out.start_logits.dims();
        // A batch padded to its longest input must give each input the loss it gets alone.
        let padded: Vec<bool> = batch
            .lengths
            .iter()
            .flat_map(|&n| (0..width).map(move |j| j >= n))
            .collect();
        let device = out.start_logits.device();
        let mask = Tensor::<2, burn::tensor::Bool>::from_data(
            TensorData::new(padded, [batch_size, width]),
            &device,
        );
        vec![
            out.start_logits.mask_fill(mask.clone(), MASKED_LOGIT),
            out.end_logits.mask_fill(mask, MASKED_LOGIT),
        ]
    }

    fn num_layers(&self) -> usize {
        self.bert.num_layers()
    }
}

/// A tokenised training example and its targets, one per logit group.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainFeature {
    /// The model input.
    pub encoded: Encoded,
    /// Label index (classification) or start and end token (QA).
    pub targets: Vec<usize>,
}

impl TrainFeature {
    /// Tokenises classification examples; the label is the only target.
    pub fn classification(
        data: &ClassificationDataset,
        tokenizer: &BertTokenizer,
    ) -> Result<Vec<Self>, TokenizeError> {
        data.examples
            .iter()
            .map(|e| {
                let input = match &e.text_b {
                    Some(b) => TextInput::Pair(&e.text_a, b),
                    None => TextInput::Single(&e.text_a),
                };
                Ok(Self {
                    encoded: tokenizer.encode(input)?,
                    targets: vec![e.label],
                })
            })
            .collect()
    }
}

/// A padded batch and its targets as tensors.
#[derive(Debug, Clone)]
pub struct TrainBatch {
    /// Model input.
    pub batch: Batch,
    /// `[batch]` targets per logit group.
    pub targets: Vec<Tensor<1, Int>>,
}

impl TrainBatch {
    /// Pads `features` into one batch.
    ///
    /// # Panics
    /// If `features` is empty or the features disagree on their number of targets.
    pub fn new(features: &[&TrainFeature], pad_token_id: u32, device: &Device) -> Self {
        let encoded: Vec<Encoded> = features.iter().map(|f| f.encoded.clone()).collect();
        let groups = features[0].targets.len();
        let targets = (0..groups)
            .map(|g| {
                let values: Vec<i64> = features.iter().map(|f| f.targets[g] as i64).collect();
                Tensor::from_data(TensorData::new(values, [features.len()]), device)
            })
            .collect();
        Self {
            batch: Batch::new(&encoded, pad_token_id, device),
            targets,
        }
    }
}
