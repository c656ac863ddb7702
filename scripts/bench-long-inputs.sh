#!/usr/bin/env bash
# Abuse benchmark of lat-server on the default model: 16 clients send texts back to back
# while one client times small requests; one JSON line per scenario in $OUT (default
# docs/results/long-inputs/results.jsonl) with the server's peak RSS (VmHWM, since start)
# and the small requests' p50/p99 against the same server idle. Scenarios, in this order:
#   refused  1.9 MB texts with "truncate": false (refused at the character cap)
#   cut      1.9 MB texts, default "truncate" (cut at the cap: each is a max-length input)
#   control  texts of the model's maximum length (~120 words): the same compute as `cut`
#            with none of the size, so `cut` against `control` is what the size costs
# each in two pacings: `burst` (the 16 clients send one request each at the same moment,
# once a second: 16 concurrent inputs) and `flood` (back to back, as fast as answered; the
# Python clients then share the server's 2 cores, so read it as a stress bound).
#
#   scripts/bench-long-inputs.sh [extra lat-server flags...]
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/lat/target}
OUT=${OUT:-docs/results/long-inputs/results.jsonl}
PORT=${PORT:-18182}
THREADS=${THREADS:-2}
SECONDS_UNDER_LOAD=${SECONDS_UNDER_LOAD:-20}
mkdir -p "$(dirname "$OUT")"

# LAT_SERVER_BIN: another build to measure (e.g. an older commit's, for a before/after).
bin=${LAT_SERVER_BIN:-$CARGO_TARGET_DIR/release/lat-server}
[ -n "${LAT_SERVER_BIN:-}" ] || cargo build --release --locked -p lat-server --bins >/dev/null
"$bin" --host 127.0.0.1 --port "$PORT" --threads "$THREADS" \
  --watch-interval-ms 0 "$@" >"${SERVER_LOG:-/tmp/lat-long-inputs.log}" 2>&1 &
pid=$!
trap 'kill -TERM $pid 2>/dev/null || true; wait $pid || true' EXIT

python3 - "$PORT" "$pid" "$SECONDS_UNDER_LOAD" "$*" "${PACINGS:-burst,flood}" "$bin" <<'PY' | tee -a "$OUT"
import http.client, json, statistics, sys, threading, time

port, pid, seconds, flags = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
pacings, binary = sys.argv[5].split(","), sys.argv[6]

def request(body, timeout=120):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    started = time.perf_counter()
    conn.request("POST", "/v1/classify", body=body, headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    response.read()
    conn.close()
    return response.status, time.perf_counter() - started

def hwm_mb():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")

def rss_mb():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")

for _ in range(600):
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", "/health/ready")
        if conn.getresponse().status == 200:
            break
    except OSError:
        pass
    time.sleep(0.2)
else:
    sys.exit("server not ready")

small = json.dumps({"inputs": "a gripping , funny and deeply moving film"}).encode()
for _ in range(20):
    request(small)
idle = sorted(request(small)[1] for _ in range(200))
rss_idle = rss_mb()

text = "the film is a gripping , funny and deeply moving portrait of a family . "
huge = text * (1_900_000 // len(text))
bodies = {
    "refused": json.dumps({"inputs": huge, "truncate": False}).encode(),
    "cut": json.dumps({"inputs": huge}).encode(),
    "control": json.dumps({"inputs": text * 9}).encode(),
}

def q(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(p * len(values)))] * 1e3

runs = [(s, p) for p in pacings for s in bodies]
for scenario, pacing in runs:
    body = bodies[scenario]
    t0 = time.monotonic()
    stop = t0 + seconds
    statuses, times = [], []
    lock = threading.Lock()

    def abuser():
        while time.monotonic() < stop:
            status, took = request(body)
            with lock:
                statuses.append(status)
                times.append(took)
            if pacing == "burst":
                # Next whole second of the run, so all 16 go together.
                time.sleep(1.0 - (time.monotonic() - t0) % 1.0)

    threads = [threading.Thread(target=abuser) for _ in range(16)]
    for t in threads:
        t.start()
    time.sleep(1.0)
    loaded = []
    while time.monotonic() < stop:
        status, took = request(small)
        if status == 200:
            loaded.append(took)
    for t in threads:
        t.join()
    print(json.dumps({
        "scenario": scenario,
        "pacing": pacing,
        "flags": flags,
        "binary": binary,
        "body_bytes": len(body),
        "clients": 16,
        "seconds": seconds,
        "requests": len(statuses),
        "status_counts": {str(s): statuses.count(s) for s in sorted(set(statuses))},
        "p50_ms": round(q(times, 0.5), 1) if times else None,
        "small_idle_p50_ms": round(q(idle, 0.5), 2),
        "small_idle_p99_ms": round(q(idle, 0.99), 2),
        "small_loaded_requests": len(loaded),
        "small_loaded_p50_ms": round(q(loaded, 0.5), 2),
        "small_loaded_p99_ms": round(q(loaded, 0.99), 2),
        "p50_ratio": round(q(loaded, 0.5) / q(idle, 0.5), 2),
        "rss_idle_mb": round(rss_idle, 1),
        "peak_rss_mb": round(hwm_mb(), 1),
    }), flush=True)
PY
