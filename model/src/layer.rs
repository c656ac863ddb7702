//! One encoder layer (HF `BertLayer`): attention sub-layer, then the FFN sub-layer
//! (`BertIntermediate` + `BertOutput`). The encoder loop drops tokens between the two.

use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig, LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::tensor::{Device, Tensor};
use lat_kernels::flex::{FeedForwardWeights, feed_forward};

use crate::attention::BertAttention;
use crate::config::BertConfig;
use crate::fused_ops::{add_layer_norm, dropout, linear, linear_gelu};

/// One transformer encoder layer, post-LayerNorm as in BERT.
#[derive(Module, Debug)]
pub struct BertLayer {
    /// HF `attention` (self-attention, output projection, LayerNorm).
    pub attention: BertAttention,
    /// HF `intermediate.dense` (d -> f).
    pub intermediate: Linear,
    /// HF `output.dense` (f -> d).
    pub output: Linear,
    /// HF `output.LayerNorm`.
    pub output_norm: LayerNorm,
    dropout: Dropout,
    layer_norm_eps: f64,
}

impl BertLayer {
    /// Randomly initialised layer for `config`.
    pub fn init(config: &BertConfig, device: &Device) -> Self {
        let (d, f) = (config.hidden_size, config.intermediate_size);
        Self {
            attention: BertAttention::init(config, device),
            intermediate: LinearConfig::new(d, f).init(device),
            output: LinearConfig::new(f, d).init(device),
            output_norm: LayerNormConfig::new(d)
                .with_epsilon(config.layer_norm_eps)
                .init(device),
            dropout: DropoutConfig::new(config.hidden_dropout_prob).init(),
            layer_norm_eps: config.layer_norm_eps,
        }
    }

    /// The FFN sub-layer: `LayerNorm(x + W_2 gelu(W_1 x))`.
    ///
    /// # Shapes
    /// - `x`, output: `[batch_size, n, hidden_size]`
    pub fn feed_forward(&self, x: Tensor<3>) -> Tensor<3> {
        let weights = FeedForwardWeights {
            intermediate: &self.intermediate,
            output: &self.output,
            norm: &self.output_norm,
            epsilon: self.layer_norm_eps,
        };
        if let Some(fused) = feed_forward(&x, &weights) {
            return fused;
        }
        // One [rows, d] GEMM per projection: burn's batched form of a 3-D Linear is up to a
        // third slower on flex (measured at 32x64).
        let [batch_size, n, d] = x.dims();
        let x = x.reshape([batch_size * n, d]);
        let inner = linear_gelu(&self.intermediate, x.clone());
        let out = dropout(&self.dropout, linear(&self.output, inner));
        add_layer_norm(&self.output_norm, out, x, self.layer_norm_eps).reshape([batch_size, n, d])
    }
}
