//! `lat-search classify`: search, constant-ratio curves, outputs.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use lat_frontier::{
    CostModel, Fitness, GeneSpace, NaiveClassifier, SearchConfig, SearchOutcome,
    SharedPrefixClassifier, Task, run_search,
};
use lat_model::flops::Architecture;
use lat_model::train::{ClassificationDevSet, LAT_JSON, LatMetadata, TrainFeature, read_json};
use lat_model::{BertForSequenceClassification, BertTokenizer};

use crate::columns::ColumnArgs;
use crate::outputs::{Curve, Outputs, RunInfo};
use crate::search_args::SearchArgs;
use crate::store;

/// How genes are scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Evaluator {
    /// Cached per-input keep counts and shared layer prefixes (exact, fast).
    Shared,
    /// One plain dev pass per gene (the reference's protocol; the speed baseline).
    Naive,
}

/// `lat-search classify`.
#[derive(Args, Debug)]
pub struct ClassifyArgs {
    /// Length-adaptive model directory (written by `lat-train classify`).
    #[arg(long)]
    model: PathBuf,
    /// Standard (stage-1) model, for its constant-ratio curve and the LA† reference score.
    #[arg(long)]
    standard_model: Option<PathBuf>,
    /// Dev TSV [default: $LAT_DATA_DIR/sst2/dev.tsv].
    #[arg(long)]
    dev: Option<PathBuf>,
    #[command(flatten)]
    columns: ColumnArgs,
    /// Output directory.
    #[arg(long)]
    output: PathBuf,
    #[command(flatten)]
    search: SearchArgs,
    /// How genes are scored.
    #[arg(long, value_enum, default_value_t = Evaluator::Shared)]
    evaluator: Evaluator,
    /// Input tokens per forward pass (shared evaluator) before fan-out.
    #[arg(long, default_value_t = 8192)]
    tokens_per_pass: usize,
    /// Examples per forward pass (naive evaluator).
    #[arg(long, default_value_t = 64)]
    batch_size: usize,
}

/// A loaded classifier and its dev set.
struct Loaded {
    meta: LatMetadata,
    model: BertForSequenceClassification,
    config: lat_model::BertConfig,
    dev: ClassificationDevSet,
}

fn load(dir: &Path, args: &ClassifyArgs, dev_path: &Path) -> Result<Loaded> {
    if !dir.join("config.json").is_file() {
        bail!("no model at {} (config.json missing)", dir.display());
    }
    let meta: LatMetadata = read_json(&dir.join(LAT_JSON))?;
    if meta.task != "classification" {
        bail!("{} is a {} model", dir.display(), meta.task);
    }
    let data = args.columns.read(dev_path, &meta.labels)?;
    let tokenizer = BertTokenizer::from_file(&dir.join("tokenizer.json"), meta.max_length)?;
    let device = lat_device::parse_device(&args.search.device)?;
    let loaded = BertForSequenceClassification::load(dir, meta.labels.len(), &device)
        .with_context(|| format!("loading {}", dir.display()))?;
    let dev = ClassificationDevSet {
        features: TrainFeature::classification(&data, &tokenizer)?,
        batch_size: args.batch_size,
        pad_token_id: tokenizer.pad_token_id(),
        device,
    };
    Ok(Loaded {
        meta,
        model: loaded.model,
        config: loaded.config,
        dev,
    })
}

/// Runs the search and writes every output.
pub fn run(args: ClassifyArgs) -> Result<()> {
    let dev_path = args.dev.clone().unwrap_or_else(|| {
        std::env::var_os("LAT_DATA_DIR")
            .map_or_else(|| PathBuf::from("../shared/data"), PathBuf::from)
            .join("sst2/dev.tsv")
    });
    let la = load(&args.model, &args, &dev_path)?;
    let features = &la.dev.features;
    println!("{}: {} dev examples", dev_path.display(), features.len());
    let task = Task::Classification {
        labels: la.meta.labels.clone(),
    };
    let cost = CostModel {
        arch: Architecture::from(&la.config),
        head: task.head(),
        space: GeneSpace {
            num_layers: la.config.num_hidden_layers,
            max_length: la.meta.max_length,
        },
        dev_lengths: features.iter().map(|f| f.encoded.input_ids.len()).collect(),
    };
    let config = args.search.config();
    let started = Instant::now();
    let mut shared = SharedPrefixClassifier::new(
        &la.model,
        features,
        la.dev.pad_token_id,
        la.dev.device.clone(),
        args.tokens_per_pass,
    );
    let mut naive = NaiveClassifier {
        model: &la.model,
        dev: &la.dev,
    };
    let outcome = match args.evaluator {
        Evaluator::Shared => search(
            &cost,
            &mut shared,
            &config,
            &args.output,
            args.search.resume,
        )?,
        Evaluator::Naive => search(&cost, &mut naive, &config, &args.output, args.search.resume)?,
    };
    let search_seconds = started.elapsed().as_secs_f64();
    let stats = (args.evaluator == Evaluator::Shared).then_some(shared.stats);
    println!(
        "{} genes in {:.1} s ({:.2} genes/s)",
        outcome.records.len(),
        search_seconds,
        outcome.records.len() as f64 / search_seconds
    );

    let rates: Vec<f64> = (0..=10).map(|k| k as f64 * 0.02).collect();
    let mut curves = vec![Curve::constant_rates(
        "length-adaptive, constant ratio",
        &rates,
        &cost,
        &mut shared_for(&la, &args),
    )?];
    let mut standard_score = None;
    if let Some(dir) = &args.standard_model {
        let standard = load(dir, &args, &dev_path)?;
        let mut fitness = shared_for(&standard, &args);
        let curve = Curve::constant_rates("standard, constant ratio", &rates, &cost, &mut fitness)?;
        standard_score = curve.points.first().map(|p| p.1);
        curves.push(curve);
    }
    let info = RunInfo {
        model_dir: args.model.clone(),
        dev_path,
        dev_size: features.len(),
        task,
        metric: "accuracy".into(),
        config,
        evaluator: format!("{:?}", args.evaluator).to_lowercase(),
        search_seconds,
        stats,
        standard_score,
    };
    Outputs::new(&args.output, &cost, &la.config, &outcome, &curves, &info).write()
}

fn shared_for<'a>(loaded: &'a Loaded, args: &ClassifyArgs) -> SharedPrefixClassifier<'a> {
    SharedPrefixClassifier::new(
        &loaded.model,
        &loaded.dev.features,
        loaded.dev.pad_token_id,
        loaded.dev.device.clone(),
        args.tokens_per_pass,
    )
}

/// Runs the search, printing one line and checkpointing the store per iteration.
pub fn search<F: Fitness>(
    cost: &CostModel,
    fitness: &mut F,
    config: &SearchConfig,
    output: &Path,
    resume: bool,
) -> Result<SearchOutcome>
where
    F::Error: std::fmt::Display,
{
    let started = Instant::now();
    let store_path = output.join("store.tsv");
    let known = if resume {
        store::read(&store_path)?
    } else {
        HashMap::new()
    };
    if resume {
        println!(
            "resuming with {} scored genes from {}",
            known.len(),
            store_path.display()
        );
    }
    std::fs::create_dir_all(output).with_context(|| format!("creating {}", output.display()))?;
    let mut failed = None;
    let outcome = run_search(cost, fitness, config, &known, |s, records| {
        if let Err(e) = store::write(&store_path, records) {
            failed.get_or_insert(e);
        }
        println!(
            "iteration {:>3}/{} | front {:>3} | area {:.3} | best {:.2} | {} genes | {:.0} s",
            s.iteration,
            config.iterations,
            s.front_size,
            s.area,
            s.best_score,
            s.evaluated,
            started.elapsed().as_secs_f64()
        );
    })
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    match failed {
        Some(e) => Err(e),
        None => Ok(outcome),
    }
}
