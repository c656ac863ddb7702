//! Moving between burn tensors on the autodiff-over-flex device, their tracked primitives
//! and plain f32 buffers (the flex-side helpers are the inference bridge's own).

use burn::tensor::{Tensor, TensorData};
use burn_autodiff::Autodiff;
use burn_backend::backend::BackendTypes;
use burn_flex::{Flex, FlexTensor};

pub(super) use crate::flex::tensors::{contiguous, values};

/// The backend the training ops run on: flex under autodiff, every activation kept
/// (burn's default; a device with gradient checkpointing is another backend and falls
/// back to burn's ops).
pub(super) type Ad = Autodiff<Flex>;

/// A tracked tensor of [`Ad`]: the flex primitive and its node in the graph.
pub(super) type AdTensor = <Ad as BackendTypes>::FloatTensorPrimitive;

/// The tracked primitive behind `tensor` when it lives on [`Ad`] and holds f32.
pub(super) fn tracked<const D: usize>(tensor: &Tensor<D>) -> Option<AdTensor> {
    let primitive = tensor.clone().try_into_primitive::<Ad>().ok()?;
    (primitive.primitive().dtype() == burn::tensor::DType::F32).then_some(primitive)
}

/// A flex primitive owning `data` with `shape`.
pub(super) fn flex<const D: usize>(data: Vec<f32>, shape: [usize; D]) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(data, shape))
}
