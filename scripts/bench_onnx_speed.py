#!/usr/bin/env python3
"""Rows per second of glider's ONNX black box beside the model's own framework and ONNX
Runtime, in the same run (BENCHMARKS.md, issue 17).

The models are the committed fixtures (scripts/make_skl2onnx_fixtures.py and
scripts/make_converter_fixtures.py); each framework model is retrained here the same way
and checked against the fixture's stored scores before it is timed, so the two sides score
the same model. Every side runs on one thread (glider parallelises over instances, not
inside a model call): scikit-learn's predict_proba, XGBoost and LightGBM with one thread,
ONNX Runtime with intra_op_num_threads=1, glider through `glider bench onnx-speed` (batches
of 4,096 rows, the black box's default). Rows are uniform in [-1, 1]^6; best of 3 runs.

Needs numpy, scikit-learn, xgboost, lightgbm and onnxruntime. From the repository root:
    python3 scripts/bench_onnx_speed.py --glider target/release/glider
"""

import argparse
import json
import os
import subprocess
import tempfile
import time

import numpy as np


def train():
    """The fixtures' models, retrained as the fixture scripts train them."""
    from lightgbm import LGBMClassifier
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.neural_network import MLPClassifier
    from xgboost import XGBClassifier

    # make_skl2onnx_fixtures.py: the MLP on the product table.
    rng = np.random.default_rng(7)
    x = rng.uniform(-1.0, 1.0, size=(4000, 6))
    logit = 3.0 * x[:, 0] * x[:, 1] + x[:, 2] - 0.5 * x[:, 3]
    y = (rng.uniform(size=4000) < 1.0 / (1.0 + np.exp(-logit))).astype(int)
    mlp = MLPClassifier(hidden_layer_sizes=(16,), max_iter=400, random_state=0)
    mlp.fit(x.astype(np.float32), y)
    # make_converter_fixtures.py: the trees on the AND table.
    rng = np.random.default_rng(7)
    x = rng.uniform(-1.0, 1.0, size=(8000, 6))
    both = (x[:, 0] > 0) & (x[:, 1] > 0)
    logits = {
        "product": 3.0 * x[:, 0] * x[:, 1] + x[:, 2] - 0.5 * x[:, 3],
        "and": 4.0 * both - 1.5 + 0.5 * x[:, 2] - 0.25 * x[:, 3],
    }
    ys = {
        k: (rng.uniform(size=8000) < 1.0 / (1.0 + np.exp(-v))).astype(int)
        for k, v in logits.items()
    }
    x32 = x.astype(np.float32)
    rf = RandomForestClassifier(n_estimators=20, max_depth=5, random_state=0).fit(x32, ys["and"])
    xgb = XGBClassifier(n_estimators=40, max_depth=3, learning_rate=0.3, random_state=0)
    xgb.fit(x32, ys["and"])
    lgbm = LGBMClassifier(n_estimators=40, num_leaves=8, random_state=0, verbose=-1)
    lgbm.fit(x32, ys["and"])
    return {
        "skl_mlp": ("scikit-learn MLP (16 hidden)", mlp),
        "conv_skl_rf": ("scikit-learn random forest (20 trees, depth 5)", rf),
        "conv_xgboost": ("XGBoost (40 trees, depth 3)", xgb),
        "conv_lightgbm": ("LightGBM (40 trees, 8 leaves)", lgbm),
    }


def one_thread(model) -> None:
    if hasattr(model, "n_jobs"):
        model.set_params(n_jobs=1)


def best_of(runs: int, f) -> float:
    best = float("inf")
    for _ in range(runs):
        t = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--glider", default="target/release/glider")
    ap.add_argument("--rows", type=int, default=100_000)
    args = ap.parse_args()
    import onnxruntime as ort

    rows = np.random.default_rng(0).uniform(-1.0, 1.0, size=(args.rows, 6)).astype(np.float32)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    table = []
    for fixture, (label, model) in train().items():
        path = os.path.join("tests", "fixtures", f"{fixture}.onnx")
        with open(os.path.join("tests", "fixtures", f"{fixture}.json")) as fh:
            expected = json.load(fh)
        check = np.array(expected["rows"], dtype=np.float32)
        want = np.array(expected.get("scores", expected.get("probability")))
        got = model.predict_proba(check)[:, 1]
        assert np.abs(got - want).max() < 1e-6, f"{fixture}: the retrained model differs"
        one_thread(model)
        framework = best_of(3, lambda m=model: m.predict_proba(rows))
        session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        name = session.get_inputs()[0].name
        runtime = best_of(3, lambda s=session, n=name: s.run(None, {n: rows}))
        with tempfile.TemporaryDirectory() as out:
            subprocess.run(
                [
                    args.glider,
                    "bench",
                    "onnx-speed",
                    "--onnx",
                    path,
                    "--rows",
                    str(args.rows),
                    "--out",
                    out,
                    "-q",
                ],
                check=True,
                stdout=subprocess.DEVNULL,
            )
            with open(os.path.join(out, "bench.json")) as fh:
                g = json.load(fh)
        table.append(
            (
                label,
                args.rows / framework,
                args.rows / runtime,
                g["rows_per_s"],
                g["tract_rows_per_s"],
            )
        )
    print(
        "| model | its framework (rows/s) | ONNX Runtime | **glider** | glider / framework "
        "| tract alone |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for label, fw, rt, gl, tr in table:
        print(f"| {label} | {fw:,.0f} | {rt:,.0f} | **{gl:,.0f}** | {gl / fw:.2f} | {tr:,.0f} |")


if __name__ == "__main__":
    main()
