//! GEMM time of the full model vs a frontier point at 8x128 (probe).
use lat_kernels::{Activation, PackedWeight, linear};
use std::time::Instant;
fn main() {
    let ws: Vec<(PackedWeight, usize)> = (0..6)
        .flat_map(|l| {
            let mk = |k: usize, n: usize, s: usize| {
                PackedWeight::new(
                    &(0..k * n)
                        .map(|i| ((i * 7 + s) % 13) as f32 / 13.0 - 0.5)
                        .collect::<Vec<_>>(),
                    None,
                    k,
                    n,
                )
            };
            vec![
                (mk(384, 1152, l), 0),
                (mk(384, 384, l), 0),
                (mk(384, 1536, l), 1),
                (mk(1536, 384, l), 1),
            ]
        })
        .collect();
    let run = |attn: &[usize], ffn: &[usize]| {
        let a = vec![0.1f32; 1024 * 1536];
        let t = Instant::now();
        for _ in 0..20 {
            for (i, (w, kind)) in ws.iter().enumerate() {
                let m = if *kind == 0 { attn[i / 4] } else { ffn[i / 4] };
                std::hint::black_box(linear(&a[..m * w.k()], m, w, Activation::Identity));
            }
        }
        t.elapsed().as_secs_f64() / 20.0 * 1e3
    };
    let full = run(&[1024; 6], &[1024; 6]);
    let l = [122, 98, 63, 42, 21, 11];
    let attn: Vec<usize> = (0..6)
        .map(|i| 8 * if i == 0 { 128 } else { l[i - 1] })
        .collect();
    let ffn: Vec<usize> = l.iter().map(|x| 8 * x).collect();
    let point = run(&attn, &ffn);
    let fl = |a: &[usize], f: &[usize]| -> f64 {
        (0..6)
            .map(|i| a[i] as f64 * 384.0 * 1536.0 + f[i] as f64 * 384.0 * 3072.0)
            .sum()
    };
    println!(
        "full {full:.1} ms, point {point:.1} ms, time ratio {:.3}, gemm flops ratio {:.3}",
        point / full,
        fl(&attn, &ffn) / fl(&[1024; 6], &[1024; 6])
    );
}
