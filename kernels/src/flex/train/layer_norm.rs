//! `LayerNorm(x + residual)` as one differentiable op: one pass forward keeping `x̂` and
//! `1/σ`, one pass backward ([`layer_norm_backward`]) in place of burn's add, mean,
//! variance, normalisation and affine steps and their backward passes.

use burn::nn::LayerNorm;
use burn::tensor::Tensor;
use burn_autodiff::checkpoint::base::Checkpointer;
use burn_autodiff::checkpoint::strategy::NoCheckpointing;
use burn_autodiff::grads::Gradients;
use burn_autodiff::ops::{Backward, Ops, OpsKind};
use burn_flex::{Flex, FlexTensor};

use super::tensors::{Ad, contiguous, flex, tracked, values};
use crate::layer_norm::LayerNormParams;
use crate::layer_norm_grad::{LayerNormSaved, add_layer_norm_saving, layer_norm_backward};

/// `norm(x + residual)` for `[rows, d]` inputs on the autodiff-over-flex device, with
/// `epsilon` as the layer's; `None` elsewhere or when the layer has no shift.
pub fn residual_layer_norm(
    x: &Tensor<2>,
    residual: &Tensor<2>,
    norm: &LayerNorm,
    epsilon: f64,
) -> Option<Tensor<2>> {
    if !crate::cpu::enabled() {
        return None;
    }
    let input = tracked(x)?;
    let residual_t = tracked(residual)?;
    let gamma = tracked(&norm.gamma.val())?;
    let beta = tracked(&norm.beta.as_ref()?.val())?;
    let shape = x.dims();
    if residual.dims() != shape {
        return None;
    }
    let gamma_values = contiguous(gamma.primitive().clone());
    let beta_values = contiguous(beta.primitive().clone());
    let params = LayerNormParams {
        gamma: values(&gamma_values),
        beta: values(&beta_values),
        epsilon: epsilon as f32,
    };
    let mut saved = add_layer_norm_saving(
        values(&contiguous(input.primitive().clone())),
        values(&contiguous(residual_t.primitive().clone())),
        &params,
    );
    let output = flex(std::mem::take(&mut saved.output), shape);
    let nodes = [input.node(), residual_t.node(), gamma.node(), beta.node()];
    let result = match LayerNormOp
        .prepare::<NoCheckpointing>(nodes)
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => prep.finish(
            State {
                saved,
                gamma: gamma_values,
                shape,
            },
            output,
        ),
        OpsKind::UnTracked(prep) => prep.finish(output),
    };
    Some(Tensor::from_primitive::<Ad>(result))
}

#[derive(Debug)]
struct LayerNormOp;

#[derive(Debug, Clone)]
struct State {
    saved: LayerNormSaved,
    gamma: FlexTensor,
    shape: [usize; 2],
}

impl Backward<Flex, 4> for LayerNormOp {
    type State = State;

    fn backward(self, ops: Ops<State, 4>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [input, residual, gamma, beta] = ops.parents;
        let grad_output = contiguous(grads.consume::<Flex>(&ops.node));
        let state = ops.state;
        let out = layer_norm_backward(&state.saved, values(&state.gamma), values(&grad_output));
        let d = state.shape[1];
        if let Some(node) = residual {
            grads.register::<Flex>(node.id, flex(out.input.clone(), state.shape));
        }
        if let Some(node) = input {
            grads.register::<Flex>(node.id, flex(out.input, state.shape));
        }
        if let Some(node) = gamma {
            grads.register::<Flex>(node.id, flex(out.gamma, [d]));
        }
        if let Some(node) = beta {
            grads.register::<Flex>(node.id, flex(out.beta, [d]));
        }
    }
}
