//! `LayerNorm(x + residual)` per row (post-LN BERT's closing step of both sub-layers), in
//! one pass over memory instead of burn's add, mean, variance and affine passes.

use core::arch::x86_64::{
    _mm512_add_ps, _mm512_fmadd_ps, _mm512_loadu_ps, _mm512_mul_ps, _mm512_reduce_add_ps,
    _mm512_set1_ps, _mm512_setzero_ps, _mm512_storeu_ps, _mm512_sub_ps,
};
use rayon::prelude::*;

/// LayerNorm's parameters.
#[derive(Debug, Clone, Copy)]
pub struct LayerNormParams<'a> {
    /// Scale, `[d]`.
    pub gamma: &'a [f32],
    /// Shift, `[d]` (zeros when the layer has none).
    pub beta: &'a [f32],
    /// Added to the variance.
    pub epsilon: f32,
}

/// Rows per parallel task.
const TASK_ROWS: usize = 32;

/// `x ← LayerNorm(x + residual)` row by row; rows are `gamma.len()` wide (a multiple of 16).
///
/// The variance is the biased one, computed around the mean in a second pass (as burn and
/// PyTorch do), so large means do not cancel.
///
/// # Panics
/// When the CPU lacks AVX-512F, the width is not a multiple of 16 or the shapes disagree.
pub fn add_layer_norm(x: &mut [f32], residual: &[f32], params: &LayerNormParams<'_>) {
    assert!(crate::cpu::avx512(), "the LayerNorm kernel needs AVX-512F");
    let d = params.gamma.len();
    assert!(
        d.is_multiple_of(16) && params.beta.len() == d,
        "LayerNorm width must be a multiple of 16"
    );
    assert_eq!(
        x.len(),
        residual.len(),
        "residual and input differ in shape"
    );
    assert_eq!(x.len() % d, 0, "input rows are not {d} wide");
    x.par_chunks_mut(TASK_ROWS * d)
        .zip(residual.par_chunks(TASK_ROWS * d))
        .for_each(|(xs, rs)| {
            for (row, res) in xs.chunks_exact_mut(d).zip(rs.chunks_exact(d)) {
                // SAFETY: AVX-512F checked above; row, res, gamma and beta are d floats.
                unsafe { normalise_row(row, res, params) };
            }
        });
}

/// # Safety
/// AVX-512F must be available and every slice must hold `params.gamma.len()` floats, a
/// multiple of 16.
#[target_feature(enable = "avx512f")]
unsafe fn normalise_row(row: &mut [f32], res: &[f32], params: &LayerNormParams<'_>) {
    let d = row.len();
    let (x, r) = (row.as_mut_ptr(), res.as_ptr());
    let (g, b) = (params.gamma.as_ptr(), params.beta.as_ptr());
    // SAFETY: every offset c below satisfies c + 16 <= d, the length of every slice.
    unsafe {
        let mut sum = _mm512_setzero_ps();
        for c in (0..d).step_by(16) {
            let y = _mm512_add_ps(_mm512_loadu_ps(x.add(c)), _mm512_loadu_ps(r.add(c)));
            _mm512_storeu_ps(x.add(c), y);
            sum = _mm512_add_ps(sum, y);
        }
        let mean = _mm512_set1_ps(_mm512_reduce_add_ps(sum) / d as f32);
        let mut sq = _mm512_setzero_ps();
        for c in (0..d).step_by(16) {
            let centred = _mm512_sub_ps(_mm512_loadu_ps(x.add(c)), mean);
            sq = _mm512_fmadd_ps(centred, centred, sq);
        }
        let variance = _mm512_reduce_add_ps(sq) / d as f32;
        let inv = _mm512_set1_ps(1.0 / (variance + params.epsilon).sqrt());
        for c in (0..d).step_by(16) {
            let normed = _mm512_mul_ps(_mm512_sub_ps(_mm512_loadu_ps(x.add(c)), mean), inv);
            let out = _mm512_fmadd_ps(normed, _mm512_loadu_ps(g.add(c)), _mm512_loadu_ps(b.add(c)));
            _mm512_storeu_ps(x.add(c), out);
        }
    }
}
