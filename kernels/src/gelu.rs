//! GELU over whole buffers, forward and backward, for training: the forward keeps its
//! input (the backward needs it), so the activation cannot ride in the GEMM's epilogue.

use core::arch::x86_64::{__m512, _mm512_mask_storeu_ps, _mm512_maskz_loadu_ps, _mm512_mul_ps};
use core::mem::MaybeUninit;

use rayon::prelude::*;

use crate::simd_math;

/// Elements per parallel task.
const TASK: usize = 16 * 1024;

/// Which element-wise function [`map`] applies.
#[derive(Clone, Copy)]
enum Op {
    /// `gelu(a)`.
    Gelu,
    /// `gelu'(a) · b`.
    GeluBackward,
}

/// `gelu(x)` element-wise (HF BERT's erf form).
///
/// # Panics
/// When the CPU lacks AVX-512F.
pub fn gelu(x: &[f32]) -> Vec<f32> {
    map(Op::Gelu, x, x)
}

/// `grad_output ⊙ gelu'(x)`: the gradient reaching GELU's input.
///
/// # Panics
/// When the CPU lacks AVX-512F or the buffers differ in length.
pub fn gelu_backward(x: &[f32], grad_output: &[f32]) -> Vec<f32> {
    assert_eq!(x.len(), grad_output.len(), "GELU input and gradient differ");
    map(Op::GeluBackward, x, grad_output)
}

/// `op(a[i], b[i])` for every i, sixteen lanes at a time, in parallel.
fn map(op: Op, a: &[f32], b: &[f32]) -> Vec<f32> {
    assert!(crate::cpu::avx512(), "the GELU kernel needs AVX-512F");
    let mut out: Vec<f32> = Vec::with_capacity(a.len());
    out.spare_capacity_mut()[..a.len()]
        .par_chunks_mut(TASK)
        .zip(a.par_chunks(TASK).zip(b.par_chunks(TASK)))
        // SAFETY: AVX-512F checked above; the three chunks have the same length.
        .for_each(|(out, (a, b))| unsafe { map_chunk(op, out, a, b) });
    // SAFETY: every chunk wrote all of its elements.
    unsafe { out.set_len(a.len()) };
    out
}

/// # Safety
/// AVX-512F must be available and the three slices must have the same length.
#[target_feature(enable = "avx512f")]
unsafe fn map_chunk(op: Op, out: &mut [MaybeUninit<f32>], a: &[f32], b: &[f32]) {
    let apply = |x: __m512, g: __m512| match op {
        Op::Gelu => simd_math::gelu(x),
        Op::GeluBackward => _mm512_mul_ps(simd_math::gelu_derivative(x), g),
    };
    for i in (0..out.len()).step_by(16) {
        let lanes = (out.len() - i).min(16);
        let mask = if lanes == 16 {
            0xFFFF
        } else {
            (1u16 << lanes) - 1
        };
        // SAFETY: the mask limits every access to the `lanes` elements from i, which all
        // three slices hold.
        unsafe {
            let va = _mm512_maskz_loadu_ps(mask, a.as_ptr().add(i));
            let vb = _mm512_maskz_loadu_ps(mask, b.as_ptr().add(i));
            _mm512_mask_storeu_ps(out.as_mut_ptr().add(i).cast(), mask, apply(va, vb));
        }
    }
}
