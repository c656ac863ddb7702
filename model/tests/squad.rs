//! SQuAD v1.1 on the real dev file and the real tokenizer: published counts, windows that
//! hold their answers, and decoding that turns oracle logits back into the answer text.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use burn::tensor::Device;
use lat_model::data::{SquadWindows, read_squad_json, squad_features};
use lat_model::metrics::exact_match;
use lat_model::train::{DevSet, SpanDecoding, SquadDevSet, best_span, score_predictions};
use lat_model::{BertForQuestionAnswering, BertTokenizer, LengthConfig};

mod common;

fn tokenizer(max_length: usize) -> BertTokenizer {
    let dir = std::env::var_os("LAT_BASE_MODEL_DIR")
        .map(PathBuf::from)
        .expect("LAT_BASE_MODEL_DIR (scripts/test.sh sets it)");
    BertTokenizer::from_file(&dir.join("tokenizer.json"), max_length).unwrap()
}

#[test]
fn squad_dev_windows_hold_their_answers_and_decode_back() {
    let _ = Device::default();
    let Some(dev_file) = common::shared_data("squad1.1/dev-v1.1.json") else {
        return;
    };
    let articles = read_squad_json(&dev_file).unwrap();
    let questions: usize = articles.iter().map(|a| a.examples.len()).sum();
    assert_eq!((articles.len(), questions), (48, 10_570));
    let examples = articles[0].examples.clone();
    assert_eq!(articles[0].title, "Super_Bowl_50");

    // Short windows so that contexts really are cut: 128 tokens, stride 48.
    let windows = SquadWindows {
        max_length: 128,
        doc_stride: 48,
        max_query_length: 64,
    };
    let tokenizer = tokenizer(128);
    let features = squad_features(&examples, &tokenizer, windows).unwrap();
    assert!(
        features.len() > examples.len(),
        "some contexts need several windows"
    );
    for f in &features {
        assert!(f.encoded.input_ids.len() <= 128);
        assert_eq!(f.encoded.input_ids[0], tokenizer.cls_token_id());
    }

    // Every question has a window that holds its first answer, and the target tokens cover
    // exactly the answer's text (up to word pieces that overhang it, e.g. "1990" in "1990s").
    let mut exact = 0;
    for (i, example) in examples.iter().enumerate() {
        let mine: Vec<_> = features.iter().filter(|f| f.example == i).collect();
        let holding: Vec<_> = mine.iter().filter(|f| f.target != (0, 0)).collect();
        assert!(
            !holding.is_empty(),
            "question {} has no window with its answer",
            example.id
        );
        let f = holding[0];
        let (a, _) = f.char_spans[f.target.0].unwrap();
        let (_, b) = f.char_spans[f.target.1].unwrap();
        let text = example.context_chars(a, b);
        exact += usize::from(exact_match(&text, &example.answers[0].text) == 1.0);
    }
    let share = exact as f64 / examples.len() as f64;
    assert!(
        share > 0.97,
        "targets match the answer text for {share:.3} of questions"
    );

    // Oracle logits (high at each window's target, low elsewhere) decode to the answers.
    let mut best: Vec<Option<(f32, String)>> = vec![None; examples.len()];
    for f in &features {
        let n = f.encoded.input_ids.len();
        let mut start = vec![0.0f32; n];
        let mut end = vec![0.0f32; n];
        start[f.target.0] = 10.0;
        end[f.target.1] = 10.0;
        if let Some(span) = best_span(f, &start, &end, SpanDecoding::default()) {
            let text = examples[f.example].context_chars(span.chars.0, span.chars.1);
            let slot = &mut best[f.example];
            if slot.as_ref().is_none_or(|(s, _)| span.score > *s) {
                *slot = Some((span.score, text));
            }
        }
    }
    let predictions: Vec<String> = best
        .into_iter()
        .map(|b| b.map(|(_, t)| t).unwrap_or_default())
        .collect();
    let scores = score_predictions(&examples, &predictions);
    assert!(
        scores.exact_match > 95.0,
        "oracle EM {}",
        scores.exact_match
    );
    assert!(scores.f1 > 97.0, "oracle F1 {}", scores.f1);
}

#[test]
fn squad_evaluation_is_batch_invariant_on_real_weights() {
    let device = Device::default();
    let Some(dev_file) = common::shared_data("squad1.1/dev-v1.1.json") else {
        return;
    };
    let dir = PathBuf::from(std::env::var_os("LAT_BASE_MODEL_DIR").unwrap());
    let model = BertForQuestionAnswering::load(&dir, &device).unwrap().model;
    let articles = read_squad_json(&dev_file).unwrap();
    let examples: Vec<_> = articles[1].examples.iter().take(6).cloned().collect();
    let windows = SquadWindows {
        max_length: 96,
        doc_stride: 32,
        max_query_length: 32,
    };
    let features = squad_features(&examples, &tokenizer(96), windows).unwrap();
    let dev = |batch_size| SquadDevSet {
        examples: examples.clone(),
        features: features.clone(),
        batch_size,
        pad_token_id: 0,
        decoding: SpanDecoding::default(),
        device: device.clone(),
    };
    let config = LengthConfig::constant_rate(6, 0.8).unwrap();
    let one_by_one = dev(1).predict(&model, &config);
    let batched = dev(8).predict(&model, &config);
    assert_eq!(one_by_one, batched);
    assert!(
        batched.iter().all(|p| !p.is_empty()),
        "every question gets a span"
    );
    let scores = dev(8).evaluate(&model, &config).unwrap();
    assert!((0.0..=100.0).contains(&scores.score));
    assert_eq!(scores.metrics["f1"], scores.score);
}
