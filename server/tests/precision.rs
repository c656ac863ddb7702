//! `--precision` (`LAT_PRECISION`): the real binary serves the default model in bf16 where
//! the CPU has AMX-BF16, says so in `lat_engine_info`, and still labels the README's
//! sentences right; a precision it does not know is refused at start-up.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::process::Command;

use common::binary::{Server, http};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap()
}

fn label(addr: &str, text: &str) -> String {
    let body = serde_json::json!({ "inputs": text }).to_string();
    let r = http(addr, "POST", "/v1/classify", Some(&body)).unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    let json: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    json["results"][0]["label"].as_str().unwrap().to_string()
}

#[test]
fn bf16_serves_the_default_model() {
    if !lat_model::precision::bf16_available() {
        eprintln!("no AMX-BF16 here (or the kernels are off): bf16 serving test skipped");
        return;
    }
    let server = Server::start(
        root(),
        &[
            "--precision",
            "bf16",
            "--threads",
            "2",
            "--calibration-repeats",
            "1",
        ],
    );
    let addr = server.addr.clone();
    let metrics = http(&addr, "GET", "/metrics", None).unwrap().body;
    assert!(
        metrics.contains(r#"lat_engine_info{device="cpu",precision="bf16"} 1"#),
        "{metrics}"
    );
    let good =
        "a gorgeous , witty , seductive movie that keeps its surprises until the very last scene .";
    let bad = "the plot is a tired retread and the jokes fall flat for two long hours .";
    assert_eq!(label(&addr, good), "positive");
    assert_eq!(label(&addr, bad), "negative");
    server.terminate();
}

#[test]
fn an_unknown_precision_is_refused() {
    let out = Command::new(env!("CARGO_BIN_EXE_lat-server"))
        .current_dir(root())
        .env("LAT_PRECISION", "fp16")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("fp16") && stderr.contains("bf16"),
        "{stderr}"
    );
}
