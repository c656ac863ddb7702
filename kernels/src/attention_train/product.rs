//! The per-head products on the GEMM's 12 x 32 micro-tile. A head's rows are `n` rows of
//! `head_dim` floats inside a `[batch_size * n, width]` buffer, read and written in place.

use crate::gemm::{Activation, MR, NR, Tile};

/// Where one (sequence, head) task's operands lie.
#[derive(Debug, Clone, Copy)]
pub(super) struct Head {
    /// Offset of the head's first element in a `[batch_size * n, width]` buffer.
    pub base: usize,
    /// Tokens of the sequence.
    pub n: usize,
    /// `n` rounded up to whole 32-column tiles.
    pub n_pad: usize,
    /// Width of the head (a multiple of 32).
    pub dh: usize,
    /// Floats per row of the buffers (all heads).
    pub width: usize,
}

impl Head {
    /// The head's rows of `x` transposed into `[dh][n_pad]` (padding columns 0), times
    /// `scale`: the B operand of a product against every key.
    pub(super) fn transposed(&self, x: &[f32], scale: f32) -> Vec<f32> {
        let mut t = vec![0.0; self.dh * self.n_pad];
        for j in 0..self.n {
            let row = &x[self.base + j * self.width..][..self.dh];
            for (d, v) in row.iter().enumerate() {
                t[d * self.n_pad + j] = v * scale;
            }
        }
        t
    }

    /// `C [n][n_pad] = rows(a) · bt (+ bias)` with `bt` from [`Head::transposed`].
    ///
    /// # Safety
    /// AVX-512F; `a` holds this head's rows; `c` addresses `n * n_pad` floats that nothing
    /// else writes meanwhile; `bias`, if any, holds `n_pad` floats.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn against_keys(
        &self,
        a: &[f32],
        bt: &[f32],
        c: *mut f32,
        bias: Option<&[f32]>,
    ) {
        assert!(
            a.len() >= self.base + (self.n - 1) * self.width + self.dh
                && bt.len() == self.dh * self.n_pad
        );
        // SAFETY: forwarded from this function's contract and the extents checked above.
        unsafe {
            product(
                [a[self.base..].as_ptr(), bt.as_ptr()],
                [self.width, self.n_pad, self.n_pad],
                c,
                [self.n, self.dh, self.n_pad],
                bias.map(<[f32]>::as_ptr),
            )
        }
    }

    /// This head's rows of `out` = `m · rows(x)` for an `n x n` matrix `m` (row stride
    /// `ldm`).
    ///
    /// # Safety
    /// AVX-512F; `x` holds this head's rows; `out` addresses a buffer shaped like `x` whose
    /// head rows nothing else writes meanwhile.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn times_rows(&self, m: &[f32], ldm: usize, x: &[f32], out: *mut f32) {
        assert!(
            m.len() >= (self.n - 1) * ldm + self.n
                && x.len() >= self.base + (self.n - 1) * self.width + self.dh
        );
        // SAFETY: forwarded from this function's contract and the extents checked above.
        unsafe {
            product(
                [m.as_ptr(), x[self.base..].as_ptr()],
                [ldm, self.width, self.width],
                out.wrapping_add(self.base),
                [self.n, self.n, self.dh],
                None,
            )
        }
    }
}

/// `C[rows, cols] = A[rows, k] · B[k, cols] (+ bias)`, row block by row block and 32
/// columns at a time; `ld` holds the row strides of A, B and C.
///
/// # Safety
/// AVX-512F; A has `rows` rows of `k` floats, B `k` rows of `cols` (a multiple of 32), C
/// `rows` rows of `cols` that nothing else writes meanwhile, the bias `cols` floats.
#[target_feature(enable = "avx512f")]
unsafe fn product(
    [a, b]: [*const f32; 2],
    [lda, ldb, ldc]: [usize; 3],
    c: *mut f32,
    [rows, k, cols]: [usize; 3],
    bias: Option<*const f32>,
) {
    for i0 in (0..rows).step_by(MR) {
        for c0 in (0..cols).step_by(NR) {
            let tile = Tile {
                a_transposed: false,
                a: a.wrapping_add(i0 * lda),
                lda,
                b: b.wrapping_add(c0),
                b_half: None,
                ldb,
                k,
                bias: bias.map(|x| x.wrapping_add(c0)),
                c: c.wrapping_add(i0 * ldc + c0),
                ldc,
                height: MR.min(rows - i0),
                width: NR,
            };
            // SAFETY: forwarded from this function's contract.
            unsafe { tile.run(Activation::Identity) };
        }
    }
}
