//! GEMM throughput of the kernel on the encoder's shapes (MiniLM: hidden 384, FFN 1536):
//! `cargo bench -p lat-kernels --bench gemm`. Prints GFLOP/s per shape with and without
//! the GELU epilogue, and the one-time cost of packing the weight.

mod support;

use std::time::Duration;

use support::time;

use lat_kernels::{Activation, PackedWeight, linear};

fn main() {
    if !lat_kernels::cpu::avx512() {
        println!("no AVX-512F on this CPU: the kernels do not run here");
        return;
    }
    println!("| m x k x n | ms | GFLOP/s | with GELU, ms | pack weight, ms |");
    println!("|---|---:|---:|---:|---:|");
    let shapes = [
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
        let gflops = 2.0 * (m * k * n) as f64 / plain / 1e9;
        println!(
            "| {m} x {k} x {n} | {:.3} | {gflops:.0} | {:.3} | {:.3} |",
            plain * 1e3,
            gelu * 1e3,
            pack * 1e3
        );
    }
}
