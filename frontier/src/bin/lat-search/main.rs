//! `lat-search`: the evolutionary search for the accuracy/FLOPs frontier of a
//! length-adaptive model (Kim & Cho 2021, section 4), writing `frontier.json` for
//! `lat-server`, every evaluated gene, the area per iteration and a plot.

mod calibrate;
mod classify;
mod columns;
mod eval;
mod outputs;
mod qa;
mod search_args;
mod store;

use anyhow::Result;
use clap::{Parser, Subcommand};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser, Debug)]
#[command(
    version,
    about = "Search the accuracy/FLOPs frontier of a length-adaptive model"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Search a sequence-classification model (accuracy on a GLUE-style dev TSV).
    Classify(classify::ClassifyArgs),
    /// Search an extractive-QA model (F1 on held-out SQuAD articles).
    Qa(qa::QaArgs),
    /// Time every frontier point on this device: the calibration table for latency budgets.
    Calibrate(calibrate::CalibrateArgs),
    /// Score given genes or a frontier's points on a data file: accuracy (QA: F1 and EM)
    /// with standard errors, paired differences from the full model, true-length FLOPs.
    Eval(eval::EvalArgs),
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Classify(args) => classify::run(args),
        Command::Qa(args) => qa::run(args),
        Command::Calibrate(args) => calibrate::run(args),
        Command::Eval(args) => eval::run(args),
    }
}
