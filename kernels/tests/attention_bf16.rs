//! The attention's products in bf16 on AMX (the process precision switched to bf16): the
//! same seeded cases as the f32 attention test against the same f64 reference, within
//! bf16's rounding (scores from rounded q and k, context from rounded probabilities and
//! values), with the exact structural checks unchanged; and different from the f32
//! result, so the bf16 path really ran (64 query rows and more; fewer stay f32). Its own
//! test binary: the precision is process-wide.
// The kernels these tests call exist on x86-64 only (elsewhere the model runs burn's ops).
#![cfg(target_arch = "x86_64")]
#![allow(clippy::unwrap_used)]

mod common;

use common::attention_case::{Case, Tolerance, check};
use lat_kernels::cpu::{Precision, bf16_available, set_precision};

/// Inputs in [-1, 1): scores move by about 2^-8 of |q|·|k| / √d and the context by about
/// 2^-8 of |v| (measured: at most 0.0015 from the f32 context); a layout slip errs by the
/// values' own size.
const BF16: Tolerance = Tolerance {
    context: 5e-3,
    significance: 2e-2,
};

const F32: Tolerance = Tolerance {
    context: 1e-5,
    significance: 1e-4,
};

#[test]
fn bf16_products_stay_within_rounding_of_the_reference() {
    if !bf16_available() {
        eprintln!("no AMX-BF16 here (or the kernels are off): bf16 attention test skipped");
        return;
    }
    let cases = [
        (3, 64, 32),
        (3, 65, 32),
        (2, 97, 32),
        (2, 70, 64),
        (1, 130, 32),
    ];
    for (i, &(batch_size, n, head_dim)) in cases.iter().enumerate() {
        let case = Case {
            batch_size,
            n,
            queries: n,
            heads: 3,
            head_dim,
        };
        set_precision(Precision::F32).unwrap();
        let f32_context = check(&case, i as u64, &F32);
        set_precision(Precision::Bf16).unwrap();
        let bf16_context = check(&case, i as u64, &BF16);
        set_precision(Precision::F32).unwrap();
        let worst = f32_context
            .iter()
            .zip(&bf16_context)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        eprintln!("n={n} dh={head_dim}: worst |bf16 - f32| context {worst}");
        assert!(worst > 1e-5, "n={n}: the bf16 path did not run ({worst})");
    }
    // Fewer than 64 query rows (short sequences, the [CLS]-only layer) stay f32, exactly
    // as before.
    set_precision(Precision::Bf16).unwrap();
    for (n, queries) in [(19, 1), (63, 63)] {
        let case = Case {
            batch_size: 4,
            n,
            queries,
            heads: 3,
            head_dim: 32,
        };
        check(&case, 9, &F32);
    }
    set_precision(Precision::F32).unwrap();
}
