//! # lat-server
//!
//! Budget-aware HTTP serving of Length-Adaptive Transformers: each request carries a FLOPs
//! or latency budget and is served at the most accurate frontier point that fits. One
//! engine thread per model batches inputs per configuration; frontiers hot-swap behind an
//! atomic pointer after validation; Prometheus metrics track what every request spent.

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod api;
pub mod engine;
mod envelope;
mod error;
mod extract;
mod frontier_slot;
mod infer;
mod limits;
mod listen;
mod live_latency;
mod metrics;
mod persist;
mod probe;
mod router;
mod routes;
mod run;
mod served;
mod signals;
mod state;
mod watch;

pub use error::{ApiError, ErrorType};
pub use extract::parse;
pub use frontier_slot::{FrontierSlot, Snapshot, sha256_hex};
pub use listen::{ConnectionConfig, serve};
pub use metrics::{BUDGET_KINDS, Metrics, REJECTION_REASONS, RELOAD_RESULTS};
pub use probe::http_status;
pub use router::{OPENAPI_YAML, ROUTES, metrics_router, router};
pub use run::{RunError, ServerConfig, run};
pub use served::{
    ModelSpec, ReloadError, ReloadOutcome, ServeError, ServeOptions, ServedModel, ServedTask,
};
pub use state::{AppState, HttpConfig};
pub use watch::{FileWatch, watch_frontiers};
