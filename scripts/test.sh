#!/usr/bin/env bash
# The project's test command (README): sets up what the tests need, then runs them all.
#
#   scripts/test.sh                 # CPU (burn-flex)
#   LAT_TEST_FEATURES=lat-model/wgpu BURN_DEVICE=wgpu scripts/test.sh   # the same tests on wgpu
#
# With the wgpu feature, burn's default device is the GPU; BURN_DEVICE=wgpu makes that
# explicit (burn refuses to start if it is not compiled in) and BURN_DEVICE=flex forces CPU.
#
# Extra arguments go to `cargo test` (e.g. `scripts/test.sh -p lat-model parity`).
set -euo pipefail
cd "$(dirname "$0")/.."

# The base model for the parity tests (idempotent; prints its directory last).
LAT_BASE_MODEL_DIR=$(scripts/setup-base-model.sh | tail -n 1)
export LAT_BASE_MODEL_DIR

features=()
if [ -n "${LAT_TEST_FEATURES:-}" ]; then
  features=(--features "$LAT_TEST_FEATURES")
fi
# Release: burn is unusably slow unoptimised, and one profile keeps one warm target dir.
cargo test --release --workspace --locked "${features[@]}" "$@"
