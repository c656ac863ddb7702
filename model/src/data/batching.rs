//! Length-bucketed batching with dynamic padding: examples of similar length share a batch,
//! so little compute goes to padding, while the order stays random from epoch to epoch.

use rand::Rng;
use rand::seq::SliceRandom;

/// Batches per bucket: examples are shuffled, cut into pools of this many batches, sorted by
/// length inside each pool, and the resulting batches are shuffled again.
const BATCHES_PER_POOL: usize = 50;

/// Training batches (indices into `lengths`) for one epoch, in a random order drawn from
/// `rng`. Every index appears exactly once; the last batch of a pool may be short.
pub fn bucketed_batches<R: Rng>(
    lengths: &[usize],
    batch_size: usize,
    rng: &mut R,
) -> Vec<Vec<usize>> {
    assert!(batch_size > 0, "batch size must be positive");
    let mut order: Vec<usize> = (0..lengths.len()).collect();
    order.shuffle(rng);
    let mut batches: Vec<Vec<usize>> = Vec::new();
    for pool in order.chunks_mut(batch_size * BATCHES_PER_POOL) {
        // Stable sort: equal lengths keep their shuffled order.
        pool.sort_by_key(|&i| lengths[i]);
        batches.extend(pool.chunks(batch_size).map(<[usize]>::to_vec));
    }
    batches.shuffle(rng);
    batches
}

/// Evaluation batches: sorted by length for the least padding, in a fixed order.
pub fn sorted_batches(lengths: &[usize], batch_size: usize) -> Vec<Vec<usize>> {
    assert!(batch_size > 0, "batch size must be positive");
    let mut order: Vec<usize> = (0..lengths.len()).collect();
    order.sort_by_key(|&i| lengths[i]);
    order.chunks(batch_size).map(<[usize]>::to_vec).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn every_example_once_and_batches_are_homogeneous() {
        let lengths: Vec<usize> = (0..1000).map(|i| (i * 37) % 61 + 3).collect();
        let mut rng = StdRng::seed_from_u64(1);
        let batches = bucketed_batches(&lengths, 8, &mut rng);
        let mut seen: Vec<usize> = batches.iter().flatten().copied().collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..1000).collect::<Vec<_>>());
        // Within a pool of 400 examples sorted by length, a batch spans a narrow range.
        let spread: usize = batches
            .iter()
            .map(|b| {
                let l: Vec<usize> = b.iter().map(|&i| lengths[i]).collect();
                l.iter().max().unwrap_or(&0) - l.iter().min().unwrap_or(&0)
            })
            .sum();
        let mean_spread = spread as f64 / batches.len() as f64;
        assert!(mean_spread < 5.0, "mean spread {mean_spread}");
    }

    #[test]
    fn order_depends_on_the_seed_only() {
        let lengths: Vec<usize> = (0..300).map(|i| i % 17).collect();
        let a = bucketed_batches(&lengths, 4, &mut StdRng::seed_from_u64(5));
        let b = bucketed_batches(&lengths, 4, &mut StdRng::seed_from_u64(5));
        let c = bucketed_batches(&lengths, 4, &mut StdRng::seed_from_u64(6));
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn sorted_batches_cover_in_length_order() {
        let batches = sorted_batches(&[5, 1, 3, 2, 4], 2);
        assert_eq!(batches, vec![vec![1, 3], vec![2, 4], vec![0]]);
    }
}
