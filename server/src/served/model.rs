//! A served model: its tokenizer, engine, admission limit and hot-swappable frontier, and
//! how it is loaded. Warm-up and calibration are in `calibrate.rs`, swaps in `reload.rs`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use burn::tensor::Device;
use lat_frontier::{
    ArchitectureInfo, Expected, FrontierError, Gene, LatencySample, Task, sha256_file,
};
use lat_model::data::SquadWindows;
use lat_model::train::{LAT_JSON, LatMetadata, SpanDecoding, read_json};
use lat_model::{
    BertForQuestionAnswering, BertForSequenceClassification, BertTokenizer, Encoded, TextInput,
};
use tokio::sync::{Mutex, Semaphore};

use super::errors::ServeError;
use super::spec::{ModelSpec, ServeOptions, ServedTask};
use crate::engine::{Engine, EngineConfig, TaskModel};
use crate::frontier_slot::{FrontierSlot, Snapshot};
use crate::live_latency::LiveLatency;
use crate::metrics::Metrics;

/// A model being served.
pub struct ServedModel {
    /// Name used in requests.
    pub name: String,
    /// Its task.
    pub task: ServedTask,
    /// Its tokenizer.
    pub tokenizer: Arc<BertTokenizer>,
    /// What a frontier must match.
    pub expected: Expected,
    /// The file reloads read.
    pub frontier_path: PathBuf,
    /// The frontier serving now.
    pub slot: FrontierSlot,
    /// Its engine thread.
    pub engine: Engine,
    /// Admission: one permit per input in flight.
    pub admission: Arc<Semaphore>,
    /// Permits in all: a request needing more can never run.
    pub max_concurrent_inputs: usize,
    /// SLO mode's end-to-end target, milliseconds.
    pub slo_ms: Option<f64>,
    /// Latency calibration input (a maximum-length input of this task).
    pub(super) template: Encoded,
    pub(super) live: std::sync::Mutex<LiveLatency>,
    /// Calibration samples of every configuration timed so far: a swap back to known points
    /// costs no timing work.
    pub(super) timed: Mutex<HashMap<Gene, Vec<LatencySample>>>,
    pub(super) calibration_repeats: usize,
    pub(super) max_frontier_points: usize,
    pub(super) reload_lock: Mutex<()>,
    pub(super) metrics: Arc<Metrics>,
}

fn model_error(model: &str) -> impl Fn(lat_model::LoadError) -> ServeError + '_ {
    move |source| ServeError::Load {
        model: model.to_string(),
        source,
    }
}

/// A long realistic text for calibration inputs.
const CALIBRATION_TEXT: &str = "the film is a gripping , funny and deeply moving portrait of a \
family , with a script that never settles for the obvious and a cast that makes every scene \
count . ";

impl ServedModel {
    /// Loads the model, its tokenizer and its frontier (validated against the weights), and
    /// starts its engine. Latency budgets need [`ServedModel::warm_up`] first.
    pub fn load(
        spec: &ModelSpec,
        options: &ServeOptions,
        device: &Device,
        metrics: Arc<Metrics>,
    ) -> Result<Self, ServeError> {
        let name = spec.name.clone();
        let meta_error = |reason: String| ServeError::Metadata {
            model: name.clone(),
            reason,
        };
        let meta: LatMetadata = read_json(&spec.dir.join(LAT_JSON)).map_err(|e| {
            meta_error(format!(
                "{e} (serve a directory written by lat-train, which has {LAT_JSON})"
            ))
        })?;
        let tokenizer = BertTokenizer::from_file(&spec.dir.join("tokenizer.json"), meta.max_length)
            .map_err(model_error(&name))?;
        let (model, config, task, frontier_task) = match meta.task.as_str() {
            "classification" => {
                let loaded =
                    BertForSequenceClassification::load(&spec.dir, meta.labels.len(), device)
                        .map_err(model_error(&name))?;
                (
                    TaskModel::Classification(loaded.model),
                    loaded.config,
                    ServedTask::Classification {
                        labels: meta.labels.clone(),
                    },
                    Task::Classification {
                        labels: meta.labels.clone(),
                    },
                )
            }
            "question-answering" => {
                let loaded = BertForQuestionAnswering::load(&spec.dir, device)
                    .map_err(model_error(&name))?;
                (
                    TaskModel::QuestionAnswering(loaded.model),
                    loaded.config,
                    ServedTask::QuestionAnswering {
                        windows: SquadWindows {
                            max_length: meta.max_length,
                            ..SquadWindows::default()
                        },
                        decoding: SpanDecoding::default(),
                    },
                    Task::QuestionAnswering,
                )
            }
            other => return Err(meta_error(format!("unknown task `{other}` in {LAT_JSON}"))),
        };
        let frontier_error = |source| ServeError::Frontier {
            model: name.clone(),
            path: spec.frontier.clone(),
            source,
        };
        let expected = Expected {
            weights_sha256: sha256_file(&spec.dir.join("model.safetensors"))
                .map_err(frontier_error)?,
            architecture: ArchitectureInfo {
                num_hidden_layers: config.num_hidden_layers,
                hidden_size: config.hidden_size,
                num_attention_heads: config.num_attention_heads,
                intermediate_size: config.intermediate_size,
            },
            task: frontier_task,
        };
        let bytes = std::fs::read(&spec.frontier).map_err(|source| {
            frontier_error(FrontierError::Io {
                path: spec.frontier.clone(),
                source,
            })
        })?;
        let snapshot = Snapshot::parse(&bytes, &expected).map_err(frontier_error)?;
        if snapshot.points() > options.max_frontier_points {
            return Err(ServeError::FrontierPoints {
                model: name,
                path: spec.frontier.clone(),
                points: snapshot.points(),
                max: options.max_frontier_points,
            });
        }
        let template = calibration_input(&tokenizer, &task).map_err(meta_error)?;
        metrics.init_model(&name, task.name());
        metrics.set_frontier(&name, None, &snapshot.version, snapshot.points());
        let engine = Engine::start(
            model,
            EngineConfig {
                limits: options.limits,
                pad_token_id: tokenizer.pad_token_id(),
                device: device.clone(),
            },
            metrics.engine_metrics(&name),
        );
        Ok(Self {
            name,
            task,
            tokenizer: Arc::new(tokenizer),
            expected,
            frontier_path: spec.frontier.clone(),
            slot: FrontierSlot::new(snapshot),
            engine,
            admission: Arc::new(Semaphore::new(options.max_concurrent_inputs)),
            max_concurrent_inputs: options.max_concurrent_inputs,
            template,
            calibration_repeats: options.calibration_repeats,
            max_frontier_points: options.max_frontier_points,
            slo_ms: options.slo_ms,
            live: std::sync::Mutex::new(LiveLatency::default()),
            timed: Mutex::new(HashMap::new()),
            reload_lock: Mutex::new(()),
            metrics,
        })
    }

    /// Longest input in tokens.
    pub fn max_length(&self) -> usize {
        self.tokenizer.max_length()
    }

    /// The frontier file path.
    pub fn frontier_path(&self) -> &Path {
        &self.frontier_path
    }
}

fn calibration_input(tokenizer: &BertTokenizer, task: &ServedTask) -> Result<Encoded, String> {
    let text = CALIBRATION_TEXT.repeat(1 + tokenizer.max_length() / 16);
    let input = match task {
        ServedTask::Classification { .. } => TextInput::Single(&text),
        ServedTask::QuestionAnswering { .. } => {
            TextInput::Pair("what makes every scene count ?", &text)
        }
    };
    tokenizer.encode(input).map_err(|e| e.to_string())
}
