//! A JSON body extractor whose every rejection is the error envelope: 415 for a wrong
//! content type, 413 past the payload limit, 408 past the body timeout, 400 for broken
//! JSON, 422 for a wrong shape.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Request};
use axum::http::header;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde::de::DeserializeOwned;

use crate::error::{ApiError, ErrorType};
use crate::state::AppState;

/// `Json<T>` with enveloped rejections.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned> FromRequest<Arc<AppState>> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &Arc<AppState>) -> Result<Self, Self::Rejection> {
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
        let bytes = read_body(req.into_body(), state).await?;
        parse(&bytes).map(JsonBody)
    }
}

fn too_large() -> ApiError {
    ApiError::new(ErrorType::PayloadTooLarge, "the request body is too large")
}

/// Reads a whole body within the payload limit and the body timeout (a client that
/// trickles its body holds a connection and a task; it gets 408 instead).
pub async fn read_body(body: Body, state: &AppState) -> Result<Bytes, ApiError> {
    let limit = state.http.payload_limit;
    let timeout = state.http.body_timeout;
    let collected = tokio::time::timeout(timeout, Limited::new(body, limit).collect())
        .await
        .map_err(|_| {
            ApiError::new(
                ErrorType::RequestTimeout,
                format!(
                    "the request body did not arrive within {} s (--body-timeout-s)",
                    timeout.as_secs_f64()
                ),
            )
        })?;
    match collected {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => Err(too_large()),
        Err(e) => Err(ApiError::new(
            ErrorType::MalformedRequest,
            format!("reading the request body: {e}"),
        )),
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
