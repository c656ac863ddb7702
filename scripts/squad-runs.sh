#!/usr/bin/env bash
# The shortened SQuAD schedule of docs/src/training.md, after stage 1 (runs/squad-standard): stage 2,
# EM/F1 of both models at constant keep ratios on the held-out articles, and a small QA
# frontier search. Each step is skipped when its output exists, so a rerun resumes.
#
#   scripts/squad-runs.sh [STAGE2_STEPS]
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/lat/target}
STEPS=${1:-40}
BIN=${LAT_BIN:-$CARGO_TARGET_DIR/release}
stamp() { echo "=== $(date -u +%FT%TZ) $*"; }

if [ ! -f runs/squad-length-adaptive/checkpoint-best/lat.json ]; then
  stamp "stage 2: $STEPS steps"
  resume=()
  [ -d runs/squad-length-adaptive/state ] && resume=(--resume)
  "$BIN/lat-train" qa --stage length-adaptive --init runs/squad-standard/checkpoint-best \
    --max-steps "$STEPS" --eval-steps "$STEPS" --logging-steps 5 \
    --output runs/squad-length-adaptive "${resume[@]}"
fi
for model in squad-length-adaptive squad-standard; do
  if [ ! -f "runs/$model-eval.json" ]; then
    stamp "eval-qa $model"
    "$BIN/lat-train" eval-qa --model-dir "runs/$model/checkpoint-best" \
      --json "runs/$model-eval.json.tmp"
    mv "runs/$model-eval.json.tmp" "runs/$model-eval.json"
  fi
done
if [ ! -f runs/search-squad/frontier.json ]; then
  stamp "lat-search qa"
  "$BIN/lat-search" qa --model runs/squad-length-adaptive/checkpoint-best \
    --dev-questions 200 --population-size 5 --iterations 1 --mutation-size 3 \
    --crossover-size 3 --output runs/search-squad
fi
stamp done
