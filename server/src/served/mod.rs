//! A served model: what it is (`spec`), how it loads (`model`), warms up and calibrates
//! (`calibrate`), swaps frontiers (`reload`), and how each can fail (`errors`).

mod calibrate;
mod errors;
mod model;
mod reload;
mod spec;

pub use errors::{ReloadError, ReloadOutcome, ServeError};
pub use model::ServedModel;
pub use spec::{ModelSpec, ServeOptions, ServedTask};
