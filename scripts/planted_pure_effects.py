#!/usr/bin/env python3
"""What a trained model holds of each field set: the mean |pure interaction effect| over rows.

    scripts/planted_pure_effects.py DATA.csv MODEL_DIR SETS [ROWS] [GLIDER]

SETS: field indices, '-' within a set, ',' between sets (e.g. 3-4,5-6,0-1-2). For each of
the first ROWS rows (200) of DATA.csv (label first, as `glider synth` writes it) and each set
S, the pure effect is the |S|-th order mixed difference of the model's logit with the fields
of S switched off (empty cells = missing) in every combination and the other fields as in
the row: sum over T in S of (-1)^(|S|-|T|) f(row with S minus T off). This is the quantity
glider's --local-cutoff scores; here it tells whether the model learned a planted set at all
(an explainer cannot find what the model does not hold). Prints median, 90th percentile and
mean of |effect| per set, in logits. Uses `glider predict` (default
$CARGO_TARGET_DIR/release/glider or target/release/glider).
"""
import csv
import os
import subprocess
import sys
import tempfile


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    data_csv, model, spec = sys.argv[1:4]
    nrows = int(sys.argv[4]) if len(sys.argv) > 4 else 200
    target = os.environ.get("CARGO_TARGET_DIR", "target")
    glider = sys.argv[5] if len(sys.argv) > 5 else os.path.join(target, "release", "glider")
    sets = [tuple(int(f) for f in s.split("-")) for s in spec.split(",")]
    with open(data_csv, newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        rows = [r for _, r in zip(range(nrows), reader)]
    with tempfile.TemporaryDirectory() as tmp:
        queries = os.path.join(tmp, "q.csv")
        scores = os.path.join(tmp, "scores.csv")
        with open(queries, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(header)
            for r in rows:
                for s in sets:
                    for on in range(1 << len(s)):
                        q = list(r)
                        for bit, field in enumerate(s):
                            if not on & (1 << bit):
                                q[1 + field] = ""
                        w.writerow(q)
        subprocess.run([glider, "predict", "--model-dir", model, "--data", queries,
                        "--out", scores, "-q"], check=True)
        with open(scores, newline="") as f:
            logits = [float(x["logit"]) for x in csv.DictReader(f)]
    effects = {s: [] for s in sets}
    at = 0
    for _ in rows:
        for s in sets:
            k = len(s)
            d = 0.0
            for on in range(1 << k):
                off = k - bin(on).count("1")
                d += (-1) ** off * logits[at + on]
            at += 1 << k
            effects[s].append(abs(d))
    print("| set | median | p90 | mean |")
    print("|---|---|---|---|")
    for s in sets:
        v = sorted(effects[s])
        n = len(v)
        name = "×".join(f"f{f}" for f in s)
        print(f"| {name} | {v[n // 2]:.3f} | {v[int(n * 0.9)]:.3f} | {sum(v) / n:.3f} |")


if __name__ == "__main__":
    main()
