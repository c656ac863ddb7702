//! The one JSON error envelope every failure is answered with: `{"error", "error_type"}`
//! and the status its type implies.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// What went wrong, as sent in `error_type` (snake_case on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorType {
    /// The body is not valid JSON or not an object of the expected shape (400).
    MalformedRequest,
    /// The request parsed but a field is invalid (422).
    Validation,
    /// A strict budget that no frontier point meets (422).
    BudgetInfeasible,
    /// The body is larger than the payload limit (413).
    PayloadTooLarge,
    /// The content type is not `application/json` (415).
    UnsupportedMediaType,
    /// Missing or wrong bearer token (401).
    Unauthorized,
    /// The endpoint is disabled on this server (403).
    Forbidden,
    /// No such model or route (404).
    NotFound,
    /// The route exists but not for this method (405).
    MethodNotAllowed,
    /// The request body did not arrive within the body timeout (408).
    RequestTimeout,
    /// The admin API cannot write the model's frontier file, its source of truth (409).
    Conflict,
    /// The request headers are larger than the server accepts (431).
    HeadersTooLarge,
    /// The queue is full; retry later (429, with `Retry-After`).
    Overloaded,
    /// Not loaded or warmed yet, or draining (503).
    Unready,
    /// A fault inside the server (500).
    Internal,
}

impl ErrorType {
    /// Every type, in documentation order (the OpenAPI test checks the spec lists them all).
    pub const ALL: [ErrorType; 15] = [
        ErrorType::MalformedRequest,
        ErrorType::Validation,
        ErrorType::BudgetInfeasible,
        ErrorType::PayloadTooLarge,
        ErrorType::UnsupportedMediaType,
        ErrorType::Unauthorized,
        ErrorType::Forbidden,
        ErrorType::NotFound,
        ErrorType::MethodNotAllowed,
        ErrorType::RequestTimeout,
        ErrorType::Conflict,
        ErrorType::HeadersTooLarge,
        ErrorType::Overloaded,
        ErrorType::Unready,
        ErrorType::Internal,
    ];

    /// The HTTP status this type is answered with.
    pub fn status(self) -> StatusCode {
        match self {
            ErrorType::MalformedRequest => StatusCode::BAD_REQUEST,
            ErrorType::Validation | ErrorType::BudgetInfeasible => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorType::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorType::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorType::Unauthorized => StatusCode::UNAUTHORIZED,
            ErrorType::Forbidden => StatusCode::FORBIDDEN,
            ErrorType::NotFound => StatusCode::NOT_FOUND,
            ErrorType::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ErrorType::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            ErrorType::Conflict => StatusCode::CONFLICT,
            ErrorType::HeadersTooLarge => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            ErrorType::Overloaded => StatusCode::TOO_MANY_REQUESTS,
            ErrorType::Unready => StatusCode::SERVICE_UNAVAILABLE,
            ErrorType::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The wire name (`validation`, ...).
    pub fn name(self) -> &'static str {
        match self {
            ErrorType::MalformedRequest => "malformed_request",
            ErrorType::Validation => "validation",
            ErrorType::BudgetInfeasible => "budget_infeasible",
            ErrorType::PayloadTooLarge => "payload_too_large",
            ErrorType::UnsupportedMediaType => "unsupported_media_type",
            ErrorType::Unauthorized => "unauthorized",
            ErrorType::Forbidden => "forbidden",
            ErrorType::NotFound => "not_found",
            ErrorType::MethodNotAllowed => "method_not_allowed",
            ErrorType::RequestTimeout => "request_timeout",
            ErrorType::Conflict => "conflict",
            ErrorType::HeadersTooLarge => "headers_too_large",
            ErrorType::Overloaded => "overloaded",
            ErrorType::Unready => "unready",
            ErrorType::Internal => "internal",
        }
    }
}

/// An error response: the envelope plus its status.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[error("{error_type:?}: {error}")]
pub struct ApiError {
    /// Human-readable message.
    pub error: String,
    /// Machine-readable type.
    pub error_type: ErrorType,
}

impl ApiError {
    /// An error of `error_type` saying `message`.
    pub fn new(error_type: ErrorType, message: impl Into<String>) -> Self {
        Self {
            error: message.into(),
            error_type,
        }
    }

    /// The type a bare status from a lower layer (an extractor's rejection, a body limit,
    /// a timeout) is re-sent as.
    pub fn for_status(status: StatusCode) -> Self {
        let error_type = ErrorType::ALL
            .into_iter()
            .find(|t| t.status() == status)
            .unwrap_or(if status.is_server_error() {
                ErrorType::Internal
            } else {
                ErrorType::MalformedRequest
            });
        Self::new(
            error_type,
            status.canonical_reason().unwrap_or("request refused"),
        )
    }

    /// A 422 validation error.
    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(ErrorType::Validation, message)
    }
}

/// Seconds a client should wait after a 429.
const RETRY_AFTER_SECONDS: &str = "1";

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.error_type.status();
        let mut response = (status, axum::Json(&self)).into_response();
        let headers = response.headers_mut();
        match self.error_type {
            ErrorType::Overloaded => {
                headers.insert(
                    header::RETRY_AFTER,
                    HeaderValue::from_static(RETRY_AFTER_SECONDS),
                );
            }
            ErrorType::Unauthorized => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            _ => {}
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_match_serde() {
        for t in ErrorType::ALL {
            let json = serde_json::to_value(t).unwrap();
            assert_eq!(json, serde_json::json!(t.name()));
        }
    }

    #[test]
    fn overload_says_when_to_retry() {
        let response = ApiError::new(ErrorType::Overloaded, "full").into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
    }
}
