//! The request path shared by both tasks: admission, budget -> point, engine round trip,
//! and what each input spent (response and metrics).

use std::sync::Arc;
use std::time::{Duration, Instant};

use lat_frontier::{BudgetError, LatencySample, Plan, PlanError, PlanRequest};
use lat_model::Encoded;
use tokio::sync::{OwnedSemaphorePermit, oneshot};

use crate::api::{BudgetRequest, Spent};
use crate::engine::{EngineError, Job, JobOutput};
use crate::error::{ApiError, ErrorType};
use crate::frontier_slot::Snapshot;
use crate::metrics::Metrics;
use crate::served::ServedModel;
use crate::state::AppState;

/// A request let in: its permits and the frontier snapshot it keeps to the end.
pub struct Admitted {
    permit: OwnedSemaphorePermit,
    inflight: prometheus::IntGauge,
    /// The frontier this request is served with.
    pub snapshot: Arc<Snapshot>,
    /// When the handler started.
    pub started: Instant,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        self.inflight.dec();
    }
}

fn too_many(model: &ServedModel, inputs: usize) -> ApiError {
    ApiError::validation(format!(
        "the request needs {inputs} forward passes; at most {} can be in flight",
        model.max_concurrent_inputs
    ))
}

fn overloaded(model: &ServedModel, metrics: &Metrics) -> ApiError {
    metrics
        .rejections
        .with_label_values(&[&model.name, "overloaded"])
        .inc();
    ApiError::new(ErrorType::Overloaded, "model is overloaded")
}

fn permits(model: &ServedModel, inputs: usize) -> Result<u32, ApiError> {
    if inputs > model.max_concurrent_inputs {
        return Err(too_many(model, inputs));
    }
    Ok(u32::try_from(inputs).unwrap_or(u32::MAX))
}

/// Takes `inputs` permits or answers 429 at once (never waits: waiting grows queues
/// without bound).
pub fn admit(
    model: &ServedModel,
    metrics: &Metrics,
    inputs: usize,
    started: Instant,
) -> Result<Admitted, ApiError> {
    let permits = permits(model, inputs)?;
    match Arc::clone(&model.admission).try_acquire_many_owned(permits) {
        Ok(permit) => {
            let inflight = metrics.inflight.with_label_values(&[&model.name]);
            inflight.inc();
            Ok(Admitted {
                permit,
                inflight,
                snapshot: model.slot.load(),
                started,
            })
        }
        Err(_) => Err(overloaded(model, metrics)),
    }
}

impl Admitted {
    /// Grows an admitted request to `inputs` permits in all (QA learns its window count
    /// only after tokenising), or answers as [`admit`] would.
    pub fn grow_to(
        &mut self,
        model: &ServedModel,
        metrics: &Metrics,
        inputs: usize,
    ) -> Result<(), ApiError> {
        let total = permits(model, inputs)?;
        let more =
            total.saturating_sub(u32::try_from(self.permit.num_permits()).unwrap_or(u32::MAX));
        if more == 0 {
            return Ok(());
        }
        let extra = Arc::clone(&model.admission)
            .try_acquire_many_owned(more)
            .map_err(|_| overloaded(model, metrics))?;
        self.permit.merge(extra);
        Ok(())
    }
}

/// Runs `work` (tokenising) on the blocking pool once one of the server's tokenisation
/// slots is free: requests already admitted wait their turn rather than all tokenising
/// at once.
pub async fn tokenize_bounded<T: Send + 'static>(
    state: &AppState,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    let _slot = Arc::clone(&state.tokenize_slots)
        .acquire_owned()
        .await
        .map_err(|e| ApiError::new(ErrorType::Internal, e.to_string()))?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ApiError::new(ErrorType::Internal, e.to_string()))
}

/// Plans a request's passes for inputs of `tokens` tokens, split over `passes` forward
/// passes (QA windows): [`lat_frontier::Frontier::plan`] with this model's SLO and queue,
/// its errors answered in the envelope.
pub fn plan(
    model: &ServedModel,
    snapshot: &Snapshot,
    request: Option<&BudgetRequest>,
    strict: bool,
    tokens: usize,
    passes: usize,
) -> Result<Plan, ApiError> {
    let budget = request
        .map(BudgetRequest::budget)
        .transpose()
        .map_err(ApiError::validation)?;
    let request = PlanRequest {
        budget,
        strict,
        tokens,
        passes,
        slo_ms: model.slo_ms,
        backlog_ms: model.engine.backlog_ms(),
    };
    snapshot
        .frontier
        .plan(snapshot.latency.as_ref(), &request)
        .map_err(|e| match e {
            PlanError::Budget(BudgetError::Uncalibrated) => ApiError::new(
                ErrorType::Unready,
                "latency budgets are not available until the frontier is calibrated",
            ),
            PlanError::Budget(other) => ApiError::validation(other.to_string()),
            infeasible @ PlanError::Infeasible { .. } => {
                ApiError::new(ErrorType::BudgetInfeasible, infeasible.to_string())
            }
        })
}

/// An input in the engine's queue.
pub struct Pending {
    answer: oneshot::Receiver<Result<JobOutput, EngineError>>,
    gene: lat_frontier::Gene,
    tokens: usize,
}

fn stopping() -> ApiError {
    ApiError::new(ErrorType::Unready, "the server is shutting down")
}

/// One input's job at `point`, and the handle to wait for it.
fn job(snapshot: &Snapshot, point: usize, encoded: Encoded) -> (Job, Pending) {
    let gene = snapshot.frontier.points()[point].gene.clone();
    let tokens = encoded.input_ids.len();
    let predicted_ms = snapshot
        .latency
        .as_ref()
        .and_then(|l| l.predict(&gene, tokens))
        .unwrap_or(0.0);
    let intercept = snapshot.latency.as_ref().and_then(|l| l.line(&gene));
    let fixed_ms = intercept.map_or(0.0, |l| l.intercept.clamp(0.0, predicted_ms));
    let (reply, answer) = oneshot::channel();
    let job = Job {
        encoded,
        gene: gene.clone(),
        config: snapshot.frontier.configs()[point].clone(),
        predicted_ms,
        fixed_ms,
        submitted: Instant::now(),
        reply,
    };
    (
        job,
        Pending {
            answer,
            gene,
            tokens,
        },
    )
}

impl Pending {
    /// Waits for the engine. Dropping this (client gone) closes the channel, and the engine
    /// drops the input before computing it.
    pub async fn wait(self, model: &ServedModel) -> Result<JobOutput, ApiError> {
        match self.answer.await {
            Ok(Ok(output)) => {
                if output.batch_size == 1 {
                    model.observe_latency(LatencySample {
                        gene: self.gene,
                        tokens: self.tokens,
                        ms: output.compute.as_secs_f64() * 1e3,
                    });
                }
                Ok(output)
            }
            Ok(Err(EngineError::Stopped)) | Err(_) => Err(stopping()),
            Ok(Err(e)) => Err(ApiError::new(ErrorType::Internal, e.to_string())),
        }
    }
}

/// Queues every input at once (so they can share batches), then waits for all of them.
pub async fn run_all(
    model: &ServedModel,
    snapshot: &Snapshot,
    inputs: impl IntoIterator<Item = (usize, Encoded)>,
) -> Result<Vec<JobOutput>, ApiError> {
    let (jobs, pending): (Vec<Job>, Vec<Pending>) = inputs
        .into_iter()
        .map(|(point, encoded)| job(snapshot, point, encoded))
        .unzip();
    model.engine.submit_many(jobs).map_err(|_| stopping())?;
    let mut outputs = Vec::with_capacity(pending.len());
    for p in pending {
        outputs.push(p.wait(model).await?);
    }
    Ok(outputs)
}

/// What one input (or QA request) spent, for the response.
pub struct SpentInput<'a> {
    /// Its plan.
    pub plan: &'a Plan,
    /// FLOPs spent (QA: all windows).
    pub flops: u64,
    /// FLOPs of the full model on the same input.
    pub full_flops: u64,
    /// Real tokens (QA: longest window).
    pub input_tokens: usize,
    /// Kept tokens per layer.
    pub kept_tokens: Vec<usize>,
    /// Longest queue wait among its passes.
    pub queue: Duration,
    /// Summed compute of its passes.
    pub compute: Duration,
    /// Size of its (largest) batch.
    pub batch_size: usize,
}

/// Builds the response's `spent` and records the input in the metrics.
pub fn account(
    model: &ServedModel,
    metrics: &Metrics,
    admitted: &Admitted,
    input: SpentInput<'_>,
) -> Spent {
    let plan = input.plan;
    let budget_met = plan.applied.map(|b| match b {
        lat_frontier::Budget::LatencyMs(ms) => {
            plan.choice.fits && admitted.started.elapsed().as_secs_f64() * 1e3 <= ms
        }
        _ => plan.choice.fits,
    });
    let name = model.name.as_str();
    let task = model.task.name();
    metrics
        .flops
        .with_label_values(&[name, task])
        .inc_by(input.flops as f64);
    metrics
        .full_flops
        .with_label_values(&[name, task])
        .inc_by(input.full_flops as f64);
    metrics
        .request_flops
        .with_label_values(&[name, task])
        .observe(input.flops as f64);
    metrics
        .budget_requests
        .with_label_values(&[name, plan.kind])
        .inc();
    if budget_met == Some(false) {
        metrics
            .budget_missed
            .with_label_values(&[name, plan.kind])
            .inc();
    }
    if plan.degraded {
        metrics.slo_degraded.with_label_values(&[name]).inc();
    }
    metrics
        .point_selected
        .with_label_values(&[name, &plan.choice.point.to_string()])
        .inc();
    metrics
        .input_tokens
        .with_label_values(&[name])
        .observe(input.input_tokens as f64);
    metrics
        .tokens_in
        .with_label_values(&[name])
        .inc_by(input.input_tokens as f64);
    let layers = input.kept_tokens.len().max(1) as f64;
    metrics
        .tokens_kept
        .with_label_values(&[name])
        .inc_by(input.kept_tokens.iter().sum::<usize>() as f64 / layers);
    metrics
        .queue_duration
        .with_label_values(&[name])
        .observe(input.queue.as_secs_f64());
    let snapshot = &admitted.snapshot;
    Spent {
        point: plan.choice.point,
        gene: snapshot.frontier.points()[plan.choice.point].gene.label(),
        expected_score: plan.choice.expected_score,
        held_out_score: snapshot.frontier.points()[plan.choice.point]
            .held_out
            .map(|e| e.mean),
        flops: input.flops,
        full_flops: input.full_flops,
        flops_ratio: input.flops as f64 / input.full_flops.max(1) as f64,
        input_tokens: input.input_tokens,
        kept_tokens: input.kept_tokens,
        budget_met,
        budget_kind: plan.kind,
        queue_ms: input.queue.as_secs_f64() * 1e3,
        compute_ms: input.compute.as_secs_f64() * 1e3,
        batch_size: input.batch_size,
        frontier_version: snapshot.version.clone(),
    }
}
