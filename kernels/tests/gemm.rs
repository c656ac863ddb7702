//! The GEMM kernel against an f64 product: every tile height (1..=12 and remainders), full
//! and partial 32-column panels, with and without bias, identity and GELU epilogues.

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
