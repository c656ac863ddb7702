"""Markdown tables from scripts/bench-compare.sh's JSON lines: tokens/s per shape for lat
(full length, with its kernels and with burn's own ops) and its peers, then lat's reduced
configurations against ONNX Runtime's full length, with time and FLOPs ratios.
"""
import json
import pathlib
import sys

out = pathlib.Path(sys.argv[1])
lat = [json.loads(l) for l in (out / "lat.jsonl").read_text().splitlines()]
peers = [json.loads(l) for l in (out / "peers.jsonl").read_text().splitlines()]
peer = {(p["engine"], p["batch"], p["length"]): p for p in peers}
burn_ops_file = out / "lat-burn-ops.jsonl"
burn_ops = {}
if burn_ops_file.exists():
    for line in burn_ops_file.read_text().splitlines():
        r = json.loads(line)
        burn_ops[(r["batch"], r["length"])] = r["tokens_per_s"]
shapes = sorted({(r["batch"], r["length"]) for r in lat})

print("| batch x len | lat fp32 | lat, burn ops | PyTorch fp32 | PyTorch bf16 | ONNX Runtime fp32 "
      "| lat / ORT |")
print("|---|---:|---:|---:|---:|---:|---:|")
for b, n in shapes:
    full = next(r for r in lat if (r["batch"], r["length"], r["config"]) == (b, n, "full"))
    tps = {e: peer[(e, b, n)]["tokens_per_s"] for e in ("torch-fp32", "torch-bf16", "ort-fp32")}
    plain = f"{burn_ops[(b, n)]:,.0f}" if (b, n) in burn_ops else "-"
    print(f"| {b}x{n} | {full['tokens_per_s']:,.0f} | {plain} | {tps['torch-fp32']:,.0f} | "
          f"{tps['torch-bf16']:,.0f} | {tps['ort-fp32']:,.0f} | "
          f"{full['tokens_per_s'] / tps['ort-fp32']:.2f} |")

configs = [c for c in dict.fromkeys(r["config"] for r in lat) if c != "full"]
print()
print("| batch x len | config | lat tokens/s | x ORT full | FLOPs ratio | time ratio "
      "| time / FLOPs |")
print("|---|---|---:|---:|---:|---:|---:|")
for b, n in shapes:
    ort = peer[("ort-fp32", b, n)]["tokens_per_s"]
    for c in configs:
        r = next(r for r in lat if (r["batch"], r["length"], r["config"]) == (b, n, c))
        print(f"| {b}x{n} | {c} | {r['tokens_per_s']:,.0f} | {r['tokens_per_s'] / ort:.2f} | "
              f"{r['flops_ratio']:.3f} | {r['time_ratio']:.3f} | "
              f"{r['time_ratio'] / r['flops_ratio']:.2f} |")
