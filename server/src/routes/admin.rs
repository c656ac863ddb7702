//! `PUT /admin/models/{name}/frontier` (body: a frontier file) and `POST /admin/reload`
//! (re-read every model's frontier file), behind the admin bearer token.
//!
//! The frontier file is the one source of truth: a PUT that validates is written to the
//! model's frontier file (atomically, by rename) before it serves, so the file watcher,
//! SIGHUP and a restart all keep it. Where that file cannot be written (a read-only
//! ConfigMap), the PUT is refused with 409 and the file stays in charge.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Request, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};

use crate::api::ReloadResponse;
use crate::error::{ApiError, ErrorType};
use crate::extract::read_body;
use crate::served::{ReloadError, ReloadOutcome, ServedModel};
use crate::state::AppState;

/// The token of an `Authorization` value whose scheme is `Bearer` in any case (RFC 7235:
/// auth schemes are case-insensitive).
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim_start().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim_matches(' '))
}

/// Checks `Authorization: Bearer <token>` against `expected` (`None`: route disabled).
pub fn authorize(headers: &HeaderMap, expected: Option<&str>, what: &str) -> Result<(), ApiError> {
    let Some(expected) = expected else {
        return Err(ApiError::new(
            ErrorType::Forbidden,
            format!("{what} is disabled on this server"),
        ));
    };
    let given = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(bearer_token);
    match given {
        None => Err(ApiError::new(
            ErrorType::Unauthorized,
            "missing `Authorization: Bearer <token>`",
        )),
        Some(token) if constant_time_eq(token.as_bytes(), expected.as_bytes()) => Ok(()),
        Some(_) => Err(ApiError::new(ErrorType::Unauthorized, "wrong token")),
    }
}

/// Comparison whose time does not depend on where the first difference is.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn reload_error(error: ReloadError) -> ApiError {
    match error {
        ReloadError::Invalid(_) | ReloadError::TooManyPoints { .. } => ApiError::validation(
            format!("frontier refused, the old one keeps serving: {error}"),
        ),
        ReloadError::Persist { .. } => ApiError::new(
            ErrorType::Conflict,
            format!(
                "frontier refused, the old one keeps serving: {error} (the frontier file is \
                 the source of truth; update it instead)"
            ),
        ),
        other => ApiError::new(
            ErrorType::Internal,
            format!("frontier refused, the old one keeps serving: {other}"),
        ),
    }
}

fn answer(model: &ServedModel, outcome: ReloadOutcome) -> ReloadResponse {
    ReloadResponse {
        model: model.name.clone(),
        result: match outcome {
            ReloadOutcome::Swapped => "swapped",
            ReloadOutcome::Unchanged => "unchanged",
        },
        version: model.slot.load().version.clone(),
    }
}

/// Validates the body as `name`'s new frontier, writes it to the model's frontier file and
/// swaps it in. The token is checked before the body is read.
pub async fn put_frontier(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    request: Request,
) -> Response {
    let result = async {
        authorize(
            request.headers(),
            state.http.admin_token.as_deref(),
            "the admin API",
        )?;
        let model = state.model_named(&name)?;
        let body = read_body(request.into_body(), &state).await?;
        let outcome = model.replace(&body).await.map_err(reload_error)?;
        Ok::<_, ApiError>(Json(answer(&model, outcome)))
    }
    .await;
    result.map_or_else(IntoResponse::into_response, IntoResponse::into_response)
}

/// Re-reads every model's frontier file; the first failure is the answer (the others
/// still reload).
pub async fn reload_all(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    if let Err(e) = authorize(&headers, state.http.admin_token.as_deref(), "the admin API") {
        return e.into_response();
    }
    let mut answers = Vec::new();
    let mut first_error = None;
    for model in state.models() {
        match model.reload_from_file().await {
            Ok(outcome) => answers.push(answer(model, outcome)),
            Err(e) => {
                first_error.get_or_insert(reload_error(e));
            }
        }
    }
    match first_error {
        Some(e) => e.into_response(),
        None => Json(serde_json::json!({ "reloaded": answers })).into_response(),
    }
}
