//! Response headers mirroring what a request spent.

use std::time::Instant;

use axum::http::{HeaderMap, HeaderName, HeaderValue};

use crate::api::Spent;

fn set(headers: &mut HeaderMap, name: &'static str, value: String) {
    if let Ok(v) = HeaderValue::from_str(&value) {
        headers.insert(HeaderName::from_static(name), v);
    }
}

/// `x-flops`, `x-full-flops`, `x-frontier-version`, `x-frontier-point`, `x-budget-met`,
/// `x-queue-time-ms`, `x-inference-time-ms`, `x-total-time-ms` over a request's inputs.
pub fn spent_headers(spent: &[&Spent], started: Instant) -> HeaderMap {
    let mut headers = HeaderMap::new();
    let flops: u64 = spent.iter().map(|s| s.flops).sum();
    let full: u64 = spent.iter().map(|s| s.full_flops).sum();
    set(&mut headers, "x-flops", flops.to_string());
    set(&mut headers, "x-full-flops", full.to_string());
    if let Some(first) = spent.first() {
        set(
            &mut headers,
            "x-frontier-version",
            first.frontier_version.clone(),
        );
    }
    let points: Vec<String> = spent.iter().map(|s| s.point.to_string()).collect();
    set(&mut headers, "x-frontier-point", points.join(","));
    let met = spent
        .iter()
        .all(|s| s.budget_met.unwrap_or(true))
        .to_string();
    set(&mut headers, "x-budget-met", met);
    let queue = spent.iter().map(|s| s.queue_ms).fold(0.0, f64::max);
    let compute: f64 = spent.iter().map(|s| s.compute_ms).fold(0.0, f64::max);
    set(&mut headers, "x-queue-time-ms", format!("{queue:.3}"));
    set(&mut headers, "x-inference-time-ms", format!("{compute:.3}"));
    set(
        &mut headers,
        "x-total-time-ms",
        format!("{:.3}", started.elapsed().as_secs_f64() * 1e3),
    );
    headers
}
