//! The last word on errors: a response of 400 or more that is not already the JSON
//! envelope (an extractor's plain-text rejection, such as a path that is not UTF-8) is
//! rewritten into it, keeping its status and its text as the message.

use axum::body::to_bytes;
use axum::extract::Request;
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// Longest rejection text kept as the message.
const MAX_MESSAGE_BYTES: usize = 4096;

fn is_json(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

/// Middleware: envelopes every bare error response.
pub async fn envelope_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    if status.as_u16() < 400 || is_json(&response) {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = to_bytes(body, MAX_MESSAGE_BYTES)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    let mut error = ApiError::for_status(status);
    if !text.is_empty() {
        error.error = text;
    }
    let mut enveloped = error.into_response();
    // The status stays the original one (several types share a status).
    *enveloped.status_mut() = status;
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            enveloped.headers_mut().insert(name, value.clone());
        }
    }
    enveloped
}
