//! The packed-weight cache keeps live weights and lets go of dropped ones: a model that is
//! dropped (or whose weights training replaced) must not stay pinned in memory.
//! One test in its own binary: the cache is process-wide.

use burn::nn::{LayerNormConfig, LinearConfig};
use burn::tensor::{Device, Distribution, Tensor};
use lat_kernels::flex::{FeedForwardWeights, cached_packed_weights, feed_forward};

#[test]
fn dropped_weights_leave_the_cache_and_live_ones_stay() {
    if !lat_kernels::cpu::enabled() {
        eprintln!("no AVX-512F on this CPU: kernel test skipped");
        return;
    }
    let device = Device::flex();
    let x = Tensor::<3>::random([2, 5, 32], Distribution::Default, &device);
    let run = |seed: u64| {
        device.seed(seed);
        let (up, down) = (
            LinearConfig::new(32, 64).init(&device),
            LinearConfig::new(64, 32).init(&device),
        );
        let norm = LayerNormConfig::new(32).init(&device);
        let weights = FeedForwardWeights {
            intermediate: &up,
            output: &down,
            norm: &norm,
            epsilon: 1e-12,
        };
        let first = feed_forward(&x, &weights).expect("the kernels run on flex");
        let after_first = cached_packed_weights();
        // Same live weights: served from the cache, nothing added.
        feed_forward(&x, &weights).expect("the kernels run on flex");
        assert_eq!(cached_packed_weights(), after_first);
        (first, after_first)
    };
    let (_, with_one_model) = run(1);
    assert_eq!(with_one_model, 2, "the FFN packs its two linears");
    // The first model's linears are gone: its entries are dropped when the next are added.
    let (_, with_another) = run(2);
    assert_eq!(with_another, 2, "dropped weights still pinned");
}
