//! # lat-kernels
//!
//! CPU kernels for lat's encoder, used when the model runs on burn's flex device on a CPU
//! with AVX-512F: a GEMM with bias and GELU fused into its epilogue, a fused attention
//! that also yields each token's significance (the attention it receives), and a residual
//! LayerNorm; for training on flex under autodiff, differentiable versions of the dense,
//! attention, LayerNorm and dropout steps whose backward passes run here too, and a fused
//! AdamW. Everywhere else (wgpu, other CPUs, `LAT_KERNELS=off`, gradient checkpointing)
//! the model keeps burn's own ops: every function of [`flex`] answers `None` and the
//! caller runs its burn composite, which stays the definition the kernels are tested
//! against.

pub mod adamw;
#[cfg(target_arch = "x86_64")]
pub mod amx;
#[cfg(target_arch = "x86_64")]
pub mod attention;
#[cfg(target_arch = "x86_64")]
mod attention_bf16;
#[cfg(target_arch = "x86_64")]
pub mod attention_train;
pub mod cpu;
#[cfg(target_arch = "x86_64")]
pub mod dense_grad;
#[cfg(target_arch = "x86_64")]
pub mod dropout;
#[cfg(all(target_arch = "x86_64", feature = "flex"))]
pub mod flex;
#[cfg(not(all(target_arch = "x86_64", feature = "flex")))]
#[path = "flex_unavailable.rs"]
pub mod flex;
#[cfg(target_arch = "x86_64")]
pub mod gelu;
#[cfg(target_arch = "x86_64")]
pub mod gemm;
#[cfg(target_arch = "x86_64")]
pub mod gemm_bf16;
#[cfg(target_arch = "x86_64")]
pub mod layer_norm;
#[cfg(target_arch = "x86_64")]
pub mod layer_norm_grad;
#[cfg(target_arch = "x86_64")]
mod out_ptr;
#[cfg(target_arch = "x86_64")]
pub mod packed;
#[cfg(target_arch = "x86_64")]
pub mod packed_bf16;
mod pool;
#[cfg(target_arch = "x86_64")]
mod row_ops;
#[cfg(target_arch = "x86_64")]
mod simd_math;
mod sublayers;

pub use adamw::{AdamWParams, AdamWStep, adamw_update};
#[cfg(target_arch = "x86_64")]
pub use attention::{AttentionInput, AttentionResult, Rows, attention, attention_to};
#[cfg(target_arch = "x86_64")]
pub use attention_train::{
    TrainAttentionForward, TrainAttentionGrads, TrainAttentionInput, attention_backward,
    attention_forward,
};
#[cfg(target_arch = "x86_64")]
pub use dense_grad::{DenseGrads, DenseSaved, DenseWanted, dense_backward, weight_gradient};
#[cfg(target_arch = "x86_64")]
pub use dropout::{DropoutMask, dropout};
#[cfg(target_arch = "x86_64")]
pub use gemm::{Activation, linear, linear_to};
#[cfg(target_arch = "x86_64")]
pub use gemm_bf16::linear_bf16;
#[cfg(target_arch = "x86_64")]
pub use layer_norm::{LayerNormParams, add_layer_norm};
#[cfg(target_arch = "x86_64")]
pub use layer_norm_grad::{
    LayerNormGrads, LayerNormSaved, add_layer_norm_saving, layer_norm_backward,
};
#[cfg(target_arch = "x86_64")]
pub use packed::PackedWeight;
#[cfg(target_arch = "x86_64")]
pub use packed_bf16::Bf16Weight;
pub use pool::on_compute_pool;
