//! The attention kernel against an f64 reference: context rows and significance, for
//! strided views into a fused QKV buffer, masked keys, non-voting rows, every key count
//! around the 32-key tiles, one query row (the [CLS]-only path) and two head widths.
// The kernels these tests call exist on x86-64 only (elsewhere the model runs burn's ops).
#![cfg(target_arch = "x86_64")]

mod common;

/// f32 throughout: summation order is all that differs from f64.
const F32: Tolerance = Tolerance {
    context: 1e-5,
    significance: 1e-4,
};

use common::attention_case::{Case, Tolerance, check};
use common::kernels_available;
use lat_kernels::{AttentionInput, Rows, attention};

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
            &F32,
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
        &F32,
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
        &F32,
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
