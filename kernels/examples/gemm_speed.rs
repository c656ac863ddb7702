//! Quick GEMM throughput probe.
use lat_kernels::{Activation, PackedWeight, linear};
use std::time::Instant;
fn main() {
    for (m, k, n) in [
        (2048, 384, 1536),
        (2048, 1536, 384),
        (2048, 384, 384),
        (16, 384, 1536),
        (128, 384, 1536),
        (1024, 384, 1536),
    ] {
        let a: Vec<f32> = (0..m * k)
            .map(|i| ((i % 97) as f32 - 48.0) / 97.0)
            .collect();
        let w: Vec<f32> = (0..k * n)
            .map(|i| ((i % 89) as f32 - 44.0) / 89.0)
            .collect();
        let b: Vec<f32> = (0..n).map(|i| i as f32 / n as f32).collect();
        let t = Instant::now();
        let pw = PackedWeight::new(&w, Some(&b), k, n);
        let pack = t.elapsed();
        let mut reps = 0;
        let t = Instant::now();
        while t.elapsed().as_secs_f64() < 1.0 {
            std::hint::black_box(linear(&a, m, &pw, Activation::Identity));
            reps += 1;
        }
        let s = t.elapsed().as_secs_f64() / reps as f64;
        let t2 = Instant::now();
        let mut reps2 = 0;
        while t2.elapsed().as_secs_f64() < 1.0 {
            std::hint::black_box(linear(&a, m, &pw, Activation::Gelu));
            reps2 += 1;
        }
        let s2 = t2.elapsed().as_secs_f64() / reps2 as f64;
        let gf = 2.0 * (m * k * n) as f64 / 1e9;
        println!(
            "{m}x{k}x{n}: {:.3} ms {:.0} GFLOP/s; gelu {:.3} ms; pack {:.3} ms",
            s * 1e3,
            gf / s,
            s2 * 1e3,
            pack.as_secs_f64() * 1e3
        );
    }
}
