//! The committed default model (`models/sst2`): started with no model flags from the
//! repository root, the real binary loads the half-precision weights, accepts the committed
//! frontier (whose hash pins those weights) and answers the README's requests: correct
//! sentiment, and FLOPs about half the full model's under `flops_ratio: 0.5`.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use common::binary::{Server, http};

fn classify(addr: &str, body: &str) -> serde_json::Value {
    let r = http(addr, "POST", "/v1/classify", Some(body)).unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    serde_json::from_str(&r.body).unwrap()
}

#[test]
fn a_fresh_clone_serves_the_default_model() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let server = Server::start(root, &["--threads", "2", "--calibration-repeats", "1"]);
    let addr = server.addr.clone();

    let models = http(&addr, "GET", "/v1/models", None).unwrap();
    let models: serde_json::Value = serde_json::from_str(&models.body).unwrap();
    assert_eq!(models["models"][0]["name"], "sst2", "{models}");
    assert_eq!(models["models"][0]["task"], "classification", "{models}");
    let metrics = http(&addr, "GET", "/metrics", None).unwrap().body;
    assert!(
        metrics.contains(r#"lat_engine_info{device="cpu",precision="f32"} 1"#),
        "{metrics}"
    );

    let half = classify(
        &addr,
        r#"{"inputs": "a gorgeous , witty , seductive movie that keeps its surprises until the very last scene .", "budget": {"flops_ratio": 0.5}}"#,
    );
    let result = &half["results"][0];
    assert_eq!(result["label"], "positive", "{half}");
    let spent = &result["spent"];
    let ratio = spent["flops_ratio"].as_f64().unwrap();
    assert!((0.35..=0.5).contains(&ratio), "{spent}");
    assert_eq!(spent["budget_met"], true, "{spent}");
    // The shipped frontier carries every point's held-out accuracy.
    let held_out = spent["held_out_score"].as_f64().unwrap();
    assert!((50.0..=100.0).contains(&held_out), "{spent}");
    assert_ne!(spent["held_out_score"], spent["expected_score"], "{spent}");

    let full = classify(
        &addr,
        r#"{"inputs": "the plot is a tired retread and the jokes fall flat for two long hours ."}"#,
    );
    let result = &full["results"][0];
    assert_eq!(result["label"], "negative", "{full}");
    // Unbudgeted requests get the most accurate point, which costs more than the budgeted one.
    assert!(
        result["spent"]["flops_ratio"].as_f64().unwrap() > ratio,
        "{full}"
    );

    let log = server.terminate();
    assert!(log.iter().any(|l| l.contains("drained")), "{log:#?}");
}
