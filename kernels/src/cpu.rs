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
