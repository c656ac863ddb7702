//! Weights packed for the GEMM micro-kernel: `[k, n]` cut into 48-column panels stored
//! `[k][48]` (zero-padded), so that the kernel streams each panel contiguously.

use core::mem::MaybeUninit;

use half::f16;
use rayon::prelude::*;

use crate::gemm::PW;
use crate::packed_bf16::Bf16Weight;

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
    /// The same weight rounded to bf16 in AMX tiles, kept when inference runs in bf16
    /// ([`crate::cpu::Precision`]).
    pub(crate) bf16: Option<Bf16Weight>,
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
        Self::pack(k, n, bias, |c0, width, panel| {
            for (row, dst) in panel.chunks_exact_mut(PW).enumerate() {
                let (head, tail) = dst.split_at_mut(width);
                for (slot, v) in head.iter_mut().zip(&weight[row * n + c0..]) {
                    slot.write(*v);
                }
                tail.iter_mut().for_each(|slot| {
                    slot.write(0.0);
                });
            }
        })
    }

    /// Packs `weightᵀ` for a row-major `weight` of `[n, k]`: the `[k, n]` operand of the
    /// input gradient `∂y · Wᵀ`, packed without a transposed copy.
    ///
    /// # Panics
    /// When `weight` does not have `n * k` elements.
    pub fn transposed(weight: &[f32], k: usize, n: usize) -> Self {
        assert_eq!(weight.len(), n * k, "weight is not [n, k]");
        Self::pack(k, n, None, |c0, width, panel| {
            // Column c of the panel is row c0 + c of `weight`: read rows whole (reading
            // down columns strides n floats per element, which aliases in L1).
            for c in 0..PW {
                let src = (c < width).then(|| &weight[(c0 + c) * k..(c0 + c + 1) * k]);
                for row in 0..k {
                    panel[row * PW + c].write(src.map_or(0.0, |s| s[row]));
                }
            }
        })
    }

    /// Builds the panels with `fill(c0, width, panel)`, which writes every float of the
    /// panel of B's columns `c0..c0 + width` (`[k][48]`, zeros past `width`).
    fn pack(
        k: usize,
        n: usize,
        bias: Option<&[f32]>,
        fill: impl Fn(usize, usize, &mut [MaybeUninit<f32>]) + Sync,
    ) -> Self {
        let n_panels = n.div_ceil(PW);
        let len = n_panels * k * PW;
        // Every float is written once by `fill`: a zeroed allocation would write them
        // twice (gradients are packed once per use).
        let mut panels: Vec<f32> = Vec::with_capacity(len);
        panels.spare_capacity_mut()[..len]
            .par_chunks_mut((k * PW).max(1))
            .enumerate()
            .for_each(|(p, panel)| fill(p * PW, PW.min(n - p * PW), panel));
        // SAFETY: `fill` wrote every float of every panel.
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
            bf16: None,
            bias: padded,
        }
    }

    /// Adds the bf16 tiles of the same `[k, n]` weight and bias, which the GEMM reads
    /// instead of the f32 panels while the precision is [`crate::cpu::Precision::Bf16`].
    ///
    /// # Panics
    /// As [`PackedWeight::new`], or when `weight` is not the `[k, n]` packed here.
    pub fn with_bf16(mut self, weight: &[f32], bias: Option<&[f32]>) -> Self {
        self.bf16 = Some(Bf16Weight::new(weight, bias, self.k, self.n));
        self
    }

    /// Whether bf16 tiles are kept.
    pub fn has_bf16(&self) -> bool {
        self.bf16.is_some()
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
