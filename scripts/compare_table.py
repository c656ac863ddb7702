"""Markdown tables from scripts/bench-compare.sh's JSON lines: tokens/s per shape for lat
(full length) and its peers, then lat's frontier points against ONNX Runtime's full length.
"""
import json
import pathlib
import sys

out = pathlib.Path(sys.argv[1])
lat = [json.loads(l) for l in (out / "lat.jsonl").read_text().splitlines()]
peers = [json.loads(l) for l in (out / "peers.jsonl").read_text().splitlines()]
peer = {(p["engine"], p["batch"], p["length"]): p for p in peers}
shapes = sorted({(r["batch"], r["length"]) for r in lat})

print("| batch x len | lat fp32 | PyTorch fp32 | PyTorch bf16 | ONNX Runtime fp32 | lat / ORT |")
print("|---|---:|---:|---:|---:|---:|")
for b, n in shapes:
    full = next(r for r in lat if (r["batch"], r["length"], r["config"]) == (b, n, "full"))
    tps = {e: peer[(e, b, n)]["tokens_per_s"] for e in ("torch-fp32", "torch-bf16", "ort-fp32")}
    print(f"| {b}x{n} | {full['tokens_per_s']:,.0f} | {tps['torch-fp32']:,.0f} | "
          f"{tps['torch-bf16']:,.0f} | {tps['ort-fp32']:,.0f} | "
          f"{full['tokens_per_s'] / tps['ort-fp32']:.2f} |")

configs = [c for c in dict.fromkeys(r["config"] for r in lat) if c != "full"]
print()
print("| batch x len | config | lat tokens/s | x ORT full | FLOPs ratio | time ratio |")
print("|---|---|---:|---:|---:|---:|")
for b, n in shapes:
    ort = peer[("ort-fp32", b, n)]["tokens_per_s"]
    for c in configs:
        r = next(r for r in lat if (r["batch"], r["length"], r["config"]) == (b, n, c))
        print(f"| {b}x{n} | {c} | {r['tokens_per_s']:,.0f} | {r['tokens_per_s'] / ort:.2f} | "
              f"{r['flops_ratio']:.3f} | {r['time_ratio']:.3f} |")
