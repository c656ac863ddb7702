//! The search's variation operators (reference notes, section 5, steps 4 and 5), plus depth
//! mutation for genes that may skip layers.

use rand::Rng;

use crate::gene::{Gene, GeneSpace};

/// Floor of a gene's last length, as in the reference.
const MIN_LENGTH: usize = 2;

/// Resamples each layer with probability `prob` within its neighbours' bounds: layer i draws
/// from [parent ℓ_{i+1} (2 for the last), child ℓ_{i-1} (T for the first)], so the child stays
/// non-increasing; the other layers copy the parent.
pub fn mutate(space: &GeneSpace, parent: &Gene, prob: f64, rng: &mut impl Rng) -> Gene {
    let layers = parent.lengths.len();
    let mut lengths = Vec::with_capacity(layers);
    for i in 0..layers {
        let hi = if i == 0 {
            space.max_length
        } else {
            lengths[i - 1]
        };
        let lo = parent
            .lengths
            .get(i + 1)
            .copied()
            .unwrap_or(MIN_LENGTH)
            .min(hi);
        let length = if rng.random_bool(prob) {
            rng.random_range(lo..=hi)
        } else {
            parent.lengths[i].min(hi)
        };
        lengths.push(length);
    }
    space.canonical(Gene {
        lengths,
        skipped_layers: parent.skipped_layers.clone(),
    })
}

/// Toggles each layer's skip flag with probability `prob`, never skipping every layer.
pub fn mutate_depth(space: &GeneSpace, parent: &Gene, prob: f64, rng: &mut impl Rng) -> Gene {
    let mut skipped: Vec<bool> = (0..space.num_layers)
        .map(|l| parent.is_skipped(l))
        .collect();
    for layer in 0..space.num_layers {
        if rng.random_bool(prob) {
            skipped[layer] = !skipped[layer];
            if skipped.iter().all(|&s| s) {
                skipped[layer] = false;
            }
        }
    }
    space.canonical(Gene {
        lengths: parent.lengths.clone(),
        skipped_layers: (0..space.num_layers).filter(|&l| skipped[l]).collect(),
    })
}

/// The rounded-up mean of two parents, layer by layer; a layer is skipped only if both
/// parents skip it (the rounded-up mean of "kept" flags).
pub fn crossover(space: &GeneSpace, a: &Gene, b: &Gene) -> Gene {
    let lengths = a
        .lengths
        .iter()
        .zip(&b.lengths)
        .map(|(&x, &y)| (x + y).div_ceil(2))
        .collect();
    let skipped_layers = a
        .skipped_layers
        .iter()
        .copied()
        .filter(|l| b.is_skipped(*l))
        .collect();
    space.canonical(Gene {
        lengths,
        skipped_layers,
    })
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;

    const SPACE: GeneSpace = GeneSpace {
        num_layers: 6,
        max_length: 64,
    };

    #[test]
    fn mutations_stay_within_the_neighbours_bounds() {
        let mut rng = StdRng::seed_from_u64(7);
        let parent = Gene::new(vec![60, 50, 40, 30, 20, 10]);
        let mut changed = [0usize; 6];
        for _ in 0..2000 {
            let child = mutate(&SPACE, &parent, 0.5, &mut rng);
            SPACE.validate(&child).expect("a valid gene");
            for (i, count) in changed.iter_mut().enumerate() {
                let lo = parent.lengths.get(i + 1).copied().unwrap_or(2);
                assert!(child.lengths[i] >= lo, "{child:?}");
                *count += usize::from(child.lengths[i] != parent.lengths[i]);
            }
        }
        // Each layer is redrawn half of the time and rarely lands on the parent's value.
        for count in changed {
            assert!((800..1050).contains(&count), "{changed:?}");
        }
        let same = mutate(&SPACE, &parent, 0.0, &mut rng);
        assert_eq!(same, parent);
    }

    #[test]
    fn crossover_is_the_rounded_up_mean() {
        let a = Gene {
            lengths: vec![64, 50, 41, 30, 20, 3],
            skipped_layers: vec![1, 4],
        };
        let b = Gene {
            lengths: vec![61, 40, 40, 31, 20, 2],
            skipped_layers: vec![4],
        };
        let child = crossover(&SPACE, &a, &b);
        // Means 62.5, 45, 40.5, 30.5, 20, 2.5 round up; layer 4 (skipped by both) carries 31.
        assert_eq!(child.lengths, vec![63, 45, 41, 31, 31, 3]);
        assert_eq!(child.skipped_layers, vec![4]);
        SPACE.validate(&child).expect("valid");
    }

    #[test]
    fn depth_mutation_never_skips_everything() {
        let mut rng = StdRng::seed_from_u64(3);
        let mut gene = SPACE.full();
        for _ in 0..500 {
            gene = mutate_depth(&SPACE, &gene, 0.9, &mut rng);
            SPACE.validate(&gene).expect("valid");
            assert!(gene.skipped_layers.len() < 6);
        }
    }
}
