#!/usr/bin/env bash
# Per-op CPU profile of the forward, before and after the fused kernels: `perf` samples
# lat-bench at one shape with burn's own ops (LAT_KERNELS=off) and with lat-kernels, and
# keeps the top symbols of each. Needs `perf` (Debian: linux-perf) and the base model.
#
#   scripts/profile-forward.sh              # 8x128, 2 threads; docs/results/profile/
#   BATCH=32 LENGTH=64 scripts/profile-forward.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/lat/target}
BATCH=${BATCH:-8}
LENGTH=${LENGTH:-128}
THREADS=${THREADS:-2}
OUT=${OUT:-docs/results/profile}
POINTS=${POINTS:-}
model=$(scripts/setup-base-model.sh | tail -n 1)
cargo build --release --locked -p lat-model --bin lat-bench >/dev/null
mkdir -p "$OUT"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
extra=()
if [ -n "$POINTS" ]; then
  extra=(--points "$POINTS" --max-length "$LENGTH")
fi
for mode in off on; do
  name=$([ "$mode" = off ] && echo burn-ops || echo lat-kernels)
  file="$OUT/$name-${BATCH}x${LENGTH}${POINTS:+-point}.txt"
  {
    echo "# LAT_KERNELS=$mode lat-bench --batch-sizes $BATCH --lengths $LENGTH ${extra[*]} (RAYON_NUM_THREADS=$THREADS)"
    LAT_KERNELS=$mode RAYON_NUM_THREADS=$THREADS perf record -q -o "$tmp/perf.data" \
      "$CARGO_TARGET_DIR/release/lat-bench" --model-dir "$model" --batch-sizes "$BATCH" \
      --lengths "$LENGTH" --rates none "${extra[@]}" --min-ms 4000 2>/dev/null | grep '^| [0-9]'
    echo
    echo "# share of CPU samples by symbol (perf report --no-children --sort symbol), top 25"
    perf report -q -i "$tmp/perf.data" --no-children --sort symbol 2>/dev/null \
      | grep '%' | sed -n -E '1,25s/ +$//p'
  } > "$file"
  echo "$file"
done
