//! Hot swap: admin PUT, admin reload, the file watcher; invalid candidates refused with the
//! old frontier still serving; a swap storm under load loses no request and never mixes
//! two frontiers in one answer.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::{call, frontier_file, post, raw, sample, server};
use lat_frontier::FrontierFile;
use serde_json::json;

fn put(name: &str, body: Vec<u8>, token: &str) -> Request<Body> {
    Request::builder()
        .method(Method::PUT)
        .uri(format!("/admin/models/{name}/frontier"))
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(Body::from(body))
        .unwrap()
}

fn version(bytes: &[u8]) -> String {
    lat_server::sha256_hex(bytes)[..12].to_string()
}

async fn serving_version(app: &axum::Router) -> String {
    let models = call(app, Method::GET, "/v1/models", None, &[]).await;
    models.json["models"][0]["frontier"]["version"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn admin_reload(app: &axum::Router) -> common::Reply {
    call(
        app,
        Method::POST,
        "/admin/reload",
        None,
        &[("authorization", "Bearer secret")],
    )
    .await
}

fn other_frontier(s: &common::TestServer) -> FrontierFile {
    frontier_file(
        &s.fixture.specs[0].dir,
        "classification",
        &[0.5, 0.3, 0.0],
        2.0,
    )
}

#[tokio::test]
async fn put_swaps_and_invalid_candidates_leave_the_old_frontier_serving() {
    let s = server().await;
    let original = std::fs::read(&s.fixture.specs[0].frontier).unwrap();
    assert_eq!(serving_version(&s.app).await, version(&original));

    let mut wrong_hash = other_frontier(&s);
    wrong_hash.model.weights_sha256 = "00".repeat(32);
    let mut qa_file = frontier_file(&s.fixture.specs[1].dir, "question-answering", &[0.0], 0.0);
    qa_file.model = other_frontier(&s).model;
    let mut dominated = other_frontier(&s);
    dominated.points[1].score = 0.0;
    for (body, needle) in [
        (b"{ not json".to_vec(), "frontier"),
        (serde_json::to_vec(&wrong_hash).unwrap(), "weights"),
        (serde_json::to_vec(&qa_file).unwrap(), "task"),
        (serde_json::to_vec(&dominated).unwrap(), "dominated"),
    ] {
        let r = raw(&s.app, put("cls", body, "secret")).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
        assert_eq!(r.json["error_type"], "validation");
        assert!(r.text.contains(needle), "{needle}: {}", r.text);
        assert_eq!(serving_version(&s.app).await, version(&original));
        let ok = post(&s.app, "/v1/classify", json!({"inputs": "still serving"})).await;
        assert_eq!(ok.status, StatusCode::OK);
    }
    let unchanged = raw(&s.app, put("cls", original.clone(), "secret")).await;
    assert_eq!(unchanged.json["result"], "unchanged");

    let new = serde_json::to_vec(&other_frontier(&s)).unwrap();
    let swapped = raw(&s.app, put("cls", new.clone(), "secret")).await;
    assert_eq!(swapped.status, StatusCode::OK, "{}", swapped.text);
    assert_eq!(swapped.json["result"], "swapped");
    assert_eq!(swapped.json["version"], version(&new));
    let r = post(&s.app, "/v1/classify", json!({"inputs": "new points"})).await;
    assert_eq!(
        r.json["results"][0]["spent"]["frontier_version"],
        version(&new)
    );
    assert_eq!(r.json["results"][0]["spent"]["expected_score"], 92.0);
    let served = call(&s.app, Method::GET, "/v1/models/cls/frontier", None, &[]).await;
    assert_eq!(
        served.headers["x-frontier-version"].to_str().unwrap(),
        version(&new)
    );
    assert_eq!(served.json["points"].as_array().unwrap().len(), 3);

    let scrape = call(&s.app, Method::GET, "/metrics", None, &[]).await.text;
    let count = |result: &str| {
        sample(
            &scrape,
            &format!(r#"lat_frontier_reload_total{{model="cls",result="{result}"}}"#),
        )
    };
    assert_eq!(
        (count("failure"), count("unchanged"), count("success")),
        (Some(4.0), Some(1.0), Some(1.0))
    );
    let info = format!(
        r#"lat_frontier_info{{model="cls",version="{}"}}"#,
        version(&new)
    );
    assert_eq!(sample(&scrape, &info), Some(1.0));
    assert!(
        !scrape.contains(&version(&original)),
        "the old version's info series is gone"
    );
    let missing = raw(&s.app, put("nope", new, "secret")).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn admin_reload_and_the_watcher_pick_up_renamed_files() {
    let s = server().await;
    let path = s.fixture.specs[0].frontier.clone();
    let publish = |bytes: &[u8]| {
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, bytes).unwrap();
        std::fs::rename(&tmp, &path).unwrap();
    };
    let b = serde_json::to_vec(&other_frontier(&s)).unwrap();
    publish(&b);
    let reload = admin_reload(&s.app).await;
    assert_eq!(reload.status, StatusCode::OK, "{}", reload.text);
    assert_eq!(serving_version(&s.app).await, version(&b));

    tokio::spawn(lat_server::watch_frontiers(
        Arc::clone(&s.state),
        Duration::from_millis(20),
    ));
    let c = serde_json::to_vec(&frontier_file(
        &s.fixture.specs[0].dir,
        "classification",
        &[0.4, 0.0],
        5.0,
    ))
    .unwrap();
    publish(&c);
    let mut waited = 0;
    while serving_version(&s.app).await != version(&c) {
        assert!(waited < 500, "the watcher never swapped");
        tokio::time::sleep(Duration::from_millis(20)).await;
        waited += 1;
    }
    publish(b"{ half-written");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(serving_version(&s.app).await, version(&c));
    let scrape = call(&s.app, Method::GET, "/metrics", None, &[]).await.text;
    assert_eq!(
        sample(
            &scrape,
            r#"lat_frontier_reload_total{model="cls",result="failure"}"#
        ),
        Some(1.0),
        "refused once, not retried"
    );
    let broken = admin_reload(&s.app).await;
    assert_eq!(broken.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        post(&s.app, "/v1/classify", json!({"inputs": "ok"}))
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_swap_storm_under_load_loses_nothing_and_mixes_nothing() {
    let s = server().await;
    let a = std::fs::read(&s.fixture.specs[0].frontier).unwrap();
    let b = serde_json::to_vec(&other_frontier(&s)).unwrap();
    let genes: HashMap<String, Vec<String>> = [&a, &b]
        .iter()
        .map(|bytes| {
            let file: FrontierFile = serde_json::from_slice(bytes).unwrap();
            (
                version(bytes),
                file.points.iter().map(|p| p.gene.label()).collect(),
            )
        })
        .collect();
    let app = s.app.clone();
    let swapper = tokio::spawn(async move {
        for round in 0..12 {
            let body = if round % 2 == 0 { b.clone() } else { a.clone() };
            let r = raw(&app, put("cls", body, "secret")).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        }
    });
    let clients: Vec<_> = (0..6)
        .map(|c| {
            let app = s.app.clone();
            tokio::spawn(async move {
                let mut replies = Vec::new();
                for i in 0..20 {
                    let ratio = [0.3, 0.6, 0.9, 1.0][(c + i) % 4];
                    let body = json!({"inputs": ["one input", "and another, longer one"], "budget": {"flops_ratio": ratio}});
                    replies.push(post(&app, "/v1/classify", body).await);
                }
                replies
            })
        })
        .collect();
    swapper.await.unwrap();
    let mut seen = HashMap::new();
    for client in clients {
        for r in client.await.unwrap() {
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
            let results = r.json["results"].as_array().unwrap();
            let v = results[0]["spent"]["frontier_version"]
                .as_str()
                .unwrap()
                .to_string();
            for result in results {
                let spent = &result["spent"];
                assert_eq!(
                    spent["frontier_version"],
                    v.as_str(),
                    "one request, one frontier"
                );
                let point = spent["point"].as_u64().unwrap() as usize;
                assert_eq!(
                    spent["gene"],
                    genes[&v][point].as_str(),
                    "the gene is that frontier's"
                );
            }
            *seen.entry(v).or_insert(0) += 1;
        }
    }
    assert_eq!(seen.values().sum::<usize>(), 120);
}

#[tokio::test]
async fn the_watcher_follows_a_configmap_symlink_swap() {
    use std::os::unix::fs::symlink;
    let mut fixture = common::fixture();
    let model_dir = fixture.specs[0].dir.clone();
    // The kubelet's layout: frontier.json -> ..data/frontier.json, ..data -> ..<timestamp>.
    let mount = fixture.dir.join("configmap");
    let publish = |generation: usize, file: &FrontierFile| {
        let target = mount.join(format!("..gen{generation}"));
        std::fs::create_dir_all(&target).unwrap();
        std::fs::write(
            target.join("frontier.json"),
            serde_json::to_vec(file).unwrap(),
        )
        .unwrap();
        let tmp = mount.join("..data_tmp");
        symlink(format!("..gen{generation}"), &tmp).unwrap();
        std::fs::rename(&tmp, mount.join("..data")).unwrap();
        if generation > 0 {
            std::fs::remove_dir_all(mount.join(format!("..gen{}", generation - 1))).unwrap();
        }
    };
    std::fs::create_dir_all(&mount).unwrap();
    publish(
        0,
        &frontier_file(&model_dir, "classification", &common::RATES, 0.0),
    );
    symlink("..data/frontier.json", mount.join("frontier.json")).unwrap();
    fixture.specs[0].frontier = mount.join("frontier.json");
    let s = common::server_on(
        fixture,
        lat_server::HttpConfig::default(),
        common::options(512),
    )
    .await;
    tokio::spawn(lat_server::watch_frontiers(
        Arc::clone(&s.state),
        Duration::from_millis(20),
    ));
    let before = serving_version(&s.app).await;
    let next = frontier_file(&model_dir, "classification", &[0.3, 0.0], 7.0);
    publish(1, &next);
    let expected = version(&serde_json::to_vec(&next).unwrap());
    let mut waited = 0;
    while serving_version(&s.app).await != expected {
        assert!(
            waited < 500,
            "no swap after the ..data symlink moved (still {before})"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
        waited += 1;
    }
}
