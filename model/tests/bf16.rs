//! Opt-in bf16 inference (`LAT_PRECISION=bf16`: the linears and the attention's products
//! on AMX in bf16) on the committed default model's real weights and tokenizer: logits
//! within the documented tolerance of f32 at full length and at the no-loss frontier point,
//! the same labels, and a switch back to f32 that gives f32's results to the bit (the packed-weight cache must
//! not keep serving bf16 tiles). Its own test binary, because the precision is
//! process-wide.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use burn::tensor::Device;
use lat_kernels::cpu::{Precision, bf16_available, set_precision};
use lat_model::{Batch, BertForSequenceClassification, BertTokenizer, LengthConfig, TextInput};

/// Largest |bf16 logit - f32 logit| allowed (docs/src/kernels.md, bf16 on AMX); measured 0.0014 at
/// full length and 0.0032 at the no-loss point on these inputs.
const LOGIT_TOLERANCE: f32 = 0.05;

/// Short sentences, and one review of over 64 tokens: layers with that many tokens run
/// the attention's products in bf16 too.
const SENTENCES: [&str; 5] = [
    "a gorgeous , witty , seductive movie that keeps its surprises until the very last scene .",
    "the plot is a tired retread and the jokes fall flat for two long hours .",
    "an utterly charming and hilarious film that reminded me why i love going to the movies .",
    "it 's a dull , lifeless affair .",
    "from its first quiet scene to its last , this is a warm , funny and beautifully acted \
     film . the director trusts the audience , the cast is wonderful , the music lifts \
     every moment , and the story , though simple , is told with such care and wit that \
     i left the theater smiling and wanting to see it again with my whole family .",
];

fn logits(model: &BertForSequenceClassification, batch: &Batch, config: &LengthConfig) -> Vec<f32> {
    model
        .forward(batch, config)
        .logits
        .into_data()
        .try_to_vec::<f32>()
        .unwrap()
}

#[test]
fn bf16_logits_stay_close_to_f32_and_switching_back_restores_f32() {
    let device = Device::flex();
    if !bf16_available() {
        eprintln!("no AMX-BF16 here (or the kernels are off): bf16 test skipped");
        return;
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/sst2");
    let tokenizer = BertTokenizer::from_file(&dir.join("tokenizer.json"), 128).unwrap();
    let inputs: Vec<_> = SENTENCES
        .iter()
        .map(|s| tokenizer.encode(TextInput::Single(s)).unwrap())
        .collect();
    assert!(
        inputs[4].input_ids.len() > 64,
        "{}",
        inputs[4].input_ids.len()
    );
    let batch = Batch::new(&inputs, tokenizer.pad_token_id(), &device);
    let model = BertForSequenceClassification::load(&dir, 2, &device)
        .unwrap()
        .model;
    let no_loss = LengthConfig::new(
        [122, 98, 63, 42, 21, 11]
            .iter()
            .map(|&l| f64::from(l) / 128.0)
            .collect(),
    )
    .unwrap();
    for config in [LengthConfig::keep_all(6), no_loss] {
        set_precision(Precision::F32).unwrap();
        let f32_logits = logits(&model, &batch, &config);
        set_precision(Precision::Bf16).unwrap();
        let bf16_logits = logits(&model, &batch, &config);
        set_precision(Precision::F32).unwrap();
        let again = logits(&model, &batch, &config);

        assert_eq!(again, f32_logits, "{config:?}: f32 after bf16");
        let diff = f32_logits
            .iter()
            .zip(&bf16_logits)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        eprintln!("{config:?}: max |bf16 - f32| logit {diff}");
        assert!(diff <= LOGIT_TOLERANCE, "{config:?}: {diff}");
        // It did run in bf16 (f32 rounding alone moves logits by ~1e-6).
        assert!(diff > 1e-4, "{config:?}: bf16 had no effect ({diff})");
        let labels = |l: &[f32]| -> Vec<bool> { l.chunks(2).map(|p| p[1] > p[0]).collect() };
        assert_eq!(labels(&bf16_logits), labels(&f32_logits), "{config:?}");
        assert_eq!(
            labels(&f32_logits),
            [true, false, true, false, true],
            "{config:?}"
        );
    }
}
