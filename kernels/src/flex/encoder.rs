//! The encoder layer's two sub-layers on the kernels: self-attention (fused QKV GEMM,
//! attention with significance, output GEMM, residual LayerNorm) and the FFN (GEMM with
//! GELU, GEMM, residual LayerNorm).

use burn::nn::LayerNorm;
use burn::tensor::Tensor;

use super::tensors::{flex_f32, from_vec, values};
use super::weights::packed;
use crate::sublayers::{AttentionWeights, FeedForwardWeights, FusedAttention};
use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::attention::{AttentionInput, MASKED, Rows, attention_to};
use crate::gemm::{Activation, linear, linear_to};
use crate::layer_norm::{LayerNormParams, add_layer_norm};

thread_local! {
    /// Intermediate buffers (QKV, attention context, FFN inner activations), reused from
    /// call to call on the thread that runs the model.
    static SCRATCH: RefCell<[Vec<f32>; 2]> = const { RefCell::new([Vec::new(), Vec::new()]) };
}

/// Runs `f` with this thread's scratch buffers, taken out for the duration: while this
/// thread waits inside a parallel region, rayon may run another forward on it (work
/// stealing), and that one must find the slot empty (it allocates) rather than borrowed.
fn with_scratch<R>(f: impl FnOnce(&mut [Vec<f32>; 2]) -> R) -> R {
    let mut buffers = SCRATCH.with_borrow_mut(std::mem::take);
    let result = f(&mut buffers);
    SCRATCH.with_borrow_mut(|slot| *slot = buffers);
    result
}

/// Sub-layers run on the kernels since the process started.
static FUSED_CALLS: AtomicU64 = AtomicU64::new(0);

/// How many sub-layers (attention or FFN) the kernels have run in this process: lets
/// tests and benchmarks confirm which path ran.
pub fn fused_calls() -> u64 {
    FUSED_CALLS.load(Ordering::Relaxed)
}

/// The attention sub-layer on `x` (`[batch_size, n, hidden]`) whose row `b` has its real
/// tokens in slots `0..counts[b]`; `None` when the kernels cannot run here.
pub fn self_attention(
    x: &Tensor<3>,
    weights: &AttentionWeights<'_>,
    counts: &[usize],
    with_significance: bool,
) -> Option<FusedAttention> {
    let [batch_size, n, hidden] = x.dims();
    let head_dim = usable(hidden, weights.heads)?;
    let input = flex_f32(x)?;
    let rows = values(&input);
    let qkv_weight = packed(&[weights.query, weights.key, weights.value])?;
    let out_weight = packed(&[weights.output])?;
    let norm = norm_params(weights.norm)?;
    let (key_bias, voters) = masks(counts, n);
    let (mut out, significance) = with_scratch(|[qkv, context]| {
        linear_to(rows, batch_size * n, &qkv_weight, Activation::Identity, qkv);
        let view = |offset| Rows {
            data: qkv,
            stride: 3 * hidden,
            offset,
        };
        let operands = AttentionInput {
            q: view(0),
            k: view(hidden),
            v: view(2 * hidden),
            key_bias: &key_bias,
            voters: with_significance.then_some(voters.as_slice()),
            batch_size,
            queries: n,
            n,
            heads: weights.heads,
            head_dim,
        };
        let significance = attention_to(&operands, context);
        let out = linear(context, batch_size * n, &out_weight, Activation::Identity);
        (out, significance)
    });
    add_layer_norm(&mut out, rows, &norm.params(weights.epsilon));
    FUSED_CALLS.fetch_add(1, Ordering::Relaxed);
    Some(FusedAttention {
        hidden_states: from_vec(out, [batch_size, n, hidden]),
        significance: significance.map(|s| from_vec(s, [batch_size, n])),
    })
}

/// The attention sub-layer's output for the first token alone, `[batch_size, hidden]`
/// (keys and values still cover every token); `None` when the kernels cannot run here.
pub fn self_attention_first(
    x: &Tensor<3>,
    weights: &AttentionWeights<'_>,
    counts: &[usize],
) -> Option<Tensor<2>> {
    let [batch_size, n, hidden] = x.dims();
    let head_dim = usable(hidden, weights.heads)?;
    let input = flex_f32(x)?;
    let rows = values(&input);
    let q_weight = packed(&[weights.query])?;
    let kv_weight = packed(&[weights.key, weights.value])?;
    let out_weight = packed(&[weights.output])?;
    let norm = norm_params(weights.norm)?;
    let first: Vec<f32> = rows
        .chunks_exact(n * hidden)
        .flat_map(|seq| &seq[..hidden])
        .copied()
        .collect();
    let q = linear(&first, batch_size, &q_weight, Activation::Identity);
    let (key_bias, _) = masks(counts, n);
    let mut out = with_scratch(|[kv, context]| {
        linear_to(rows, batch_size * n, &kv_weight, Activation::Identity, kv);
        let operands = AttentionInput {
            q: Rows {
                data: &q,
                stride: hidden,
                offset: 0,
            },
            k: Rows {
                data: kv,
                stride: 2 * hidden,
                offset: 0,
            },
            v: Rows {
                data: kv,
                stride: 2 * hidden,
                offset: hidden,
            },
            key_bias: &key_bias,
            voters: None,
            batch_size,
            queries: 1,
            n,
            heads: weights.heads,
            head_dim,
        };
        attention_to(&operands, context);
        linear(context, batch_size, &out_weight, Activation::Identity)
    });
    add_layer_norm(&mut out, &first, &norm.params(weights.epsilon));
    FUSED_CALLS.fetch_add(1, Ordering::Relaxed);
    Some(from_vec(out, [batch_size, hidden]))
}

/// The FFN sub-layer, `LayerNorm(x + W₂ gelu(W₁ x))`, on `x` (`[batch_size, n, hidden]`);
/// `None` when the kernels cannot run here.
pub fn feed_forward(x: &Tensor<3>, weights: &FeedForwardWeights<'_>) -> Option<Tensor<3>> {
    let [batch_size, n, hidden] = x.dims();
    if !(crate::cpu::enabled() && hidden.is_multiple_of(16)) {
        return None;
    }
    let input = flex_f32(x)?;
    let rows = values(&input);
    let up = packed(&[weights.intermediate])?;
    let down = packed(&[weights.output])?;
    let norm = norm_params(weights.norm)?;
    let mut out = with_scratch(|[inner, _]| {
        linear_to(rows, batch_size * n, &up, Activation::Gelu, inner);
        linear(inner, batch_size * n, &down, Activation::Identity)
    });
    add_layer_norm(&mut out, rows, &norm.params(weights.epsilon));
    FUSED_CALLS.fetch_add(1, Ordering::Relaxed);
    Some(from_vec(out, [batch_size, n, hidden]))
}

/// Head width when the kernels support this shape and CPU.
fn usable(hidden: usize, heads: usize) -> Option<usize> {
    let head_dim = hidden / heads.max(1);
    (crate::cpu::enabled()
        && hidden.is_multiple_of(16)
        && head_dim.is_multiple_of(32)
        && head_dim * heads == hidden)
        .then_some(head_dim)
}

/// LayerNorm parameters copied out of their tensors.
struct NormValues {
    gamma: Vec<f32>,
    beta: Vec<f32>,
}

impl NormValues {
    fn params(&self, epsilon: f64) -> LayerNormParams<'_> {
        LayerNormParams {
            gamma: &self.gamma,
            beta: &self.beta,
            epsilon: epsilon as f32,
        }
    }
}

fn norm_params(norm: &LayerNorm) -> Option<NormValues> {
    let gamma = values(&flex_f32(&norm.gamma.val())?).to_vec();
    let beta = match &norm.beta {
        Some(beta) => values(&flex_f32(&beta.val())?).to_vec(),
        None => vec![0.0; gamma.len()],
    };
    Some(NormValues { gamma, beta })
}

/// Key bias (`[batch_size, n]`) and voters (the same, 1 for real slots) from the counts.
pub(super) fn masks(counts: &[usize], n: usize) -> (Vec<f32>, Vec<f32>) {
    let real = |c: usize| (0..n).map(move |j| j < c);
    let key_bias = counts
        .iter()
        .flat_map(|&c| real(c).map(|r| if r { 0.0 } else { MASKED }))
        .collect();
    let voters = counts
        .iter()
        .flat_map(|&c| real(c).map(|r| if r { 1.0 } else { 0.0 }))
        .collect();
    (key_bias, voters)
}
