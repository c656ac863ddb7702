//! Equivalence tests of the length-adaptive forward on tiny random-init models: the
//! keep-everything configuration equals a plain BERT forward written here independently;
//! a batch of mixed lengths gives every input what it gets alone; Drop-and-Restore keeps
//! dropped tokens' last states; skipped layers are skipped; kept counts follow the formula
//! and dropped tokens leave the tensors.
#![allow(clippy::unwrap_used)]

mod common;

use burn::tensor::activation::{gelu, softmax};
use burn::tensor::{Tensor, TensorData};
use common::{device, max_abs_diff, random_batch, rows, values};
use lat_model::{Batch, BertConfig, BertForQuestionAnswering, BertModel, DropMode, LengthConfig};

const TOLERANCE: f32 = 2e-5;

fn tiny(layers: usize, seed: u64) -> (BertConfig, BertModel) {
    let config = BertConfig::tiny(layers);
    let device = device();
    device.seed(seed);
    let model = BertModel::init(&config, true, &device);
    (config, model)
}

/// Textbook BERT forward (HF additive mask), independent of the crate's encoder loop.
fn plain_forward(model: &BertModel, config: &BertConfig, batch: &Batch) -> Tensor<3> {
    let mut x = model
        .embeddings
        .forward(batch.input_ids.clone(), batch.token_type_ids.clone());
    let [b, n, d] = x.dims();
    let heads = config.num_attention_heads;
    let bias: Vec<f32> = batch
        .lengths
        .iter()
        .flat_map(|&len| (0..n).map(move |j| if j < len { 0.0 } else { -10_000.0 }))
        .collect();
    let bias = Tensor::<4>::from_data(TensorData::new(bias, [b, 1, 1, n]), &device());
    for layer in &model.encoder.layer {
        let a = &layer.attention;
        let split = |t: Tensor<3>| t.reshape([b, n, heads, d / heads]).swap_dims(1, 2);
        let (q, k, v) = (
            split(a.query.forward(x.clone())),
            split(a.key.forward(x.clone())),
            split(a.value.forward(x.clone())),
        );
        let scores = q.matmul(k.swap_dims(2, 3)) / ((d / heads) as f32).sqrt() + bias.clone();
        let context = softmax(scores, 3)
            .matmul(v)
            .swap_dims(1, 2)
            .reshape([b, n, d]);
        let h = a.norm.forward(a.output.forward(context) + x);
        let ffn = layer
            .output
            .forward(gelu(layer.intermediate.forward(h.clone())));
        x = layer.output_norm.forward(ffn + h);
    }
    x
}

#[test]
fn keep_everything_equals_plain_forward() {
    let (config, model) = tiny(3, 1);
    let batch = random_batch(&[7, 4, 9], config.vocab_size, 11, &device());
    let plain = plain_forward(&model, &config, &batch);
    for mode in [DropMode::Extract, DropMode::DropAndRestore] {
        let out = model.forward(&batch, &LengthConfig::keep_all(3), mode);
        for (b, &n) in batch.lengths.iter().enumerate() {
            let diff = max_abs_diff(
                &rows(&out.last_hidden_state, b, 0..n),
                &rows(&plain, b, 0..n),
            );
            assert!(diff <= TOLERANCE, "{mode:?} row {b}: {diff}");
        }
    }
}

#[test]
fn batched_equals_single_under_a_reduced_configuration() {
    let (config, model) = tiny(3, 2);
    let lengths = [9, 4, 7, 12];
    let batch = random_batch(&lengths, config.vocab_size, 12, &device());
    let length_config = LengthConfig::new(vec![0.8, 0.6, 0.4]).unwrap();
    for mode in [DropMode::Extract, DropMode::DropAndRestore] {
        let batched = model.forward(&batch, &length_config, mode);
        for (b, &n) in lengths.iter().enumerate() {
            let alone = random_batch(&lengths, config.vocab_size, 12, &device());
            let ids = alone.input_ids.slice([b..b + 1, 0..n]);
            let types = alone.token_type_ids.slice([b..b + 1, 0..n]);
            let single = Batch {
                input_ids: ids,
                token_type_ids: types,
                lengths: vec![n],
            };
            let single = model.forward(&single, &length_config, mode);
            assert_eq!(single.kept_tokens[0], batched.kept_tokens[b]);
            // Extract: the kept rows come out in the same (significance) order.
            let width = match mode {
                DropMode::Extract => batched.kept_tokens[b][2],
                DropMode::DropAndRestore => n,
            };
            let diff = max_abs_diff(
                &rows(&batched.last_hidden_state, b, 0..width),
                &rows(&single.last_hidden_state, 0, 0..width),
            );
            assert!(diff <= TOLERANCE, "{mode:?} row {b}: {diff}");
        }
    }
}

/// Positions of row 0 whose restored vector equals `reference`'s, and those that differ.
fn matching_positions(restored: &Tensor<3>, reference: &Tensor<3>, n: usize) -> (usize, usize) {
    let (mut same, mut different) = (0, 0);
    for j in 0..n {
        let diff = max_abs_diff(&rows(restored, 0, j..j + 1), &rows(reference, 0, j..j + 1));
        if diff <= TOLERANCE {
            same += 1;
        } else if diff > 1e-3 {
            different += 1;
        }
    }
    (same, different)
}

#[test]
fn drop_and_restore_keeps_dropped_tokens_last_state() {
    let (config, model) = tiny(3, 3);
    let n = 10;
    let batch = random_batch(&[n], config.vocab_size, 13, &device());

    // Dropped in the last layer: they carry the output of layer 2, i.e. of a model whose
    // last layer is skipped. Kept ones carry layer 3's output.
    let last_only = LengthConfig::new(vec![1.0, 1.0, 0.5]).unwrap();
    let out = model.forward(&batch, &last_only, DropMode::DropAndRestore);
    let two_layers = LengthConfig::keep_all(3).with_skipped_layers(&[2]).unwrap();
    let reference = model.forward(&batch, &two_layers, DropMode::DropAndRestore);
    assert_eq!(out.kept_tokens[0], vec![10, 10, 5]);
    let (same, different) =
        matching_positions(&out.last_hidden_state, &reference.last_hidden_state, n);
    assert_eq!(
        (same, different),
        (5, 5),
        "5 dropped tokens keep layer 2's state"
    );

    // Dropped in layer 1: they carry the embedding output.
    let first = LengthConfig::new(vec![0.6, 0.6, 0.6]).unwrap();
    let out = model.forward(&batch, &first, DropMode::DropAndRestore);
    let embeddings = model
        .embeddings
        .forward(batch.input_ids.clone(), batch.token_type_ids.clone());
    let (same, different) = matching_positions(&out.last_hidden_state, &embeddings, n);
    assert_eq!(
        (same, different),
        (4, 6),
        "4 tokens dropped in layer 1 keep their embedding"
    );
}

#[test]
fn skipped_layers_are_skipped() {
    let (config, model) = tiny(3, 4);
    let batch = random_batch(&[8, 5], config.vocab_size, 14, &device());
    let mut shallow = model.clone();
    shallow.encoder.layer.remove(1);

    let skip = LengthConfig::new(vec![0.8, 0.6, 0.4])
        .unwrap()
        .with_skipped_layers(&[1])
        .unwrap();
    let same = LengthConfig::new(vec![0.8, 0.4]).unwrap();
    for mode in [DropMode::Extract, DropMode::DropAndRestore] {
        let a = model.forward(&batch, &skip, mode);
        let b = shallow.forward(&batch, &same, mode);
        assert_eq!(a.last_hidden_state.dims(), b.last_hidden_state.dims());
        let diff = max_abs_diff(&values(a.last_hidden_state), &values(b.last_hidden_state));
        assert!(diff <= TOLERANCE, "{mode:?}: {diff}");
        assert_eq!(a.kept_tokens[0], vec![7, 7, 4]);
    }
}

#[test]
fn kept_counts_follow_the_formula_and_tensors_shrink() {
    let (config, model) = tiny(3, 5);
    let batch = random_batch(&[10, 6], config.vocab_size, 15, &device());
    let length_config = LengthConfig::new(vec![0.7, 0.5, 0.3]).unwrap();
    let out = model.forward(&batch, &length_config, DropMode::Extract);
    // n = 10: ceil(7) = 7, ceil(5) = 5, ceil(3) = 3; n = 6: ceil(4.2) = 5, 3, ceil(1.8) = 2.
    assert_eq!(out.kept_tokens, vec![vec![7, 5, 3], vec![5, 3, 2]]);
    // Only the kept tokens come out: width max(3, 2), not the padded 10.
    assert_eq!(out.last_hidden_state.dims(), [2, 3, config.hidden_size]);
}

#[test]
fn question_answering_logits_cover_the_restored_sequence() {
    let config = BertConfig::tiny(2);
    let device = device();
    device.seed(6);
    let qa = BertForQuestionAnswering::init(&config, &device);
    let batch = random_batch(&[9, 5], config.vocab_size, 16, &device);
    let out = qa.forward(&batch, &LengthConfig::new(vec![0.6, 0.3]).unwrap());
    assert_eq!(out.start_logits.dims(), [2, 9]);
    assert_eq!(out.end_logits.dims(), [2, 9]);

    // Keep-everything logits equal the head applied to the plain forward.
    let full = qa.forward(&batch, &LengthConfig::keep_all(2));
    let hidden = plain_forward(&qa.bert, &config, &batch);
    let expected = qa
        .qa_outputs
        .forward(hidden)
        .slice([0..2, 0..9, 0..1])
        .reshape([2, 9]);
    let (got, want) = (values(full.start_logits), values(expected));
    let diff = max_abs_diff(&got[..9], &want[..9]).max(max_abs_diff(&got[9..14], &want[9..14]));
    assert!(diff <= TOLERANCE, "{diff}");
}

#[test]
#[should_panic(expected = "exceeds the model's 64 positions")]
fn inputs_longer_than_the_learned_positions_are_refused() {
    let (config, model) = tiny(1, 7);
    let batch = random_batch(&[65], config.vocab_size, 17, &device());
    let _ = model.forward(&batch, &LengthConfig::keep_all(1), DropMode::Extract);
}
