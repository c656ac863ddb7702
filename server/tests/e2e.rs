//! The real `lat-server` binary on an ephemeral port, spoken to over TCP: ready after
//! warm-up, a budgeted request, the scrape, a frontier published by rename, and a clean
//! drain on SIGTERM.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

struct Reply {
    status: u16,
    head: String,
    body: String,
}

fn http(addr: &str, method: &str, path: &str, body: Option<&str>) -> std::io::Result<Reply> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let body = body.unwrap_or("");
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )?;
    let mut raw = String::new();
    stream.read_to_string(&mut raw)?;
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Ok(Reply {
        status,
        head: head.to_ascii_lowercase(),
        body: body.to_string(),
    })
}

fn wait_until(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

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
    let mut child = Command::new(env!("CARGO_BIN_EXE_lat-server"))
        .args(["--model-dir", spec.dir.to_str().unwrap()])
        .args(["--frontier", spec.frontier.to_str().unwrap()])
        .args(["--host", "127.0.0.1", "--port", "0", "--json-logs"])
        .args(["--watch-interval-ms", "100", "--threads", "2"])
        .env("LAT_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let (lines_tx, lines) = mpsc::channel::<String>();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = lines_tx.send(line);
        }
    });
    let mut log = Vec::new();
    let addr = loop {
        let line = lines
            .recv_timeout(Duration::from_secs(60))
            .expect("a `listening` log line");
        let json: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
        log.push(line);
        if json["message"] == "listening" {
            break json["addr"].as_str().unwrap().to_string();
        }
    };
    assert_eq!(
        http(&addr, "GET", "/health/live", None).unwrap().status,
        200
    );
    wait_until("readiness", Duration::from_secs(120), || {
        http(&addr, "GET", "/health/ready", None).is_ok_and(|r| r.status == 200)
    });

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

    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
    log.extend(lines.try_iter());
    assert!(log.iter().any(|l| l.contains("drained")), "{log:#?}");
}
