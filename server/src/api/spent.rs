//! What serving one input cost, reported in every response.

use serde::Serialize;

/// The point chosen for an input and what it spent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Spent {
    /// Index of the frontier point (ascending FLOPs).
    pub point: usize,
    /// The point's gene (`lengths;skipped`, lengths over the frontier's max length).
    pub gene: String,
    /// The point's score on the data the search selected it on (percent, the frontier's
    /// metric).
    pub expected_score: f64,
    /// The point's score on held-out data neither training nor the search saw, when the
    /// frontier file carries it (`lat-search eval --write-frontier`): the figure to trust.
    pub held_out_score: Option<f64>,
    /// FLOPs spent on this input (QA: summed over its windows).
    pub flops: u64,
    /// FLOPs the full model would have spent.
    pub full_flops: u64,
    /// `flops / full_flops`.
    pub flops_ratio: f64,
    /// Real tokens of the input (QA: of its longest window).
    pub input_tokens: usize,
    /// Tokens kept after each layer (QA: for the longest window).
    pub kept_tokens: Vec<usize>,
    /// Whether the budget was met (`null` when the request carried none).
    pub budget_met: Option<bool>,
    /// Which budget applied: `flops`, `flops_ratio`, `latency_ms` or `none`.
    pub budget_kind: &'static str,
    /// Time waiting for the engine, milliseconds.
    pub queue_ms: f64,
    /// Time in the forward pass that served it, milliseconds.
    pub compute_ms: f64,
    /// Inputs in that forward pass.
    pub batch_size: usize,
    /// Version of the frontier the request was admitted with.
    pub frontier_version: String,
}
