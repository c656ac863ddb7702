//! `lat-search eval`: scores chosen genes, or every point of a frontier file, on a data
//! file (one that neither training nor the search saw, for an honest figure), with each
//! point's true-length FLOPs, the score's standard error, and its paired difference from
//! the full model on the same examples.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;
use lat_frontier::{DevSetInfo, Estimate, Frontier, Gene, GeneSpace, sha256_file};
use lat_model::data::{SquadExample, SquadWindows, squad_features};
use lat_model::flops::{Architecture, Head, flops};
use lat_model::metrics::{exact_match, f1_score};
use lat_model::train::{
    ClassificationDevSet, LAT_JSON, LatMetadata, SpanDecoding, SquadDevSet, TrainFeature, read_json,
};
use lat_model::{
    BertForQuestionAnswering, BertForSequenceClassification, BertTokenizer, LengthConfig,
};
use serde_json::json;

use crate::columns::ColumnArgs;
use crate::qa::held_out_questions;

/// `lat-search eval`.
#[derive(Args, Debug)]
pub struct EvalArgs {
    /// Model directory (written by `lat-train`).
    #[arg(long)]
    model: PathBuf,
    /// Data to score on: a GLUE-style TSV for a classifier, a SQuAD v1.1 JSON for QA.
    #[arg(long)]
    data: PathBuf,
    /// Genes to score, space-separated, as frontier files and store.tsv write them:
    /// tokens kept per layer out of the model's max length, then `;` and skipped layers
    /// (e.g. "122,98,63,42,21,11 128,128,128,128,128,128;3").
    #[arg(long, value_delimiter = ' ', num_args = 1..)]
    genes: Vec<Gene>,
    /// Also score every point of this frontier file.
    #[arg(long)]
    frontier: Option<PathBuf>,
    #[command(flatten)]
    columns: ColumnArgs,
    /// QA: skip the file's first N articles (those that trained the model).
    #[arg(long, default_value_t = 0)]
    skip_articles: usize,
    /// QA: score the first N questions only.
    #[arg(long)]
    questions: Option<usize>,
    /// Inputs (QA: windows) per forward pass.
    #[arg(long, default_value_t = 64)]
    batch_size: usize,
    /// Write every row and every example's prediction here as JSON.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Write --frontier here with every point's (and the full model's) held-out score
    /// from this data filled in (`held_out` beside the search's `score`, and the data in
    /// `held_out_set`). The frontier must belong to --model's weights.
    #[arg(long, requires = "frontier")]
    write_frontier: Option<PathBuf>,
    /// cpu or wgpu.
    #[arg(long, default_value = "cpu")]
    device: String,
}

/// Per-example results of one gene: score (percent), extra score (QA: EM), FLOPs spent
/// and FLOPs of the full model, and the prediction.
struct Scored {
    scores: Vec<f64>,
    exact: Option<Vec<f64>>,
    flops: Vec<u64>,
    full_flops: Vec<u64>,
    predictions: Vec<serde_json::Value>,
}

/// A model and its data, ready to score any configuration.
enum Task {
    Classification {
        model: BertForSequenceClassification,
        data: ClassificationDevSet,
        labels: Vec<String>,
    },
    QuestionAnswering {
        model: BertForQuestionAnswering,
        data: SquadDevSet,
    },
}

fn classification(
    args: &EvalArgs,
    meta: &LatMetadata,
    device: &burn::tensor::Device,
) -> Result<(Task, lat_model::BertConfig)> {
    let data = args.columns.read(&args.data, &meta.labels)?;
    let tokenizer = BertTokenizer::from_file(&args.model.join("tokenizer.json"), meta.max_length)?;
    let loaded = BertForSequenceClassification::load(&args.model, meta.labels.len(), device)?;
    let set = ClassificationDevSet {
        features: TrainFeature::classification(&data, &tokenizer)?,
        batch_size: args.batch_size,
        pad_token_id: tokenizer.pad_token_id(),
        device: device.clone(),
    };
    Ok((
        Task::Classification {
            model: loaded.model,
            data: set,
            labels: meta.labels.clone(),
        },
        loaded.config,
    ))
}

fn question_answering(
    args: &EvalArgs,
    meta: &LatMetadata,
    device: &burn::tensor::Device,
) -> Result<(Task, lat_model::BertConfig)> {
    let examples = held_out_questions(
        &args.data,
        args.skip_articles,
        args.questions,
        "--skip-articles",
    )?;
    let tokenizer = BertTokenizer::from_file(&args.model.join("tokenizer.json"), meta.max_length)?;
    let windows = SquadWindows {
        max_length: meta.max_length,
        ..SquadWindows::default()
    };
    let loaded = BertForQuestionAnswering::load(&args.model, device)?;
    let set = SquadDevSet {
        features: squad_features(&examples, &tokenizer, windows)?,
        examples,
        batch_size: args.batch_size,
        pad_token_id: tokenizer.pad_token_id(),
        decoding: SpanDecoding::default(),
        device: device.clone(),
    };
    Ok((
        Task::QuestionAnswering {
            model: loaded.model,
            data: set,
        },
        loaded.config,
    ))
}

impl Task {
    fn head(&self) -> Head {
        match self {
            Task::Classification { labels, .. } => Head::SequenceClassification {
                num_labels: labels.len(),
            },
            Task::QuestionAnswering { .. } => Head::QuestionAnswering,
        }
    }

    fn metric(&self) -> &'static str {
        match self {
            Task::Classification { .. } => "accuracy",
            Task::QuestionAnswering { .. } => "f1",
        }
    }

    /// What the data is, for `held_out_set`.
    fn data_info(&self, name: &Path) -> DevSetInfo {
        let lengths: Vec<usize> = match self {
            Task::Classification { data, .. } => data
                .features
                .iter()
                .map(|f| f.encoded.input_ids.len())
                .collect(),
            Task::QuestionAnswering { data, .. } => data
                .features
                .iter()
                .map(|f| f.encoded.input_ids.len())
                .collect(),
        };
        DevSetInfo {
            name: name.display().to_string(),
            size: self.examples(),
            inputs: lengths.len(),
            mean_tokens: lengths.iter().sum::<usize>() as f64 / lengths.len().max(1) as f64,
        }
    }

    fn examples(&self) -> usize {
        match self {
            Task::Classification { data, .. } => data.features.len(),
            Task::QuestionAnswering { data, .. } => data.examples.len(),
        }
    }

    fn score(&self, arch: &Architecture, config: &LengthConfig) -> Scored {
        let head = self.head();
        let full = LengthConfig::keep_all(config.num_layers());
        let cost = |n: usize| (flops(arch, config, n, head), flops(arch, &full, n, head));
        match self {
            Task::Classification {
                model,
                data,
                labels,
            } => {
                let predicted = data.predict(model, config);
                let (spent, all): (Vec<u64>, Vec<u64>) = data
                    .features
                    .iter()
                    .map(|f| cost(f.encoded.input_ids.len()))
                    .unzip();
                let correct: Vec<bool> = predicted
                    .iter()
                    .zip(&data.features)
                    .map(|(p, f)| *p == f.targets[0])
                    .collect();
                Scored {
                    scores: correct
                        .iter()
                        .map(|&c| if c { 100.0 } else { 0.0 })
                        .collect(),
                    exact: None,
                    flops: spent,
                    full_flops: all,
                    predictions: predicted
                        .iter()
                        .zip(&correct)
                        .map(|(&p, &c)| json!({"label": labels[p], "correct": c}))
                        .collect(),
                }
            }
            Task::QuestionAnswering { model, data } => {
                let answers = data.predict(model, config);
                let mut spent = vec![0u64; data.examples.len()];
                let mut all = vec![0u64; data.examples.len()];
                for f in &data.features {
                    let (s, a) = cost(f.encoded.input_ids.len());
                    spent[f.example] += s;
                    all[f.example] += a;
                }
                let best = |metric: fn(&str, &str) -> f64, answer: &str, e: &SquadExample| {
                    100.0
                        * e.answers
                            .iter()
                            .map(|t| metric(answer, &t.text))
                            .fold(0.0, f64::max)
                };
                let f1: Vec<f64> = answers
                    .iter()
                    .zip(&data.examples)
                    .map(|(a, e)| best(f1_score, a, e))
                    .collect();
                let em: Vec<f64> = answers
                    .iter()
                    .zip(&data.examples)
                    .map(|(a, e)| best(exact_match, a, e))
                    .collect();
                Scored {
                    predictions: answers
                        .iter()
                        .zip(&data.examples)
                        .zip(&f1)
                        .map(|((a, e), f)| json!({"id": e.id, "answer": a, "f1": f}))
                        .collect(),
                    scores: f1,
                    exact: Some(em),
                    flops: spent,
                    full_flops: all,
                }
            }
        }
    }
}

fn genes(args: &EvalArgs, space: &GeneSpace) -> Result<Vec<Gene>> {
    let mut genes = vec![space.full()];
    if let Some(path) = &args.frontier {
        let frontier =
            Frontier::load(path, None).with_context(|| format!("loading {}", path.display()))?;
        if frontier.space() != *space {
            bail!(
                "{} is for {} layers and max length {}, the model has {} and {}",
                path.display(),
                frontier.space().num_layers,
                frontier.space().max_length,
                space.num_layers,
                space.max_length
            );
        }
        genes.extend(frontier.points().iter().map(|p| p.gene.clone()));
    }
    genes.extend(args.genes.iter().cloned());
    if genes.len() == 1 {
        bail!("nothing to score: pass --genes and/or --frontier");
    }
    for gene in &genes {
        space
            .validate(gene)
            .with_context(|| format!("gene {}", gene.label()))?;
    }
    let mut seen = std::collections::HashSet::new();
    genes.retain(|g| seen.insert(g.clone()));
    Ok(genes)
}

fn paired(scores: &[f64], reference: &[f64]) -> Option<Estimate> {
    let diffs: Vec<f64> = scores.iter().zip(reference).map(|(a, b)| a - b).collect();
    Estimate::from_scores(&diffs)
}

/// Scores every gene and prints one table row per gene.
pub fn run(args: EvalArgs) -> Result<()> {
    let meta: LatMetadata = read_json(&args.model.join(LAT_JSON)).with_context(|| {
        format!(
            "{} is not a lat-train model directory",
            args.model.display()
        )
    })?;
    let device = lat_device::parse_device(&args.device)?;
    let (task, config) = match meta.task.as_str() {
        "classification" => classification(&args, &meta, &device)?,
        "question-answering" => question_answering(&args, &meta, &device)?,
        other => bail!("unknown task `{other}` in {LAT_JSON}"),
    };
    let space = GeneSpace {
        num_layers: config.num_hidden_layers,
        max_length: meta.max_length,
    };
    let genes = genes(&args, &space)?;
    let arch = Architecture::from(&config);
    let metric = task.metric();
    println!(
        "{}: {} examples; {metric} ± its standard error; \"vs full\": paired difference on the same examples",
        args.data.display(),
        task.examples()
    );
    println!("| gene | FLOPs vs full (true lengths) | mean FLOPs | {metric} | vs full |");
    println!("|---|---:|---:|---:|---:|");
    let mut rows = Vec::new();
    let mut estimates = std::collections::HashMap::new();
    let mut full_scores: Option<Vec<f64>> = None;
    for gene in &genes {
        let scored = task.score(&arch, &space.config(gene)?);
        let spent: u64 = scored.flops.iter().sum();
        let all: u64 = scored.full_flops.iter().sum();
        let ratio = spent as f64 / all.max(1) as f64;
        let mean_flops = spent as f64 / scored.flops.len().max(1) as f64;
        let estimate = Estimate::from_scores(&scored.scores).context("no examples")?;
        let versus = full_scores.as_ref().and_then(|f| paired(&scored.scores, f));
        println!(
            "| {} | {ratio:.3} | {mean_flops:.4e} | {estimate} | {} |",
            gene.label(),
            versus.map_or_else(
                || "—".into(),
                |v| format!("{:+.2} ± {:.2}", v.mean, v.standard_error)
            )
        );
        let mut row = json!({
            "gene": gene,
            "label": gene.label(),
            "flops_ratio": ratio,
            "mean_flops": mean_flops,
            "exact_match": scored.exact.as_deref().and_then(Estimate::from_scores),
            "vs_full": versus,
            "predictions": scored.predictions,
        });
        row[metric] = json!(estimate);
        rows.push(row);
        estimates.insert(gene.clone(), estimate);
        full_scores.get_or_insert(scored.scores);
    }
    if let (Some(out), Some(source)) = (&args.write_frontier, &args.frontier) {
        write_frontier(&args, source, out, &estimates, task.data_info(&args.data))?;
    }
    if let Some(path) = &args.json {
        let out = json!({
            "model": args.model,
            "data": args.data,
            "examples": task.examples(),
            "metric": metric,
            "rows": rows,
        });
        write_json(path, &out)?;
    }
    Ok(())
}

/// Copies the frontier at `source` to `out` with held-out scores filled in.
fn write_frontier(
    args: &EvalArgs,
    source: &Path,
    out: &Path,
    estimates: &std::collections::HashMap<Gene, Estimate>,
    data: DevSetInfo,
) -> Result<()> {
    let mut file = Frontier::load(source, None)?.file().clone();
    let weights = sha256_file(&args.model.join("model.safetensors"))?;
    if file.model.weights_sha256 != weights {
        bail!(
            "{} was searched on other weights than {}'s: its held-out scores would not be \
             its points'",
            source.display(),
            args.model.display()
        );
    }
    let space = GeneSpace {
        num_layers: file.architecture.num_hidden_layers,
        max_length: file.max_length,
    };
    file.full_model.held_out = estimates.get(&space.full()).copied();
    for point in &mut file.points {
        point.held_out = estimates.get(&point.gene).copied();
    }
    file.held_out_set = Some(data);
    file.save(out)?;
    println!("{}: the frontier with held-out scores", out.display());
    Ok(())
}

fn write_json(path: &Path, value: &serde_json::Value) -> Result<()> {
    std::fs::write(path, serde_json::to_string_pretty(value)? + "\n")
        .with_context(|| format!("writing {}", path.display()))
}
