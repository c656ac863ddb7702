//! `GET /health/live` (the process answers) and `GET /health/ready` (loaded, warmed, not
//! draining). A refused frontier swap never affects either.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::error::{ApiError, ErrorType};
use crate::state::AppState;

/// Always 200 while the process runs; touches no model.
pub async fn live() -> Json<serde_json::Value> {
    Json(json!({"status": "live"}))
}

/// 200 when ready, 503 in the envelope otherwise.
pub async fn ready(State(state): State<Arc<AppState>>) -> Response {
    if state.is_ready() {
        Json(json!({"status": "ready"})).into_response()
    } else if state.is_draining() {
        ApiError::new(ErrorType::Unready, "draining").into_response()
    } else {
        ApiError::new(ErrorType::Unready, "loading and warming up").into_response()
    }
}

/// The Prometheus scrape.
pub async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}
