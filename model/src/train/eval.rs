//! Dev-set evaluation at any length configuration; classification accuracy here, SQuAD in
//! [`crate::train::squad_eval`].

use std::collections::BTreeMap;

use burn::tensor::Device;
use serde::Serialize;

use crate::batch::Batch;
use crate::classification::BertForSequenceClassification;
use crate::data::sorted_batches;
use crate::error::TrainError;
use crate::length_config::LengthConfig;
use crate::metrics::accuracy;
use crate::train::task::TrainFeature;

/// A dev-set result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalScores {
    /// The selection metric (accuracy or SQuAD F1, in percent).
    pub score: f64,
    /// Every metric computed, by name.
    pub metrics: BTreeMap<String, f64>,
}

/// A dev set that can score a model of type `M`.
pub trait DevSet<M> {
    /// Name of the selection metric (`accuracy`, `f1`).
    fn metric(&self) -> &'static str;
    /// Scores `model` (on a non-autodiff device, dropout off) at `config`.
    fn evaluate(&self, model: &M, config: &LengthConfig) -> Result<EvalScores, TrainError>;
}

/// Classification dev set: tokenised examples with their label as the only target.
pub struct ClassificationDevSet {
    /// The examples.
    pub features: Vec<TrainFeature>,
    /// Examples per forward pass.
    pub batch_size: usize,
    /// Padding id of the tokenizer.
    pub pad_token_id: u32,
    /// Device to evaluate on.
    pub device: Device,
}

impl ClassificationDevSet {
    /// Predicted label of every example, in order.
    pub fn predict(
        &self,
        model: &BertForSequenceClassification,
        config: &LengthConfig,
    ) -> Vec<usize> {
        let lengths: Vec<usize> = self
            .features
            .iter()
            .map(|f| f.encoded.input_ids.len())
            .collect();
        let mut predictions = vec![0; self.features.len()];
        for indices in sorted_batches(&lengths, self.batch_size) {
            let inputs: Vec<_> = indices
                .iter()
                .map(|&i| self.features[i].encoded.clone())
                .collect();
            let batch = Batch::new(&inputs, self.pad_token_id, &self.device);
            let logits = model.forward(&batch, config).logits;
            let best: Vec<i64> = logits
                .argmax(1)
                .into_data()
                .convert::<i64>()
                .try_to_vec::<i64>()
                .expect("argmax yields integers");
            for (&i, &label) in indices.iter().zip(&best) {
                predictions[i] = label as usize;
            }
        }
        predictions
    }
}

impl DevSet<BertForSequenceClassification> for ClassificationDevSet {
    fn metric(&self) -> &'static str {
        "accuracy"
    }

    fn evaluate(
        &self,
        model: &BertForSequenceClassification,
        config: &LengthConfig,
    ) -> Result<EvalScores, TrainError> {
        let predictions = self.predict(model, config);
        let labels: Vec<usize> = self.features.iter().map(|f| f.targets[0]).collect();
        let score = accuracy(&predictions, &labels)
            .ok_or_else(|| TrainError::Invalid("the dev set is empty".into()))?
            * 100.0;
        Ok(EvalScores {
            score,
            metrics: BTreeMap::from([("accuracy".to_string(), score)]),
        })
    }
}
