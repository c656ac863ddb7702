//! The task model an engine owns, behind one forward signature.

use burn::tensor::Device;
use lat_model::{
    Batch, BertForQuestionAnswering, BertForSequenceClassification, Encoded, LengthConfig,
};

use crate::engine::job::Logits;

/// A loaded model of either task.
#[derive(Debug)]
pub enum TaskModel {
    /// Sequence classification.
    Classification(BertForSequenceClassification),
    /// Extractive QA.
    QuestionAnswering(BertForQuestionAnswering),
}

/// Logits and kept tokens of one row of a batch.
#[derive(Debug, Clone, PartialEq)]
pub struct RowOutput {
    /// The row's logits (QA: cut to its real tokens).
    pub logits: Logits,
    /// Real tokens kept after each layer.
    pub kept_tokens: Vec<usize>,
}

impl TaskModel {
    /// One forward pass over `inputs` padded to the longest.
    pub fn forward(
        &self,
        inputs: &[Encoded],
        pad_token_id: u32,
        config: &LengthConfig,
        device: &Device,
    ) -> Vec<RowOutput> {
        let batch = Batch::new(inputs, pad_token_id, device);
        match self {
            TaskModel::Classification(model) => {
                let out = model.forward(&batch, config);
                let [rows, labels] = out.logits.dims();
                let values = out
                    .logits
                    .into_data()
                    .try_to_vec::<f32>()
                    .unwrap_or_default();
                (0..rows)
                    .map(|r| RowOutput {
                        logits: Logits::Classes(values[r * labels..(r + 1) * labels].to_vec()),
                        kept_tokens: out.kept_tokens[r].clone(),
                    })
                    .collect()
            }
            TaskModel::QuestionAnswering(model) => {
                let out = model.forward(&batch, config);
                let [rows, width] = out.start_logits.dims();
                let start = out
                    .start_logits
                    .into_data()
                    .try_to_vec::<f32>()
                    .unwrap_or_default();
                let end = out
                    .end_logits
                    .into_data()
                    .try_to_vec::<f32>()
                    .unwrap_or_default();
                (0..rows)
                    .map(|r| {
                        let row = r * width..r * width + batch.lengths[r];
                        RowOutput {
                            logits: Logits::Spans {
                                start: start[row.clone()].to_vec(),
                                end: end[row].to_vec(),
                            },
                            kept_tokens: out.kept_tokens[r].clone(),
                        }
                    })
                    .collect()
            }
        }
    }
}
