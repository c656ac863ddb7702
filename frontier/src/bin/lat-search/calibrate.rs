//! `lat-search calibrate`: measures the latency of every frontier point on this device and
//! writes the calibration table budgets in milliseconds are resolved with.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Args;
use lat_frontier::{Frontier, LatencyCalibration, LatencyModel, LatencySample};
use lat_model::train::{LAT_JSON, LatMetadata, read_json};
use lat_model::{Batch, BertForSequenceClassification, BertTokenizer, TextInput};

/// `lat-search calibrate`.
#[derive(Args, Debug)]
pub struct CalibrateArgs {
    /// Model directory the frontier belongs to.
    #[arg(long)]
    model: PathBuf,
    /// The frontier file.
    #[arg(long)]
    frontier: PathBuf,
    /// Where to write the calibration table (JSON).
    #[arg(long)]
    output: PathBuf,
    /// Input lengths to time, in tokens.
    #[arg(long, value_delimiter = ',', default_value = "8,16,32,64,128")]
    tokens: Vec<usize>,
    /// Timed repetitions per (point, length); the median is kept.
    #[arg(long, default_value_t = 7)]
    repeats: usize,
    /// cpu or wgpu.
    #[arg(long, default_value = "cpu")]
    device: String,
}

/// Times batch-1 forward passes of every point at every length.
pub fn run(args: CalibrateArgs) -> Result<()> {
    let meta: LatMetadata = read_json(&args.model.join(LAT_JSON))?;
    if meta.task != "classification" {
        bail!(
            "calibrate supports classification models (got {})",
            meta.task
        );
    }
    let frontier = Frontier::load(&args.frontier, None).context("loading the frontier")?;
    let device = lat_device::parse_device(&args.device)?;
    let model = BertForSequenceClassification::load(&args.model, meta.labels.len(), &device)?.model;
    let tokenizer = BertTokenizer::from_file(&args.model.join("tokenizer.json"), meta.max_length)?;
    let text = "a gripping , funny and deeply moving film ".repeat(64);
    let long = tokenizer.encode(TextInput::Single(&text))?;
    let space = frontier.space();
    let mut samples = Vec::new();
    for point in frontier.points() {
        let config = space.config(&point.gene)?;
        for &n in &args.tokens {
            let n = n.clamp(2, long.input_ids.len());
            let mut input = long.clone();
            input.input_ids.truncate(n);
            input.token_type_ids.truncate(n);
            input.offsets.truncate(n);
            let batch = Batch::new(&[input], tokenizer.pad_token_id(), &device);
            let mut times: Vec<f64> = (0..=args.repeats)
                .map(|_| {
                    let started = Instant::now();
                    let logits = model.forward(&batch, &config).logits.into_data();
                    std::hint::black_box(logits);
                    started.elapsed().as_secs_f64() * 1e3
                })
                .skip(1)
                .collect();
            times.sort_by(f64::total_cmp);
            let ms = times[times.len() / 2];
            println!("{:<28} n={n:<4} {ms:8.2} ms", point.gene.label());
            samples.push(LatencySample {
                gene: point.gene.clone(),
                tokens: n,
                ms,
            });
        }
    }
    let table = LatencyCalibration {
        device: format!(
            "{} ({} threads)",
            args.device,
            std::thread::available_parallelism().map_or(1, |n| n.get())
        ),
        samples,
    };
    LatencyModel::fit(&table).context("fitting the calibration")?;
    std::fs::write(&args.output, serde_json::to_string_pretty(&table)? + "\n")
        .with_context(|| format!("writing {}", args.output.display()))?;
    println!("wrote {}", args.output.display());
    Ok(())
}
