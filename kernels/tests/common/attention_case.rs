//! The attention kernel's f64 reference and its seeded checks, shared by the f32 and the
//! bf16 attention tests.

use lat_kernels::{AttentionInput, Rows, attention};

use super::{assert_close, uniform};

/// One attention shape.
pub struct Case {
    pub batch_size: usize,
    pub n: usize,
    pub queries: usize,
    pub heads: usize,
    pub head_dim: usize,
}

/// Largest absolute errors allowed for the context and the significance.
pub struct Tolerance {
    pub context: f64,
    pub significance: f64,
}

/// Reference context and significance in f64.
pub fn reference(input: &AttentionInput<'_>) -> (Vec<f64>, Vec<f64>) {
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

/// Runs `attention` on seeded inputs of `case` (keys and values in a fused QKV buffer,
/// row s with n - s real tokens) and holds it to [`reference`] within `tol`, plus exact
/// structural properties: masked keys receive nothing, each head hands out one unit of
/// significance per voting row. Returns the context for comparisons across precisions.
pub fn check(case: &Case, seed: u64, tol: &Tolerance) -> Vec<f32> {
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
    assert_close(
        &got.context,
        &context,
        tol.context,
        &format!("context {what}"),
    );
    let sig = got.significance.expect("voters were given");
    assert_close(
        &sig,
        &significance,
        tol.significance,
        &format!("significance {what}"),
    );
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
    got.context
}
