//! Writing a trained model in the HF layout the loader reads: `model.safetensors` with HF
//! tensor names, `config.json`, `tokenizer.json`, plus `lat.json` (task, labels, max length,
//! how it was trained).

use std::path::{Path, PathBuf};

use burn::store::{
    BurnToPyTorchAdapter, FloatCastAdapter, ModuleAdapter, ModuleSnapshot, SafetensorsStore,
};
use burn::tensor::DType;
use serde::{Deserialize, Serialize};

use crate::checkpoint::CheckpointFiles;
use crate::error::TrainError;

/// burn module paths -> HF names: the inverse of the loader's table, applied in order.
const BURN_TO_HF: [(&str, &str); 7] = [
    (r"embeddings\.layer_norm\.", "embeddings.LayerNorm."),
    (r"attention\.(query|key|value)\.", "attention.self.$1."),
    (r"attention\.output\.", "attention.output.dense."),
    (r"attention\.norm\.", "attention.output.LayerNorm."),
    (r"intermediate\.", "intermediate.dense."),
    (r"layer\.(\d+)\.output\.", "layer.$1.output.dense."),
    (r"output_norm\.", "output.LayerNorm."),
];

/// File name of lat's own metadata beside the HF files.
pub const LAT_JSON: &str = "lat.json";

/// What lat needs to know about a model directory besides the HF files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LatMetadata {
    /// `classification` or `question-answering`.
    pub task: String,
    /// Class names in label-index order (empty for QA).
    pub labels: Vec<String>,
    /// Longest input, in tokens, the model was trained for.
    pub max_length: usize,
    /// The run's configuration and its selection metric.
    pub training: serde_json::Value,
}

/// The float precision weights are stored in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WeightPrecision {
    /// f32, what training checkpoints and resume need (bit-exact).
    #[default]
    F32,
    /// IEEE half precision: half the size, for shipping a model; cast back to f32 on load.
    F16,
}

impl WeightPrecision {
    fn dtype(self) -> DType {
        match self {
            Self::F32 => DType::F32,
            Self::F16 => DType::F16,
        }
    }
}

/// Writes `model`'s weights with HF names (Linear weights transposed to `[out, in]`, LayerNorm
/// `weight`/`bias`) in `precision`.
pub fn save_weights<M: ModuleSnapshot>(
    model: &M,
    path: &Path,
    precision: WeightPrecision,
) -> Result<(), TrainError> {
    let adapter = BurnToPyTorchAdapter.chain(FloatCastAdapter::to(precision.dtype()));
    let mut store = SafetensorsStore::from_file(path)
        .with_to_adapter(adapter)
        .overwrite(true);
    for (from, to) in BURN_TO_HF {
        store = store.with_key_remapping(from, to);
    }
    model.save_into(&mut store).map_err(|e| TrainError::Save {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

/// Everything besides the weights that makes a model directory.
#[derive(Debug, Clone)]
pub struct ModelDirFiles<'a> {
    /// The base model directory: its `config.json` and `tokenizer.json` are carried over.
    pub base: &'a Path,
    /// HF `architectures` entry (`BertForSequenceClassification`, ...).
    pub architecture: &'a str,
    /// lat's metadata.
    pub metadata: &'a LatMetadata,
}

/// Writes a complete model directory (weights, config with labels, tokenizer, `lat.json`).
pub fn write_model_dir<M: ModuleSnapshot>(
    model: &M,
    dir: &Path,
    files: &ModelDirFiles<'_>,
) -> Result<(), TrainError> {
    std::fs::create_dir_all(dir).map_err(|source| io(dir, source))?;
    let out = CheckpointFiles::new(dir);
    let base = CheckpointFiles::new(files.base);
    save_weights(model, &out.weights(), WeightPrecision::F32)?;

    let mut config: serde_json::Value = read_json(&base.config())?;
    if let Some(object) = config.as_object_mut() {
        object.insert(
            "architectures".into(),
            serde_json::json!([files.architecture]),
        );
    }
    set_labels(&mut config, &files.metadata.labels);
    write_json(&out.config(), &config)?;
    std::fs::copy(base.tokenizer(), out.tokenizer()).map_err(|s| io(&base.tokenizer(), s))?;
    write_json(&dir.join(LAT_JSON), files.metadata)
}

/// Writes HF `id2label`/`label2id` into a `config.json` value (nothing for no labels).
pub fn set_labels(config: &mut serde_json::Value, labels: &[String]) {
    let Some(object) = config.as_object_mut() else {
        return;
    };
    if labels.is_empty() {
        return;
    }
    let id2label: serde_json::Map<String, serde_json::Value> = labels
        .iter()
        .enumerate()
        .map(|(i, l)| (i.to_string(), serde_json::json!(l)))
        .collect();
    let label2id: serde_json::Map<String, serde_json::Value> = labels
        .iter()
        .enumerate()
        .map(|(i, l)| (l.clone(), serde_json::json!(i)))
        .collect();
    object.insert("id2label".into(), id2label.into());
    object.insert("label2id".into(), label2id.into());
}

/// Reads a JSON file.
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, TrainError> {
    let text = std::fs::read_to_string(path).map_err(|source| io(path, source))?;
    serde_json::from_str(&text).map_err(|e| TrainError::Json {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

/// Writes a JSON file (pretty, newline-terminated) through a temporary file, so a crash
/// never leaves half a file behind.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), TrainError> {
    let text = serde_json::to_string_pretty(value).map_err(|e| TrainError::Json {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, text + "\n").map_err(|source| io(&tmp, source))?;
    std::fs::rename(&tmp, path).map_err(|source| io(path, source))
}

pub(crate) fn io(path: &Path, source: std::io::Error) -> TrainError {
    TrainError::Io {
        path: PathBuf::from(path),
        source,
    }
}
