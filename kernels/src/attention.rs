//! Multi-head scaled dot-product attention over row-major activations, one task per
//! (sequence, head), with each token's significance (the probability mass it receives,
//! summed over heads and voting query rows) produced on the way: the probabilities are
//! never materialised as a tensor and the heads are never split or merged by copies.

use core::arch::x86_64::{
    __m512, _mm512_add_ps, _mm512_fmadd_ps, _mm512_loadu_ps, _mm512_mask_storeu_ps,
    _mm512_maskz_loadu_ps, _mm512_max_ps, _mm512_mul_ps, _mm512_reduce_add_ps,
    _mm512_reduce_max_ps, _mm512_set1_ps, _mm512_setzero_ps, _mm512_storeu_ps, _mm512_sub_ps,
};
use rayon::prelude::*;

use crate::simd_math;

/// A matrix of rows inside a wider row-major buffer: row `r` of the view starts at
/// `data[r * stride + offset]` (for instance the key columns of a fused QKV output).
#[derive(Debug, Clone, Copy)]
pub struct Rows<'a> {
    /// The whole buffer.
    pub data: &'a [f32],
    /// Floats between the starts of consecutive rows.
    pub stride: usize,
    /// Column where this view starts.
    pub offset: usize,
}

impl Rows<'_> {
    fn row(&self, r: usize, width: usize) -> &[f32] {
        let start = r * self.stride + self.offset;
        &self.data[start..start + width]
    }
}

/// Operands of one attention call over `batch_size` sequences of `n` keys each.
#[derive(Debug, Clone, Copy)]
pub struct AttentionInput<'a> {
    /// Queries, `batch_size * queries` rows of `heads * head_dim`.
    pub q: Rows<'a>,
    /// Keys, `batch_size * n` rows of `heads * head_dim`.
    pub k: Rows<'a>,
    /// Values, laid out as the keys.
    pub v: Rows<'a>,
    /// Additive score bias per key, `[batch_size, n]` (0 for real keys, a large negative
    /// number for padding).
    pub key_bias: &'a [f32],
    /// Weight of each query row in the significance, `[batch_size, queries]` (1 for real
    /// rows, 0 for padding); `None` when no significance is wanted.
    pub voters: Option<&'a [f32]>,
    /// Sequences in the batch.
    pub batch_size: usize,
    /// Query rows per sequence.
    pub queries: usize,
    /// Keys per sequence.
    pub n: usize,
    /// Attention heads.
    pub heads: usize,
    /// Width of one head (a multiple of 16).
    pub head_dim: usize,
}

/// What [`attention`] returns.
#[derive(Debug, Clone)]
pub struct AttentionResult {
    /// Context vectors, row-major `[batch_size * queries, heads * head_dim]`, heads in order.
    pub context: Vec<f32>,
    /// Significance per key, `[batch_size, n]`, when voters were given.
    pub significance: Option<Vec<f32>>,
}

/// `softmax(q kᵀ / √d + bias) v` for every head, plus the significance when asked.
///
/// # Panics
/// When the CPU lacks AVX-512F, the head width is not a multiple of 16 or a slice is
/// shorter than its shape says.
pub fn attention(input: &AttentionInput<'_>) -> AttentionResult {
    assert!(crate::cpu::avx512(), "the attention kernel needs AVX-512F");
    assert_eq!(
        input.head_dim % 16,
        0,
        "head width must be a multiple of 16"
    );
    let (b, h, n) = (input.batch_size, input.heads, input.n);
    assert_eq!(
        input.key_bias.len(),
        b * n,
        "key bias is not [batch_size, n]"
    );
    if let Some(voters) = input.voters {
        assert_eq!(
            voters.len(),
            b * input.queries,
            "voters are not [batch_size, queries]"
        );
    }
    let width = h * input.head_dim;
    let heads: Vec<HeadOutput> = (0..b * h)
        .into_par_iter()
        // SAFETY: AVX-512F checked above.
        .map(|task| unsafe { head(input, task / h, task % h) })
        .collect();
    let mut context = vec![0.0; b * input.queries * width];
    for (task, out) in heads.iter().enumerate() {
        let (seq, hd) = (task / h, task % h);
        for (i, ctx) in out.context.chunks_exact(input.head_dim).enumerate() {
            let row = (seq * input.queries + i) * width + hd * input.head_dim;
            context[row..row + input.head_dim].copy_from_slice(ctx);
        }
    }
    let significance = input.voters.map(|_| {
        let mut sig = vec![0.0; b * n];
        for (task, out) in heads.iter().enumerate() {
            let row = &mut sig[(task / h) * n..(task / h + 1) * n];
            for (s, p) in row.iter_mut().zip(&out.received) {
                *s += p;
            }
        }
        sig
    });
    AttentionResult {
        context,
        significance,
    }
}

/// One head of one sequence: its context rows and the probability each key received.
struct HeadOutput {
    context: Vec<f32>,
    received: Vec<f32>,
}

/// # Safety
/// AVX-512F must be available.
#[target_feature(enable = "avx512f")]
unsafe fn head(input: &AttentionInput<'_>, seq: usize, hd: usize) -> HeadOutput {
    let (n, dh) = (input.n, input.head_dim);
    // Keys padded to whole registers; padded keys score -1e9 and so weigh exactly 0.
    let n_pad = n.next_multiple_of(16);
    let col = hd * dh;
    let scale = 1.0 / (dh as f32).sqrt();
    // Keys transposed, [dh][n_pad]: a block of 16 scores is then dh FMAs on one register.
    let mut kt = vec![0.0f32; dh * n_pad];
    for j in 0..n {
        let key = &input.k.row(seq * n + j, col + dh)[col..];
        for (d, x) in key.iter().enumerate() {
            kt[d * n_pad + j] = *x;
        }
    }
    let mut bias = vec![-1.0e9f32; n_pad];
    bias[..n].copy_from_slice(&input.key_bias[seq * n..(seq + 1) * n]);
    let values: Vec<&[f32]> = (0..n)
        .map(|j| &input.v.row(seq * n + j, col + dh)[col..])
        .collect();
    let mut context = vec![0.0f32; input.queries * dh];
    let mut received = vec![0.0f32; if input.voters.is_some() { n } else { 0 }];
    let mut scores = vec![0.0f32; n_pad];
    let mut q = vec![0.0f32; dh];
    for i in 0..input.queries {
        let row = &input.q.row(seq * input.queries + i, col + dh)[col..];
        for (qs, x) in q.iter_mut().zip(row) {
            *qs = x * scale;
        }
        scores_block(&q, &kt, &bias, &mut scores);
        softmax_in_place(&mut scores);
        weighted_sum(&scores[..n], &values, &mut context[i * dh..(i + 1) * dh]);
        if let Some(voters) = input.voters {
            let weight = voters[seq * input.queries + i];
            if weight != 0.0 {
                axpy(weight, &scores[..n], &mut received);
            }
        }
    }
    HeadOutput { context, received }
}

/// `scores = bias + q · kt` for one query, 64 keys per pass with four register chains.
#[target_feature(enable = "avx512f")]
fn scores_block(q: &[f32], kt: &[f32], bias: &[f32], scores: &mut [f32]) {
    let n_pad = scores.len();
    let mut j = 0;
    while j < n_pad {
        let blocks = ((n_pad - j) / 16).min(4);
        // SAFETY: every access stays below j + 16 * blocks <= n_pad within each kt row,
        // the bias and the scores.
        unsafe {
            let mut acc = [_mm512_setzero_ps(); 4];
            for (c, a) in acc.iter_mut().enumerate().take(blocks) {
                *a = _mm512_loadu_ps(bias.as_ptr().add(j + 16 * c));
            }
            for (d, qd) in q.iter().enumerate() {
                let qv = _mm512_set1_ps(*qd);
                let base = kt.as_ptr().add(d * n_pad + j);
                for (c, a) in acc.iter_mut().enumerate().take(blocks) {
                    *a = _mm512_fmadd_ps(qv, _mm512_loadu_ps(base.add(16 * c)), *a);
                }
            }
            for (c, a) in acc.iter().enumerate().take(blocks) {
                _mm512_storeu_ps(scores.as_mut_ptr().add(j + 16 * c), *a);
            }
        }
        j += 16 * blocks;
    }
}

/// `out = Σ_j p_j · values_j` with the row kept in registers (head width 16, 32 or 48...).
#[target_feature(enable = "avx512f")]
fn weighted_sum(p: &[f32], values: &[&[f32]], out: &mut [f32]) {
    for c0 in (0..out.len()).step_by(64) {
        let lanes = ((out.len() - c0) / 16).min(4);
        // Two accumulator sets over alternate keys halve the FMA dependency chain.
        let mut even = [_mm512_setzero_ps(); 4];
        let mut odd = [_mm512_setzero_ps(); 4];
        let mut pairs = p.chunks_exact(2).zip(values.chunks_exact(2));
        for (pp, vv) in &mut pairs {
            let (p0, p1) = (_mm512_set1_ps(pp[0]), _mm512_set1_ps(pp[1]));
            for c in 0..lanes {
                // SAFETY: each value row has out.len() >= c0 + 16 * lanes floats.
                unsafe {
                    even[c] = _mm512_fmadd_ps(
                        p0,
                        _mm512_loadu_ps(vv[0].as_ptr().add(c0 + 16 * c)),
                        even[c],
                    );
                    odd[c] = _mm512_fmadd_ps(
                        p1,
                        _mm512_loadu_ps(vv[1].as_ptr().add(c0 + 16 * c)),
                        odd[c],
                    );
                }
            }
        }
        if let (Some(pl), Some(vl)) = (
            p.chunks_exact(2).remainder().first(),
            values.chunks_exact(2).remainder().first(),
        ) {
            let pv = _mm512_set1_ps(*pl);
            for c in 0..lanes {
                // SAFETY: as above.
                even[c] = _mm512_fmadd_ps(
                    pv,
                    unsafe { _mm512_loadu_ps(vl.as_ptr().add(c0 + 16 * c)) },
                    even[c],
                );
            }
        }
        for c in 0..lanes {
            // SAFETY: out has c0 + 16 * lanes floats.
            unsafe {
                _mm512_storeu_ps(
                    out.as_mut_ptr().add(c0 + 16 * c),
                    _mm512_add_ps(even[c], odd[c]),
                )
            };
        }
    }
}

/// `y += a · x`, 16 lanes at a time with a masked tail.
#[inline]
#[target_feature(enable = "avx512f")]
fn axpy(a: f32, x: &[f32], y: &mut [f32]) {
    assert_eq!(x.len(), y.len());
    let av = _mm512_set1_ps(a);
    let mut j = 0;
    while j + 16 <= x.len() {
        // SAFETY: j + 16 <= len for both slices.
        unsafe {
            let yv = _mm512_fmadd_ps(
                av,
                _mm512_loadu_ps(x.as_ptr().add(j)),
                _mm512_loadu_ps(y.as_ptr().add(j)),
            );
            _mm512_storeu_ps(y.as_mut_ptr().add(j), yv);
        }
        j += 16;
    }
    if j < x.len() {
        let m = tail_mask(x.len() - j);
        // SAFETY: the mask covers only the len - j valid elements.
        unsafe {
            let yv = _mm512_fmadd_ps(
                av,
                _mm512_maskz_loadu_ps(m, x.as_ptr().add(j)),
                _mm512_maskz_loadu_ps(m, y.as_ptr().add(j)),
            );
            _mm512_mask_storeu_ps(y.as_mut_ptr().add(j), m, yv);
        }
    }
}

/// Numerically stable softmax of one row (max subtracted first, as burn's).
#[target_feature(enable = "avx512f")]
fn softmax_in_place(x: &mut [f32]) {
    let max = fold(
        x,
        _mm512_set1_ps(f32::MIN),
        |acc, v| _mm512_max_ps(acc, v),
        f32::MIN,
    );
    let max = _mm512_reduce_max_ps(max);
    let mv = _mm512_set1_ps(max);
    map_in_place(x, |v| simd_math::exp(_mm512_sub_ps(v, mv)));
    let sum = fold(x, _mm512_setzero_ps(), |acc, v| _mm512_add_ps(acc, v), 0.0);
    let inv = _mm512_set1_ps(1.0 / _mm512_reduce_add_ps(sum));
    map_in_place(x, |v| _mm512_mul_ps(v, inv));
}

/// Lane-wise reduction of a slice; the tail is padded with `pad`.
#[inline]
#[target_feature(enable = "avx512f")]
fn fold(x: &[f32], init: __m512, f: impl Fn(__m512, __m512) -> __m512, pad: f32) -> __m512 {
    let mut acc = init;
    let mut chunks = x.chunks_exact(16);
    for c in &mut chunks {
        // SAFETY: the chunk has 16 floats.
        acc = f(acc, unsafe { _mm512_loadu_ps(c.as_ptr()) });
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut last = [pad; 16];
        last[..rest.len()].copy_from_slice(rest);
        // SAFETY: `last` has 16 floats.
        acc = f(acc, unsafe { _mm512_loadu_ps(last.as_ptr()) });
    }
    acc
}

/// Applies `f` to a slice 16 lanes at a time.
#[inline]
#[target_feature(enable = "avx512f")]
fn map_in_place(x: &mut [f32], f: impl Fn(__m512) -> __m512) {
    let mut chunks = x.chunks_exact_mut(16);
    for c in &mut chunks {
        // SAFETY: the chunk has 16 floats.
        unsafe { _mm512_storeu_ps(c.as_mut_ptr(), f(_mm512_loadu_ps(c.as_ptr()))) };
    }
    let rest = chunks.into_remainder();
    if !rest.is_empty() {
        let m = tail_mask(rest.len());
        // SAFETY: the mask covers only the remainder's floats.
        unsafe {
            let v = f(_mm512_maskz_loadu_ps(m, rest.as_ptr()));
            _mm512_mask_storeu_ps(rest.as_mut_ptr(), m, v);
        }
    }
}

/// The first `len` (< 16) lanes.
pub(crate) fn tail_mask(len: usize) -> u16 {
    ((1u32 << len.min(16)) - 1) as u16
}
