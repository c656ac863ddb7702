//! `lat-bench`: forward-pass speed of a real checkpoint at full length and at constant
//! keep rates, with the FLOPs ratio beside the measured time ratio.
//!
//! ```text
//! cargo run --release -p lat-model --bin lat-bench -- --model-dir models-cache/all-MiniLM-L6-v2
//! ```
//! Threads: `RAYON_NUM_THREADS` (flex's pool). Each cell: one warm-up, then at least
//! `--min-iters` runs and `--min-ms` of work; the median is reported. `--points` adds
//! frontier genes (lengths over `--max-length`, `;`-separated); `--json FILE` also writes
//! one JSON line per cell, labelled `--label`, for `scripts/bench-compare.sh`.

use std::io::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use burn::tensor::Device;
use lat_model::flops::{Architecture, Head, flops};
use lat_model::{Batch, BertForSequenceClassification, Encoded, LengthConfig};

// Every op allocates its output; glibc's malloc returns large blocks to the kernel and
// faults fresh zeroed pages in again on every forward (about a tenth of the time in
// `perf`), which mimalloc's reuse avoids.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Args {
    model_dir: PathBuf,
    batch_sizes: Vec<usize>,
    lengths: Vec<usize>,
    rates: Vec<f64>,
    points: Vec<Vec<usize>>,
    max_length: usize,
    json: Option<PathBuf>,
    label: String,
    min_iters: usize,
    min_ms: f64,
    device: String,
}

const USAGE: &str = "lat-bench [--model-dir DIR] [--batch-sizes 1,8,32] [--lengths 16,64,128,384]
    [--rates 0.9,0.8,0.7,0.6|none] [--points 'l1,l2,..;..'] [--max-length 128]
    [--json FILE] [--label lat] [--min-iters 3] [--min-ms 1000] [--device cpu|wgpu]
environment: RAYON_NUM_THREADS, LAT_KERNELS=off, LAT_PRECISION=f32|bf16";

fn parse_list<T: std::str::FromStr>(value: &str) -> Result<Vec<T>> {
    value
        .split(',')
        .map(|v| {
            v.trim()
                .parse()
                .map_err(|_| anyhow::anyhow!("bad value `{v}`"))
        })
        .collect()
}

fn parse_args() -> Result<Args> {
    let mut args = Args {
        model_dir: PathBuf::from("models-cache/all-MiniLM-L6-v2"),
        batch_sizes: vec![1, 8, 32],
        lengths: vec![16, 64, 128, 384],
        rates: vec![0.9, 0.8, 0.7, 0.6],
        points: Vec::new(),
        max_length: 128,
        json: None,
        label: "lat".into(),
        min_iters: 3,
        min_ms: 1000.0,
        device: "cpu".into(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--help" || flag == "-h" {
            println!("{USAGE}");
            std::process::exit(0);
        }
        let value = it.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--model-dir" => args.model_dir = value.into(),
            "--batch-sizes" => args.batch_sizes = parse_list(&value)?,
            "--lengths" => args.lengths = parse_list(&value)?,
            "--rates" if value == "none" => args.rates = Vec::new(),
            "--rates" => args.rates = parse_list(&value)?,
            "--points" => {
                args.points = value.split(';').map(parse_list).collect::<Result<_>>()?;
            }
            "--max-length" => args.max_length = value.parse()?,
            "--json" => args.json = Some(value.into()),
            "--label" => args.label = value,
            "--min-iters" => args.min_iters = value.parse()?,
            "--min-ms" => args.min_ms = value.parse()?,
            "--device" => args.device = value,
            other => bail!("unknown flag {other}\n{USAGE}"),
        }
    }
    Ok(args)
}

/// `b` inputs of exactly `n` tokens: [CLS], pseudo-random word pieces, [SEP].
fn batch(b: usize, n: usize, device: &Device) -> Batch {
    let inputs: Vec<Encoded> = (0..b)
        .map(|row| Encoded {
            input_ids: (0..n)
                .map(|i| match i {
                    0 => 101,
                    _ if i == n - 1 => 102,
                    _ => 1000 + ((row * 7919 + i * 104_729) % 28_000) as u32,
                })
                .collect(),
            token_type_ids: vec![0; n],
            offsets: vec![(0, 0); n],
        })
        .collect();
    Batch::new(&inputs, 0, device)
}

fn median_ms(mut run: impl FnMut(), min_iters: usize, min_ms: f64) -> f64 {
    run();
    let mut times = Vec::new();
    let started = Instant::now();
    while times.len() < min_iters || started.elapsed().as_secs_f64() * 1e3 < min_ms {
        let t = Instant::now();
        run();
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn main() -> Result<()> {
    let args = parse_args()?;
    let device = lat_device::parse_device(&args.device)?;
    let loaded = BertForSequenceClassification::load(&args.model_dir, 2, &device)
        .with_context(|| format!("loading {}", args.model_dir.display()))?;
    let (model, config) = (loaded.model, loaded.config);
    let arch = Architecture::from(&config);
    let layers = config.num_hidden_layers;
    let head = Head::SequenceClassification { num_labels: 2 };
    let threads = std::env::var("RAYON_NUM_THREADS").unwrap_or_else(|_| "all cores".into());
    println!(
        "model {} on {:?}, threads: {threads}, precision: {} (LAT_PRECISION)",
        args.model_dir.display(),
        device,
        lat_model::precision::precision()
    );
    let mut configs = vec![(String::from("full"), LengthConfig::keep_all(layers))];
    for &rate in &args.rates {
        let config =
            LengthConfig::constant_rate(layers, rate).with_context(|| format!("--rates {rate}"))?;
        configs.push((format!("rate {rate}"), config));
    }
    for lengths in &args.points {
        let ratios = lengths
            .iter()
            .map(|&l| l as f64 / args.max_length as f64)
            .collect();
        let gene = lengths.iter().map(usize::to_string).collect::<Vec<_>>();
        let config = LengthConfig::new(ratios).with_context(|| format!("--points {gene:?}"))?;
        configs.push((format!("point {}", gene.join(",")), config));
    }
    let mut json = match &args.json {
        Some(path) => Some(
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
        ),
        None => None,
    };
    println!("| batch x len | config | ms/batch | tokens/s | FLOPs ratio | time ratio |");
    println!("|---|---|---:|---:|---:|---:|");
    for &b in &args.batch_sizes {
        for &n in &args.lengths {
            let input = batch(b, n, &device);
            let full_flops = flops(&arch, &LengthConfig::keep_all(layers), n, head) as f64;
            let mut full_ms = None;
            for (name, length_config) in &configs {
                let ms = median_ms(
                    || {
                        let out = model.forward(&input, length_config);
                        let _ = out.logits.into_data();
                    },
                    args.min_iters,
                    args.min_ms,
                );
                let full = *full_ms.get_or_insert(ms);
                let flops_ratio = flops(&arch, length_config, n, head) as f64 / full_flops;
                let tokens_per_s = (b * n) as f64 / (ms / 1e3);
                println!(
                    "| {b}x{n} | {name} | {ms:.1} | {tokens_per_s:.0} | {flops_ratio:.3} | {:.3} |",
                    ms / full
                );
                if let Some(file) = json.as_mut() {
                    let line = serde_json::json!({
                        "engine": args.label, "config": name, "batch": b, "length": n,
                        "ms": ms, "tokens_per_s": tokens_per_s,
                        "flops_ratio": flops_ratio, "time_ratio": ms / full,
                    });
                    writeln!(file, "{line}")?;
                }
            }
        }
    }
    Ok(())
}
