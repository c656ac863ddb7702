//! `lat-train bench-step`: seconds per optimisation step on the real base model at a fixed
//! batch shape, for comparison with PyTorch (`model/scripts/torch_train_step.py`).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use clap::Args;
use lat_model::train::{
    SamplerConfig, Stage, StepConfig, TrainBatch, TrainFeature, adamw, clip_global_norm, train_step,
};
use lat_model::{BertForSequenceClassification, Encoded};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::args::{DEFAULT_BASE_MODEL, check_model_dir};

/// `lat-train bench-step`.
#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Model to train (a classification head is added).
    #[arg(long, env = "LAT_BASE_MODEL_DIR", default_value = DEFAULT_BASE_MODEL)]
    init: PathBuf,
    /// Examples per step.
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    /// Tokens per example.
    #[arg(long, default_value_t = 64)]
    length: usize,
    /// Timed steps (after one warm-up step).
    #[arg(long, default_value_t = 5)]
    steps: usize,
    /// `standard` or `length-adaptive`.
    #[arg(long, default_value = "standard")]
    stage: Stage,
    /// `cpu` (burn-flex) or `wgpu`.
    #[arg(long, default_value = "cpu")]
    device: String,
}

/// Times optimisation steps on random token ids.
pub fn run(args: BenchArgs) -> Result<()> {
    check_model_dir(&args.init)?;
    let device = lat_device::parse_device(&args.device)?.autodiff();
    let mut model = BertForSequenceClassification::load(&args.init, 2, &device)?.model;
    let mut rng = StdRng::seed_from_u64(0);
    let features: Vec<TrainFeature> = (0..args.batch_size)
        .map(|i| {
            let mut ids: Vec<u32> = (0..args.length)
                .map(|_| rng.random_range(1000..30000))
                .collect();
            ids[0] = 101;
            ids[args.length - 1] = 102;
            TrainFeature {
                encoded: Encoded {
                    input_ids: ids,
                    token_type_ids: vec![0; args.length],
                    offsets: vec![(0, 0); args.length],
                },
                targets: vec![i % 2],
            }
        })
        .collect();
    let refs: Vec<&TrainFeature> = features.iter().collect();
    let batch = TrainBatch::new(&refs, 0, &device);
    let config = StepConfig {
        stage: args.stage,
        num_sandwich: 2,
        sampler: SamplerConfig {
            num_layers: model.bert.num_layers(),
            max_length: args.length,
            length_drop_ratio_bound: 0.2,
            layer_dropout_prob: if args.stage == Stage::Standard {
                0.0
            } else {
                0.2
            },
        },
    };
    let mut optimizer = adamw(1e-8, 0.0);
    let mut times = Vec::new();
    for step in 0..=args.steps {
        let started = Instant::now();
        let mut out = train_step(&model, &batch, &config, &mut rng);
        clip_global_norm(&model, &mut out.grads, 1.0);
        model = optimizer.step(2e-5, model, out.grads);
        let seconds = started.elapsed().as_secs_f64();
        println!(
            "step {step}: {seconds:.3} s, loss {:.4}{}",
            out.losses.loss,
            if step == 0 { " (warm-up)" } else { "" }
        );
        if step > 0 {
            times.push(seconds);
        }
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    println!(
        "lat-train {:?} batch {}x{}: median {median:.3} s/step, {:.1} examples/s",
        args.stage,
        args.batch_size,
        args.length,
        args.batch_size as f64 / median
    );
    Ok(())
}
