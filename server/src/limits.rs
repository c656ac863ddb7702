//! Header limits answered with the JSON 431 (hyper's own limits, set higher in
//! `listen.rs`, would answer with an empty body).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::{ApiError, ErrorType};
use crate::state::AppState;

/// Bytes of a request head as counted here: every name and value plus 4 for `: ` and CRLF.
pub fn header_bytes(request: &Request) -> usize {
    request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum::<usize>()
        + request
            .uri()
            .path_and_query()
            .map_or(0, |target| target.as_str().len())
}

/// Middleware: 431 past `--max-header-bytes` or `--max-headers`.
pub async fn limit_headers(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let count = request.headers().len();
    let bytes = header_bytes(&request);
    let http = &state.http;
    if count > http.max_headers || bytes > http.max_header_bytes {
        return ApiError::new(
            ErrorType::HeadersTooLarge,
            format!(
                "the request head has {count} headers and {bytes} bytes; at most {} and {} \
                 (--max-headers, --max-header-bytes)",
                http.max_headers, http.max_header_bytes
            ),
        )
        .into_response();
    }
    next.run(request).await
}
