//! The training attention: the kernels' forward and backward against an f64 reference
//! (gradients by central differences, dropout included), and the autodiff op against
//! burn's composite on the same projections.
// The kernels these tests call exist on x86-64 only (elsewhere the model runs burn's ops).
#![cfg(target_arch = "x86_64")]

mod common;

use burn::nn::DropoutConfig;
use burn::tensor::activation::softmax;
use burn::tensor::{Device, Tensor, TensorData};
use common::{bridge_available, kernels_available, uniform};
use lat_kernels::flex::attention_core;
use lat_kernels::{DropoutMask, TrainAttentionInput, attention_backward, attention_forward};

struct Case {
    q: Vec<f32>,
    k: Vec<f32>,
    v: Vec<f32>,
    counts: Vec<usize>,
    n: usize,
    heads: usize,
    head_dim: usize,
}

impl Case {
    fn new(counts: Vec<usize>, n: usize, heads: usize, seed: u64) -> Self {
        let head_dim = 32;
        let len = counts.len() * n * heads * head_dim;
        Self {
            q: uniform(len, seed),
            k: uniform(len, seed + 1),
            v: uniform(len, seed + 2),
            counts,
            n,
            heads,
            head_dim,
        }
    }

    fn key_bias(&self) -> Vec<f32> {
        self.counts
            .iter()
            .flat_map(|&c| (0..self.n).map(move |j| if j < c { 0.0 } else { -1.0e9 }))
            .collect()
    }

    fn voters(&self) -> Vec<f32> {
        self.key_bias()
            .iter()
            .map(|b| if *b == 0.0 { 1.0 } else { 0.0 })
            .collect()
    }

    /// Context in f64 for perturbed operands, and the significance.
    fn reference(
        &self,
        q: &[f64],
        k: &[f64],
        v: &[f64],
        mask: Option<DropoutMask>,
    ) -> (Vec<f64>, Vec<f64>) {
        let (n, h, dh) = (self.n, self.heads, self.head_dim);
        let width = h * dh;
        let bias = self.key_bias();
        let voters = self.voters();
        let mut context = vec![0.0; q.len()];
        let mut significance = vec![0.0; self.counts.len() * n];
        for b in 0..self.counts.len() {
            for hd in 0..h {
                let task = b * h + hd;
                for i in 0..n {
                    let at = |x: &[f64], r: usize, d: usize| x[(b * n + r) * width + hd * dh + d];
                    let scores: Vec<f64> = (0..n)
                        .map(|j| {
                            (0..dh).map(|d| at(q, i, d) * at(k, j, d)).sum::<f64>()
                                / (dh as f64).sqrt()
                                + bias[b * n + j] as f64
                        })
                        .collect();
                    let max = scores.iter().cloned().fold(f64::MIN, f64::max);
                    let exps: Vec<f64> = scores.iter().map(|s| (s - max).exp()).collect();
                    let sum: f64 = exps.iter().sum();
                    for j in 0..n {
                        let mut p = exps[j] / sum;
                        if let Some(mask) = mask {
                            let keep = mask.keeps((task * n + i) * n + j);
                            p = if keep { p / (1.0 - mask.prob) } else { 0.0 };
                        }
                        significance[b * n + j] += voters[b * n + i] as f64 * p;
                        for d in 0..dh {
                            context[(b * n + i) * width + hd * dh + d] += p * at(v, j, d);
                        }
                    }
                }
            }
        }
        (context, significance)
    }
}

fn widen(x: &[f32]) -> Vec<f64> {
    x.iter().map(|v| *v as f64).collect()
}

fn check_against_reference(mask: Option<DropoutMask>) {
    // Two sequences, one with padding; n not a multiple of 32.
    let case = Case::new(vec![5, 3], 5, 2, 11);
    let key_bias = case.key_bias();
    let voters = case.voters();
    let input = TrainAttentionInput {
        q: &case.q,
        k: &case.k,
        v: &case.v,
        key_bias: &key_bias,
        voters: Some(&voters),
        dropout: mask,
        batch_size: 2,
        n: case.n,
        heads: case.heads,
        head_dim: case.head_dim,
    };
    let forward = attention_forward(&input);
    let (q, k, v) = (widen(&case.q), widen(&case.k), widen(&case.v));
    let (want, want_sig) = case.reference(&q, &k, &v, mask);
    for (i, (g, w)) in forward.context.iter().zip(&want).enumerate() {
        assert!((*g as f64 - w).abs() < 1e-5, "context[{i}] = {g}, want {w}");
    }
    let sig = forward.significance.expect("voters given");
    for (i, (g, w)) in sig.iter().zip(&want_sig).enumerate() {
        assert!(
            (*g as f64 - w).abs() < 1e-5,
            "significance[{i}] = {g}, want {w}"
        );
    }
    // Loss Σ context ⊙ probe; gradients by central differences of the f64 reference.
    let probe = uniform(want.len(), 99);
    let grads = attention_backward(&input, &forward.probs, &probe);
    let loss = |q: &[f64], k: &[f64], v: &[f64]| -> f64 {
        let (c, _) = case.reference(q, k, v, mask);
        c.iter().zip(&probe).map(|(c, p)| c * *p as f64).sum()
    };
    let eps = 1e-5;
    for (which, got) in [(0, &grads.q), (1, &grads.k), (2, &grads.v)] {
        for i in (0..got.len()).step_by(7) {
            let mut ops = [q.clone(), k.clone(), v.clone()];
            ops[which][i] += eps;
            let up = loss(&ops[0], &ops[1], &ops[2]);
            ops[which][i] -= 2.0 * eps;
            let down = loss(&ops[0], &ops[1], &ops[2]);
            let numeric = (up - down) / (2.0 * eps);
            assert!(
                (got[i] as f64 - numeric).abs() < 1e-4,
                "operand {which} [{i}]: kernel {} vs numeric {numeric}",
                got[i]
            );
        }
    }
}

#[test]
fn forward_and_gradients_match_the_f64_reference() {
    if kernels_available() {
        check_against_reference(None);
    }
}

#[test]
fn forward_and_gradients_match_the_f64_reference_under_dropout() {
    if kernels_available() {
        check_against_reference(Some(DropoutMask {
            seed: 42,
            prob: 0.3,
        }));
    }
}

fn tensor(values: &[f32], shape: [usize; 2], device: &Device) -> Tensor<2> {
    Tensor::from_data(TensorData::new(values.to_vec(), shape), device).require_grad()
}

#[test]
fn the_autodiff_op_matches_burns_composite() {
    if !bridge_available() {
        return;
    }
    let device = Device::flex().autodiff();
    let case = Case::new(vec![40, 33, 17], 40, 3, 21);
    let (b, n, h, dh) = (3, case.n, case.heads, case.head_dim);
    let shape = [b * n, h * dh];
    let [q, k, v] = [&case.q, &case.k, &case.v].map(|x| tensor(x, shape, &device));
    let no_dropout = DropoutConfig::new(0.0).init();
    let fused = attention_core(&q, &k, &v, &case.counts, h, &no_dropout, true).expect("kernels");
    // burn's composite, as the model writes it.
    let split = |t: Tensor<2>| t.reshape([b, n, h, dh]).swap_dims(1, 2);
    let bias = Tensor::<2>::from_data(TensorData::new(case.key_bias(), [b, n]), &device)
        .reshape([b, 1, 1, n]);
    let scores = split(q.clone())
        .mul_scalar(1.0 / (dh as f64).sqrt())
        .matmul(split(k.clone()).swap_dims(2, 3))
        + bias;
    let probs = softmax(scores, 3);
    let voters =
        Tensor::<2>::from_data(TensorData::new(case.voters(), [b, n]), &device).reshape([b, 1, n]);
    let significance = voters
        .matmul(probs.clone().sum_dim(1).reshape([b, n, n]))
        .reshape([b, n]);
    let context = probs
        .matmul(split(v.clone()))
        .swap_dims(1, 2)
        .reshape(shape);
    let close = |a: Tensor<2>, w: Tensor<2>, tol: f32, what: &str| {
        let (a, w): (Vec<f32>, Vec<f32>) = (
            a.into_data().try_to_vec().expect("f32"),
            w.into_data().try_to_vec().expect("f32"),
        );
        for (i, (x, y)) in a.iter().zip(&w).enumerate() {
            assert!((x - y).abs() <= tol, "{what}[{i}] = {x}, burn gives {y}");
        }
    };
    close(fused.context.clone(), context.clone(), 1e-5, "context");
    close(
        fused.significance.expect("asked for"),
        significance,
        1e-4,
        "significance",
    );
    let probe = Tensor::<2>::from_data(TensorData::new(uniform(b * n * h * dh, 5), shape), &device);
    let ours = (fused.context * probe.clone()).sum().backward();
    let burns = (context * probe).sum().backward();
    for (t, what) in [(&q, "∂q"), (&k, "∂k"), (&v, "∂v")] {
        close(
            t.grad(&ours).expect("grad"),
            t.grad(&burns).expect("grad"),
            1e-4,
            what,
        );
    }
}
