//! The engine: a thread per model, a queue grouped by configuration, batches under a token
//! budget.

mod calibration;
mod job;
mod model;
mod queue;
mod worker;

pub use job::{Calibration, EngineError, Job, JobOutput, Logits};
pub use model::{RowOutput, TaskModel};
pub use queue::{BatchLimits, Queue, Queued, Taken};
pub use worker::{Engine, EngineConfig};
