//! Genes: the search's encoding of a length configuration.
//!
//! A gene stores per-layer lengths as numerators over the task's max length T (so ratios
//! are multiples of 1/T and genes hash), plus the layers it skips. At n = T its keep counts
//! are exactly the reference's absolute lengths; on shorter inputs they scale with n.

use lat_model::{LengthConfig, MIN_KEPT};
use serde::{Deserialize, Serialize};

use crate::error::GeneError;

/// One point of the search space.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Gene {
    /// ℓ_1..ℓ_L: layer i keeps ℓ_i / T of the input's tokens.
    pub lengths: Vec<usize>,
    /// Skipped layers (0-based, ascending): LayerDrop at inference.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped_layers: Vec<usize>,
}

impl Gene {
    /// A gene that skips nothing.
    pub fn new(lengths: Vec<usize>) -> Self {
        Self {
            lengths,
            skipped_layers: Vec::new(),
        }
    }

    /// Whether layer `layer` is skipped.
    pub fn is_skipped(&self, layer: usize) -> bool {
        self.skipped_layers.contains(&layer)
    }

    /// `lengths;skipped` as in the TSV outputs, e.g. `103,83,67;2,5`.
    pub fn label(&self) -> String {
        let join = |v: &[usize]| v.iter().map(usize::to_string).collect::<Vec<_>>().join(",");
        if self.skipped_layers.is_empty() {
            join(&self.lengths)
        } else {
            format!("{};{}", join(&self.lengths), join(&self.skipped_layers))
        }
    }
}

impl std::str::FromStr for Gene {
    type Err = String;

    /// Parses [`Gene::label`]'s form, `103,83,67` or `103,83,67;2`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let numbers = |part: &str| -> Result<Vec<usize>, String> {
            part.split(',')
                .filter(|p| !p.is_empty())
                .map(|p| {
                    p.trim()
                        .parse()
                        .map_err(|_| format!("`{text}` is not a gene"))
                })
                .collect()
        };
        let (lengths, skipped) = text.split_once(';').unwrap_or((text, ""));
        Ok(Self {
            lengths: numbers(lengths)?,
            skipped_layers: numbers(skipped)?,
        })
    }
}

/// The shape of the search space: depth L and max length T.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GeneSpace {
    /// Encoder layers L.
    pub num_layers: usize,
    /// The task's max length T; lengths are numerators over it.
    pub max_length: usize,
}

impl GeneSpace {
    /// Every layer keeps every token.
    pub fn full(&self) -> Gene {
        Gene::new(vec![self.max_length; self.num_layers])
    }

    /// The reference's constant-ratio gene: ℓ_i = ceil(ℓ_{i-1} (1 - rate)), ℓ_0 = T,
    /// at least 2. `rate` 0.2 gives the search's cheapest gene.
    pub fn constant_rate(&self, rate: f64) -> Gene {
        let mut previous = self.max_length;
        let lengths = (0..self.num_layers)
            .map(|_| {
                // The slack keeps exact products (e.g. 125 * 0.8) from rounding up.
                let next = (previous as f64 * (1.0 - rate) - 1e-9).ceil() as usize;
                previous = next.clamp(MIN_KEPT, previous);
                previous
            })
            .collect();
        Gene::new(lengths)
    }

    /// Checks depth, range, monotonicity and the skipped set.
    pub fn validate(&self, gene: &Gene) -> Result<(), GeneError> {
        if gene.lengths.len() != self.num_layers {
            return Err(GeneError::Layers {
                expected: self.num_layers,
                found: gene.lengths.len(),
            });
        }
        for (layer, &length) in gene.lengths.iter().enumerate() {
            if length == 0 || length > self.max_length {
                return Err(GeneError::Length {
                    layer,
                    length,
                    max_length: self.max_length,
                });
            }
            if layer > 0 && length > gene.lengths[layer - 1] {
                return Err(GeneError::Increasing { layer });
            }
        }
        let ascending = gene.skipped_layers.windows(2).all(|w| w[0] < w[1]);
        let in_range = gene.skipped_layers.iter().all(|&l| l < self.num_layers);
        if !ascending || !in_range || gene.skipped_layers.len() >= self.num_layers {
            return Err(GeneError::Skipped {
                skipped: gene.skipped_layers.clone(),
            });
        }
        Ok(())
    }

    /// The same behaviour written one way: a skipped layer carries the previous length, so
    /// genes that differ only in a skipped layer's (unused) length hash alike.
    pub fn canonical(&self, mut gene: Gene) -> Gene {
        let mut previous = self.max_length;
        for layer in 0..gene.lengths.len() {
            if gene.is_skipped(layer) {
                gene.lengths[layer] = previous;
            }
            previous = gene.lengths[layer];
        }
        gene
    }

    /// The configuration `forward` takes: ratios ℓ_i / T and the skipped layers.
    pub fn config(&self, gene: &Gene) -> Result<LengthConfig, GeneError> {
        self.validate(gene)?;
        let ratios = gene
            .lengths
            .iter()
            .map(|&l| l as f64 / self.max_length as f64)
            .collect();
        let config = LengthConfig::new(ratios)?;
        Ok(config.with_skipped_layers(&gene.skipped_layers)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_rate_matches_the_reference_lower_bound() {
        let space = GeneSpace {
            num_layers: 12,
            max_length: 128,
        };
        let lengths = [103, 83, 67, 54, 44, 36, 29, 24, 20, 16, 13, 11];
        assert_eq!(space.constant_rate(0.2).lengths, lengths);
        assert_eq!(space.constant_rate(0.0), space.full());
        // ceil(10 * 0.5) = 5, 3, 2, then the floor of 2.
        let small = GeneSpace {
            num_layers: 5,
            max_length: 10,
        };
        assert_eq!(small.constant_rate(0.5).lengths, vec![5, 3, 2, 2, 2]);
    }

    #[test]
    fn configs_apply_ratios_to_the_input_length() {
        let space = GeneSpace {
            num_layers: 3,
            max_length: 128,
        };
        let config = space.config(&Gene::new(vec![103, 83, 67])).expect("valid");
        assert_eq!(config.keep_counts(128), vec![103, 83, 67]);
        // n = 20: ceil(16.09) = 17, ceil(12.97) = 13, ceil(10.47) = 11.
        assert_eq!(config.keep_counts(20), vec![17, 13, 11]);
    }

    #[test]
    fn validation_and_canonical_form() {
        let space = GeneSpace {
            num_layers: 3,
            max_length: 10,
        };
        let bad = |lengths: Vec<usize>, skipped: Vec<usize>| {
            space.validate(&Gene {
                lengths,
                skipped_layers: skipped,
            })
        };
        assert!(bad(vec![9, 8, 7], vec![]).is_ok());
        assert!(matches!(
            bad(vec![9, 8], vec![]),
            Err(GeneError::Layers { .. })
        ));
        assert!(matches!(
            bad(vec![11, 8, 7], vec![]),
            Err(GeneError::Length { layer: 0, .. })
        ));
        assert!(matches!(
            bad(vec![9, 0, 0], vec![]),
            Err(GeneError::Length { layer: 1, .. })
        ));
        assert!(matches!(
            bad(vec![8, 9, 7], vec![]),
            Err(GeneError::Increasing { layer: 1 })
        ));
        assert!(matches!(
            bad(vec![9, 8, 7], vec![2, 1]),
            Err(GeneError::Skipped { .. })
        ));
        assert!(matches!(
            bad(vec![9, 8, 7], vec![0, 1, 2]),
            Err(GeneError::Skipped { .. })
        ));
        let gene = Gene {
            lengths: vec![9, 5, 4],
            skipped_layers: vec![1],
        };
        let canonical = space.canonical(gene);
        assert_eq!(canonical.lengths, vec![9, 9, 4]);
        assert_eq!(canonical.label(), "9,9,4;1");
        assert_eq!(canonical.label().parse::<Gene>(), Ok(canonical));
        assert_eq!("9,8".parse::<Gene>(), Ok(Gene::new(vec![9, 8])));
        assert!("9,x".parse::<Gene>().is_err());
    }
}
