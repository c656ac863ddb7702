//! The real binary's connection handling and signals, over TCP: idle, half-sent and
//! trickling clients are cut off by the timeouts, the connection limit holds new ones back,
//! the shutdown delay fails readiness while still serving, and SIGTERM/SIGHUP during
//! warm-up stop cleanly / are ignored.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::binary::{Server, http, wait_until};

fn fixture_args(fixture: &common::Fixture) -> Vec<String> {
    let spec = &fixture.specs[0];
    vec![
        "--model-dir".into(),
        spec.dir.to_str().unwrap().into(),
        "--frontier".into(),
        spec.frontier.to_str().unwrap().into(),
        "--threads".into(),
        "2".into(),
    ]
}

fn start(fixture: &common::Fixture, extra: &[&str]) -> Server {
    let mut args = fixture_args(fixture);
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Server::start(&fixture.dir, &args)
}

/// Reads until the peer closes (or `limit` passes); what arrived.
fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> (String, Duration) {
    let started = Instant::now();
    stream.set_read_timeout(Some(limit)).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    (
        String::from_utf8_lossy(&got).into_owned(),
        started.elapsed(),
    )
}

#[test]
fn slow_and_idle_clients_are_cut_off_and_connections_are_limited() {
    let fixture = common::fixture();
    let server = start(
        &fixture,
        &[
            "--header-timeout-s",
            "1",
            "--body-timeout-s",
            "1",
            "--max-connections",
            "3",
        ],
    );
    let addr = server.addr.clone();

    // Idle: closed after the header timeout, nothing sent.
    let mut idle = TcpStream::connect(&addr).unwrap();
    let (got, took) = read_until_closed(&mut idle, Duration::from_secs(10));
    assert!(
        took < Duration::from_secs(5),
        "idle connection open {took:?}"
    );
    assert!(got.is_empty() || got.contains(" 408 "), "{got}");

    // Half-sent head: closed too.
    let mut half = TcpStream::connect(&addr).unwrap();
    half.write_all(b"GET /health/live HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let (_, took) = read_until_closed(&mut half, Duration::from_secs(10));
    assert!(
        took < Duration::from_secs(5),
        "half-sent head open {took:?}"
    );

    // Kept alive after a request, then idle: closed as well.
    let mut kept = TcpStream::connect(&addr).unwrap();
    kept.write_all(b"GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let (got, took) = read_until_closed(&mut kept, Duration::from_secs(10));
    assert!(got.starts_with("HTTP/1.1 200"), "{got}");
    assert!(
        took < Duration::from_secs(5),
        "kept-alive idle open {took:?}"
    );

    // A trickled body: 408 in the envelope.
    let mut slow = TcpStream::connect(&addr).unwrap();
    slow.write_all(
        b"POST /v1/classify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"inputs\"",
    )
    .unwrap();
    let (got, took) = read_until_closed(&mut slow, Duration::from_secs(10));
    assert!(got.starts_with("HTTP/1.1 408"), "{got}");
    assert!(got.contains(r#""error_type":"request_timeout""#), "{got}");
    assert!(took < Duration::from_secs(5));

    // Three idle connections hold every slot: a fourth is answered only once the header
    // timeout has freed one.
    let holders: Vec<TcpStream> = (0..3).map(|_| TcpStream::connect(&addr).unwrap()).collect();
    std::thread::sleep(Duration::from_millis(100));
    let started = Instant::now();
    let r = http(&addr, "GET", "/health/live", None).unwrap();
    assert_eq!(r.status, 200);
    assert!(
        started.elapsed() > Duration::from_millis(600),
        "answered past the connection limit after {:?}",
        started.elapsed()
    );
    drop(holders);
    server.terminate();
}

#[test]
fn the_shutdown_delay_fails_readiness_but_keeps_serving() {
    let fixture = common::fixture();
    let mut server = start(&fixture, &["--shutdown-delay-s", "3"]);
    let addr = server.addr.clone();
    server.signal("TERM");
    wait_until("readiness to fail", Duration::from_secs(2), || {
        http(&addr, "GET", "/health/ready", None).is_ok_and(|r| r.status == 503)
    });
    let r = http(
        &addr,
        "POST",
        "/v1/classify",
        Some(r#"{"inputs": "a gripping film"}"#),
    )
    .unwrap();
    assert_eq!(r.status, 200, "served during the delay: {}", r.body);
    let status = server.child.wait().unwrap();
    assert!(status.success(), "{status}");
    assert!(server.log().iter().any(|l| l.contains("drained")));
}

#[test]
fn signals_during_warm_up_stop_cleanly_or_wait() {
    let fixture = common::fixture();
    let mut args = fixture_args(&fixture);
    // Thousands of timed passes: warm-up lasts long enough to signal it.
    args.extend(["--calibration-repeats".into(), "3000".into()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut server = Server::spawn(&fixture.dir, &args);
    let addr = server.addr.clone();
    server.signal("HUP");
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        server.child.try_wait().unwrap().is_none(),
        "SIGHUP before ready killed the server"
    );
    assert_eq!(
        http(&addr, "GET", "/health/ready", None).unwrap().status,
        503
    );
    server.signal("TERM");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "SIGTERM during warm-up ignored"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");
    let log = server.log();
    assert!(
        !log.iter().any(|l| l.contains(r#""message":"ready""#)),
        "became ready after SIGTERM: {log:#?}"
    );
    assert!(
        log.iter()
            .any(|l| l.contains("SIGHUP before the models are ready"))
    );
}
