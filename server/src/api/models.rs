//! `GET /v1/models`, `GET /v1/models/{name}/frontier` and the admin answers.

use serde::Serialize;

/// A frontier in brief.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FrontierSummary {
    /// Version (first 12 hex digits of the file's SHA-256).
    pub version: String,
    /// SHA-256 of the file.
    pub sha256: String,
    /// Unix seconds of the swap that installed it.
    pub loaded_at: f64,
    /// Number of points.
    pub points: usize,
    /// Cheapest point's FLOPs ratio (dev-set mean).
    pub min_flops_ratio: f64,
    /// Best point's dev score.
    pub best_score: f64,
    /// The frontier's metric (`accuracy`, `f1`).
    pub metric: String,
    /// Whether latency budgets are available (every point calibrated).
    pub latency_calibrated: bool,
}

/// A served model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelInfo {
    /// Name used in requests.
    pub name: String,
    /// `classification` or `question-answering`.
    pub task: String,
    /// Class names (empty for QA).
    pub labels: Vec<String>,
    /// Longest input in tokens.
    pub max_length: usize,
    /// SHA-256 of the weights.
    pub weights_sha256: String,
    /// The frontier serving now.
    pub frontier: FrontierSummary,
}

/// `GET /v1/models`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelsResponse {
    /// Served models.
    pub models: Vec<ModelInfo>,
}

/// Outcome of an admin reload for one model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReloadResponse {
    /// The model.
    pub model: String,
    /// `swapped` or `unchanged`.
    pub result: &'static str,
    /// The version serving now.
    pub version: String,
}
