//! `frontier.json`: round trip, every validation error, and budget resolution at its edges.

use lat_frontier::{
    ArchitectureInfo, Budget, BudgetError, DevSetInfo, Expected, Frontier, FrontierError,
    FrontierFile, FrontierPoint, FullModel, Gene, GeneError, LatencyCalibration, LatencyModel,
    LatencySample, ModelIdentity, SCHEMA_VERSION, Task,
};
use lat_model::LengthConfig;
use lat_model::flops::{Architecture, Family, Head, flops};

const ARCH: ArchitectureInfo = ArchitectureInfo {
    num_hidden_layers: 3,
    hidden_size: 32,
    num_attention_heads: 4,
    intermediate_size: 64,
};

fn point(lengths: Vec<usize>, mean_flops: f64, score: f64) -> FrontierPoint {
    FrontierPoint {
        gene: Gene::new(lengths),
        mean_flops,
        flops_ratio: mean_flops / 1000.0,
        padded_flops_ratio: mean_flops / 1000.0,
        score,
        held_out: None,
    }
}

fn file() -> FrontierFile {
    FrontierFile {
        schema_version: SCHEMA_VERSION,
        model: ModelIdentity {
            name: "tiny".into(),
            weights_sha256: "ab12".into(),
        },
        task: Task::Classification {
            labels: vec!["0".into(), "1".into()],
        },
        metric: "accuracy".into(),
        dev_set: DevSetInfo {
            name: "toy".into(),
            size: 10,
            inputs: 10,
            mean_tokens: 12.5,
        },
        architecture: ARCH,
        max_length: 16,
        full_model: FullModel {
            mean_flops: 1000.0,
            score: 90.0,
            held_out: None,
        },
        points: vec![
            point(vec![12, 9, 7], 500.0, 80.0),
            point(vec![14, 12, 10], 700.0, 88.0),
            point(vec![16, 16, 16], 1000.0, 90.0),
        ],
        search: serde_json::json!({"seed": 42}),
        held_out_set: None,
    }
}

fn expected() -> Expected {
    Expected {
        weights_sha256: "ab12".into(),
        architecture: ARCH,
        task: file().task,
    }
}

fn refused(edit: impl FnOnce(&mut FrontierFile)) -> FrontierError {
    let mut f = file();
    edit(&mut f);
    Frontier::new(f, Some(&expected())).expect_err("must be refused")
}

#[test]
fn round_trips_through_disk() {
    let dir = std::env::temp_dir().join(format!("lat-frontier-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp dir");
    let path = dir.join("frontier.json");
    file().save(&path).expect("save");
    let loaded = Frontier::load(&path, Some(&expected())).expect("valid");
    assert_eq!(loaded.file(), &file());
    assert!(!dir.join("frontier.json.tmp").exists());

    std::fs::write(&path, "{ not json").expect("write");
    assert!(matches!(
        Frontier::load(&path, None),
        Err(FrontierError::Json(_))
    ));
    std::fs::write(&path, r#"{"schema_version": 1}"#).expect("write");
    assert!(matches!(
        Frontier::load(&path, None),
        Err(FrontierError::Json(_))
    ));
    assert!(matches!(
        Frontier::load(&dir.join("missing.json"), None),
        Err(FrontierError::Io { .. })
    ));
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn every_validation_error() {
    assert!(matches!(
        refused(|f| f.schema_version = 2),
        FrontierError::SchemaVersion {
            found: 2,
            supported: 1
        }
    ));
    assert!(matches!(
        refused(|f| f.points.clear()),
        FrontierError::Empty
    ));
    assert!(matches!(
        refused(|f| f.points[1].gene = Gene::new(vec![14, 12])),
        FrontierError::Gene {
            point: 1,
            source: GeneError::Layers {
                expected: 3,
                found: 2
            }
        }
    ));
    assert!(matches!(
        refused(|f| f.points[0].gene = Gene::new(vec![9, 12, 7])),
        FrontierError::Gene {
            point: 0,
            source: GeneError::Increasing { layer: 1 }
        }
    ));
    assert!(matches!(
        refused(|f| f.points[2].gene = Gene::new(vec![17, 16, 16])),
        FrontierError::Gene {
            point: 2,
            source: GeneError::Length { layer: 0, .. }
        }
    ));
    assert!(matches!(
        refused(|f| f.points[0].gene.skipped_layers = vec![0, 1, 2]),
        FrontierError::Gene {
            point: 0,
            source: GeneError::Skipped { .. }
        }
    ));
    assert!(matches!(
        refused(|f| f.points[1].score = f64::NAN),
        FrontierError::Number {
            point: 1,
            field: "score"
        }
    ));
    assert!(matches!(
        refused(|f| f.points[0].mean_flops = -1.0),
        FrontierError::Number {
            point: 0,
            field: "mean_flops"
        }
    ));
    assert!(matches!(
        refused(|f| f.points.swap(0, 1)),
        FrontierError::NotSorted { point: 1 }
    ));
    assert!(matches!(
        refused(|f| f.points[2].score = 88.0),
        FrontierError::Dominated { point: 2 }
    ));
    assert!(matches!(
        refused(|f| f.model.weights_sha256 = "ff".into()),
        FrontierError::ModelMismatch { .. }
    ));
    assert!(matches!(
        refused(|f| f.architecture.hidden_size = 64),
        FrontierError::ArchitectureMismatch {
            field: "hidden_size",
            ..
        }
    ));
    assert!(matches!(
        refused(|f| f.task = Task::QuestionAnswering),
        FrontierError::ArchitectureMismatch { field: "task", .. }
    ));
    // Without an expected model only the file itself is checked.
    let mut other = file();
    other.model.weights_sha256 = "ff".into();
    assert!(Frontier::new(other, None).is_ok());
}

fn flops_at(lengths: &[usize], n: usize) -> u64 {
    let arch = Architecture {
        family: Family::Bert,
        num_layers: 3,
        hidden_size: 32,
        intermediate_size: 64,
    };
    let config =
        LengthConfig::new(lengths.iter().map(|&l| l as f64 / 16.0).collect()).expect("valid");
    flops(
        &arch,
        &config,
        n,
        Head::SequenceClassification { num_labels: 2 },
    )
}

#[test]
fn budgets_resolve_to_the_best_point_that_fits() {
    let frontier = Frontier::new(file(), Some(&expected())).expect("valid");
    let n = 16;
    let costs: Vec<u64> = frontier
        .points()
        .iter()
        .map(|p| flops_at(&p.gene.lengths, n))
        .collect();
    assert!(costs[0] < costs[1] && costs[1] < costs[2]);

    // No budget: the best point.
    let choice = frontier.resolve(None, n, None).expect("resolves");
    assert_eq!((choice.point, choice.fits), (2, true));
    assert_eq!(choice.full_flops, costs[2]);
    // Exactly on a point's cost: that point fits.
    let choice = frontier
        .resolve(Some(Budget::Flops(costs[1] as f64)), n, None)
        .expect("resolves");
    assert_eq!(
        (choice.point, choice.fits, choice.flops),
        (1, true, costs[1])
    );
    assert_eq!(choice.kept_tokens, vec![14, 12, 10]);
    assert_eq!(choice.expected_score, 88.0);
    // One FLOP less: the next cheaper one.
    let choice = frontier
        .resolve(Some(Budget::Flops(costs[1] as f64 - 1.0)), n, None)
        .expect("resolves");
    assert_eq!(choice.point, 0);
    // Above the full model: the best.
    let choice = frontier
        .resolve(Some(Budget::Flops(1e18)), n, None)
        .expect("resolves");
    assert_eq!(choice.point, 2);
    // Below the cheapest: the cheapest, flagged.
    let choice = frontier
        .resolve(Some(Budget::Flops(1.0)), n, None)
        .expect("resolves");
    assert_eq!((choice.point, choice.fits), (0, false));
    // Ratios are against the full model on this very input.
    let ratio = costs[1] as f64 / costs[2] as f64;
    let choice = frontier
        .resolve(Some(Budget::FlopsRatio(ratio + 1e-9)), n, None)
        .expect("resolves");
    assert_eq!(choice.point, 1);
    let choice = frontier
        .resolve(Some(Budget::FlopsRatio(1.0)), n, None)
        .expect("resolves");
    assert_eq!(choice.point, 2);
}

#[test]
fn short_and_long_inputs() {
    let frontier = Frontier::new(file(), None).expect("valid");
    // n = 1: every point keeps the one token, so every cost is the full model's; when
    // nothing fits, the cheapest wins and equal costs go to the best score.
    let choice = frontier
        .resolve(Some(Budget::FlopsRatio(0.5)), 1, None)
        .expect("resolves");
    assert_eq!((choice.point, choice.fits), (2, false));
    assert_eq!(choice.kept_tokens, vec![1, 1, 1]);
    let choice = frontier
        .resolve(Some(Budget::FlopsRatio(1.0)), 1, None)
        .expect("resolves");
    assert_eq!((choice.point, choice.fits), (2, true));
    // n = 512 (beyond T): ratios scale to the input, costs follow the FLOPs function.
    let choice = frontier
        .resolve(Some(Budget::FlopsRatio(0.8)), 512, None)
        .expect("resolves");
    assert_eq!(
        choice.flops,
        flops_at(&frontier.points()[choice.point].gene.lengths, 512)
    );
    assert!(choice.fits && choice.flops as f64 <= 0.8 * choice.full_flops as f64);
    assert_eq!(choice.kept_tokens[0], 448);
}

#[test]
fn bad_budgets_and_latency() {
    let frontier = Frontier::new(file(), None).expect("valid");
    let err = |b, n, l| frontier.resolve(Some(b), n, l).expect_err("refused");
    assert_eq!(
        err(Budget::Flops(-1.0), 8, None),
        BudgetError::Invalid {
            kind: "flops",
            value: -1.0
        }
    );
    assert!(matches!(
        err(Budget::FlopsRatio(f64::NAN), 8, None),
        BudgetError::Invalid {
            kind: "flops_ratio",
            ..
        }
    ));
    assert_eq!(err(Budget::Flops(1e9), 0, None), BudgetError::EmptyInput);
    assert_eq!(
        err(Budget::LatencyMs(5.0), 8, None),
        BudgetError::Uncalibrated
    );

    // Latency: 1 ms + 0.1 ms/token for the cheap point, 2 + 0.2 for the middle one; the
    // full model is not calibrated and so never fits a latency budget.
    let mut samples = Vec::new();
    for (p, (a, b)) in [(0usize, (1.0, 0.1)), (1, (2.0, 0.2))] {
        for tokens in [8usize, 16] {
            let gene = frontier.points()[p].gene.clone();
            samples.push(LatencySample {
                gene,
                tokens,
                ms: a + b * tokens as f64,
            });
        }
    }
    let model = LatencyModel::fit(&LatencyCalibration {
        device: "test".into(),
        samples,
    })
    .expect("fits");
    let pick = |ms, n| {
        frontier
            .resolve(Some(Budget::LatencyMs(ms)), n, Some(&model))
            .expect("resolves")
    };
    // n = 10: cheap 2 ms, middle 4 ms.
    assert_eq!(pick(4.0, 10).point, 1);
    assert_eq!(pick(3.9, 10).point, 0);
    let late = pick(1.0, 10);
    assert_eq!((late.point, late.fits), (0, false));
    assert!((pick(100.0, 10).predicted_latency_ms.expect("calibrated") - 4.0).abs() < 1e-9);
}
