//! A `Linear`, optionally followed by GELU, as one differentiable op: the forward on the
//! packed GEMM, the backward ([`dense_backward`]) registered in burn's graph in place of
//! burn's matmul, add and GELU steps.

use burn::nn::Linear;
use burn::tensor::Tensor;
use burn_autodiff::checkpoint::base::Checkpointer;
use burn_autodiff::checkpoint::strategy::NoCheckpointing;
use burn_autodiff::grads::Gradients;
use burn_autodiff::ops::{Backward, Ops, OpsKind};
use burn_flex::{Flex, FlexTensor};

use super::tensors::{Ad, contiguous, flex, tracked, values};
use crate::dense_grad::{DenseSaved, DenseWanted, dense_backward};
use crate::gelu::gelu;
use crate::gemm::{Activation, linear};
use crate::packed::PackedWeight;

/// `linear(x)` for `x` of `[m, k]` on the autodiff-over-flex device; `None` elsewhere.
pub fn dense(x: &Tensor<2>, layer: &Linear) -> Option<Tensor<2>> {
    forward(x, layer, Activation::Identity)
}

/// `gelu(linear(x))` for `x` of `[m, k]` on the autodiff-over-flex device; `None`
/// elsewhere.
pub fn dense_gelu(x: &Tensor<2>, layer: &Linear) -> Option<Tensor<2>> {
    forward(x, layer, Activation::Gelu)
}

#[derive(Debug)]
struct DenseOp;

/// What the backward pass keeps: the operands (reference-counted, not copied) and, for
/// GELU, the pre-activation.
#[derive(Debug, Clone)]
struct State {
    input: FlexTensor,
    weight: FlexTensor,
    pre_activation: Option<FlexTensor>,
    activation: Activation,
    dims: [usize; 3],
}

impl Backward<Flex, 3> for DenseOp {
    type State = State;

    fn backward(self, ops: Ops<State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [input, weight, bias] = ops.parents;
        let grad_output = contiguous(grads.consume::<Flex>(&ops.node));
        let state = ops.state;
        let [m, k, n] = state.dims;
        let saved = DenseSaved {
            input: values(&state.input),
            weight: values(&state.weight),
            pre_activation: state
                .pre_activation
                .as_ref()
                .map(values)
                .unwrap_or_default(),
            activation: state.activation,
            m,
            k,
            n,
        };
        let wanted = DenseWanted {
            input: input.is_some(),
            weight: weight.is_some(),
            bias: bias.is_some(),
        };
        let out = dense_backward(&saved, values(&grad_output), wanted);
        if let (Some(node), Some(grad)) = (input, out.input) {
            grads.register::<Flex>(node.id, flex(grad, [m, k]));
        }
        if let (Some(node), Some(grad)) = (weight, out.weight) {
            grads.register::<Flex>(node.id, flex(grad, [k, n]));
        }
        if let (Some(node), Some(grad)) = (bias, out.bias) {
            grads.register::<Flex>(node.id, flex(grad, [n]));
        }
    }
}

fn forward(x: &Tensor<2>, layer: &Linear, activation: Activation) -> Option<Tensor<2>> {
    if !crate::cpu::enabled() {
        return None;
    }
    let input = tracked(x)?;
    let weight = tracked(&layer.weight.val())?;
    let bias = tracked(&layer.bias.as_ref()?.val())?;
    let [m, k] = x.dims();
    let [_, n] = layer.weight.dims();
    let x_values = contiguous(input.primitive().clone());
    let w_values = contiguous(weight.primitive().clone());
    let b_values = contiguous(bias.primitive().clone());
    let packed = PackedWeight::f32_only(values(&w_values), Some(values(&b_values)), k, n);
    let pre = linear(values(&x_values), m, &packed, Activation::Identity);
    let output = match activation {
        Activation::Identity => None,
        Activation::Gelu => Some(gelu(&pre)),
    };
    let nodes = [input.node(), weight.node(), bias.node()];
    let result = match DenseOp
        .prepare::<NoCheckpointing>(nodes)
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => {
            let pre = flex(pre, [m, n]);
            let (pre_activation, output) = match output {
                Some(output) => (Some(pre), flex(output, [m, n])),
                None => (None, pre),
            };
            let state = State {
                input: x_values,
                weight: w_values,
                pre_activation,
                activation,
                dims: [m, k, n],
            };
            prep.finish(state, output)
        }
        OpsKind::UnTracked(prep) => prep.finish(flex(output.unwrap_or(pre), [m, n])),
    };
    Some(Tensor::from_primitive::<Ad>(result))
}
