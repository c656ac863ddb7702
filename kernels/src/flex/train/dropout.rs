//! burn's `Dropout` as one differentiable op with a counter-based mask ([`dropout`]):
//! the seed of each call is drawn from the device's own generator, so training stays
//! reproducible under `Device::seed`, and the backward pass recomputes the mask.

use burn::nn::Dropout;
use burn::tensor::{Distribution, Tensor};
use burn_autodiff::checkpoint::base::Checkpointer;
use burn_autodiff::checkpoint::strategy::NoCheckpointing;
use burn_autodiff::grads::Gradients;
use burn_autodiff::ops::{Backward, Ops, OpsKind};
use burn_flex::Flex;

use super::tensors::{Ad, contiguous, flex, tracked, values};
use crate::dropout::{DropoutMask, dropout};

/// `layer(x)` in training on the autodiff-over-flex device; `None` elsewhere, and when
/// the layer would not drop anything (evaluation, probability 0), where burn's `Dropout`
/// returns its input as it is.
pub fn dropout_layer<const D: usize>(x: &Tensor<D>, layer: &Dropout) -> Option<Tensor<D>> {
    if !(crate::cpu::enabled() && layer.training.is_enabled() && layer.prob > 0.0) {
        return None;
    }
    let input = tracked(x)?;
    let mask = DropoutMask {
        seed: seed(&x.device()),
        prob: layer.prob,
    };
    let output = flex(
        dropout(values(&contiguous(input.primitive().clone())), mask),
        x.dims(),
    );
    let result = match DropoutOp
        .prepare::<NoCheckpointing>([input.node()])
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => {
            let shape = x.dims().to_vec();
            prep.finish(State { mask, shape }, output)
        }
        OpsKind::UnTracked(prep) => prep.finish(output),
    };
    Some(Tensor::from_primitive::<Ad>(result))
}

/// The mask of one call of `layer` in training (a fresh seed), or `None` when it would
/// not drop anything.
pub(super) fn mask_for(layer: &Dropout, device: &burn::tensor::Device) -> Option<DropoutMask> {
    (layer.training.is_enabled() && layer.prob > 0.0 && device.is_autodiff()).then(|| DropoutMask {
        seed: seed(device),
        prob: layer.prob,
    })
}

/// 64 random bits from the device's seeded generator: four draws of 16 bits.
fn seed(device: &burn::tensor::Device) -> u64 {
    let draws = Tensor::<1>::random([4], Distribution::Default, device).into_data();
    draws
        .iter::<f32>()
        .fold(0u64, |acc, u| (acc << 16) | (u * 65_536.0) as u64 & 0xFFFF)
}

#[derive(Debug)]
struct DropoutOp;

#[derive(Debug, Clone)]
struct State {
    mask: DropoutMask,
    shape: Vec<usize>,
}

impl Backward<Flex, 1> for DropoutOp {
    type State = State;

    fn backward(self, ops: Ops<State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [input] = ops.parents;
        let grad_output = contiguous(grads.consume::<Flex>(&ops.node));
        if let Some(node) = input {
            let grad = dropout(values(&grad_output), ops.state.mask);
            let data = burn::tensor::TensorData::new(grad, ops.state.shape);
            grads.register::<Flex>(node.id, burn_flex::FlexTensor::from_data(data));
        }
    }
}
