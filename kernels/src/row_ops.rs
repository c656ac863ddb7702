//! Row-wise vector operations of the attention: softmax in place (max subtracted first)
//! and `y += a · x`, 16 lanes at a time with masked tails.

use core::arch::x86_64::{
    __m512, _mm512_add_ps, _mm512_fmadd_ps, _mm512_loadu_ps, _mm512_mask_storeu_ps,
    _mm512_maskz_loadu_ps, _mm512_max_ps, _mm512_mul_ps, _mm512_reduce_add_ps,
    _mm512_reduce_max_ps, _mm512_set1_ps, _mm512_setzero_ps, _mm512_storeu_ps, _mm512_sub_ps,
};

use crate::simd_math;

/// `y += a · x`, 16 lanes at a time with a masked tail.
#[inline]
#[target_feature(enable = "avx512f")]
pub(crate) fn axpy(a: f32, x: &[f32], y: &mut [f32]) {
    assert_eq!(x.len(), y.len());
    let av = _mm512_set1_ps(a);
    let mut j = 0;
    while j + 16 <= x.len() {
        // SAFETY: j + 16 <= len for both slices.
        unsafe {
            let yv = _mm512_fmadd_ps(
                av,
                _mm512_loadu_ps(x.as_ptr().add(j)),
                _mm512_loadu_ps(y.as_ptr().add(j)),
            );
            _mm512_storeu_ps(y.as_mut_ptr().add(j), yv);
        }
        j += 16;
    }
    if j < x.len() {
        let m = tail_mask(x.len() - j);
        // SAFETY: the mask covers only the len - j valid elements.
        unsafe {
            let yv = _mm512_fmadd_ps(
                av,
                _mm512_maskz_loadu_ps(m, x.as_ptr().add(j)),
                _mm512_maskz_loadu_ps(m, y.as_ptr().add(j)),
            );
            _mm512_mask_storeu_ps(y.as_mut_ptr().add(j), m, yv);
        }
    }
}

/// Numerically stable softmax of one row (max subtracted first, as burn's).
#[target_feature(enable = "avx512f")]
pub(crate) fn softmax_in_place(x: &mut [f32]) {
    let max = fold(
        x,
        _mm512_set1_ps(f32::MIN),
        |acc, v| _mm512_max_ps(acc, v),
        f32::MIN,
    );
    let max = _mm512_reduce_max_ps(max);
    let mv = _mm512_set1_ps(max);
    map_in_place(x, |v| simd_math::exp(_mm512_sub_ps(v, mv)));
    let sum = fold(x, _mm512_setzero_ps(), |acc, v| _mm512_add_ps(acc, v), 0.0);
    let inv = _mm512_set1_ps(1.0 / _mm512_reduce_add_ps(sum));
    map_in_place(x, |v| _mm512_mul_ps(v, inv));
}

/// Lane-wise reduction of a slice; the tail is padded with `pad`.
#[inline]
#[target_feature(enable = "avx512f")]
fn fold(x: &[f32], init: __m512, f: impl Fn(__m512, __m512) -> __m512, pad: f32) -> __m512 {
    let mut acc = init;
    let mut chunks = x.chunks_exact(16);
    for c in &mut chunks {
        // SAFETY: the chunk has 16 floats.
        acc = f(acc, unsafe { _mm512_loadu_ps(c.as_ptr()) });
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut last = [pad; 16];
        last[..rest.len()].copy_from_slice(rest);
        // SAFETY: `last` has 16 floats.
        acc = f(acc, unsafe { _mm512_loadu_ps(last.as_ptr()) });
    }
    acc
}

/// Applies `f` to a slice 16 lanes at a time.
#[inline]
#[target_feature(enable = "avx512f")]
fn map_in_place(x: &mut [f32], f: impl Fn(__m512) -> __m512) {
    let mut chunks = x.chunks_exact_mut(16);
    for c in &mut chunks {
        // SAFETY: the chunk has 16 floats.
        unsafe { _mm512_storeu_ps(c.as_mut_ptr(), f(_mm512_loadu_ps(c.as_ptr()))) };
    }
    let rest = chunks.into_remainder();
    if !rest.is_empty() {
        let m = tail_mask(rest.len());
        // SAFETY: the mask covers only the remainder's floats.
        unsafe {
            let v = f(_mm512_maskz_loadu_ps(m, rest.as_ptr()));
            _mm512_mask_storeu_ps(rest.as_mut_ptr(), m, v);
        }
    }
}

/// The first `len` (< 16) lanes.
pub(crate) fn tail_mask(len: usize) -> u16 {
    ((1u32 << len.min(16)) - 1) as u16
}
