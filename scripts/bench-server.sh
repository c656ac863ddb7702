#!/usr/bin/env bash
# Load benchmark of lat-server on the default model (models/sst2) and its frontier:
# throughput and latency quantiles at several budgets and concurrencies, the server's
# overhead over its own compute, latency-budget hit rate, 10x overload, a frontier swap
# every second (to a frontier of every other point and back), SLO mode, and the server's
# peak memory. Results: JSON lines in $OUT (default docs/results/server-bench/results.jsonl),
# one per scenario, and memory.txt beside it.
#
#   scripts/bench-server.sh [MODEL_DIR] [FRONTIER]
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/lat/target}
MODEL=${1:-models/sst2}
FRONTIER=${2:-$MODEL/frontier.json}
OUT=${OUT:-docs/results/server-bench/results.jsonl}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-10}
THREADS=${THREADS:-1}
PORT=${PORT:-18181}
mkdir -p "$(dirname "$OUT")"
: > "$OUT"
# The swap partner: the same frontier with every other point (still non-dominated, same
# weights, another version).
OTHER=$(mktemp --suffix=.json)
python3 - "$FRONTIER" "$OTHER" <<'PY'
import json, sys
frontier = json.load(open(sys.argv[1]))
frontier["points"] = frontier["points"][::2]
json.dump(frontier, open(sys.argv[2], "w"), indent=2)
PY

# The server serves a copy: the swap scenario's admin PUTs write the served file (the
# file is the source of truth), and the model's own frontier.json must stay as it is.
SERVED=$(mktemp --suffix=.json)
cp "$FRONTIER" "$SERVED"

cargo build --release --locked -p lat-server --bins >/dev/null
bin=$CARGO_TARGET_DIR/release

server_pid=""
start_server() {
  "$bin/lat-server" --model-dir "$MODEL" --frontier "$SERVED" --model-name sst2 \
    --host 127.0.0.1 --port "$PORT" --threads "$THREADS" --admin-token bench \
    --max-concurrent-inputs 64 --watch-interval-ms 0 "$@" >"${SERVER_LOG:-/tmp/lat-bench-server.log}" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 300); do
    curl -sf "127.0.0.1:$PORT/health/ready" >/dev/null && return 0
    sleep 0.2
  done
  echo "server did not become ready" >&2
  exit 1
}
stop_server() { kill -TERM "$server_pid" 2>/dev/null || true; wait "$server_pid" || true; }
trap 'stop_server; rm -f "$OTHER" "$SERVED"' EXIT
load() {
  echo "== $*" >&2
  "$bin/lat-load" --addr "127.0.0.1:$PORT" --duration-s "$SECONDS_PER_RUN" "$@" | tee -a "$OUT"
}

start_server
for c in 1 4 16; do
  load --label "no budget" --concurrency "$c"
  load --label "flops_ratio 0.5" --concurrency "$c" --budget '{"flops_ratio": 0.5}'
  load --label "latency 15 ms" --concurrency "$c" --budget '{"latency_ms": 15}'
  load --label "latency 60 ms" --concurrency "$c" --budget '{"latency_ms": 60}'
done
# 10x overload: 640 clients against 64 admission permits.
load --label "10x overload" --concurrency 640
SECONDS_PER_RUN=30 load --label "swap every second" --concurrency 8 \
  --swap-frontiers "$OTHER,$FRONTIER" --swap-every-ms 1000 --admin-token bench
curl -s "127.0.0.1:$PORT/metrics" > "$(dirname "$OUT")/metrics-after.txt"
# Peak resident memory after every scenario above, overload included.
grep -E 'VmHWM|VmRSS' "/proc/$server_pid/status" > "$(dirname "$OUT")/memory.txt"
stop_server

# SLO mode: requests without a budget hold 40 ms end to end by moving to cheaper points.
start_server --slo-ms 40
for c in 1 16 1; do
  load --label "SLO 40 ms" --concurrency "$c"
done
curl -s "127.0.0.1:$PORT/metrics" > "$(dirname "$OUT")/metrics-slo.txt"
stop_server
