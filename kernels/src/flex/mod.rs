//! The bridge between burn tensors and the kernels: each function takes the model's own
//! modules and tensors, runs the fused kernels when the tensors live on the flex device
//! (inference entries without autodiff, the training entries of `train` under it) on an
//! AVX-512 CPU, and returns `None` otherwise, so that the caller
//! runs its burn composite instead. The composite stays the definition; the kernels are
//! tested against it.

mod encoder;
mod rows;
mod tensors;
mod train;
mod weights;

pub use crate::sublayers::{AttentionWeights, FeedForwardWeights, FusedAttention, TrainAttention};
pub use encoder::{feed_forward, fused_calls, self_attention, self_attention_first};
pub use rows::{gather_tokens, scatter_tokens};
pub use train::{
    adamw, attention_core, dense, dense_gelu, dropout_layer, fused_optimizer_steps,
    residual_layer_norm,
};
pub use weights::{cached_packed_weights, packs_built};
