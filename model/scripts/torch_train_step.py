#!/usr/bin/env python3
"""Seconds per fine-tuning step of HF transformers (PyTorch, fp32, CPU) on the same model and
batch shape as `lat-train bench-step`, for the training-throughput comparison (docs/src/benchmarks.md).

    pip install torch --index-url https://download.pytorch.org/whl/cpu && pip install transformers
    python3 model/scripts/torch_train_step.py models-cache/all-MiniLM-L6-v2 --threads 2
"""
import argparse
import statistics
import time

import torch
from transformers import BertForSequenceClassification


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("model_dir")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--length", type=int, default=64)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = BertForSequenceClassification.from_pretrained(args.model_dir, num_labels=2)
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-5, eps=1e-8, weight_decay=0.0)
    ids = torch.randint(1000, 30000, (args.batch_size, args.length))
    ids[:, 0], ids[:, -1] = 101, 102
    labels = torch.arange(args.batch_size) % 2

    times = []
    for step in range(args.steps + 1):
        started = time.perf_counter()
        loss = model(input_ids=ids, labels=labels).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad()
        seconds = time.perf_counter() - started
        print(f"step {step}: {seconds:.3f} s, loss {loss.item():.4f}{' (warm-up)' if step == 0 else ''}")
        if step > 0:
            times.append(seconds)
    median = statistics.median(times)
    print(
        f"torch {torch.__version__} batch {args.batch_size}x{args.length}: "
        f"median {median:.3f} s/step, {args.batch_size / median:.1f} examples/s"
    )


if __name__ == "__main__":
    main()
