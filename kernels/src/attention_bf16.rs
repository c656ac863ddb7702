//! The attention's two products in bf16 on AMX tiles, while inference runs in bf16
//! ([`crate::cpu::Precision::Bf16`]): per (sequence, head), scores = q · (scaled k)ᵀ + bias
//! and context = probabilities · v, each operand rounded once into the tile layouts of the
//! bf16 GEMM and the products accumulated in f32. The softmax and the significance between
//! them stay f32 (as PyTorch's autocast keeps softmax in f32).
//!
//! B operands in `TDPBF16PS`'s layout pair consecutive values of k per column: for the
//! scores k is the head's dimensions, which a key row holds side by side (each pair is
//! moved whole); for the context k is the keys, so two value rows interleave.

use crate::amx::{Block, TILE_COLS, TILE_K, TILE_ROWS, with_tiles};
use crate::attention::Rows;
use crate::cpu::Precision;
use crate::gemm::Activation;
use crate::gemm_bf16::{Store, bf16_bits, round_row_tile, round32, run_block};
use core::arch::x86_64::{
    __m512i, _mm512_loadu_si512, _mm512_permutex2var_epi16, _mm512_setzero_si512,
    _mm512_storeu_si512,
};

/// Rows and columns of a C block.
const BLOCK: usize = 2 * TILE_ROWS;
/// Values of one 16 x 32 tile.
const TILE: usize = TILE_ROWS * TILE_K;
/// A zero bias for the context blocks.
const NO_BIAS: [f32; BLOCK] = [0.0; BLOCK];

/// Per-thread operand buffers, reused from head to head.
#[derive(Default)]
pub(crate) struct Bf16Scratch {
    a: Vec<u16>,
    b: Vec<u16>,
}

/// Query rows below which a head keeps its products in f32: packing the operands costs
/// more than the tiles save on short sequences (measured at 16 and 32 tokens, batches of
/// 8 and 32: 2-8% slower in bf16).
const MIN_QUERIES: usize = 64;

/// Whether a head of `queries` rows and width `head_dim` runs its products here: in bf16
/// precision, with at least [`MIN_QUERIES`] query rows (a [CLS]-only layer stays f32).
pub(crate) fn usable(queries: usize, head_dim: usize) -> bool {
    queries >= MIN_QUERIES
        && head_dim.is_multiple_of(TILE_K)
        && crate::cpu::precision() == Precision::Bf16
}

/// One head of one sequence, as the f32 path addresses it.
pub(crate) struct HeadView<'a> {
    pub q: Rows<'a>,
    pub k: Rows<'a>,
    pub v: Rows<'a>,
    /// First row of this sequence in `q`, and in `k` and `v`.
    pub q0: usize,
    pub k0: usize,
    /// First column of the head, and its width.
    pub col: usize,
    pub dh: usize,
    pub queries: usize,
    /// Keys, and keys padded to whole C blocks.
    pub n: usize,
    pub n_pad: usize,
}

impl HeadView<'_> {
    fn head_row<'r>(&self, rows: &Rows<'r>, r: usize) -> &'r [f32] {
        &rows.row(r, self.col + self.dh)[self.col..]
    }
}

/// `probs[i][j] = q_i · (scale · k_j) + bias_j` over `[queries][n_pad]`; padding keys
/// score their bias.
pub(crate) fn scores(
    view: &HeadView<'_>,
    scale: f32,
    bias: &[f32],
    probs: &mut [f32],
    scratch: &mut Bf16Scratch,
) {
    let (dh, n, n_pad) = (view.dh, view.n, view.n_pad);
    let k_blocks = dh / TILE_K;
    round_a(
        view.queries,
        dh,
        |r| view.head_row(&view.q, view.q0 + r),
        &mut scratch.a,
    );
    // Kᵀ: column tile j / 16 holds keys side by side; a key's dimension pairs move whole.
    let b = &mut scratch.b;
    b.resize(n_pad / TILE_COLS * k_blocks * TILE, 0);
    let mut scaled = [0.0f32; TILE_K];
    let mut rounded = [0u16; TILE_K];
    for j in 0..n_pad {
        let key = (j < n).then(|| view.head_row(&view.k, view.k0 + j));
        for kb in 0..k_blocks {
            match key {
                Some(key) => {
                    for (s, x) in scaled.iter_mut().zip(&key[kb * TILE_K..]) {
                        *s = x * scale;
                    }
                    // SAFETY: 32 floats in, 32 values out; bf16 precision implies AMX, and
                    // with it AVX512-BF16.
                    unsafe { round32(scaled.as_ptr(), rounded.as_mut_ptr()) };
                }
                None => rounded = [0; TILE_K],
            }
            let tile = &mut b[(j / TILE_COLS * k_blocks + kb) * TILE..][..TILE];
            for (p, pair) in rounded.chunks_exact(2).enumerate() {
                let at = (p * TILE_COLS + j % TILE_COLS) * 2;
                tile[at..at + 2].copy_from_slice(pair);
            }
        }
    }
    let blocks = Blocks {
        a: &scratch.a,
        b,
        k_pad: dh,
        rows: view.queries,
    };
    assert!(
        probs.len() >= view.queries * n_pad,
        "scores are not [queries][n_pad]"
    );
    let base = probs.as_mut_ptr();
    blocks.run(n_pad, |r0, c0, height| Store {
        out: base.wrapping_add(r0 * n_pad + c0),
        ldc: n_pad,
        height,
        width: BLOCK,
        bias: &bias[c0..c0 + BLOCK],
    });
}

/// `context[i] = Σ_j probs[i][j] · v_j`, written to `out` (the sequence's first context row
/// at the head's column, row stride `ldc`); `probs` is `[queries][n_pad]`, 0 past n.
pub(crate) fn context(
    view: &HeadView<'_>,
    probs: &[f32],
    out: *mut f32,
    ldc: usize,
    scratch: &mut Bf16Scratch,
) {
    let (dh, n, n_pad) = (view.dh, view.n, view.n_pad);
    let k_blocks = n_pad / TILE_K;
    round_a(
        view.queries,
        n_pad,
        |r| &probs[r * n_pad..(r + 1) * n_pad],
        &mut scratch.a,
    );
    // V: column tile d / 16 holds dimensions side by side; two value rows interleave.
    let b = &mut scratch.b;
    b.resize(dh / TILE_COLS * k_blocks * TILE, 0);
    for j0 in (0..n_pad).step_by(2) {
        let value = |j: usize| (j < n).then(|| view.head_row(&view.v, view.k0 + j));
        let (first, second) = (value(j0), value(j0 + 1));
        let pair = (j0 % TILE_K) / 2 * 2 * TILE_COLS;
        for d0 in (0..dh).step_by(TILE_K) {
            let tile = |ct: usize| (ct * k_blocks + j0 / TILE_K) * TILE + pair;
            let (lo, hi) = (tile(d0 / TILE_COLS), tile(d0 / TILE_COLS + 1));
            let (lo, hi) = split_pair(b, lo, hi);
            let (x, y) = (
                first.map(|v| &v[d0..d0 + TILE_K]),
                second.map(|v| &v[d0..d0 + TILE_K]),
            );
            // SAFETY: bf16 precision implies AMX, and with it AVX512-BF16 and -BW.
            unsafe { interleave(x, y, lo, hi) };
        }
    }
    let blocks = Blocks {
        a: &scratch.a,
        b,
        k_pad: n_pad,
        rows: view.queries,
    };
    blocks.run(dh, |r0, c0, height| Store {
        out: out.wrapping_add(r0 * ldc + c0),
        ldc,
        height,
        width: BLOCK,
        bias: &NO_BIAS,
    });
}

/// Rounds `rows` rows of k values into `a` as the GEMM's tiled A (whole C blocks of rows).
fn round_a<'a>(rows: usize, k: usize, row: impl Fn(usize) -> &'a [f32], a: &mut Vec<u16>) {
    let row_tiles = rows.div_ceil(BLOCK) * 2;
    a.resize(row_tiles * TILE_ROWS * k, 0);
    for (t, dst) in a.chunks_exact_mut(TILE_ROWS * k).enumerate() {
        // SAFETY: bf16 precision implies AMX, and with it AVX512-BF16.
        unsafe { round_row_tile(t, rows, &row, dst) };
    }
}

/// The 32 values at `lo` and the 32 at `hi` (`lo + 32 <= hi`), borrowed together.
fn split_pair(b: &mut [u16], lo: usize, hi: usize) -> (&mut [u16], &mut [u16]) {
    let (head, tail) = b.split_at_mut(hi);
    (&mut head[lo..lo + TILE_K], &mut tail[..TILE_K])
}

/// Two value rows' 32 dimensions (zeros for a missing row), rounded and interleaved into
/// `TDPBF16PS` pairs: dimensions 0-15 into `lo`, 16-31 into `hi`, each as
/// `[first_d, second_d, ...]`.
///
/// # Safety
/// AVX512-BF16 and AVX512-BW must be available.
#[target_feature(enable = "avx512f,avx512bw,avx512bf16")]
unsafe fn interleave(
    first: Option<&[f32]>,
    second: Option<&[f32]>,
    lo: &mut [u16],
    hi: &mut [u16],
) {
    // Lane 2c takes value c of the first row, lane 2c + 1 value c of the second (32 + c).
    const LO: [i16; 32] = {
        let mut idx = [0i16; 32];
        let mut c = 0;
        while c < 16 {
            idx[2 * c] = c as i16;
            idx[2 * c + 1] = 32 + c as i16;
            c += 1;
        }
        idx
    };
    const HI: [i16; 32] = {
        let mut idx = LO;
        let mut l = 0;
        while l < 32 {
            idx[l] += 16;
            l += 1;
        }
        idx
    };
    let round = |v: Option<&[f32]>| -> __m512i {
        match v {
            // SAFETY: a chunk of 32 floats; AVX512-BF16 per this function's contract.
            Some(v) => unsafe { bf16_bits(v.as_ptr()) },
            None => _mm512_setzero_si512(),
        }
    };
    assert!(lo.len() >= TILE_K && hi.len() >= TILE_K);
    let (a, b) = (round(first), round(second));
    // SAFETY: the index tables hold 32 i16; `lo` and `hi` hold 32 values each.
    unsafe {
        let lo_idx = _mm512_loadu_si512(LO.as_ptr().cast());
        let hi_idx = _mm512_loadu_si512(HI.as_ptr().cast());
        _mm512_storeu_si512(
            lo.as_mut_ptr().cast(),
            _mm512_permutex2var_epi16(a, lo_idx, b),
        );
        _mm512_storeu_si512(
            hi.as_mut_ptr().cast(),
            _mm512_permutex2var_epi16(a, hi_idx, b),
        );
    }
}

/// A product's operands in tile layouts: A `rows` x `k_pad`, B `k_pad` x (a multiple of 32).
struct Blocks<'a> {
    a: &'a [u16],
    b: &'a [u16],
    k_pad: usize,
    rows: usize,
}

impl Blocks<'_> {
    /// Runs every 32 x 32 block of C over `cols` columns; `store(r0, c0, height)` says
    /// where each goes.
    fn run<'s>(&self, cols: usize, store: impl Fn(usize, usize, usize) -> Store<'s>) {
        let k_blocks = self.k_pad / TILE_K;
        let column_tile = k_blocks * TILE;
        assert!(self.b.len() >= cols.div_ceil(BLOCK) * 2 * column_tile);
        assert!(self.a.len() >= self.rows.div_ceil(BLOCK) * BLOCK * self.k_pad);
        with_tiles(|tiles| {
            for c0 in (0..cols).step_by(BLOCK) {
                let b = self.b[c0 / TILE_COLS * column_tile..].as_ptr();
                for r0 in (0..self.rows).step_by(BLOCK) {
                    let height = BLOCK.min(self.rows - r0);
                    let a = self.a[r0 * self.k_pad..].as_ptr();
                    let block = Block {
                        a: [a, a.wrapping_add(TILE_ROWS * self.k_pad)],
                        b: [b, b.wrapping_add(column_tile)],
                        k_blocks,
                        row_tiles: height.div_ceil(TILE_ROWS),
                        c: core::ptr::null_mut(),
                    };
                    // SAFETY: A holds whole 32-row blocks of k_pad values and B whole
                    // column pairs (asserted above); the caller's store addresses `height`
                    // rows of 32 writable floats that nothing else writes meanwhile.
                    unsafe {
                        run_block(block, &store(r0, c0, height), tiles, Activation::Identity)
                    };
                }
            }
        });
    }
}
