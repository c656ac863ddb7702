//! Training-side throughput of the kernels at the training benchmark's shape (batch 32 x
//! 64 tokens = 2048 rows, MiniLM's 384/1536): the forward GEMM, the input gradient
//! `∂y · Wᵀ`, the weight gradient `xᵀ · ∂y` and the whole dense backward, as GFLOP/s:
//! `cargo bench -p lat-kernels --bench dense_backward`.

mod support;

use std::time::Duration;

use support::time;

use lat_kernels::{
    Activation, DenseSaved, DenseWanted, PackedWeight, dense_backward, linear, weight_gradient,
};

fn values(n: usize, modulus: usize) -> Vec<f32> {
    (0..n)
        .map(|i| ((i % modulus) as f32 - modulus as f32 / 2.0) / modulus as f32)
        .collect()
}

fn main() {
    if !lat_kernels::cpu::avx512() {
        println!("no AVX-512F on this CPU: the kernels do not run here");
        return;
    }
    let budget = Duration::from_millis(700);
    println!(
        "| m x k x n | forward x·W | ∂x = ∂y·Wᵀ | ∂W = xᵀ·∂y | dense backward (all three), ms |"
    );
    println!("|---|---:|---:|---:|---:|");
    for (m, k, n) in [(2048, 384, 384), (2048, 384, 1536), (2048, 1536, 384)] {
        let x = values(m * k, 97);
        let w = values(k * n, 89);
        let dy = values(m * n, 83);
        let gflops = |s: f64| 2.0 * (m * k * n) as f64 / s / 1e9;
        let packed = PackedWeight::f32_only(&w, None, k, n);
        let forward = time(budget, || {
            std::hint::black_box(linear(&x, m, &packed, Activation::Identity));
        });
        let grad_input = time(budget, || {
            let w_t = PackedWeight::transposed(&w, n, k);
            std::hint::black_box(linear(&dy, m, &w_t, Activation::Identity));
        });
        let grad_weight = time(budget, || {
            std::hint::black_box(weight_gradient(&x, &dy, [m, k, n]));
        });
        let saved = DenseSaved {
            input: &x,
            weight: &w,
            pre_activation: &[],
            activation: Activation::Identity,
            m,
            k,
            n,
        };
        let all = DenseWanted {
            input: true,
            weight: true,
            bias: true,
        };
        let backward = time(budget, || {
            std::hint::black_box(dense_backward(&saved, &dy, all));
        });
        println!(
            "| {m} x {k} x {n} | {:.0} GFLOP/s | {:.0} GFLOP/s | {:.0} GFLOP/s | {:.2} |",
            gflops(forward),
            gflops(grad_input),
            gflops(grad_weight),
            backward * 1e3
        );
    }
}
