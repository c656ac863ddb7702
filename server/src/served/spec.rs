//! What a served model is: where it lives, the settings every model shares, its task.

use std::path::PathBuf;

use lat_model::data::SquadWindows;
use lat_model::train::SpanDecoding;

use crate::engine::BatchLimits;

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
