//! The arithmetic of the encoder's linears at inference on the CPU kernels: f32 (the
//! default) or bf16 on AMX, opt-in, process-wide. A property of how the device computes,
//! like the device itself, so binaries choose it; the model code is the same either way.

pub use lat_kernels::cpu::{
    Bf16Unavailable, Precision, UnknownPrecision, bf16_available, precision, requested_precision,
    set_precision,
};
