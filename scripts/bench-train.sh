#!/usr/bin/env bash
# One training step (forward + backward + gradient clipping + AdamW, fp32, batch 32 x 64
# random tokens, all-MiniLM-L6-v2 with a 2-class head) of lat against PyTorch fp32 (HF
# transformers, eager) on the same model, threads and shape. The engines take turns over
# ROUNDS rounds so that this VM's drift reaches them alike; each round's figure is the
# median of STEPS steps after a warm-up, and the table gives the median over rounds. lat
# also runs on burn's own ops (LAT_KERNELS=off: the before) and in the LengthDrop stage
# (full pass + 3 sub-networks, no PyTorch counterpart). PyTorch comes from the same
# virtual environment as scripts/bench-compare.sh and never becomes a lat dependency.
#
#   scripts/bench-train.sh              # 2 threads, 3 rounds; docs/results/bench-train/
#   ROUNDS=5 THREADS=2 OUT=/tmp/train scripts/bench-train.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/lat/target}
THREADS=${THREADS:-2}
ROUNDS=${ROUNDS:-3}
STEPS=${STEPS:-5}
OUT=${OUT:-docs/results/bench-train}
venv=${LAT_COMPARE_VENV:-$HOME/.cache/lat/compare-venv}
if ! "$venv/bin/python" -c "import torch, transformers" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check torch==2.15.0 transformers==5.23.0
fi
model=$(scripts/setup-base-model.sh | tail -n 1)
cargo build --release --locked -p lat-model --bin lat-train >/dev/null
mkdir -p "$OUT"
runs="$OUT/runs.txt"
: > "$runs"
lat=("$CARGO_TARGET_DIR/release/lat-train" bench-step --init "$model" --steps "$STEPS")
for round in $(seq "$ROUNDS"); do
  median() { grep -o 'median [0-9.]*' | awk -v r="$round" -v e="$1" '{print e, r, $2}'; }
  RAYON_NUM_THREADS=$THREADS "${lat[@]}" | median lat >> "$runs"
  LAT_KERNELS=off RAYON_NUM_THREADS=$THREADS "${lat[@]}" | median lat-burn-ops >> "$runs"
  OMP_NUM_THREADS=$THREADS "$venv/bin/python" model/scripts/torch_train_step.py "$model" \
    --threads "$THREADS" --steps "$STEPS" | median pytorch-fp32 >> "$runs"
  RAYON_NUM_THREADS=$THREADS "${lat[@]}" --stage length-adaptive | median lat-length-adaptive >> "$runs"
  tail -n 4 "$runs"
done
{ lscpu | grep -E "Model name|^CPU\(s\)"; echo "threads: $THREADS, rounds: $ROUNDS, steps per round: $STEPS"; } > "$OUT/machine.txt"
python3 - "$runs" <<'PY' | tee "$OUT/table.md"
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    engine, _, seconds = line.split()
    rows.setdefault(engine, []).append(float(seconds))
torch = statistics.median(rows["pytorch-fp32"])
print("| engine | s/step (median over rounds) | rounds | examples/s | x PyTorch fp32 time |")
print("|---|---:|---|---:|---:|")
for engine, times in rows.items():
    m = statistics.median(times)
    spread = ", ".join(f"{t:.3f}" for t in times)
    print(f"| {engine} | {m:.3f} | {spread} | {32 / m:.1f} | {m / torch:.2f} |")
PY
