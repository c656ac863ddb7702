//! The real `lat-server` binary on an ephemeral port, spoken to over TCP: ready after
//! warm-up, its own HEALTHCHECK probe, a budgeted request, the scrape, a frontier published
//! by rename, and a clean drain on SIGTERM.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::binary::{Server, http, wait_until};

fn version(addr: &str) -> String {
    let models = http(addr, "GET", "/v1/models", None).unwrap();
    let json: serde_json::Value = serde_json::from_str(&models.body).unwrap();
    json["models"][0]["frontier"]["version"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

#[test]
fn the_binary_serves_swaps_and_drains() {
    let fixture = common::fixture();
    let spec = &fixture.specs[0];
    let server = Server::start(
        &fixture.dir,
        &[
            "--model-dir",
            spec.dir.to_str().unwrap(),
            "--frontier",
            spec.frontier.to_str().unwrap(),
            "--watch-interval-ms",
            "100",
            "--threads",
            "2",
        ],
    );
    let addr = server.addr.clone();
    let port = addr.rsplit(':').next().unwrap().to_string();
    assert!(
        health_probe(&port),
        "the HEALTHCHECK probe fails on a live server"
    );

    let r = http(
        &addr,
        "POST",
        "/v1/classify",
        Some(r#"{"inputs": "a gripping film", "budget": {"flops_ratio": 0.6}}"#),
    )
    .unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.head.contains("x-flops: "), "{}", r.head);
    let body: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert!(body["results"][0]["spent"]["flops_ratio"].as_f64().unwrap() <= 0.6);
    let bad = http(&addr, "POST", "/v1/classify", Some("{oops")).unwrap();
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains(r#""error_type":"malformed_request""#));

    let scrape = http(&addr, "GET", "/metrics", None).unwrap().body;
    let flops = common::sample(
        &scrape,
        r#"lat_flops_total{model="cls",task="classification"}"#,
    );
    assert!(flops.unwrap() > 0.0);

    let before = version(&addr);
    let file = common::frontier_file(&spec.dir, "classification", &[0.5, 0.0], 3.0);
    let tmp = spec.frontier.with_extension("tmp");
    std::fs::write(&tmp, serde_json::to_vec(&file).unwrap()).unwrap();
    std::fs::rename(&tmp, &spec.frontier).unwrap();
    wait_until("the watcher's swap", Duration::from_secs(60), || {
        version(&addr) != before
    });

    let log = server.terminate();
    assert!(log.iter().any(|l| l.contains("drained")), "{log:#?}");
    assert!(
        !health_probe(&port),
        "the HEALTHCHECK probe passes with no server"
    );
}

/// `lat-server --health-probe` (the Dockerfiles' HEALTHCHECK): whether it exits 0.
fn health_probe(port: &str) -> bool {
    std::process::Command::new(env!("CARGO_BIN_EXE_lat-server"))
        .args(["--health-probe", "--port", port])
        .status()
        .unwrap()
        .success()
}
