//! `lat-train`: standard fine-tuning (stage 1) and LengthDrop training (stage 2) of a BERT-family
//! model for classification or extractive QA, and evaluation at constant keep ratios.
//!
//! ```text
//! lat-train classify --stage standard --output runs/sst2-standard
//! lat-train classify --stage length-adaptive --init runs/sst2-standard/checkpoint-best \
//!     --output runs/sst2-la
//! lat-train eval-classify --model-dir runs/sst2-la/checkpoint-best
//! lat-train qa --stage standard --output runs/squad-standard
//! lat-train export --model-dir runs/sst2-la/checkpoint-best --output models/sst2 --half
//! ```

mod allocator;
mod args;
mod bench;
mod classify;
mod export;
mod qa;

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Result;
use clap::{Parser, Subcommand};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "lat-train",
    version,
    about = "Train Length-Adaptive Transformers"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train a sequence classifier on GLUE-style TSV files (default: SST-2 in ../shared/data).
    Classify(classify::ClassifyArgs),
    /// Evaluate a classifier at full length and at constant keep ratios.
    EvalClassify(classify::EvalClassifyArgs),
    /// Train an extractive-QA model on SQuAD v1.1 JSON (default: the dev set split by article).
    Qa(qa::QaArgs),
    /// Evaluate a QA model (EM/F1) at full length and at constant keep ratios.
    EvalQa(qa::EvalQaArgs),
    /// Time optimisation steps at a fixed batch shape (training throughput).
    BenchStep(bench::BenchArgs),
    /// Copy a trained model directory with its weights re-encoded (`--half` for shipping).
    Export(export::ExportArgs),
}

/// Set on the first Ctrl-C / SIGTERM: the run saves its state after the current step and
/// exits; a second signal exits at once.
pub fn interrupt_flag() -> &'static AtomicBool {
    static FLAG: OnceLock<&'static AtomicBool> = OnceLock::new();
    FLAG.get_or_init(|| {
        let flag: &'static AtomicBool = Box::leak(Box::new(AtomicBool::new(false)));
        let installed = ctrlc::set_handler(move || {
            if flag.swap(true, Ordering::Relaxed) {
                std::process::exit(130);
            }
            eprintln!("\nstopping after this step (state will be saved); Ctrl-C again to abort");
        });
        if let Err(e) = installed {
            eprintln!(
                "warning: no Ctrl-C handler ({e}); an interrupt loses the steps since the last save"
            );
        }
        flag
    })
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    allocator::keep_freed_memory();
    match cli.command {
        Command::Classify(args) => classify::train(args),
        Command::EvalClassify(args) => classify::evaluate(args),
        Command::Qa(args) => qa::train(args),
        Command::EvalQa(args) => qa::evaluate(args),
        Command::BenchStep(args) => bench::run(args),
        Command::Export(args) => export::run(args),
    }
}
