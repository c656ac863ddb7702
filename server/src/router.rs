//! The router: every route `openapi.yaml` documents, and the layers every request passes
//! (request id, header limits, API key, HTTP metrics, every error enveloped).

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::HeaderName;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnFailure, DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::envelope::envelope_errors;
use crate::error::{ApiError, ErrorType};
use crate::limits::limit_headers;
use crate::routes::{admin, classify, health, models, qa};
use crate::state::AppState;

/// Every (method, path) the router serves, as `openapi.yaml` writes them.
pub const ROUTES: [(&str, &str); 10] = [
    ("post", "/v1/classify"),
    ("post", "/v1/qa"),
    ("get", "/v1/models"),
    ("get", "/v1/models/{name}/frontier"),
    ("get", "/health/live"),
    ("get", "/health/ready"),
    ("get", "/metrics"),
    ("put", "/admin/models/{name}/frontier"),
    ("post", "/admin/reload"),
    ("get", "/openapi.yaml"),
];

/// The OpenAPI document, served as written.
pub const OPENAPI_YAML: &str = include_str!("../../openapi.yaml");

async fn require_api_key(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    if state.http.api_key.is_some()
        && let Err(e) = admin::authorize(request.headers(), state.http.api_key.as_deref(), "")
    {
        return e.into_response();
    }
    next.run(request).await
}

async fn count_http(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |p| p.as_str())
        .to_string();
    let response = next.run(request).await;
    state
        .metrics
        .http_requests
        .with_label_values(&[&route, response.status().as_str()])
        .inc();
    response
}

/// Every log line of a request carries its id (set from `x-request-id` or generated).
fn request_span(request: &Request) -> tracing::Span {
    let id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    tracing::info_span!("request", request_id = %id, method = %request.method(), uri = %request.uri())
}

async fn not_found() -> ApiError {
    ApiError::new(ErrorType::NotFound, "no such route")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        ErrorType::MethodNotAllowed,
        "this route does not take that method",
    )
}

/// The application, metrics route included when `metrics_on_main_port`.
pub fn router(state: Arc<AppState>, metrics_on_main_port: bool) -> Router {
    let inference = Router::new()
        .route("/v1/classify", post(classify::classify))
        .route("/v1/qa", post(qa::qa))
        .route("/v1/models", get(models::list))
        .route("/v1/models/{name}/frontier", get(models::frontier))
        .route_layer(middleware::from_fn_with_state(
            Arc::clone(&state),
            require_api_key,
        ));
    let mut app = Router::new()
        .merge(inference)
        .route("/health/live", get(health::live))
        .route("/health/ready", get(health::ready))
        .route("/admin/models/{name}/frontier", put(admin::put_frontier))
        .route("/admin/reload", post(admin::reload_all))
        .route(
            "/openapi.yaml",
            get(|| async { ([("content-type", "application/yaml")], OPENAPI_YAML) }),
        );
    if metrics_on_main_port {
        app = app.route("/metrics", get(health::metrics));
    }
    let request_id = HeaderName::from_static("x-request-id");
    app.fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(
            Arc::clone(&state),
            limit_headers,
        ))
        .layer(middleware::from_fn_with_state(
            Arc::clone(&state),
            count_http,
        ))
        .layer(middleware::from_fn(envelope_errors))
        .layer(DefaultBodyLimit::max(state.http.payload_limit))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_response(DefaultOnResponse::new().level(Level::DEBUG))
                // 503 while loading is expected; real faults are logged where they happen.
                .on_failure(DefaultOnFailure::new().level(Level::DEBUG)),
        )
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .with_state(state)
}

/// A router with only `/metrics`, for a separate metrics port.
pub fn metrics_router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/metrics", get(health::metrics))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn(envelope_errors))
        .with_state(state)
}
