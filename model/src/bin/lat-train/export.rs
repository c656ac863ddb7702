//! `lat-train export`: a trained model directory re-encoded for shipping (half-precision
//! weights for the committed default model under `models/`).

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use lat_model::train::{ExportConfig, WeightPrecision, export_model_dir};

/// `lat-train export`.
#[derive(Args, Debug)]
pub struct ExportArgs {
    /// The trained model directory (e.g. `runs/sst2-length-adaptive/checkpoint-best`).
    #[arg(long)]
    model_dir: PathBuf,
    /// Directory to write.
    #[arg(long)]
    output: PathBuf,
    /// Store the weights in IEEE half precision (the server casts them back to f32).
    #[arg(long)]
    half: bool,
    /// Class names in label-index order, comma-separated (e.g. `negative,positive`).
    #[arg(long, value_delimiter = ',')]
    labels: Option<Vec<String>>,
}

/// Writes the exported directory and says what it wrote.
pub fn run(args: ExportArgs) -> Result<()> {
    let precision = if args.half {
        WeightPrecision::F16
    } else {
        WeightPrecision::F32
    };
    let config = ExportConfig {
        from: &args.model_dir,
        to: &args.output,
        precision,
        labels: args.labels.as_deref(),
    };
    let report = export_model_dir(&config, &lat_device::parse_device("cpu")?)?;
    println!(
        "{}: {} model, weights {:?}, {:.1} MB",
        args.output.display(),
        report.task,
        precision,
        report.weights_bytes as f64 / 1e6
    );
    Ok(())
}
