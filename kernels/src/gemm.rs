//! `C = act(A · B + bias)` for a row-major activation `A [m, k]` and a row-major weight
//! `B [k, n]` (burn's `Linear` layout), on AVX-512.
//!
//! B is packed once into 48-column panels (`[k][48]`, zero-padded) so that the micro-kernel
//! streams it contiguously; an 8 x 48 tile of C lives in 24 registers for the whole k loop
//! and A is broadcast straight from its rows (8 x 48 measured up to 15 % faster than
//! 12 x 32 on short inputs; 14 x 32 spills). Work is split over rayon in tasks of 48 rows
//! by 144 columns, or one 48-column panel each for short inputs, so both cores stay busy
//! from one-row inputs to long batches. The epilogue adds the bias and applies GELU while
//! the tile is still in registers. Weights that are all exact halves (a checkpoint shipped
//! in F16) also keep half-size panels, which inputs of up to 32 rows read instead: there
//! the time goes to streaming the weights, and converting halves back is exact. The
//! attention reuses the 12 x 32 form of the tile ([`Tile::run`]) with strided operands,
//! 32 being the head width.

use core::arch::x86_64::{
    __m512, __mmask16, _mm256_loadu_si256, _mm512_add_ps, _mm512_cvtph_ps, _mm512_fmadd_ps,
    _mm512_loadu_ps, _mm512_mask_storeu_ps, _mm512_set1_ps, _mm512_setzero_ps,
};
use rayon::prelude::*;

use crate::cpu::Precision;
use crate::gemm_bf16::linear_bf16_into;
use crate::out_ptr::OutPtr;
use crate::packed::PackedWeight;
use crate::packed_bf16::Bf16Weight;

use crate::simd_math;

/// Rows of C per micro-tile of the 32-column form.
pub(crate) const MR: usize = 12;
/// Columns of C per micro-tile of the 32-column form (two 16-lane registers).
pub(crate) const NR: usize = 32;
/// Rows of C per parallel task.
const TASK_ROWS: usize = 6 * MW;
/// Inputs up to this many rows are not split by rows at all.
const SHORT_ROWS: usize = 256;
/// Columns of C per parallel task once there are enough row tasks to share out; a short
/// input gets one panel per task instead, so that both cores get work.
const TASK_COLS: usize = 3 * PW;
/// Inputs up to this many rows read half-size weights when those are exact.
const HALF_MAX_ROWS: usize = 32;
/// Columns per packed weight panel and per micro-tile of [`linear`] (three registers).
pub(crate) const PW: usize = 48;
/// Rows per micro-tile of [`linear`].
pub(crate) const MW: usize = 8;

/// What follows the product in the epilogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// Nothing: `A · B + bias`.
    Identity,
    /// HF BERT's exact `gelu` (erf form).
    Gelu,
}

/// `act(a · w + bias)` into a new row-major `[m, n]` buffer; `a` is row-major `[m, k]`.
///
/// # Panics
/// When `a` is not `[m, k]` or the CPU lacks AVX-512F (check [`crate::cpu::avx512`]).
pub fn linear(a: &[f32], m: usize, w: &PackedWeight, activation: Activation) -> Vec<f32> {
    let mut out = Vec::new();
    linear_to(a, m, w, activation, &mut out);
    out
}

/// [`linear`] into `out`, whose contents are replaced and whose allocation is reused (a
/// fresh large buffer per call costs page faults that show in profiles).
pub fn linear_to(
    a: &[f32],
    m: usize,
    w: &PackedWeight,
    activation: Activation,
    out: &mut Vec<f32>,
) {
    out.clear();
    out.reserve(m * w.n);
    linear_into(
        a,
        false,
        m,
        &w.operand(),
        activation,
        out.spare_capacity_mut(),
    );
    // SAFETY: `linear_into` wrote all m * n elements (its tiles cover every row and column).
    unsafe { out.set_len(m * w.n) };
}

/// The B operand of [`linear_into`]: `k` rows by `n` columns in 48-column panels.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BOperand<'a> {
    /// The panels, `[n/48][k][48]`.
    pub data: &'a [f32],
    /// The same as halves, for short inputs, when exact.
    pub half: Option<&'a [u16]>,
    /// The same rounded to bf16 for AMX, read instead when the precision is bf16.
    pub bf16: Option<&'a Bf16Weight>,
    /// Bias padded to whole panels, if any.
    pub bias: Option<&'a [f32]>,
    /// Rows.
    pub k: usize,
    /// Columns.
    pub n: usize,
}

impl PackedWeight {
    pub(crate) fn operand(&self) -> BOperand<'_> {
        BOperand {
            data: &self.panels,
            half: self.half_panels.as_deref(),
            bf16: self.bf16.as_ref(),
            bias: Some(&self.bias),
            k: self.k,
            n: self.n,
        }
    }
}

/// `act(a · b + bias)` into `out` (`[m, n]`, contents ignored), which is fully
/// overwritten; `a` is `[m, k]`, or when `grouped` A's columns in blocks of 8 rows
/// (`[m/8][k][8]`, zero-padded).
pub(crate) fn linear_into(
    a: &[f32],
    grouped: bool,
    m: usize,
    w: &BOperand<'_>,
    activation: Activation,
    out: &mut [core::mem::MaybeUninit<f32>],
) {
    assert!(crate::cpu::avx512(), "the GEMM kernel needs AVX-512F");
    let (k, n) = (w.k, w.n);
    let a_len = if grouped {
        m.div_ceil(MW) * MW * k
    } else {
        m * k
    };
    assert_eq!(a.len(), a_len, "input is not [m, k]");
    assert!(out.len() >= m * n, "output is not [m, n]");
    if let Some(bf16) = w
        .bf16
        .filter(|_| !grouped && crate::cpu::precision() == Precision::Bf16)
    {
        return linear_bf16_into(a, m, bf16, activation, out);
    }
    // A short input is one row block, so that every B panel is read once.
    let task_rows = if m <= SHORT_ROWS { m.max(1) } else { TASK_ROWS };
    let row_tasks = m.div_ceil(task_rows);
    let task_cols = if row_tasks >= 4 { TASK_COLS } else { PW };
    let col_tasks = n.div_ceil(task_cols);
    let ptr = OutPtr(out.as_mut_ptr().cast());
    // Half-size weights where reading them bounds the time (converting costs FMA-port
    // slots, a loss once the rows are many enough to make the GEMM compute-bound).
    let half = w.half.filter(|_| m <= HALF_MAX_ROWS);
    assert!(
        w.data.len() >= n.div_ceil(PW) * k * PW,
        "B is shorter than its panels"
    );
    // Column-major task order: each thread's half of the range shares B panels.
    (0..row_tasks * col_tasks).into_par_iter().for_each(|task| {
        let (ct, rt) = (task / row_tasks, task % row_tasks);
        let rows = rt * task_rows..(rt * task_rows + task_rows).min(m);
        let cols = ct * task_cols..(ct * task_cols + task_cols).min(n);
        for c0 in cols.step_by(PW) {
            for r0 in rows.clone().step_by(MW) {
                let tile = Tile {
                    // Row tasks and tiles start at multiples of MW: a grouped block each.
                    a: a[r0 * k..].as_ptr(),
                    lda: if grouped { MW } else { k },
                    a_transposed: grouped,
                    b: w.data[(c0 / PW) * k * PW..].as_ptr(),
                    b_half: half.map(|h| h[(c0 / PW) * k * PW..].as_ptr()),
                    ldb: PW,
                    k,
                    bias: w.bias.map(|b| b[c0..].as_ptr()),
                    c: ptr.at(r0 * n + c0),
                    ldc: n,
                    height: MW.min(rows.end - r0),
                    width: PW.min(n - c0),
                };
                // SAFETY: AVX-512F checked above; A has `height` rows of k floats from r0,
                // the panel k rows of NR, the padded bias NR floats from c0, and the tile
                // [r0.., c0..] lies inside `out` and belongs to this task alone.
                unsafe { tile.run_wide(activation) };
            }
        }
    });
}

/// One micro-tile: `C[height, width] = act(A[height, k] · B[k, width] + bias)`, every
/// matrix addressed by its first element and row stride.
pub(crate) struct Tile {
    /// A, `height` rows of `k` floats, row stride `lda`; or, when `a_transposed`, stored
    /// by columns: element `(i, p)` at `a[p * lda + i]`.
    pub a: *const f32,
    pub lda: usize,
    pub a_transposed: bool,
    /// B, `k` rows of at least 32 readable floats (only `width` matter), stride `ldb`.
    pub b: *const f32,
    /// The same B as half bits, read instead of `b` when given (wide tiles only).
    pub b_half: Option<*const u16>,
    pub ldb: usize,
    pub k: usize,
    /// 32 readable floats added to every row, if any.
    pub bias: Option<*const f32>,
    /// C, `height` rows of `width` writable floats, stride `ldc`.
    pub c: *mut f32,
    pub ldc: usize,
    /// 1..=MR rows.
    pub height: usize,
    /// 1..=32 columns.
    pub width: usize,
}

impl Tile {
    /// Dispatches on the tile height so that every accumulator is a register.
    ///
    /// # Safety
    /// AVX-512F must be available and every pointer must address what its field says.
    #[target_feature(enable = "avx512f")]
    pub(crate) unsafe fn run(&self, act: Activation) {
        macro_rules! by_height {
            ($($h:literal)*) => {
                match self.height {
                    // SAFETY: forwarded from this function's contract.
                    $($h => unsafe { self.kernel::<$h>(act) },)*
                    _ => unreachable!("tile height is 1..=MR"),
                }
            };
        }
        by_height!(1 2 3 4 5 6 7 8 9 10 11 12)
    }

    /// The `R x 32` micro-kernel and its epilogue.
    ///
    /// # Safety
    /// As [`Tile::run`], with `R == self.height`.
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn kernel<const R: usize>(&self, act: Activation) {
        let (k, a, b, lda, ldb) = (self.k, self.a, self.b, self.lda, self.ldb);
        let mut acc = [[_mm512_setzero_ps(); 2]; R];
        for p in 0..k {
            // SAFETY: B has k rows of 32 readable floats; A has R rows of k floats.
            unsafe {
                let b0 = _mm512_loadu_ps(b.add(p * ldb));
                let b1 = _mm512_loadu_ps(b.add(p * ldb + 16));
                for (i, row) in acc.iter_mut().enumerate() {
                    let ai = _mm512_set1_ps(*a.add(i * lda + p));
                    row[0] = _mm512_fmadd_ps(ai, b0, row[0]);
                    row[1] = _mm512_fmadd_ps(ai, b1, row[1]);
                }
            }
        }
        let [bias_lo, bias_hi] = match self.bias {
            // SAFETY: the bias, when given, has 32 readable floats.
            Some(bias) => unsafe { [_mm512_loadu_ps(bias), _mm512_loadu_ps(bias.add(16))] },
            None => [_mm512_setzero_ps(); 2],
        };
        let [mask_lo, mask_hi] = column_masks::<2>(self.width);
        // No indexing by a loop variable below: the accumulators must stay registers.
        for (i, &[lo, hi]) in acc.iter().enumerate() {
            let lo = epilogue(_mm512_add_ps(lo, bias_lo), act);
            let hi = epilogue(_mm512_add_ps(hi, bias_hi), act);
            // SAFETY: the masks limit the stores to the tile's `width` valid columns.
            unsafe {
                _mm512_mask_storeu_ps(self.c.add(i * self.ldc), mask_lo, lo);
                _mm512_mask_storeu_ps(self.c.add(i * self.ldc + 16), mask_hi, hi);
            }
        }
    }
}

impl Tile {
    /// [`Tile::run`] for 8 x 48 tiles (`width` up to 48, B rows of 48 readable floats).
    ///
    /// # Safety
    /// As [`Tile::run`].
    #[target_feature(enable = "avx512f")]
    pub(crate) unsafe fn run_wide(&self, act: Activation) {
        macro_rules! by_height {
            ($($h:literal)*) => {
                match (self.height, self.b_half.is_some(), self.a_transposed) {
                    // SAFETY: forwarded from this function's contract.
                    $(($h, false, false) => unsafe { self.kernel_wide::<$h, false, false>(act) },
                    // SAFETY: as above; `b_half` holds what `b` does, as halves.
                    ($h, true, false) => unsafe { self.kernel_wide::<$h, true, false>(act) },
                    // SAFETY: as above, with A addressed by columns.
                    ($h, false, true) => unsafe { self.kernel_wide::<$h, false, true>(act) },)*
                    _ => unreachable!("tile height is 1..=MW; half weights only by rows"),
                }
            };
        }
        by_height!(1 2 3 4 5 6 7 8)
    }

    /// The `R x 48` micro-kernel and its epilogue.
    ///
    /// # Safety
    /// As [`Tile::run_wide`], with `R == self.height`.
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn kernel_wide<const R: usize, const HALF: bool, const A_T: bool>(
        &self,
        act: Activation,
    ) {
        let (k, a, b, lda, ldb) = (self.k, self.a, self.b, self.lda, self.ldb);
        let h = self.b_half.unwrap_or(core::ptr::null());
        let mut acc = [[_mm512_setzero_ps(); 3]; R];
        for p in 0..k {
            // SAFETY: B (as floats, or as halves when HALF) has k rows of 48 readable
            // values; A has R rows of k floats (k columns of R floats when A_T).
            unsafe {
                let (b0, b1, b2) = if HALF {
                    let row = h.add(p * ldb);
                    (
                        _mm512_cvtph_ps(_mm256_loadu_si256(row.cast())),
                        _mm512_cvtph_ps(_mm256_loadu_si256(row.add(16).cast())),
                        _mm512_cvtph_ps(_mm256_loadu_si256(row.add(32).cast())),
                    )
                } else {
                    (
                        _mm512_loadu_ps(b.add(p * ldb)),
                        _mm512_loadu_ps(b.add(p * ldb + 16)),
                        _mm512_loadu_ps(b.add(p * ldb + 32)),
                    )
                };
                for (i, row) in acc.iter_mut().enumerate() {
                    let ai = _mm512_set1_ps(*a.add(if A_T { p * lda + i } else { i * lda + p }));
                    row[0] = _mm512_fmadd_ps(ai, b0, row[0]);
                    row[1] = _mm512_fmadd_ps(ai, b1, row[1]);
                    row[2] = _mm512_fmadd_ps(ai, b2, row[2]);
                }
            }
        }
        let [bias0, bias1, bias2] = match self.bias {
            // SAFETY: the bias, when given, has 48 readable floats.
            Some(bias) => unsafe {
                [
                    _mm512_loadu_ps(bias),
                    _mm512_loadu_ps(bias.add(16)),
                    _mm512_loadu_ps(bias.add(32)),
                ]
            },
            None => [_mm512_setzero_ps(); 3],
        };
        let [m0, m1, m2] = column_masks::<3>(self.width);
        for (i, &[x0, x1, x2]) in acc.iter().enumerate() {
            let x0 = epilogue(_mm512_add_ps(x0, bias0), act);
            let x1 = epilogue(_mm512_add_ps(x1, bias1), act);
            let x2 = epilogue(_mm512_add_ps(x2, bias2), act);
            // SAFETY: the masks limit the stores to the tile's `width` valid columns.
            unsafe {
                _mm512_mask_storeu_ps(self.c.add(i * self.ldc), m0, x0);
                _mm512_mask_storeu_ps(self.c.add(i * self.ldc + 16), m1, x1);
                _mm512_mask_storeu_ps(self.c.add(i * self.ldc + 32), m2, x2);
            }
        }
    }
}

/// The activation on one register of C.
#[inline]
#[target_feature(enable = "avx512f")]
pub(crate) fn epilogue(v: __m512, act: Activation) -> __m512 {
    match act {
        Activation::Identity => v,
        Activation::Gelu => simd_math::gelu(v),
    }
}

/// Store masks for the `V` 16-lane registers of a tile row `width` columns wide.
pub(crate) fn column_masks<const V: usize>(width: usize) -> [__mmask16; V] {
    core::array::from_fn(|v| {
        let w = width.saturating_sub(16 * v);
        if w >= 16 {
            0xFFFF
        } else {
            ((1u32 << w) - 1) as u16
        }
    })
}
