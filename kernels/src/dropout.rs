//! Dropout with a counter-based mask: element `i` is kept when a 32-bit hash of `i` under
//! the call's seed clears the drop threshold, so the backward pass recomputes the mask
//! from the seed instead of storing it, and the mask costs a few integer instructions per
//! element (burn draws one ChaCha sample per element: a tenth of a training step).

use core::arch::x86_64::{
    __m512i, _mm512_add_epi32, _mm512_cmpge_epu32_mask, _mm512_mask_storeu_ps,
    _mm512_maskz_loadu_ps, _mm512_maskz_mul_ps, _mm512_mullo_epi32, _mm512_set1_epi32,
    _mm512_set1_ps, _mm512_setr_epi32, _mm512_srli_epi32, _mm512_xor_si512,
};
use rayon::prelude::*;

/// Elements per parallel task (a multiple of 16).
const TASK: usize = 16 * 1024;

/// Which elements a dropout call keeps: a seed and the drop probability.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DropoutMask {
    /// The call's seed (draw a fresh one per call).
    pub seed: u64,
    /// Probability of dropping an element, in `[0, 1)`.
    pub prob: f64,
}

impl DropoutMask {
    /// Whether element `i` is kept (the scalar form of what [`dropout`] computes).
    pub fn keeps(&self, i: usize) -> bool {
        let (key, salt) = self.keys();
        let h = fmix32(fmix32((i as u32).wrapping_add(key)) ^ salt);
        h >= self.threshold()
    }

    fn keys(&self) -> (u32, u32) {
        (self.seed as u32, (self.seed >> 32) as u32)
    }

    /// Hashes below this are dropped: `prob · 2³²`.
    fn threshold(&self) -> u32 {
        (self.prob * 4_294_967_296.0).min(u32::MAX as f64) as u32
    }
}

/// `x ⊙ keep / (1 − p)` with `keep` from `mask`: the forward of dropout, and its backward
/// when `x` is the output's gradient.
///
/// # Panics
/// When the CPU lacks AVX-512F or `mask.prob` is outside `[0, 1)`.
pub fn dropout(x: &[f32], mask: DropoutMask) -> Vec<f32> {
    assert!(crate::cpu::avx512(), "the dropout kernel needs AVX-512F");
    assert!(
        (0.0..1.0).contains(&mask.prob),
        "dropout probability outside [0, 1)"
    );
    let mut out = x.to_vec();
    out.par_chunks_mut(TASK)
        .enumerate()
        .for_each(|(task, chunk)| {
            // SAFETY: AVX-512F checked above.
            unsafe { dropout_in_place(chunk, task * TASK, mask) }
        });
    out
}

/// `x ← x ⊙ keep / (1 − p)` where `x[i]` is element `first + i` of the masked tensor.
///
/// # Safety
/// AVX-512F must be available.
#[target_feature(enable = "avx512f")]
pub(crate) unsafe fn dropout_in_place(x: &mut [f32], first: usize, mask: DropoutMask) {
    let (key, salt) = mask.keys();
    let threshold = _mm512_set1_epi32(mask.threshold() as i32);
    let scale = _mm512_set1_ps((1.0 / (1.0 - mask.prob)) as f32);
    let lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    for i in (0..x.len()).step_by(16) {
        let n = (x.len() - i).min(16);
        let valid = if n == 16 { 0xFFFF } else { (1u16 << n) - 1 };
        let index = _mm512_add_epi32(_mm512_set1_epi32((first + i) as u32 as i32), lanes);
        let h = fmix32_x16(_mm512_add_epi32(index, _mm512_set1_epi32(key as i32)));
        let h = fmix32_x16(_mm512_xor_si512(h, _mm512_set1_epi32(salt as i32)));
        let keep = _mm512_cmpge_epu32_mask(h, threshold) & valid;
        // SAFETY: `valid` limits the accesses to the n elements from i, inside the slice.
        unsafe {
            let v = _mm512_maskz_loadu_ps(valid, x.as_ptr().add(i));
            _mm512_mask_storeu_ps(
                x.as_mut_ptr().add(i),
                valid,
                _mm512_maskz_mul_ps(keep, v, scale),
            );
        }
    }
}

/// MurmurHash3's 32-bit finaliser: every input bit flips each output bit with
/// probability close to one half.
fn fmix32(mut h: u32) -> u32 {
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^ (h >> 16)
}

/// [`fmix32`] on 16 lanes.
#[inline]
#[target_feature(enable = "avx512f")]
fn fmix32_x16(h: __m512i) -> __m512i {
    let h = _mm512_xor_si512(h, _mm512_srli_epi32::<16>(h));
    let h = _mm512_mullo_epi32(h, _mm512_set1_epi32(0x85eb_ca6bu32 as i32));
    let h = _mm512_xor_si512(h, _mm512_srli_epi32::<13>(h));
    let h = _mm512_mullo_epi32(h, _mm512_set1_epi32(0xc2b2_ae35u32 as i32));
    _mm512_xor_si512(h, _mm512_srli_epi32::<16>(h))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fmix32_on_a_worked_value() {
        // Worked from the definition (32-bit wrapping arithmetic): fmix32(1) = 0x514e28b7.
        assert_eq!(fmix32(0), 0);
        assert_eq!(fmix32(1), 0x514e_28b7);
    }
}
