//! LengthDrop and LayerDrop samplers: which sub-networks a LengthDrop step trains.
//!
//! Lengths are drawn as the reference draws them, as integers on the task's maximum length
//! T (l_0 = T; smallest: l_i = ceil(0.8 l_{i-1}); random: l_i uniform in
//! [ceil(0.8 l_{i-1}), l_{i-1}], inclusive; never below 2; carried over at a LayerDropped
//! layer), then expressed as ratios l_i / T. lat applies ratios to each input's own length,
//! so an input of exactly T tokens gets the reference's lengths and shorter inputs the same
//! proportions.

use rand::Rng;

use crate::length_config::{LengthConfig, MIN_KEPT};

/// The paper's sampler constants; every one is a `lat-train` flag.
#[derive(Debug, Clone, PartialEq)]
pub struct SamplerConfig {
    /// Layers of the encoder.
    pub num_layers: usize,
    /// The task's maximum length T, the grid lengths are drawn on.
    pub max_length: usize,
    /// Each layer keeps at least `1 - bound` of the previous layer's tokens (paper: 0.2).
    pub length_drop_ratio_bound: f64,
    /// Probability that LayerDrop skips a layer in a training pass (paper: 0.2).
    pub layer_dropout_prob: f64,
}

/// One sampled sub-network: per-layer lengths on the grid of T and the skipped layers.
#[derive(Debug, Clone, PartialEq)]
pub struct SampledLengths {
    /// Tokens each layer outputs when the input has exactly T tokens.
    pub lengths: Vec<usize>,
    /// Layers LayerDrop skips in this pass.
    pub skipped: Vec<bool>,
}

impl SamplerConfig {
    /// Draws which layers LayerDrop skips: layer i runs iff u_i >= p, u_i ~ U[0, 1).
    pub fn layer_drop<R: Rng>(&self, rng: &mut R) -> Vec<bool> {
        (0..self.num_layers)
            .map(|_| rng.random::<f64>() < self.layer_dropout_prob)
            .collect()
    }

    /// The full-length network with the given layers skipped.
    pub fn full(&self, skipped: Vec<bool>) -> SampledLengths {
        SampledLengths {
            lengths: vec![self.max_length; self.num_layers],
            skipped,
        }
    }

    /// The smallest sub-network: every running layer keeps exactly ceil(0.8 l_{i-1}).
    pub fn smallest(&self, skipped: Vec<bool>) -> SampledLengths {
        self.walk(skipped, |low, _| low)
    }

    /// A random sub-network: every running layer keeps a uniform count in
    /// [ceil(0.8 l_{i-1}), l_{i-1}].
    pub fn random<R: Rng>(&self, skipped: Vec<bool>, rng: &mut R) -> SampledLengths {
        self.walk(skipped, |low, high| rng.random_range(low..=high))
    }

    fn walk(
        &self,
        skipped: Vec<bool>,
        mut pick: impl FnMut(usize, usize) -> usize,
    ) -> SampledLengths {
        let keep = 1.0 - self.length_drop_ratio_bound;
        let mut previous = self.max_length;
        let lengths = skipped
            .iter()
            .map(|&skip| {
                if !skip {
                    // The slack keeps ceil(0.8 * 10) at 8 despite 0.8 not being exact in binary.
                    let low = ((keep * previous as f64) - 1e-9).ceil() as usize;
                    let low = low.clamp(MIN_KEPT.min(previous), previous);
                    previous = pick(low, previous).max(MIN_KEPT.min(previous));
                }
                previous
            })
            .collect();
        SampledLengths { lengths, skipped }
    }
}

impl SampledLengths {
    /// The sub-network as a [`LengthConfig`]: ratios l_i / T plus the skipped layers.
    pub fn to_config(&self, max_length: usize) -> LengthConfig {
        let ratios = self
            .lengths
            .iter()
            .map(|&l| l as f64 / max_length as f64)
            .collect();
        let skipped: Vec<usize> = (0..self.skipped.len())
            .filter(|&i| self.skipped[i])
            .collect();
        // Lengths are non-increasing, in [2, T] and skipped layers are in range by construction.
        LengthConfig::new(ratios)
            .and_then(|c| c.with_skipped_layers(&skipped))
            .expect("sampled lengths form a valid configuration")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    fn config(p: f64) -> SamplerConfig {
        SamplerConfig {
            num_layers: 6,
            max_length: 128,
            length_drop_ratio_bound: 0.2,
            layer_dropout_prob: p,
        }
    }

    #[test]
    fn smallest_is_exactly_ceil_point_eight_per_layer() {
        // 128 -> 102.4 -> 103 -> 82.4 -> 83 -> 66.4 -> 67 -> 53.6 -> 54 -> 43.2 -> 44 -> 35.2 -> 36
        let s = config(0.0).smallest(vec![false; 6]);
        assert_eq!(s.lengths, vec![103, 83, 67, 54, 44, 36]);
    }

    #[test]
    fn skipped_layers_carry_lengths_over() {
        let skipped = vec![false, true, false, true, true, false];
        let s = config(0.0).smallest(skipped.clone());
        assert_eq!(s.lengths, vec![103, 103, 83, 83, 83, 67]);
        let c = s.to_config(128);
        assert_eq!(c.skipped_layers(), vec![1, 3, 4]);
        assert_eq!(c.keep_counts(128)[..2], [103, 103]);
    }

    #[test]
    fn smallest_never_goes_below_two() {
        let sampler = SamplerConfig {
            max_length: 3,
            ..config(0.0)
        };
        // ceil(0.8 * 3) = 3, ceil(0.8 * 3)... stays 3; from 2 it stays 2.
        assert_eq!(sampler.smallest(vec![false; 6]).lengths, vec![3; 6]);
        let sampler = SamplerConfig {
            length_drop_ratio_bound: 0.9,
            ..sampler
        };
        assert_eq!(sampler.smallest(vec![false; 6]).lengths, vec![2; 6]);
    }

    #[test]
    fn random_lengths_are_within_bounds_and_non_increasing() {
        let sampler = config(0.3);
        let mut rng = StdRng::seed_from_u64(7);
        let mut saw_low = false;
        let mut saw_high = false;
        for _ in 0..2000 {
            let skipped = sampler.layer_drop(&mut rng);
            let s = sampler.random(skipped.clone(), &mut rng);
            let mut previous = 128;
            for (i, &l) in s.lengths.iter().enumerate() {
                if skipped[i] {
                    assert_eq!(l, previous);
                } else {
                    let low = (0.8 * previous as f64 - 1e-9).ceil() as usize;
                    assert!(
                        l >= low.max(2) && l <= previous,
                        "{l} not in [{low}, {previous}]"
                    );
                    saw_low |= l == low && low < previous;
                    saw_high |= l == previous;
                }
                previous = l;
            }
        }
        assert!(
            saw_low && saw_high,
            "both ends of the inclusive interval occur"
        );
    }

    #[test]
    fn layer_drop_rate_is_p() {
        let sampler = config(0.2);
        let mut rng = StdRng::seed_from_u64(11);
        let draws = 20_000;
        let dropped: usize = (0..draws)
            .map(|_| sampler.layer_drop(&mut rng).iter().filter(|&&d| d).count())
            .sum();
        let rate = dropped as f64 / (draws * 6) as f64;
        // 120k Bernoulli(0.2) draws: standard error 0.0012, so 0.01 is over 8 sigma.
        assert!((rate - 0.2).abs() < 0.01, "rate {rate}");
        assert!(config(0.0).layer_drop(&mut rng).iter().all(|&d| !d));
    }

    #[test]
    fn full_length_config_keeps_everything() {
        let c = config(0.0).full(vec![false; 6]).to_config(128);
        assert_eq!(c, LengthConfig::keep_all(6));
    }
}
