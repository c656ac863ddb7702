//! GELU over whole buffers, forward and backward, for training: the forward keeps its
//! input (the backward needs it), so the activation cannot ride in the GEMM's epilogue.

use core::arch::x86_64::{__mmask16, _mm512_mask_storeu_ps, _mm512_maskz_loadu_ps, _mm512_mul_ps};
use rayon::prelude::*;

use crate::simd_math;

/// Elements per parallel task.
const TASK: usize = 16 * 1024;

/// `gelu(x)` element-wise (HF BERT's erf form).
///
/// # Panics
/// When the CPU lacks AVX-512F.
pub fn gelu(x: &[f32]) -> Vec<f32> {
    let mut out = vec![0.0; x.len()];
    map(&mut out, x, x, |x, _| {
        // SAFETY: `map` runs this only after checking AVX-512F.
        unsafe { simd_math::gelu(x) }
    });
    out
}

/// `grad_output ⊙ gelu'(x)`: the gradient reaching GELU's input.
///
/// # Panics
/// When the CPU lacks AVX-512F or the buffers differ in length.
pub fn gelu_backward(x: &[f32], grad_output: &[f32]) -> Vec<f32> {
    assert_eq!(x.len(), grad_output.len(), "GELU input and gradient differ");
    let mut out = vec![0.0; x.len()];
    map(&mut out, x, grad_output, |x, g| {
        // SAFETY: `map` runs this only after checking AVX-512F.
        unsafe { _mm512_mul_ps(simd_math::gelu_derivative(x), g) }
    });
    out
}

/// `out[i] = f(a[i], b[i])` sixteen lanes at a time, in parallel.
fn map(
    out: &mut [f32],
    a: &[f32],
    b: &[f32],
    f: impl Fn(core::arch::x86_64::__m512, core::arch::x86_64::__m512) -> core::arch::x86_64::__m512
    + Sync,
) {
    assert!(crate::cpu::avx512(), "the GELU kernel needs AVX-512F");
    out.par_chunks_mut(TASK)
        .zip(a.par_chunks(TASK).zip(b.par_chunks(TASK)))
        .for_each(|(out, (a, b))| {
            for i in (0..out.len()).step_by(16) {
                let lanes = (out.len() - i).min(16);
                let mask: __mmask16 = if lanes == 16 {
                    0xFFFF
                } else {
                    (1 << lanes) - 1
                };
                // SAFETY: AVX-512F checked above; the mask limits every access to the
                // `lanes` elements from i, which all three slices hold.
                unsafe {
                    let va = _mm512_maskz_loadu_ps(mask, a.as_ptr().add(i));
                    let vb = _mm512_maskz_loadu_ps(mask, b.as_ptr().add(i));
                    _mm512_mask_storeu_ps(out.as_mut_ptr().add(i), mask, f(va, vb));
                }
            }
        });
}
