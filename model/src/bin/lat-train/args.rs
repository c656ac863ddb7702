//! Flags every training command shares, with the paper's defaults.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;
use lat_model::LengthConfig;
use lat_model::train::{Stage, TrainConfig, TrainSummary};

/// Where the default base model lives after `scripts/setup-base-model.sh`.
pub const DEFAULT_BASE_MODEL: &str = "models-cache/all-MiniLM-L6-v2";

/// Flags shared by `classify` and `qa`.
#[derive(Args, Debug, Clone)]
pub struct RunArgs {
    /// `standard` (stage 1) or `length-adaptive` (stage 2, from a stage-1 checkpoint).
    #[arg(long)]
    pub stage: Stage,
    /// Model to start from: the base model, or stage 1's `checkpoint-best` for stage 2.
    #[arg(long, env = "LAT_BASE_MODEL_DIR", default_value = DEFAULT_BASE_MODEL)]
    pub init: PathBuf,
    /// Output directory (checkpoints, metrics.jsonl, resume state).
    #[arg(long)]
    pub output: PathBuf,
    /// Continue the run saved in `--output`.
    #[arg(long)]
    pub resume: bool,
    /// Epochs [default: 3 standard, 5 length-adaptive, as the paper].
    #[arg(long)]
    pub epochs: Option<f64>,
    /// Total steps, overriding --epochs (the learning rate decays to 0 there).
    #[arg(long)]
    pub max_steps: Option<usize>,
    /// Stop after this many steps (state saved) without changing the schedule.
    #[arg(long)]
    pub stop_after: Option<usize>,
    /// Examples per step.
    #[arg(long, default_value_t = 32)]
    pub batch_size: usize,
    /// Peak learning rate [default: 2e-5 classification, 5e-5 QA].
    #[arg(long)]
    pub learning_rate: Option<f64>,
    /// Linear warm-up steps.
    #[arg(long, default_value_t = 0)]
    pub warmup_steps: usize,
    /// AdamW weight decay.
    #[arg(long, default_value_t = 0.0)]
    pub weight_decay: f64,
    /// AdamW epsilon.
    #[arg(long, default_value_t = 1e-8)]
    pub adam_epsilon: f64,
    /// Global gradient-norm clip.
    #[arg(long, default_value_t = 1.0)]
    pub max_grad_norm: f64,
    /// Seed of data order, dropout, LayerDrop and length sampling.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Random sub-networks per step besides the smallest (n_s).
    #[arg(long, default_value_t = 2)]
    pub num_sandwich: usize,
    /// LengthDrop bound: each layer keeps at least 1 - bound of the previous layer.
    #[arg(long, default_value_t = 0.2)]
    pub length_drop_ratio_bound: f64,
    /// LayerDrop probability [default: 0.2 length-adaptive, 0 standard].
    #[arg(long)]
    pub layer_dropout_prob: Option<f64>,
    /// Evaluate at full length, keep the best checkpoint and save the state every N steps.
    #[arg(long, default_value_t = 500)]
    pub eval_steps: usize,
    /// Log every N steps.
    #[arg(long, default_value_t = 50)]
    pub logging_steps: usize,
    /// Train on the first N examples only (smoke runs).
    #[arg(long)]
    pub limit_train: Option<usize>,
    /// Examples per evaluation forward pass.
    #[arg(long, default_value_t = 64)]
    pub eval_batch_size: usize,
    /// `cpu` (burn-flex) or `wgpu`.
    #[arg(long, default_value = "cpu")]
    pub device: String,
}

impl RunArgs {
    /// The run's configuration with task-dependent defaults filled in.
    pub fn config(
        &self,
        learning_rate: f64,
        max_length: usize,
        data: serde_json::Value,
    ) -> Result<TrainConfig> {
        let adaptive = self.stage == Stage::LengthAdaptive;
        let config = TrainConfig {
            stage: self.stage,
            epochs: self.epochs.unwrap_or(if adaptive { 5.0 } else { 3.0 }),
            max_steps: self.max_steps,
            stop_after: self.stop_after,
            batch_size: self.batch_size,
            learning_rate: self.learning_rate.unwrap_or(learning_rate),
            warmup_steps: self.warmup_steps,
            weight_decay: self.weight_decay,
            adam_epsilon: self.adam_epsilon,
            max_grad_norm: self.max_grad_norm,
            seed: self.seed,
            num_sandwich: self.num_sandwich,
            length_drop_ratio_bound: self.length_drop_ratio_bound,
            layer_dropout_prob: self
                .layer_dropout_prob
                .unwrap_or(if adaptive { 0.2 } else { 0.0 }),
            max_length,
            eval_steps: self.eval_steps.max(1),
            logging_steps: self.logging_steps.max(1),
            data,
        };
        if config.batch_size == 0 {
            bail!("--batch-size must be positive");
        }
        if !(0.0..1.0).contains(&config.layer_dropout_prob) {
            bail!("--layer-dropout-prob must be in [0, 1)");
        }
        if !(0.0..1.0).contains(&config.length_drop_ratio_bound) {
            bail!("--length-drop-ratio-bound must be in [0, 1)");
        }
        Ok(config)
    }

    /// Checks the output directory against `--resume` before any work starts.
    pub fn check_output(&self) -> Result<bool> {
        let has_state = self.output.join("state").join("state.json").is_file();
        match (has_state, self.resume) {
            (true, false) => bail!(
                "{} already holds a training state: pass --resume to continue it, or choose \
                 another --output",
                self.output.display()
            ),
            (false, true) => bail!("--resume: no saved state in {}", self.output.display()),
            _ => Ok(has_state),
        }
    }
}

/// Fails early, and helpfully, when the model to start from is missing.
pub fn check_model_dir(dir: &Path) -> Result<()> {
    if !dir.join("config.json").is_file() {
        bail!(
            "no model at {} (config.json missing); run scripts/setup-base-model.sh for the \
             default base model, or pass --init/--model-dir",
            dir.display()
        );
    }
    Ok(())
}

/// The shared data directory: `LAT_DATA_DIR`, else `../shared/data`.
pub fn data_dir() -> PathBuf {
    std::env::var_os("LAT_DATA_DIR").map_or_else(|| PathBuf::from("../shared/data"), PathBuf::from)
}

/// Fails early when a data file is missing.
pub fn check_data(path: &Path) -> Result<()> {
    std::fs::metadata(path).with_context(|| {
        format!(
            "data file {} (set its flag or LAT_DATA_DIR)",
            path.display()
        )
    })?;
    Ok(())
}

/// Which configurations an evaluation command scores.
#[derive(Args, Debug, Clone)]
pub struct EvalConfigArgs {
    /// Keep rates, compounded per layer: at rate r, layer i keeps r of the tokens the layer
    /// before it kept, r^i of the input in all (1 = full length). Default
    /// 1,0.9,0.8,0.7,0.6,0.5 unless --ratios is given; `--rates none` scores none.
    #[arg(long, value_delimiter = ',', value_parser = parse_rate)]
    pub rates: Option<Vec<Option<f64>>>,
    /// Score this explicit configuration (alone unless --rates is given too): one keep
    /// ratio per layer, non-increasing.
    #[arg(long, value_delimiter = ',')]
    pub ratios: Option<Vec<f64>>,
    /// Layers (0-based) the explicit configuration skips.
    #[arg(long, value_delimiter = ',', requires = "ratios")]
    pub skip_layers: Vec<usize>,
}

/// The default `--rates` sweep when neither `--rates` nor `--ratios` is given.
const DEFAULT_RATES: [f64; 6] = [1.0, 0.9, 0.8, 0.7, 0.6, 0.5];

/// A `--rates` value: a rate in (0, 1], or `none`.
fn parse_rate(text: &str) -> Result<Option<f64>, String> {
    if text.trim().eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    match text.trim().parse::<f64>() {
        Ok(r) if r > 0.0 && r <= 1.0 => Ok(Some(r)),
        _ => Err(format!("`{text}` is not a rate in (0, 1] or `none`")),
    }
}

impl EvalConfigArgs {
    /// The constant rates to score: as given (`none` dropped), else the default sweep
    /// unless an explicit configuration was asked for.
    pub fn rates(&self) -> Vec<f64> {
        match &self.rates {
            Some(rates) => rates.iter().flatten().copied().collect(),
            None if self.ratios.is_some() => Vec::new(),
            None => DEFAULT_RATES.to_vec(),
        }
    }

    /// (label, configuration) pairs for a model of `layers` layers.
    pub fn configs(&self, layers: usize) -> Result<Vec<(String, LengthConfig)>> {
        let mut out = Vec::new();
        for rate in self.rates() {
            let config = if rate >= 1.0 {
                LengthConfig::keep_all(layers)
            } else {
                LengthConfig::constant_rate(layers, rate)?
            };
            out.push((format!("rate {rate}"), config));
        }
        if let Some(ratios) = &self.ratios {
            if ratios.len() != layers {
                bail!(
                    "--ratios has {} values; the model has {layers} layers",
                    ratios.len()
                );
            }
            let config =
                LengthConfig::new(ratios.clone())?.with_skipped_layers(&self.skip_layers)?;
            let label = format!("ratios {ratios:?} skip {:?}", self.skip_layers);
            out.push((label, config));
        }
        if out.is_empty() {
            bail!("nothing to score: give --rates or --ratios");
        }
        Ok(out)
    }
}

/// Prints how a run ended.
pub fn report(summary: &TrainSummary, metric: &str) {
    match summary.best {
        Some((score, step)) => println!(
            "done after {} steps; best dev {metric} {score:.2} at step {step} -> {}",
            summary.steps,
            summary.best_dir.display()
        ),
        None => println!("stopped after {} steps (no evaluation yet)", summary.steps),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn args(rates: Option<Vec<Option<f64>>>, ratios: Option<Vec<f64>>) -> EvalConfigArgs {
        EvalConfigArgs {
            rates,
            ratios,
            skip_layers: Vec::new(),
        }
    }

    #[test]
    fn the_rate_sweep_is_a_default_that_can_be_turned_off() {
        assert_eq!(args(None, None).rates(), DEFAULT_RATES.to_vec());
        assert!(args(None, Some(vec![1.0; 6])).rates().is_empty());
        assert!(args(Some(vec![None]), None).rates().is_empty());
        assert_eq!(args(Some(vec![Some(0.8), None]), None).rates(), vec![0.8]);
        assert_eq!(parse_rate("none"), Ok(None));
        assert_eq!(parse_rate(" 0.5"), Ok(Some(0.5)));
        assert!(parse_rate("0").is_err() && parse_rate("1.5").is_err());
        let nothing = args(Some(vec![None]), None).configs(6).unwrap_err();
        assert!(nothing.to_string().contains("--rates or --ratios"));
        let one = args(None, Some(vec![1.0, 0.9, 0.8, 0.8, 0.5, 0.5]))
            .configs(6)
            .unwrap();
        assert_eq!(one.len(), 1, "an explicit configuration alone");
    }
}
