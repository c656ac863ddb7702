//! The backward pass of a dense layer `y = act(x · W + b)`, on the forward's GEMM:
//! `g = ∂y ⊙ act'(x · W + b)`, then `∂x = g · Wᵀ`, `∂W = xᵀ · g` and `∂b = Σ_rows g`.
//! Both products run on the forward's micro-kernel: `Wᵀ` is packed straight from `W`, and
//! `xᵀ` is read in place by columns.

use std::borrow::Cow;

use rayon::prelude::*;

use crate::gelu::gelu_backward;
use crate::gemm::{Activation, linear, linear_transposed_a};
use crate::packed::PackedWeight;

/// Rows per parallel task of the bias gradient.
const SUM_ROWS: usize = 64;

/// What the forward pass of a dense layer leaves for its backward pass.
#[derive(Debug, Clone, Copy)]
pub struct DenseSaved<'a> {
    /// The input `x`, row-major `[m, k]`.
    pub input: &'a [f32],
    /// The weight `W`, row-major `[k, n]` (burn's `Linear` layout).
    pub weight: &'a [f32],
    /// `x · W + b`, `[m, n]`: what GELU's derivative is taken at (unused for identity).
    pub pre_activation: &'a [f32],
    /// The activation that followed the product.
    pub activation: Activation,
    /// Rows of `x`.
    pub m: usize,
    /// Input features.
    pub k: usize,
    /// Output features.
    pub n: usize,
}

/// Which gradients to compute: a frozen parameter or a constant input needs none.
#[derive(Debug, Clone, Copy)]
pub struct DenseWanted {
    /// `∂x`.
    pub input: bool,
    /// `∂W`.
    pub weight: bool,
    /// `∂b`.
    pub bias: bool,
}

/// A dense layer's gradients, each present when it was asked for.
#[derive(Debug, Clone)]
pub struct DenseGrads {
    /// `∂x`, `[m, k]`.
    pub input: Option<Vec<f32>>,
    /// `∂W`, `[k, n]`.
    pub weight: Option<Vec<f32>>,
    /// `∂b`, `[n]`.
    pub bias: Option<Vec<f32>>,
}

/// The gradients of a dense layer given `∂y` (`grad_output`, `[m, n]`).
///
/// # Panics
/// When the CPU lacks AVX-512F or a buffer's length disagrees with `m`, `k`, `n`.
pub fn dense_backward(
    saved: &DenseSaved<'_>,
    grad_output: &[f32],
    wanted: DenseWanted,
) -> DenseGrads {
    let (m, k, n) = (saved.m, saved.k, saved.n);
    assert_eq!(saved.input.len(), m * k, "input is not [m, k]");
    assert_eq!(saved.weight.len(), k * n, "weight is not [k, n]");
    assert_eq!(grad_output.len(), m * n, "gradient is not [m, n]");
    let g: Cow<'_, [f32]> = match saved.activation {
        Activation::Identity => Cow::Borrowed(grad_output),
        Activation::Gelu => Cow::Owned(gelu_backward(saved.pre_activation, grad_output)),
    };
    let input = wanted.input.then(|| {
        let weight_t = PackedWeight::transposed(saved.weight, n, k);
        linear(&g, m, &weight_t, Activation::Identity)
    });
    let weight = wanted.weight.then(|| {
        let g_packed = PackedWeight::f32_only(&g, None, m, n);
        linear_transposed_a(saved.input, k, &g_packed, Activation::Identity)
    });
    let bias = wanted.bias.then(|| column_sums(&g, n));
    DenseGrads {
        input,
        weight,
        bias,
    }
}

/// Sums of the columns of a row-major matrix `n` wide.
pub(crate) fn column_sums(x: &[f32], n: usize) -> Vec<f32> {
    x.par_chunks(SUM_ROWS * n)
        .map(|rows| {
            let mut sums = vec![0.0f32; n];
            for row in rows.chunks_exact(n) {
                for (s, v) in sums.iter_mut().zip(row) {
                    *s += v;
                }
            }
            sums
        })
        .reduce(
            || vec![0.0; n],
            |mut a, b| {
                for (x, y) in a.iter_mut().zip(b) {
                    *x += y;
                }
                a
            },
        )
}
