//! The router in process over tiny real models: every route, error shapes and statuses,
//! budgets, strict mode, batch = single, truncation, QA windows, metrics.
#![allow(clippy::unwrap_used)]

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::{LABELS, call, post, raw, sample, server};
use serde_json::{Value, json};

const TEXT: &str = "a gripping , funny and deeply moving film";

fn error_type(reply: &common::Reply) -> &str {
    reply.json["error_type"]
        .as_str()
        .unwrap_or("<not an envelope>")
}

#[tokio::test]
async fn classify_answers_with_labels_and_what_it_spent() {
    let s = server().await;
    let r = post(&s.app, "/v1/classify", json!({"inputs": TEXT})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let result = &r.json["results"][0];
    let label = result["label"].as_str().unwrap();
    assert!(LABELS.contains(&label));
    let scores = result["scores"].as_array().unwrap();
    let total: f64 = scores.iter().map(|s| s["score"].as_f64().unwrap()).sum();
    assert!((total - 1.0).abs() < 1e-6);
    assert_eq!(scores[0]["label"], label);
    let spent = &result["spent"];
    // No budget: the best point, which is the full model here.
    assert_eq!(spent["point"], 3);
    assert_eq!(spent["flops"], spent["full_flops"]);
    assert_eq!(spent["budget_kind"], "none");
    assert_eq!(spent["budget_met"], Value::Null);
    // The fixture's frontier carries no held-out scores.
    assert_eq!(spent["held_out_score"], Value::Null);
    let n = spent["input_tokens"].as_u64().unwrap();
    assert_eq!(spent["kept_tokens"], json!([n, n, n]));
    assert_eq!(
        r.headers["x-flops"].to_str().unwrap(),
        spent["flops"].to_string()
    );
    let models = call(&s.app, Method::GET, "/v1/models", None, &[]).await;
    let cls = &models.json["models"][0];
    assert_eq!(cls["name"], "cls");
    assert_eq!(cls["frontier"]["version"], spent["frontier_version"]);
    assert_eq!(
        r.headers["x-frontier-version"].to_str().unwrap(),
        spent["frontier_version"].as_str().unwrap()
    );
    assert!(r.headers.contains_key("x-request-id"));
    assert_eq!(cls["frontier"]["latency_calibrated"], true);
}

#[tokio::test]
async fn budgets_pick_cheaper_points_and_strict_refuses() {
    let s = server().await;
    let spend = |r: &common::Reply| r.json["results"][0]["spent"].clone();
    let full = spend(&post(&s.app, "/v1/classify", json!({"inputs": TEXT})).await);
    let half = post(
        &s.app,
        "/v1/classify",
        json!({"inputs": TEXT, "budget": {"flops_ratio": 0.7}}),
    )
    .await;
    let half = spend(&half);
    assert!(half["flops"].as_u64() < full["flops"].as_u64());
    assert!(half["flops_ratio"].as_f64().unwrap() <= 0.7);
    assert_eq!(half["budget_met"], true);
    assert_eq!(half["budget_kind"], "flops_ratio");
    // An absolute budget just under the full model's cost.
    let flops = full["flops"].as_f64().unwrap() - 1.0;
    let abs = spend(
        &post(
            &s.app,
            "/v1/classify",
            json!({"inputs": TEXT, "budget": {"flops": flops}}),
        )
        .await,
    );
    assert!(abs["flops"].as_f64().unwrap() <= flops);
    assert_eq!(abs["point"], 2);
    // Nothing fits: the cheapest point, said so.
    let tiny = post(
        &s.app,
        "/v1/classify",
        json!({"inputs": TEXT, "budget": {"flops": 1.0}}),
    )
    .await;
    assert_eq!(tiny.status, StatusCode::OK);
    assert_eq!(spend(&tiny)["point"], 0);
    assert_eq!(spend(&tiny)["budget_met"], false);
    assert_eq!(tiny.headers["x-budget-met"], "false");
    let strict = post(
        &s.app,
        "/v1/classify",
        json!({"inputs": TEXT, "budget": {"flops": 1.0}, "strict": true}),
    )
    .await;
    assert_eq!(strict.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_type(&strict), "budget_infeasible");
    // Latency: generous fits the best point; impossible gets the cheapest.
    let slow = spend(
        &post(
            &s.app,
            "/v1/classify",
            json!({"inputs": TEXT, "budget": {"latency_ms": 60000}}),
        )
        .await,
    );
    assert_eq!(
        (slow["point"].clone(), slow["budget_met"].clone()),
        (json!(3), json!(true))
    );
    let fast = spend(
        &post(
            &s.app,
            "/v1/classify",
            json!({"inputs": TEXT, "budget": {"latency_ms": 1e-6}}),
        )
        .await,
    );
    assert_eq!(
        (fast["point"].clone(), fast["budget_met"].clone()),
        (json!(0), json!(false))
    );
    for bad in [
        json!({"flops": -1}),
        json!({"flops_ratio": 0}),
        json!({"flops": 1, "latency_ms": 3}),
        json!({}),
        json!({"tokens": 3}),
    ] {
        let r = post(
            &s.app,
            "/v1/classify",
            json!({"inputs": TEXT, "budget": bad}),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert_eq!(error_type(&r), "validation");
    }
}

#[tokio::test]
async fn a_batch_answers_each_input_as_it_is_answered_alone() {
    let s = server().await;
    let inputs = [
        "bad",
        TEXT,
        "an utterly tedious , overlong and joyless exercise in style over substance",
        "fine",
    ];
    let together = post(&s.app, "/v1/classify", json!({"inputs": inputs})).await;
    for r in together.json["results"].as_array().unwrap() {
        assert_eq!(
            r["spent"]["batch_size"], 4,
            "one request's inputs share a pass"
        );
    }
    for budget in [json!(null), json!({"flops_ratio": 0.6})] {
        let mut body = json!({"inputs": inputs});
        if !budget.is_null() {
            body["budget"] = budget.clone();
        }
        let batch = post(&s.app, "/v1/classify", body).await;
        assert_eq!(batch.status, StatusCode::OK, "{}", batch.text);
        for (i, text) in inputs.iter().enumerate() {
            let mut one = json!({"inputs": text});
            if !budget.is_null() {
                one["budget"] = budget.clone();
            }
            let single = post(&s.app, "/v1/classify", one).await;
            let a = &batch.json["results"][i];
            let b = &single.json["results"][0];
            assert_eq!(a["spent"]["point"], b["spent"]["point"]);
            assert_eq!(a["spent"]["kept_tokens"], b["spent"]["kept_tokens"]);
            for (x, y) in a["scores"]
                .as_array()
                .unwrap()
                .iter()
                .zip(b["scores"].as_array().unwrap())
            {
                assert_eq!(x["label"], y["label"]);
                let (x, y) = (x["score"].as_f64().unwrap(), y["score"].as_f64().unwrap());
                assert!((x - y).abs() < 1e-5, "input {i}: {x} vs {y}");
            }
        }
    }
}

#[tokio::test]
async fn pairs_truncation_and_input_validation() {
    let s = server().await;
    let pair = post(
        &s.app,
        "/v1/classify",
        json!({"inputs": {"text": "a man sleeps", "text_pair": "a person rests"}}),
    )
    .await;
    assert_eq!(pair.status, StatusCode::OK);
    let long = "word ".repeat(200);
    let cut = post(&s.app, "/v1/classify", json!({"inputs": long})).await;
    assert_eq!(cut.json["results"][0]["truncated"], true);
    assert_eq!(cut.json["results"][0]["spent"]["input_tokens"], 64);
    let refused = post(
        &s.app,
        "/v1/classify",
        json!({"inputs": long, "truncate": false}),
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let short = post(
        &s.app,
        "/v1/classify",
        json!({"inputs": "fine", "truncate": false}),
    )
    .await;
    assert_eq!(short.json["results"][0]["truncated"], false);
    let many: Vec<&str> = vec!["x"; 33];
    for (body, expected) in [
        (json!({"inputs": []}), "validation"),
        (json!({"inputs": ""}), "validation"),
        (json!({"inputs": many}), "validation"),
        (json!({"inputs": 3}), "validation"),
        (json!({"text": "a"}), "validation"),
        (json!({"inputs": "a", "model": "nope"}), "not_found"),
        (json!({"inputs": "a", "model": "qa"}), "validation"),
    ] {
        let r = post(&s.app, "/v1/classify", body.clone()).await;
        assert_eq!(error_type(&r), expected, "{body}");
        assert_eq!(
            r.status,
            if expected == "not_found" {
                StatusCode::NOT_FOUND
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            }
        );
    }
}

#[tokio::test]
async fn every_transport_error_is_the_envelope() {
    let s = server().await;
    let send = |method: Method, uri: &str, ct: Option<&str>, body: Vec<u8>| {
        let mut b = Request::builder().method(method).uri(uri);
        if let Some(ct) = ct {
            b = b.header("content-type", ct);
        }
        b.body(Body::from(body)).unwrap()
    };
    let cases = [
        (
            send(
                Method::POST,
                "/v1/classify",
                Some("application/json"),
                b"{".to_vec(),
            ),
            400,
            "malformed_request",
        ),
        (
            send(
                Method::POST,
                "/v1/classify",
                Some("text/plain"),
                b"{}".to_vec(),
            ),
            415,
            "unsupported_media_type",
        ),
        (
            send(Method::POST, "/v1/classify", None, b"{}".to_vec()),
            415,
            "unsupported_media_type",
        ),
        (
            send(
                Method::POST,
                "/v1/classify",
                Some("application/json"),
                vec![b' '; 70 * 1024],
            ),
            413,
            "payload_too_large",
        ),
        (
            send(Method::GET, "/v1/nothing", None, vec![]),
            404,
            "not_found",
        ),
        (
            send(Method::GET, "/v1/classify", None, vec![]),
            405,
            "method_not_allowed",
        ),
        (
            send(Method::GET, "/v1/models/nope/frontier", None, vec![]),
            404,
            "not_found",
        ),
        (
            send(Method::POST, "/admin/reload", None, vec![]),
            401,
            "unauthorized",
        ),
    ];
    for (request, status, kind) in cases {
        let uri = request.uri().to_string();
        let r = raw(&s.app, request).await;
        assert_eq!(r.status.as_u16(), status, "{uri}: {}", r.text);
        assert_eq!(error_type(&r), kind, "{uri}");
        assert!(r.json["error"].as_str().is_some_and(|e| !e.is_empty()));
    }
    let wrong = call(
        &s.app,
        Method::POST,
        "/admin/reload",
        None,
        &[("authorization", "Bearer nope")],
    )
    .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.headers["www-authenticate"], "Bearer");
}

#[tokio::test]
async fn auth_admin_disabled_and_api_key() {
    let s = common::server_with(
        lat_server::HttpConfig {
            api_key: Some("k".into()),
            ..lat_server::HttpConfig::default()
        },
        common::options(512),
    )
    .await;
    let off = call(
        &s.app,
        Method::POST,
        "/admin/reload",
        None,
        &[("authorization", "Bearer x")],
    )
    .await;
    assert_eq!(
        (off.status, error_type(&off)),
        (StatusCode::FORBIDDEN, "forbidden")
    );
    let open = post(&s.app, "/v1/classify", json!({"inputs": "a"})).await;
    assert_eq!(
        (open.status, error_type(&open)),
        (StatusCode::UNAUTHORIZED, "unauthorized")
    );
    let ok = call(
        &s.app,
        Method::POST,
        "/v1/classify",
        Some(&json!({"inputs": "a"})),
        &[("authorization", "Bearer k")],
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK);
    let health = call(&s.app, Method::GET, "/health/ready", None, &[]).await;
    assert_eq!(health.status, StatusCode::OK, "health stays public");
}

#[tokio::test]
async fn overload_is_429_with_retry_after_and_nothing_queued() {
    let s = server().await;
    let model = s.state.model_named("cls").unwrap();
    let held = model.admission.clone().try_acquire_many_owned(512).unwrap();
    let r = post(&s.app, "/v1/classify", json!({"inputs": "a"})).await;
    assert_eq!(
        (r.status, error_type(&r)),
        (StatusCode::TOO_MANY_REQUESTS, "overloaded")
    );
    assert_eq!(r.headers["retry-after"], "1");
    drop(held);
    assert_eq!(
        post(&s.app, "/v1/classify", json!({"inputs": "a"}))
            .await
            .status,
        StatusCode::OK
    );
    let scrape = call(&s.app, Method::GET, "/metrics", None, &[]).await.text;
    assert_eq!(
        sample(
            &scrape,
            r#"lat_rejections_total{model="cls",reason="overloaded"}"#
        ),
        Some(1.0)
    );
}

#[tokio::test]
async fn qa_finds_a_span_in_the_context_over_windows() {
    let s = server().await;
    let context = "The Rhine is a European river that begins in the Swiss canton of Graubünden \
                   and flows north into the North Sea. "
        .repeat(4);
    let r = post(
        &s.app,
        "/v1/qa",
        json!({"question": "Where does the Rhine begin?", "context": context}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(
        r.json["windows"].as_u64().unwrap() > 1,
        "a long context needs windows"
    );
    let (start, end) = (
        r.json["start"].as_u64().unwrap() as usize,
        r.json["end"].as_u64().unwrap() as usize,
    );
    let expected: String = context.chars().skip(start).take(end - start).collect();
    assert_eq!(r.json["answer"], expected);
    let spent = &r.json["spent"];
    assert_eq!(spent["point"], 3);
    let cheap = post(
        &s.app,
        "/v1/qa",
        json!({"question": "Where does the Rhine begin?", "context": context, "budget": {"flops_ratio": 0.5}}),
    )
    .await;
    assert!(cheap.json["spent"]["flops"].as_u64() < spent["flops"].as_u64());
    assert_eq!(cheap.json["windows"], r.json["windows"]);
    let empty = post(&s.app, "/v1/qa", json!({"question": " ", "context": "x"})).await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn metrics_exist_from_start_and_move_with_traffic() {
    let s = server().await;
    let scrape = |s: &common::TestServer| {
        let app = s.app.clone();
        async move { call(&app, Method::GET, "/metrics", None, &[]).await }
    };
    let before = scrape(&s).await;
    assert_eq!(before.status, StatusCode::OK);
    assert!(
        before.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let flops = r#"lat_flops_total{model="cls",task="classification"}"#;
    for series in [
        flops,
        r#"lat_budget_missed_total{kind="flops",model="cls"}"#,
        r#"lat_rejections_total{model="qa",reason="overloaded"}"#,
        r#"lat_frontier_point_selected_total{model="cls",point="0"}"#,
        r#"lat_frontier_reload_total{model="cls",result="failure"}"#,
        r#"lat_request_flops_count{model="cls",task="classification"}"#,
        r#"lat_queue_depth{model="cls"}"#,
    ] {
        assert_eq!(
            sample(&before.text, series),
            Some(0.0),
            "{series} missing at start"
        );
    }
    assert_eq!(sample(&before.text, "lat_ready"), Some(1.0));
    let mut spent = 0.0;
    for budget in [json!({"flops_ratio": 0.5}), json!({"flops": 1.0})] {
        let r = post(
            &s.app,
            "/v1/classify",
            json!({"inputs": [TEXT, "ok"], "budget": budget}),
        )
        .await;
        spent += r.headers["x-flops"]
            .to_str()
            .unwrap()
            .parse::<f64>()
            .unwrap();
    }
    let after = scrape(&s).await.text;
    assert_eq!(sample(&after, flops), Some(spent));
    assert_eq!(
        sample(
            &after,
            r#"lat_budget_requests_total{kind="flops_ratio",model="cls"}"#
        ),
        Some(2.0)
    );
    assert_eq!(
        sample(
            &after,
            r#"lat_budget_missed_total{kind="flops",model="cls"}"#
        ),
        Some(2.0)
    );
    assert_eq!(
        sample(
            &after,
            r#"lat_requests_total{model="cls",status="ok",task="classification"}"#
        ),
        Some(2.0)
    );
    assert_eq!(
        sample(
            &after,
            r#"lat_request_flops_count{model="cls",task="classification"}"#
        ),
        Some(4.0)
    );
    assert!(
        sample(
            &after,
            r#"lat_http_requests_total{route="/v1/classify",status="200"}"#
        ) == Some(2.0)
    );
    assert!(sample(&after, r#"lat_batch_size_count{model="cls"}"#).unwrap() >= 1.0);
}

#[tokio::test]
async fn readiness_follows_loading_and_draining_inference_and_liveness_do_not() {
    let s = server().await;
    let get = |uri: &'static str| {
        let app = s.app.clone();
        async move { call(&app, Method::GET, uri, None, &[]).await }
    };
    assert_eq!(get("/health/ready").await.status, StatusCode::OK);
    s.state.start_draining();
    let ready = get("/health/ready").await;
    assert_eq!(
        (ready.status, error_type(&ready)),
        (StatusCode::SERVICE_UNAVAILABLE, "unready")
    );
    assert_eq!(get("/health/live").await.status, StatusCode::OK);
    // Readiness fails so that balancers stop sending; what still arrives is served.
    let r = post(&s.app, "/v1/classify", json!({"inputs": "a"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    let fresh = lat_server::AppState::new(
        lat_server::HttpConfig::default(),
        std::sync::Arc::new(lat_server::Metrics::new()),
    );
    let app = lat_server::router(std::sync::Arc::new(fresh), true);
    assert_eq!(
        call(&app, Method::GET, "/health/ready", None, &[])
            .await
            .status,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(
        call(&app, Method::GET, "/health/live", None, &[])
            .await
            .status,
        StatusCode::OK
    );
    let early = post(&app, "/v1/classify", json!({"inputs": "a"})).await;
    assert_eq!(
        (early.status, error_type(&early)),
        (StatusCode::SERVICE_UNAVAILABLE, "unready")
    );
}

#[tokio::test]
async fn slo_mode_moves_unbudgeted_requests_to_cheaper_points_when_it_must() {
    let with_slo = |ms: f64| {
        let mut options = common::options(512);
        options.slo_ms = Some(ms);
        common::server_with(lat_server::HttpConfig::default(), options)
    };
    let relaxed = with_slo(60_000.0).await;
    let r = post(&relaxed.app, "/v1/classify", json!({"inputs": TEXT})).await;
    let spent = &r.json["results"][0]["spent"];
    assert_eq!(
        (spent["point"].clone(), spent["budget_kind"].clone()),
        (json!(3), json!("slo"))
    );
    assert_eq!(spent["budget_met"], true);
    // An explicit budget still wins over the SLO.
    let explicit = post(
        &relaxed.app,
        "/v1/classify",
        json!({"inputs": TEXT, "budget": {"flops_ratio": 0.6}}),
    )
    .await;
    assert_eq!(
        explicit.json["results"][0]["spent"]["budget_kind"],
        "flops_ratio"
    );

    let tight = with_slo(1e-6).await;
    let r = post(
        &tight.app,
        "/v1/classify",
        json!({"inputs": TEXT, "strict": true}),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "strict applies to explicit budgets only"
    );
    let spent = &r.json["results"][0]["spent"];
    assert_eq!(
        (spent["point"].clone(), spent["budget_met"].clone()),
        (json!(0), json!(false))
    );
    let scrape = call(&tight.app, Method::GET, "/metrics", None, &[])
        .await
        .text;
    assert_eq!(
        sample(&scrape, r#"lat_slo_degraded_total{model="cls"}"#),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &scrape,
            r#"lat_budget_missed_total{kind="slo",model="cls"}"#
        ),
        Some(1.0)
    );
}

#[tokio::test]
async fn a_separate_metrics_port_takes_metrics_off_the_public_router() {
    let s = server().await;
    let public = lat_server::router(std::sync::Arc::clone(&s.state), false);
    let off = call(&public, Method::GET, "/metrics", None, &[]).await;
    assert_eq!(
        (off.status, error_type(&off)),
        (StatusCode::NOT_FOUND, "not_found")
    );
    let private = lat_server::metrics_router(std::sync::Arc::clone(&s.state));
    let scrape = call(&private, Method::GET, "/metrics", None, &[]).await;
    assert_eq!(scrape.status, StatusCode::OK);
    assert!(sample(&scrape.text, "lat_ready").is_some());
    assert_eq!(
        call(&private, Method::GET, "/v1/models", None, &[])
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}
