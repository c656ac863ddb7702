//! Length configurations: how many tokens each layer keeps (LengthDrop at inference).
//!
//! The reference implementation stores absolute lengths for a fixed padded length T, so on
//! short inputs most of its "savings" is dropped padding. lat pads nothing it need not pad,
//! so a configuration is a non-increasing vector of keep ratios r_1..r_L in (0, 1], applied to
//! each input's own length n: layer i outputs k_i = max(2, ceil(r_i * n)) tokens, never more
//! than the layer before. Layers may also be skipped outright (LayerDrop at inference); a
//! skipped layer costs nothing and carries the previous count over.

use crate::error::LengthConfigError;

/// Slack for `ceil(r * n)`: ratios are usually quantised to multiples of 1/T, and
/// `(j / T) * T` must give `j`, not `j + 1`, after rounding error.
const CEIL_SLACK: f64 = 1e-9;

/// Fewest tokens a layer may keep, as in the reference.
pub const MIN_KEPT: usize = 2;

/// Per-layer keep ratios plus an optional set of skipped layers. An argument to `forward`,
/// never model state.
#[derive(Debug, Clone, PartialEq)]
pub struct LengthConfig {
    ratios: Vec<f64>,
    skipped: Vec<bool>,
}

impl LengthConfig {
    /// Builds a configuration from per-layer keep ratios (non-increasing, each in (0, 1]).
    pub fn new(ratios: Vec<f64>) -> Result<Self, LengthConfigError> {
        if ratios.is_empty() {
            return Err(LengthConfigError::Empty);
        }
        for (layer, &ratio) in ratios.iter().enumerate() {
            if !(ratio > 0.0 && ratio <= 1.0) {
                return Err(LengthConfigError::RatioOutOfRange { layer, ratio });
            }
            if layer > 0 && ratio > ratios[layer - 1] {
                let previous = ratios[layer - 1];
                return Err(LengthConfigError::Increasing {
                    layer,
                    previous,
                    ratio,
                });
            }
        }
        let skipped = vec![false; ratios.len()];
        Ok(Self { ratios, skipped })
    }

    /// Every layer keeps every token: the plain model.
    pub fn keep_all(num_layers: usize) -> Self {
        Self {
            ratios: vec![1.0; num_layers],
            skipped: vec![false; num_layers],
        }
    }

    /// Constant-rate reduction (the paper's baseline curve): each layer keeps `rate` of the
    /// tokens the layer before kept, i.e. r_i = rate^i.
    pub fn constant_rate(num_layers: usize, rate: f64) -> Result<Self, LengthConfigError> {
        Self::new((1..=num_layers).map(|i| rate.powi(i as i32)).collect())
    }

    /// Marks layers (0-based) to be skipped entirely.
    pub fn with_skipped_layers(mut self, layers: &[usize]) -> Result<Self, LengthConfigError> {
        for &layer in layers {
            let num_layers = self.num_layers();
            if layer >= num_layers {
                return Err(LengthConfigError::SkippedOutOfRange { layer, num_layers });
            }
            self.skipped[layer] = true;
        }
        Ok(self)
    }

    /// Number of layers the configuration is written for.
    pub fn num_layers(&self) -> usize {
        self.ratios.len()
    }

    /// The per-layer keep ratios.
    pub fn ratios(&self) -> &[f64] {
        &self.ratios
    }

    /// Whether layer `layer` (0-based) is skipped.
    pub fn is_skipped(&self, layer: usize) -> bool {
        self.skipped[layer]
    }

    /// Indices of the skipped layers, ascending.
    pub fn skipped_layers(&self) -> Vec<usize> {
        (0..self.num_layers())
            .filter(|&l| self.skipped[l])
            .collect()
    }

    /// Tokens each layer outputs for an input of `n` real tokens.
    ///
    /// k_i = min(k_{i-1}, max(2, ceil(r_i * n))) with k_0 = n; a skipped layer keeps k_{i-1}.
    pub fn keep_counts(&self, n: usize) -> Vec<usize> {
        let mut previous = n;
        self.ratios
            .iter()
            .zip(&self.skipped)
            .map(|(&ratio, &skipped)| {
                if !skipped {
                    let wanted = (ratio * n as f64 - CEIL_SLACK).ceil() as usize;
                    previous = previous.min(wanted.max(MIN_KEPT));
                }
                previous
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keep_counts_follow_the_formula() {
        let config = LengthConfig::new(vec![0.9, 0.6, 0.5, 0.1]).expect("valid");
        // n = 10: ceil(9.0) = 9, ceil(6.0) = 6, ceil(5.0) = 5, ceil(1.0) = 1 -> 2.
        assert_eq!(config.keep_counts(10), vec![9, 6, 5, 2]);
        // n = 7: ceil(6.3) = 7, ceil(4.2) = 5, ceil(3.5) = 4, ceil(0.7) = 1 -> 2.
        assert_eq!(config.keep_counts(7), vec![7, 5, 4, 2]);
        // n = 2 never goes below the two special tokens.
        assert_eq!(config.keep_counts(2), vec![2, 2, 2, 2]);
    }

    #[test]
    fn quantised_ratios_round_to_the_reference_lengths() {
        // Ratios j/T at n = T reproduce the absolute reference lengths exactly.
        let t = 384usize;
        let lengths = [308usize, 247, 198, 159, 128, 103];
        let ratios = lengths.iter().map(|&l| l as f64 / t as f64).collect();
        let config = LengthConfig::new(ratios).expect("valid");
        assert_eq!(config.keep_counts(t), lengths.to_vec());
    }

    #[test]
    fn skipped_layers_carry_the_count_over() {
        let config = LengthConfig::new(vec![0.8, 0.5, 0.5, 0.3])
            .and_then(|c| c.with_skipped_layers(&[0, 2]))
            .expect("valid");
        // Layer 0 skipped: 10; layer 1: 5; layer 2 skipped: 5; layer 3: 3.
        assert_eq!(config.keep_counts(10), vec![10, 5, 5, 3]);
        assert_eq!(config.skipped_layers(), vec![0, 2]);
    }

    #[test]
    fn constant_rate_compounds_per_layer() {
        let config = LengthConfig::constant_rate(3, 0.5).expect("valid");
        assert_eq!(config.ratios(), &[0.5, 0.25, 0.125]);
        assert_eq!(config.keep_counts(16), vec![8, 4, 2]);
    }

    #[test]
    fn rejects_bad_configurations() {
        assert_eq!(LengthConfig::new(vec![]), Err(LengthConfigError::Empty));
        assert!(matches!(
            LengthConfig::new(vec![1.0, 0.0]),
            Err(LengthConfigError::RatioOutOfRange { layer: 1, .. })
        ));
        assert!(matches!(
            LengthConfig::new(vec![0.5, 0.7]),
            Err(LengthConfigError::Increasing { layer: 1, .. })
        ));
        assert!(matches!(
            LengthConfig::keep_all(2).with_skipped_layers(&[2]),
            Err(LengthConfigError::SkippedOutOfRange {
                layer: 2,
                num_layers: 2
            })
        ));
        assert!(LengthConfig::new(vec![f64::NAN]).is_err());
    }
}
