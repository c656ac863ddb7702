//! The cost of a gene on a dev set: mean FLOPs at each input's true length, from the one
//! FLOPs function in `lat-model`.

use lat_model::flops::{Architecture, Head, flops};

use crate::error::GeneError;
use crate::gene::{Gene, GeneSpace};

/// Everything the cost of a gene depends on.
#[derive(Debug, Clone)]
pub struct CostModel {
    /// Model shape.
    pub arch: Architecture,
    /// Task head.
    pub head: Head,
    /// The search space (T turns gene lengths into ratios).
    pub space: GeneSpace,
    /// Real token count of every dev input.
    pub dev_lengths: Vec<usize>,
}

impl CostModel {
    /// Mean FLOPs per dev input under `gene` (true-length accounting: what lat bills).
    pub fn mean_flops(&self, gene: &Gene) -> Result<f64, GeneError> {
        let config = self.space.config(gene)?;
        let total: f64 = self
            .dev_lengths
            .iter()
            .map(|&n| flops(&self.arch, &config, n, self.head) as f64)
            .sum();
        Ok(total / self.dev_lengths.len().max(1) as f64)
    }

    /// FLOPs of one input padded to T (the paper's accounting), for comparison only.
    pub fn padded_flops(&self, gene: &Gene) -> Result<f64, GeneError> {
        let config = self.space.config(gene)?;
        Ok(flops(&self.arch, &config, self.space.max_length, self.head) as f64)
    }
}

#[cfg(test)]
mod tests {
    use lat_model::flops::Family;

    use super::*;

    #[test]
    fn mean_over_true_lengths() {
        let arch = Architecture {
            family: Family::Bert,
            num_layers: 2,
            hidden_size: 4,
            intermediate_size: 8,
        };
        let space = GeneSpace {
            num_layers: 2,
            max_length: 10,
        };
        let model = CostModel {
            arch,
            head: Head::SequenceClassification { num_labels: 2 },
            space,
            dev_lengths: vec![5, 10],
        };
        let gene = Gene::new(vec![6, 4]);
        let config = space.config(&gene).expect("valid");
        let expected = (flops(&arch, &config, 5, model.head)
            + flops(&arch, &config, 10, model.head)) as f64
            / 2.0;
        assert_eq!(model.mean_flops(&gene).expect("valid"), expected);
        // Ratios (0.6, 0.4) at n = 5 keep (3, 2): 1205 MACs by hand in lat-model's tests.
        assert_eq!(flops(&arch, &config, 5, model.head), 2410);
        assert_eq!(
            model.padded_flops(&gene).expect("valid"),
            flops(&arch, &config, 10, model.head) as f64
        );
    }
}
