//! A served model: its tokenizer, engine, admission limit and hot-swappable frontier.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use burn::tensor::Device;
use lat_frontier::{
    ArchitectureInfo, Expected, FrontierError, Gene, LatencyCalibration, LatencyModel,
    LatencySample, Task, sha256_file,
};
use lat_model::data::SquadWindows;
use lat_model::train::{LAT_JSON, LatMetadata, SpanDecoding, read_json};
use lat_model::{
    BertForQuestionAnswering, BertForSequenceClassification, BertTokenizer, Encoded, TextInput,
};
use tokio::sync::{Mutex, Semaphore, oneshot};

use crate::engine::{BatchLimits, Calibration, Engine, EngineConfig, EngineError, TaskModel};
use crate::frontier_slot::{FrontierSlot, Snapshot};
use crate::live_latency::LiveLatency;
use crate::metrics::Metrics;

/// Where a model and its frontier are.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    /// Name used in requests and metrics.
    pub name: String,
    /// Model directory written by `lat-train` (HF files plus `lat.json`).
    pub dir: PathBuf,
    /// `frontier.json` written by `lat-search`.
    pub frontier: PathBuf,
}

/// Serving settings shared by every model.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Batch bounds.
    pub limits: BatchLimits,
    /// Inputs (QA: windows) admitted at once per model; beyond, 429.
    pub max_concurrent_inputs: usize,
    /// Timed repeats per (point, length) when calibrating latency.
    pub calibration_repeats: usize,
    /// SLO mode: requests without a budget are served as if they asked for this many
    /// milliseconds end to end, so they move to cheaper points as the queue grows.
    pub slo_ms: Option<f64>,
    /// Frontier points a file may have: every point is timed at load and swap, and
    /// budget resolution reads them all per request.
    pub max_frontier_points: usize,
}

/// What a model does.
#[derive(Debug, Clone, PartialEq)]
pub enum ServedTask {
    /// Sequence classification over `labels`.
    Classification {
        /// Class names.
        labels: Vec<String>,
    },
    /// Extractive QA.
    QuestionAnswering {
        /// How contexts are cut.
        windows: SquadWindows,
        /// Span decoding limits.
        decoding: SpanDecoding,
    },
}

impl ServedTask {
    /// `classification` or `question-answering`.
    pub fn name(&self) -> &'static str {
        match self {
            ServedTask::Classification { .. } => "classification",
            ServedTask::QuestionAnswering { .. } => "question-answering",
        }
    }
}

/// Why a model could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The model directory.
    #[error("model `{model}`: {source}")]
    Load {
        /// Model name.
        model: String,
        /// Cause.
        source: lat_model::LoadError,
    },
    /// `lat.json` missing or unreadable, or its task unknown.
    #[error("model `{model}`: {reason}")]
    Metadata {
        /// Model name.
        model: String,
        /// Cause.
        reason: String,
    },
    /// The frontier file.
    #[error("model `{model}`: frontier {path}: {source}")]
    Frontier {
        /// Model name.
        model: String,
        /// File.
        path: PathBuf,
        /// Cause.
        source: FrontierError,
    },
    /// The frontier has more points than `--max-frontier-points`.
    #[error(
        "model `{model}`: frontier {path}: {points} points; at most {max} (--max-frontier-points)"
    )]
    FrontierPoints {
        /// Model name.
        model: String,
        /// File.
        path: PathBuf,
        /// Points in the file.
        points: usize,
        /// The cap.
        max: usize,
    },
    /// Warm-up failed.
    #[error("model `{model}`: warm-up failed: {source}")]
    Warmup {
        /// Model name.
        model: String,
        /// Cause.
        source: ReloadError,
    },
}

/// Why a frontier swap was refused (the old frontier keeps serving).
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    /// The candidate is not a valid frontier for this model.
    #[error("{0}")]
    Invalid(#[from] FrontierError),
    /// It has more points than `--max-frontier-points`.
    #[error("{points} points; at most {max} (--max-frontier-points)")]
    TooManyPoints {
        /// Points in the candidate.
        points: usize,
        /// The cap.
        max: usize,
    },
    /// An admin PUT could not write the frontier file, so it does not serve.
    #[error("writing {path}: {reason}")]
    Persist {
        /// File.
        path: PathBuf,
        /// Cause.
        reason: String,
    },
    /// It could not be read.
    #[error("reading {path}: {reason}")]
    Io {
        /// File.
        path: PathBuf,
        /// Cause.
        reason: String,
    },
    /// Timing its points failed.
    #[error("calibrating the new points: {0}")]
    Calibration(#[from] EngineError),
    /// Its points could not be fitted to latency lines.
    #[error("fitting latency lines: {0}")]
    Latency(#[from] lat_frontier::LatencyError),
}

/// What a reload did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReloadOutcome {
    /// A new frontier serves.
    Swapped,
    /// Same bytes as the serving one; nothing changed.
    Unchanged,
}

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
    template: Encoded,
    live: std::sync::Mutex<LiveLatency>,
    /// Calibration samples of every configuration timed so far: a swap back to known points
    /// costs no timing work.
    timed: Mutex<HashMap<Gene, Vec<LatencySample>>>,
    calibration_repeats: usize,
    max_frontier_points: usize,
    reload_lock: Mutex<()>,
    metrics: Arc<Metrics>,
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

    /// Runs every point of the serving frontier once per calibration length and installs
    /// the measured latency lines (this is also the warm-up).
    pub async fn warm_up(&self) -> Result<(), ServeError> {
        let _guard = self.reload_lock.lock().await;
        let current = self.slot.load();
        let latency = self
            .calibrate(&current)
            .await
            .map_err(|source| ServeError::Warmup {
                model: self.name.clone(),
                source,
            })?;
        let warmed = current.with_latency(latency);
        self.slot.swap(warmed);
        self.metrics
            .reload_success_time
            .with_label_values(&[&self.name])
            .set(current.loaded_at);
        Ok(())
    }

    fn calibration_lengths(&self) -> Vec<usize> {
        let max = self.max_length();
        let mut lengths: Vec<usize> = [16, max / 2, max]
            .into_iter()
            .map(|n| n.clamp(4, max.max(4)))
            .collect();
        lengths.sort_unstable();
        lengths.dedup();
        lengths
    }

    /// Times every point of `snapshot` on the engine, fits latency lines, and restarts the
    /// live refinement from these measurements.
    async fn calibrate(&self, snapshot: &Snapshot) -> Result<LatencyModel, ReloadError> {
        let mut timed = self.timed.lock().await;
        let configs: Vec<_> = snapshot
            .frontier
            .points()
            .iter()
            .map(|p| p.gene.clone())
            .zip(snapshot.frontier.configs().iter().cloned())
            .filter(|(gene, _)| !timed.contains_key(gene))
            .collect();
        if !configs.is_empty() {
            let (reply, answer) = oneshot::channel();
            self.engine.calibrate(Calibration {
                configs,
                template: self.template.clone(),
                tokens: self.calibration_lengths(),
                repeats: self.calibration_repeats,
                reply,
            });
            for sample in answer.await.map_err(|_| EngineError::Stopped)?? {
                timed.entry(sample.gene.clone()).or_default().push(sample);
            }
        }
        let samples: Vec<LatencySample> = snapshot
            .frontier
            .points()
            .iter()
            .filter_map(|p| timed.get(&p.gene))
            .flatten()
            .cloned()
            .collect();
        let model = LatencyModel::fit(&LatencyCalibration {
            device: "serving".into(),
            samples: samples.clone(),
        })?;
        *self.live.lock().unwrap_or_else(|p| p.into_inner()) = LiveLatency::new(samples);
        Ok(model)
    }

    /// Feeds a measured single-input pass to the latency lines; a refit is installed in the
    /// serving snapshot unless a reload holds the frontier.
    pub fn observe_latency(&self, sample: LatencySample) {
        let refit = self
            .live
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .observe(sample);
        if let Some(latency) = refit
            && let Ok(_guard) = self.reload_lock.try_lock()
        {
            let current = self.slot.load();
            // Samples admitted before a swap may belong to the old frontier's points.
            let covers = current
                .frontier
                .points()
                .iter()
                .all(|p| latency.line(&p.gene).is_some());
            if covers {
                self.slot.swap(current.with_latency(latency));
            }
        }
    }

    /// Validates `bytes` against this model, times its points, and swaps it in; on any
    /// failure the serving frontier stays. Counted in `lat_frontier_reload_total`.
    pub async fn reload(&self, bytes: &[u8]) -> Result<ReloadOutcome, ReloadError> {
        self.reload_with(bytes, false).await
    }

    /// [`ServedModel::reload`] for the admin API: a valid candidate is first written to the
    /// frontier file (atomically), so the file and the serving frontier never disagree; if
    /// the file cannot be written the candidate does not serve.
    pub async fn replace(&self, bytes: &[u8]) -> Result<ReloadOutcome, ReloadError> {
        self.reload_with(bytes, true).await
    }

    async fn reload_with(&self, bytes: &[u8], persist: bool) -> Result<ReloadOutcome, ReloadError> {
        let _guard = self.reload_lock.lock().await;
        let result = self.reload_locked(bytes, persist).await;
        let label = match &result {
            Ok(ReloadOutcome::Swapped) => "success",
            Ok(ReloadOutcome::Unchanged) => "unchanged",
            Err(_) => "failure",
        };
        self.metrics
            .reloads
            .with_label_values(&[&self.name, label])
            .inc();
        match &result {
            Ok(outcome) => {
                tracing::info!(model = %self.name, ?outcome, version = %self.slot.load().version, "frontier reload")
            }
            Err(error) => {
                tracing::warn!(model = %self.name, %error, "frontier reload refused; the old frontier keeps serving")
            }
        }
        result
    }

    async fn reload_locked(
        &self,
        bytes: &[u8],
        persist: bool,
    ) -> Result<ReloadOutcome, ReloadError> {
        let current = self.slot.load();
        if crate::frontier_slot::sha256_hex(bytes) == current.sha256 {
            if persist {
                self.persist(bytes).await?;
            }
            return Ok(ReloadOutcome::Unchanged);
        }
        let mut candidate = Snapshot::parse(bytes, &self.expected)?;
        if candidate.points() > self.max_frontier_points {
            return Err(ReloadError::TooManyPoints {
                points: candidate.points(),
                max: self.max_frontier_points,
            });
        }
        candidate.latency = Some(self.calibrate(&candidate).await?);
        if persist {
            self.persist(bytes).await?;
        }
        let (version, points, loaded_at) = (
            candidate.version.clone(),
            candidate.points(),
            candidate.loaded_at,
        );
        let previous = self.slot.swap(candidate);
        self.metrics
            .set_frontier(&self.name, Some(&previous.version), &version, points);
        self.metrics
            .reload_success_time
            .with_label_values(&[&self.name])
            .set(loaded_at);
        Ok(ReloadOutcome::Swapped)
    }

    async fn persist(&self, bytes: &[u8]) -> Result<(), ReloadError> {
        crate::persist::write_atomically(&self.frontier_path, bytes)
            .await
            .map_err(|e| ReloadError::Persist {
                path: self.frontier_path.clone(),
                reason: e.to_string(),
            })
    }

    /// Re-reads the model's frontier file and reloads it.
    pub async fn reload_from_file(&self) -> Result<ReloadOutcome, ReloadError> {
        match tokio::fs::read(&self.frontier_path).await {
            Ok(bytes) => self.reload(&bytes).await,
            Err(e) => {
                self.metrics
                    .reloads
                    .with_label_values(&[&self.name, "failure"])
                    .inc();
                tracing::warn!(model = %self.name, path = %self.frontier_path.display(), error = %e, "frontier file unreadable; the old frontier keeps serving");
                Err(ReloadError::Io {
                    path: self.frontier_path.clone(),
                    reason: e.to_string(),
                })
            }
        }
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
