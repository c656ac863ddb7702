//! The evolutionary search (reference notes, section 5) with the Pareto fix, an attempt cap
//! and optional depth.
//!
//! Whether a child enters the population depends only on its cost (within the window) and
//! novelty, never on a score, so each iteration first breeds all its children and then has
//! them scored in one call: the fitness can batch them, and the run is the same as the
//! reference's one-at-a-time loop for a given seed.

use std::collections::{HashMap, HashSet};

use lat_model::LengthConfig;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::cost::CostModel;
use crate::error::GeneError;
use crate::gene::Gene;
use crate::ops::{crossover, mutate, mutate_depth};
use crate::pareto::{Point, front_area, pareto_front};

/// Scores genes on the dev set.
pub trait Fitness {
    /// Why scoring failed.
    type Error;
    /// Dev score of the model at each configuration, in order.
    fn scores(&mut self, configs: &[LengthConfig]) -> Result<Vec<f64>, Self::Error>;
}

/// Search parameters; the defaults are the paper's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchConfig {
    /// Iterations G.
    pub iterations: usize,
    /// Constant-ratio genes in the initial population.
    pub population_size: usize,
    /// Mutations n_m per iteration.
    pub mutation_size: usize,
    /// Crossovers n_c per iteration.
    pub crossover_size: usize,
    /// Per-layer resampling probability p_m.
    pub mutation_prob: f64,
    /// The cheapest gene keeps 1 - bound per layer (the LengthDrop bound).
    pub length_drop_ratio_bound: f64,
    /// Per-layer skip-toggle probability of each mutation; `None` searches length only.
    pub depth_mutation_prob: Option<f64>,
    /// Breeding attempts allowed per wanted child before an iteration gives up.
    pub attempts_per_child: usize,
    /// RNG seed.
    pub seed: u64,
}

impl Default for SearchConfig {
    fn default() -> Self {
        Self {
            iterations: 30,
            population_size: 20,
            mutation_size: 30,
            crossover_size: 30,
            mutation_prob: 0.5,
            length_drop_ratio_bound: 0.2,
            depth_mutation_prob: None,
            attempts_per_child: 100,
            seed: 42,
        }
    }
}

/// How a gene was born.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Birth {
    /// The search window's ends (cheapest gene, full model).
    Bound,
    /// Constant-ratio initial population.
    Init,
    /// Mutation of one parent.
    Mutation,
    /// Crossover of two parents.
    Crossover,
}

/// One evaluated gene.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// The gene.
    pub gene: Gene,
    /// Mean FLOPs over the dev set (true lengths).
    pub mean_flops: f64,
    /// Dev score.
    pub score: f64,
    /// How it was born.
    pub birth: Birth,
    /// Record indices of its parents.
    pub parents: Vec<usize>,
    /// Iteration that bred it (0: before the first).
    pub iteration: usize,
}

/// The state after one iteration's Pareto step.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IterationSummary {
    /// Iteration t.
    pub iteration: usize,
    /// Points on the front.
    pub front_size: usize,
    /// Normalised area under the front.
    pub area: f64,
    /// Genes scored so far (children outside the window are never scored).
    pub evaluated: usize,
    /// Best score on the front.
    pub best_score: f64,
}

/// Everything a search produced.
#[derive(Debug, Clone)]
pub struct SearchOutcome {
    /// Every evaluated gene, in order of birth.
    pub records: Vec<Record>,
    /// Record indices of the final front, by ascending cost.
    pub front: Vec<usize>,
    /// One summary per iteration.
    pub history: Vec<IterationSummary>,
    /// Cost of the cheapest allowed gene.
    pub lower: f64,
    /// Cost of the full model.
    pub upper: f64,
}

/// Why a search stopped.
#[derive(Debug, Error)]
pub enum SearchError<E: std::fmt::Display> {
    /// A gene could not be costed (a bug in the operators).
    #[error(transparent)]
    Gene(#[from] GeneError),
    /// The fitness failed.
    #[error("evaluation failed: {0}")]
    Fitness(E),
}

struct Store<'a> {
    cost: &'a CostModel,
    known: &'a HashMap<Gene, f64>,
    records: Vec<Record>,
    index: HashMap<Gene, usize>,
    pending: Vec<usize>,
}

impl Store<'_> {
    /// Record index of `gene`, adding it (to be scored) if new.
    fn insert(
        &mut self,
        gene: Gene,
        birth: Birth,
        parents: Vec<usize>,
        iteration: usize,
    ) -> Result<usize, GeneError> {
        if let Some(&i) = self.index.get(&gene) {
            return Ok(i);
        }
        let mean_flops = self.cost.mean_flops(&gene)?;
        let i = self.records.len();
        self.index.insert(gene.clone(), i);
        self.records.push(Record {
            gene,
            mean_flops,
            score: f64::NAN,
            birth,
            parents,
            iteration,
        });
        self.pending.push(i);
        Ok(i)
    }

    fn score_pending<F: Fitness>(&mut self, fitness: &mut F) -> Result<(), SearchError<F::Error>>
    where
        F::Error: std::fmt::Display,
    {
        let mut unknown = Vec::new();
        for &i in &self.pending {
            match self.known.get(&self.records[i].gene) {
                Some(&score) => self.records[i].score = score,
                None => unknown.push(i),
            }
        }
        let configs = unknown
            .iter()
            .map(|&i| self.cost.space.config(&self.records[i].gene))
            .collect::<Result<Vec<_>, _>>()?;
        let scores = fitness.scores(&configs).map_err(SearchError::Fitness)?;
        for (&i, score) in unknown.iter().zip(scores) {
            self.records[i].score = score;
        }
        self.pending.clear();
        Ok(())
    }
}

/// Runs the search. Genes in `known` take that score without evaluation (a previous run's
/// store: the run is deterministic, so replaying it with its own store resumes it).
/// `on_iteration` sees every iteration's summary and the records so far (some of which may be
/// outside the window and unscored, `NaN`).
pub fn run_search<F: Fitness>(
    cost: &CostModel,
    fitness: &mut F,
    config: &SearchConfig,
    known: &HashMap<Gene, f64>,
    mut on_iteration: impl FnMut(&IterationSummary, &[Record]),
) -> Result<SearchOutcome, SearchError<F::Error>>
where
    F::Error: std::fmt::Display,
{
    let space = cost.space;
    let mut rng = StdRng::seed_from_u64(config.seed);
    let mut store = Store {
        cost,
        known,
        records: Vec::new(),
        index: HashMap::new(),
        pending: Vec::new(),
    };
    let cheapest = space.constant_rate(config.length_drop_ratio_bound);
    let low = store.insert(cheapest, Birth::Bound, vec![], 0)?;
    let high = store.insert(space.full(), Birth::Bound, vec![], 0)?;
    let (lower, upper) = (
        store.records[low].mean_flops,
        store.records[high].mean_flops,
    );
    let mut population = vec![low];
    let init = initial_rates(cost, config)?
        .into_iter()
        .map(|rate| (space.constant_rate(rate), Birth::Init));
    for (gene, birth) in std::iter::once((space.full(), Birth::Bound)).chain(init) {
        let i = store.insert(gene, birth, vec![], 0)?;
        if !population.contains(&i) {
            population.push(i);
        }
    }
    store.score_pending(fitness)?;

    let within = |f: f64| f >= lower && f <= upper;
    let mut history = Vec::new();
    for t in 0..=config.iterations {
        let points: Vec<Point> = population
            .iter()
            .map(|&i| point(&store.records[i]))
            .collect();
        population = pareto_front(&points)
            .into_iter()
            .map(|k| population[k])
            .collect();
        let front: Vec<Point> = population
            .iter()
            .map(|&i| point(&store.records[i]))
            .collect();
        let summary = IterationSummary {
            iteration: t,
            front_size: front.len(),
            area: front_area(&front, lower, upper),
            evaluated: store.records.iter().filter(|r| !r.score.is_nan()).count(),
            best_score: front
                .iter()
                .map(|p| p.score)
                .fold(f64::NEG_INFINITY, f64::max),
        };
        on_iteration(&summary, &store.records);
        history.push(summary);
        if t == config.iterations {
            break;
        }

        let mut members: HashSet<usize> = population.iter().copied().collect();
        for birth in [Birth::Mutation, Birth::Crossover] {
            let wanted = match birth {
                Birth::Mutation => config.mutation_size,
                _ => config.crossover_size,
            };
            let mut added = 0;
            let mut attempts = 0;
            while added < wanted && attempts < wanted * config.attempts_per_child {
                attempts += 1;
                let Some((gene, parents)) =
                    breed(&store.records, &population, birth, config, &space, &mut rng)
                else {
                    break;
                };
                let i = store.insert(gene, birth, parents, t + 1)?;
                if within(store.records[i].mean_flops) && members.insert(i) {
                    population.push(i);
                    added += 1;
                }
            }
        }
        // Genes outside the window are never scored, as in the reference.
        let (keep, drop): (Vec<usize>, Vec<usize>) = store
            .pending
            .iter()
            .partition(|&&i| within(store.records[i].mean_flops));
        for i in drop {
            store.index.remove(&store.records[i].gene);
        }
        store.pending = keep;
        store.score_pending(fitness)?;
    }
    let records = store.records;
    // Out-of-window genes were never scored; they are not part of the outcome.
    let kept: Vec<usize> = (0..records.len())
        .filter(|&i| !records[i].score.is_nan())
        .collect();
    let renumber: HashMap<usize, usize> = kept
        .iter()
        .enumerate()
        .map(|(new, &old)| (old, new))
        .collect();
    let records: Vec<Record> = kept
        .iter()
        .map(|&i| {
            let mut r = records[i].clone();
            r.parents = r
                .parents
                .iter()
                .filter_map(|p| renumber.get(p).copied())
                .collect();
            r
        })
        .collect();
    let mut front: Vec<usize> = population.iter().map(|i| renumber[i]).collect();
    front.sort_by(|&a, &b| records[a].mean_flops.total_cmp(&records[b].mean_flops));
    Ok(SearchOutcome {
        records,
        front,
        history,
        lower,
        upper,
    })
}

fn point(record: &Record) -> Point {
    Point {
        cost: record.mean_flops,
        score: record.score,
    }
}

/// One child of the current population, or `None` when it is too small to breed.
fn breed(
    records: &[Record],
    population: &[usize],
    birth: Birth,
    config: &SearchConfig,
    space: &crate::gene::GeneSpace,
    rng: &mut StdRng,
) -> Option<(Gene, Vec<usize>)> {
    match birth {
        Birth::Crossover => {
            if population.len() < 2 {
                return None;
            }
            let a = population[rng.random_range(0..population.len())];
            let mut b = a;
            while b == a {
                b = population[rng.random_range(0..population.len())];
            }
            Some((
                crossover(space, &records[a].gene, &records[b].gene),
                vec![a, b],
            ))
        }
        _ => {
            let p = *population.get(rng.random_range(0..population.len().max(1)))?;
            let mut child = mutate(space, &records[p].gene, config.mutation_prob, rng);
            if let Some(prob) = config.depth_mutation_prob {
                child = mutate_depth(space, &child, prob, rng);
            }
            Some((child, vec![p]))
        }
    }
}

/// Constant rates whose genes spread evenly in cost between the window's ends: target j of
/// P sits at lower + (upper - lower) j / (P + 1), inverted by bisection on the rate.
fn initial_rates(cost: &CostModel, config: &SearchConfig) -> Result<Vec<f64>, GeneError> {
    let space = cost.space;
    let f = |rate: f64| cost.mean_flops(&space.constant_rate(rate));
    let bound = config.length_drop_ratio_bound;
    let (lower, upper) = (f(bound)?, f(0.0)?);
    let p = config.population_size;
    let mut rates = Vec::with_capacity(p);
    for j in 1..=p {
        let target = lower + (upper - lower) * j as f64 / (p + 1) as f64;
        // Cost falls as the rate grows: find the rate where it crosses the target.
        let (mut cheap, mut dear) = (bound, 0.0);
        for _ in 0..40 {
            let mid = 0.5 * (cheap + dear);
            if f(mid)? > target {
                dear = mid;
            } else {
                cheap = mid;
            }
        }
        let closer = if (f(cheap)? - target).abs() <= (f(dear)? - target).abs() {
            cheap
        } else {
            dear
        };
        rates.push(closer);
    }
    Ok(rates)
}
