#!/usr/bin/env python3
"""Writes ONNX exports as scikit-learn users make them: tests/fixtures/skl_*.onnx.

A 6-column float table with a planted pair (logit = 3·x0·x1 + x2 − 0.5·x3; x4 and x5 are
noise) trains an MLPClassifier and a LogisticRegression, each exported the standard way,
`skl2onnx.to_onnx(model, X[:1].astype(np.float32), options={id(model): {"zipmap": False}})`,
which declares the input "X" as [None, 6] float32 (an unknown batch dimension) and adds a
"label" output beside "probabilities"; the MLP is also exported with skl2onnx's default ZipMap
(skl_mlp_zipmap.onnx: outputs "output_label" and "output_probability", a sequence of maps).
For each model, tests/fixtures/skl_*.json holds 16
input rows and scikit-learn's own predict_proba positive-class probabilities for them (on the
float32 rows, as the export computes), the scores the ONNX black box must reproduce.

Needs scikit-learn, skl2onnx and onnx. Run from the repository root:
    python3 scripts/make_skl2onnx_fixtures.py
"""

import json
import os

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from skl2onnx import to_onnx


def main() -> None:
    rng = np.random.default_rng(7)
    x = rng.uniform(-1.0, 1.0, size=(4000, 6))
    logit = 3.0 * x[:, 0] * x[:, 1] + x[:, 2] - 0.5 * x[:, 3]
    y = (rng.uniform(size=4000) < 1.0 / (1.0 + np.exp(-logit))).astype(int)
    x32 = x.astype(np.float32)
    models = {
        "skl_mlp": MLPClassifier(hidden_layer_sizes=(16,), max_iter=400, random_state=0),
        "skl_logreg": LogisticRegression(),
    }
    rows = x32[:16]
    exports = [(name, model, False) for name, model in models.items()]
    # The same MLP exported with ZipMap (skl2onnx's default): "output_probability" is a
    # sequence of {class: probability} maps.
    exports.append(("skl_mlp_zipmap", models["skl_mlp"], True))
    for name, model, zipmap in exports:
        if not zipmap:
            model.fit(x32, y)
        options = {} if zipmap else {id(model): {"zipmap": False}}
        onx = to_onnx(model, x32[:1], options=options, target_opset=15)
        path = os.path.join("tests", "fixtures", f"{name}.onnx")
        with open(path, "wb") as fh:
            fh.write(onx.SerializeToString())
        expected = {
            "input": "X",
            "rows": rows.astype(float).tolist(),
            "probability": model.predict_proba(rows)[:, 1].astype(float).tolist(),
        }
        with open(os.path.join("tests", "fixtures", f"{name}.json"), "w") as fh:
            json.dump(expected, fh, indent=1)
        print(f"wrote {path} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main()
