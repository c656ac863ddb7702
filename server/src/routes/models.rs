//! `GET /v1/models` and `GET /v1/models/{name}/frontier`.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};

use crate::api::{FrontierSummary, ModelInfo, ModelsResponse};
use crate::served::{ServedModel, ServedTask};
use crate::state::AppState;

fn info(model: &ServedModel) -> ModelInfo {
    let snapshot = model.slot.load();
    let points = snapshot.frontier.points();
    ModelInfo {
        name: model.name.clone(),
        task: model.task.name().to_string(),
        labels: match &model.task {
            ServedTask::Classification { labels } => labels.clone(),
            ServedTask::QuestionAnswering { .. } => Vec::new(),
        },
        max_length: model.max_length(),
        weights_sha256: model.expected.weights_sha256.clone(),
        frontier: FrontierSummary {
            version: snapshot.version.clone(),
            sha256: snapshot.sha256.clone(),
            loaded_at: snapshot.loaded_at,
            points: points.len(),
            min_flops_ratio: points.first().map_or(1.0, |p| p.flops_ratio),
            best_score: points.iter().map(|p| p.score).fold(f64::NAN, f64::max),
            metric: snapshot.frontier.file().metric.clone(),
            latency_calibrated: snapshot.latency.is_some(),
        },
    }
}

/// Every served model with its task, labels and frontier summary.
pub async fn list(State(state): State<Arc<AppState>>) -> Json<ModelsResponse> {
    Json(ModelsResponse {
        models: state.models().iter().map(|m| info(m)).collect(),
    })
}

/// The frontier file serving now, with its version in `x-frontier-version`.
pub async fn frontier(State(state): State<Arc<AppState>>, Path(name): Path<String>) -> Response {
    match state.model_named(&name) {
        Ok(model) => {
            let snapshot = model.slot.load();
            (
                [("x-frontier-version", snapshot.version.clone())],
                Json(snapshot.frontier.file().clone()),
            )
                .into_response()
        }
        Err(e) => e.into_response(),
    }
}
