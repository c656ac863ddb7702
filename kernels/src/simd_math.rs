//! Vector exp and erf-GELU on AVX-512 registers, accurate to a few f32 ulps so that the
//! fused kernels keep the model's numerics (HF BERT's `gelu` is the exact erf form).

use core::arch::x86_64::{
    __m512, _mm512_abs_ps, _mm512_add_ps, _mm512_div_ps, _mm512_fmadd_ps, _mm512_fnmadd_ps,
    _mm512_max_ps, _mm512_min_ps, _mm512_mul_ps, _mm512_roundscale_ps, _mm512_scalef_ps,
    _mm512_set1_ps, _mm512_sub_ps,
};

/// `exp(x)` lane-wise (Cody-Waite reduction, Cephes' degree-6 polynomial; relative error
/// below 3e-7 wherever the result is a normal f32, 0 below that).
#[inline]
#[target_feature(enable = "avx512f")]
pub(crate) fn exp(x: __m512) -> __m512 {
    let x = _mm512_max_ps(
        _mm512_min_ps(x, _mm512_set1_ps(88.376)),
        _mm512_set1_ps(-88.376),
    );
    // n = round(x / ln 2); r = x - n ln 2 in two steps so that r keeps its low bits.
    let n =
        _mm512_roundscale_ps::<0x08>(_mm512_mul_ps(x, _mm512_set1_ps(core::f32::consts::LOG2_E)));
    let r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693_359_4), x);
    let r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.121_944_4e-4), r);
    let mut p = _mm512_set1_ps(1.987_569_2e-4);
    for c in [
        1.398_199_9e-3,
        8.333_452e-3,
        4.166_579_6e-2,
        1.666_666_5e-1,
        0.5,
    ] {
        p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(c));
    }
    let y = _mm512_fmadd_ps(
        _mm512_mul_ps(p, r),
        r,
        _mm512_add_ps(r, _mm512_set1_ps(1.0)),
    );
    // Below -87.34 the result is no longer a normal f32: flush it, so that masked scores
    // (-1e9) weigh exactly nothing.
    let normal = core::arch::x86_64::_mm512_cmp_ps_mask::<{ core::arch::x86_64::_CMP_GE_OQ }>(
        x,
        _mm512_set1_ps(-87.336_54),
    );
    core::arch::x86_64::_mm512_maskz_mov_ps(normal, _mm512_scalef_ps(y, n))
}

/// `x · Φ(x) = x/2 · (1 + erf(x/√2))` lane-wise, with Abramowitz-Stegun 7.1.26 for erf
/// (absolute error below 1.5e-7).
#[inline]
#[target_feature(enable = "avx512f")]
pub(crate) fn gelu(x: __m512) -> __m512 {
    let (one_plus_erf, _) = erf_parts(x);
    _mm512_mul_ps(_mm512_mul_ps(x, _mm512_set1_ps(0.5)), one_plus_erf)
}

/// `d/dx [x · Φ(x)] = Φ(x) + x · φ(x)` lane-wise (GELU's backward), from the same erf
/// approximation as [`gelu`].
#[inline]
#[target_feature(enable = "avx512f")]
pub(crate) fn gelu_derivative(x: __m512) -> __m512 {
    let (one_plus_erf, gauss) = erf_parts(x);
    // φ(x) = exp(-x²/2) / √(2π)
    let density = _mm512_mul_ps(gauss, _mm512_set1_ps(0.398_942_3));
    _mm512_fmadd_ps(x, density, _mm512_mul_ps(one_plus_erf, _mm512_set1_ps(0.5)))
}

/// `(1 + erf(x/√2), exp(-x²/2))` lane-wise: the erf approximation needs the Gaussian
/// anyway, and GELU's derivative needs both.
#[inline]
#[target_feature(enable = "avx512f")]
fn erf_parts(x: __m512) -> (__m512, __m512) {
    let z = _mm512_mul_ps(x, _mm512_set1_ps(core::f32::consts::FRAC_1_SQRT_2));
    let a = _mm512_abs_ps(z);
    let one = _mm512_set1_ps(1.0);
    let t = _mm512_div_ps(one, _mm512_fmadd_ps(a, _mm512_set1_ps(0.327_591_1), one));
    let mut p = _mm512_set1_ps(1.061_405_4);
    for c in [-1.453_152_1, 1.421_413_8, -0.284_496_74, 0.254_829_6] {
        p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(c));
    }
    let gauss = exp(_mm512_mul_ps(_mm512_sub_ps(_mm512_set1_ps(0.0), a), a));
    let tail = _mm512_mul_ps(_mm512_mul_ps(p, t), gauss);
    // 1 + erf(z) = 2 - tail for z >= 0 and tail for z < 0 (erf is odd).
    let one_plus_erf_pos = _mm512_sub_ps(_mm512_set1_ps(2.0), tail);
    let negative = core::arch::x86_64::_mm512_cmp_ps_mask::<{ core::arch::x86_64::_CMP_LT_OQ }>(
        z,
        _mm512_set1_ps(0.0),
    );
    let one_plus_erf = core::arch::x86_64::_mm512_mask_blend_ps(negative, one_plus_erf_pos, tail);
    (one_plus_erf, gauss)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu::avx512;
    use core::arch::x86_64::{_mm512_loadu_ps, _mm512_storeu_ps};

    fn lanes(f: impl Fn(__m512) -> __m512, xs: &[f32; 16]) -> [f32; 16] {
        let mut out = [0.0; 16];
        // SAFETY: both pointers address 16 valid f32; callers checked AVX-512.
        unsafe { _mm512_storeu_ps(out.as_mut_ptr(), f(_mm512_loadu_ps(xs.as_ptr()))) };
        out
    }

    fn sweep() -> impl Iterator<Item = [f32; 16]> {
        (-2000..2000).map(|i| core::array::from_fn(|l| (i * 16 + l as i32) as f32 * 0.0015))
    }

    #[test]
    fn exp_matches_f64_within_3e_7_relative() {
        if !avx512() {
            return;
        }
        for xs in sweep() {
            // SAFETY: AVX-512 checked above.
            let got = lanes(|v| unsafe { exp(v) }, &xs);
            for (x, y) in xs.iter().zip(got) {
                let want = (*x as f64).exp();
                assert!(
                    ((y as f64 - want) / want).abs() < 3e-7,
                    "exp({x}) = {y}, want {want}"
                );
            }
        }
        // SAFETY: AVX-512 checked above.
        let tiny = lanes(|v| unsafe { exp(v) }, &[-1.0e9; 16]);
        assert!(
            tiny.iter().all(|y| *y == 0.0),
            "masked scores vanish: {tiny:?}"
        );
    }

    #[test]
    fn gelu_matches_the_erf_form_within_2e_7() {
        if !avx512() {
            return;
        }
        for xs in sweep() {
            // SAFETY: AVX-512 checked above.
            let got = lanes(|v| unsafe { gelu(v) }, &xs);
            for (x, y) in xs.iter().zip(got) {
                let x = *x as f64;
                let want = 0.5 * x * (1.0 + libm::erf(x / 2f64.sqrt()));
                assert!(
                    (y as f64 - want).abs() < 2e-7 * (1.0 + x.abs()),
                    "gelu({x}) = {y}, want {want}"
                );
            }
        }
    }

    #[test]
    fn gelu_derivative_matches_the_erf_form_within_3e_7() {
        if !avx512() {
            return;
        }
        for xs in sweep() {
            // SAFETY: AVX-512 checked above.
            let got = lanes(|v| unsafe { gelu_derivative(v) }, &xs);
            for (x, y) in xs.iter().zip(got) {
                let x = *x as f64;
                let cdf = 0.5 * (1.0 + libm::erf(x / 2f64.sqrt()));
                let want = cdf + x * (-x * x / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt();
                assert!(
                    (y as f64 - want).abs() < 3e-7 * (1.0 + x.abs()),
                    "gelu'({x}) = {y}, want {want}"
                );
            }
        }
    }
}
