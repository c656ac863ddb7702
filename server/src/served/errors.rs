//! Why a model could not be loaded or a frontier not swapped, and what a reload did.

use std::path::PathBuf;

use lat_frontier::FrontierError;

use crate::engine::EngineError;

/// Why a model could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The model directory.
    #[error("model `{model}`: {source}")]
    Load {
        /// Model name.
        model: String,
        /// Cause.
        source: lat_model::LoadError,
    },
    /// `lat.json` missing or unreadable, or its task unknown.
    #[error("model `{model}`: {reason}")]
    Metadata {
        /// Model name.
        model: String,
        /// Cause.
        reason: String,
    },
    /// The frontier file.
    #[error("model `{model}`: frontier {path}: {source}")]
    Frontier {
        /// Model name.
        model: String,
        /// File.
        path: PathBuf,
        /// Cause.
        source: FrontierError,
    },
    /// The frontier has more points than `--max-frontier-points`.
    #[error(
        "model `{model}`: frontier {path}: {points} points; at most {max} (--max-frontier-points)"
    )]
    FrontierPoints {
        /// Model name.
        model: String,
        /// File.
        path: PathBuf,
        /// Points in the file.
        points: usize,
        /// The cap.
        max: usize,
    },
    /// Warm-up failed.
    #[error("model `{model}`: warm-up failed: {source}")]
    Warmup {
        /// Model name.
        model: String,
        /// Cause.
        source: ReloadError,
    },
}

/// Why a frontier swap was refused (the old frontier keeps serving).
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    /// The candidate is not a valid frontier for this model.
    #[error("{0}")]
    Invalid(#[from] FrontierError),
    /// It has more points than `--max-frontier-points`.
    #[error("{points} points; at most {max} (--max-frontier-points)")]
    TooManyPoints {
        /// Points in the candidate.
        points: usize,
        /// The cap.
        max: usize,
    },
    /// An admin PUT could not write the frontier file, so it does not serve.
    #[error("writing {path}: {reason}")]
    Persist {
        /// File.
        path: PathBuf,
        /// Cause.
        reason: String,
    },
    /// It could not be read.
    #[error("reading {path}: {reason}")]
    Io {
        /// File.
        path: PathBuf,
        /// Cause.
        reason: String,
    },
    /// Timing its points failed.
    #[error("calibrating the new points: {0}")]
    Calibration(#[from] EngineError),
    /// Its points could not be fitted to latency lines.
    #[error("fitting latency lines: {0}")]
    Latency(#[from] lat_frontier::LatencyError),
}

/// What a reload did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReloadOutcome {
    /// A new frontier serves.
    Swapped,
    /// Same bytes as the serving one; nothing changed.
    Unchanged,
}
