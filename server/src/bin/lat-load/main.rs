//! `lat-load`: a closed-loop load generator for lat-server. Each of `--concurrency` clients
//! sends one real sentence per request, back to back, for `--duration-s`; optionally a
//! frontier swap every `--swap-every-ms`. Prints throughput, latency quantiles, statuses,
//! budget outcomes, FLOPs and the server's overhead over its own compute.

mod client;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Parser;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::client::Connection;

/// Load generator for lat-server.
#[derive(Debug, Parser)]
struct Args {
    /// Server address, host:port.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: String,
    /// Concurrent clients.
    #[arg(long, default_value_t = 1)]
    concurrency: usize,
    /// Seconds of load.
    #[arg(long, default_value_t = 10.0)]
    duration_s: f64,
    /// Budget JSON object sent with every request (e.g. '{"flops_ratio": 0.7}').
    #[arg(long)]
    budget: Option<String>,
    /// GLUE TSV whose first column holds the sentences (SST-2 dev).
    #[arg(long, default_value = "../shared/data/sst2/dev.tsv")]
    texts: PathBuf,
    /// PUT these frontier files in turn to /admin/models/{model}/frontier.
    #[arg(long, value_delimiter = ',')]
    swap_frontiers: Vec<PathBuf>,
    /// Milliseconds between swaps.
    #[arg(long, default_value_t = 1000)]
    swap_every_ms: u64,
    /// Model name for swaps.
    #[arg(long, default_value = "sst2")]
    model: String,
    /// Admin token for swaps.
    #[arg(long, default_value = "")]
    admin_token: String,
    /// A label for this run in the output.
    #[arg(long, default_value = "")]
    label: String,
    /// Seed of the sentence choice.
    #[arg(long, default_value_t = 17)]
    seed: u64,
}

/// What one client saw.
#[derive(Default)]
struct Tally {
    latencies_ms: Vec<f64>,
    overhead_ms: Vec<f64>,
    statuses: BTreeMap<u16, usize>,
    transport_errors: usize,
    budget_met: usize,
    budget_missed: usize,
    flops: f64,
    full_flops: f64,
    versions: BTreeMap<String, usize>,
    error_samples: Vec<String>,
}

fn sentences(path: &PathBuf) -> Result<Vec<String>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(text
        .lines()
        .skip(1)
        .filter_map(|l| l.split('\t').next())
        .filter(|s| !s.trim().is_empty())
        .map(str::to_string)
        .collect())
}

async fn client(args: Arc<Args>, texts: Arc<Vec<String>>, id: usize, until: Instant) -> Tally {
    let mut rng = StdRng::seed_from_u64(args.seed + id as u64);
    let mut conn = Connection::new(&args.addr);
    let mut tally = Tally::default();
    let headers = [("content-type", "application/json")];
    while Instant::now() < until {
        let text = &texts[rng.random_range(0..texts.len())];
        let mut body = serde_json::json!({ "inputs": text });
        if let Some(b) = &args.budget {
            body["budget"] = serde_json::from_str(b).unwrap_or_default();
        }
        let bytes = serde_json::to_vec(&body).unwrap_or_default();
        let started = Instant::now();
        match conn.send("POST", "/v1/classify", &headers, &bytes).await {
            Ok(r) => {
                let ms = started.elapsed().as_secs_f64() * 1e3;
                *tally.statuses.entry(r.status).or_default() += 1;
                if r.status == 200 {
                    tally.latencies_ms.push(ms);
                    let header = |k: &str| r.headers.get(k).and_then(|v| v.parse::<f64>().ok());
                    if let Some(compute) = header("x-inference-time-ms") {
                        tally.overhead_ms.push(ms - compute);
                    }
                    tally.flops += header("x-flops").unwrap_or(0.0);
                    tally.full_flops += header("x-full-flops").unwrap_or(0.0);
                    match r.headers.get("x-budget-met").map(String::as_str) {
                        Some("true") => tally.budget_met += 1,
                        Some("false") => tally.budget_missed += 1,
                        _ => {}
                    }
                    if let Some(v) = r.headers.get("x-frontier-version") {
                        *tally.versions.entry(v.clone()).or_default() += 1;
                    }
                } else if r.status != 429 && tally.error_samples.len() < 3 {
                    tally
                        .error_samples
                        .push(format!("{}: {}", r.status, r.body));
                } else if r.status == 429 {
                    // A well-behaved client waits as long as Retry-After says.
                    let wait: u64 = r
                        .headers
                        .get("retry-after")
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(1);
                    tokio::time::sleep(Duration::from_secs(wait)).await;
                }
            }
            Err(e) => {
                tally.transport_errors += 1;
                if tally.error_samples.len() < 3 {
                    tally.error_samples.push(format!("transport: {e:#}"));
                }
            }
        }
    }
    tally
}

async fn swapper(args: Arc<Args>, until: Instant) -> Result<(usize, usize, Vec<f64>)> {
    let files: Vec<Vec<u8>> = args
        .swap_frontiers
        .iter()
        .map(std::fs::read)
        .collect::<Result<_, _>>()?;
    let mut conn = Connection::new(&args.addr);
    let auth = format!("Bearer {}", args.admin_token);
    let headers = [
        ("content-type", "application/json"),
        ("authorization", auth.as_str()),
    ];
    let path = format!("/admin/models/{}/frontier", args.model);
    let (mut ok, mut failed, mut seconds) = (0, 0, Vec::new());
    let mut i = 0;
    while Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(args.swap_every_ms)).await;
        let started = Instant::now();
        match conn
            .send("PUT", &path, &headers, &files[i % files.len()])
            .await
        {
            Ok(r) if r.status == 200 => ok += 1,
            _ => failed += 1,
        }
        seconds.push((started.elapsed().as_secs_f64() * 1e3).round() / 1e3);
        i += 1;
    }
    Ok((ok, failed, seconds))
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Arc::new(Args::parse());
    let texts = Arc::new(sentences(&args.texts)?);
    let started = Instant::now();
    let until = started + Duration::from_secs_f64(args.duration_s);
    let swaps =
        (!args.swap_frontiers.is_empty()).then(|| tokio::spawn(swapper(Arc::clone(&args), until)));
    let clients: Vec<_> = (0..args.concurrency)
        .map(|id| tokio::spawn(client(Arc::clone(&args), Arc::clone(&texts), id, until)))
        .collect();
    let mut all = Tally::default();
    for c in clients {
        let t = c.await?;
        all.latencies_ms.extend(t.latencies_ms);
        all.overhead_ms.extend(t.overhead_ms);
        for (k, v) in t.statuses {
            *all.statuses.entry(k).or_default() += v;
        }
        for (k, v) in t.versions {
            *all.versions.entry(k).or_default() += v;
        }
        all.transport_errors += t.transport_errors;
        all.error_samples.extend(t.error_samples);
        all.budget_met += t.budget_met;
        all.budget_missed += t.budget_missed;
        all.flops += t.flops;
        all.full_flops += t.full_flops;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let swaps = match swaps {
        Some(s) => Some(s.await??),
        None => None,
    };
    all.latencies_ms.sort_by(f64::total_cmp);
    all.overhead_ms.sort_by(f64::total_cmp);
    let ok = all.latencies_ms.len();
    let sent: usize = all.statuses.values().sum::<usize>() + all.transport_errors;
    let judged = all.budget_met + all.budget_missed;
    let report = serde_json::json!({
        "label": args.label,
        "concurrency": args.concurrency,
        "budget": args.budget,
        "seconds": elapsed,
        "sent": sent,
        "ok": ok,
        "statuses": all.statuses,
        "transport_errors": all.transport_errors,
        "error_samples": all.error_samples,
        "throughput_rps": ok as f64 / elapsed,
        "p50_ms": quantile(&all.latencies_ms, 0.50),
        "p95_ms": quantile(&all.latencies_ms, 0.95),
        "p99_ms": quantile(&all.latencies_ms, 0.99),
        "overhead_p50_ms": quantile(&all.overhead_ms, 0.50),
        "budget_met_share": (judged > 0).then(|| all.budget_met as f64 / judged as f64),
        "flops_ratio": all.flops / all.full_flops.max(1.0),
        "frontier_versions": all.versions,
        "swaps": swaps.map(|(ok, failed, seconds)| serde_json::json!({"ok": ok, "failed": failed, "put_seconds": seconds})),
    });
    println!("{report}");
    Ok(())
}
