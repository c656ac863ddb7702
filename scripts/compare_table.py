"""Markdown tables from scripts/bench-compare.sh's JSON lines: tokens/s per shape for lat
(full length: f32 with its kernels, on burn's own ops, and in opt-in bf16 when measured)
and its peers, then lat's reduced configurations against ONNX Runtime's full length, with
time and FLOPs ratios (a bf16 row's time ratio is against lat's bf16 full length).
"""
import json
import pathlib
import sys

out = pathlib.Path(sys.argv[1])


def read(name):
    path = out / name
    if not path.exists():
        return []
    return [json.loads(l) for l in path.read_text().splitlines()]


lat = read("lat.jsonl")
lat_bf16 = read("lat-bf16.jsonl")
peer = {(p["engine"], p["batch"], p["length"]): p for p in read("peers.jsonl")}
burn_ops = {(r["batch"], r["length"]): r["tokens_per_s"] for r in read("lat-burn-ops.jsonl")}
shapes = sorted({(r["batch"], r["length"]) for r in lat})


def row(rows, b, n, config):
    return next((r for r in rows if (r["batch"], r["length"], r["config"]) == (b, n, config)),
                None)


print("| batch x len | lat fp32 | lat, burn ops | PyTorch fp32 | PyTorch bf16 | ONNX Runtime fp32 "
      "| lat / ORT | lat bf16 (opt-in) | lat bf16 / PyTorch bf16 |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for b, n in shapes:
    full = row(lat, b, n, "full")
    tps = {e: peer[(e, b, n)]["tokens_per_s"] for e in ("torch-fp32", "torch-bf16", "ort-fp32")}
    plain = f"{burn_ops[(b, n)]:,.0f}" if (b, n) in burn_ops else "-"
    half = row(lat_bf16, b, n, "full")
    half_cells = (f"{half['tokens_per_s']:,.0f} | {half['tokens_per_s'] / tps['torch-bf16']:.2f}"
                  if half else "- | -")
    print(f"| {b}x{n} | {full['tokens_per_s']:,.0f} | {plain} | {tps['torch-fp32']:,.0f} | "
          f"{tps['torch-bf16']:,.0f} | {tps['ort-fp32']:,.0f} | "
          f"{full['tokens_per_s'] / tps['ort-fp32']:.2f} | {half_cells} |")

print()
print("| batch x len | config | precision | lat tokens/s | x ORT full | FLOPs ratio | time ratio "
      "| time / FLOPs |")
print("|---|---|---|---:|---:|---:|---:|---:|")
for b, n in shapes:
    ort = peer[("ort-fp32", b, n)]["tokens_per_s"]
    for precision, rows in (("f32", lat), ("bf16", lat_bf16)):
        for c in dict.fromkeys(r["config"] for r in rows):
            r = row(rows, b, n, c)
            if c == "full" or r is None:
                continue
            print(f"| {b}x{n} | {c} | {precision} | {r['tokens_per_s']:,.0f} | "
                  f"{r['tokens_per_s'] / ort:.2f} | {r['flops_ratio']:.3f} | "
                  f"{r['time_ratio']:.3f} | {r['time_ratio'] / r['flops_ratio']:.2f} |")
