#!/usr/bin/env python3
"""Splits a TSV with a header row into two disjoint files by a seeded shuffle of its rows:
one to search (select) on, one held out to report on. Deterministic for a seed.

    scripts/split-tsv.py ../shared/data/sst2/dev.tsv runs/split/search.tsv \
        runs/split/held-out.tsv --fraction 0.5 --seed 0
"""
import argparse
import random
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("first", type=Path, help="gets `fraction` of the rows")
    parser.add_argument("second", type=Path, help="gets the rest")
    parser.add_argument("--fraction", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if not 0.0 < args.fraction < 1.0:
        parser.error("--fraction must be in (0, 1)")
    lines = args.source.read_text(encoding="utf-8").splitlines(keepends=True)
    header, rows = lines[0], [r for r in lines[1:] if r.strip()]
    order = list(range(len(rows)))
    random.Random(args.seed).shuffle(order)
    cut = round(len(rows) * args.fraction)
    for path, part in ((args.first, order[:cut]), (args.second, order[cut:])):
        path.parent.mkdir(parents=True, exist_ok=True)
        # Source order within each part, so a diff against the source reads easily.
        path.write_text(header + "".join(rows[i] for i in sorted(part)), encoding="utf-8")
        print(f"{path}: {len(part)} rows")


if __name__ == "__main__":
    main()
