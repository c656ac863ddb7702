//! The backward pass of a dense layer `y = act(x · W + b)`, on the forward's GEMM:
//! `g = ∂y ⊙ act'(x · W + b)`, then `∂x = g · Wᵀ`, `∂W = xᵀ · g` and `∂b = Σ_rows g`.
//! Both products run on the forward's micro-kernel: `Wᵀ` is packed straight from `W`, and
//! `xᵀ` is read in place by columns.

use std::borrow::Cow;

use rayon::prelude::*;

use crate::gelu::gelu_backward;
use crate::gemm::{Activation, MW, linear, linear_into};
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
    let weight = wanted
        .weight
        .then(|| weight_gradient(saved.input, &g, [m, k, n]));
    let bias = wanted.bias.then(|| column_sums(&g, n));
    DenseGrads {
        input,
        weight,
        bias,
    }
}

/// `xᵀ · g` (`[k, n]`) for `x` of `[m, k]` and `g` of `[m, n]`, both row-major, on the
/// micro-kernel: `g` is B, packed, and `x` is A by columns, regrouped first into blocks of 8 of its columns (`[k/8][m][8]`) so
/// that the kernel reads contiguous 8-float groups: reading `x` in place strides a row per
/// step, and such strides alias in L1 (measured 141-210 GFLOP/s against 250-300).
///
/// # Panics
/// When the CPU lacks AVX-512F or the lengths disagree with `[m, k, n]`.
pub fn weight_gradient(x: &[f32], g: &[f32], [m, k, n]: [usize; 3]) -> Vec<f32> {
    assert_eq!(x.len(), m * k, "input is not [m, k]");
    assert_eq!(g.len(), m * n, "gradient is not [m, n]");
    let blocks = k.div_ceil(MW);
    let mut grouped: Vec<f32> = Vec::with_capacity(blocks * m * MW);
    grouped.spare_capacity_mut()[..blocks * m * MW]
        .par_chunks_mut(m * MW)
        .enumerate()
        .for_each(|(block, dst)| {
            let (c0, width) = (block * MW, MW.min(k - block * MW));
            for (row, group) in x.chunks_exact(k).zip(dst.chunks_exact_mut(MW)) {
                for (i, slot) in group.iter_mut().enumerate() {
                    slot.write(if i < width { row[c0 + i] } else { 0.0 });
                }
            }
        });
    // SAFETY: every block wrote all of its m groups of MW floats.
    unsafe { grouped.set_len(blocks * m * MW) };
    // Packed even when g could be read in place: its rows are n apart, and at n = 1536
    // that stride aliases in L1 (measured 93 GFLOP/s in place against 246 packed).
    let packed = PackedWeight::f32_only(g, None, m, n);
    let mut out = Vec::with_capacity(k * n);
    linear_into(
        &grouped,
        true,
        k,
        &packed.operand(),
        Activation::Identity,
        out.spare_capacity_mut(),
    );
    // SAFETY: `linear_into` wrote all k * n elements (its tiles cover every row and column).
    unsafe { out.set_len(k * n) };
    out
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
