//! The small per-head products on the GEMM's 12 x 32 micro-tile.

use crate::gemm::{Activation, MR, NR, Tile};

/// A row-major operand addressed by its first element and its row stride.
#[derive(Debug, Clone, Copy)]
pub(super) struct Strided<P> {
    /// The first element.
    pub ptr: P,
    /// Floats between the starts of consecutive rows.
    pub ld: usize,
}

/// The shape of `C[rows, cols] = A[rows, k] · B[k, cols]`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Dims {
    pub rows: usize,
    pub k: usize,
    /// A multiple of 32.
    pub cols: usize,
}

/// `C = A · B (+ bias)`, row block by row block and 32 columns at a time.
///
/// # Safety
/// AVX-512F; A has `rows` rows of `k` floats, B `k` rows of `cols` floats, C `rows` rows
/// of `cols` floats that nothing else writes meanwhile, and the bias `cols` floats.
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn product(
    a: Strided<*const f32>,
    b: Strided<*const f32>,
    c: Strided<*mut f32>,
    dims: Dims,
    bias: Option<*const f32>,
) {
    for i0 in (0..dims.rows).step_by(MR) {
        for c0 in (0..dims.cols).step_by(NR) {
            let tile = Tile {
                a_transposed: false,
                a: a.ptr.wrapping_add(i0 * a.ld),
                lda: a.ld,
                b: b.ptr.wrapping_add(c0),
                b_half: None,
                ldb: b.ld,
                k: dims.k,
                bias: bias.map(|x| x.wrapping_add(c0)),
                c: c.ptr.wrapping_add(i0 * c.ld + c0),
                ldc: c.ld,
                height: MR.min(dims.rows - i0),
                width: NR,
            };
            // SAFETY: forwarded from this function's contract.
            unsafe { tile.run(Activation::Identity) };
        }
    }
}
