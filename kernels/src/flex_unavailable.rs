//! The bridge where the kernels cannot exist (not x86-64, or built without flex): the same
//! functions, always answering `None`, so that the model runs burn's own ops.

use burn::tensor::{Int, Tensor};

pub use crate::sublayers::{AttentionWeights, FeedForwardWeights, FusedAttention, TrainAttention};

/// Always `None` here: the caller runs its burn composite.
pub fn self_attention(
    _x: &Tensor<3>,
    _weights: &AttentionWeights<'_>,
    _counts: &[usize],
    _with_significance: bool,
) -> Option<FusedAttention> {
    None
}

/// Always `None` here: the caller runs its burn composite.
pub fn self_attention_first(
    _x: &Tensor<3>,
    _weights: &AttentionWeights<'_>,
    _counts: &[usize],
) -> Option<Tensor<2>> {
    None
}

/// Always `None` here: the caller runs its burn composite.
pub fn feed_forward(_x: &Tensor<3>, _weights: &FeedForwardWeights<'_>) -> Option<Tensor<3>> {
    None
}

/// Always 0 here.
pub fn fused_calls() -> u64 {
    0
}

/// Always `None` here: the caller runs its burn composite.
pub fn gather_tokens(_x: &Tensor<3>, _indices: &Tensor<2, Int>) -> Option<Tensor<3>> {
    None
}

/// Always `None` here: the caller runs its burn composite.
pub fn scatter_tokens(
    _buffer: &Tensor<3>,
    _positions: &Tensor<2, Int>,
    _x: &Tensor<3>,
) -> Option<Tensor<3>> {
    None
}

/// Always 0 here.
pub fn cached_packed_weights() -> usize {
    0
}

/// Always 0 here.
pub fn packs_built() -> usize {
    0
}

/// Always `None` here: the caller runs its burn composite.
pub fn dense(_x: &Tensor<2>, _layer: &burn::nn::Linear) -> Option<Tensor<2>> {
    None
}

/// Always `None` here: the caller runs its burn composite.
pub fn dense_gelu(_x: &Tensor<2>, _layer: &burn::nn::Linear) -> Option<Tensor<2>> {
    None
}

/// Always `None` here: the caller runs its burn composite.
pub fn residual_layer_norm(
    _x: &Tensor<2>,
    _residual: &Tensor<2>,
    _norm: &burn::nn::LayerNorm,
    _epsilon: f64,
) -> Option<Tensor<2>> {
    None
}

/// Always `None` here: the caller runs burn's `Dropout`.
pub fn dropout_layer<const D: usize>(
    _x: &Tensor<D>,
    _layer: &burn::nn::Dropout,
) -> Option<Tensor<D>> {
    None
}

/// Always `None` here: the caller runs its burn composite.
pub fn attention_core(
    _q: &Tensor<2>,
    _k: &Tensor<2>,
    _v: &Tensor<2>,
    _counts: &[usize],
    _heads: usize,
    _dropout: &burn::nn::Dropout,
    _with_significance: bool,
) -> Option<TrainAttention> {
    None
}

/// burn's AdamW with `params` (no fused step here).
pub fn adamw(params: crate::AdamWParams) -> burn::optim::ModuleOptimizer {
    params.burn_config().init()
}

/// Always 0 here.
pub fn fused_optimizer_steps() -> u64 {
    0
}
