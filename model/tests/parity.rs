//! Parity with the independent float64 numpy reference (`scripts/generate_reference.py`) on
//! the real all-MiniLM-L6-v2 weights: tokenizer ids, the plain forward, and the
//! length-adaptive forward (extraction and Drop-and-Restore) under two configurations.
//! Inputs of mixed lengths run as one padded batch, each compared with its golden value
//! computed alone. Needs `scripts/setup-base-model.sh` (the README's test command runs it).
#![allow(clippy::unwrap_used)]

mod common;

use std::path::PathBuf;

use common::{device, max_abs_diff, rows, values};
use lat_model::{
    Batch, BertForQuestionAnswering, BertForSequenceClassification, BertModel, BertTokenizer,
    DropMode, LengthConfig, TextInput, cls_vectors,
};
use serde::Deserialize;

const TOLERANCE: f32 = 1e-4;

#[derive(Deserialize)]
struct Reference {
    configs: std::collections::BTreeMap<String, ConfigSpec>,
    cases: Vec<Case>,
    truncation: Truncation,
}

#[derive(Deserialize)]
struct Truncation {
    max_length: usize,
    cases: Vec<Tokenized>,
}

#[derive(Deserialize)]
struct Tokenized {
    texts: Vec<String>,
    input_ids: Vec<u32>,
    token_type_ids: Vec<u32>,
}

#[derive(Deserialize)]
struct ConfigSpec {
    ratios: Vec<f64>,
    skipped: Vec<usize>,
}

#[derive(Deserialize)]
struct Case {
    texts: Vec<String>,
    input_ids: Vec<u32>,
    token_type_ids: Vec<u32>,
    last_hidden_state: Vec<Vec<f32>>,
    pooler_output: Vec<f32>,
    configs: std::collections::BTreeMap<String, Golden>,
}

#[derive(Deserialize)]
struct Golden {
    kept_tokens: Vec<usize>,
    extract_cls: Vec<f32>,
    restored: Vec<Vec<f32>>,
}

fn model_dir() -> PathBuf {
    let dir = std::env::var_os("LAT_BASE_MODEL_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models-cache/all-MiniLM-L6-v2")
        });
    assert!(
        dir.join("model.safetensors").is_file(),
        "base model missing in {}: run scripts/setup-base-model.sh (or set LAT_BASE_MODEL_DIR)",
        dir.display()
    );
    dir
}

fn reference() -> Reference {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/minilm_reference.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn text_input(texts: &[String]) -> TextInput<'_> {
    match texts {
        [a] => TextInput::Single(a),
        [a, b] => TextInput::Pair(a, b),
        other => panic!("unexpected case {other:?}"),
    }
}

fn batch(reference: &Reference) -> Batch {
    let tokenizer = BertTokenizer::from_file(&model_dir().join("tokenizer.json"), 128).unwrap();
    let encoded: Vec<_> = reference
        .cases
        .iter()
        .map(|case| {
            let encoded = tokenizer.encode(text_input(&case.texts)).unwrap();
            assert_eq!(
                encoded.input_ids, case.input_ids,
                "token ids of {:?}",
                case.texts
            );
            assert_eq!(
                encoded.token_type_ids, case.token_type_ids,
                "type ids of {:?}",
                case.texts
            );
            encoded
        })
        .collect();
    Batch::new(&encoded, tokenizer.pad_token_id(), &device())
}

#[test]
fn tokenizer_truncates_like_hf() {
    let truncation = reference().truncation;
    let path = model_dir().join("tokenizer.json");
    let tokenizer = BertTokenizer::from_file(&path, truncation.max_length).unwrap();
    for case in &truncation.cases {
        let encoded = tokenizer.encode(text_input(&case.texts)).unwrap();
        assert_eq!(encoded.input_ids.len(), truncation.max_length);
        assert_eq!(encoded.input_ids, case.input_ids, "{:?}", case.texts);
        assert_eq!(
            encoded.token_type_ids, case.token_type_ids,
            "{:?}",
            case.texts
        );
        assert_eq!(encoded.offsets.len(), encoded.input_ids.len());
    }
}

fn length_config(spec: &ConfigSpec) -> LengthConfig {
    LengthConfig::new(spec.ratios.clone())
        .unwrap()
        .with_skipped_layers(&spec.skipped)
        .unwrap()
}

#[test]
fn plain_forward_matches_reference() {
    let reference = reference();
    let batch = batch(&reference);
    let loaded = BertModel::load(&model_dir(), &device()).unwrap();
    assert!(loaded.report.initialised.is_empty(), "{:?}", loaded.report);
    let model = loaded.model;
    let out = model.forward(&batch, &LengthConfig::keep_all(6), DropMode::DropAndRestore);
    let pooled = model
        .pooler
        .as_ref()
        .unwrap()
        .forward(cls_vectors(out.last_hidden_state.clone()));
    let pooled = values(pooled);
    for (b, case) in reference.cases.iter().enumerate() {
        let n = case.input_ids.len();
        let golden: Vec<f32> = case.last_hidden_state.concat();
        let diff = max_abs_diff(&rows(&out.last_hidden_state, b, 0..n), &golden);
        assert!(diff <= TOLERANCE, "case {b}: hidden max abs diff {diff}");
        let diff = max_abs_diff(&pooled[b * 384..(b + 1) * 384], &case.pooler_output);
        assert!(diff <= TOLERANCE, "case {b}: pooler max abs diff {diff}");
    }
}

#[test]
fn length_adaptive_forward_matches_reference() {
    let reference = reference();
    let batch = batch(&reference);
    let model = BertModel::load(&model_dir(), &device()).unwrap().model;
    for (name, spec) in &reference.configs {
        let config = length_config(spec);
        let extract = model.forward(&batch, &config, DropMode::Extract);
        let restore = model.forward(&batch, &config, DropMode::DropAndRestore);
        let cls = values(cls_vectors(extract.last_hidden_state));
        for (b, case) in reference.cases.iter().enumerate() {
            let golden = &case.configs[name];
            assert_eq!(
                extract.kept_tokens[b], golden.kept_tokens,
                "{name} case {b}"
            );
            assert_eq!(
                restore.kept_tokens[b], golden.kept_tokens,
                "{name} case {b}"
            );
            let diff = max_abs_diff(&cls[b * 384..(b + 1) * 384], &golden.extract_cls);
            assert!(
                diff <= TOLERANCE,
                "{name} case {b}: extracted [CLS] max abs diff {diff}"
            );
            let n = case.input_ids.len();
            let diff = max_abs_diff(
                &rows(&restore.last_hidden_state, b, 0..n),
                &golden.restored.concat(),
            );
            assert!(
                diff <= TOLERANCE,
                "{name} case {b}: restored max abs diff {diff}"
            );
        }
    }
}

#[test]
fn task_heads_load_on_the_base_encoder() {
    let dir = model_dir();
    let classifier = BertForSequenceClassification::load(&dir, 2, &device()).unwrap();
    assert_eq!(
        classifier.report.initialised,
        vec!["classifier".to_string()]
    );
    assert_eq!(classifier.model.num_labels(), 2);
    let qa = BertForQuestionAnswering::load(&dir, &device()).unwrap();
    assert_eq!(qa.report.initialised, vec!["qa_outputs".to_string()]);
    // QA has no pooler, so the checkpoint's pooler tensors go unused.
    assert!(
        qa.report.unused.iter().any(|name| name.contains("pooler")),
        "{:?}",
        qa.report
    );

    // The classifier's encoder is the real one: its pooled [CLS] matches the reference.
    let reference = reference();
    let batch = batch(&reference);
    let out = classifier
        .model
        .bert
        .forward(&batch, &LengthConfig::keep_all(6), DropMode::Extract);
    let pooler = classifier.model.bert.pooler.as_ref().unwrap();
    let pooled = values(pooler.forward(cls_vectors(out.last_hidden_state)));
    let diff = max_abs_diff(&pooled[..384], &reference.cases[0].pooler_output);
    assert!(diff <= TOLERANCE, "pooler through the classifier: {diff}");
}
