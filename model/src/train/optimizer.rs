//! The optimizer of every training run: AdamW (β = 0.9, 0.999, as burn and PyTorch), with
//! lat-kernels' fused in-place step on the flex CPU device and burn's AdamW elsewhere. Both
//! keep burn's `AdamWState`, so optimizer checkpoints are the same either way.

use burn::optim::ModuleOptimizer;
use lat_kernels::AdamWParams;

/// AdamW with the run's epsilon and decoupled weight decay.
pub fn adamw(epsilon: f64, weight_decay: f64) -> ModuleOptimizer {
    lat_kernels::flex::adamw(AdamWParams {
        beta_1: 0.9,
        beta_2: 0.999,
        epsilon: epsilon as f32,
        weight_decay: weight_decay as f32,
    })
}
