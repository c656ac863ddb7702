//! The residual LayerNorm kernel against an f64 reference.
// The kernels these tests call exist on x86-64 only (elsewhere the model runs burn's ops).
#![cfg(target_arch = "x86_64")]

mod common;

use common::{assert_close, kernels_available, uniform};
use lat_kernels::{LayerNormParams, add_layer_norm};

#[test]
fn matches_layer_norm_of_the_sum() {
    if !kernels_available() {
        return;
    }
    let (rows, d) = (70, 48);
    let mut x = uniform(rows * d, 11);
    // A large common offset: the two-pass variance must not cancel it away.
    x.iter_mut().for_each(|v| *v += 100.0);
    let residual = uniform(rows * d, 12);
    let gamma = uniform(d, 13);
    let beta = uniform(d, 14);
    let mut want = Vec::new();
    for r in 0..rows {
        let y: Vec<f64> = (0..d)
            .map(|c| x[r * d + c] as f64 + residual[r * d + c] as f64)
            .collect();
        let mean = y.iter().sum::<f64>() / d as f64;
        let var = y.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / d as f64;
        let inv = 1.0 / (var + 1e-12).sqrt();
        want.extend((0..d).map(|c| (y[c] - mean) * inv * gamma[c] as f64 + beta[c] as f64));
    }
    let params = LayerNormParams {
        gamma: &gamma,
        beta: &beta,
        epsilon: 1e-12,
    };
    add_layer_norm(&mut x, &residual, &params);
    assert_close(&x, &want, 2e-4, "layer norm");
}

#[test]
fn a_hand_worked_row() {
    if !kernels_available() {
        return;
    }
    // x + r = [0, 2, 0, 2, ...]: mean 1, variance 1, so the row becomes [-1, 1, ...] · γ + β.
    let d = 16;
    let mut x: Vec<f32> = (0..d)
        .map(|c| if c % 2 == 0 { -1.0 } else { 1.0 })
        .collect();
    let residual = vec![1.0; d];
    let (gamma, beta) = (vec![2.0; d], vec![0.5; d]);
    add_layer_norm(
        &mut x,
        &residual,
        &LayerNormParams {
            gamma: &gamma,
            beta: &beta,
            epsilon: 0.0,
        },
    );
    for (c, v) in x.iter().enumerate() {
        let want = if c % 2 == 0 { -1.5 } else { 2.5 };
        assert!((v - want).abs() < 1e-6, "{c}: {v}");
    }
}
