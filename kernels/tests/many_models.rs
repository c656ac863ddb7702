//! Serving many models at once packs each weight once: with more live layers than the old
//! 256-entry cache held (over 64 encoder layers), round-robin traffic repacked every call.
//! One test in its own binary: the packed-weight registry is process-wide.

use burn::nn::{LayerNormConfig, LinearConfig};
use burn::tensor::{Device, Distribution, Tensor};
use lat_kernels::flex::{FeedForwardWeights, cached_packed_weights, feed_forward, packs_built};

#[test]
fn every_live_layer_is_packed_once_however_many_are_served() {
    if !lat_kernels::cpu::enabled() {
        eprintln!("no AVX-512F on this CPU: kernel test skipped");
        return;
    }
    let device = Device::flex();
    device.seed(7);
    let x = Tensor::<3>::random([1, 3, 16], Distribution::Default, &device);
    // 150 feed-forward blocks: 300 packed weights, more than the old cache's 256.
    let layers: Vec<_> = (0..150)
        .map(|_| {
            (
                LinearConfig::new(16, 32).init(&device),
                LinearConfig::new(32, 16).init(&device),
                LayerNormConfig::new(16).init(&device),
            )
        })
        .collect();
    let run_all = || {
        for (up, down, norm) in &layers {
            let weights = FeedForwardWeights {
                intermediate: up,
                output: down,
                norm,
                epsilon: 1e-12,
            };
            feed_forward(&x, &weights).expect("the kernels run on flex");
        }
    };
    let before = packs_built();
    run_all();
    assert_eq!(packs_built() - before, 300, "each linear packed once");
    assert_eq!(cached_packed_weights(), 300);
    for _ in 0..2 {
        run_all();
    }
    assert_eq!(packs_built() - before, 300, "round-robin traffic repacked");
    drop(layers);
    // The dropped layers' entries go at the next insertion.
    let (up, down, norm) = (
        LinearConfig::new(16, 32).init(&device),
        LinearConfig::new(32, 16).init(&device),
        LayerNormConfig::new(16).init(&device),
    );
    let weights = FeedForwardWeights {
        intermediate: &up,
        output: &down,
        norm: &norm,
        epsilon: 1e-12,
    };
    feed_forward(&x, &weights).expect("the kernels run on flex");
    assert_eq!(cached_packed_weights(), 2, "dropped layers still pinned");
}
