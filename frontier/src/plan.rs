//! Planning a request: its budget (or the SLO, or none) turned into the point each of its
//! forward passes runs at, with what that costs. One pure function of the frontier, its
//! latency lines and the request, so a server does no budget arithmetic of its own.

use lat_model::flops::flops;

use crate::budget::{Budget, Choice};
use crate::error::BudgetError;
use crate::file::Frontier;
use crate::latency::LatencyModel;

/// Every budget kind a plan reports, in the order metrics list them: the three a request
/// may carry, `slo` (none given, the server's SLO applied) and `none`.
pub const BUDGET_KINDS: [&str; 5] = ["flops", "flops_ratio", "latency_ms", "slo", "none"];

/// One request as planning sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlanRequest {
    /// The request's budget, if any.
    pub budget: Option<Budget>,
    /// Refuse rather than serve the cheapest point when nothing fits.
    pub strict: bool,
    /// Real tokens of the (longest) input.
    pub tokens: usize,
    /// Forward passes the budget is shared over (QA windows; 1 otherwise).
    pub passes: usize,
    /// SLO mode: the end-to-end milliseconds a request without a budget is held to.
    pub slo_ms: Option<f64>,
    /// Expected queue wait now, milliseconds: a latency budget pays it first.
    pub backlog_ms: f64,
}

/// Where a request's passes run and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The point and its cost for one pass.
    pub choice: Choice,
    /// One of [`BUDGET_KINDS`].
    pub kind: &'static str,
    /// The budget applied (the request's, or the SLO's).
    pub applied: Option<Budget>,
    /// SLO mode served the request below the best point.
    pub degraded: bool,
}

/// Why a request could not be planned.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlanError {
    /// The budget itself is unusable (not finite and positive, latency uncalibrated, ...).
    #[error(transparent)]
    Budget(#[from] BudgetError),
    /// A strict request whose budget no point meets.
    #[error("{}", infeasible(kind, choice))]
    Infeasible {
        /// The budget's kind.
        kind: &'static str,
        /// The cheapest point, which does not fit.
        choice: Box<Choice>,
    },
}

fn infeasible(kind: &str, choice: &Choice) -> String {
    let latency = choice
        .predicted_latency_ms
        .map(|ms| format!(" and about {ms:.2} ms of compute"))
        .unwrap_or_default();
    format!(
        "no frontier point fits the {kind} budget; the cheapest needs {} FLOPs ({:.3} of the full model){latency}",
        choice.flops,
        choice.flops as f64 / choice.full_flops.max(1) as f64,
    )
}

/// FLOPs one input of some length costs at a point, and under the full model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputFlops {
    /// At the point.
    pub spent: u64,
    /// Under the full model.
    pub full: u64,
}

impl Frontier {
    /// Plans `request`: checks its budget once, applies the SLO when it carries none,
    /// shares absolute budgets over its passes (a latency budget after the queue's share),
    /// and resolves the point for its token count.
    pub fn plan(
        &self,
        latency: Option<&LatencyModel>,
        request: &PlanRequest,
    ) -> Result<Plan, PlanError> {
        if let Some(b) = request.budget {
            b.check()?;
        }
        let slo = match (request.budget, request.slo_ms, latency) {
            (None, Some(ms), Some(_)) => Some(Budget::LatencyMs(ms)),
            _ => None,
        };
        let applied = request.budget.or(slo);
        let passes = request.passes.max(1) as f64;
        let per_pass = applied.map(|b| match b {
            Budget::Flops(v) => Budget::Flops(v / passes),
            Budget::FlopsRatio(v) => Budget::FlopsRatio(v),
            // Whatever the queue eats first; nothing left means nothing fits.
            Budget::LatencyMs(v) => {
                Budget::LatencyMs(((v - request.backlog_ms) / passes).max(f64::MIN_POSITIVE))
            }
        });
        let choice = self.resolve(per_pass, request.tokens, latency)?;
        let kind = match (request.budget, slo) {
            (Some(b), _) => b.kind(),
            (None, Some(_)) => "slo",
            (None, None) => "none",
        };
        if request.strict && request.budget.is_some() && !choice.fits {
            return Err(PlanError::Infeasible {
                kind,
                choice: Box::new(choice),
            });
        }
        Ok(Plan {
            degraded: slo.is_some() && choice.point != self.best_point(),
            choice,
            kind,
            applied,
        })
    }

    /// The point served without a budget: the best score, the cheaper on ties.
    pub fn best_point(&self) -> usize {
        let points = self.points();
        (0..points.len())
            .max_by(|&a, &b| points[a].score.total_cmp(&points[b].score).then(b.cmp(&a)))
            .unwrap_or(0)
    }

    /// What an input of `tokens` real tokens costs at `point` (e.g. one QA window).
    pub fn input_flops(&self, point: usize, tokens: usize) -> InputFlops {
        let arch = self.flops_architecture();
        let head = self.file().task.head();
        InputFlops {
            spent: flops(&arch, &self.configs()[point], tokens, head),
            full: flops(&arch, self.full_config(), tokens, head),
        }
    }
}
