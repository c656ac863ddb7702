#!/usr/bin/env bash
# Where one forward pass spends its time: samples `lat-bench` on one shape with perf
# (software clock, so it works on VMs without hardware counters) and sums the samples by
# kind of work. Needs linux-perf (Debian: apt-get install linux-perf) and a built bench:
#   cargo build --release -p lat-model --bin lat-bench
#   scripts/profile.sh 8 128 none     # batch, length, rates ("none" = full length only)
#   scripts/profile.sh 8 128 0.7
set -euo pipefail
cd "$(dirname "$0")/.."
batch=${1:-8} length=${2:-128} rates=${3:-none}
bench=${LAT_BENCH:-${CARGO_TARGET_DIR:-target}/release/lat-bench}
data=$(mktemp)
trap 'rm -f "$data"' EXIT
if [ "$rates" = none ]; then
  label="full"
else
  label="rate $rates (the full-length pass of the same run is included)"
fi
echo "profile of lat-bench ${batch}x${length}, $label"
RAYON_NUM_THREADS=${RAYON_NUM_THREADS:-2} perf record -q -e cpu-clock -F 1999 -o "$data" -- \
  "$bench" --batch-sizes "$batch" --lengths "$length" --rates "$rates" --min-ms 5000
perf report -i "$data" --no-children --sort symbol --stdio 2>/dev/null | python3 -c '
import re, sys
kinds = [
    ("matmul (gemm)", r"gemm"),
    ("fused attention kernel", r"attention_(naive|flash)|flash_attention"),
    ("softmax and exp (attention)", r"softmax|expf|exp_"),
    ("GELU (erf)", r"erf"),
    ("top-k / sort / gather / scatter", r"topk|sort|gather|scatter|select"),
    ("copies (reshape, swap_dims, cat)", r"memmove|memcpy|copy_|permute|transpose|strided"),
    ("allocation, zeroing, page faults", r"memset|clear_page|page_fault|malloc|_free|mi_|unmap|mmap|alloc"),
    # LayerNorm, bias and residual adds are inlined into these generic loops.
    ("other element-wise (LayerNorm, bias, residual)", r"layer_norm|unary|zip|binary|macerator|scalar"),
]
totals = {k: 0.0 for k, _ in kinds}
other = 0.0
for line in sys.stdin:
    m = re.match(r"\s*([\d.]+)%\s+\[.\]\s+(.*\S)", line) or re.match(r"\s*([\d.]+)%\s+\[k\]\s+(.*\S)", line)
    if not m:
        continue
    pct, sym = float(m.group(1)), m.group(2)
    for kind, pattern in kinds:
        if re.search(pattern, sym):
            totals[kind] += pct
            break
    else:
        other += pct
print("| kind of work | share of samples |")
print("|---|---:|")
for kind, _ in kinds:
    print(f"| {kind} | {totals[kind]:.1f}% |")
print(f"| other | {other:.1f}% |")
'
