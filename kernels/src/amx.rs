//! Intel AMX tiles for the bf16 GEMM: whether this process may use them, the tile
//! configuration, and the micro-kernels.
//!
//! Rust's AMX intrinsics are not stable, so the tile instructions are inline assembly.
//! Linux hands out the 8 KiB of tile state only to a process that asks for it
//! (`arch_prctl(ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA)`), once per process; the tile
//! configuration is per thread, so every parallel task loads it and releases the tiles when
//! done (a released thread's context switches stay as cheap as without AMX).
//!
//! Every kernel uses the same configuration: eight tiles of 16 rows by 64 bytes, i.e. an
//! A tile is 16 rows by 32 bf16 values of k, a B tile 16 pairs of k rows by 16 columns
//! (two bf16 of consecutive k per column, the layout `TDPBF16PS` reads), a C tile 16 by 16
//! f32.

use std::arch::asm;
use std::sync::OnceLock;

/// Rows of every tile.
pub(crate) const TILE_ROWS: usize = 16;
/// Values of k per A tile (and per B tile, as 16 pairs).
pub(crate) const TILE_K: usize = 32;
/// f32 columns per C tile.
pub(crate) const TILE_COLS: usize = 16;
/// Bytes per tile row.
const ROW_BYTES: usize = 64;

/// True when this CPU has AMX-TILE, AMX-BF16, AVX512-BF16 and AVX512-BW (for rounding and
/// interleaving; every AMX CPU has them), the OS keeps the tile state, and Linux granted this process the tile data
/// (asked once).
pub fn available() -> bool {
    static OK: OnceLock<bool> = OnceLock::new();
    *OK.get_or_init(|| cpu_has_amx() && request_tile_data())
}

fn cpu_has_amx() -> bool {
    use core::arch::x86_64::{__cpuid_count, _xgetbv};
    if !std::arch::is_x86_feature_detected!("xsave")
        || !std::arch::is_x86_feature_detected!("avx512bf16")
        || !std::arch::is_x86_feature_detected!("avx512bw")
        || !crate::cpu::avx512()
    {
        return false;
    }
    // CPUID.(EAX=7, ECX=0):EDX bit 22 is AMX-BF16, bit 24 AMX-TILE.
    let leaf7 = __cpuid_count(7, 0);
    let cpu = leaf7.edx & (1 << 22) != 0 && leaf7.edx & (1 << 24) != 0;
    // XCR0 bits 17 and 18: the OS saves XTILECFG and XTILEDATA with the thread state.
    // SAFETY: XSAVE (hence XGETBV) was detected above.
    let xcr0 = unsafe { _xgetbv(0) };
    cpu && xcr0 & (0b11 << 17) == 0b11 << 17
}

#[cfg(target_os = "linux")]
fn request_tile_data() -> bool {
    const SYS_ARCH_PRCTL: i64 = 158;
    const ARCH_REQ_XCOMP_PERM: i64 = 0x1023;
    const XFEATURE_XTILEDATA: i64 = 18;
    let ret: i64;
    // SAFETY: a plain arch_prctl system call; it reads no memory of ours and, per the
    // syscall ABI, clobbers only rax, rcx and r11.
    unsafe {
        asm!(
            "syscall",
            inlateout("rax") SYS_ARCH_PRCTL => ret,
            in("rdi") ARCH_REQ_XCOMP_PERM,
            in("rsi") XFEATURE_XTILEDATA,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    ret == 0
}

#[cfg(not(target_os = "linux"))]
fn request_tile_data() -> bool {
    false
}

/// The 64-byte tile configuration (palette 1, eight 16 x 64-byte tiles).
#[repr(C, align(64))]
struct TileConfig([u8; 64]);

impl TileConfig {
    fn new() -> Self {
        let mut bytes = [0u8; 64];
        bytes[0] = 1;
        for tile in 0..8 {
            bytes[16 + 2 * tile..18 + 2 * tile].copy_from_slice(&(ROW_BYTES as u16).to_le_bytes());
            bytes[48 + tile] = TILE_ROWS as u8;
        }
        Self(bytes)
    }
}

/// Runs `f` with the tiles configured on this thread, then releases them.
///
/// # Panics
/// When [`available`] is false.
pub(crate) fn with_tiles<R>(f: impl FnOnce(Tiles) -> R) -> R {
    assert!(available(), "AMX tiles are not available to this process");
    let config = TileConfig::new();
    // SAFETY: AMX is available and granted; the configuration is 64 aligned bytes.
    unsafe { asm!("ldtilecfg [{}]", in(reg) config.0.as_ptr(), options(nostack, readonly)) };
    let result = f(Tiles(()));
    // SAFETY: the tiles were configured above.
    unsafe { asm!("tilerelease", options(nostack, nomem)) };
    result
}

/// Proof that this thread's tiles are configured (only [`with_tiles`] makes one).
#[derive(Clone, Copy)]
pub(crate) struct Tiles(());

/// One block of C: `C[rows, 32] = A[rows, 32·blocks] · B[32·blocks, 32]`, with 1 or 2
/// row tiles of A and the two column tiles of B, written to `c` (`16·row_tiles` rows of
/// 32 f32, contiguous).
pub(crate) struct Block {
    /// A's `row_tiles` row tiles (the second unread when 1), each `k_blocks` tiles of
    /// 16 rows x 32 bf16 one after another, like B's.
    pub a: [*const u16; 2],
    /// The two B column tiles, each `k_blocks` tiles of 16 x 32 bf16 one after another.
    pub b: [*const u16; 2],
    pub k_blocks: usize,
    /// 1 or 2.
    pub row_tiles: usize,
    /// 16 · `row_tiles` rows of 32 writable f32.
    pub c: *mut f32,
}

impl Block {
    /// Runs the block on the configured tiles.
    ///
    /// # Safety
    /// Every pointer must address what its field says, and `k_blocks` must be at least 1.
    pub(crate) unsafe fn run(&self, _tiles: Tiles) {
        let ldc = 2 * TILE_COLS * 4;
        let [a0, a1] = self.a;
        let [b0, b1] = self.b;
        if self.row_tiles == 2 {
            // SAFETY: the caller's contract: A has 32 rows, B two column tiles of
            // `k_blocks` tiles, C 32 rows of 32 floats.
            unsafe {
                asm!(
                    "tilezero tmm0",
                    "tilezero tmm1",
                    "tilezero tmm2",
                    "tilezero tmm3",
                    "2:",
                    "tileloadd tmm4, [{a0} + {ld}]",
                    "tileloadd tmm5, [{a1} + {ld}]",
                    "tileloadd tmm6, [{b0} + {ld}]",
                    "tileloadd tmm7, [{b1} + {ld}]",
                    "tdpbf16ps tmm0, tmm4, tmm6",
                    "tdpbf16ps tmm1, tmm4, tmm7",
                    "tdpbf16ps tmm2, tmm5, tmm6",
                    "tdpbf16ps tmm3, tmm5, tmm7",
                    "add {a0}, 1024",
                    "add {a1}, 1024",
                    "add {b0}, 1024",
                    "add {b1}, 1024",
                    "dec {n}",
                    "jnz 2b",
                    "tilestored [{c} + {ldc}], tmm0",
                    "tilestored [{c} + {ldc} + 64], tmm1",
                    "tilestored [{c16} + {ldc}], tmm2",
                    "tilestored [{c16} + {ldc} + 64], tmm3",
                    a0 = inout(reg) a0 => _,
                    a1 = inout(reg) a1 => _,
                    b0 = inout(reg) b0 => _,
                    b1 = inout(reg) b1 => _,
                    n = inout(reg) self.k_blocks => _,
                    ld = in(reg) ROW_BYTES,
                    ldc = in(reg) ldc,
                    c = in(reg) self.c,
                    c16 = in(reg) self.c.add(TILE_ROWS * 2 * TILE_COLS),
                    options(nostack),
                );
            }
        } else {
            // SAFETY: as above with 16 rows of A and C.
            unsafe {
                asm!(
                    "tilezero tmm0",
                    "tilezero tmm1",
                    "2:",
                    "tileloadd tmm4, [{a0} + {ld}]",
                    "tileloadd tmm6, [{b0} + {ld}]",
                    "tileloadd tmm7, [{b1} + {ld}]",
                    "tdpbf16ps tmm0, tmm4, tmm6",
                    "tdpbf16ps tmm1, tmm4, tmm7",
                    "add {a0}, 1024",
                    "add {b0}, 1024",
                    "add {b1}, 1024",
                    "dec {n}",
                    "jnz 2b",
                    "tilestored [{c} + {ldc}], tmm0",
                    "tilestored [{c} + {ldc} + 64], tmm1",
                    a0 = inout(reg) a0 => _,
                    b0 = inout(reg) b0 => _,
                    b1 = inout(reg) b1 => _,
                    n = inout(reg) self.k_blocks => _,
                    ld = in(reg) ROW_BYTES,
                    ldc = in(reg) ldc,
                    c = in(reg) self.c,
                    options(nostack),
                );
            }
        }
    }
}
