//! Multi-head attention for training, one task per (sequence, head) as in inference: the
//! forward keeps each head's probabilities (before dropout) for the backward pass, drops
//! them with a counter-based mask that the backward recomputes, and yields the
//! significance from the dropped probabilities (as the composite does in training). The
//! backward runs the four products `∂P′ = ∂C·Vᵀ`, `∂V = P′ᵀ·∂C`, `∂Q = ∂S·K/√d` and
//! `∂K = ∂Sᵀ·Q/√d` on the GEMM micro-tile, with the softmax backward
//! `∂S = P ⊙ (∂P − rowsum(∂P ⊙ P))` between them.

use core::mem::MaybeUninit;

use rayon::prelude::*;

use crate::attention::{MASKED, softmax_in_place};
use crate::dropout::{DropoutMask, dropout_in_place};
use crate::gemm::{Activation, MR, NR, Tile};
use crate::out_ptr::OutPtr;

/// Operands of a training attention call over `batch_size` sequences of `n` tokens.
#[derive(Debug, Clone, Copy)]
pub struct TrainAttentionInput<'a> {
    /// Queries, row-major `[batch_size * n, heads * head_dim]`.
    pub q: &'a [f32],
    /// Keys, as the queries.
    pub k: &'a [f32],
    /// Values, as the queries.
    pub v: &'a [f32],
    /// Additive score bias per key, `[batch_size, n]` (0, or [`MASKED`] for padding).
    pub key_bias: &'a [f32],
    /// Weight of each query row in the significance, `[batch_size, n]`; `None` when no
    /// significance is wanted.
    pub voters: Option<&'a [f32]>,
    /// Dropout on the probabilities; `None` for none.
    pub dropout: Option<DropoutMask>,
    /// Sequences.
    pub batch_size: usize,
    /// Tokens per sequence.
    pub n: usize,
    /// Heads.
    pub heads: usize,
    /// Width of one head (a multiple of 32).
    pub head_dim: usize,
}

/// What the forward returns and keeps.
#[derive(Debug, Clone)]
pub struct TrainAttentionForward {
    /// Context, `[batch_size * n, heads * head_dim]`.
    pub context: Vec<f32>,
    /// Probabilities before dropout, `[batch_size * heads][n][n_pad]` with `n_pad` the
    /// key count rounded up to 32 (padding columns hold 0).
    pub probs: Vec<f32>,
    /// Attention received per key, `[batch_size, n]`, when voters were given.
    pub significance: Option<Vec<f32>>,
}

/// Gradients of the queries, keys and values, each shaped as its input.
#[derive(Debug, Clone)]
pub struct TrainAttentionGrads {
    /// `∂Q`.
    pub q: Vec<f32>,
    /// `∂K`.
    pub k: Vec<f32>,
    /// `∂V`.
    pub v: Vec<f32>,
}

impl TrainAttentionInput<'_> {
    fn width(&self) -> usize {
        self.heads * self.head_dim
    }

    fn n_pad(&self) -> usize {
        self.n.next_multiple_of(NR)
    }

    fn scale(&self) -> f32 {
        1.0 / (self.head_dim as f32).sqrt()
    }

    fn check(&self) {
        assert!(crate::cpu::avx512(), "the attention kernel needs AVX-512F");
        assert_eq!(self.head_dim % NR, 0, "head width must be a multiple of 32");
        let len = self.batch_size * self.n * self.width();
        for (x, what) in [(self.q, "queries"), (self.k, "keys"), (self.v, "values")] {
            assert_eq!(x.len(), len, "{what} are not [batch_size * n, width]");
        }
        assert_eq!(
            self.key_bias.len(),
            self.batch_size * self.n,
            "key bias shape"
        );
        if let Some(voters) = self.voters {
            assert_eq!(voters.len(), self.batch_size * self.n, "voters shape");
        }
    }

    /// Index of probability `(task, i, 0)` in a dense `[batch_size, heads, n, n]` tensor:
    /// the dropout mask's counter, independent of the padding.
    fn mask_base(&self, task: usize, i: usize) -> usize {
        (task * self.n + i) * self.n
    }
}

/// The forward pass: context, probabilities kept for [`attention_backward`], significance.
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

/// `C = A · B` on the 12 x 32 micro-tile, row block by row block and 32 columns at a time.
///
/// # Safety
/// AVX-512F; A has `rows` rows of `k` floats (stride `lda`), B `k` rows of `cols` floats
/// (stride `ldb`, `cols` a multiple of 32) and C `rows` rows of `cols` (stride `ldc`).
#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx512f")]
unsafe fn product(
    a: *const f32,
    lda: usize,
    b: *const f32,
    ldb: usize,
    c: *mut f32,
    ldc: usize,
    [rows, k, cols]: [usize; 3],
    bias: Option<*const f32>,
) {
    for i0 in (0..rows).step_by(MR) {
        for c0 in (0..cols).step_by(NR) {
            let tile = Tile {
                a_transposed: false,
                a: a.wrapping_add(i0 * lda),
                lda,
                b: b.wrapping_add(c0),
                b_half: None,
                ldb,
                k,
                bias: bias.map(|x| x.wrapping_add(c0)),
                c: c.wrapping_add(i0 * ldc + c0),
                ldc,
                height: MR.min(rows - i0),
                width: NR,
            };
            // SAFETY: forwarded from this function's contract.
            unsafe { tile.run(Activation::Identity) };
        }
    }
}

/// `[rows][cols]` (stride `ld`) transposed into `[cols][rows]`, times `scale`.
fn transpose_into(
    src: &[f32],
    ld: usize,
    rows: usize,
    cols: usize,
    scale: f32,
    dst: &mut Vec<f32>,
) {
    dst.clear();
    dst.resize(cols * rows, 0.0);
    for r in 0..rows {
        for c in 0..cols {
            dst[c * rows + r] = src[r * ld + c] * scale;
        }
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
    let (n, dh, width, n_pad) = (input.n, input.head_dim, input.width(), input.n_pad());
    let (seq, col) = (task / input.heads, (task % input.heads) * dh);
    let base = seq * n * width + col;
    // Keys scaled and transposed, [dh][n_pad], and the bias padded with masked keys.
    let mut kt = vec![0.0; dh * n_pad];
    for j in 0..n {
        for d in 0..dh {
            kt[d * n_pad + j] = input.k[base + j * width + d] * input.scale();
        }
    }
    let mut bias = input.key_bias[seq * n..(seq + 1) * n].to_vec();
    bias.resize(n_pad, MASKED);
    // SAFETY: query rows hold dh floats from `base`; kt and the bias are n_pad wide; the
    // probabilities are [n][n_pad].
    unsafe {
        product(
            input.q[base..].as_ptr(),
            width,
            kt.as_ptr(),
            n_pad,
            probs.as_mut_ptr().cast(),
            n_pad,
            [n, dh, n_pad],
            Some(bias.as_ptr()),
        );
    }
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
    // SAFETY: dropped rows hold n floats; value rows dh floats from `base`; the context
    // tile is this task's own.
    unsafe {
        product(
            dropped.as_ptr(),
            n_pad,
            input.v[base..].as_ptr(),
            width,
            out.at(base),
            width,
            [n, n, dh],
            None,
        );
    }
    received
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
    let (n, dh, width, n_pad) = (input.n, input.head_dim, input.width(), input.n_pad());
    let (seq, col) = (task / input.heads, (task % input.heads) * dh);
    let base = seq * n * width + col;
    let [dq, dk, dv] = outs;
    // ∂P′ = ∂C · Vᵀ, [n][n_pad].
    let mut vt = vec![0.0; dh * n_pad];
    for j in 0..n {
        for d in 0..dh {
            vt[d * n_pad + j] = input.v[base + j * width + d];
        }
    }
    let mut dp = vec![0.0; n * n_pad];
    // SAFETY: gradient rows hold dh floats from `base`; vt is [dh][n_pad]; dp [n][n_pad].
    unsafe {
        product(
            grad_context[base..].as_ptr(),
            width,
            vt.as_ptr(),
            n_pad,
            dp.as_mut_ptr(),
            n_pad,
            [n, dh, n_pad],
            None,
        );
    }
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
    transpose_into(&dropped, n_pad, n, n, 1.0, &mut at);
    // SAFETY: `at` is [n][n]; gradient rows hold dh floats; ∂V rows are this task's.
    unsafe {
        product(
            at.as_ptr(),
            n,
            grad_context[base..].as_ptr(),
            width,
            dv.at(base),
            width,
            [n, n, dh],
            None,
        )
    };
    // ∂Q = ∂S · K (the 1/√d is in ∂S).
    // SAFETY: ∂S rows hold n floats (stride n_pad); key rows dh floats; ∂Q rows this task's.
    unsafe {
        product(
            ds.as_ptr(),
            n_pad,
            input.k[base..].as_ptr(),
            width,
            dq.at(base),
            width,
            [n, n, dh],
            None,
        )
    };
    // ∂K = ∂Sᵀ · Q.
    transpose_into(&ds, n_pad, n, n, 1.0, &mut at);
    // SAFETY: `at` is [n][n]; query rows hold dh floats; ∂K rows are this task's.
    unsafe {
        product(
            at.as_ptr(),
            n,
            input.q[base..].as_ptr(),
            width,
            dk.at(base),
            width,
            [n, n, dh],
            None,
        )
    };
}
