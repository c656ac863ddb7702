//! Loading HF BERT-family checkpoints (`config.json` + `model.safetensors`) into the burn
//! modules of this crate.
//!
//! HF -> burn names (PyTorchToBurnAdapter also transposes Linear weights and renames
//! LayerNorm `weight`/`bias` to `gamma`/`beta`):
//!
//! | HF tensor prefix                         | burn module path                     |
//! |------------------------------------------|--------------------------------------|
//! | `embeddings.{word,position,token_type}_embeddings` | same                       |
//! | `embeddings.LayerNorm`                   | `embeddings.layer_norm`              |
//! | `encoder.layer.{i}.attention.self.query` | `encoder.layer.{i}.attention.query`  |
//! | `encoder.layer.{i}.attention.self.key`   | `encoder.layer.{i}.attention.key`    |
//! | `encoder.layer.{i}.attention.self.value` | `encoder.layer.{i}.attention.value`  |
//! | `encoder.layer.{i}.attention.output.dense` | `encoder.layer.{i}.attention.output` |
//! | `encoder.layer.{i}.attention.output.LayerNorm` | `encoder.layer.{i}.attention.norm` |
//! | `encoder.layer.{i}.intermediate.dense`   | `encoder.layer.{i}.intermediate`     |
//! | `encoder.layer.{i}.output.dense`         | `encoder.layer.{i}.output`           |
//! | `encoder.layer.{i}.output.LayerNorm`     | `encoder.layer.{i}.output_norm`      |
//! | `pooler.dense`, `classifier`, `qa_outputs` | same                               |
//!
//! Task checkpoints prefix the encoder with `bert.`; bare encoders do not. Both load into
//! every model type. Task heads load when present and stay freshly initialised otherwise.
//! Half-precision files (F16, BF16) are cast to f32 as they load: the model computes in f32
//! whatever precision its weights were stored in.

use std::path::Path;

use burn::store::{
    FloatCastAdapter, ModuleAdapter, ModuleSnapshot, PyTorchToBurnAdapter, SafetensorsStore,
};
use burn::tensor::{DType, Device};

use crate::bert::BertModel;
use crate::checkpoint::{CheckpointFiles, SafetensorsHeader};
use crate::classification::BertForSequenceClassification;
use crate::config::BertConfig;
use crate::error::LoadError;
use crate::question_answering::BertForQuestionAnswering;

/// The name table above, as (HF regex, burn replacement), applied in order.
const HF_TO_BURN: [(&str, &str); 7] = [
    (r"embeddings\.LayerNorm\.", "embeddings.layer_norm."),
    (r"attention\.self\.(query|key|value)\.", "attention.$1."),
    (r"attention\.output\.dense\.", "attention.output."),
    (r"attention\.output\.LayerNorm\.", "attention.norm."),
    (r"intermediate\.dense\.", "intermediate."),
    (r"layer\.(\d+)\.output\.dense\.", "layer.$1.output."),
    (
        r"layer\.(\d+)\.output\.LayerNorm\.",
        "layer.$1.output_norm.",
    ),
];

/// Prefix of the encoder inside task checkpoints.
const TASK_PREFIX: &str = "bert.";

/// A loaded model and what loading did.
#[derive(Debug)]
pub struct Loaded<M> {
    /// The model, on the requested device.
    pub model: M,
    /// The checkpoint's configuration.
    pub config: BertConfig,
    /// What was initialised or ignored.
    pub report: LoadReport,
}

/// What loading did besides applying tensors.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LoadReport {
    /// HF names of head tensors absent from the file, freshly initialised.
    pub initialised: Vec<String>,
    /// Stored tensors the model does not use (e.g. `embeddings.position_ids`).
    pub unused: Vec<String>,
}

impl BertModel {
    /// Loads the encoder (and the pooler, when the checkpoint has one).
    pub fn load(dir: &Path, device: &Device) -> Result<Loaded<Self>, LoadError> {
        let files = CheckpointFiles::new(dir);
        let config = files.read_config()?;
        let header = SafetensorsHeader::read(&files.weights())?;
        let prefix = encoder_prefix(&header);
        let with_pooler = header.contains(&format!("{prefix}pooler.dense.weight"));
        let mut model = BertModel::init(&config, with_pooler, device);
        let mut report = check_encoder(&header, &config, prefix, with_pooler)?;
        report.unused = apply(&mut model, &files.weights(), prefix_remap(&header, false))?;
        Ok(Loaded {
            model,
            config,
            report,
        })
    }
}

impl BertForSequenceClassification {
    /// Loads a classifier; `classifier` (and `pooler`) are initialised when absent.
    pub fn load(dir: &Path, num_labels: usize, device: &Device) -> Result<Loaded<Self>, LoadError> {
        let files = CheckpointFiles::new(dir);
        let config = files.read_config()?;
        let header = SafetensorsHeader::read(&files.weights())?;
        let mut report = check_encoder(&header, &config, encoder_prefix(&header), true)?;
        let d = config.hidden_size;
        check_head(&header, "classifier", &[num_labels, d], &mut report)?;
        let mut model = Self::init(&config, num_labels, device);
        report.unused = apply(&mut model, &files.weights(), prefix_remap(&header, true))?;
        Ok(Loaded {
            model,
            config,
            report,
        })
    }
}

impl BertForQuestionAnswering {
    /// Loads an extractive-QA model; `qa_outputs` is initialised when absent.
    pub fn load(dir: &Path, device: &Device) -> Result<Loaded<Self>, LoadError> {
        let files = CheckpointFiles::new(dir);
        let config = files.read_config()?;
        let header = SafetensorsHeader::read(&files.weights())?;
        let mut report = check_encoder(&header, &config, encoder_prefix(&header), false)?;
        check_head(&header, "qa_outputs", &[2, config.hidden_size], &mut report)?;
        let mut model = Self::init(&config, device);
        report.unused = apply(&mut model, &files.weights(), prefix_remap(&header, true))?;
        Ok(Loaded {
            model,
            config,
            report,
        })
    }
}

fn encoder_prefix(header: &SafetensorsHeader) -> &'static str {
    if header.contains("bert.embeddings.word_embeddings.weight") {
        TASK_PREFIX
    } else {
        ""
    }
}

/// The remap between the file's encoder prefix and the model's (`bert.` in task models).
fn prefix_remap(
    header: &SafetensorsHeader,
    task_model: bool,
) -> Option<(&'static str, &'static str)> {
    match (encoder_prefix(header).is_empty(), task_model) {
        (true, true) => Some((r"^(embeddings|encoder|pooler)\.", "bert.$1.")),
        (false, false) => Some((r"^bert\.", "")),
        _ => None,
    }
}

/// Checks every encoder tensor (and the pooler's, when wanted) against `config`.
fn check_encoder(
    header: &SafetensorsHeader,
    config: &BertConfig,
    prefix: &str,
    with_pooler: bool,
) -> Result<LoadReport, LoadError> {
    let (d, f) = (config.hidden_size, config.intermediate_size);
    let mut expected: Vec<(String, Vec<usize>)> = vec![
        (
            "embeddings.word_embeddings.weight".into(),
            vec![config.vocab_size, d],
        ),
        (
            "embeddings.position_embeddings.weight".into(),
            vec![config.max_position_embeddings, d],
        ),
        (
            "embeddings.token_type_embeddings.weight".into(),
            vec![config.type_vocab_size, d],
        ),
    ];
    let mut linear = |name: String, out: usize, inp: usize| {
        expected.push((format!("{name}.weight"), vec![out, inp]));
        expected.push((format!("{name}.bias"), vec![out]));
    };
    for i in 0..config.num_hidden_layers {
        let layer = format!("encoder.layer.{i}");
        for part in [
            "attention.self.query",
            "attention.self.key",
            "attention.self.value",
        ] {
            linear(format!("{layer}.{part}"), d, d);
        }
        linear(format!("{layer}.attention.output.dense"), d, d);
        linear(format!("{layer}.intermediate.dense"), f, d);
        linear(format!("{layer}.output.dense"), d, f);
    }
    let norms = (0..config.num_hidden_layers).flat_map(|i| {
        [
            format!("encoder.layer.{i}.attention.output.LayerNorm"),
            format!("encoder.layer.{i}.output.LayerNorm"),
        ]
    });
    for norm in std::iter::once("embeddings.LayerNorm".to_string()).chain(norms) {
        expected.push((format!("{norm}.weight"), vec![d]));
        expected.push((format!("{norm}.bias"), vec![d]));
    }
    for (name, shape) in &expected {
        header.check(&format!("{prefix}{name}"), shape, true)?;
    }
    let mut report = LoadReport::default();
    if with_pooler {
        check_head(
            header,
            &format!("{prefix}pooler.dense"),
            &[d, d],
            &mut report,
        )?;
    }
    Ok(report)
}

/// Checks an optional linear head stored as `{name}.weight` `[out, in]` and `{name}.bias`.
fn check_head(
    header: &SafetensorsHeader,
    name: &str,
    shape: &[usize],
    report: &mut LoadReport,
) -> Result<(), LoadError> {
    let weight = header.check(&format!("{name}.weight"), shape, false)?;
    let bias = header.check(&format!("{name}.bias"), &shape[..1], false)?;
    match (weight, bias) {
        (true, true) => {}
        (false, false) => report.initialised.push(name.to_string()),
        (true, false) => return Err(header.missing(&format!("{name}.bias"))),
        (false, true) => return Err(header.missing(&format!("{name}.weight"))),
    }
    Ok(())
}

/// Applies the file's tensors; returns the stored tensors the model does not use.
fn apply<M: ModuleSnapshot>(
    model: &mut M,
    weights: &Path,
    prefix_remap: Option<(&str, &str)>,
) -> Result<Vec<String>, LoadError> {
    let fail = |reason: String| LoadError::Apply {
        path: weights.to_path_buf(),
        reason,
    };
    // burn keeps a loaded tensor's stored dtype; the cast makes every parameter f32.
    let adapter = PyTorchToBurnAdapter.chain(FloatCastAdapter::to(DType::F32));
    let mut store = SafetensorsStore::from_file(weights).with_from_adapter(adapter);
    if let Some((from, to)) = prefix_remap {
        store = store.with_key_remapping(from, to);
    }
    for (from, to) in HF_TO_BURN {
        store = store.with_key_remapping(from, to);
    }
    let mut store = store.allow_partial(true).validate(true);
    let result = model
        .load_from(&mut store)
        .map_err(|e| fail(e.to_string()))?;
    if !result.errors.is_empty() {
        return Err(fail(format!("{:?}", result.errors)));
    }
    Ok(result.unused)
}
