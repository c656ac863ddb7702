//! The fused CPU kernels (lat-kernels) against burn's own ops on a model whose shapes they
//! accept (heads 32 wide): the same weights run on the plain device, where the encoder
//! takes the kernels when they can run, and on its autodiff twin, where it always takes
//! the burn composite (dropout is off, so both compute the same function). Full and
//! reduced configurations, Extract and Drop-and-Restore, the [CLS]-only last layer, and a
//! batch of mixed lengths.
#![allow(clippy::unwrap_used)]

mod common;

use burn::module::Module;
use burn::tensor::{Device, Tensor};
use common::{device, max_abs_diff, random_batch, rows, values};
use lat_model::{
    BertConfig, BertForSequenceClassification, BertModel, DropMode, EncoderState, LengthConfig,
};

const TOLERANCE: f32 = 1e-4;

fn config() -> BertConfig {
    BertConfig {
        hidden_size: 64,
        num_attention_heads: 2,
        intermediate_size: 128,
        hidden_dropout_prob: 0.0,
        attention_probs_dropout_prob: 0.0,
        ..BertConfig::tiny(3)
    }
}

/// True when the fused path must have run: flex device on an AVX-512 CPU.
fn kernels_expected(device: &Device) -> bool {
    lat_kernels::cpu::enabled() && format!("{device:?}").contains("Flex")
}

fn close(a: &Tensor<3>, b: &Tensor<3>, lengths: &[usize], what: &str) {
    for (row, &n) in lengths.iter().enumerate() {
        let n = n.min(a.dims()[1]);
        let diff = max_abs_diff(&rows(a, row, 0..n), &rows(b, row, 0..n));
        assert!(diff <= TOLERANCE, "{what}, row {row}: {diff}");
    }
}

#[test]
fn fused_encoder_equals_the_burn_composite() {
    let config = config();
    let device = device();
    device.seed(5);
    let model = BertModel::init(&config, true, &device);
    let twin = model.clone().fork(&device.clone().autodiff());
    let lengths = [23, 9, 40, 2];
    let batch = random_batch(&lengths, config.vocab_size, 3, &device);
    let twin_batch = random_batch(&lengths, config.vocab_size, 3, &device.clone().autodiff());
    let before = lat_kernels::flex::fused_calls();
    for length_config in [
        LengthConfig::keep_all(3),
        LengthConfig::constant_rate(3, 0.6).unwrap(),
    ] {
        for mode in [DropMode::Extract, DropMode::DropAndRestore] {
            let fused = model.forward(&batch, &length_config, mode);
            let composite = twin.forward(&twin_batch, &length_config, mode);
            // Same significance, so the same tokens survive.
            assert_eq!(
                fused.kept_tokens, composite.kept_tokens,
                "{mode:?} {length_config:?}"
            );
            let what = format!("{mode:?} {length_config:?}");
            close(
                &fused.last_hidden_state,
                &composite.last_hidden_state.inner(),
                &lengths,
                &what,
            );
        }
    }
    if kernels_expected(&device) {
        assert!(
            lat_kernels::flex::fused_calls() > before,
            "the kernels never ran"
        );
    }
}

#[test]
fn fused_first_token_layer_equals_the_burn_composite() {
    let config = config();
    let device = device();
    device.seed(6);
    let model = BertForSequenceClassification::init(&config, 2, &device);
    let twin = model.clone().fork(&device.clone().autodiff());
    let lengths = [17, 33, 5];
    let run = |m: &BertForSequenceClassification, device: &Device| {
        let batch = random_batch(&lengths, config.vocab_size, 4, device);
        let embeddings = m
            .bert
            .embeddings
            .forward(batch.input_ids.clone(), batch.token_type_ids.clone());
        let state = EncoderState::new(embeddings, &lengths, DropMode::Extract);
        let state = m
            .bert
            .encoder
            .forward_layer(0, state, &[12, 12, 4], DropMode::Extract);
        m.bert.encoder.forward_layer_first_token(1, state)
    };
    let fused = run(&model, &device);
    let composite = run(&twin, &device.clone().autodiff()).inner();
    let diff = max_abs_diff(&values(fused), &values(composite));
    assert!(diff <= TOLERANCE, "first-token layer: {diff}");
}

#[test]
fn concurrent_forwards_each_get_their_own_answer() {
    // Forwards from several threads share rayon's pool; a thread waiting inside one may
    // run another by work stealing. Each must still get exactly its own result.
    let config = config();
    let device = device();
    device.seed(7);
    let model = BertModel::init(&config, true, &device);
    let length_config = LengthConfig::constant_rate(3, 0.7).unwrap();
    let batches: Vec<_> = (0..4)
        .map(|t| {
            random_batch(
                &[30 - t, 12 + t, 7],
                config.vocab_size,
                20 + t as u64,
                &device,
            )
        })
        .collect();
    let alone: Vec<Vec<f32>> = batches
        .iter()
        .map(|batch| {
            values(
                model
                    .forward(batch, &length_config, DropMode::Extract)
                    .last_hidden_state,
            )
        })
        .collect();
    std::thread::scope(|scope| {
        for (batch, want) in batches.iter().zip(&alone) {
            let (model, length_config) = (&model, &length_config);
            scope.spawn(move || {
                for _ in 0..5 {
                    let out = model.forward(batch, length_config, DropMode::Extract);
                    assert_eq!(
                        &values(out.last_hidden_state),
                        want,
                        "a concurrent forward differs"
                    );
                }
            });
        }
    });
}
