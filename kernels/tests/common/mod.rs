//! Plain f64 references for the kernels and seeded test data.
#![allow(dead_code)] // each test file uses its own part

pub mod attention_case;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// `n` values uniform in [-1, 1) from `seed`.
pub fn uniform(n: usize, seed: u64) -> Vec<f32> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n).map(|_| rng.random_range(-1.0f32..1.0)).collect()
}

/// `a [m, k] · b [k, n] + bias` in f64.
pub fn matmul(
    a: &[f32],
    b: &[f32],
    bias: Option<&[f32]>,
    m: usize,
    k: usize,
    n: usize,
) -> Vec<f64> {
    let mut out = vec![0.0f64; m * n];
    for i in 0..m {
        for j in 0..n {
            let dot: f64 = (0..k)
                .map(|p| a[i * k + p] as f64 * b[p * n + j] as f64)
                .sum();
            out[i * n + j] = dot + bias.map_or(0.0, |b| b[j] as f64);
        }
    }
    out
}

/// HF BERT's exact GELU in f64.
pub fn gelu(x: f64) -> f64 {
    0.5 * x * (1.0 + libm::erf(x / 2f64.sqrt()))
}

/// Largest absolute difference, with the position of the first offender over `tol`.
pub fn assert_close(got: &[f32], want: &[f64], tol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (*g as f64 - w).abs() <= tol,
            "{what}[{i}] = {g}, want {w} (tol {tol})"
        );
    }
}

/// Whether the kernels can run on this CPU; tests that need them return early otherwise
/// (CI's machine has AVX-512, where they all run).
pub fn kernels_available() -> bool {
    let ok = lat_kernels::cpu::avx512();
    if !ok {
        eprintln!("no AVX-512F on this CPU: kernel test skipped");
    }
    ok
}

/// Whether the bridge to burn's flex device runs its kernels here (AVX-512F, and
/// `LAT_KERNELS` not `off`); tests of the bridge return early otherwise.
pub fn bridge_available() -> bool {
    let ok = lat_kernels::cpu::enabled();
    if !ok {
        eprintln!("the kernels are off or absent here: bridge test skipped");
    }
    ok
}
