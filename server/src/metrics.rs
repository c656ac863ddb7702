//! Prometheus metrics (text format, prefix `lat_`, units in names). One registry per server
//! (tests get their own); every series a dashboard plots exists from start-up at zero.

use prometheus::{
    Encoder, Gauge, GaugeVec, Histogram, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec,
    Opts, Registry, TextEncoder, exponential_buckets,
};

use crate::error::ErrorType;

/// Budget kinds as labelled.
pub use lat_frontier::BUDGET_KINDS;
/// Reasons a request or input is refused or abandoned.
pub const REJECTION_REASONS: [&str; 5] = [
    "overloaded",
    "validation",
    "budget_infeasible",
    "client_gone",
    "unready",
];
/// Outcomes of a frontier reload.
pub const RELOAD_RESULTS: [&str; 3] = ["success", "unchanged", "failure"];

/// Every metric family of the server.
pub struct Metrics {
    registry: Registry,
    /// Requests by model, task and outcome (`ok` or an error type).
    pub requests: IntCounterVec,
    /// HTTP requests by route template and status code.
    pub http_requests: IntCounterVec,
    /// End-to-end request time.
    pub request_duration: HistogramVec,
    /// Time an input waited for the engine.
    pub queue_duration: HistogramVec,
    /// Forward pass time per batch.
    pub inference_duration: HistogramVec,
    /// FLOPs per input.
    pub request_flops: HistogramVec,
    /// FLOPs spent.
    pub flops: prometheus::CounterVec,
    /// FLOPs the full model would have spent on the same inputs.
    pub full_flops: prometheus::CounterVec,
    /// Inputs by budget kind.
    pub budget_requests: IntCounterVec,
    /// Inputs whose budget was not met.
    pub budget_missed: IntCounterVec,
    /// Inputs served by each frontier point.
    pub point_selected: IntCounterVec,
    /// Real tokens per input.
    pub input_tokens: HistogramVec,
    /// Tokens in.
    pub tokens_in: prometheus::CounterVec,
    /// Tokens kept, averaged over layers.
    pub tokens_kept: prometheus::CounterVec,
    /// Inputs per forward pass.
    pub batch_size: HistogramVec,
    /// Padded tokens per forward pass.
    pub batch_tokens: HistogramVec,
    /// Inputs waiting for the engine.
    pub queue_depth: IntGaugeVec,
    /// Requests being served.
    pub inflight: IntGaugeVec,
    /// Refusals and abandonments by reason.
    pub rejections: IntCounterVec,
    /// Frontier reloads by outcome.
    pub reloads: IntCounterVec,
    /// Unix time of the last successful swap.
    pub reload_success_time: GaugeVec,
    /// 1 for the active frontier version.
    pub frontier_info: IntGaugeVec,
    /// Points of the active frontier.
    pub frontier_points: IntGaugeVec,
    /// 1 for the device and precision this process computes on.
    pub engine_info: IntGaugeVec,
    /// 1 when ready.
    pub ready: Gauge,
    /// SLO mode's end-to-end target (0: off).
    pub slo_target: Gauge,
    /// Inputs SLO mode served below the best point.
    pub slo_degraded: IntCounterVec,
}

fn counter(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    let c = IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric");
    registry
        .register(Box::new(c.clone()))
        .expect("unique metric");
    c
}

fn float_counter(
    registry: &Registry,
    name: &str,
    help: &str,
    labels: &[&str],
) -> prometheus::CounterVec {
    let c = prometheus::CounterVec::new(Opts::new(name, help), labels).expect("valid metric");
    registry
        .register(Box::new(c.clone()))
        .expect("unique metric");
    c
}

fn histogram(
    registry: &Registry,
    name: &str,
    help: &str,
    labels: &[&str],
    buckets: Vec<f64>,
) -> HistogramVec {
    let h = HistogramVec::new(HistogramOpts::new(name, help).buckets(buckets), labels)
        .expect("valid metric");
    registry
        .register(Box::new(h.clone()))
        .expect("unique metric");
    h
}

fn gauge(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> IntGaugeVec {
    let g = IntGaugeVec::new(Opts::new(name, help), labels).expect("valid metric");
    registry
        .register(Box::new(g.clone()))
        .expect("unique metric");
    g
}

/// Seconds: 100 µs to about 33 s in x1.5 steps.
fn seconds() -> Vec<f64> {
    exponential_buckets(1e-4, 1.5, 32).expect("valid buckets")
}

/// Powers of two from 1.
fn powers_of_two(count: usize) -> Vec<f64> {
    exponential_buckets(1.0, 2.0, count).expect("valid buckets")
}

impl Metrics {
    /// Registers every family (no series yet: see [`Metrics::init_model`]).
    pub fn new() -> Self {
        let r = Registry::new();
        let model_task = &["model", "task"];
        let ready = Gauge::new(
            "lat_ready",
            "1 when every model is loaded and warmed and the server is not draining.",
        )
        .expect("valid metric");
        r.register(Box::new(ready.clone())).expect("unique metric");
        let slo_target = Gauge::new(
            "lat_slo_target_seconds",
            "SLO mode's end-to-end latency target for requests without a budget (0: off).",
        )
        .expect("valid metric");
        r.register(Box::new(slo_target.clone()))
            .expect("unique metric");
        Self {
            slo_target,
            slo_degraded: counter(
                &r,
                "lat_slo_degraded_total",
                "Inputs without a budget that SLO mode served below the best point to hold the SLO.",
                &["model"],
            ),
            requests: counter(
                &r,
                "lat_requests_total",
                "Inference requests by outcome (ok or the error type).",
                &["model", "task", "status"],
            ),
            http_requests: counter(
                &r,
                "lat_http_requests_total",
                "HTTP requests by route template and status code.",
                &["route", "status"],
            ),
            request_duration: histogram(
                &r,
                "lat_request_duration_seconds",
                "End-to-end inference request time.",
                model_task,
                seconds(),
            ),
            queue_duration: histogram(
                &r,
                "lat_queue_duration_seconds",
                "Time an input waited for the engine.",
                &["model"],
                seconds(),
            ),
            inference_duration: histogram(
                &r,
                "lat_inference_duration_seconds",
                "Forward-pass time per batch.",
                &["model"],
                seconds(),
            ),
            request_flops: histogram(
                &r,
                "lat_request_flops",
                "FLOPs spent per input (QA: per request, all windows).",
                model_task,
                exponential_buckets(1e6, 2.0, 24).expect("valid buckets"),
            ),
            flops: float_counter(&r, "lat_flops_total", "FLOPs spent.", model_task),
            full_flops: float_counter(
                &r,
                "lat_full_flops_total",
                "FLOPs the full model would have spent on the same inputs.",
                model_task,
            ),
            budget_requests: counter(
                &r,
                "lat_budget_requests_total",
                "Inputs by budget kind.",
                &["model", "kind"],
            ),
            budget_missed: counter(
                &r,
                "lat_budget_missed_total",
                "Inputs whose budget was not met (served at the cheapest point, or late).",
                &["model", "kind"],
            ),
            point_selected: counter(
                &r,
                "lat_frontier_point_selected_total",
                "Inputs served by each frontier point (index by ascending FLOPs).",
                &["model", "point"],
            ),
            input_tokens: histogram(
                &r,
                "lat_request_input_tokens",
                "Real tokens per input.",
                &["model"],
                powers_of_two(11),
            ),
            tokens_in: float_counter(
                &r,
                "lat_tokens_in_total",
                "Real tokens received.",
                &["model"],
            ),
            tokens_kept: float_counter(
                &r,
                "lat_tokens_kept_total",
                "Tokens kept, averaged over layers.",
                &["model"],
            ),
            batch_size: histogram(
                &r,
                "lat_batch_size",
                "Inputs per forward pass.",
                &["model"],
                powers_of_two(10),
            ),
            batch_tokens: histogram(
                &r,
                "lat_batch_tokens",
                "Padded tokens per forward pass.",
                &["model"],
                powers_of_two(16),
            ),
            queue_depth: gauge(
                &r,
                "lat_queue_depth",
                "Inputs waiting for the engine.",
                &["model"],
            ),
            inflight: gauge(
                &r,
                "lat_inflight_requests",
                "Requests being served.",
                &["model"],
            ),
            rejections: counter(
                &r,
                "lat_rejections_total",
                "Refused or abandoned requests by reason.",
                &["model", "reason"],
            ),
            reloads: counter(
                &r,
                "lat_frontier_reload_total",
                "Frontier reloads by outcome.",
                &["model", "result"],
            ),
            reload_success_time: {
                let g = GaugeVec::new(
                    Opts::new(
                        "lat_frontier_last_reload_success_timestamp_seconds",
                        "Unix time of the last successful frontier swap.",
                    ),
                    &["model"],
                )
                .expect("valid metric");
                r.register(Box::new(g.clone())).expect("unique metric");
                g
            },
            frontier_info: gauge(
                &r,
                "lat_frontier_info",
                "1 for the frontier version serving now.",
                &["model", "version"],
            ),
            frontier_points: gauge(
                &r,
                "lat_frontier_points",
                "Points of the frontier serving now.",
                &["model"],
            ),
            engine_info: gauge(
                &r,
                "lat_engine_info",
                "1 for the device and the precision of the matrix products this process computes with.",
                &["device", "precision"],
            ),
            ready,
            registry: r,
        }
    }

    /// Creates every series of `model` at zero, so dashboards see them before traffic.
    pub fn init_model(&self, model: &str, task: &str) {
        let mt = &[model, task];
        let _ = self.requests.with_label_values(&[model, task, "ok"]);
        for t in ErrorType::ALL {
            let _ = self.requests.with_label_values(&[model, task, t.name()]);
        }
        let _ = self.request_duration.with_label_values(mt);
        let _ = self.request_flops.with_label_values(mt);
        let _ = self.flops.with_label_values(mt);
        let _ = self.full_flops.with_label_values(mt);
        for kind in BUDGET_KINDS {
            let _ = self.budget_requests.with_label_values(&[model, kind]);
            let _ = self.budget_missed.with_label_values(&[model, kind]);
        }
        for reason in REJECTION_REASONS {
            let _ = self.rejections.with_label_values(&[model, reason]);
        }
        for result in RELOAD_RESULTS {
            let _ = self.reloads.with_label_values(&[model, result]);
        }
        let _ = self.reload_success_time.with_label_values(&[model]);
        for h in [
            &self.queue_duration,
            &self.inference_duration,
            &self.input_tokens,
            &self.batch_size,
            &self.batch_tokens,
        ] {
            let _ = h.with_label_values(&[model]);
        }
        let _ = self.tokens_in.with_label_values(&[model]);
        let _ = self.slo_degraded.with_label_values(&[model]);
        let _ = self.tokens_kept.with_label_values(&[model]);
        let _ = self.queue_depth.with_label_values(&[model]);
        let _ = self.inflight.with_label_values(&[model]);
    }

    /// Records the device and precision the engines compute with.
    pub fn set_engine(&self, device: &str, precision: &str) {
        self.engine_info.reset();
        self.engine_info
            .with_label_values(&[device, precision])
            .set(1);
    }

    /// Marks `version` (with `points` points) as serving for `model`, replacing `previous`.
    pub fn set_frontier(&self, model: &str, previous: Option<&str>, version: &str, points: usize) {
        if let Some(old) = previous {
            let _ = self.frontier_info.remove_label_values(&[model, old]);
        }
        self.frontier_info
            .with_label_values(&[model, version])
            .set(1);
        self.frontier_points
            .with_label_values(&[model])
            .set(points as i64);
        for point in 0..points {
            let _ = self
                .point_selected
                .with_label_values(&[model, &point.to_string()]);
        }
    }

    /// One model's batch-level series, resolved once for the engine thread.
    pub fn engine_metrics(&self, model: &str) -> EngineMetrics {
        EngineMetrics {
            inference_duration: self.inference_duration.with_label_values(&[model]),
            batch_size: self.batch_size.with_label_values(&[model]),
            batch_tokens: self.batch_tokens.with_label_values(&[model]),
            queue_depth: self.queue_depth.with_label_values(&[model]),
            dropped: self.rejections.with_label_values(&[model, "client_gone"]),
        }
    }

    /// The scrape body (Prometheus text format 0.0.4).
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        let encoder = TextEncoder::new();
        if encoder.encode(&self.registry.gather(), &mut out).is_err() {
            return String::new();
        }
        String::from_utf8(out).unwrap_or_default()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// The series the engine thread updates per batch.
#[derive(Clone)]
pub struct EngineMetrics {
    /// Forward-pass time.
    pub inference_duration: Histogram,
    /// Inputs per pass.
    pub batch_size: Histogram,
    /// Padded tokens per pass.
    pub batch_tokens: Histogram,
    /// Inputs waiting.
    pub queue_depth: prometheus::IntGauge,
    /// Inputs dropped because their client went away.
    pub dropped: prometheus::IntCounter,
}
