//! The search on toy fitnesses and on a tiny random model: determinism, the evaluation cache,
//! the attempt cap, exact fast evaluation and a search that finds a known best gene.

use std::collections::{HashMap, HashSet};

use burn::module::Param;
use burn::tensor::{Device, Tensor};
use lat_frontier::{
    Birth, CostModel, Fitness, Gene, GeneSpace, NaiveClassifier, SearchConfig, SearchOutcome,
    SharedPrefixClassifier, run_search,
};
use lat_model::flops::{Architecture, Head};
use lat_model::train::{ClassificationDevSet, TrainFeature};
use lat_model::{Batch, BertConfig, BertForSequenceClassification, Encoded, LengthConfig};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// A fitness that records every configuration it is asked for.
struct Recording<F: Fn(&LengthConfig) -> f64> {
    score: F,
    seen: Vec<Vec<f64>>,
}

impl<F: Fn(&LengthConfig) -> f64> Fitness for Recording<F> {
    type Error = std::convert::Infallible;
    fn scores(&mut self, configs: &[LengthConfig]) -> Result<Vec<f64>, Self::Error> {
        self.seen.extend(configs.iter().map(|c| {
            let mut key = c.ratios().to_vec();
            key.extend(c.skipped_layers().iter().map(|&l| -(l as f64) - 1.0));
            key
        }));
        Ok(configs.iter().map(&self.score).collect())
    }
}

fn cost_model(num_layers: usize, max_length: usize, dev_lengths: Vec<usize>) -> CostModel {
    let config = BertConfig::tiny(num_layers);
    CostModel {
        arch: Architecture::from(&config),
        head: Head::SequenceClassification { num_labels: 2 },
        space: GeneSpace {
            num_layers,
            max_length,
        },
        dev_lengths,
    }
}

/// Score rises with kept tokens but with diminishing returns, and skipping costs a lot.
fn smooth(c: &LengthConfig) -> f64 {
    let kept: f64 = c.ratios().iter().map(|r| r.sqrt()).sum();
    100.0 * kept / c.num_layers() as f64 - 7.0 * c.skipped_layers().len() as f64
}

fn search(config: &SearchConfig, cost: &CostModel) -> (SearchOutcome, Vec<Vec<f64>>) {
    let mut fitness = Recording {
        score: smooth,
        seen: Vec::new(),
    };
    let outcome =
        run_search(cost, &mut fitness, config, &HashMap::new(), |_, _| {}).expect("search");
    (outcome, fitness.seen)
}

#[test]
fn a_seed_fixes_the_run_and_every_gene_is_scored_once() {
    let cost = cost_model(6, 128, vec![20, 37, 64, 128]);
    let config = SearchConfig {
        iterations: 6,
        depth_mutation_prob: Some(0.1),
        ..SearchConfig::default()
    };
    let (a, seen) = search(&config, &cost);
    let (b, _) = search(&config, &cost);
    assert_eq!(a.records, b.records);
    assert_eq!(a.front, b.front);
    let (c, _) = search(
        &SearchConfig {
            seed: 7,
            ..config.clone()
        },
        &cost,
    );
    assert_ne!(a.records, c.records, "another seed breeds other genes");

    // The cache: no configuration is scored twice, and every record was scored.
    let unique: HashSet<String> = seen.iter().map(|k| format!("{k:?}")).collect();
    assert_eq!(unique.len(), seen.len(), "a gene was evaluated twice");
    assert_eq!(seen.len(), a.records.len());
    // 2 bounds + constant-ratio genes + at most 60 children per iteration.
    assert!(a.records.len() <= 2 + 20 + 6 * 60);
    assert!(a.records.iter().any(|r| r.birth == Birth::Crossover));
    assert!(a.records.iter().any(|r| !r.gene.skipped_layers.is_empty()));
    for r in &a.records {
        cost.space.validate(&r.gene).expect("valid gene");
        assert!(
            r.mean_flops >= a.lower && r.mean_flops <= a.upper,
            "outside the window"
        );
    }
    // The front is non-dominated, sorted and its area never shrinks.
    for w in a.front.windows(2) {
        let (p, q) = (&a.records[w[0]], &a.records[w[1]]);
        assert!(p.mean_flops < q.mean_flops && p.score < q.score);
    }
    for w in a.history.windows(2) {
        assert!(w[1].area >= w[0].area - 1e-12, "{:?}", a.history);
    }
}

#[test]
fn a_known_store_replays_the_run_without_evaluating() {
    let cost = cost_model(6, 128, vec![20, 37, 64, 128]);
    let config = SearchConfig {
        iterations: 4,
        ..SearchConfig::default()
    };
    let (first, _) = search(&config, &cost);
    // Resume as after an interruption: the first records are known, the rest is not.
    let known: HashMap<Gene, f64> = first
        .records
        .iter()
        .take(60)
        .map(|r| (r.gene.clone(), r.score))
        .collect();
    let mut fitness = Recording {
        score: smooth,
        seen: Vec::new(),
    };
    let replay = run_search(&cost, &mut fitness, &config, &known, |_, _| {}).expect("search");
    assert_eq!(replay.records, first.records);
    assert_eq!(fitness.seen.len(), first.records.len() - 60);
}

#[test]
fn the_initial_population_spreads_in_cost() {
    let cost = cost_model(6, 128, vec![128]);
    let config = SearchConfig {
        iterations: 0,
        ..SearchConfig::default()
    };
    let (outcome, _) = search(&config, &cost);
    let init: Vec<f64> = outcome
        .records
        .iter()
        .filter(|r| r.birth == Birth::Init)
        .map(|r| r.mean_flops)
        .collect();
    assert!(init.len() >= 15, "{init:?}");
    let step = (outcome.upper - outcome.lower) / 21.0;
    for j in 1..=20 {
        let target = outcome.lower + step * j as f64;
        let nearest = init
            .iter()
            .map(|f| (f - target).abs())
            .fold(f64::INFINITY, f64::min);
        assert!(
            nearest < 0.5 * step,
            "no initial gene near target {j}: {init:?}"
        );
    }
    let cheapest = &outcome.records[0];
    assert_eq!(cheapest.gene.lengths, vec![103, 83, 67, 54, 44, 36]);
}

#[test]
fn a_tiny_space_cannot_make_the_search_spin() {
    // T = 2, one layer: only genes (2) and (1); children rarely new, attempts run out.
    let cost = cost_model(1, 2, vec![2]);
    let config = SearchConfig {
        iterations: 5,
        ..SearchConfig::default()
    };
    let (outcome, _) = search(&config, &cost);
    assert!(outcome.records.len() <= 2, "{:?}", outcome.records);
    assert_eq!(outcome.history.len(), 6);
}

/// A seeded tiny random classifier whose bias splits `features` evenly between the
/// two labels at full length, so that predictions sit near the boundary and react to the
/// configuration. Tests share the device RNG, so seeding and initialising hold one lock.
fn tiny_model(
    layers: usize,
    seed: u64,
    features: &[TrainFeature],
    device: &Device,
) -> BertForSequenceClassification {
    static INIT: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let mut model = {
        let _guard = INIT.lock().unwrap_or_else(|e| e.into_inner());
        device.seed(seed);
        BertForSequenceClassification::init(&BertConfig::tiny(layers), 2, device)
    };
    let inputs: Vec<Encoded> = features.iter().map(|f| f.encoded.clone()).collect();
    let batch = Batch::new(&inputs, 0, device);
    let logits: Vec<f32> = model
        .forward(&batch, &LengthConfig::keep_all(layers))
        .logits
        .into_data()
        .try_to_vec()
        .expect("f32 logits");
    let mut margins: Vec<f32> = logits.chunks(2).map(|l| l[1] - l[0]).collect();
    margins.sort_by(f32::total_cmp);
    // Halfway between the two middle inputs: no input sits on the boundary itself, where
    // rounding differences between kernels (fused vs materialised attention) would decide.
    let middle = margins.len() / 2;
    let median = 0.5 * (margins[middle - 1] + margins[middle]);
    let bias = model.classifier.bias.take().expect("a classifier bias");
    let shift = Tensor::<1>::from_data([0.0, -median], device);
    model.classifier.bias = Some(Param::from_tensor(bias.val() + shift));
    model
}

fn toy_features(count: usize, seed: u64) -> Vec<TrainFeature> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..count)
        .map(|_| {
            let n = rng.random_range(3..30);
            let mut ids: Vec<u32> = (0..n).map(|_| rng.random_range(2..64)).collect();
            ids[0] = 1;
            TrainFeature {
                encoded: Encoded {
                    input_ids: ids,
                    token_type_ids: vec![0; n],
                    offsets: vec![(0, 0); n],
                },
                targets: vec![rng.random_range(0..2)],
            }
        })
        .collect()
}

fn random_gene(space: &GeneSpace, rng: &mut StdRng) -> Gene {
    let mut previous = space.max_length;
    let lengths = (0..space.num_layers)
        .map(|_| {
            previous = rng.random_range(1..=previous);
            previous
        })
        .collect();
    let skipped = (0..space.num_layers)
        .filter(|_| rng.random_bool(0.2))
        .take(space.num_layers - 1)
        .collect();
    space.canonical(Gene {
        lengths,
        skipped_layers: skipped,
    })
}

#[test]
fn shared_prefix_evaluation_equals_plain_forward_passes() {
    let device = Device::default();
    let features = toy_features(40, 1);
    let model = tiny_model(4, 11, &features, &device);
    let space = GeneSpace {
        num_layers: 4,
        max_length: 32,
    };
    let mut rng = StdRng::seed_from_u64(2);
    let mut genes: Vec<Gene> = (0..30).map(|_| random_gene(&space, &mut rng)).collect();
    genes.push(space.full());
    let configs: Vec<LengthConfig> = genes
        .iter()
        .map(|g| space.config(g).expect("valid"))
        .collect();

    // Small passes force many chunks; the naive side batches 7 at a time.
    let mut shared = SharedPrefixClassifier::new(&model, &features, 0, device.clone(), 64);
    let dev = ClassificationDevSet {
        features: features.clone(),
        batch_size: 7,
        pad_token_id: 0,
        device: device.clone(),
    };
    let fast = shared.predict(&configs);
    for (config, predicted) in configs.iter().zip(&fast) {
        assert_eq!(predicted, &dev.predict(&model, config), "{config:?}");
    }
    // The check has teeth only if the answers vary by input and by configuration.
    let flat: Vec<usize> = fast.iter().flatten().copied().collect();
    assert!(flat.contains(&0) && flat.contains(&1));
    let changed = (0..features.len())
        .filter(|&x| fast.iter().any(|p| p[x] != fast[0][x]))
        .count();
    assert!(
        changed >= 5,
        "only {changed} inputs change with the configuration"
    );
    let stats = shared.stats;
    assert!(stats.cached == 0 && stats.requested == 31 * 40);
    // Prefix sharing: fewer rows than one per (input, configuration, layer run).
    assert!(stats.layer_rows < 31 * 40 * 4, "{stats:?}");

    // Asking again is answered from the cache, with the same answers.
    assert_eq!(shared.predict(&configs), fast);
    assert_eq!(shared.stats.cached, 31 * 40);
    assert_eq!(shared.stats.layer_rows, stats.layer_rows);
}

#[test]
fn a_small_search_finds_the_known_best_gene() {
    // Labels are the model's own predictions at the cheapest gene, which therefore scores
    // 100%: the front must be that gene alone (or one as cheap that predicts the same).
    let device = Device::default();
    let mut features = toy_features(60, 3);
    let model = tiny_model(3, 12, &features, &device);
    let space = GeneSpace {
        num_layers: 3,
        max_length: 32,
    };
    let cheapest = space.constant_rate(0.2);
    let dev = ClassificationDevSet {
        features: features.clone(),
        batch_size: 16,
        pad_token_id: 0,
        device: device.clone(),
    };
    let labels = dev.predict(&model, &space.config(&cheapest).expect("valid"));
    for (f, label) in features.iter_mut().zip(labels) {
        f.targets = vec![label];
    }
    let cost = CostModel {
        arch: Architecture::from(&BertConfig::tiny(3)),
        head: Head::SequenceClassification { num_labels: 2 },
        space,
        dev_lengths: features.iter().map(|f| f.encoded.input_ids.len()).collect(),
    };
    let config = SearchConfig {
        iterations: 3,
        mutation_size: 10,
        crossover_size: 10,
        ..SearchConfig::default()
    };
    let mut shared = SharedPrefixClassifier::new(&model, &features, 0, device.clone(), 256);
    let outcome =
        run_search(&cost, &mut shared, &config, &HashMap::new(), |_, _| {}).expect("search");
    assert_eq!(outcome.front.len(), 1, "{:?}", outcome.front);
    let best = &outcome.records[outcome.front[0]];
    assert_eq!(best.score, 100.0);
    assert_eq!(best.mean_flops, outcome.lower);

    // The naive protocol scores every gene the same.
    let dev = ClassificationDevSet {
        features: features.clone(),
        ..dev
    };
    let mut naive = NaiveClassifier {
        model: &model,
        dev: &dev,
    };
    let configs: Vec<LengthConfig> = outcome
        .records
        .iter()
        .map(|r| space.config(&r.gene).expect("valid"))
        .collect();
    let scores = naive.scores(&configs).expect("infallible");
    let searched: Vec<f64> = outcome.records.iter().map(|r| r.score).collect();
    assert_eq!(scores, searched);
}
