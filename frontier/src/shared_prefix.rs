//! Fast, exact classification fitness: each (input, per-layer keep counts) pair is computed
//! once, and configurations that agree on an input's first layers share those layers.
//!
//! A configuration reaches an input only through its keep counts k_1..k_L at that input's
//! length n, and layer i's output depends on k_1..k_i alone. So the search's many genes
//! collapse, per input, to few distinct count vectors (short inputs quantise ratios
//! coarsely), which are cached across iterations; the new ones are run as a prefix tree,
//! layer by layer. A layer runs once per distinct prefix of the layers before it, keeping
//! the most tokens any child wants; children that keep fewer are cuts of that output
//! ([`EncoderState::select_prefixes`]: top-k selections are nested and the FFN is per
//! token). Inputs of similar length and all configurations of an iteration share each pass.

use std::collections::HashMap;

use burn::tensor::Device;
use lat_model::train::TrainFeature;
use lat_model::{Batch, BertForSequenceClassification, DropMode, EncoderState, LengthConfig};

use crate::search::Fitness;

/// Keep count per layer at one input's length; 0 marks a skipped layer.
type Plan = Vec<u32>;

/// Work done so far, for reports and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EvalStats {
    /// (input, configuration) pairs asked for.
    pub requested: usize,
    /// Pairs answered from the cache (same counts seen before).
    pub cached: usize,
    /// Rows run through a layer (distinct prefixes of the layers before), summed over layers.
    pub layer_rows: usize,
    /// Forward passes of one layer.
    pub layer_passes: usize,
}

/// Classification accuracy (percent) of a model on a dev set, at many configurations.
pub struct SharedPrefixClassifier<'a> {
    model: &'a BertForSequenceClassification,
    features: &'a [TrainFeature],
    pad_token_id: u32,
    device: Device,
    tokens_per_pass: usize,
    cache: HashMap<(usize, Plan), usize>,
    /// Work done so far.
    pub stats: EvalStats,
}

impl<'a> SharedPrefixClassifier<'a> {
    /// An evaluator whose passes hold about `tokens_per_pass` input tokens (before fan-out).
    pub fn new(
        model: &'a BertForSequenceClassification,
        features: &'a [TrainFeature],
        pad_token_id: u32,
        device: Device,
        tokens_per_pass: usize,
    ) -> Self {
        Self {
            model,
            features,
            pad_token_id,
            device,
            tokens_per_pass: tokens_per_pass.max(1),
            cache: HashMap::new(),
            stats: EvalStats::default(),
        }
    }

    fn length(&self, input: usize) -> usize {
        self.features[input].encoded.input_ids.len()
    }

    /// Predicted label of every input at every configuration: `predictions[c][x]`.
    pub fn predict(&mut self, configs: &[LengthConfig]) -> Vec<Vec<usize>> {
        let plans: Vec<Vec<Plan>> = configs
            .iter()
            .map(|c| {
                (0..self.features.len())
                    .map(|x| plan(c, self.length(x)))
                    .collect()
            })
            .collect();
        let mut missing: Vec<(usize, Plan)> = Vec::new();
        for per_input in &plans {
            for (x, p) in per_input.iter().enumerate() {
                self.stats.requested += 1;
                if self.cache.contains_key(&(x, p.clone())) {
                    self.stats.cached += 1;
                } else {
                    missing.push((x, p.clone()));
                }
            }
        }
        missing.sort_by(|a, b| {
            let skips = |p: &Plan| p.iter().map(|&k| k == 0).collect::<Vec<_>>();
            skips(&a.1)
                .cmp(&skips(&b.1))
                .then(self.length(a.0).cmp(&self.length(b.0)))
                .then(a.cmp(b))
        });
        missing.dedup();
        for chunk in self.chunks(&missing) {
            let labels = self.run(chunk);
            for (job, label) in chunk.iter().zip(labels) {
                self.cache.insert(job.clone(), label);
            }
        }
        plans
            .into_iter()
            .map(|per_input| {
                per_input
                    .into_iter()
                    .enumerate()
                    .map(|(x, p)| self.cache[&(x, p)])
                    .collect()
            })
            .collect()
    }

    /// Consecutive runs of jobs with one skip pattern and about `tokens_per_pass` tokens.
    fn chunks<'j>(&self, jobs: &'j [(usize, Plan)]) -> Vec<&'j [(usize, Plan)]> {
        let mut chunks = Vec::new();
        let (mut start, mut tokens) = (0, 0);
        for (j, (x, p)) in jobs.iter().enumerate() {
            let same_pattern = jobs[start]
                .1
                .iter()
                .zip(p)
                .all(|(a, b)| (*a == 0) == (*b == 0));
            if j > start && (!same_pattern || tokens + self.length(*x) > self.tokens_per_pass) {
                chunks.push(&jobs[start..j]);
                (start, tokens) = (j, 0);
            }
            tokens += self.length(*x);
        }
        if start < jobs.len() {
            chunks.push(&jobs[start..]);
        }
        chunks
    }

    /// Runs one chunk as a prefix tree and returns each job's predicted label.
    fn run(&mut self, jobs: &[(usize, Plan)]) -> Vec<usize> {
        let mut inputs: Vec<usize> = jobs.iter().map(|(x, _)| *x).collect();
        inputs.dedup();
        let row_of: HashMap<usize, usize> =
            inputs.iter().enumerate().map(|(r, &x)| (x, r)).collect();
        let encoded: Vec<_> = inputs
            .iter()
            .map(|&x| self.features[x].encoded.clone())
            .collect();
        let batch = Batch::new(&encoded, self.pad_token_id, &self.device);
        let bert = &self.model.bert;
        let mut state = EncoderState::new(bert.embed(&batch), &batch.lengths, DropMode::Extract);
        let mut rows: Vec<usize> = jobs.iter().map(|(x, _)| row_of[x]).collect();
        let last = last_layer(&jobs[0].1);
        for layer in 0..last {
            if jobs[0].1[layer] == 0 {
                continue;
            }
            // The children of this layer: distinct (row, count) pairs, in first-seen order.
            let mut next: HashMap<(usize, usize), usize> = HashMap::new();
            let (mut parents, mut counts) = (Vec::new(), Vec::new());
            for (row, (_, p)) in rows.iter_mut().zip(jobs) {
                let key = (*row, p[layer] as usize);
                *row = *next.entry(key).or_insert_with(|| {
                    parents.push(key.0);
                    counts.push(key.1);
                    parents.len() - 1
                });
            }
            // One pass per parent row at its largest child count; smaller counts are cuts.
            let mut widest = state.counts().iter().map(|_| 0).collect::<Vec<usize>>();
            for (&p, &c) in parents.iter().zip(&counts) {
                widest[p] = widest[p].max(c);
            }
            self.stats.layer_rows += widest.len();
            self.stats.layer_passes += 1;
            let cuts = parents.iter().zip(&counts).any(|(&p, &c)| c < widest[p]);
            let encoder = &bert.encoder;
            state = if cuts {
                encoder.forward_layer_ranked(layer, state, &widest, DropMode::Extract)
            } else {
                encoder.forward_layer(layer, state, &widest, DropMode::Extract)
            };
            let identity =
                parents.len() == widest.len() && parents.iter().enumerate().all(|(i, &p)| i == p);
            if !identity || cuts {
                state = state.select_prefixes(&parents, &counts);
            }
        }
        self.stats.layer_rows += state.counts().len();
        self.stats.layer_passes += 1;
        let first = bert.encoder.forward_layer_first_token(last, state);
        let [batch, hidden] = first.dims();
        let best: Vec<i64> = self
            .model
            .head(first.reshape([batch, 1, hidden]))
            .argmax(1)
            .into_data()
            .convert::<i64>()
            .try_to_vec::<i64>()
            .expect("argmax yields integers");
        rows.iter().map(|&r| best[r] as usize).collect()
    }
}

/// What decides a prediction: the keep counts of `config` at length `n`, skipped layers as 0.
/// The last layer's count cannot change [CLS] (only the FFN of the other tokens depends on
/// it), so it is written as 1 and configurations that differ only there share one entry.
fn plan(config: &LengthConfig, n: usize) -> Plan {
    let mut plan: Plan = config
        .keep_counts(n)
        .into_iter()
        .enumerate()
        .map(|(layer, k)| {
            if config.is_skipped(layer) {
                0
            } else {
                k as u32
            }
        })
        .collect();
    let last = last_layer(&plan);
    plan[last] = 1;
    plan
}

/// The last layer a plan runs.
fn last_layer(plan: &[u32]) -> usize {
    plan.iter()
        .rposition(|&k| k != 0)
        .expect("a configuration runs a layer")
}

impl Fitness for SharedPrefixClassifier<'_> {
    type Error = std::convert::Infallible;

    fn scores(&mut self, configs: &[LengthConfig]) -> Result<Vec<f64>, Self::Error> {
        let predictions = self.predict(configs);
        Ok(predictions
            .iter()
            .map(|predicted| accuracy_percent(predicted, self.features))
            .collect())
    }
}

/// Accuracy in percent of `predicted` against the features' labels.
pub fn accuracy_percent(predicted: &[usize], features: &[TrainFeature]) -> f64 {
    let correct = predicted
        .iter()
        .zip(features)
        .filter(|(p, f)| **p == f.targets[0])
        .count();
    100.0 * correct as f64 / features.len().max(1) as f64
}
