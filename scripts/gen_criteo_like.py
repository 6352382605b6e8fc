#!/usr/bin/env python3
"""Writes a synthetic Criteo-format file (label, 13 integer fields, 26 categorical fields,
tab separated, no header) for the streaming benchmark of BENCHMARKS.md; not committed.

The 26 categorical fields draw Zipf-distributed values (P(v) ~ 1 / (v + 1)^s) from
vocabularies whose sizes grow geometrically from 10 to 1,000,000 over the first 22 fields, the
last 4 holding 1,000,000 each (about 5M distinct values in 2M rows at s = 0.6); values are written as
8-hex-digit tokens like Criteo's. The label is a Bernoulli draw with a logit built from a few
fields, so the file is learnable. Pure Python (no numpy); about a minute per million rows.

Usage: scripts/gen_criteo_like.py OUT.txt [--rows 2000000] [--zipf 0.6] [--seed 0]
Prints the number of distinct categorical values written.
"""
import argparse
import bisect
import itertools
import math
import random


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("--rows", type=int, default=2_000_000)
    ap.add_argument("--zipf", type=float, default=0.6)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    fields = 26
    ratio = (1_000_000 / 10) ** (1 / 21)
    sizes = [int(round(10 * ratio**i)) for i in range(22)] + [1_000_000] * 4
    cums = [list(itertools.accumulate(1.0 / (v + 1) ** args.zipf for v in range(n))) for n in sizes]
    effects = [rng.gauss(0, 0.3) for _ in range(64)]
    seen = [set() for _ in range(fields)]
    block = 100_000
    with open(args.out, "w") as f:
        for start in range(0, args.rows, block):
            n = min(block, args.rows - start)
            cols = [rng.choices(range(size), cum_weights=cum, k=n) for size, cum in zip(sizes, cums)]
            for j in range(fields):
                seen[j].update(cols[j])
            lines = []
            for i in range(n):
                cat = [cols[j][i] for j in range(fields)]
                z = -1.2 + effects[cat[0] % 64] + effects[(cat[1] * 7 + cat[2]) % 64]
                label = 1 if rng.random() < 1 / (1 + math.exp(-z)) else 0
                dense = [str(int(rng.expovariate(0.1))) if rng.random() > 0.2 else "" for _ in range(13)]
                toks = [format((v * 2654435761 + j * 40503) & 0xFFFFFFFF, "08x") for j, v in enumerate(cat)]
                lines.append("\t".join([str(label)] + dense + toks))
            f.write("\n".join(lines) + "\n")
    print(sum(len(s) for s in seen))


if __name__ == "__main__":
    main()
