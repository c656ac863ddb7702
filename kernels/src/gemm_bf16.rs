//! `C = act(A · B + bias)` with A and B rounded to bf16 and the products accumulated in f32
//! on AMX tiles: the opt-in reduced-precision path for inference (`LAT_PRECISION=bf16`).
//!
//! A is rounded once per call into a zero-padded copy (whole 32-row blocks, whole 32-value
//! k tiles); B is a [`Bf16Weight`]. Each C block of 32 x 32 (two row tiles by two column
//! tiles) accumulates in four tile registers over all of k, then goes through a small
//! buffer to the same epilogue as the f32 GEMM (bias, GELU, masked stores). Work is split
//! like the f32 GEMM's: short inputs by column blocks only, so that every B tile is read
//! once; longer ones in tasks of 128 rows by 96 columns.

use core::arch::x86_64::{
    __m512bh, __m512i, _mm512_add_ps, _mm512_cvtne2ps_pbh, _mm512_loadu_ps, _mm512_mask_storeu_ps,
    _mm512_storeu_si512,
};
use core::mem::MaybeUninit;
use std::cell::RefCell;

use half::bf16;
use rayon::prelude::*;

use crate::amx::{Block, TILE_COLS, TILE_K, TILE_ROWS, Tiles, with_tiles};
use crate::gemm::{Activation, column_masks, epilogue};
use crate::out_ptr::OutPtr;
use crate::packed_bf16::Bf16Weight;

/// Rows of C per block (two row tiles).
const BLOCK_ROWS: usize = 2 * TILE_ROWS;
/// Columns of C per block (two column tiles).
const BLOCK_COLS: usize = 2 * TILE_COLS;
/// Inputs up to this many rows are split by column blocks only.
const SHORT_ROWS: usize = 256;
/// Rows and columns per task beyond that.
const TASK_ROWS: usize = 4 * BLOCK_ROWS;
const TASK_COLS: usize = 3 * BLOCK_COLS;

/// `act(a · w + bias)` into a new row-major `[m, n]` buffer, `a` row-major `[m, k]`.
///
/// # Panics
/// When `a` is not `[m, k]` or AMX is not available ([`crate::amx::available`]).
pub fn linear_bf16(a: &[f32], m: usize, w: &Bf16Weight, activation: Activation) -> Vec<f32> {
    let mut out = Vec::with_capacity(m * w.n);
    linear_bf16_into(a, m, w, activation, out.spare_capacity_mut());
    // SAFETY: `linear_bf16_into` wrote all m * n elements.
    unsafe { out.set_len(m * w.n) };
    out
}

/// [`linear_bf16`] into `out` (`[m, n]`, contents ignored), which is fully overwritten.
pub(crate) fn linear_bf16_into(
    a: &[f32],
    m: usize,
    w: &Bf16Weight,
    activation: Activation,
    out: &mut [MaybeUninit<f32>],
) {
    let (k, n) = (w.k, w.n);
    assert_eq!(a.len(), m * k, "input is not [m, k]");
    assert!(out.len() >= m * n, "output is not [m, n]");
    assert!(crate::amx::available(), "the bf16 GEMM needs AMX");
    if m == 0 || n == 0 {
        return;
    }
    let k_pad = Bf16Weight::pad_k(k);
    // Taken out of the thread's slot for the call: rayon may run another GEMM on this
    // thread while it waits below, and that one must find the slot empty, not borrowed.
    let mut a16 = ROUNDED.with_borrow_mut(std::mem::take);
    round_rows(a, m, k, k_pad, &mut a16);
    let (task_rows, task_cols) = if m <= SHORT_ROWS {
        (m, BLOCK_COLS)
    } else {
        (TASK_ROWS, TASK_COLS)
    };
    let row_tasks = m.div_ceil(task_rows);
    let col_tasks = n.div_ceil(task_cols);
    let ptr = OutPtr(out.as_mut_ptr().cast());
    let column_tile = k_pad * TILE_COLS;
    (0..row_tasks * col_tasks).into_par_iter().for_each(|task| {
        let (ct, rt) = (task / row_tasks, task % row_tasks);
        let rows = rt * task_rows..(rt * task_rows + task_rows).min(m);
        let cols = ct * task_cols..(ct * task_cols + task_cols).min(n);
        with_tiles(|tiles| {
            for c0 in cols.step_by(BLOCK_COLS) {
                let b = w.tiles[c0 / TILE_COLS * column_tile..].as_ptr();
                for r0 in rows.clone().step_by(BLOCK_ROWS) {
                    let height = BLOCK_ROWS.min(m - r0);
                    let a = a16[r0 * k_pad..].as_ptr();
                    let block = Block {
                        a: [a, a.wrapping_add(TILE_ROWS * k_pad)],
                        b: [b, b.wrapping_add(column_tile)],
                        k_blocks: k_pad / TILE_K,
                        row_tiles: height.div_ceil(TILE_ROWS),
                        c: core::ptr::null_mut(),
                    };
                    let store = Store {
                        out: ptr.at(r0 * n + c0),
                        ldc: n,
                        height,
                        width: BLOCK_COLS.min(n - c0),
                        bias: &w.bias[c0..c0 + BLOCK_COLS],
                    };
                    // SAFETY: A has whole 32-row blocks of k_pad / 32 tiles, B two column
                    // tiles of k_pad / 32 tiles (n is padded to column pairs), and the
                    // block [r0.., c0..] of `out` belongs to this task alone.
                    unsafe { run_block(block, &store, tiles, activation) };
                }
            }
        });
    });
    ROUNDED.with_borrow_mut(|slot| *slot = a16);
}

thread_local! {
    /// The rounded copy of A, reused from call to call (a fresh one per call costs page
    /// faults and zeroing that showed as 14% of a bf16 forward).
    static ROUNDED: RefCell<Vec<u16>> = const { RefCell::new(Vec::new()) };
}

/// Where a C block goes: `height` rows of `width` columns from `out`, stride `ldc`.
pub(crate) struct Store<'a> {
    pub out: *mut f32,
    pub ldc: usize,
    pub height: usize,
    pub width: usize,
    /// 32 floats added to every row.
    pub bias: &'a [f32],
}

/// A C block through its tile buffer to the epilogue.
///
/// # Safety
/// As [`Block::run`] for `block` (its `c` is replaced); `store.out` must address
/// `height` writable rows of `width` floats with stride `ldc`.
#[target_feature(enable = "avx512f")]
pub(crate) unsafe fn run_block(mut block: Block, store: &Store<'_>, tiles: Tiles, act: Activation) {
    #[repr(align(64))]
    struct Buffer(
        #[expect(dead_code, reason = "only its size and alignment matter")]
        [f32; BLOCK_ROWS * BLOCK_COLS],
    );
    // Not zeroed: the tiles store every row the epilogue reads (16 · row_tiles >= height),
    // and it reads them through the raw pointer only.
    let mut c = MaybeUninit::<Buffer>::uninit();
    block.c = c.as_mut_ptr().cast();
    // SAFETY: the caller's contract; `c` holds 32 rows of 32 floats.
    unsafe { block.run(tiles) };
    let c = block.c.cast_const();
    // SAFETY: the bias has 32 floats.
    let bias = unsafe {
        [
            _mm512_loadu_ps(store.bias.as_ptr()),
            _mm512_loadu_ps(store.bias.as_ptr().add(16)),
        ]
    };
    let [m0, m1] = column_masks::<2>(store.width);
    for i in 0..store.height {
        // SAFETY: row i < height of the buffer was stored by the tiles (32 floats); the
        // masks keep the stores within `width` columns of row i of the output.
        unsafe {
            let row = c.add(i * BLOCK_COLS);
            let lo = epilogue(_mm512_add_ps(_mm512_loadu_ps(row), bias[0]), act);
            let hi = epilogue(_mm512_add_ps(_mm512_loadu_ps(row.add(16)), bias[1]), act);
            let dst = store.out.add(i * store.ldc);
            _mm512_mask_storeu_ps(dst, m0, lo);
            _mm512_mask_storeu_ps(dst.add(16), m1, hi);
        }
    }
}

/// `a` (`[m, k]`) rounded to bf16 into `a16` in tiles like B's: for each 16-row tile,
/// its `k_pad / 32` tiles of 16 rows x 32 values one after another (a tile load then reads
/// 1 KiB of contiguous memory, not 16 rows k apart), zeros in the padding, whole 32-row
/// blocks. Every value is written, so a reused buffer keeps its pages and is zeroed only
/// where it grows.
fn round_rows(a: &[f32], m: usize, k: usize, k_pad: usize, a16: &mut Vec<u16>) {
    let m_pad = m.div_ceil(BLOCK_ROWS) * BLOCK_ROWS;
    a16.resize(m_pad * k_pad, 0);
    a16.par_chunks_mut(TILE_ROWS * k_pad)
        .enumerate()
        // SAFETY: AMX was checked by the caller, and with it AVX512-BF16.
        .for_each(|(t, dst)| unsafe { round_row_tile(t, m, |r| &a[r * k..(r + 1) * k], dst) });
}

/// Rounds rows `16·t .. 16·t + 16` of an `m`-row matrix, row `r` given by `row(r)` (all of
/// one length k), into one row tile of the tiled A layout (`[k_pad / 32][16][32]`, the
/// length of `dst`), zeros past row m and past k.
///
/// # Safety
/// AVX512-BF16 must be available (every CPU that [`crate::amx::available`] accepts has it).
#[target_feature(enable = "avx512f,avx512bf16")]
pub(crate) unsafe fn round_row_tile<'a>(
    t: usize,
    m: usize,
    row: impl Fn(usize) -> &'a [f32],
    dst: &mut [u16],
) {
    for i in 0..TILE_ROWS {
        let r = t * TILE_ROWS + i;
        let src = if r < m { row(r) } else { &[][..] };
        for (kb, tile) in dst.chunks_exact_mut(TILE_ROWS * TILE_K).enumerate() {
            let at = &mut tile[i * TILE_K..(i + 1) * TILE_K];
            match src.get(kb * TILE_K..kb * TILE_K + TILE_K) {
                // SAFETY: 32 floats in, 32 bf16 out; AVX512-BF16 per this function's contract.
                Some(part) => unsafe { round32(part.as_ptr(), at.as_mut_ptr()) },
                None => {
                    let part = src.get(kb * TILE_K..).unwrap_or_default();
                    round_row(part, &mut at[..part.len()]);
                    at[part.len()..].fill(0);
                }
            }
        }
    }
}

/// Rounds 32 floats to bf16 bits (to nearest, ties to even).
///
/// # Safety
/// AVX512-BF16 must be available; `src` must have 32 readable floats and `dst` 32
/// writable values.
#[inline]
#[target_feature(enable = "avx512f,avx512bf16")]
pub(crate) unsafe fn round32(src: *const f32, dst: *mut u16) {
    // SAFETY: the caller's contract.
    unsafe { _mm512_storeu_si512(dst.cast(), bf16_bits(src)) };
}

/// 32 floats rounded to bf16 (to nearest, ties to even), as the bits of one register.
///
/// # Safety
/// AVX512-BF16 must be available; `src` must have 32 readable floats.
#[inline]
#[target_feature(enable = "avx512f,avx512bf16")]
pub(crate) unsafe fn bf16_bits(src: *const f32) -> __m512i {
    // SAFETY: the caller's contract.
    let (lo, hi) = unsafe { (_mm512_loadu_ps(src), _mm512_loadu_ps(src.add(16))) };
    // SAFETY: both are 512 bits of plain data.
    unsafe { core::mem::transmute::<__m512bh, __m512i>(_mm512_cvtne2ps_pbh(hi, lo)) }
}

/// Rounds `src` to bf16 bits in `dst[..src.len()]` (to nearest, ties to even).
pub(crate) fn round_row(src: &[f32], dst: &mut [u16]) {
    let vector = if std::arch::is_x86_feature_detected!("avx512bf16") {
        // SAFETY: AVX512-BF16 detected.
        unsafe { round_row_avx512(src, dst) }
    } else {
        0
    };
    for (d, s) in dst[vector..src.len()].iter_mut().zip(&src[vector..]) {
        *d = bf16::from_f32(*s).to_bits();
    }
}

/// The whole 32-value chunks of [`round_row`]; answers how many values it rounded.
#[target_feature(enable = "avx512f,avx512bf16")]
fn round_row_avx512(src: &[f32], dst: &mut [u16]) -> usize {
    let chunks = src.len() / 32;
    for (d, s) in dst
        .chunks_exact_mut(32)
        .zip(src.chunks_exact(32))
        .take(chunks)
    {
        // SAFETY: `s` has 32 readable floats, `d` 32 writable values; AVX512-BF16 enabled.
        unsafe { round32(s.as_ptr(), d.as_mut_ptr()) };
    }
    chunks * 32
}
