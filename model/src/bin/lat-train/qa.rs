//! `lat-train qa` and `lat-train eval-qa`: extractive QA on SQuAD v1.1 JSON.

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Args;
use lat_model::data::{SquadExample, SquadWindows, read_squad_json, squad_features};
use lat_model::flops::{Architecture, Head, flops};
use lat_model::train::{
    DevSet, LAT_JSON, LatMetadata, ModelDirFiles, SpanDecoding, SquadDevSet, StateDir,
    TrainFeature, Trainer, read_json,
};
use lat_model::{BertForQuestionAnswering, BertTokenizer, LengthConfig};
use serde_json::json;

use crate::args::{EvalConfigArgs, RunArgs, check_data, check_model_dir, data_dir, report};

/// Which questions train and which evaluate.
#[derive(Args, Debug, Clone)]
pub struct SquadArgs {
    /// SQuAD v1.1 file [default: $LAT_DATA_DIR/squad1.1/dev-v1.1.json].
    #[arg(long)]
    squad: Option<PathBuf>,
    /// Without --dev-squad, the first N articles of --squad train and the rest evaluate.
    #[arg(long, default_value_t = 38)]
    train_articles: usize,
    /// A separate evaluation file; then all of --squad trains.
    #[arg(long)]
    dev_squad: Option<PathBuf>,
    /// Tokens per window, special tokens included.
    #[arg(long, default_value_t = 384)]
    max_length: usize,
    /// Tokens between window starts.
    #[arg(long, default_value_t = 128)]
    doc_stride: usize,
    /// Question tokens kept.
    #[arg(long, default_value_t = 64)]
    max_query_length: usize,
}

/// Train and dev questions, with the article titles of each side.
struct Split {
    train: Vec<SquadExample>,
    dev: Vec<SquadExample>,
    train_titles: Vec<String>,
    dev_titles: Vec<String>,
}

fn split(args: &SquadArgs) -> Result<Split> {
    let path = args
        .squad
        .clone()
        .unwrap_or_else(|| data_dir().join("squad1.1/dev-v1.1.json"));
    check_data(&path)?;
    let mut articles = read_squad_json(&path)?;
    let dev_articles = match &args.dev_squad {
        Some(dev) => {
            check_data(dev)?;
            read_squad_json(dev)?
        }
        None => {
            if args.train_articles >= articles.len() {
                bail!(
                    "--train-articles {} leaves no article of {} to evaluate on",
                    args.train_articles,
                    articles.len()
                );
            }
            articles.split_off(args.train_articles)
        }
    };
    let titles = |a: &[lat_model::data::SquadArticle]| a.iter().map(|x| x.title.clone()).collect();
    let flatten = |a: Vec<lat_model::data::SquadArticle>| -> Vec<SquadExample> {
        a.into_iter().flat_map(|x| x.examples).collect()
    };
    let split = Split {
        train_titles: titles(&articles),
        dev_titles: titles(&dev_articles),
        train: flatten(articles),
        dev: flatten(dev_articles),
    };
    let misaligned = split
        .train
        .iter()
        .chain(&split.dev)
        .filter(|e| e.answers.iter().any(|a| !a.is_aligned(&e.context)))
        .count();
    println!(
        "{}: {} train questions ({} articles), {} dev questions ({} articles: {}); \
         {misaligned} questions with an answer not found at its offset",
        path.display(),
        split.train.len(),
        split.train_titles.len(),
        split.dev.len(),
        split.dev_titles.len(),
        split.dev_titles.join(", ")
    );
    Ok(split)
}

fn windows(args: &SquadArgs) -> SquadWindows {
    SquadWindows {
        max_length: args.max_length,
        doc_stride: args.doc_stride,
        max_query_length: args.max_query_length,
    }
}

/// `lat-train qa`.
#[derive(Args, Debug)]
pub struct QaArgs {
    #[command(flatten)]
    run: RunArgs,
    #[command(flatten)]
    squad: SquadArgs,
}

/// Trains an extractive-QA model.
pub fn train(args: QaArgs) -> Result<()> {
    let run = &args.run;
    let resuming = run.check_output()?;
    check_model_dir(&run.init)?;
    let device = lat_device::parse_device(&run.device)?;
    let mut data = split(&args.squad)?;
    if let Some(limit) = run.limit_train {
        data.train.truncate(limit);
    }
    let tokenizer =
        BertTokenizer::from_file(&run.init.join("tokenizer.json"), args.squad.max_length)?;
    let train_windows = squad_features(&data.train, &tokenizer, windows(&args.squad))?;
    let outside = train_windows.iter().filter(|f| f.target == (0, 0)).count();
    println!(
        "{} training windows ({outside} without the answer, target [CLS])",
        train_windows.len()
    );
    let train_features: Vec<TrainFeature> = train_windows
        .into_iter()
        .map(|f| TrainFeature {
            encoded: f.encoded,
            targets: vec![f.target.0, f.target.1],
        })
        .collect();
    let dev = SquadDevSet {
        features: squad_features(&data.dev, &tokenizer, windows(&args.squad))?,
        examples: data.dev,
        batch_size: run.eval_batch_size,
        pad_token_id: tokenizer.pad_token_id(),
        decoding: SpanDecoding::default(),
        device: device.clone(),
    };
    let info = json!({"squad": args.squad.squad, "train_articles": data.train_titles,
        "dev_articles": data.dev_titles, "train_windows": train_features.len(),
        "dev_questions": dev.examples.len(), "windows": format!("{:?}", windows(&args.squad)),
        "init": run.init});
    let config = run.config(5e-5, args.squad.max_length, info)?;
    let autodiff = device.clone().autodiff();
    let state_dir = StateDir(run.output.join("state"));
    let (model, state) = if resuming {
        let state = state_dir.read_state()?;
        println!("resuming {} at step {}", run.output.display(), state.step);
        (
            BertForQuestionAnswering::load(state_dir.model_dir(), &autodiff)?.model,
            Some(state),
        )
    } else {
        (
            BertForQuestionAnswering::load(&run.init, &autodiff)?.model,
            None,
        )
    };
    let metadata = LatMetadata {
        task: "question-answering".into(),
        labels: Vec::new(),
        max_length: args.squad.max_length,
        training: serde_json::Value::Null,
    };
    let trainer = Trainer {
        config,
        output_dir: run.output.clone(),
        train: &train_features,
        dev: &dev,
        model_files: ModelDirFiles {
            base: &run.init,
            architecture: "BertForQuestionAnswering",
            metadata: &metadata,
        },
        pad_token_id: tokenizer.pad_token_id(),
        device: autodiff,
        interrupt: Some(crate::interrupt_flag()),
    };
    report(&trainer.run(model, state)?, "F1");
    Ok(())
}

/// `lat-train eval-qa`.
#[derive(Args, Debug)]
pub struct EvalQaArgs {
    /// A model directory written by `lat-train qa` (with lat.json).
    #[arg(long)]
    model_dir: PathBuf,
    #[command(flatten)]
    squad: SquadArgs,
    #[command(flatten)]
    configs: EvalConfigArgs,
    /// Windows per forward pass.
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    /// Write the results as JSON here too.
    #[arg(long)]
    json: Option<PathBuf>,
    /// `cpu` (burn-flex) or `wgpu`.
    #[arg(long, default_value = "cpu")]
    device: String,
}

/// EM/F1 and true-length FLOPs at each constant keep ratio.
pub fn evaluate(args: EvalQaArgs) -> Result<()> {
    check_model_dir(&args.model_dir)?;
    let meta: LatMetadata = read_json(&args.model_dir.join(LAT_JSON))?;
    if meta.task != "question-answering" {
        bail!("{} is a {} model", args.model_dir.display(), meta.task);
    }
    let device = lat_device::parse_device(&args.device)?;
    let data = split(&args.squad)?;
    let tokenizer = BertTokenizer::from_file(
        &args.model_dir.join("tokenizer.json"),
        args.squad.max_length,
    )?;
    let dev = SquadDevSet {
        features: squad_features(&data.dev, &tokenizer, windows(&args.squad))?,
        examples: data.dev,
        batch_size: args.batch_size,
        pad_token_id: tokenizer.pad_token_id(),
        decoding: SpanDecoding::default(),
        device: device.clone(),
    };
    let loaded = BertForQuestionAnswering::load(&args.model_dir, &device)?;
    let arch = Architecture::from(&loaded.config);
    let layers = arch.num_layers;
    let mut rows = Vec::new();
    println!("| configuration | EM | F1 | FLOPs vs full (true lengths) |");
    println!("|---|---|---|---|");
    for (label, config) in args.configs.configs(layers)? {
        let scores = dev.evaluate(&loaded.model, &config)?;
        let full = LengthConfig::keep_all(layers);
        let (spent, all): (u64, u64) = dev.features.iter().fold((0, 0), |(s, a), f| {
            let n = f.encoded.input_ids.len();
            let head = Head::QuestionAnswering;
            (
                s + flops(&arch, &config, n, head),
                a + flops(&arch, &full, n, head),
            )
        });
        let ratio = spent as f64 / all as f64;
        let (em, f1) = (scores.metrics["exact_match"], scores.metrics["f1"]);
        println!("| {label} | {em:.2} | {f1:.2} | {ratio:.3} |");
        rows.push(json!({"config": label, "ratios": config.ratios(), "skipped": config.skipped_layers(), "exact_match": em, "f1": f1, "flops_ratio": ratio}));
    }
    if let Some(path) = &args.json {
        let out =
            json!({"model_dir": args.model_dir, "dev_articles": data.dev_titles, "results": rows});
        std::fs::write(path, serde_json::to_string_pretty(&out)? + "\n")?;
    }
    Ok(())
}
