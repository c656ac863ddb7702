//! Limits an attacker probes, in process: characters per input, empty-after-normalisation
//! texts, the bearer scheme's case, every error in the envelope (the admin token checked
//! before a body is read, non-UTF-8 paths, oversized heads), the frontier-points cap, and the
//! admin PUT writing the frontier file so the watcher keeps it.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::{call, post, raw, server, server_with};
use lat_server::{HttpConfig, ServeOptions};
use serde_json::json;

fn assert_envelope(r: &common::Reply, status: StatusCode, error_type: &str) {
    assert_eq!(r.status, status, "{}", r.text);
    assert_eq!(r.json["error_type"], error_type, "{}", r.text);
    assert!(r.json["error"].as_str().is_some_and(|e| !e.is_empty()));
    assert!(
        r.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
}

#[tokio::test]
async fn long_texts_are_cut_at_the_character_cap_or_refused() {
    let s = server_with(
        HttpConfig {
            max_input_chars: Some(1000),
            payload_limit: 4_000_000,
            ..HttpConfig::default()
        },
        common::options(512),
    )
    .await;
    let long = "a gripping film . ".repeat(100_000);
    let cut = post(&s.app, "/v1/classify", json!({"inputs": long})).await;
    assert_eq!(cut.status, StatusCode::OK, "{}", cut.text);
    assert_eq!(cut.json["results"][0]["truncated"], true);
    let refused = post(
        &s.app,
        "/v1/classify",
        json!({"inputs": long, "truncate": false}),
    )
    .await;
    assert_envelope(&refused, StatusCode::UNPROCESSABLE_ENTITY, "validation");
    assert!(
        refused.text.contains("--max-input-chars"),
        "{}",
        refused.text
    );
    // Under the cap, the token limit still decides `truncated`, from one tokenisation.
    let short = post(&s.app, "/v1/classify", json!({"inputs": "a gripping film"})).await;
    assert_eq!(short.json["results"][0]["truncated"], false);
    let over_tokens = "film ".repeat(150);
    let r = post(&s.app, "/v1/classify", json!({"inputs": over_tokens})).await;
    assert_eq!(r.json["results"][0]["truncated"], true, "{}", r.text);
    let qa = post(
        &s.app,
        "/v1/qa",
        json!({"question": "who?", "context": long}),
    )
    .await;
    assert_envelope(&qa, StatusCode::UNPROCESSABLE_ENTITY, "validation");
    assert!(qa.text.contains("`context` is longer"), "{}", qa.text);
}

#[tokio::test]
async fn texts_of_only_control_or_zero_width_characters_are_empty() {
    let s = server().await;
    for text in ["\u{0000}", "\u{200b}", "\u{200b}\u{0007} \u{feff}"] {
        let r = post(&s.app, "/v1/classify", json!({"inputs": text})).await;
        assert_envelope(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation");
        assert!(r.text.contains("empty"), "{}", r.text);
        let pair = post(
            &s.app,
            "/v1/classify",
            json!({"inputs": [{"text": "fine", "text_pair": text}]}),
        )
        .await;
        assert_envelope(&pair, StatusCode::UNPROCESSABLE_ENTITY, "validation");
        let q = post(
            &s.app,
            "/v1/qa",
            json!({"question": text, "context": "a b c"}),
        )
        .await;
        assert_envelope(&q, StatusCode::UNPROCESSABLE_ENTITY, "validation");
        assert!(q.text.contains("`question` is empty"), "{}", q.text);
        let c = post(
            &s.app,
            "/v1/qa",
            json!({"question": "who?", "context": text}),
        )
        .await;
        assert_envelope(&c, StatusCode::UNPROCESSABLE_ENTITY, "validation");
        assert!(c.text.contains("`context` is empty"), "{}", c.text);
    }
}

#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive() {
    let s = server().await;
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let auth = format!("{scheme} secret");
        let r = call(
            &s.app,
            Method::POST,
            "/admin/reload",
            None,
            &[("authorization", &auth)],
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{scheme}: {}", r.text);
    }
    let wrong = call(
        &s.app,
        Method::POST,
        "/admin/reload",
        None,
        &[("authorization", "Basic secret")],
    )
    .await;
    assert_envelope(&wrong, StatusCode::UNAUTHORIZED, "unauthorized");
}

#[tokio::test]
async fn the_admin_token_is_checked_before_the_body_is_read() {
    let s = server().await;
    let huge = vec![b' '; 10_000_000];
    let request = Request::builder()
        .method(Method::PUT)
        .uri("/admin/models/cls/frontier")
        .header("content-type", "application/json")
        .body(Body::from(huge.clone()))
        .unwrap();
    assert_envelope(
        &raw(&s.app, request).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );
    let request = Request::builder()
        .method(Method::PUT)
        .uri("/admin/models/cls/frontier")
        .header("authorization", "Bearer secret")
        .body(Body::from(huge))
        .unwrap();
    assert_envelope(
        &raw(&s.app, request).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
    );
}

#[tokio::test]
async fn every_error_is_the_envelope() {
    let s = server().await;
    let bad_path = call(&s.app, Method::GET, "/v1/models/%FF%FE/frontier", None, &[]).await;
    assert_envelope(&bad_path, StatusCode::BAD_REQUEST, "malformed_request");
    let bad_admin = call(
        &s.app,
        Method::PUT,
        "/admin/models/%C3%28/frontier",
        None,
        &[("authorization", "Bearer secret")],
    )
    .await;
    assert_envelope(&bad_admin, StatusCode::BAD_REQUEST, "malformed_request");
    let big = "x".repeat(40_000);
    let long_head = call(
        &s.app,
        Method::GET,
        "/health/live",
        None,
        &[("x-big", &big)],
    )
    .await;
    assert_envelope(
        &long_head,
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        "headers_too_large",
    );
    let mut request = Request::builder().method(Method::GET).uri("/v1/models");
    for i in 0..150 {
        request = request.header(format!("x-h{i}"), "1");
    }
    let many = raw(&s.app, request.body(Body::empty()).unwrap()).await;
    assert_envelope(
        &many,
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        "headers_too_large",
    );
    let fine = call(&s.app, Method::GET, "/v1/models", None, &[("x-small", "1")]).await;
    assert_eq!(fine.status, StatusCode::OK);
}

fn frontier_body(s: &common::TestServer, rates: &[f64], offset: f64) -> Vec<u8> {
    let spec = &s.fixture.specs[0];
    serde_json::to_vec(&common::frontier_file(
        &spec.dir,
        "classification",
        rates,
        offset,
    ))
    .unwrap()
}

async fn put(s: &common::TestServer, body: Vec<u8>) -> common::Reply {
    let request = Request::builder()
        .method(Method::PUT)
        .uri("/admin/models/cls/frontier")
        .header("authorization", "Bearer secret")
        .body(Body::from(body))
        .unwrap();
    raw(&s.app, request).await
}

fn serving_version(s: &common::TestServer) -> String {
    s.state.models()[0].slot.load().version.clone()
}

#[tokio::test]
async fn a_frontier_with_more_points_than_the_cap_is_refused() {
    let s = server_with(
        HttpConfig {
            admin_token: Some("secret".into()),
            ..HttpConfig::default()
        },
        ServeOptions {
            max_frontier_points: 4,
            ..common::options(512)
        },
    )
    .await;
    let before = serving_version(&s);
    let r = put(&s, frontier_body(&s, &[0.7, 0.6, 0.5, 0.4, 0.2, 0.0], 1.0)).await;
    assert_envelope(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation");
    assert!(r.text.contains("--max-frontier-points"), "{}", r.text);
    assert_eq!(serving_version(&s), before);
    let ok = put(&s, frontier_body(&s, &[0.6, 0.2, 0.0], 1.0)).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
}

#[tokio::test]
async fn an_admin_put_is_written_to_the_file_and_the_watcher_keeps_it() {
    let s = server().await;
    let watcher = tokio::spawn(lat_server::watch_frontiers(
        Arc::clone(&s.state),
        Duration::from_millis(20),
    ));
    let body = frontier_body(&s, &[0.5, 0.0], 2.0);
    let r = put(&s, body.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["result"], "swapped");
    let path = &s.fixture.specs[0].frontier;
    assert_eq!(
        std::fs::read(path).unwrap(),
        body,
        "the file is the source of truth"
    );
    let version = serving_version(&s);
    // Many polls later the PUT still serves.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(serving_version(&s), version);
    // A file that cannot be replaced (here a directory in its place) refuses the PUT.
    std::fs::remove_file(path).unwrap();
    std::fs::create_dir_all(path.join("held")).unwrap();
    let refused = put(&s, frontier_body(&s, &[0.4, 0.0], 3.0)).await;
    assert_envelope(&refused, StatusCode::CONFLICT, "conflict");
    assert_eq!(
        serving_version(&s),
        version,
        "the old frontier keeps serving"
    );
    watcher.abort();
}
