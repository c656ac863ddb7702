//! One AdamW update of a parameter, in place and in one pass over its four buffers
//! (parameter, gradient, two moments): burn's composite makes about a dozen passes and
//! allocates a new tensor for each.

use rayon::prelude::*;

/// Elements per parallel task.
const TASK: usize = 32 * 1024;

/// AdamW's hyper-parameters (burn's `AdamWConfig` fields, which it does not expose).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamWParams {
    /// First-moment decay β₁ (0.9 in burn and PyTorch).
    pub beta_1: f32,
    /// Second-moment decay β₂ (0.999).
    pub beta_2: f32,
    /// Added to `√v̂`.
    pub epsilon: f32,
    /// Decoupled weight decay λ.
    pub weight_decay: f32,
}

impl AdamWParams {
    /// burn's `AdamWConfig` with these values, for where the fused step cannot run.
    pub fn burn_config(&self) -> burn::optim::AdamWConfig {
        burn::optim::AdamWConfig::new()
            .with_beta_1(self.beta_1)
            .with_beta_2(self.beta_2)
            .with_epsilon(self.epsilon)
            .with_weight_decay(self.weight_decay)
    }
}

/// The hyper-parameters of one step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamWStep {
    /// Learning rate.
    pub lr: f64,
    /// First-moment decay β₁.
    pub beta_1: f32,
    /// Second-moment decay β₂.
    pub beta_2: f32,
    /// Added to `√v̂`.
    pub epsilon: f32,
    /// Decoupled weight decay λ (the parameter is scaled by `1 − lr·λ`).
    pub weight_decay: f32,
    /// The step number `t`, from 1 (bias corrections `1 − β^t`).
    pub time: usize,
}

/// `m ← β₁m + (1−β₁)g`, `v ← β₂v + (1−β₂)g²`, then
/// `θ ← θ(1 − lr·λ) − lr · m̂ / (√v̂ + ε)` with `m̂ = m/(1−β₁ᵗ)`, `v̂ = v/(1−β₂ᵗ)`,
/// burn's `AdamW` (without AMSGrad or cautious decay), in the same f32 operations.
/// Zero moments give the first step.
///
/// # Panics
/// When the four buffers differ in length.
pub fn adamw_update(
    param: &mut [f32],
    grad: &[f32],
    moment_1: &mut [f32],
    moment_2: &mut [f32],
    step: &AdamWStep,
) {
    let len = param.len();
    assert!(
        grad.len() == len && moment_1.len() == len && moment_2.len() == len,
        "AdamW buffers differ in length"
    );
    let time = i32::try_from(step.time).unwrap_or(i32::MAX);
    let correction_1 = 1.0 - step.beta_1.powi(time);
    let correction_2 = 1.0 - step.beta_2.powi(time);
    let keep = (1.0 - step.lr * step.weight_decay as f64) as f32;
    let lr = step.lr as f32;
    let (b1, b2) = (step.beta_1, step.beta_2);
    let (f1, f2) = (1.0 - b1, 1.0 - b2);
    param
        .par_chunks_mut(TASK)
        .zip(grad.par_chunks(TASK))
        .zip(
            moment_1
                .par_chunks_mut(TASK)
                .zip(moment_2.par_chunks_mut(TASK)),
        )
        .for_each(|((p, g), (m, v))| {
            for (((p, g), m), v) in p.iter_mut().zip(g).zip(m).zip(v) {
                *m = *m * b1 + g * f1;
                *v = *v * b2 + (g * g) * f2;
                let delta = (*m / correction_1) / ((*v / correction_2).sqrt() + step.epsilon);
                *p = *p * keep - delta * lr;
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_first_step_by_hand() {
        // g = 2, zero moments, t = 1: m = 0.2, v = 0.004, m̂ = 2, v̂ = 4, Δ = 2 / (2 + 0)
        // = 1, so θ = 1 − 0.1 · 1 = 0.9 (no decay); with λ = 1 it is 1 · 0.9 − 0.1 = 0.8.
        let step = AdamWStep {
            lr: 0.1,
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 0.0,
            weight_decay: 0.0,
            time: 1,
        };
        let (mut p, mut m, mut v) = ([1.0f32], [0.0f32], [0.0f32]);
        adamw_update(&mut p, &[2.0], &mut m, &mut v, &step);
        assert!((p[0] - 0.9).abs() < 1e-6, "{p:?}");
        assert!((m[0] - 0.2).abs() < 1e-7 && (v[0] - 0.004).abs() < 1e-7);
        let (mut p, mut m, mut v) = ([1.0f32], [0.0f32], [0.0f32]);
        let decayed = AdamWStep {
            weight_decay: 1.0,
            ..step
        };
        adamw_update(&mut p, &[2.0], &mut m, &mut v, &decayed);
        assert!((p[0] - 0.8).abs() < 1e-6, "{p:?}");
    }
}
