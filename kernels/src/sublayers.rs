//! The encoder sub-layers as the fused kernels take them: borrowed modules of the model,
//! and what the fused attention returns. Plain burn types, on every target.

use burn::nn::{LayerNorm, Linear};
use burn::tensor::Tensor;

/// The attention sub-layer's modules (HF `BertAttention`).
#[derive(Debug, Clone, Copy)]
pub struct AttentionWeights<'a> {
    /// `attention.self.query`.
    pub query: &'a Linear,
    /// `attention.self.key`.
    pub key: &'a Linear,
    /// `attention.self.value`.
    pub value: &'a Linear,
    /// `attention.output.dense`.
    pub output: &'a Linear,
    /// `attention.output.LayerNorm`.
    pub norm: &'a LayerNorm,
    /// Its epsilon (burn keeps it private).
    pub epsilon: f64,
    /// Attention heads.
    pub heads: usize,
}

/// The FFN sub-layer's modules (HF `BertIntermediate` + `BertOutput`).
#[derive(Debug, Clone, Copy)]
pub struct FeedForwardWeights<'a> {
    /// `intermediate.dense`, followed by GELU.
    pub intermediate: &'a Linear,
    /// `output.dense`.
    pub output: &'a Linear,
    /// `output.LayerNorm`.
    pub norm: &'a LayerNorm,
    /// Its epsilon.
    pub epsilon: f64,
}

/// What `flex::self_attention` returns.
#[derive(Debug)]
pub struct FusedAttention {
    /// `LayerNorm(x + O(attention(x)))`, `[batch_size, n, hidden]`.
    pub hidden_states: Tensor<3>,
    /// Attention received per token, `[batch_size, n]`, when asked for.
    pub significance: Option<Tensor<2>>,
}

/// What the training attention op returns.
#[derive(Debug)]
pub struct TrainAttention {
    /// Context, `[batch_size * n, hidden]`, heads in order.
    pub context: Tensor<2>,
    /// Attention received per token, `[batch_size, n]` (not differentiated: it only
    /// ranks tokens), when it was asked for.
    pub significance: Option<Tensor<2>>,
}
