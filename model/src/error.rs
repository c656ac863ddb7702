//! Typed errors of the model crate.

use std::path::PathBuf;

/// A `config.json` that cannot be read or run.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Not valid JSON, or a required field is missing.
    #[error("invalid config.json: {0}")]
    Json(#[from] serde_json::Error),
    /// `model_type` names an architecture this crate does not implement.
    #[error(
        "unknown architecture `{0}`: lat supports BERT-family checkpoints (model_type \"bert\")"
    )]
    UnknownArchitecture(String),
    /// A field holds a value this crate cannot run.
    #[error("unsupported {field} = {value}")]
    Unsupported {
        /// HF field name.
        field: &'static str,
        /// The offending value.
        value: String,
    },
}

/// Loading a checkpoint directory failed.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A required file is absent or unreadable.
    #[error("cannot read {path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// `config.json` is invalid or unsupported.
    #[error("{path}: {source}")]
    Config {
        /// The config file.
        path: PathBuf,
        /// Why it was rejected.
        #[source]
        source: ConfigError,
    },
    /// The safetensors file is not a valid safetensors file.
    #[error("{path} is not a valid safetensors file: {reason}")]
    Safetensors {
        /// The weights file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A tensor the architecture needs is not in the weights file.
    #[error("{path} has no tensor `{name}` (HF name), which the configured architecture needs")]
    MissingTensor {
        /// The weights file.
        path: PathBuf,
        /// HF name of the tensor.
        name: String,
    },
    /// A tensor has a different shape than the configuration implies.
    #[error("tensor `{name}` in {path} has shape {found:?}, expected {expected:?}")]
    TensorShape {
        /// The weights file.
        path: PathBuf,
        /// HF name of the tensor.
        name: String,
        /// Shape implied by `config.json`.
        expected: Vec<usize>,
        /// Shape in the file.
        found: Vec<usize>,
    },
    /// A tensor is stored in a dtype this crate does not read.
    #[error("tensor `{name}` in {path} has dtype {dtype}; expected F32, F16 or BF16")]
    TensorDtype {
        /// The weights file.
        path: PathBuf,
        /// HF name of the tensor.
        name: String,
        /// dtype as written in the file header.
        dtype: String,
    },
    /// burn-store failed while applying the tensors.
    #[error("applying weights from {path} failed: {reason}")]
    Apply {
        /// The weights file.
        path: PathBuf,
        /// burn-store's message.
        reason: String,
    },
    /// `tokenizer.json` could not be loaded or configured.
    #[error("tokenizer {path}: {reason}")]
    Tokenizer {
        /// The tokenizer file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
}

/// A length configuration that cannot be applied.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LengthConfigError {
    /// A keep ratio outside (0, 1].
    #[error("keep ratio {ratio} of layer {layer} is outside (0, 1]")]
    RatioOutOfRange {
        /// 0-based layer.
        layer: usize,
        /// The ratio.
        ratio: f64,
    },
    /// Ratios must never increase from one layer to the next.
    #[error("keep ratios increase at layer {layer}: {previous} -> {ratio}")]
    Increasing {
        /// 0-based layer where the ratio grows.
        layer: usize,
        /// Ratio of the layer before.
        previous: f64,
        /// Ratio of this layer.
        ratio: f64,
    },
    /// A skipped layer index beyond the model's depth.
    #[error("skipped layer {layer} does not exist in a {num_layers}-layer model")]
    SkippedOutOfRange {
        /// 0-based layer.
        layer: usize,
        /// Model depth.
        num_layers: usize,
    },
    /// Zero layers.
    #[error("a length configuration needs at least one layer")]
    Empty,
}

/// Tokenisation of an input failed.
#[derive(Debug, thiserror::Error)]
#[error("tokenisation failed: {0}")]
pub struct TokenizeError(pub String);

/// A dataset file that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file is absent or unreadable.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file has no header row.
    #[error("{path} is empty (a header row is required)")]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// A configured column is not in the header.
    #[error("{path}: no column `{column}` in header {header:?}")]
    MissingColumn {
        /// The file.
        path: PathBuf,
        /// The column asked for.
        column: String,
        /// The header found.
        header: Vec<String>,
    },
    /// A line does not fit the format.
    #[error("{path}:{line}: {reason}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// A JSON record does not fit the format.
    #[error("{path}: {record}: {reason}")]
    Record {
        /// The file.
        path: PathBuf,
        /// Which record (e.g. `data[3].paragraphs[1].qas[0]` or a question id).
        record: String,
        /// What is wrong.
        reason: String,
    },
    /// A label outside the given label set.
    #[error("{path}:{line}: label `{label}` is not in the label set")]
    UnknownLabel {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The label found.
        label: String,
    },
}

/// Errors of `lat-train`: writing checkpoints, resuming, reading data, evaluating.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A JSON file could not be parsed or written.
    #[error("{path}: {reason}")]
    Json {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// burn could not write weights or optimizer state.
    #[error("cannot save {path}: {reason}")]
    Save {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// A saved training state does not fit this run.
    #[error("cannot resume from {path}: {reason}")]
    Resume {
        /// The state directory.
        path: PathBuf,
        /// What does not fit.
        reason: String,
    },
    /// The base model or a checkpoint did not load.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// A dataset did not read.
    #[error(transparent)]
    Data(#[from] DataError),
    /// The tokenizer refused an input.
    #[error(transparent)]
    Tokenize(#[from] TokenizeError),
    /// The run has nothing to train or evaluate on.
    #[error("{0}")]
    Invalid(String),
}
