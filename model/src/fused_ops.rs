//! Single steps of the model's burn composites (a `Linear`, a `Linear` with GELU, a
//! residual LayerNorm, a dropout) that run as one differentiable kernel op when training on the flex
//! device (lat-kernels registers their backward passes in burn's graph), and as burn's
//! own ops everywhere else. The burn expression in each fallback is the definition.

use burn::nn::{Dropout, LayerNorm, Linear};
use burn::tensor::Tensor;
use burn::tensor::activation::gelu;
use lat_kernels::flex::{dense, dense_gelu, dropout_layer, residual_layer_norm};

/// `layer(x)` for `x` of `[rows, d_input]`.
pub(crate) fn linear(layer: &Linear, x: Tensor<2>) -> Tensor<2> {
    dense(&x, layer).unwrap_or_else(|| layer.forward(x))
}

/// `gelu(layer(x))` for `x` of `[rows, d_input]`.
pub(crate) fn linear_gelu(layer: &Linear, x: Tensor<2>) -> Tensor<2> {
    dense_gelu(&x, layer).unwrap_or_else(|| gelu(layer.forward(x)))
}

/// `norm(x + residual)` for `[rows, d]` inputs; `epsilon` is the layer's own.
pub(crate) fn add_layer_norm(
    norm: &LayerNorm,
    x: Tensor<2>,
    residual: Tensor<2>,
    epsilon: f64,
) -> Tensor<2> {
    residual_layer_norm(&x, &residual, norm, epsilon).unwrap_or_else(|| norm.forward(x + residual))
}

/// `layer(x)`: dropout in training, the identity otherwise.
pub(crate) fn dropout<const D: usize>(layer: &Dropout, x: Tensor<D>) -> Tensor<D> {
    dropout_layer(&x, layer).unwrap_or_else(|| layer.forward(x))
}
