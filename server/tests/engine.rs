//! The engine thread on a real tiny model: inputs whose client went away are dropped before
//! compute, the rest are answered, and a stopped engine refuses new work.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Instant;

use burn::tensor::Device;
use lat_frontier::Gene;
use lat_model::{BertForSequenceClassification, BertTokenizer, LengthConfig, TextInput};
use lat_server::Metrics;
use lat_server::engine::{BatchLimits, Engine, EngineConfig, Job, Logits, TaskModel};
use tokio::sync::oneshot;

#[tokio::test]
async fn gone_clients_are_dropped_before_compute() {
    let dir = common::temp_dir("engine");
    common::write_model(&dir, "classification");
    let device = Device::default();
    let model = BertForSequenceClassification::load(&dir, 2, &device)
        .unwrap()
        .model;
    let tokenizer = BertTokenizer::from_file(&dir.join("tokenizer.json"), 64).unwrap();
    let metrics = Metrics::new();
    let engine = Engine::start(
        TaskModel::Classification(model),
        EngineConfig {
            limits: BatchLimits {
                max_batch_tokens: 4096,
                max_batch_requests: 8,
            },
            pad_token_id: tokenizer.pad_token_id(),
            device,
        },
        metrics.engine_metrics("m"),
    );
    let job = |text: &str| {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            encoded: tokenizer.encode(TextInput::Single(text)).unwrap(),
            gene: Gene::new(vec![64, 64, 64]),
            config: LengthConfig::keep_all(3),
            predicted_ms: 1.0,
            fixed_ms: 0.5,
            submitted: Instant::now(),
            reply,
        };
        (job, answer)
    };
    let (a, answer_a) = job("first");
    let (gone, answer_gone) = job("nobody waits for me");
    drop(answer_gone);
    let (c, answer_c) = job("third");
    for j in [a, gone, c] {
        engine.submit(j).unwrap();
    }
    for answer in [answer_a, answer_c] {
        let out = answer.await.unwrap().unwrap();
        assert!(matches!(out.logits, Logits::Classes(ref l) if l.len() == 2));
    }
    let scrape = metrics.render();
    assert_eq!(
        common::sample(
            &scrape,
            r#"lat_rejections_total{model="m",reason="client_gone"}"#
        ),
        Some(1.0)
    );
    engine.stop();
    let (late, _answer) = job("too late");
    assert!(engine.submit(late).is_err());
}
