//! Exporting a trained model directory for shipping: the same files (`config.json`,
//! `tokenizer.json`, `lat.json`) with the weights re-encoded (half precision for the
//! committed default model) and optionally readable class names. The weights go through
//! the loader, so a checkpoint that does not load is never exported.

use std::path::Path;

use burn::tensor::Device;

use crate::checkpoint::CheckpointFiles;
use crate::classification::BertForSequenceClassification;
use crate::error::TrainError;
use crate::question_answering::BertForQuestionAnswering;
use crate::train::save::{
    LAT_JSON, LatMetadata, WeightPrecision, io, read_json, save_weights, set_labels, write_json,
};

/// What to export where.
#[derive(Debug, Clone)]
pub struct ExportConfig<'a> {
    /// A model directory written by training (`checkpoint-best`).
    pub from: &'a Path,
    /// The directory to write (created; its files are replaced).
    pub to: &'a Path,
    /// Precision of the written weights.
    pub precision: WeightPrecision,
    /// New class names, in label-index order (e.g. `negative`, `positive` for SST-2's `0`,
    /// `1`); `None` keeps the trained ones. Their count must match.
    pub labels: Option<&'a [String]>,
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportReport {
    /// The model's task, from `lat.json`.
    pub task: String,
    /// Size of the written `model.safetensors`, in bytes.
    pub weights_bytes: u64,
}

/// Copies a model directory, re-encoding its weights in `config.precision`.
pub fn export_model_dir(
    config: &ExportConfig<'_>,
    device: &Device,
) -> Result<ExportReport, TrainError> {
    let mut meta: LatMetadata = read_json(&config.from.join(LAT_JSON))?;
    if let Some(labels) = config.labels {
        if labels.len() != meta.labels.len() {
            return Err(TrainError::Invalid(format!(
                "{} labels given for a model with {}",
                labels.len(),
                meta.labels.len()
            )));
        }
        meta.labels = labels.to_vec();
    }
    let (from, to) = (
        CheckpointFiles::new(config.from),
        CheckpointFiles::new(config.to),
    );
    std::fs::create_dir_all(config.to).map_err(|source| io(config.to, source))?;
    match meta.task.as_str() {
        "classification" => {
            let loaded =
                BertForSequenceClassification::load(config.from, meta.labels.len(), device)?;
            save_weights(&loaded.model, &to.weights(), config.precision)?;
        }
        "question-answering" => {
            let loaded = BertForQuestionAnswering::load(config.from, device)?;
            save_weights(&loaded.model, &to.weights(), config.precision)?;
        }
        other => {
            return Err(TrainError::Invalid(format!(
                "{}: unknown task `{other}` in {LAT_JSON}",
                config.from.display()
            )));
        }
    }
    std::fs::copy(from.tokenizer(), to.tokenizer()).map_err(|s| io(&from.tokenizer(), s))?;
    let mut hf_config: serde_json::Value = read_json(&from.config())?;
    set_labels(&mut hf_config, &meta.labels);
    write_json(&to.config(), &hf_config)?;
    write_json(&config.to.join(LAT_JSON), &meta)?;
    let weights_bytes = std::fs::metadata(to.weights())
        .map_err(|source| io(&to.weights(), source))?
        .len();
    Ok(ExportReport {
        task: meta.task,
        weights_bytes,
    })
}
