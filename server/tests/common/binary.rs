//! The real `lat-server` binary as a child process on an ephemeral port, and a minimal
//! HTTP/1.1 client over TCP (the tests then exercise the whole stack, sockets included).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// One HTTP response.
pub struct Reply {
    /// Status code (0 when the status line did not parse).
    pub status: u16,
    /// Status line and headers, lowercased.
    pub head: String,
    /// Body text.
    pub body: String,
}

/// Sends one request with `Connection: close` and reads the whole response.
pub fn http(addr: &str, method: &str, path: &str, body: Option<&str>) -> std::io::Result<Reply> {
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

/// Polls `done` every 50 ms; fails the test after `timeout`.
pub fn wait_until(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A running `lat-server` with JSON logs on stdout.
pub struct Server {
    /// The child process.
    pub child: Child,
    /// `host:port` from its `listening` log line.
    pub addr: String,
    /// Log lines read so far.
    pub log: Vec<String>,
    lines: mpsc::Receiver<String>,
}

impl Server {
    /// Starts the binary in `cwd` with `args` (plus an ephemeral loopback port and JSON logs)
    /// and waits for it to listen, then to be ready.
    pub fn start(cwd: &Path, args: &[&str]) -> Self {
        let server = Self::spawn(cwd, args);
        wait_until("readiness", Duration::from_secs(180), || {
            http(&server.addr, "GET", "/health/ready", None).is_ok_and(|r| r.status == 200)
        });
        server
    }

    /// Starts the binary and waits for it to listen (not to be ready).
    pub fn spawn(cwd: &Path, args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_lat-server"))
            .current_dir(cwd)
            .args(args)
            .args(["--host", "127.0.0.1", "--port", "0", "--json-logs"])
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
        Self {
            child,
            addr,
            log,
            lines,
        }
    }

    /// Sends `signal` (`TERM`, `HUP`, ...) to the process.
    pub fn signal(&self, signal: &str) {
        Command::new("kill")
            .args([&format!("-{signal}"), &self.child.id().to_string()])
            .status()
            .unwrap();
    }

    /// Log lines so far, those not yet read included.
    pub fn log(&mut self) -> &[String] {
        self.log.extend(self.lines.try_iter());
        &self.log
    }

    /// Sends SIGTERM, waits for a clean exit and collects the remaining log.
    pub fn terminate(mut self) -> Vec<String> {
        self.signal("TERM");
        let status = self.child.wait().unwrap();
        assert!(status.success(), "{status}");
        self.log.extend(self.lines.try_iter());
        self.log
    }
}
