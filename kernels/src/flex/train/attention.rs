//! Multi-head attention (scores, softmax, dropout, context) as one differentiable op on
//! the queries, keys and values, with the heads read in place ([`attention_forward`],
//! [`attention_backward`]): burn's composite splits and merges the heads by copies and
//! records a dozen steps per layer.

use std::sync::Arc;

use burn::nn::Dropout;
use burn::tensor::Tensor;
use burn_autodiff::checkpoint::base::Checkpointer;
use burn_autodiff::checkpoint::strategy::NoCheckpointing;
use burn_autodiff::grads::Gradients;
use burn_autodiff::ops::{Backward, Ops, OpsKind};
use burn_flex::{Flex, FlexTensor};

use super::dropout::mask_for;
use super::tensors::{Ad, AdTensor, contiguous, flex, tracked, values};
use crate::attention_train::{TrainAttentionInput, attention_backward, attention_forward};
use crate::dropout::DropoutMask;
use crate::flex::encoder::masks;
use crate::sublayers::TrainAttention;

/// `dropout(softmax(q kᵀ/√d + padding bias)) v` per head for `[batch_size * n, hidden]`
/// projections whose row `b` has `counts[b]` real tokens, on the autodiff-over-flex
/// device; `None` elsewhere or for head widths the kernels do not take.
pub fn attention_core(
    q: &Tensor<2>,
    k: &Tensor<2>,
    v: &Tensor<2>,
    counts: &[usize],
    heads: usize,
    dropout: &Dropout,
    with_significance: bool,
) -> Option<TrainAttention> {
    let [rows, hidden] = q.dims();
    let batch_size = counts.len();
    let head_dim = hidden / heads.max(1);
    let usable = crate::cpu::enabled()
        && batch_size > 0
        && rows.is_multiple_of(batch_size)
        && head_dim * heads == hidden
        && head_dim.is_multiple_of(32)
        && k.dims() == [rows, hidden]
        && v.dims() == [rows, hidden];
    if !usable {
        return None;
    }
    let n = rows / batch_size;
    let operands = [tracked(q)?, tracked(k)?, tracked(v)?];
    let [qv, kv, vv] = operands
        .each_ref()
        .map(|t| contiguous(t.primitive().clone()));
    let (key_bias, voters) = masks(counts, n);
    let dims = Dims {
        batch_size,
        n,
        heads,
        head_dim,
    };
    let mask = mask_for(dropout, &q.device());
    let forward = attention_forward(&dims.input(
        [&qv, &kv, &vv],
        &key_bias,
        with_significance.then_some(voters.as_slice()),
        mask,
    ));
    let context = flex(forward.context, [rows, hidden]);
    let significance = forward
        .significance
        .map(|s| Tensor::from_primitive::<Ad>(AdTensor::new(flex(s, [batch_size, n]))));
    let nodes = operands.each_ref().map(|t| t.node());
    let result = match AttentionOp
        .prepare::<NoCheckpointing>(nodes)
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => {
            let state = State {
                operands: [qv, kv, vv],
                probs: Arc::new(forward.probs),
                key_bias: Arc::new(key_bias),
                mask,
                dims,
            };
            prep.finish(state, context)
        }
        OpsKind::UnTracked(prep) => prep.finish(context),
    };
    Some(TrainAttention {
        context: Tensor::from_primitive::<Ad>(result),
        significance,
    })
}

#[derive(Debug, Clone, Copy)]
struct Dims {
    batch_size: usize,
    n: usize,
    heads: usize,
    head_dim: usize,
}

impl Dims {
    fn input<'a>(
        &self,
        [q, k, v]: [&'a FlexTensor; 3],
        key_bias: &'a [f32],
        voters: Option<&'a [f32]>,
        dropout: Option<DropoutMask>,
    ) -> TrainAttentionInput<'a> {
        TrainAttentionInput {
            q: values(q),
            k: values(k),
            v: values(v),
            key_bias,
            voters,
            dropout,
            batch_size: self.batch_size,
            n: self.n,
            heads: self.heads,
            head_dim: self.head_dim,
        }
    }
}

#[derive(Debug)]
struct AttentionOp;

/// The operands (reference-counted), the probabilities before dropout and the mask.
#[derive(Debug, Clone)]
struct State {
    operands: [FlexTensor; 3],
    probs: Arc<Vec<f32>>,
    key_bias: Arc<Vec<f32>>,
    mask: Option<DropoutMask>,
    dims: Dims,
}

impl Backward<Flex, 3> for AttentionOp {
    type State = State;

    fn backward(self, ops: Ops<State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let grad_context = contiguous(grads.consume::<Flex>(&ops.node));
        let state = ops.state;
        let [q, k, v] = state.operands.each_ref();
        let input = state
            .dims
            .input([q, k, v], &state.key_bias, None, state.mask);
        let out = attention_backward(&input, &state.probs, values(&grad_context));
        let shape = q.layout().shape().dims::<2>();
        let [pq, pk, pv] = ops.parents;
        for (parent, grad) in [(pq, out.q), (pk, out.k), (pv, out.v)] {
            if let Some(node) = parent {
                grads.register::<Flex>(node.id, flex(grad, shape));
            }
        }
    }
}
