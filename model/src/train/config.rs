//! A training run's hyper-parameters; `lat-train` fills them from flags with the paper's
//! defaults.

use serde::{Deserialize, Serialize};

use crate::train::sampler::SamplerConfig;
use crate::train::step::{Stage, StepConfig};

/// Hyper-parameters of one run. Everything except `stop_after` is part of the run's identity:
/// a resume must use the same values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Stage 1 (standard) or stage 2 (length-adaptive).
    pub stage: Stage,
    /// Passes over the training data (paper: 3 standard, 5 length-adaptive).
    pub epochs: f64,
    /// Total optimisation steps, overriding `epochs` (the schedule decays to 0 there).
    pub max_steps: Option<usize>,
    /// Stop (saving the state) after this many steps without changing the schedule, to be
    /// resumed later.
    #[serde(skip)]
    pub stop_after: Option<usize>,
    /// Examples per step (paper: 32).
    pub batch_size: usize,
    /// Peak learning rate (paper: 2e-5 GLUE, 5e-5 SQuAD).
    pub learning_rate: f64,
    /// Linear warm-up steps (paper: 0).
    pub warmup_steps: usize,
    /// AdamW weight decay (paper: 0).
    pub weight_decay: f64,
    /// AdamW epsilon (paper: 1e-8).
    pub adam_epsilon: f64,
    /// Global gradient-norm clip (paper: 1.0).
    pub max_grad_norm: f64,
    /// Seed of every random draw: data order, dropout, LayerDrop, lengths.
    pub seed: u64,
    /// Random sub-networks per step besides the smallest (paper: 2).
    pub num_sandwich: usize,
    /// LengthDrop bound: each layer keeps at least 1 - bound of the previous (paper: 0.2).
    pub length_drop_ratio_bound: f64,
    /// LayerDrop probability in stage 2 (paper: 0.2).
    pub layer_dropout_prob: f64,
    /// The task's maximum length T, the grid lengths are sampled on.
    pub max_length: usize,
    /// Evaluate at full length, keep the best, and save the state every this many steps.
    pub eval_steps: usize,
    /// Log every this many steps.
    pub logging_steps: usize,
    /// What the run trains on (paths, counts), recorded so a resume can check it.
    pub data: serde_json::Value,
}

impl TrainConfig {
    /// Optimisation steps of the whole run.
    pub fn total_steps(&self, steps_per_epoch: usize) -> usize {
        self.max_steps
            .unwrap_or_else(|| (self.epochs * steps_per_epoch as f64).ceil() as usize)
    }

    /// The run's identity, as saved in `run.json` and in the resume state.
    pub fn fingerprint(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }

    /// How each step samples its sub-networks.
    pub fn step_config(&self, num_layers: usize) -> StepConfig {
        StepConfig {
            stage: self.stage,
            num_sandwich: self.num_sandwich,
            sampler: SamplerConfig {
                num_layers,
                max_length: self.max_length,
                length_drop_ratio_bound: self.length_drop_ratio_bound,
                layer_dropout_prob: self.layer_dropout_prob,
            },
        }
    }
}
