//! `LayerNorm(x + residual)` for training: the forward keeps the normalised rows `x̂` and
//! each row's `1/σ`, and the backward turns `∂y` into the gradients of the sum (which the
//! residual's two branches share) and of the scale and shift:
//! `∂x = (g − mean(g) − x̂ · mean(g ⊙ x̂)) / σ` with `g = ∂y ⊙ γ`, `∂γ = Σ ∂y ⊙ x̂`,
//! `∂β = Σ ∂y`. These passes are bound by memory, so plain loops serve.

use rayon::prelude::*;

use crate::layer_norm::LayerNormParams;

/// Rows per parallel task.
const TASK_ROWS: usize = 64;

/// The forward's output and what its backward needs.
#[derive(Debug, Clone)]
pub struct LayerNormSaved {
    /// `LayerNorm(x + residual)`, row-major like the input.
    pub output: Vec<f32>,
    /// `x̂ = (x + residual − μ) / σ` per row.
    pub normalized: Vec<f32>,
    /// `1/σ = 1/√(var + ε)` per row.
    pub inv_std: Vec<f32>,
}

/// The gradients of `LayerNorm(x + residual)`.
#[derive(Debug, Clone)]
pub struct LayerNormGrads {
    /// `∂(x + residual)`: the gradient of `x` and of `residual` alike.
    pub input: Vec<f32>,
    /// `∂γ`.
    pub gamma: Vec<f32>,
    /// `∂β`.
    pub beta: Vec<f32>,
}

/// `LayerNorm(x + residual)` row by row (biased variance around the mean, as burn and
/// PyTorch), keeping what [`layer_norm_backward`] needs.
///
/// # Panics
/// When the shapes disagree.
pub fn add_layer_norm_saving(
    x: &[f32],
    residual: &[f32],
    params: &LayerNormParams<'_>,
) -> LayerNormSaved {
    let d = params.gamma.len();
    assert!(
        d > 0 && params.beta.len() == d,
        "LayerNorm parameters differ"
    );
    assert_eq!(
        x.len(),
        residual.len(),
        "residual and input differ in shape"
    );
    assert_eq!(x.len() % d, 0, "input rows are not {d} wide");
    let rows = x.len() / d;
    let mut output = vec![0.0; x.len()];
    let mut normalized = vec![0.0; x.len()];
    let mut inv_std = vec![0.0; rows];
    output
        .par_chunks_mut(TASK_ROWS * d)
        .zip(normalized.par_chunks_mut(TASK_ROWS * d))
        .zip(inv_std.par_chunks_mut(TASK_ROWS))
        .zip(
            x.par_chunks(TASK_ROWS * d)
                .zip(residual.par_chunks(TASK_ROWS * d)),
        )
        .for_each(|(((out, norm), inv), (x, res))| {
            let rows = out
                .chunks_exact_mut(d)
                .zip(norm.chunks_exact_mut(d))
                .zip(inv.iter_mut())
                .zip(x.chunks_exact(d).zip(res.chunks_exact(d)));
            for (((out, norm), inv), (x, res)) in rows {
                for ((n, a), b) in norm.iter_mut().zip(x).zip(res) {
                    *n = a + b;
                }
                let mean = norm.iter().sum::<f32>() / d as f32;
                let variance = norm.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / d as f32;
                *inv = 1.0 / (variance + params.epsilon).sqrt();
                for (((o, n), g), b) in out.iter_mut().zip(norm).zip(params.gamma).zip(params.beta)
                {
                    *n = (*n - mean) * *inv;
                    *o = *n * g + b;
                }
            }
        });
    LayerNormSaved {
        output,
        normalized,
        inv_std,
    }
}

/// The gradients of `LayerNorm(x + residual)` given `∂y` (`grad_output`, shaped like the
/// input) and what the forward saved.
///
/// # Panics
/// When the shapes disagree.
pub fn layer_norm_backward(
    saved: &LayerNormSaved,
    gamma: &[f32],
    grad_output: &[f32],
) -> LayerNormGrads {
    let d = gamma.len();
    assert_eq!(
        grad_output.len(),
        saved.normalized.len(),
        "gradient and input differ"
    );
    assert_eq!(
        saved.normalized.len(),
        saved.inv_std.len() * d,
        "rows are not {d} wide"
    );
    let mut input = vec![0.0; grad_output.len()];
    let (gamma_grad, beta_grad) = input
        .par_chunks_mut(TASK_ROWS * d)
        .zip(saved.normalized.par_chunks(TASK_ROWS * d))
        .zip(saved.inv_std.par_chunks(TASK_ROWS))
        .zip(grad_output.par_chunks(TASK_ROWS * d))
        .map(|(((dx, xhat), inv), dy)| {
            let (mut dgamma, mut dbeta) = (vec![0.0f32; d], vec![0.0f32; d]);
            let rows = dx
                .chunks_exact_mut(d)
                .zip(xhat.chunks_exact(d))
                .zip(inv)
                .zip(dy.chunks_exact(d));
            for (((dx, xhat), inv), dy) in rows {
                let (mut mean_g, mut mean_gx) = (0.0f32, 0.0f32);
                for (((dy, xh), g), (dg, db)) in dy
                    .iter()
                    .zip(xhat)
                    .zip(gamma)
                    .zip(dgamma.iter_mut().zip(dbeta.iter_mut()))
                {
                    let scaled = dy * g;
                    mean_g += scaled;
                    mean_gx += scaled * xh;
                    *dg += dy * xh;
                    *db += dy;
                }
                mean_g /= d as f32;
                mean_gx /= d as f32;
                for (((dx, dy), xh), g) in dx.iter_mut().zip(dy).zip(xhat).zip(gamma) {
                    *dx = (dy * g - mean_g - xh * mean_gx) * inv;
                }
            }
            (dgamma, dbeta)
        })
        .reduce(
            || (vec![0.0; d], vec![0.0; d]),
            |(mut ga, mut ba), (gb, bb)| {
                ga.iter_mut().zip(gb).for_each(|(a, b)| *a += b);
                ba.iter_mut().zip(bb).for_each(|(a, b)| *a += b);
                (ga, ba)
            },
        );
    LayerNormGrads {
        input,
        gamma: gamma_grad,
        beta: beta_grad,
    }
}
