//! Budget resolution: the highest-scoring frontier point whose cost on this input fits.
//!
//! Costs are evaluated for the request's own token count n (a point's mean FLOPs are a dev-set
//! average, not a promise for one input). When nothing fits, the cheapest point for this n
//! is chosen and marked `fits: false` (the server serves it, or refuses when the request is
//! strict). Without a budget the best-scoring point is chosen.

use lat_model::flops::flops;
use serde::{Deserialize, Serialize};

use crate::error::BudgetError;
use crate::file::Frontier;
use crate::latency::LatencyModel;

/// What a request may spend.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Budget {
    /// Absolute FLOPs for this input.
    Flops(f64),
    /// Fraction of the full model's FLOPs on this input.
    FlopsRatio(f64),
    /// Milliseconds of compute on the calibrated device.
    LatencyMs(f64),
}

impl Budget {
    /// Its wire name: `flops`, `flops_ratio` or `latency_ms`.
    pub fn kind(&self) -> &'static str {
        match self {
            Budget::Flops(_) => "flops",
            Budget::FlopsRatio(_) => "flops_ratio",
            Budget::LatencyMs(_) => "latency_ms",
        }
    }

    fn value(&self) -> f64 {
        match *self {
            Budget::Flops(v) | Budget::FlopsRatio(v) | Budget::LatencyMs(v) => v,
        }
    }

    /// The one check every budget passes: a finite number above zero.
    pub fn check(&self) -> Result<(), BudgetError> {
        let value = self.value();
        if value.is_finite() && value > 0.0 {
            Ok(())
        } else {
            Err(BudgetError::Invalid {
                kind: self.kind(),
                value,
            })
        }
    }
}

/// The point a budget resolved to, and what it will cost.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Choice {
    /// Index into [`Frontier::points`].
    pub point: usize,
    /// Whether it fits the budget (false: nothing did, this is the cheapest).
    pub fits: bool,
    /// Dev score of the point.
    pub expected_score: f64,
    /// FLOPs of this input under the point.
    pub flops: u64,
    /// FLOPs of this input under the full model.
    pub full_flops: u64,
    /// Tokens each layer keeps.
    pub kept_tokens: Vec<usize>,
    /// Predicted compute time when a latency model is loaded.
    pub predicted_latency_ms: Option<f64>,
}

impl Frontier {
    /// Resolves `budget` for an input of `n` real tokens.
    pub fn resolve(
        &self,
        budget: Option<Budget>,
        n: usize,
        latency: Option<&LatencyModel>,
    ) -> Result<Choice, BudgetError> {
        if n == 0 {
            return Err(BudgetError::EmptyInput);
        }
        if let Some(b) = budget {
            b.check()?;
        }
        if matches!(budget, Some(Budget::LatencyMs(_))) && latency.is_none() {
            return Err(BudgetError::Uncalibrated);
        }
        let arch = self.flops_architecture();
        let head = self.file().task.head();
        let full_flops = flops(&arch, self.full_config(), n, head);
        let choices: Vec<Choice> = self
            .points()
            .iter()
            .zip(self.configs())
            .enumerate()
            .map(|(point, (p, config))| Choice {
                point,
                fits: true,
                expected_score: p.score,
                flops: flops(&arch, config, n, head),
                full_flops,
                kept_tokens: config.keep_counts(n),
                predicted_latency_ms: latency.and_then(|m| m.predict(&p.gene, n)),
            })
            .collect();
        let fits = |c: &Choice| match budget {
            None => true,
            Some(Budget::Flops(max)) => c.flops as f64 <= max,
            Some(Budget::FlopsRatio(max)) => c.flops as f64 <= max * full_flops as f64,
            Some(Budget::LatencyMs(max)) => c.predicted_latency_ms.is_some_and(|ms| ms <= max),
        };
        let best = choices.iter().filter(|c| fits(c)).max_by(|a, b| {
            a.expected_score
                .total_cmp(&b.expected_score)
                .then(b.flops.cmp(&a.flops))
        });
        if let Some(best) = best {
            return Ok(best.clone());
        }
        let cheapest = choices
            .iter()
            .min_by(|a, b| {
                a.flops
                    .cmp(&b.flops)
                    .then(b.expected_score.total_cmp(&a.expected_score))
            })
            .expect("a frontier has points");
        Ok(Choice {
            fits: false,
            ..cheapest.clone()
        })
    }
}
