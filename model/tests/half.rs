//! Half-precision weights: a hand-written F16 checkpoint loads into the f32 model with the
//! rounded values, and `export_model_dir --half` writes F16 that serves within half-precision
//! rounding of the f32 model (the committed default model takes this path).
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use burn::tensor::DType;
use lat_model::train::{
    ExportConfig, LAT_JSON, LatMetadata, WeightPrecision, export_model_dir, read_json,
    save_weights, write_json,
};
use lat_model::{BertConfig, BertForSequenceClassification, LengthConfig, SafetensorsHeader};

fn classifier_tensors(config: &BertConfig) -> Vec<(String, Vec<usize>)> {
    let mut tensors = common::encoder_tensors(config, "bert.");
    tensors.push(("classifier.weight".into(), vec![2, config.hidden_size]));
    tensors.push(("classifier.bias".into(), vec![2]));
    tensors
}

#[test]
fn f16_checkpoint_loads_as_its_values_in_f32() {
    let device = common::device();
    let config = BertConfig::tiny(2);
    let tensors = classifier_tensors(&config);
    let half = common::tiny_checkpoint("half-f16", &config, &tensors);
    let stored = common::write_safetensors_as(&half.join("model.safetensors"), &tensors, 7, true);
    let a = BertForSequenceClassification::load(&half, 2, &device).unwrap();
    let bias = a.model.classifier.bias.as_ref().unwrap().val();
    assert_eq!(
        bias.dtype(),
        DType::F32,
        "half weights must become f32 parameters"
    );
    assert_eq!(&common::values(bias), stored.last().unwrap());

    // The same forward as an F32 file holding exactly the rounded values...
    let exact = common::tiny_checkpoint("half-exact", &config, &tensors);
    write_exact_f32(&exact.join("model.safetensors"), &tensors, &stored);
    let b = BertForSequenceClassification::load(&exact, 2, &device).unwrap();
    let batch = common::random_batch(&[9, 6], config.vocab_size, 3, &device);
    let keep = LengthConfig::keep_all(config.num_hidden_layers);
    let got = common::values(a.model.forward(&batch, &keep).logits);
    assert_eq!(got, common::values(b.model.forward(&batch, &keep).logits));
    // ...and not the unrounded one's (tiny_checkpoint wrote the same seed in F32).
    let unrounded = common::tiny_checkpoint("half-unrounded", &config, &tensors);
    let c = BertForSequenceClassification::load(&unrounded, 2, &device).unwrap();
    let other = common::values(c.model.forward(&batch, &keep).logits);
    assert!(common::max_abs_diff(&got, &other) > 0.0);
}

/// Writes `values` (one vector per tensor) as F32, bit for bit.
fn write_exact_f32(path: &Path, tensors: &[(String, Vec<usize>)], values: &[Vec<f32>]) {
    let mut header = serde_json::Map::new();
    let mut data: Vec<u8> = Vec::new();
    for ((name, shape), v) in tensors.iter().zip(values) {
        let start = data.len();
        data.extend(v.iter().flat_map(|x| x.to_le_bytes()));
        header.insert(
            name.clone(),
            serde_json::json!({"dtype": "F32", "shape": shape, "data_offsets": [start, data.len()]}),
        );
    }
    let json = serde_json::Value::Object(header).to_string().into_bytes();
    let mut bytes = (json.len() as u64).to_le_bytes().to_vec();
    bytes.extend(json);
    bytes.extend(data);
    std::fs::write(path, bytes).unwrap();
}

/// Writes `lat.json` for `task` with `labels` into `dir`.
fn write_metadata(dir: &Path, task: &str, labels: &[&str]) -> LatMetadata {
    let meta = LatMetadata {
        task: task.into(),
        labels: labels.iter().map(|l| l.to_string()).collect(),
        max_length: 32,
        training: serde_json::json!({}),
    };
    write_json(&dir.join(LAT_JSON), &meta).unwrap();
    meta
}

fn half_export<'a>(from: &'a Path, to: &'a Path) -> ExportConfig<'a> {
    ExportConfig {
        from,
        to,
        precision: WeightPrecision::F16,
        labels: None,
    }
}

#[test]
fn half_export_serves_within_rounding_of_the_f32_model() {
    let device = common::device();
    let config = BertConfig::tiny(2);
    let from = common::scratch_dir("export-from");
    let model = BertForSequenceClassification::init(&config, 2, &device);
    save_weights(
        &model,
        &from.join("model.safetensors"),
        WeightPrecision::F32,
    )
    .unwrap();
    std::fs::write(
        from.join("config.json"),
        serde_json::to_string(&config).unwrap(),
    )
    .unwrap();
    std::fs::write(from.join("tokenizer.json"), "{\"copied\": true}").unwrap();
    let meta = write_metadata(&from, "classification", &["negative", "positive"]);
    let to = common::scratch_dir("export-to-half");
    let export = half_export(&from, &to);
    let report = export_model_dir(&export, &device).unwrap();
    assert_eq!(report.task, "classification");
    let f32_bytes = std::fs::metadata(from.join("model.safetensors"))
        .unwrap()
        .len();
    assert!(
        report.weights_bytes < f32_bytes * 6 / 10,
        "{} vs {f32_bytes}",
        report.weights_bytes
    );
    let header = SafetensorsHeader::read(&to.join("model.safetensors")).unwrap();
    header
        .check("classifier.weight", &[2, config.hidden_size], true)
        .unwrap();
    assert_eq!(
        std::fs::read(from.join("tokenizer.json")).unwrap(),
        std::fs::read(to.join("tokenizer.json")).unwrap()
    );
    let copied: LatMetadata = read_json(&to.join(LAT_JSON)).unwrap();
    assert_eq!(copied, meta);
    let hf: serde_json::Value = read_json(&to.join("config.json")).unwrap();
    assert_eq!(
        hf["id2label"],
        serde_json::json!({"0": "negative", "1": "positive"})
    );
    assert_eq!(hf["hidden_size"], serde_json::json!(config.hidden_size));

    let batch = common::random_batch(&[11, 7, 4], config.vocab_size, 5, &device);
    let keep = LengthConfig::keep_all(config.num_hidden_layers);
    let want = common::values(model.forward(&batch, &keep).logits);
    let half = BertForSequenceClassification::load(&to, 2, &device).unwrap();
    let got = common::values(half.model.forward(&batch, &keep).logits);
    let diff = common::max_abs_diff(&want, &got);
    assert!(diff > 0.0 && diff < 1e-2, "half-precision drift {diff}");

    // A full-precision export is the same model, bit for bit, here with new class names.
    let to32 = common::scratch_dir("export-to-f32");
    let labels = ["bad".to_string(), "good".to_string()];
    let export = ExportConfig {
        to: &to32,
        precision: WeightPrecision::F32,
        labels: Some(&labels),
        ..export
    };
    export_model_dir(&export, &device).unwrap();
    let same = BertForSequenceClassification::load(&to32, 2, &device).unwrap();
    assert_eq!(
        common::values(same.model.forward(&batch, &keep).logits),
        want
    );
    let renamed: LatMetadata = read_json(&to32.join(LAT_JSON)).unwrap();
    assert_eq!(renamed.labels, labels);
    let hf: serde_json::Value = read_json(&to32.join("config.json")).unwrap();
    assert_eq!(hf["label2id"], serde_json::json!({"bad": 0, "good": 1}));

    let three = ["a".to_string(), "b".to_string(), "c".to_string()];
    let export = ExportConfig {
        labels: Some(&three),
        ..export
    };
    let err = export_model_dir(&export, &device).unwrap_err();
    assert!(
        err.to_string()
            .contains("3 labels given for a model with 2"),
        "{err}"
    );
}

#[test]
fn export_refuses_an_unknown_task() {
    let device = common::device();
    let from = common::scratch_dir("export-bad-task");
    write_metadata(&from, "translation", &[]);
    let to = common::scratch_dir("export-bad-task-out");
    let err = export_model_dir(&half_export(&from, &to), &device).unwrap_err();
    assert!(
        err.to_string().contains("unknown task `translation`"),
        "{err}"
    );
}
