//! Request and response bodies of the HTTP API (the shapes `openapi.yaml` documents).

mod budget;
mod classify;
mod models;
mod qa;
mod spent;

pub use budget::BudgetRequest;
pub use classify::{ClassifyInput, ClassifyRequest, ClassifyResponse, ClassifyResult, LabelScore};
pub use models::{FrontierSummary, ModelInfo, ModelsResponse, ReloadResponse};
pub use qa::{QaRequest, QaResponse};
pub use spent::Spent;
