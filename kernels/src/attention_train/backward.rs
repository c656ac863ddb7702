//! The backward pass, one task per (sequence, head).

use rayon::prelude::*;

use super::io::{TrainAttentionGrads, TrainAttentionInput};
use crate::dropout::dropout_in_place;
use crate::out_ptr::OutPtr;

/// The backward pass given the forward's probabilities and `∂C` (shaped as the context).
///
/// # Panics
/// When the CPU lacks AVX-512F or a shape disagrees.
pub fn attention_backward(
    input: &TrainAttentionInput<'_>,
    probs: &[f32],
    grad_context: &[f32],
) -> TrainAttentionGrads {
    input.check();
    let (b, h, n, n_pad) = (input.batch_size, input.heads, input.n, input.n_pad());
    assert_eq!(probs.len(), b * h * n * n_pad, "probabilities shape");
    assert_eq!(grad_context.len(), input.q.len(), "context gradient shape");
    let len = input.q.len();
    // Every element is written by the tiles (each head's columns of every row): no zeroing.
    let mut grads = TrainAttentionGrads {
        q: Vec::with_capacity(len),
        k: Vec::with_capacity(len),
        v: Vec::with_capacity(len),
    };
    let outs = [&mut grads.q, &mut grads.k, &mut grads.v]
        .map(|g| OutPtr(g.spare_capacity_mut().as_mut_ptr().cast()));
    (0..b * h).into_par_iter().for_each(|task| {
        let p = &probs[task * n * n_pad..(task + 1) * n * n_pad];
        // SAFETY: checked above; each task writes its own head's columns of its own
        // sequence's rows of the three gradients.
        unsafe { head_backward(input, task, p, grad_context, outs) }
    });
    // SAFETY: the tasks wrote every column of every row of the three gradients.
    unsafe {
        grads.q.set_len(len);
        grads.k.set_len(len);
        grads.v.set_len(len);
    }
    grads
}

/// The `n x n` matrix `src` (row stride `ld`) transposed into `dst`, row-major `[n][n]`.
fn transpose_square(src: &[f32], ld: usize, n: usize, dst: &mut Vec<f32>) {
    dst.clear();
    dst.resize(n * n, 0.0);
    for r in 0..n {
        for c in 0..n {
            dst[c * n + r] = src[r * ld + c];
        }
    }
}

/// One head's backward.
///
/// # Safety
/// AVX-512F and shapes checked by [`attention_backward`]; `outs` address `∂Q`, `∂K`, `∂V`.
#[target_feature(enable = "avx512f")]
unsafe fn head_backward(
    input: &TrainAttentionInput<'_>,
    task: usize,
    probs: &[f32],
    grad_context: &[f32],
    outs: [OutPtr; 3],
) {
    let head = input.head(task);
    let (n, n_pad) = (input.n, head.n_pad);
    let [dq, dk, dv] = outs;
    // ∂P′ = ∂C · Vᵀ, [n][n_pad].
    let vt = head.transposed(input.v, 1.0);
    let mut dp = vec![0.0; n * n_pad];
    // SAFETY: AVX-512F is enabled here; dp is [n][n_pad] and this task's own.
    unsafe { head.against_keys(grad_context, &vt, dp.as_mut_ptr(), None) };
    // ∂S = P ⊙ (∂P − rowsum(∂P ⊙ P)) / √d with ∂P = ∂P′ ⊙ keep / (1 − p); P′ for ∂V.
    let mut dropped = probs.to_vec();
    for (i, (dp, (p, d))) in dp
        .chunks_exact_mut(n_pad)
        .zip(
            probs
                .chunks_exact(n_pad)
                .zip(dropped.chunks_exact_mut(n_pad)),
        )
        .enumerate()
    {
        if let Some(mask) = input.dropout {
            // SAFETY: AVX-512F is enabled in this function.
            unsafe {
                dropout_in_place(&mut dp[..n], input.mask_base(task, i), mask);
                dropout_in_place(&mut d[..n], input.mask_base(task, i), mask);
            }
        }
        let dot: f32 = dp.iter().zip(p).map(|(g, p)| g * p).sum();
        dp.iter_mut()
            .zip(p)
            .for_each(|(g, p)| *g = p * (*g - dot) * input.scale());
    }
    let ds = dp;
    let mut at = Vec::new();
    // ∂V = P′ᵀ · ∂C: keys as rows.
    transpose_square(&dropped, n_pad, n, &mut at);
    // SAFETY: AVX-512F is enabled here; this head's rows of ∂V are this task's alone.
    unsafe { head.times_rows(&at, n, grad_context, dv.at(0)) };
    // ∂Q = ∂S · K (the 1/√d is in ∂S).
    // SAFETY: as above, for ∂Q.
    unsafe { head.times_rows(&ds, n_pad, input.k, dq.at(0)) };
    // ∂K = ∂Sᵀ · Q.
    transpose_square(&ds, n_pad, n, &mut at);
    // SAFETY: as above, for ∂K.
    unsafe { head.times_rows(&at, n, input.q, dk.at(0)) };
}
