//! A JSON body extractor whose every rejection is the error envelope: 415 for a wrong
//! content type, 413 past the payload limit, 400 for broken JSON, 422 for a wrong shape.

use axum::extract::{FromRequest, Request};
use axum::http::header;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, ErrorType};

/// `Json<T>` with enveloped rejections.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
        if !is_json {
            return Err(ApiError::new(
                ErrorType::UnsupportedMediaType,
                "expected `Content-Type: application/json`",
            ));
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::new(ErrorType::PayloadTooLarge, "the request body is too large")
                } else {
                    ApiError::new(ErrorType::MalformedRequest, rejection.body_text())
                }
            })?;
        parse(&bytes).map(JsonBody)
    }
}

/// Parses a JSON body: syntax errors are malformed (400), shape errors validation (422).
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| {
        let kind = if e.is_data() {
            ErrorType::Validation
        } else {
            ErrorType::MalformedRequest
        };
        ApiError::new(kind, format!("invalid request body: {e}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Body {
        n: u32,
    }

    #[test]
    fn syntax_is_400_shape_is_422() {
        let kind = |b: &str| parse::<Body>(b.as_bytes()).unwrap_err().error_type;
        assert_eq!(kind("{"), ErrorType::MalformedRequest);
        assert_eq!(kind("not json"), ErrorType::MalformedRequest);
        assert_eq!(kind(r#"{"n": "x"}"#), ErrorType::Validation);
        assert_eq!(kind(r#"{"m": 1}"#), ErrorType::Validation);
        assert_eq!(parse::<Body>(br#"{"n": 3}"#).unwrap().n, 3);
    }
}
