//! The GEMM kernel against an f64 product: every tile height (1..=12 and remainders), full
//! and partial 32-column panels, with and without bias, identity and GELU epilogues.
// The kernels these tests call exist on x86-64 only (elsewhere the model runs burn's ops).
#![cfg(target_arch = "x86_64")]

mod common;

use common::{assert_close, gelu, kernels_available, matmul, uniform};
use lat_kernels::{Activation, PackedWeight, linear};

fn check(m: usize, k: usize, n: usize, with_bias: bool, activation: Activation) {
    let a = uniform(m * k, 1 + m as u64);
    let w = uniform(k * n, 2 + n as u64);
    let bias = with_bias.then(|| uniform(n, 3));
    let packed = PackedWeight::new(&w, bias.as_deref(), k, n);
    let got = linear(&a, m, &packed, activation);
    let mut want = matmul(&a, &w, bias.as_deref(), m, k, n);
    if activation == Activation::Gelu {
        want.iter_mut().for_each(|x| *x = gelu(*x));
    }
    // f32 accumulation over k terms of size <= 1.
    let tol = 2e-6 * (k as f64).sqrt() * 4.0;
    assert_close(
        &got,
        &want,
        tol,
        &format!("{m}x{k}x{n} bias={with_bias} {activation:?}"),
    );
}

#[test]
fn every_tile_height_and_panel_width() {
    if !kernels_available() {
        return;
    }
    for m in [1, 2, 5, 11, 12, 13, 24, 47, 49, 97] {
        for n in [1, 16, 17, 31, 32, 33, 64, 100] {
            check(m, 40, n, true, Activation::Identity);
        }
    }
}

#[test]
fn model_shapes_with_gelu_and_without_bias() {
    if !kernels_available() {
        return;
    }
    check(300, 384, 96, true, Activation::Gelu);
    check(64, 1536, 64, false, Activation::Identity);
    check(3, 7, 5, false, Activation::Gelu);
}

#[test]
fn a_hand_worked_product() {
    if !kernels_available() {
        return;
    }
    // [1 2; 3 4] · [5 6; 7 8] + [1, -1] = [20 21; 44 49].
    let packed = PackedWeight::new(&[5.0, 6.0, 7.0, 8.0], Some(&[1.0, -1.0]), 2, 2);
    let got = linear(&[1.0, 2.0, 3.0, 4.0], 2, &packed, Activation::Identity);
    assert_eq!(got, vec![20.0, 21.0, 44.0, 49.0]);
    // GELU(0) = 0, GELU(1) = 0.8413447.
    let packed = PackedWeight::new(&[1.0, 0.0], None, 1, 2);
    let got = linear(&[1.0], 1, &packed, Activation::Gelu);
    assert!(
        (got[0] - 0.841_344_7).abs() < 1e-6 && got[1] == 0.0,
        "{got:?}"
    );
}

#[test]
fn exact_half_weights_give_the_same_bits_on_the_half_path() {
    if !kernels_available() {
        return;
    }
    // Multiples of 1/64 in [-1, 1] are exact halves, as in a checkpoint shipped in F16.
    let (k, n) = (96, 100);
    let w: Vec<f32> = uniform(k * n, 31)
        .iter()
        .map(|x| (x * 64.0).round() / 64.0)
        .collect();
    let bias = uniform(n, 32);
    let packed = PackedWeight::new(&w, Some(&bias), k, n);
    assert!(packed.is_half_exact());
    let a = uniform(40 * k, 33);
    // 16 rows read the half-size panels, 40 rows the f32 ones; the shared rows must agree
    // to the bit, and both must match the f64 product.
    for activation in [Activation::Identity, Activation::Gelu] {
        let short = linear(&a[..16 * k], 16, &packed, activation);
        let long = linear(&a, 40, &packed, activation);
        assert_eq!(short, long[..16 * n], "{activation:?}");
    }
    let want = matmul(&a[..16 * k], &w, Some(&bias), 16, k, n);
    let got = linear(&a[..16 * k], 16, &packed, Activation::Identity);
    assert_close(&got, &want, 1e-4, "half path");
    // One value that is not a half keeps the f32 panels only.
    let mut inexact = w.clone();
    inexact[5] = 0.1;
    assert!(!PackedWeight::new(&inexact, None, k, n).is_half_exact());
}

/// Row-major `[rows, cols]` → `[cols, rows]`, for the references of the backward GEMMs.
fn transposed(x: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    (0..cols)
        .flat_map(|c| (0..rows).map(move |r| x[r * cols + c]))
        .collect()
}

#[test]
fn a_read_by_columns_and_a_weight_packed_transposed() {
    if !kernels_available() {
        return;
    }
    // Heights 1..=8 with remainders, partial panels, and more than one row task.
    for (m, k, n) in [(1, 5, 7), (13, 33, 50), (300, 64, 100), (37, 20, 96)] {
        let a = uniform(m * k, 40 + m as u64);
        let w = uniform(k * n, 41 + n as u64);
        let want = matmul(&a, &w, None, m, k, n);
        let tol = 8e-6 * (k as f64).sqrt();
        // xᵀ · g with x = Aᵀ ([k, m]) read by columns and g = W as it lies (or packed
        // when n is not whole panels).
        let got = lat_kernels::weight_gradient(&transposed(&a, m, k), &w, [k, m, n]);
        assert_close(&got, &want, tol, &format!("Aᵀ {m}x{k}x{n}"));
        // B packed from Bᵀ ([n, k]) without a transposed copy.
        let packed = PackedWeight::transposed(&transposed(&w, k, n), k, n);
        let got = linear(&a, m, &packed, Activation::Identity);
        assert_close(&got, &want, tol, &format!("Bᵀ {m}x{k}x{n}"));
    }
}
