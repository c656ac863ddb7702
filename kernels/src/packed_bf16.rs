//! Weights rounded to bf16 and laid out for AMX's `TDPBF16PS`: `[k, n]` cut into 16-column
//! tiles, each stored `[k/2][16][2]` (two consecutive k per column, zero-padded to whole
//! 32-row tiles), so that one tile of B is 1 KiB of contiguous memory.

use half::bf16;
use rayon::prelude::*;

use crate::amx::{TILE_COLS, TILE_K};

/// A weight `[k, n]` in bf16 tiles, with its bias (f32) padded to whole column pairs.
#[derive(Debug, Clone)]
pub struct Bf16Weight {
    pub(crate) k: usize,
    pub(crate) n: usize,
    /// `[n_pad/16][k_pad/2][16][2]` bf16 bits.
    pub(crate) tiles: Vec<u16>,
    pub(crate) bias: Vec<f32>,
}

impl Bf16Weight {
    /// Rounds a row-major `[k, n]` weight to bf16 (to nearest, ties to even) and packs it
    /// with its optional `[n]` bias.
    ///
    /// # Panics
    /// When the slices do not have `k * n` and `n` elements.
    pub fn new(weight: &[f32], bias: Option<&[f32]>, k: usize, n: usize) -> Self {
        assert_eq!(weight.len(), k * n, "weight is not [k, n]");
        let (k_pad, n_pad) = (Self::pad_k(k), Self::pad_n(n));
        let column_tile = k_pad * TILE_COLS;
        let mut tiles = vec![0u16; n_pad / TILE_COLS * column_tile];
        tiles
            .par_chunks_mut(column_tile.max(1))
            .enumerate()
            .for_each(|(t, tile)| {
                let c0 = t * TILE_COLS;
                for row in 0..k {
                    let src = &weight[row * n..(row + 1) * n];
                    for c in 0..TILE_COLS.min(n.saturating_sub(c0)) {
                        tile[(row / 2 * TILE_COLS + c) * 2 + row % 2] =
                            bf16::from_f32(src[c0 + c]).to_bits();
                    }
                }
            });
        let mut padded = vec![0.0; n_pad];
        if let Some(bias) = bias {
            assert_eq!(bias.len(), n, "bias is not [n]");
            padded[..n].copy_from_slice(bias);
        }
        Self {
            k,
            n,
            tiles,
            bias: padded,
        }
    }

    /// k rounded up to whole tiles.
    pub(crate) fn pad_k(k: usize) -> usize {
        k.div_ceil(TILE_K).max(1) * TILE_K
    }

    /// n rounded up to whole column pairs (a C block is two column tiles wide).
    pub(crate) fn pad_n(n: usize) -> usize {
        n.div_ceil(2 * TILE_COLS).max(1) * 2 * TILE_COLS
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
