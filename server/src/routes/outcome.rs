//! Per-model request accounting shared by the inference routes.

use std::time::Instant;

use axum::response::{IntoResponse, Response};

use crate::error::{ApiError, ErrorType};
use crate::metrics::Metrics;
use crate::served::ServedModel;

/// Counts a finished request by outcome and time, and turns it into a response.
pub fn record_outcome(
    metrics: &Metrics,
    model: &ServedModel,
    started: Instant,
    result: Result<Response, ApiError>,
) -> Response {
    let task = model.task.name();
    let status = match &result {
        Ok(_) => "ok",
        Err(e) => e.error_type.name(),
    };
    metrics
        .requests
        .with_label_values(&[&model.name, task, status])
        .inc();
    metrics
        .request_duration
        .with_label_values(&[&model.name, task])
        .observe(started.elapsed().as_secs_f64());
    if let Err(e) = &result {
        let reason = match e.error_type {
            ErrorType::Validation | ErrorType::MalformedRequest => Some("validation"),
            ErrorType::BudgetInfeasible => Some("budget_infeasible"),
            ErrorType::Unready => Some("unready"),
            _ => None,
        };
        if let Some(reason) = reason {
            metrics
                .rejections
                .with_label_values(&[&model.name, reason])
                .inc();
        }
    }
    result.unwrap_or_else(IntoResponse::into_response)
}
