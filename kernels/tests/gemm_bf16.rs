//! The AMX bf16 GEMM: on inputs that are already bf16 values it must equal an f64 product
//! up to f32 accumulation (rounding is then exact, so any layout or tiling slip shows);
//! on general f32 inputs it must stay within bf16's rounding of an f64 product. Shapes
//! cover one and two row tiles, partial row blocks, partial column tiles, k that is not a
//! whole tile, long inputs split into row tasks, bias and GELU.
// The kernels these tests call exist on x86-64 only (elsewhere the model runs burn's ops).
#![cfg(target_arch = "x86_64")]

mod common;

use common::{assert_close, gelu, matmul, uniform};
use half::bf16;
use lat_kernels::cpu::Precision;
use lat_kernels::{Activation, Bf16Weight, PackedWeight, linear, linear_bf16};

fn amx() -> bool {
    let ok = lat_kernels::cpu::bf16_available();
    if !ok {
        eprintln!("no AMX-BF16 here (or the kernels are off): bf16 GEMM test skipped");
    }
    ok
}

fn to_bf16(v: &[f32]) -> Vec<f32> {
    v.iter().map(|x| bf16::from_f32(*x).to_f32()).collect()
}

fn reference(
    a: &[f32],
    w: &[f32],
    bias: Option<&[f32]>,
    shape: [usize; 3],
    act: Activation,
) -> Vec<f64> {
    let [m, k, n] = shape;
    let mut want = matmul(a, w, bias, m, k, n);
    if act == Activation::Gelu {
        want.iter_mut().for_each(|x| *x = gelu(*x));
    }
    want
}

fn max_error(got: &[f32], want: &[f64]) -> f64 {
    got.iter()
        .zip(want)
        .map(|(g, w)| (*g as f64 - w).abs())
        .fold(0.0, f64::max)
}

fn check_exact_inputs(m: usize, k: usize, n: usize, with_bias: bool, act: Activation) {
    let a = to_bf16(&uniform(m * k, 10 + m as u64));
    let w = to_bf16(&uniform(k * n, 20 + n as u64));
    let bias = with_bias.then(|| uniform(n, 30));
    let got = linear_bf16(&a, m, &Bf16Weight::new(&w, bias.as_deref(), k, n), act);
    let want = reference(&a, &w, bias.as_deref(), [m, k, n], act);
    // Products of bf16 values are exact in f32; only the f32 sums round.
    let tol = 8e-6 * (k as f64).sqrt();
    assert_close(
        &got,
        &want,
        tol,
        &format!("{m}x{k}x{n} bias={with_bias} {act:?}"),
    );
}

#[test]
fn bf16_inputs_give_the_f64_product() {
    if !amx() {
        return;
    }
    for m in [1, 7, 16, 17, 31, 32, 33, 70] {
        for n in [1, 15, 16, 17, 32, 33, 80] {
            check_exact_inputs(m, 40, n, true, Activation::Identity);
        }
    }
    check_exact_inputs(300, 384, 96, true, Activation::Gelu);
    check_exact_inputs(600, 64, 200, false, Activation::Identity);
    check_exact_inputs(20, 1536, 384, true, Activation::Identity);
    check_exact_inputs(5, 3, 2, false, Activation::Gelu);
}

#[test]
fn f32_inputs_stay_within_bf16_rounding() {
    if !amx() {
        return;
    }
    let (m, k, n) = (45, 384, 64);
    let a = uniform(m * k, 1);
    let w = uniform(k * n, 2);
    let got = linear_bf16(
        &a,
        m,
        &Bf16Weight::new(&w, None, k, n),
        Activation::Identity,
    );
    let want = matmul(&a, &w, None, m, k, n);
    // Each operand is off by at most 2^-9 relatively, so each product by up to 2^-8 of
    // its size (|a·b| averages 1/4 here); the errors are independent, so the sum's grows
    // like sqrt(k): about 0.01 standard deviation at k = 384. 0.1 is ten of those, while
    // the outputs themselves are of size ~6 and a tiling slip errs by that much.
    let worst = max_error(&got, &want);
    assert!(worst < 0.1, "worst error {worst}");
    // And it is a bf16 result, not an f32 one: the f32 GEMM is far closer.
    let f32_out = linear(
        &a,
        m,
        &PackedWeight::new(&w, None, k, n),
        Activation::Identity,
    );
    let f32_worst = max_error(&f32_out, &want);
    assert!(f32_worst < worst / 10.0, "f32 {f32_worst} vs bf16 {worst}");
}

#[test]
fn a_hand_worked_product() {
    if !amx() {
        return;
    }
    // [1 2; 3 4] · [5 6; 7 8] + [1, -1] = [20 21; 44 49]; every value is exact in bf16.
    let w = Bf16Weight::new(&[5.0, 6.0, 7.0, 8.0], Some(&[1.0, -1.0]), 2, 2);
    let got = linear_bf16(&[1.0, 2.0, 3.0, 4.0], 2, &w, Activation::Identity);
    assert_eq!(got, vec![20.0, 21.0, 44.0, 49.0]);
    // 1 + 2^-8 rounds to 1 in bf16 (7 stored mantissa bits): 1 · 1, not 1.0039.
    let w = Bf16Weight::new(&[1.0], None, 1, 1);
    assert_eq!(
        linear_bf16(&[1.0 + 1.0 / 256.0], 1, &w, Activation::Identity),
        vec![1.0]
    );
}

#[test]
fn the_packed_weight_reads_its_bf16_tiles_only_in_bf16() {
    if !amx() {
        return;
    }
    let (m, k, n) = (9, 64, 48);
    let a = uniform(m * k, 5);
    let w = uniform(k * n, 6);
    let bias = uniform(n, 7);
    let packed = PackedWeight::new(&w, Some(&bias), k, n).with_bf16(&w, Some(&bias));
    assert!(packed.has_bf16());
    let f32_out = linear(
        &a,
        m,
        &PackedWeight::new(&w, Some(&bias), k, n),
        Activation::Gelu,
    );
    let bf16_out = linear_bf16(
        &a,
        m,
        &Bf16Weight::new(&w, Some(&bias), k, n),
        Activation::Gelu,
    );
    // This test binary alone switches the process's precision; its other tests call the
    // bf16 GEMM directly.
    assert_eq!(lat_kernels::cpu::precision(), Precision::F32);
    assert_eq!(linear(&a, m, &packed, Activation::Gelu), f32_out);
    lat_kernels::cpu::set_precision(Precision::Bf16).expect("AMX is available");
    let switched = linear(&a, m, &packed, Activation::Gelu);
    lat_kernels::cpu::set_precision(Precision::F32).expect("f32 always is");
    assert_eq!(switched, bf16_out);
    assert_ne!(switched, f32_out);
}
