//! Moving f32 data between burn tensors on the flex device and plain slices.

use burn::tensor::{Tensor, TensorData};
use burn_flex::{Flex, FlexTensor};

/// The flex primitive behind `tensor` as contiguous f32, or `None` when the tensor lives
/// elsewhere (another device, autodiff) or holds another dtype.
pub(crate) fn flex_f32<const D: usize>(tensor: &Tensor<D>) -> Option<FlexTensor> {
    Some(contiguous(flex_primitive(tensor)?))
}

/// `primitive` as a contiguous buffer starting at its first element.
pub(crate) fn contiguous(primitive: FlexTensor) -> FlexTensor {
    if primitive.as_slice::<f32>().is_some() {
        primitive
    } else {
        primitive.to_contiguous()
    }
}

/// The flex primitive behind `tensor` as it is (possibly a strided view), when it holds f32.
pub(crate) fn flex_primitive<const D: usize>(tensor: &Tensor<D>) -> Option<FlexTensor> {
    let primitive = tensor.clone().try_into_primitive::<Flex>().ok()?;
    (primitive.dtype() == burn::tensor::DType::F32).then_some(primitive)
}

/// The f32 elements of a primitive made by [`flex_f32`] or [`contiguous`].
pub(crate) fn values(primitive: &FlexTensor) -> &[f32] {
    primitive.as_slice::<f32>().unwrap_or_default()
}

/// A flex tensor owning `data` with `shape`.
pub(crate) fn from_vec<const D: usize>(data: Vec<f32>, shape: [usize; D]) -> Tensor<D> {
    Tensor::from_primitive::<Flex>(FlexTensor::from_data(TensorData::new(data, shape)))
}
