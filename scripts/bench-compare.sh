#!/usr/bin/env bash
# lat's forward against PyTorch (fp32, bf16 autocast) and ONNX Runtime (fp32), side by side
# in one run: the same model (all-MiniLM-L6-v2 with a 2-class head), inputs, shapes,
# threads and timing rule; lat also once on burn's own ops (LAT_KERNELS=off), the before,
# and once in opt-in bf16 on AMX (LAT_PRECISION=bf16). lat runs full length, constant keep
# rates and the default model's frontier points (their lengths, applied to the base
# weights: speed does not depend on the values). Peers go into a virtual environment outside the clone (about
# 6 GB: PyPI's torch wheel pulls the CUDA packages); they never become lat dependencies.
#
#   scripts/bench-compare.sh            # 2 threads; results in docs/results/bench-compare/
#   THREADS=2 OUT=/tmp/cmp scripts/bench-compare.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/lat/target}
THREADS=${THREADS:-2}
OUT=${OUT:-docs/results/bench-compare}
venv=${LAT_COMPARE_VENV:-$HOME/.cache/lat/compare-venv}
peers=(torch==2.15.0 onnxruntime==1.31.1 onnx==1.23.2 transformers==5.23.0)
if ! "$venv/bin/python" -c "import torch, onnxruntime, onnx, transformers" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "${peers[@]}"
fi
model=$(scripts/setup-base-model.sh | tail -n 1)
mkdir -p "$OUT"
# The default model's most accurate point and the cheapest one matching its full accuracy.
points=$(python3 - <<'PY'
import json
frontier = json.load(open("models/sst2/frontier.json"))
points, full = frontier["points"], frontier["full_model"]["score"]
best = max(points, key=lambda p: p["score"])
no_loss = min((p for p in points if p["score"] >= full - 1e-9), key=lambda p: p["flops_ratio"])
print(";".join(",".join(map(str, p["gene"]["lengths"])) for p in (no_loss, best)))
PY
)
cargo build --release --locked -p lat-model --bin lat-bench >/dev/null
RAYON_NUM_THREADS=$THREADS "$CARGO_TARGET_DIR/release/lat-bench" --model-dir "$model" \
  --rates 0.8,0.6 --points "$points" --label lat --json "$OUT/lat.jsonl"
# Opt-in bf16 (AMX): full length and the frontier points, where this CPU has AMX-BF16.
probe=$(LAT_PRECISION=bf16 "$CARGO_TARGET_DIR/release/lat-bench" --model-dir "$model" \
  --batch-sizes 1 --lengths 16 --rates none --min-iters 1 --min-ms 1)
if [[ $probe == *"precision: bf16"* ]]; then
  LAT_PRECISION=bf16 RAYON_NUM_THREADS=$THREADS "$CARGO_TARGET_DIR/release/lat-bench" \
    --model-dir "$model" --rates none --points "$points" --label lat-bf16 --json "$OUT/lat-bf16.jsonl"
else
  rm -f "$OUT/lat-bf16.jsonl"
fi
# The same forward on burn's own ops (the kernels switched off): the before of issue 7.
LAT_KERNELS=off RAYON_NUM_THREADS=$THREADS "$CARGO_TARGET_DIR/release/lat-bench" \
  --model-dir "$model" --rates none --label lat-burn-ops --json "$OUT/lat-burn-ops.jsonl"
OMP_NUM_THREADS=$THREADS "$venv/bin/python" scripts/bench_peers.py "$model" \
  --threads "$THREADS" --out "$OUT/peers.jsonl"
{ lscpu | grep -E "Model name|^CPU\(s\)"; echo "threads: $THREADS"; } > "$OUT/machine.txt"
python3 scripts/compare_table.py "$OUT" | tee "$OUT/table.md"
