#!/usr/bin/env bash
# Per-op CPU profile of one training step (lat-train bench-step, batch 32 x 64), on burn's
# own ops (LAT_KERNELS=off) and on lat-kernels' differentiable ops: `perf` samples the
# whole run (model load and warm-up included) and keeps the top symbols of each. Needs
# `perf` (Debian: linux-perf) and the base model.
#
#   scripts/profile-train.sh            # 2 threads; docs/results/profile/train-*.txt
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/lat/target}
THREADS=${THREADS:-2}
STEPS=${STEPS:-10}
OUT=${OUT:-docs/results/profile}
model=$(scripts/setup-base-model.sh | tail -n 1)
cargo build --release --locked -p lat-model --bin lat-train >/dev/null
mkdir -p "$OUT"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for mode in off on; do
  name=$([ "$mode" = off ] && echo burn-ops || echo lat-kernels)
  file="$OUT/train-$name-32x64.txt"
  {
    echo "# LAT_KERNELS=$mode lat-train bench-step --steps $STEPS (RAYON_NUM_THREADS=$THREADS)"
    LAT_KERNELS=$mode RAYON_NUM_THREADS=$THREADS perf record -q -o "$tmp/perf.data" \
      "$CARGO_TARGET_DIR/release/lat-train" bench-step --init "$model" --steps "$STEPS" \
      2>/dev/null | tail -n 1
    echo
    echo "# share of CPU samples by symbol (perf report --no-children --sort symbol), top 25"
    perf report -q -i "$tmp/perf.data" --no-children --sort symbol 2>/dev/null \
      | grep '%' | sed -n -E '1,25s/ +$//p'
  } > "$file"
  echo "$file"
done
