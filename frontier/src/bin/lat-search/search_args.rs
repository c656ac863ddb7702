//! The search flags every task shares (paper defaults).

use clap::Args;
use lat_frontier::SearchConfig;

/// Evolutionary-search flags.
#[derive(Args, Debug, Clone)]
pub struct SearchArgs {
    /// Iterations G.
    #[arg(long, default_value_t = 30)]
    pub iterations: usize,
    /// Initial constant-ratio genes.
    #[arg(long, default_value_t = 20)]
    pub population_size: usize,
    /// Mutations per iteration.
    #[arg(long, default_value_t = 30)]
    pub mutation_size: usize,
    /// Crossovers per iteration.
    #[arg(long, default_value_t = 30)]
    pub crossover_size: usize,
    /// Per-layer mutation probability.
    #[arg(long, default_value_t = 0.5)]
    pub mutation_prob: f64,
    /// The cheapest gene keeps 1 - bound per layer.
    #[arg(long, default_value_t = 0.2)]
    pub length_drop_ratio_bound: f64,
    /// Also search depth (skipped layers, LayerDrop at inference).
    #[arg(long)]
    pub depth: bool,
    /// Per-layer skip-toggle probability of a mutation when --depth is on.
    #[arg(long, default_value_t = 0.1)]
    pub depth_mutation_prob: f64,
    /// Breeding attempts allowed per wanted child.
    #[arg(long, default_value_t = 100)]
    pub attempts_per_child: usize,
    /// RNG seed.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Continue an interrupted search in --output: genes in its store.tsv are not re-scored.
    #[arg(long)]
    pub resume: bool,
    /// cpu or wgpu.
    #[arg(long, default_value = "cpu")]
    pub device: String,
}

impl SearchArgs {
    /// The search configuration these flags describe.
    pub fn config(&self) -> SearchConfig {
        SearchConfig {
            iterations: self.iterations,
            population_size: self.population_size,
            mutation_size: self.mutation_size,
            crossover_size: self.crossover_size,
            mutation_prob: self.mutation_prob,
            length_drop_ratio_bound: self.length_drop_ratio_bound,
            depth_mutation_prob: self.depth.then_some(self.depth_mutation_prob),
            attempts_per_child: self.attempts_per_child,
            seed: self.seed,
        }
    }
}
