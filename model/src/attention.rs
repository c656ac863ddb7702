//! Multi-head self-attention with its output projection, residual and LayerNorm
//! (HF `BertAttention` = `BertSelfAttention` + `BertSelfOutput`), optionally returning the
//! significance of every token: the attention it receives, summed over heads and over the
//! real query rows (reference notes, section 1, step 2; padded query rows do not vote so
//! that a batch gives every input the answer it gets alone).

use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig, LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::tensor::activation::softmax;
use burn::tensor::module::attention;
use burn::tensor::ops::AttentionModuleOptions;
use burn::tensor::{Device, Tensor};
use lat_kernels::flex::{AttentionWeights, attention_core, self_attention, self_attention_first};

use crate::config::BertConfig;
use crate::fused_ops::{add_layer_norm, dropout, linear};
use crate::token_drop::TokenMask;

/// Large negative score for masked keys; finite so that no row can turn into NaN.
const MASKED_SCORE: f32 = -1.0e9;

/// The attention sub-layer of one encoder layer.
#[derive(Module, Debug)]
pub struct BertAttention {
    /// HF `attention.self.query`.
    pub query: Linear,
    /// HF `attention.self.key`.
    pub key: Linear,
    /// HF `attention.self.value`.
    pub value: Linear,
    /// HF `attention.output.dense`.
    pub output: Linear,
    /// HF `attention.output.LayerNorm`.
    pub norm: LayerNorm,
    probs_dropout: Dropout,
    hidden_dropout: Dropout,
    num_heads: usize,
    layer_norm_eps: f64,
}

/// What the attention sub-layer returns.
#[derive(Debug)]
pub struct AttentionOutput {
    /// `LayerNorm(x + O(attention(x)))`, `[batch_size, n, hidden_size]`.
    pub hidden_states: Tensor<3>,
    /// Attention received per token, `[batch_size, n]`, when it was asked for.
    pub significance: Option<Tensor<2>>,
}

impl BertAttention {
    /// Randomly initialised attention sub-layer for `config`.
    pub fn init(config: &BertConfig, device: &Device) -> Self {
        let d = config.hidden_size;
        Self {
            query: LinearConfig::new(d, d).init(device),
            key: LinearConfig::new(d, d).init(device),
            value: LinearConfig::new(d, d).init(device),
            output: LinearConfig::new(d, d).init(device),
            norm: LayerNormConfig::new(d)
                .with_epsilon(config.layer_norm_eps)
                .init(device),
            probs_dropout: DropoutConfig::new(config.attention_probs_dropout_prob).init(),
            hidden_dropout: DropoutConfig::new(config.hidden_dropout_prob).init(),
            num_heads: config.num_attention_heads,
            layer_norm_eps: config.layer_norm_eps,
        }
    }

    /// Runs the sub-layer on the current tokens.
    ///
    /// With `with_significance` the probabilities are materialised (they are needed for the
    /// column sums); otherwise, and when no dropout applies, the backend's fused kernel runs.
    ///
    /// # Shapes
    /// - `x`: `[batch_size, n, hidden_size]`
    pub fn forward(
        &self,
        x: Tensor<3>,
        mask: &TokenMask,
        with_significance: bool,
    ) -> AttentionOutput {
        let fused = self_attention(&x, &self.kernel_weights(), &mask.counts, with_significance);
        if let Some(fused) = fused {
            return AttentionOutput {
                hidden_states: fused.hidden_states,
                significance: fused.significance,
            };
        }
        let [batch_size, n, hidden] = x.dims();
        // Projections run on [rows, d] (see `BertLayer::feed_forward`).
        let rows = x.reshape([batch_size * n, hidden]);
        let projections = [&self.query, &self.key, &self.value].map(|l| linear(l, rows.clone()));
        let (context, significance) = self.heads(projections, mask, with_significance);
        let projected = dropout(&self.hidden_dropout, linear(&self.output, context));
        let hidden_states = add_layer_norm(&self.norm, projected, rows, self.layer_norm_eps)
            .reshape([batch_size, n, hidden]);
        AttentionOutput {
            hidden_states,
            significance,
        }
    }

    /// Multi-head attention on the `[batch_size * n, hidden]` projections: the context
    /// rows (heads merged) and, when asked, the significance. Training on flex runs it as
    /// one kernel op; otherwise burn's composite, which materialises the probabilities when
    /// they are needed (significance, dropout) and uses the backend's fused kernel when not.
    fn heads(
        &self,
        [q, k, v]: [Tensor<2>; 3],
        mask: &TokenMask,
        with_significance: bool,
    ) -> (Tensor<2>, Option<Tensor<2>>) {
        let heads = self.num_heads;
        let core = attention_core(
            &q,
            &k,
            &v,
            &mask.counts,
            heads,
            &self.probs_dropout,
            with_significance,
        );
        if let Some(core) = core {
            return (core.context, core.significance);
        }
        let [batch_size, n] = mask.padding.dims();
        let [_, hidden] = q.dims();
        let split = |t: Tensor<2>| {
            t.reshape([batch_size, n, heads, hidden / heads])
                .swap_dims(1, 2)
        };
        let (q, k, v) = (split(q), split(k), split(v));
        // Training applies dropout to the probabilities, which the fused kernel cannot do.
        let materialise = with_significance || q.device().is_autodiff();
        let (context, significance) = if materialise {
            let scale = 1.0 / ((hidden / heads) as f64).sqrt();
            let bias = key_bias(mask);
            // Scaling q rather than the scores saves a pass over the [b, h, n, n] tensor.
            let scores = q.mul_scalar(scale).matmul(k.swap_dims(2, 3)) + bias;
            let probs = dropout(&self.probs_dropout, softmax(scores, 3));
            let significance = with_significance.then(|| {
                // Σ_h Σ_q valid(q) · A[b, h, q, k]: sum heads, then a [1, n] x [n, n] product.
                let per_query = probs.clone().sum_dim(1).reshape([batch_size, n, n]);
                let voters = mask.real.clone().reshape([batch_size, 1, n]);
                voters.matmul(per_query).reshape([batch_size, n])
            });
            (probs.matmul(v), significance)
        } else {
            let options = AttentionModuleOptions::default();
            let key_mask = mask
                .padding
                .clone()
                .reshape([batch_size, 1, 1, n])
                .expand([batch_size, heads, n, n]);
            (attention(q, k, v, Some(key_mask), None, options), None)
        };
        let context = context.swap_dims(1, 2).reshape([batch_size * n, hidden]);
        (context, significance)
    }

    /// The sub-layer's output for the first token ([CLS]) alone, `[batch_size, hidden]`:
    /// all a sequence classifier reads from its last layer. Keys and values still cover
    /// every token; the other query rows are never computed.
    pub fn forward_first(&self, x: Tensor<3>, mask: &TokenMask) -> Tensor<2> {
        if let Some(fused) = self_attention_first(&x, &self.kernel_weights(), &mask.counts) {
            return fused;
        }
        let [batch_size, n, hidden] = x.dims();
        let heads = self.num_heads;
        let head_size = hidden / heads;
        let first = x
            .clone()
            .slice([0..batch_size, 0..1, 0..hidden])
            .reshape([batch_size, hidden]);
        let rows = x.reshape([batch_size * n, hidden]);
        let split = |t: Tensor<2>| t.reshape([batch_size, n, heads, head_size]).swap_dims(1, 2);
        let scale = 1.0 / (head_size as f64).sqrt();
        let q = linear(&self.query, first.clone())
            .mul_scalar(scale)
            .reshape([batch_size, heads, 1, head_size]);
        let k = split(linear(&self.key, rows.clone()));
        let v = split(linear(&self.value, rows));
        let bias = key_bias(mask);
        let probs = self
            .probs_dropout
            .forward(softmax(q.matmul(k.swap_dims(2, 3)) + bias, 3));
        // [b, h, 1, d_h] is already head-major: a reshape concatenates the heads.
        let context = probs.matmul(v).reshape([batch_size, hidden]);
        let projected = dropout(&self.hidden_dropout, linear(&self.output, context));
        add_layer_norm(&self.norm, projected, first, self.layer_norm_eps)
    }
}

impl BertAttention {
    /// This sub-layer as the fused CPU kernels take it.
    fn kernel_weights(&self) -> AttentionWeights<'_> {
        AttentionWeights {
            query: &self.query,
            key: &self.key,
            value: &self.value,
            output: &self.output,
            norm: &self.norm,
            epsilon: self.layer_norm_eps,
            heads: self.num_heads,
        }
    }
}

/// Key padding as an additive `[b, 1, 1, n]` bias (HF style), broadcast by the add.
fn key_bias(mask: &TokenMask) -> Tensor<4> {
    let [batch_size, n] = mask.padding.dims();
    mask.padding
        .clone()
        .float()
        .mul_scalar(MASKED_SCORE)
        .reshape([batch_size, 1, 1, n])
}
