//! Typed errors of the frontier crate.

use std::path::PathBuf;

use lat_model::LengthConfigError;
use thiserror::Error;

/// A gene that is not a valid point of its search space.
#[derive(Debug, Error, PartialEq)]
pub enum GeneError {
    /// Wrong number of layers.
    #[error("the gene has {found} layers, the model {expected}")]
    Layers {
        /// Model depth.
        expected: usize,
        /// Gene depth.
        found: usize,
    },
    /// A length outside 1..=T.
    #[error(
        "layer {layer} keeps {length} of {max_length} tokens; lengths must be in 1..={max_length}"
    )]
    Length {
        /// 0-based layer.
        layer: usize,
        /// Offending length.
        length: usize,
        /// T.
        max_length: usize,
    },
    /// A layer keeps more tokens than the layer before.
    #[error("layer {layer} keeps more tokens than layer {}", layer - 1)]
    Increasing {
        /// 0-based layer.
        layer: usize,
    },
    /// Skipped layers not ascending, out of range, or all of them.
    #[error("skipped layers {skipped:?} must be ascending, in range and leave a layer")]
    Skipped {
        /// Offending set.
        skipped: Vec<usize>,
    },
    /// The configuration the gene maps to is invalid.
    #[error(transparent)]
    Config(#[from] LengthConfigError),
}

/// Why a frontier file was refused.
#[derive(Debug, Error)]
pub enum FrontierError {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// File.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// Not JSON, or not the frontier schema.
    #[error("not a frontier file: {0}")]
    Json(#[from] serde_json::Error),
    /// A schema version this build does not read.
    #[error("frontier schema version {found} is not supported (this build reads {supported})")]
    SchemaVersion {
        /// In the file.
        found: u32,
        /// Readable.
        supported: u32,
    },
    /// No points.
    #[error("the frontier has no points")]
    Empty,
    /// A point's gene is invalid.
    #[error("point {point}: {source}")]
    Gene {
        /// Index of the point.
        point: usize,
        /// What is wrong.
        source: GeneError,
    },
    /// A number that must be finite (and non-negative where it is a cost) is not.
    #[error("point {point}: {field} must be a finite, non-negative number")]
    Number {
        /// Index of the point.
        point: usize,
        /// Field name.
        field: &'static str,
    },
    /// Points not in ascending cost order.
    #[error(
        "point {point} is cheaper than the point before it: points must be sorted by mean_flops"
    )]
    NotSorted {
        /// Index of the point.
        point: usize,
    },
    /// A point is no better than a cheaper one.
    #[error(
        "point {point} does not score above the cheaper point before it: a frontier holds non-dominated points only"
    )]
    Dominated {
        /// Index of the point.
        point: usize,
    },
    /// Written for other weights.
    #[error("the frontier was searched on weights {found}, the loaded model is {expected}")]
    ModelMismatch {
        /// Hash of the loaded model.
        expected: String,
        /// Hash in the file.
        found: String,
    },
    /// Written for another architecture or task.
    #[error("the frontier's {field} is {found}, the loaded model's is {expected}")]
    ArchitectureMismatch {
        /// Which figure differs.
        field: &'static str,
        /// Loaded model.
        expected: String,
        /// In the file.
        found: String,
    },
}

/// A budget that cannot be resolved.
#[derive(Debug, Clone, Error, PartialEq)]
pub enum BudgetError {
    /// Negative, zero-length or non-finite budgets.
    #[error("{kind} budget must be a finite positive number, got {value}")]
    Invalid {
        /// `flops`, `flops_ratio` or `latency_ms`.
        kind: &'static str,
        /// Given value.
        value: f64,
    },
    /// An input of no tokens.
    #[error("an input needs at least one token")]
    EmptyInput,
    /// A latency budget without a calibrated latency model.
    #[error("no latency calibration is loaded for this device")]
    Uncalibrated,
}

/// A latency calibration that cannot be fitted.
#[derive(Debug, Error, PartialEq)]
pub enum LatencyError {
    /// Too few measurements to fit a line.
    #[error("{what} needs measurements at two or more input lengths")]
    TooFewSamples {
        /// The configuration or `global`.
        what: String,
    },
    /// A measurement that is not a positive finite time.
    #[error("measurement {index} has latency {ms} ms")]
    BadSample {
        /// Index.
        index: usize,
        /// Value.
        ms: f64,
    },
}
