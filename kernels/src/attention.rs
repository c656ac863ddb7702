//! Multi-head scaled dot-product attention over row-major activations, one task per
//! (sequence, head), with each token's significance (the probability mass it receives,
//! summed over heads and voting query rows) produced on the way: the probabilities are
//! never materialised as a tensor and the heads are never split or merged by copies.

use rayon::prelude::*;

use crate::out_ptr::OutPtr;

use crate::attention_bf16::{self, Bf16Scratch, HeadView};
use crate::gemm::{Activation, MR, NR, Tile};
use crate::row_ops::{axpy, softmax_in_place};

/// Score bias of padding keys: finite, so that no row can turn into NaN, and far enough
/// below any real score that its weight after softmax is exactly 0.
pub(crate) const MASKED: f32 = -1.0e9;

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

impl<'a> Rows<'a> {
    pub(crate) fn row(&self, r: usize, width: usize) -> &'a [f32] {
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
    /// Width of one head (a multiple of 32).
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
/// When the CPU lacks AVX-512F, the head width is not a multiple of 32 or a slice is
/// shorter than its shape says.
pub fn attention(input: &AttentionInput<'_>) -> AttentionResult {
    let mut context = Vec::new();
    let significance = attention_to(input, &mut context);
    AttentionResult {
        context,
        significance,
    }
}

/// [`attention`] with the context written into `context` (contents replaced, allocation
/// reused); returns the significance when voters were given.
pub fn attention_to(input: &AttentionInput<'_>, context: &mut Vec<f32>) -> Option<Vec<f32>> {
    assert!(crate::cpu::avx512(), "the attention kernel needs AVX-512F");
    assert_eq!(
        input.head_dim % NR,
        0,
        "head width must be a multiple of 32"
    );
    let (b, h, n, queries) = (input.batch_size, input.heads, input.n, input.queries);
    let width = h * input.head_dim;
    assert_eq!(
        input.key_bias.len(),
        b * n,
        "key bias is not [batch_size, n]"
    );
    if let Some(voters) = input.voters {
        assert_eq!(
            voters.len(),
            b * queries,
            "voters are not [batch_size, queries]"
        );
    }
    for (view, rows) in [
        (&input.q, b * queries),
        (&input.k, b * n),
        (&input.v, b * n),
    ] {
        let needed = if rows == 0 {
            0
        } else {
            (rows - 1) * view.stride + view.offset + width
        };
        assert!(view.data.len() >= needed, "a view is shorter than its rows");
    }
    context.clear();
    context.reserve(b * queries * width);
    let out = OutPtr(context.spare_capacity_mut().as_mut_ptr().cast());
    let received: Vec<Vec<f32>> = (0..b * h)
        .into_par_iter()
        .map(|task| {
            HEAD_SCRATCH.with_borrow_mut(|scratch| {
                // SAFETY: AVX-512F and the operands' extents were checked above; each task
                // writes its own head's columns of its own sequence's rows.
                unsafe { head(input, task / h, task % h, out, scratch) }
            })
        })
        .collect();
    // SAFETY: the tasks wrote every column of every row (heads x head_dim = width).
    unsafe { context.set_len(b * queries * width) };
    input.voters.map(|_| {
        let mut sig = vec![0.0; b * n];
        for (task, part) in received.iter().enumerate() {
            let row = &mut sig[(task / h) * n..(task / h + 1) * n];
            for (s, p) in row.iter_mut().zip(part) {
                *s += p;
            }
        }
        sig
    })
}

/// Per-thread buffers of [`head`], kept between calls: at long inputs fresh ones cost page
/// faults and zeroing that showed in profiles.
#[derive(Default)]
struct HeadScratch {
    /// Scaled keys transposed, `[head_dim][n_pad]`.
    kt: Vec<f32>,
    /// Key bias padded to `n_pad`.
    bias: Vec<f32>,
    /// Scores, then probabilities, `[queries][n_pad]`.
    probs: Vec<f32>,
    /// Operands of the bf16 products.
    tiles: Bf16Scratch,
}

thread_local! {
    static HEAD_SCRATCH: core::cell::RefCell<HeadScratch> = core::cell::RefCell::new(HeadScratch::default());
}

/// One head of one sequence: writes its context columns and returns the probability each
/// key received from the voting rows (empty without voters).
///
/// Both products run on the GEMM micro-tile ([`scores_f32`], [`context_f32`]), or in bf16
/// on AMX tiles while inference runs in bf16 ([`attention_bf16`]); the softmax and the
/// significance between them are f32 either way.
///
/// # Safety
/// AVX-512F must be available, the views must hold their rows (checked by [`attention`])
/// and `out` must address the `[batch_size * queries, width]` context.
#[target_feature(enable = "avx512f")]
unsafe fn head(
    input: &AttentionInput<'_>,
    seq: usize,
    hd: usize,
    out: OutPtr,
    scratch: &mut HeadScratch,
) -> Vec<f32> {
    let (n, dh, queries) = (input.n, input.head_dim, input.queries);
    let width = input.heads * dh;
    let col = hd * dh;
    // Keys padded to whole tiles; padded keys score -1e9 and so weigh exactly 0.
    let n_pad = n.next_multiple_of(NR);
    let scale = 1.0 / (dh as f32).sqrt();
    let HeadScratch {
        kt,
        bias,
        probs,
        tiles,
    } = scratch;
    let bf16 = attention_bf16::usable(queries, dh).then(|| HeadView {
        q: input.q,
        k: input.k,
        v: input.v,
        q0: seq * queries,
        k0: seq * n,
        col,
        dh,
        queries,
        n,
        n_pad,
    });
    bias.clear();
    bias.extend_from_slice(&input.key_bias[seq * n..(seq + 1) * n]);
    bias.resize(n_pad, MASKED);
    // Every score is written by the tiles before it is read: no zeroing.
    if probs.len() < queries * n_pad {
        probs.resize(queries * n_pad, 0.0);
    }
    let probs = &mut probs[..queries * n_pad];
    match &bf16 {
        Some(view) => attention_bf16::scores(view, scale, bias, probs, tiles),
        // SAFETY: forwarded from this function's contract.
        None => unsafe { scores_f32(input, seq, col, scale, bias, probs, kt) },
    }
    let mut received = vec![0.0f32; if input.voters.is_some() { n } else { 0 }];
    for (i, row) in probs.chunks_exact_mut(n_pad).enumerate() {
        softmax_in_place(row);
        if let Some(voters) = input.voters {
            let weight = voters[seq * queries + i];
            if weight != 0.0 {
                axpy(weight, &row[..n], &mut received);
            }
        }
    }
    let first = out.at(seq * queries * width + col);
    match &bf16 {
        Some(view) => attention_bf16::context(view, probs, first, width, tiles),
        // SAFETY: forwarded from this function's contract.
        None => unsafe { context_f32(input, seq, col, probs, out) },
    }
    received
}

/// The scores on the f32 micro-tile: `q · (scaled keys)ᵀ + bias` with the transposed keys
/// (`kt`, rebuilt here) as B.
///
/// # Safety
/// As [`head`]; `bias` and the rows of `probs` are n_pad long.
#[target_feature(enable = "avx512f")]
unsafe fn scores_f32(
    input: &AttentionInput<'_>,
    seq: usize,
    col: usize,
    scale: f32,
    bias: &[f32],
    probs: &mut [f32],
    kt: &mut Vec<f32>,
) {
    let (n, dh, queries) = (input.n, input.head_dim, input.queries);
    let n_pad = n.next_multiple_of(NR);
    kt.clear();
    kt.resize(dh * n_pad, 0.0);
    for j in 0..n {
        let key = &input.k.row(seq * n + j, col + dh)[col..];
        for (d, x) in key.iter().enumerate() {
            kt[d * n_pad + j] = x * scale;
        }
    }
    let q0 = (seq * queries) * input.q.stride + input.q.offset + col;
    for i0 in (0..queries).step_by(MR) {
        for j0 in (0..n_pad).step_by(NR) {
            let tile = Tile {
                a_transposed: false,
                a: input.q.data[q0 + i0 * input.q.stride..].as_ptr(),
                lda: input.q.stride,
                b: kt[j0..].as_ptr(),
                b_half: None,
                ldb: n_pad,
                k: dh,
                bias: Some(bias[j0..].as_ptr()),
                c: probs[i0 * n_pad + j0..].as_mut_ptr(),
                ldc: n_pad,
                height: MR.min(queries - i0),
                width: NR,
            };
            // SAFETY: query rows hold dh floats from their column; kt rows and the bias
            // hold n_pad >= j0 + 32 floats; the score rows are n_pad wide.
            unsafe { tile.run(Activation::Identity) };
        }
    }
}

/// The context on the f32 micro-tile: probabilities · values, the value rows read in place
/// as B.
///
/// # Safety
/// As [`head`]; the rows of `probs` are n_pad long.
#[target_feature(enable = "avx512f")]
unsafe fn context_f32(
    input: &AttentionInput<'_>,
    seq: usize,
    col: usize,
    probs: &[f32],
    out: OutPtr,
) {
    let (n, dh, queries) = (input.n, input.head_dim, input.queries);
    let n_pad = n.next_multiple_of(NR);
    let width = input.heads * dh;
    let v0 = (seq * n) * input.v.stride + input.v.offset + col;
    for i0 in (0..queries).step_by(MR) {
        for c0 in (0..dh).step_by(NR) {
            let tile = Tile {
                a_transposed: false,
                a: probs[i0 * n_pad..].as_ptr(),
                lda: n_pad,
                b: input.v.data[v0 + c0..].as_ptr(),
                b_half: None,
                ldb: input.v.stride,
                k: n,
                bias: None,
                c: out.at((seq * queries + i0) * width + col + c0),
                ldc: width,
                height: MR.min(queries - i0),
                width: NR,
            };
            // SAFETY: probability rows hold n floats; value rows hold 32 floats from
            // col + c0 (head width is a multiple of 32); the context tile is this task's.
            unsafe { tile.run(Activation::Identity) };
        }
    }
}
