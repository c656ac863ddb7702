"""Forward throughput of the peers lat is compared with: PyTorch fp32, PyTorch bf16 autocast
and ONNX Runtime fp32, on the same model, inputs, shapes, threads and timing rule as
`lat-bench` (one warm-up, then at least --min-iters runs and --min-ms of work; median).

Run by scripts/bench-compare.sh, which installs the peers into a virtual environment of its
own: they are never dependencies of lat. Writes one JSON object per (engine, shape) line:
    {"engine", "batch", "length", "ms", "tokens_per_s"}
"""

import argparse
import json
import pathlib
import statistics
import time

import numpy as np
import onnxruntime as ort
import torch
from transformers import BertForSequenceClassification


def input_ids(batch, length):
    """lat-bench's inputs: [CLS], pseudo-random word pieces, [SEP]; no padding."""
    rows = []
    for row in range(batch):
        ids = [1000 + (row * 7919 + i * 104_729) % 28_000 for i in range(length)]
        ids[0], ids[-1] = 101, 102
        rows.append(ids)
    return np.array(rows, dtype=np.int64)


def median_ms(run, min_iters, min_ms):
    run()
    times = []
    started = time.perf_counter()
    while len(times) < min_iters or (time.perf_counter() - started) * 1e3 < min_ms:
        t = time.perf_counter()
        run()
        times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times)


def export_onnx(model, path):
    """The TorchScript exporter (opset 17, input ids only): the burn notes measured it
    10-40% faster under ONNX Runtime than the dynamo exporter's graph."""
    example = torch.from_numpy(input_ids(1, 16))
    torch.onnx.export(
        model, (example,), str(path), input_names=["input_ids"], output_names=["logits"],
        dynamic_axes={"input_ids": {0: "batch", 1: "length"}, "logits": {0: "batch"}},
        opset_version=17, dynamo=False,
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("model_dir")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-sizes", default="1,8,32")
    parser.add_argument("--lengths", default="16,64,128,384")
    parser.add_argument("--min-iters", type=int, default=3)
    parser.add_argument("--min-ms", type=float, default=1000.0)
    parser.add_argument("--onnx", default="/tmp/lat-compare-minilm.onnx")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(0)
    model = BertForSequenceClassification.from_pretrained(args.model_dir, num_labels=2).eval()
    onnx_path = pathlib.Path(args.onnx)
    export_onnx(model, onnx_path)
    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])

    def torch_fp32(ids):
        with torch.inference_mode():
            model(input_ids=ids).logits.numpy()

    def torch_bf16(ids):
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
            model(input_ids=ids).logits.float().numpy()

    with open(args.out, "w") as out:
        for b in map(int, args.batch_sizes.split(",")):
            for n in map(int, args.lengths.split(",")):
                ids = input_ids(b, n)
                tensor = torch.from_numpy(ids)
                runs = {
                    "torch-fp32": lambda: torch_fp32(tensor),
                    "torch-bf16": lambda: torch_bf16(tensor),
                    "ort-fp32": lambda: session.run(["logits"], {"input_ids": ids}),
                }
                for engine, run in runs.items():
                    ms = median_ms(run, args.min_iters, args.min_ms)
                    line = {"engine": engine, "batch": b, "length": n, "ms": ms,
                            "tokens_per_s": b * n / (ms / 1e3)}
                    print(json.dumps(line), flush=True)
                    out.write(json.dumps(line) + "\n")


if __name__ == "__main__":
    main()
