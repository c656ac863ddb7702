//! `lat-train classify` and `lat-train eval-classify`: GLUE-style sequence classification.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;
use lat_model::data::{ClassificationDataset, TsvColumns, read_glue_tsv};
use lat_model::flops::{Architecture, Head, flops};
use lat_model::train::{
    ClassificationDevSet, LAT_JSON, LatMetadata, ModelDirFiles, StateDir, TrainFeature, Trainer,
    read_json,
};
use lat_model::{BertForSequenceClassification, BertTokenizer, DataError, LengthConfig};
use serde_json::json;

use crate::args::{EvalConfigArgs, RunArgs, check_data, check_model_dir, data_dir, report};

/// Columns of a GLUE-style task.
#[derive(Args, Debug, Clone)]
pub struct TsvArgs {
    /// Column of the (first) text.
    #[arg(long, default_value = "sentence")]
    pub text_a: String,
    /// Column of the second text, for sentence-pair tasks.
    #[arg(long)]
    pub text_b: Option<String>,
    /// Column of the label.
    #[arg(long, default_value = "label")]
    pub label_column: String,
}

/// `lat-train classify`.
#[derive(Args, Debug)]
pub struct ClassifyArgs {
    #[command(flatten)]
    run: RunArgs,
    #[command(flatten)]
    tsv: TsvArgs,
    /// Dev TSV, scored during training to keep the best checkpoint [default:
    /// $LAT_DATA_DIR/sst2/dev.tsv].
    #[arg(long)]
    dev: Option<PathBuf>,
    /// Training TSV [default: $LAT_DATA_DIR/sst2/train.tsv].
    #[arg(long)]
    train: Option<PathBuf>,
    /// Label set in index order, comma-separated [default: sorted labels of the training data].
    #[arg(long, value_delimiter = ',')]
    labels: Option<Vec<String>>,
    /// Longest input in tokens (longer ones are truncated).
    #[arg(long, default_value_t = 128)]
    max_length: usize,
}

fn columns(tsv: &TsvArgs, labels: Option<Vec<String>>) -> TsvColumns {
    TsvColumns {
        text_a: tsv.text_a.clone(),
        text_b: tsv.text_b.clone(),
        label: tsv.label_column.clone(),
        labels,
    }
}

fn features(data: &ClassificationDataset, tokenizer: &BertTokenizer) -> Result<Vec<TrainFeature>> {
    Ok(TrainFeature::classification(data, tokenizer)?)
}

fn read(path: &Path, columns: &TsvColumns) -> Result<ClassificationDataset> {
    check_data(path)?;
    let data = read_glue_tsv(path, columns)?;
    println!(
        "{}: {} examples, labels {:?}, {} blank lines skipped",
        path.display(),
        data.examples.len(),
        data.labels,
        data.blank_lines
    );
    Ok(data)
}

/// Trains a classifier.
pub fn train(args: ClassifyArgs) -> Result<()> {
    let run = &args.run;
    let resuming = run.check_output()?;
    check_model_dir(&run.init)?;
    let device = lat_device::parse_device(&run.device)?;
    let train_path = args
        .train
        .clone()
        .unwrap_or_else(|| data_dir().join("sst2/train.tsv"));
    let dev_path = args
        .dev
        .clone()
        .unwrap_or_else(|| data_dir().join("sst2/dev.tsv"));
    let mut train_data = read(&train_path, &columns(&args.tsv, args.labels.clone()))?;
    let labels = train_data.labels.clone();
    let dev_data = read(&dev_path, &columns(&args.tsv, Some(labels.clone())))?;
    if let Some(limit) = run.limit_train {
        train_data.examples.truncate(limit);
    }
    let tokenizer = BertTokenizer::from_file(&run.init.join("tokenizer.json"), args.max_length)?;
    let train_features = features(&train_data, &tokenizer)?;
    let dev = ClassificationDevSet {
        features: features(&dev_data, &tokenizer)?,
        batch_size: run.eval_batch_size,
        pad_token_id: tokenizer.pad_token_id(),
        device: device.clone(),
    };
    let data = json!({"train": train_path, "train_examples": train_features.len(),
        "dev": dev_path, "dev_examples": dev.features.len(), "init": run.init});
    let config = run.config(2e-5, args.max_length, data)?;
    let autodiff = device.clone().autodiff();
    let state_dir = StateDir(run.output.join("state"));
    let (model, state) = if resuming {
        let state = state_dir.read_state()?;
        println!("resuming {} at step {}", run.output.display(), state.step);
        let loaded =
            BertForSequenceClassification::load(state_dir.model_dir(), labels.len(), &autodiff)?;
        (loaded.model, Some(state))
    } else {
        let loaded = BertForSequenceClassification::load(&run.init, labels.len(), &autodiff)
            .with_context(|| format!("loading {}", run.init.display()))?;
        if !loaded.report.initialised.is_empty() {
            println!("freshly initialised: {:?}", loaded.report.initialised);
        }
        (loaded.model, None)
    };
    let metadata = LatMetadata {
        task: "classification".into(),
        labels,
        max_length: args.max_length,
        training: serde_json::Value::Null,
    };
    let trainer = Trainer {
        config,
        output_dir: run.output.clone(),
        train: &train_features,
        dev: &dev,
        model_files: ModelDirFiles {
            base: &run.init,
            architecture: "BertForSequenceClassification",
            metadata: &metadata,
        },
        pad_token_id: tokenizer.pad_token_id(),
        device: autodiff,
        interrupt: Some(crate::interrupt_flag()),
    };
    report(&trainer.run(model, state)?, "accuracy");
    Ok(())
}

/// `lat-train eval-classify`.
#[derive(Args, Debug)]
pub struct EvalClassifyArgs {
    /// A model directory written by `lat-train classify` (with lat.json).
    #[arg(long)]
    model_dir: PathBuf,
    /// TSV to score on (dev or test data) [default: $LAT_DATA_DIR/sst2/dev.tsv].
    #[arg(long, alias = "dev")]
    data: Option<PathBuf>,
    #[command(flatten)]
    tsv: TsvArgs,
    #[command(flatten)]
    configs: EvalConfigArgs,
    /// The label column's values in label-index order, comma-separated, when they differ
    /// from the model's class names (e.g. `0,1` for the shipped `negative,positive` model).
    #[arg(long, value_delimiter = ',')]
    label_values: Option<Vec<String>>,
    /// Examples per forward pass.
    #[arg(long, default_value_t = 64)]
    batch_size: usize,
    /// Write the results as JSON here too.
    #[arg(long)]
    json: Option<PathBuf>,
    /// `cpu` (burn-flex) or `wgpu`.
    #[arg(long, default_value = "cpu")]
    device: String,
}

/// Dev accuracy and true-length FLOPs at each constant keep ratio.
pub fn evaluate(args: EvalClassifyArgs) -> Result<()> {
    check_model_dir(&args.model_dir)?;
    let meta: LatMetadata = read_json(&args.model_dir.join(LAT_JSON))?;
    if meta.task != "classification" {
        bail!("{} is a {} model", args.model_dir.display(), meta.task);
    }
    let device = lat_device::parse_device(&args.device)?;
    let dev_path = args
        .data
        .clone()
        .unwrap_or_else(|| data_dir().join("sst2/dev.tsv"));
    let labels = args
        .label_values
        .clone()
        .unwrap_or_else(|| meta.labels.clone());
    let dev_data = read(&dev_path, &columns(&args.tsv, Some(labels))).map_err(|e| {
        let unknown = e
            .downcast_ref::<DataError>()
            .is_some_and(|d| matches!(d, DataError::UnknownLabel { .. }));
        if unknown && args.label_values.is_none() {
            e.context(format!(
                "the model's labels are {:?}; if the label column uses other values, pass \
                 them in that order with --label-values (e.g. --label-values 0,1)",
                meta.labels
            ))
        } else {
            e
        }
    })?;
    let tokenizer =
        BertTokenizer::from_file(&args.model_dir.join("tokenizer.json"), meta.max_length)?;
    let dev = ClassificationDevSet {
        features: features(&dev_data, &tokenizer)?,
        batch_size: args.batch_size,
        pad_token_id: tokenizer.pad_token_id(),
        device: device.clone(),
    };
    let loaded = BertForSequenceClassification::load(&args.model_dir, meta.labels.len(), &device)?;
    let arch = Architecture::from(&loaded.config);
    let layers = arch.num_layers;
    let head = Head::SequenceClassification {
        num_labels: meta.labels.len(),
    };
    let mut rows = Vec::new();
    println!("| configuration | accuracy | FLOPs vs full (true lengths) |");
    println!("|---|---|---|");
    for (label, config) in args.configs.configs(layers)? {
        let predictions = dev.predict(&loaded.model, &config);
        let labels: Vec<usize> = dev.features.iter().map(|f| f.targets[0]).collect();
        let correct = predictions
            .iter()
            .zip(&labels)
            .filter(|(p, l)| p == l)
            .count();
        let acc = 100.0 * correct as f64 / labels.len().max(1) as f64;
        let full = LengthConfig::keep_all(layers);
        let (spent, all): (u64, u64) = dev.features.iter().fold((0, 0), |(s, a), f| {
            let n = f.encoded.input_ids.len();
            (
                s + flops(&arch, &config, n, head),
                a + flops(&arch, &full, n, head),
            )
        });
        let ratio = spent as f64 / all as f64;
        println!("| {label} | {acc:.2} | {ratio:.3} |");
        rows.push(json!({"config": label, "ratios": config.ratios(), "skipped": config.skipped_layers(), "accuracy": acc, "flops_ratio": ratio,
            "mean_flops": spent as f64 / dev.features.len() as f64}));
    }
    if let Some(path) = &args.json {
        let out = json!({"model_dir": args.model_dir, "data": dev_path, "results": rows});
        std::fs::write(path, serde_json::to_string_pretty(&out)? + "\n")
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}
