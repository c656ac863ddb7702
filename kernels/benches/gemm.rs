//! GEMM throughput of the kernel on the encoder's shapes (MiniLM: hidden 384, FFN 1536):
//! `cargo bench -p lat-kernels --bench gemm`. Prints GFLOP/s per shape with and without
//! the GELU epilogue, the one-time cost of packing the weight, and the same product on
//! AMX in bf16 (`LAT_PRECISION=bf16`'s path) where this CPU has it.

mod support;

use std::time::Duration;

use support::time;

use lat_kernels::{Activation, Bf16Weight, PackedWeight, linear, linear_bf16};

fn main() {
    if !lat_kernels::cpu::avx512() {
        println!("no AVX-512F on this CPU: the kernels do not run here");
        return;
    }
    let amx = lat_kernels::cpu::bf16_available();
    println!(
        "| m x k x n | ms | GFLOP/s | with GELU, ms | pack weight, ms | bf16 AMX, ms | bf16 GFLOP/s | x f32 |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    let shapes = [
        (16, 384, 384),
        (16, 384, 1152),
        (16, 384, 1536),
        (128, 384, 1536),
        (1024, 384, 1152),
        (1024, 384, 1536),
        (1024, 1536, 384),
        (4096, 384, 1536),
        (4096, 1536, 384),
    ];
    for (m, k, n) in shapes {
        let a: Vec<f32> = (0..m * k)
            .map(|i| ((i % 97) as f32 - 48.0) / 97.0)
            .collect();
        let w: Vec<f32> = (0..k * n)
            .map(|i| ((i % 89) as f32 - 44.0) / 89.0)
            .collect();
        let bias: Vec<f32> = (0..n).map(|i| i as f32 / n as f32).collect();
        let budget = Duration::from_millis(500);
        let pack = time(budget, || {
            std::hint::black_box(PackedWeight::new(&w, Some(&bias), k, n));
        });
        let packed = PackedWeight::new(&w, Some(&bias), k, n);
        let plain = time(budget, || {
            std::hint::black_box(linear(&a, m, &packed, Activation::Identity));
        });
        let gelu = time(budget, || {
            std::hint::black_box(linear(&a, m, &packed, Activation::Gelu));
        });
        let flops = 2.0 * (m * k * n) as f64;
        let bf16 = amx.then(|| {
            let weight = Bf16Weight::new(&w, Some(&bias), k, n);
            time(budget, || {
                std::hint::black_box(linear_bf16(&a, m, &weight, Activation::Identity));
            })
        });
        let bf16_cells = bf16.map_or("— | — | —".to_string(), |t| {
            format!("{:.3} | {:.0} | {:.2}", t * 1e3, flops / t / 1e9, plain / t)
        });
        println!(
            "| {m} x {k} x {n} | {:.3} | {:.0} | {:.3} | {:.3} | {bf16_cells} |",
            plain * 1e3,
            flops / plain / 1e9,
            gelu * 1e3,
            pack * 1e3
        );
    }
}
