//! One input's trip through the engine: what goes in, what comes back.

use std::time::{Duration, Instant};

use lat_frontier::{Gene, LatencySample};
use lat_model::{Encoded, LengthConfig};
use tokio::sync::oneshot;

use crate::engine::queue::Queued;

/// The model's raw output for one input.
#[derive(Debug, Clone, PartialEq)]
pub enum Logits {
    /// Classification logits, one per label.
    Classes(Vec<f32>),
    /// QA start and end logits, one per input token.
    Spans {
        /// Start logits.
        start: Vec<f32>,
        /// End logits.
        end: Vec<f32>,
    },
}

/// What the engine returns for an input.
#[derive(Debug, Clone, PartialEq)]
pub struct JobOutput {
    /// The logits.
    pub logits: Logits,
    /// Real tokens kept after each layer.
    pub kept_tokens: Vec<usize>,
    /// Time from submission to the start of its forward pass.
    pub queue: Duration,
    /// Time of its forward pass.
    pub compute: Duration,
    /// Inputs in that pass.
    pub batch_size: usize,
}

/// Why the engine could not serve an input.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EngineError {
    /// The forward pass panicked (the engine survives; the batch fails).
    #[error("the forward pass failed: {0}")]
    Forward(String),
    /// The engine is shutting down.
    #[error("the engine is stopping")]
    Stopped,
}

/// An input waiting for the engine.
#[derive(Debug)]
pub struct Job {
    /// The tokenised input.
    pub encoded: Encoded,
    /// The chosen configuration (the grouping key).
    pub gene: Gene,
    /// The same configuration as the model takes it.
    pub config: LengthConfig,
    /// Predicted batch-1 compute, milliseconds.
    pub predicted_ms: f64,
    /// Its fixed (per-pass) part.
    pub fixed_ms: f64,
    /// When it was submitted.
    pub submitted: Instant,
    /// Where the answer goes; closed when the client went away.
    pub reply: oneshot::Sender<Result<JobOutput, EngineError>>,
}

impl Queued for Job {
    fn gene(&self) -> &Gene {
        &self.gene
    }
    fn tokens(&self) -> usize {
        self.encoded.input_ids.len()
    }
    fn is_cancelled(&self) -> bool {
        self.reply.is_closed()
    }
    fn predicted_ms(&self) -> f64 {
        self.predicted_ms
    }
    fn fixed_ms(&self) -> f64 {
        self.fixed_ms
    }
}

/// Timing work for the latency model: batch-1 passes of each configuration at each length.
#[derive(Debug)]
pub struct Calibration {
    /// Configurations to time.
    pub configs: Vec<(Gene, LengthConfig)>,
    /// A long input; each length is its prefix (last token kept as the separator).
    pub template: Encoded,
    /// Input lengths to time.
    pub tokens: Vec<usize>,
    /// Timed repeats per (configuration, length), after one untimed warm-up pass.
    pub repeats: usize,
    /// Where the samples go.
    pub reply: oneshot::Sender<Result<Vec<LatencySample>, EngineError>>,
}
