//! One optimisation step's gradients: standard fine-tuning (stage 1) or the LengthDrop step
//! with the sandwich rule and inplace distillation (stage 2).

use burn::optim::{GradientsAccumulator, GradientsParams};
use burn::tensor::Tensor;
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::length_config::LengthConfig;
use crate::train::loss::{grouped_cross_entropy, grouped_kl};
use crate::train::sampler::SamplerConfig;
use crate::train::task::{TaskModel, TrainBatch};

/// Which of the paper's two training stages runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    /// Stage 1: task loss on the full network only.
    Standard,
    /// Stage 2: LengthDrop + LayerDrop + sandwich rule + inplace distillation.
    LengthAdaptive,
}

impl std::str::FromStr for Stage {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "standard" => Ok(Self::Standard),
            "length-adaptive" => Ok(Self::LengthAdaptive),
            other => Err(format!(
                "unknown stage `{other}` (expected `standard` or `length-adaptive`)"
            )),
        }
    }
}

/// How a step builds its sub-networks.
#[derive(Debug, Clone, PartialEq)]
pub struct StepConfig {
    /// The stage.
    pub stage: Stage,
    /// Random sub-networks per step besides the smallest one (paper: n_s = 2).
    pub num_sandwich: usize,
    /// Length and LayerDrop sampling.
    pub sampler: SamplerConfig,
}

/// What a step computed, for the log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepLosses {
    /// Task loss of the full (LayerDropped) network.
    pub full_ce: f64,
    /// Task loss of each sub-network (smallest first); logged, never back-propagated.
    pub sub_ce: Vec<f64>,
    /// KL(sub-network || full network) of each sub-network (smallest first).
    pub sub_kl: Vec<f64>,
    /// The objective: `(full_ce + sum(sub_kl)) / (n_s + 2)` in stage 2, `full_ce` in stage 1.
    pub loss: f64,
}

/// A step's gradients and losses.
pub struct StepOutput {
    /// Gradients of the objective, accumulated over every pass.
    pub grads: GradientsParams,
    /// The losses.
    pub losses: StepLosses,
}

fn value(t: &Tensor<1>) -> f64 {
    f64::from(t.clone().into_scalar::<f32>())
}

/// Runs one step's forward and backward passes on `model` (on an autodiff device).
pub fn train_step<M: TaskModel, R: Rng>(
    model: &M,
    batch: &TrainBatch,
    config: &StepConfig,
    rng: &mut R,
) -> StepOutput {
    let sampler = &config.sampler;
    let t = sampler.max_length;
    let mut accumulator = GradientsAccumulator::<M>::new();
    let divisor = match config.stage {
        Stage::Standard => 1.0,
        Stage::LengthAdaptive => (config.num_sandwich + 2) as f64,
    };

    let full_config = match config.stage {
        Stage::Standard => LengthConfig::keep_all(sampler.num_layers),
        Stage::LengthAdaptive => sampler.full(sampler.layer_drop(rng)).to_config(t),
    };
    let logits = model.logit_groups(&batch.batch, &full_config);
    let teacher: Vec<Tensor<2>> = logits.iter().map(|l| l.clone().detach()).collect();
    let ce = grouped_cross_entropy(logits, &batch.targets);
    let full_ce = value(&ce);
    accumulator.accumulate(
        model,
        GradientsParams::from_grads(ce.div_scalar(divisor).backward(), model),
    );

    let mut losses = StepLosses {
        full_ce,
        sub_ce: Vec::new(),
        sub_kl: Vec::new(),
        loss: full_ce / divisor,
    };
    if config.stage == Stage::LengthAdaptive {
        for k in 0..=config.num_sandwich {
            let skipped = sampler.layer_drop(rng);
            let lengths = if k == 0 {
                sampler.smallest(skipped)
            } else {
                sampler.random(skipped, rng)
            };
            let student = model.logit_groups(&batch.batch, &lengths.to_config(t));
            let detached: Vec<Tensor<2>> = student.iter().map(|l| l.clone().detach()).collect();
            losses
                .sub_ce
                .push(value(&grouped_cross_entropy(detached, &batch.targets)));
            let kl = grouped_kl(student, &teacher);
            let kl_value = value(&kl);
            losses.sub_kl.push(kl_value);
            losses.loss += kl_value / divisor;
            accumulator.accumulate(
                model,
                GradientsParams::from_grads(kl.div_scalar(divisor).backward(), model),
            );
        }
    }
    StepOutput {
        grads: accumulator.grads(),
        losses,
    }
}
