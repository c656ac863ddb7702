//! Differentiable kernels for training on burn's autodiff-over-flex device: each op runs
//! its forward on the kernels and registers its backward in burn's autodiff graph, so
//! that `loss.backward()` runs the kernels' gradients too. Everywhere else (inference,
//! wgpu, other CPUs, `LAT_KERNELS=off`, gradient checkpointing) they answer `None` and
//! the model keeps burn's ops.

mod adamw;
mod attention;
mod dense;
mod dropout;
mod layer_norm;
mod tensors;

pub use adamw::{adamw, fused_optimizer_steps};
pub use attention::attention_core;
pub use dense::{dense, dense_gelu};
pub use dropout::dropout_layer;
pub use layer_norm::residual_layer_norm;
