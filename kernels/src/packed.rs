//! Weights packed for the GEMM micro-kernel: `[k, n]` cut into 48-column panels stored
//! `[k][48]` (zero-padded), so that the kernel streams each panel contiguously.

use half::f16;
use rayon::prelude::*;

use crate::gemm::PW;

/// A weight `[k, n]` packed for the micro-kernel, with its bias padded alike.
#[derive(Debug, Clone)]
pub struct PackedWeight {
    pub(crate) k: usize,
    pub(crate) n: usize,
    pub(crate) panels: Vec<f32>,
    /// The same panels as IEEE half bits, kept only when every weight is exactly a half
    /// (a checkpoint shipped in F16, as the default model): short inputs are bound by
    /// reading the weights, and this halves the bytes without changing one value.
    pub(crate) half_panels: Option<Vec<u16>>,
    pub(crate) bias: Vec<f32>,
}

impl PackedWeight {
    /// Packs a row-major `[k, n]` weight and its optional `[n]` bias, keeping half-size
    /// panels too when every weight is an exact half.
    ///
    /// # Panics
    /// When the slices do not have `k * n` and `n` elements.
    pub fn new(weight: &[f32], bias: Option<&[f32]>, k: usize, n: usize) -> Self {
        let mut packed = Self::f32_only(weight, bias, k, n);
        let exact = packed
            .panels
            .iter()
            .all(|x| f16::from_f32(*x).to_f32() == *x);
        packed.half_panels = exact.then(|| {
            packed
                .panels
                .iter()
                .map(|x| f16::from_f32(*x).to_bits())
                .collect()
        });
        packed
    }

    /// [`PackedWeight::new`] without the half-size panels: for operands packed once per
    /// use (gradients in the backward pass), where the check would not pay.
    ///
    /// # Panics
    /// As [`PackedWeight::new`].
    pub fn f32_only(weight: &[f32], bias: Option<&[f32]>, k: usize, n: usize) -> Self {
        assert_eq!(weight.len(), k * n, "weight is not [k, n]");
        Self::pack(k, n, bias, |row, c0, dst| {
            dst.copy_from_slice(&weight[row * n + c0..row * n + c0 + dst.len()]);
        })
    }

    /// Packs `weightᵀ` for a row-major `weight` of `[n, k]`: the `[k, n]` operand of the
    /// input gradient `∂y · Wᵀ`, packed without a transposed copy.
    ///
    /// # Panics
    /// When `weight` does not have `n * k` elements.
    pub fn transposed(weight: &[f32], k: usize, n: usize) -> Self {
        assert_eq!(weight.len(), n * k, "weight is not [n, k]");
        Self::pack(k, n, None, |row, c0, dst| {
            for (c, v) in dst.iter_mut().enumerate() {
                *v = weight[(c0 + c) * k + row];
            }
        })
    }

    /// Builds the panels with `fill(row, c0, dst)`, which writes B's row `row`, columns
    /// `c0..c0 + dst.len()`, into `dst`.
    fn pack(
        k: usize,
        n: usize,
        bias: Option<&[f32]>,
        fill: impl Fn(usize, usize, &mut [f32]) + Sync,
    ) -> Self {
        let n_panels = n.div_ceil(PW);
        let len = n_panels * k * PW;
        // Only the last panel has padding to zero: a zeroed allocation would write every
        // float twice (gradients are packed once per use).
        let mut panels: Vec<f32> = Vec::with_capacity(len);
        panels.spare_capacity_mut()[..len]
            .par_chunks_mut((k * PW).max(1))
            .enumerate()
            .for_each(|(p, panel)| {
                let (c0, width) = (p * PW, PW.min(n - p * PW));
                let mut row_buf = [0.0f32; PW];
                for (row, dst) in panel.chunks_exact_mut(PW).enumerate() {
                    fill(row, c0, &mut row_buf[..width]);
                    for (slot, v) in dst.iter_mut().zip(row_buf) {
                        slot.write(v);
                    }
                }
            });
        // SAFETY: every panel wrote all of its k rows of PW floats.
        unsafe { panels.set_len(len) };
        let mut padded = vec![0.0; n_panels * PW];
        if let Some(bias) = bias {
            assert_eq!(bias.len(), n, "bias is not [n]");
            padded[..n].copy_from_slice(bias);
        }
        Self {
            k,
            n,
            panels,
            half_panels: None,
            bias: padded,
        }
    }

    /// Whether the weights are exact halves, so that short inputs read them at half size.
    pub fn is_half_exact(&self) -> bool {
        self.half_panels.is_some()
    }

    /// Input features k.
    pub fn k(&self) -> usize {
        self.k
    }

    /// Output features n.
    pub fn n(&self) -> usize {
        self.n
    }
}
