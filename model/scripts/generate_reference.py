#!/usr/bin/env python3
"""Golden values for lat-model's parity tests, from an independent float64 numpy forward.

Reads an HF BERT checkpoint (config.json, model.safetensors, tokenizer.json), tokenises a few
inputs with the Python `tokenizers` package, and writes for each input, computed alone
(no padding):
  - input ids and token type ids (checks the Rust tokenizer; two inputs are also
    tokenised with truncation to 12 tokens, longest-first for the pair),
  - the plain forward's last hidden state and pooler output,
  - the length-adaptive forward under two configurations, written straight from the
    algorithm's description (reference section 1): per layer, attention on the current
    tokens, significance = attention received summed over heads and query rows, keep the
    top k_i = min(k_{i-1}, max(2, ceil(r_i n))) ([CLS] forced for sequence tasks), FFN on
    the kept rows only; Drop-and-Restore scatters every layer's output into a buffer seeded
    with the embeddings, as the reference does.

Regenerate (from the repository root, after scripts/setup-base-model.sh):
    pip install numpy safetensors tokenizers
    python3 model/scripts/generate_reference.py models-cache/all-MiniLM-L6-v2 \
        model/tests/data/minilm_reference.json
"""
import json
import math
import sys

import numpy as np
from safetensors.numpy import load_file
from tokenizers import Tokenizer

INPUTS = [
    ["the movie was a gripping , funny and moving experience ."],
    ["what is the capital of france ?", "paris is the capital and most populous city of france ."],
    ["bad ."],
    [
        "it 's a charming and often affecting journey , though the plot wanders and the "
        "final act leans too hard on sentiment to land its punches ."
    ],
]
CONFIGS = {
    "ratios": {"ratios": [0.9, 0.8, 0.7, 0.6, 0.5, 0.4], "skipped": []},
    "ratios_skip": {"ratios": [0.9, 0.8, 0.7, 0.6, 0.5, 0.4], "skipped": [2]},
}
TRUNCATION = {"max_length": 12, "inputs": [INPUTS[1], INPUTS[3]]}
SLACK = 1e-9

erf = np.vectorize(math.erf)


def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def gelu(x):
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


class Bert:
    def __init__(self, model_dir):
        self.cfg = json.load(open(f"{model_dir}/config.json"))
        raw = load_file(f"{model_dir}/model.safetensors")
        self.w = {k: v.astype(np.float64) for k, v in raw.items() if v.dtype != np.int64}
        self.eps = self.cfg["layer_norm_eps"]
        self.heads = self.cfg["num_attention_heads"]

    def lin(self, name, x):
        return x @ self.w[f"{name}.weight"].T + self.w[f"{name}.bias"]

    def ln(self, name, x):
        return layer_norm(x, self.w[f"{name}.weight"], self.w[f"{name}.bias"], self.eps)

    def embed(self, ids, types):
        w = self.w
        x = (w["embeddings.word_embeddings.weight"][ids]
             + w["embeddings.position_embeddings.weight"][np.arange(len(ids))]
             + w["embeddings.token_type_embeddings.weight"][types])
        return self.ln("embeddings.LayerNorm", x)

    def attention(self, i, x):
        """Attention sub-layer on n tokens (all real); returns output and probs [h, n, n]."""
        p = f"encoder.layer.{i}.attention"
        n, d = x.shape
        dh = d // self.heads
        split = lambda t: t.reshape(n, self.heads, dh).transpose(1, 0, 2)
        q, k, v = (split(self.lin(f"{p}.self.{m}", x)) for m in ("query", "key", "value"))
        scores = q @ k.transpose(0, 2, 1) / math.sqrt(dh)
        scores -= scores.max(-1, keepdims=True)
        probs = np.exp(scores)
        probs /= probs.sum(-1, keepdims=True)
        ctx = (probs @ v).transpose(1, 0, 2).reshape(n, d)
        return self.ln(f"{p}.output.LayerNorm", self.lin(f"{p}.output.dense", ctx) + x), probs

    def ffn(self, i, x):
        p = f"encoder.layer.{i}"
        h = gelu(self.lin(f"{p}.intermediate.dense", x))
        return self.ln(f"{p}.output.LayerNorm", self.lin(f"{p}.output.dense", h) + x)

    def plain(self, ids, types):
        x = self.embed(ids, types)
        for i in range(self.cfg["num_hidden_layers"]):
            x = self.ffn(i, self.attention(i, x)[0])
        pooled = np.tanh(self.lin("pooler.dense", x[0]))
        return x, pooled

    def length_adaptive(self, ids, types, ratios, skipped, keep_cls):
        """Returns (final kept states, restored states, kept counts, min ranking margin)."""
        x = self.embed(ids, types)
        n = len(ids)
        restored = x.copy()
        pos = np.arange(n)
        counts, prev, margin = [], n, math.inf
        for i, r in enumerate(ratios):
            if i in skipped:
                counts.append(prev)
                continue
            k = min(prev, max(2, math.ceil(r * n - SLACK)))
            h, probs = self.attention(i, x)
            if k < len(pos):
                score = probs.sum(axis=(0, 1))
                if keep_cls:
                    score[0] = math.inf
                order = np.argsort(-score, kind="stable")
                margin = min(margin, score[order[k - 1]] - score[order[k]])
                keep = order[:k]
                h, pos = h[keep], pos[keep]
            x = self.ffn(i, h)
            restored[pos] = x
            counts.append(k)
            prev = k
        return x, restored, counts, margin


def rows(a):
    return [[float(f"{v:.7g}") for v in row] for row in np.atleast_2d(a)]


def main(model_dir, out_path):
    bert = Bert(model_dir)
    tok = Tokenizer.from_file(f"{model_dir}/tokenizer.json")
    tok.no_padding()
    tok.enable_truncation(128)
    cases = []
    for texts in INPUTS:
        enc = tok.encode(*texts)
        ids, types = np.array(enc.ids), np.array(enc.type_ids)
        hidden, pooled = bert.plain(ids, types)
        case = {
            "texts": texts,
            "input_ids": enc.ids,
            "token_type_ids": enc.type_ids,
            "last_hidden_state": rows(hidden),
            "pooler_output": rows(pooled)[0],
            "configs": {},
        }
        for name, c in CONFIGS.items():
            kept, _, counts, m1 = bert.length_adaptive(ids, types, c["ratios"], c["skipped"], True)
            _, restored, _, m2 = bert.length_adaptive(ids, types, c["ratios"], c["skipped"], False)
            case["configs"][name] = {
                "kept_tokens": counts,
                "extract_cls": rows(kept[0])[0],
                "restored": rows(restored),
            }
            print(f"{texts[0][:30]!r:34} n={len(ids):3} {name:12} kept={counts} "
                  f"min ranking margin extract={m1:.2e} restore={m2:.2e}", file=sys.stderr)
        cases.append(case)
    tok.enable_truncation(TRUNCATION["max_length"])
    truncated = [
        {"texts": texts, "input_ids": e.ids, "token_type_ids": e.type_ids}
        for texts, e in ((t, tok.encode(*t)) for t in TRUNCATION["inputs"])
    ]
    doc = {
        "model": "all-MiniLM-L6-v2",
        "configs": CONFIGS,
        "cases": cases,
        "truncation": {"max_length": TRUNCATION["max_length"], "cases": truncated},
    }
    with open(out_path, "w") as f:
        json.dump(doc, f, separators=(",", ":"))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
