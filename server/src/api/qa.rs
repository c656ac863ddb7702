//! `POST /v1/qa`.

use serde::{Deserialize, Serialize};

use crate::api::budget::BudgetRequest;
use crate::api::spent::Spent;

/// The request body.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QaRequest {
    /// The question (cut to the model's maximum question length).
    pub question: String,
    /// The text to find the answer in; long contexts are read in doc-stride windows.
    pub context: String,
    /// Served model; optional when the server serves one QA model.
    #[serde(default)]
    pub model: Option<String>,
    /// What the request may spend over all its windows.
    #[serde(default)]
    pub budget: Option<BudgetRequest>,
    /// Refuse (422) instead of serving the cheapest point when nothing fits.
    #[serde(default)]
    pub strict: bool,
}

/// The response body.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QaResponse {
    /// The model that answered.
    pub model: String,
    /// The answer text (`null` when no window holds a valid span).
    pub answer: Option<String>,
    /// Character offset of the answer's start in `context`.
    pub start: Option<usize>,
    /// Character offset one past the answer's end.
    pub end: Option<usize>,
    /// Start logit + end logit of the span.
    pub score: Option<f64>,
    /// Context windows read.
    pub windows: usize,
    /// What it cost.
    pub spent: Spent,
}
