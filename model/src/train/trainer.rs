//! The training loop: seeded bucketed batches, a [`train_step`] per batch, global-norm
//! clipping, AdamW with linear decay, periodic full-length dev evaluation with best-by-dev
//! checkpointing, and a resumable state.
//!
//! Output directory: `run.json` (configuration), `metrics.jsonl` (one JSON object per
//! logged step and per evaluation), `checkpoint-best/` (HF layout + `lat.json`), `state/`
//! (resume point).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use burn::store::ModuleSnapshot;
use burn::tensor::Device;
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::json;

use crate::data::bucketed_batches;
use crate::error::TrainError;
use crate::length_config::LengthConfig;
use crate::train::clip::clip_global_norm;
use crate::train::config::TrainConfig;
use crate::train::eval::DevSet;
use crate::train::optimizer::adamw;
use crate::train::progress::Progress;
use crate::train::resume::{StateDir, TrainingState};
use crate::train::save::{ModelDirFiles, io, write_json, write_model_dir};
use crate::train::schedule::LinearSchedule;
use crate::train::step::train_step;
use crate::train::task::{TaskModel, TrainBatch, TrainFeature};

/// Inputs of a run besides the model.
pub struct Trainer<'a, M: TaskModel> {
    /// Hyper-parameters.
    pub config: TrainConfig,
    /// Output directory.
    pub output_dir: PathBuf,
    /// Training examples.
    pub train: &'a [TrainFeature],
    /// Dev set for best-by-dev selection at full length.
    pub dev: &'a dyn DevSet<M>,
    /// Files and metadata of the checkpoints written.
    pub model_files: ModelDirFiles<'a>,
    /// The tokenizer's padding id.
    pub pad_token_id: u32,
    /// The training device (autodiff).
    pub device: Device,
    /// Set (e.g. by a Ctrl-C handler) to stop after the current step, saving the state.
    pub interrupt: Option<&'a AtomicBool>,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainSummary {
    /// Steps completed.
    pub steps: usize,
    /// Best full-length dev score and its step.
    pub best: Option<(f64, usize)>,
    /// Where the best checkpoint is.
    pub best_dir: PathBuf,
}

/// A 64-bit mix (SplitMix64) so that every (seed, stream, step) gets its own RNG.
fn stream_seed(seed: u64, stream: u64, index: u64) -> u64 {
    let mut z = seed
        ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ index.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl<M> Trainer<'_, M>
where
    M: TaskModel + ModuleSnapshot,
{
    /// Trains `model` (loaded on the autodiff device); when `resume` holds a state, the model
    /// must have been loaded from its directory.
    pub fn run(&self, model: M, resume: Option<TrainingState>) -> Result<TrainSummary, TrainError> {
        let c = &self.config;
        if self.train.is_empty() {
            return Err(TrainError::Invalid("no training examples".into()));
        }
        std::fs::create_dir_all(&self.output_dir).map_err(|s| io(&self.output_dir, s))?;
        let state_dir = StateDir(self.output_dir.join("state"));
        let best_dir = self.output_dir.join("checkpoint-best");
        let lengths: Vec<usize> = self
            .train
            .iter()
            .map(|f| f.encoded.input_ids.len())
            .collect();
        let per_epoch = lengths.len().div_ceil(c.batch_size);
        let total = c.total_steps(per_epoch);
        let schedule = LinearSchedule {
            learning_rate: c.learning_rate,
            warmup_steps: c.warmup_steps,
            total_steps: total,
        };
        let mut optimizer = adamw(c.adam_epsilon, c.weight_decay);
        let (mut model, mut step, mut best) = match resume {
            Some(state) => {
                if state.run != c.fingerprint() {
                    return Err(TrainError::Resume {
                        path: state_dir.0.clone(),
                        reason: "the saved run used other hyper-parameters or data".into(),
                    });
                }
                let (model, restored) = state_dir.restore(model, optimizer, &state)?;
                optimizer = restored;
                (model, state.step, state.best)
            }
            None => (model, 0, None),
        };
        write_json(&self.output_dir.join("run.json"), &c.fingerprint())?;
        let log_path = self.output_dir.join("metrics.jsonl");
        truncate_log(&log_path, step)?;
        let mut log = MetricsLog::open(&log_path)?;
        let step_config = c.step_config(model.num_layers());
        let mut progress = Progress::new(step, total, c.logging_steps);
        let mut order: Option<(usize, Vec<Vec<usize>>)> = None;
        let stop_at = c.stop_after.map_or(total, |s| s.min(total));

        while step < stop_at {
            let epoch = step / per_epoch;
            if order.as_ref().is_none_or(|(e, _)| *e != epoch) {
                let mut rng = StdRng::seed_from_u64(stream_seed(c.seed, 1, epoch as u64));
                order = Some((epoch, bucketed_batches(&lengths, c.batch_size, &mut rng)));
            }
            let indices = &order.as_ref().expect("set above").1[step % per_epoch];
            let features: Vec<&TrainFeature> = indices.iter().map(|&i| &self.train[i]).collect();
            let batch = TrainBatch::new(&features, self.pad_token_id, &self.device);
            self.device.seed(stream_seed(c.seed, 2, step as u64));
            let mut rng = StdRng::seed_from_u64(stream_seed(c.seed, 3, step as u64));
            let mut out = train_step(&model, &batch, &step_config, &mut rng);
            let grad_norm = clip_global_norm(&model, &mut out.grads, c.max_grad_norm);
            let lr = schedule.at(step);
            model = optimizer.step(lr, model, out.grads);
            step += 1;
            progress.step(step, features.len(), out.losses.loss);
            if step.is_multiple_of(c.logging_steps) || step == total {
                log.write(&json!({
                    "step": step, "epoch": step as f64 / per_epoch as f64, "lr": lr,
                    "grad_norm": grad_norm, "examples_per_second": progress.examples_per_second(),
                    "losses": out.losses,
                }))?;
            }
            let paused = std::time::Instant::now();
            if step.is_multiple_of(c.eval_steps) || step == total {
                let valid = model.valid();
                let full = LengthConfig::keep_all(step_config.sampler.num_layers);
                let scores = self.dev.evaluate(&valid, &full)?;
                let improved = best.is_none_or(|(b, _)| scores.score > b);
                if improved {
                    best = Some((scores.score, step));
                    let mut metadata = self.model_files.metadata.clone();
                    metadata.training = json!({"run": c.fingerprint(), "step": step,
                        "dev": scores.metrics});
                    let files = ModelDirFiles {
                        metadata: &metadata,
                        ..self.model_files.clone()
                    };
                    write_model_dir(&valid, &best_dir, &files)?;
                }
                log.write(&json!({"step": step, "eval": scores.metrics, "best": improved}))?;
                progress.message(&format!(
                    "step {step}: dev {} {:.2}{}",
                    self.dev.metric(),
                    scores.score,
                    if improved { " (best, saved)" } else { "" }
                ));
            }
            let interrupted = self.interrupt.is_some_and(|i| i.load(Ordering::Relaxed));
            if step.is_multiple_of(c.eval_steps) || step == stop_at || interrupted {
                let state = TrainingState {
                    step,
                    best,
                    param_ids: Default::default(),
                    run: c.fingerprint(),
                };
                let config_json = self.model_files.base.join("config.json");
                state_dir.save(&model, &optimizer, state, &config_json)?;
            }
            progress.exclude(paused.elapsed());
            if interrupted {
                progress.message(&format!(
                    "interrupted: state saved at step {step}; continue with --resume"
                ));
                break;
            }
        }
        Ok(TrainSummary {
            steps: step,
            best,
            best_dir,
        })
    }
}

/// Drops log lines past `step`, so a resumed run's log reads like an uninterrupted one.
fn truncate_log(path: &Path, step: usize) -> Result<(), TrainError> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Ok(());
    };
    let kept: String = text
        .lines()
        .filter(|line| {
            serde_json::from_str::<serde_json::Value>(line)
                .ok()
                .and_then(|v| v["step"].as_u64())
                .is_some_and(|s| s as usize <= step)
        })
        .map(|line| format!("{line}\n"))
        .collect();
    std::fs::write(path, kept).map_err(|s| io(path, s))
}

/// The JSON-lines metrics log.
struct MetricsLog {
    file: std::fs::File,
    path: PathBuf,
}

impl MetricsLog {
    fn open(path: &Path) -> Result<Self, TrainError> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|s| io(path, s))?;
        Ok(Self {
            file,
            path: path.to_path_buf(),
        })
    }

    fn write(&mut self, value: &serde_json::Value) -> Result<(), TrainError> {
        writeln!(self.file, "{value}").map_err(|s| io(&self.path, s))
    }
}
