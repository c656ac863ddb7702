//! Whether the fused kernels may run: AVX-512F on this CPU and not switched off with
//! `LAT_KERNELS=off` (which keeps burn's own ops, for comparison and as an escape hatch).

use std::sync::OnceLock;

/// True when this CPU has AVX-512F (what every kernel here needs).
pub fn avx512() -> bool {
    static HAS: OnceLock<bool> = OnceLock::new();
    #[cfg(target_arch = "x86_64")]
    return *HAS.get_or_init(|| std::arch::is_x86_feature_detected!("avx512f"));
    #[cfg(not(target_arch = "x86_64"))]
    return *HAS.get_or_init(|| false);
}

/// True when the fused kernels are used: AVX-512F present and `LAT_KERNELS` is not `off`.
pub fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| avx512() && std::env::var("LAT_KERNELS").map_or(true, |v| v != "off"))
}

/// The arithmetic of the encoder's matrix products at inference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    /// f32 throughout (the default; the parity tests' 1e-4).
    F32,
    /// The linears, and the attention's two products from 64 query rows, with operands
    /// rounded to bf16 and sums in f32 on AMX tiles (opt-in with `LAT_PRECISION=bf16`;
    /// softmax, LayerNorm and GELU stay f32).
    Bf16,
}

impl std::fmt::Display for Precision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::F32 => "f32",
            Self::Bf16 => "bf16",
        })
    }
}

/// `LAT_PRECISION` holds neither `f32` nor `bf16`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("LAT_PRECISION is {0:?}; expected \"f32\" or \"bf16\"")]
pub struct UnknownPrecision(pub String);

/// What `LAT_PRECISION` asks for: `Ok(None)` when unset.
pub fn requested_precision() -> Result<Option<Precision>, UnknownPrecision> {
    match std::env::var("LAT_PRECISION") {
        Err(_) => Ok(None),
        Ok(v) if v.eq_ignore_ascii_case("f32") => Ok(Some(Precision::F32)),
        Ok(v) if v.eq_ignore_ascii_case("bf16") => Ok(Some(Precision::Bf16)),
        Ok(v) => Err(UnknownPrecision(v)),
    }
}

/// True when bf16 inference can run here: the kernels run and AMX-BF16 is available.
pub fn bf16_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    return enabled() && crate::amx::available();
    #[cfg(not(target_arch = "x86_64"))]
    return false;
}

/// 0 until first read; then 1 + the precision's index.
static PRECISION: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0);

/// The precision inference runs in: bf16 where `LAT_PRECISION=bf16` (or
/// [`set_precision`]) asked for it and [`bf16_available`], f32 otherwise.
pub fn precision() -> Precision {
    use std::sync::atomic::Ordering;
    match PRECISION.load(Ordering::Relaxed) {
        1 => Precision::F32,
        2 => Precision::Bf16,
        _ => {
            let wanted = requested_precision().ok().flatten() == Some(Precision::Bf16);
            let chosen = if wanted && bf16_available() {
                Precision::Bf16
            } else {
                Precision::F32
            };
            // A concurrent `set_precision` wins over the environment.
            let _ =
                PRECISION.compare_exchange(0, code(chosen), Ordering::Relaxed, Ordering::Relaxed);
            precision()
        }
    }
}

/// Switches the precision for the whole process (tests and benchmarks compare both in
/// one run); weights already packed get their bf16 tiles on their next use.
///
/// # Errors
/// [`Bf16Unavailable`] when bf16 is asked for and [`bf16_available`] is false.
pub fn set_precision(precision: Precision) -> Result<(), Bf16Unavailable> {
    if precision == Precision::Bf16 && !bf16_available() {
        return Err(Bf16Unavailable);
    }
    PRECISION.store(code(precision), std::sync::atomic::Ordering::Relaxed);
    Ok(())
}

/// bf16 was asked for on a CPU (or with `LAT_KERNELS=off`) where it cannot run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("bf16 inference needs lat's kernels and a CPU with AMX-BF16")]
pub struct Bf16Unavailable;

fn code(precision: Precision) -> u8 {
    match precision {
        Precision::F32 => 1,
        Precision::Bf16 => 2,
    }
}
