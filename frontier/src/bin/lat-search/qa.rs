//! `lat-search qa`: the frontier of an extractive-QA model, F1 on held-out SQuAD articles.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Args;
use lat_frontier::{CostModel, GeneSpace, SquadF1, Task};
use lat_model::data::{SquadExample, SquadWindows, read_squad_json, squad_features};
use lat_model::flops::Architecture;
use lat_model::train::{LAT_JSON, LatMetadata, SpanDecoding, SquadDevSet, read_json};
use lat_model::{BertForQuestionAnswering, BertTokenizer};

use crate::classify::search;
use crate::outputs::{Outputs, RunInfo};
use crate::search_args::SearchArgs;

/// `lat-search qa`.
#[derive(Args, Debug)]
pub struct QaArgs {
    /// Length-adaptive QA model directory (written by `lat-train qa`).
    #[arg(long)]
    model: PathBuf,
    /// SQuAD v1.1 file [default: $LAT_DATA_DIR/squad1.1/dev-v1.1.json].
    #[arg(long)]
    squad: Option<PathBuf>,
    /// The first N articles trained the model; the rest are the dev set (as `lat-train qa`).
    #[arg(long, default_value_t = 38)]
    train_articles: usize,
    /// Score on the first N dev questions only (all when absent): one dev pass per gene
    /// is expensive on a CPU.
    #[arg(long)]
    dev_questions: Option<usize>,
    /// Tokens between window starts.
    #[arg(long, default_value_t = 128)]
    doc_stride: usize,
    /// Question tokens kept.
    #[arg(long, default_value_t = 64)]
    max_query_length: usize,
    /// Windows per forward pass.
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    /// Output directory.
    #[arg(long)]
    output: PathBuf,
    #[command(flatten)]
    search: SearchArgs,
}

/// The questions of the file's articles after the first `skip` (those that trained the
/// model), the first `limit` of them when given; `flag` names `skip` in the error.
pub fn held_out_questions(
    path: &Path,
    skip: usize,
    limit: Option<usize>,
    flag: &str,
) -> Result<Vec<SquadExample>> {
    let articles = read_squad_json(path).with_context(|| format!("reading {}", path.display()))?;
    if skip >= articles.len() {
        bail!(
            "{flag} {skip} leaves none of the file's {} articles",
            articles.len()
        );
    }
    let mut questions: Vec<SquadExample> = articles
        .into_iter()
        .skip(skip)
        .flat_map(|a| a.examples)
        .collect();
    if let Some(n) = limit {
        questions.truncate(n);
    }
    Ok(questions)
}

/// Runs the search and writes every output.
pub fn run(args: QaArgs) -> Result<()> {
    let dir = &args.model;
    if !dir.join("config.json").is_file() {
        bail!("no model at {} (config.json missing)", dir.display());
    }
    let meta: LatMetadata = read_json(&dir.join(LAT_JSON))?;
    if meta.task != "question-answering" {
        bail!("{} is a {} model", dir.display(), meta.task);
    }
    let path = args.squad.clone().unwrap_or_else(|| {
        std::env::var_os("LAT_DATA_DIR")
            .map_or_else(|| PathBuf::from("../shared/data"), PathBuf::from)
            .join("squad1.1/dev-v1.1.json")
    });
    let examples = held_out_questions(
        &path,
        args.train_articles,
        args.dev_questions,
        "--train-articles",
    )?;
    let device = lat_device::parse_device(&args.search.device)?;
    let tokenizer = BertTokenizer::from_file(&dir.join("tokenizer.json"), meta.max_length)?;
    let windows = SquadWindows {
        max_length: meta.max_length,
        doc_stride: args.doc_stride,
        max_query_length: args.max_query_length,
    };
    let dev = SquadDevSet {
        features: squad_features(&examples, &tokenizer, windows)?,
        examples,
        batch_size: args.batch_size,
        pad_token_id: tokenizer.pad_token_id(),
        decoding: SpanDecoding::default(),
        device: device.clone(),
    };
    println!(
        "{}: {} held-out questions, {} windows",
        path.display(),
        dev.examples.len(),
        dev.features.len()
    );
    let loaded = BertForQuestionAnswering::load(dir, &device)?;
    let task = Task::QuestionAnswering;
    let cost = CostModel {
        arch: Architecture::from(&loaded.config),
        head: task.head(),
        space: GeneSpace {
            num_layers: loaded.config.num_hidden_layers,
            max_length: meta.max_length,
        },
        dev_lengths: dev
            .features
            .iter()
            .map(|f| f.encoded.input_ids.len())
            .collect(),
    };
    let config = args.search.config();
    let started = Instant::now();
    let mut fitness = SquadF1 {
        model: &loaded.model,
        dev: &dev,
    };
    let outcome = search(
        &cost,
        &mut fitness,
        &config,
        &args.output,
        args.search.resume,
    )?;
    let search_seconds = started.elapsed().as_secs_f64();
    let info = RunInfo {
        model_dir: args.model.clone(),
        dev_path: path,
        dev_size: dev.examples.len(),
        task,
        metric: "f1".into(),
        config,
        evaluator: "naive".into(),
        search_seconds,
        stats: None,
        standard_score: None,
    };
    Outputs::new(&args.output, &cost, &loaded.config, &outcome, &[], &info).write()
}
