//! The forward pass, one task per (sequence, head).

use core::mem::MaybeUninit;

use rayon::prelude::*;

use super::io::{TrainAttentionForward, TrainAttentionInput};
use crate::attention::MASKED;
use crate::dropout::dropout_in_place;
use crate::out_ptr::OutPtr;
use crate::row_ops::softmax_in_place;

/// The forward pass: context, probabilities kept for [`attention_backward`](super::attention_backward), significance.
///
/// # Panics
/// When the CPU lacks AVX-512F or a shape disagrees.
pub fn attention_forward(input: &TrainAttentionInput<'_>) -> TrainAttentionForward {
    input.check();
    let (b, h, n, n_pad, width) = (
        input.batch_size,
        input.heads,
        input.n,
        input.n_pad(),
        input.width(),
    );
    // Every probability and context float is written by the tiles: no zeroing.
    let (probs_len, context_len) = (b * h * n * n_pad, b * n * width);
    let mut probs: Vec<f32> = Vec::with_capacity(probs_len);
    let mut context: Vec<f32> = Vec::with_capacity(context_len);
    let out = OutPtr(context.spare_capacity_mut().as_mut_ptr().cast());
    let received: Vec<Vec<f32>> = probs.spare_capacity_mut()[..probs_len]
        .par_chunks_mut((n * n_pad).max(1))
        .enumerate()
        .map(|(task, p)| {
            // SAFETY: checked above; each task writes its own probabilities and its own
            // head's columns of its own sequence's context rows.
            unsafe { head_forward(input, task, p, out) }
        })
        .collect();
    // SAFETY: the tasks wrote every probability ([n][n_pad] each) and every context
    // column of every row (heads x head_dim = width).
    unsafe {
        probs.set_len(probs_len);
        context.set_len(context_len);
    }
    let significance = input.voters.map(|_| {
        let mut sig = vec![0.0; b * n];
        for (task, part) in received.iter().enumerate() {
            let row = &mut sig[(task / h) * n..(task / h + 1) * n];
            row.iter_mut().zip(part).for_each(|(s, p)| *s += p);
        }
        sig
    });
    TrainAttentionForward {
        context,
        probs,
        significance,
    }
}

/// One head's forward; returns the probability each key received from the voters.
///
/// # Safety
/// AVX-512F and shapes checked by [`attention_forward`]; `out` addresses the context.
#[target_feature(enable = "avx512f")]
unsafe fn head_forward(
    input: &TrainAttentionInput<'_>,
    task: usize,
    probs: &mut [MaybeUninit<f32>],
    out: OutPtr,
) -> Vec<f32> {
    let head = input.head(task);
    let (n, n_pad, seq) = (input.n, head.n_pad, task / input.heads);
    // Keys scaled and transposed, and the bias padded with masked keys.
    let kt = head.transposed(input.k, input.scale());
    let mut bias = input.key_bias[seq * n..(seq + 1) * n].to_vec();
    bias.resize(n_pad, MASKED);
    // SAFETY: AVX-512F is enabled here; the probabilities are this task's [n][n_pad].
    unsafe { head.against_keys(input.q, &kt, probs.as_mut_ptr().cast(), Some(&bias)) };
    // SAFETY: the product wrote all [n][n_pad] scores.
    let probs = unsafe { &mut *(probs as *mut [MaybeUninit<f32>] as *mut [f32]) };
    let mut dropped = probs.to_vec();
    let mut received = vec![0.0f32; if input.voters.is_some() { n } else { 0 }];
    for (i, (p, d)) in probs
        .chunks_exact_mut(n_pad)
        .zip(dropped.chunks_exact_mut(n_pad))
        .enumerate()
    {
        softmax_in_place(p);
        d.copy_from_slice(p);
        if let Some(mask) = input.dropout {
            // SAFETY: AVX-512F is enabled in this function.
            unsafe { dropout_in_place(&mut d[..n], input.mask_base(task, i), mask) };
        }
        if let Some(voters) = input.voters {
            let weight = voters[seq * n + i];
            received
                .iter_mut()
                .zip(&d[..n])
                .for_each(|(r, x)| *r += weight * x);
        }
    }
    // SAFETY: AVX-512F is enabled here; the context rows of this head are this task's.
    unsafe { head.times_rows(&dropped, n_pad, input.v, out.at(0)) };
    received
}
