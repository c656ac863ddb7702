//! The attention kernel against an f64 reference: context rows and significance, for
//! strided views into a fused QKV buffer, masked keys, non-voting rows, every key count
//! around the 32-key tiles, one query row (the [CLS]-only path) and two head widths.

mod common;

use common::{assert_close, kernels_available, uniform};
use lat_kernels::{AttentionInput, Rows, attention};

struct Case {
    batch_size: usize,
    n: usize,
    queries: usize,
    heads: usize,
    head_dim: usize,
}

/// Reference context and significance in f64.
fn reference(input: &AttentionInput<'_>) -> (Vec<f64>, Vec<f64>) {
    let (b, n, nq, h, dh) = (
        input.batch_size,
        input.n,
        input.queries,
        input.heads,
        input.head_dim,
    );
    let at =
        |rows: &Rows<'_>, r: usize, c: usize| rows.data[r * rows.stride + rows.offset + c] as f64;
    let mut context = vec![0.0; b * nq * h * dh];
    let mut significance = vec![0.0; b * n];
    for s in 0..b {
        for hd in 0..h {
            for i in 0..nq {
                let scores: Vec<f64> = (0..n)
                    .map(|j| {
                        let dot: f64 = (0..dh)
                            .map(|d| {
                                at(&input.q, s * nq + i, hd * dh + d)
                                    * at(&input.k, s * n + j, hd * dh + d)
                            })
                            .sum();
                        dot / (dh as f64).sqrt() + input.key_bias[s * n + j] as f64
                    })
                    .collect();
                let max = scores.iter().cloned().fold(f64::MIN, f64::max);
                let exps: Vec<f64> = scores.iter().map(|x| (x - max).exp()).collect();
                let total: f64 = exps.iter().sum();
                for (j, e) in exps.iter().enumerate() {
                    let p = e / total;
                    for d in 0..dh {
                        context[(s * nq + i) * h * dh + hd * dh + d] +=
                            p * at(&input.v, s * n + j, hd * dh + d);
                    }
                    if let Some(voters) = input.voters {
                        significance[s * n + j] += voters[s * nq + i] as f64 * p;
                    }
                }
            }
        }
    }
    (context, significance)
}

fn check(case: &Case, seed: u64) {
    let Case {
        batch_size,
        n,
        queries,
        heads,
        head_dim,
    } = *case;
    let width = heads * head_dim;
    // Keys and values share a [rows, 3 * width] buffer, as after the fused QKV GEMM.
    let qkv = uniform(batch_size * n * 3 * width, seed);
    let separate_q = uniform(batch_size * queries * width, seed + 1);
    let q = if queries == n {
        Rows {
            data: &qkv,
            stride: 3 * width,
            offset: 0,
        }
    } else {
        Rows {
            data: &separate_q,
            stride: width,
            offset: 0,
        }
    };
    // Row s has n - s real tokens (at least one).
    let counts: Vec<usize> = (0..batch_size)
        .map(|s| n.saturating_sub(s).max(1))
        .collect();
    let key_bias: Vec<f32> = counts
        .iter()
        .flat_map(|&c| (0..n).map(move |j| if j < c { 0.0 } else { -1.0e9 }))
        .collect();
    let voters: Vec<f32> = counts
        .iter()
        .flat_map(|&c| (0..queries).map(move |i| if i < c { 1.0 } else { 0.0 }))
        .collect();
    let input = AttentionInput {
        q,
        k: Rows {
            data: &qkv,
            stride: 3 * width,
            offset: width,
        },
        v: Rows {
            data: &qkv,
            stride: 3 * width,
            offset: 2 * width,
        },
        key_bias: &key_bias,
        voters: Some(&voters),
        batch_size,
        queries,
        n,
        heads,
        head_dim,
    };
    let got = attention(&input);
    let (context, significance) = reference(&input);
    let what = format!("b={batch_size} n={n} queries={queries} heads={heads} dh={head_dim}");
    assert_close(&got.context, &context, 1e-5, &format!("context {what}"));
    let sig = got.significance.expect("voters were given");
    assert_close(&sig, &significance, 1e-4, &format!("significance {what}"));
    // Masked keys receive nothing; each head hands out one unit per voting row.
    for (s, &c) in counts.iter().enumerate() {
        assert!(
            sig[s * n + c..(s + 1) * n].iter().all(|x| *x == 0.0),
            "{what}: padding received attention"
        );
        let total: f32 = sig[s * n..(s + 1) * n].iter().sum();
        let votes = (heads * c.min(queries)) as f32;
        assert!(
            (total - votes).abs() < 1e-3 * votes,
            "{what}: {total} vs {votes}"
        );
    }
}

#[test]
fn every_key_count_around_the_tiles() {
    if !kernels_available() {
        return;
    }
    for n in [1, 2, 5, 31, 32, 33, 70] {
        check(
            &Case {
                batch_size: 3,
                n,
                queries: n,
                heads: 3,
                head_dim: 32,
            },
            n as u64,
        );
    }
}

#[test]
fn wide_heads_and_the_first_token_path() {
    if !kernels_available() {
        return;
    }
    check(
        &Case {
            batch_size: 2,
            n: 40,
            queries: 40,
            heads: 2,
            head_dim: 64,
        },
        7,
    );
    check(
        &Case {
            batch_size: 4,
            n: 19,
            queries: 1,
            heads: 3,
            head_dim: 32,
        },
        8,
    );
}

#[test]
fn a_query_of_zeros_averages_the_values() {
    if !kernels_available() {
        return;
    }
    // One head of width 32, two keys: a zero query scores both keys alike, so each gets
    // probability 1/2, the context is the mean value and each key's significance is 1/2.
    let dh = 32;
    let q = vec![0.0f32; dh];
    let mut kv = vec![0.0f32; 2 * 2 * dh];
    for d in 0..dh {
        kv[d] = 1.0; // key 0
        kv[2 * dh + d] = -1.0; // key 1
        kv[dh + d] = 2.0; // value 0
        kv[3 * dh + d] = 4.0; // value 1
    }
    let got = attention(&AttentionInput {
        q: Rows {
            data: &q,
            stride: dh,
            offset: 0,
        },
        k: Rows {
            data: &kv,
            stride: 2 * dh,
            offset: 0,
        },
        v: Rows {
            data: &kv,
            stride: 2 * dh,
            offset: dh,
        },
        key_bias: &[0.0, 0.0],
        voters: Some(&[1.0]),
        batch_size: 1,
        queries: 1,
        n: 2,
        heads: 1,
        head_dim: dh,
    });
    assert!(
        got.context.iter().all(|x| (x - 3.0).abs() < 1e-6),
        "{:?}",
        got.context
    );
    assert_eq!(got.significance, Some(vec![0.5, 0.5]));
}
