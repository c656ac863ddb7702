//! The fused CPU kernels (lat-kernels) against burn's own ops on a model whose shapes they
//! accept (heads 32 wide): the same weights run on the plain device, where the encoder
//! takes the inference kernels when they can run, on the autodiff device, where training
//! takes the differentiable kernel ops, and on an autodiff device with gradient
//! checkpointing, which the kernels never take, so it always runs the burn composite
//! (dropout is off, so all compute the same function). Full and reduced configurations,
//! Extract and Drop-and-Restore, the [CLS]-only last layer, a batch of mixed lengths, and
//! the gradients of every kind of parameter.
#![allow(clippy::unwrap_used)]

mod common;

use burn::module::Module;
use burn::tensor::{Device, Tensor, TensorData};
use common::{device, encoder_tensors, max_abs_diff, random_batch, rows, tiny_checkpoint, values};
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

/// The autodiff device the kernels stand aside on: burn's composite, the reference.
fn composite(device: &Device) -> Device {
    device.clone().autodiff().gradient_checkpointing()
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
    let twin = model.clone().fork(&composite(&device));
    let lengths = [23, 9, 40, 2];
    let batch = random_batch(&lengths, config.vocab_size, 3, &device);
    let twin_batch = random_batch(&lengths, config.vocab_size, 3, &composite(&device));
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
    let twin = model.clone().fork(&composite(&device));
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
    let composite = run(&twin, &composite(&device)).inner();
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

#[test]
fn training_gradients_equal_the_burn_composite() {
    // The same model and batch on the autodiff device (the training kernels, where they
    // run) and on the composite device; loss Σ logits ⊙ probe; every kind of parameter's
    // gradient compared: embeddings, attention projections and LayerNorm, FFN, head.
    let config = config();
    let plain = device();
    let device = plain.clone().autodiff();
    // One checkpoint (encoder and head) loaded on both devices.
    let mut tensors = encoder_tensors(&config, "bert.");
    tensors.push(("classifier.weight".into(), vec![2, config.hidden_size]));
    tensors.push(("classifier.bias".into(), vec![2]));
    let dir = tiny_checkpoint("training-gradients", &config, &tensors);
    let model = BertForSequenceClassification::load(&dir, 2, &device)
        .unwrap()
        .model;
    let twin = BertForSequenceClassification::load(&dir, 2, &composite(&plain))
        .unwrap()
        .model;
    assert_eq!(
        values(model.classifier.weight.val()),
        values(twin.classifier.weight.val()),
        "the twins start from the same weights"
    );
    let lengths = [21, 40, 7];
    let probe = [0.7f32, -1.3, 0.4, 2.0, -0.5, 1.1];
    for length_config in [
        LengthConfig::keep_all(3),
        LengthConfig::constant_rate(3, 0.7).unwrap(),
    ] {
        let grads_of = |m: &BertForSequenceClassification, device: &Device| {
            let batch = random_batch(&lengths, config.vocab_size, 9, device);
            let out = m.forward(&batch, &length_config);
            let probe = Tensor::<2>::from_data(TensorData::new(probe.to_vec(), [3, 2]), device);
            let grads = (out.logits * probe).sum().backward();
            let layer = &m.bert.encoder.layer[1];
            let matrix = |t: Tensor<2>| values(t.grad(&grads).unwrap());
            let vector = |t: Tensor<1>| values(t.grad(&grads).unwrap());
            let params = [
                matrix(m.bert.embeddings.word_embeddings.weight.val()),
                vector(m.bert.embeddings.layer_norm.gamma.val()),
                matrix(layer.attention.query.weight.val()),
                vector(layer.attention.value.bias.as_ref().unwrap().val()),
                vector(layer.attention.norm.gamma.val()),
                matrix(layer.intermediate.weight.val()),
                vector(layer.output_norm.beta.as_ref().unwrap().val()),
                matrix(m.classifier.weight.val()),
            ];
            (params, out.kept_tokens)
        };
        let (ours, kept) = grads_of(&model, &device);
        let (burns, burns_kept) = grads_of(&twin, &composite(&plain));
        assert_eq!(kept, burns_kept, "the same tokens survive");
        for (i, (a, b)) in ours.iter().zip(&burns).enumerate() {
            let scale = b.iter().fold(1e-3f32, |m, x| m.max(x.abs()));
            let diff = max_abs_diff(a, b);
            assert!(
                diff <= 1e-4 * scale.max(1.0),
                "{length_config:?} parameter {i}: {diff} (largest gradient {scale})"
            );
        }
    }
}
