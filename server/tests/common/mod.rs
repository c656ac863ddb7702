//! Fixtures: tiny random-weight models with the real tokenizer, frontier files searched on
//! nothing but shaped like lat-search's, and an in-process server over them.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use burn::tensor::Device;
use lat_frontier::{
    ArchitectureInfo, CostModel, DevSetInfo, FrontierFile, FrontierPoint, FullModel, GeneSpace,
    ModelIdentity, SCHEMA_VERSION, Task, sha256_file,
};
use lat_model::flops::{Architecture, Head};
use lat_model::train::{LAT_JSON, LatMetadata, WeightPrecision, save_weights, write_json};
use lat_model::{BertConfig, BertForQuestionAnswering, BertForSequenceClassification};
use lat_server::engine::BatchLimits;
use lat_server::{AppState, HttpConfig, Metrics, ModelSpec, ServeOptions, ServedModel};
use tower::ServiceExt;

pub mod binary;

/// Longest input of the tiny models.
pub const MAX_LENGTH: usize = 64;
/// Labels of the tiny classifier.
pub const LABELS: [&str; 2] = ["negative", "positive"];

/// A fresh directory under the system temp dir.
pub fn temp_dir(tag: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "lat-server-test-{}-{tag}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn base_model_dir() -> PathBuf {
    std::env::var_os("LAT_BASE_MODEL_DIR")
        .map(PathBuf::from)
        .expect("LAT_BASE_MODEL_DIR (scripts/test.sh sets it)")
}

fn tiny_config() -> BertConfig {
    BertConfig {
        vocab_size: 30522,
        max_position_embeddings: 128,
        ..BertConfig::tiny(3)
    }
}

/// Writes a tiny model directory of `task` into `dir`.
pub fn write_model(dir: &Path, task: &str) {
    let device = Device::default();
    let config = tiny_config();
    std::fs::create_dir_all(dir).unwrap();
    let labels: Vec<String> = if task == "classification" {
        save_weights(
            &BertForSequenceClassification::init(&config, LABELS.len(), &device),
            &dir.join("model.safetensors"),
            WeightPrecision::F32,
        )
        .unwrap();
        LABELS.iter().map(|s| s.to_string()).collect()
    } else {
        save_weights(
            &BertForQuestionAnswering::init(&config, &device),
            &dir.join("model.safetensors"),
            WeightPrecision::F32,
        )
        .unwrap();
        Vec::new()
    };
    write_json(&dir.join("config.json"), &config).unwrap();
    std::fs::copy(
        base_model_dir().join("tokenizer.json"),
        dir.join("tokenizer.json"),
    )
    .unwrap();
    let meta = LatMetadata {
        task: task.into(),
        labels,
        max_length: MAX_LENGTH,
        training: serde_json::json!({"fixture": true}),
    };
    write_json(&dir.join(LAT_JSON), &meta).unwrap();
}

/// A frontier for the model in `dir`: constant-ratio points at `rates` with rising scores
/// (`offset` added, so two frontiers differ).
pub fn frontier_file(dir: &Path, task: &str, rates: &[f64], offset: f64) -> FrontierFile {
    let config = tiny_config();
    let (head, frontier_task) = if task == "classification" {
        (
            Head::SequenceClassification { num_labels: 2 },
            Task::Classification {
                labels: LABELS.iter().map(|s| s.to_string()).collect(),
            },
        )
    } else {
        (Head::QuestionAnswering, Task::QuestionAnswering)
    };
    let space = GeneSpace {
        num_layers: config.num_hidden_layers,
        max_length: MAX_LENGTH,
    };
    let cost = CostModel {
        arch: Architecture::from(&config),
        head,
        space,
        dev_lengths: vec![12, 30, 64],
    };
    let full = cost.mean_flops(&space.full()).unwrap();
    let full_padded = cost.padded_flops(&space.full()).unwrap();
    let mut points: Vec<FrontierPoint> = rates
        .iter()
        .map(|&rate| {
            let gene = space.constant_rate(rate);
            let mean = cost.mean_flops(&gene).unwrap();
            FrontierPoint {
                flops_ratio: mean / full,
                padded_flops_ratio: cost.padded_flops(&gene).unwrap() / full_padded,
                mean_flops: mean,
                score: 50.0 + offset + 40.0 * (1.0 - rate),
                held_out: None,
                gene,
            }
        })
        .collect();
    points.sort_by(|a, b| a.mean_flops.total_cmp(&b.mean_flops));
    points.dedup_by(|a, b| a.gene == b.gene);
    FrontierFile {
        schema_version: SCHEMA_VERSION,
        model: ModelIdentity {
            name: "tiny".into(),
            weights_sha256: sha256_file(&dir.join("model.safetensors")).unwrap(),
        },
        task: frontier_task,
        metric: if task == "classification" {
            "accuracy"
        } else {
            "f1"
        }
        .into(),
        dev_set: DevSetInfo {
            name: "fixture".into(),
            size: 3,
            inputs: 3,
            mean_tokens: 35.3,
        },
        architecture: ArchitectureInfo {
            num_hidden_layers: config.num_hidden_layers,
            hidden_size: config.hidden_size,
            num_attention_heads: config.num_attention_heads,
            intermediate_size: config.intermediate_size,
        },
        max_length: MAX_LENGTH,
        full_model: FullModel {
            mean_flops: full,
            score: 90.0 + offset,
            held_out: None,
        },
        points,
        search: serde_json::json!({"fixture": true}),
        held_out_set: None,
    }
}

/// Constant drop rates of the default classification frontier (rate 0 = the full model).
pub const RATES: [f64; 4] = [0.6, 0.4, 0.2, 0.0];

/// A model directory with its frontier, ready to serve.
pub struct Fixture {
    /// Where everything is.
    pub dir: PathBuf,
    /// Specs of the served models.
    pub specs: Vec<ModelSpec>,
}

/// A classifier `cls` and a QA model `qa` with their frontiers.
pub fn fixture() -> Fixture {
    let dir = temp_dir("models");
    let mut specs = Vec::new();
    for (name, task) in [("cls", "classification"), ("qa", "question-answering")] {
        let model_dir = dir.join(name);
        write_model(&model_dir, task);
        let frontier = dir.join(format!("{name}-frontier.json"));
        std::fs::write(
            &frontier,
            serde_json::to_vec_pretty(&frontier_file(&model_dir, task, &RATES, 0.0)).unwrap(),
        )
        .unwrap();
        specs.push(ModelSpec {
            name: name.into(),
            dir: model_dir,
            frontier,
        });
    }
    Fixture { dir, specs }
}

/// Serving options for tests.
pub fn options(max_concurrent_inputs: usize) -> ServeOptions {
    ServeOptions {
        limits: BatchLimits {
            max_batch_tokens: 4096,
            max_batch_requests: 32,
        },
        max_concurrent_inputs,
        calibration_repeats: 1,
        slo_ms: None,
        max_frontier_points: 64,
    }
}

/// An in-process server.
pub struct TestServer {
    /// The state (models, metrics, flags).
    pub state: Arc<AppState>,
    /// The router.
    pub app: Router,
    /// The fixture it serves.
    pub fixture: Fixture,
}

/// Loads and warms the fixture's models behind a router.
pub async fn server_with(http: HttpConfig, options: ServeOptions) -> TestServer {
    server_on(fixture(), http, options).await
}

/// Loads and warms `fixture`'s models behind a router.
pub async fn server_on(fixture: Fixture, http: HttpConfig, options: ServeOptions) -> TestServer {
    let metrics = Arc::new(Metrics::new());
    let state = Arc::new(AppState::new(http, Arc::clone(&metrics)));
    let device = Device::default();
    let models: Vec<Arc<ServedModel>> = fixture
        .specs
        .iter()
        .map(|s| Arc::new(ServedModel::load(s, &options, &device, Arc::clone(&metrics)).unwrap()))
        .collect();
    for m in &models {
        m.warm_up().await.unwrap();
    }
    state.set_models(models);
    state.set_warmed();
    let app = lat_server::router(Arc::clone(&state), true);
    TestServer {
        state,
        app,
        fixture,
    }
}

/// A default in-process server (admin token `secret`, small payload limit).
pub async fn server() -> TestServer {
    server_with(
        HttpConfig {
            admin_token: Some("secret".into()),
            payload_limit: 64 * 1024,
            ..HttpConfig::default()
        },
        options(512),
    )
    .await
}

/// A response, its body parsed as JSON (`Null` if it is not).
pub struct Reply {
    /// Status.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// Body as JSON.
    pub json: serde_json::Value,
    /// Body as text.
    pub text: String,
}

/// Sends one request through the router.
pub async fn call(
    app: &Router,
    method: Method,
    uri: &str,
    body: Option<&serde_json::Value>,
    headers: &[(&str, &str)],
) -> Reply {
    let mut builder = Request::builder().method(method).uri(uri);
    if body.is_some() {
        builder = builder.header("content-type", "application/json");
    }
    for (k, v) in headers {
        builder = builder.header(*k, *v);
    }
    let body = body.map_or_else(Body::empty, |b| Body::from(serde_json::to_vec(b).unwrap()));
    raw(app, builder.body(body).unwrap()).await
}

/// Sends a prepared request.
pub async fn raw(app: &Router, request: Request<Body>) -> Reply {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let json = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
    Reply {
        status,
        headers,
        json,
        text,
    }
}

/// POSTs JSON.
pub async fn post(app: &Router, uri: &str, body: serde_json::Value) -> Reply {
    call(app, Method::POST, uri, Some(&body), &[]).await
}

/// The value of a sample line `name{labels} value` in a scrape (`None`: no such series).
pub fn sample(scrape: &str, series: &str) -> Option<f64> {
    scrape.lines().find_map(|line| {
        let rest = line.strip_prefix(series)?;
        rest.strip_prefix(' ')?.trim().parse().ok()
    })
}
