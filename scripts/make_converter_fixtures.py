#!/usr/bin/env python3
"""Writes the converter test matrix: tests/fixtures/conv_*.onnx, real exports of small models.

Every model is trained on a table with a planted pair and exported the way its framework's
users export it; beside each, conv_*.json holds 16 input rows and the framework's own scores
for them (predict_proba's positive class, or the PyTorch module's logit), which the ONNX
black box must reproduce within 1e-5, plus the planted pair.

- Tree ensembles and scikit-learn on a 6-column float table, x uniform in [-1, 1], input "X"
  [None, 6]: the trees on logit = 4·[x0 > 0 and x1 > 0] − 1.5 + 0.5·x2 − 0.25·x3, the
  logistic regression on the product table of make_skl2onnx_fixtures.py (3·x0·x1 + x2 −
  0.5·x3; additive in its logit, so it only checks scores); x4, x5 are noise:
  skl2onnx (random forest, gradient boosting, logistic regression; with ZipMap, the default,
  and without), onnxmltools (XGBoost, LightGBM; the ai.onnx.ml TreeEnsembleClassifier).
- PyTorch, a small CTR model: three categorical fields as one int64 index tensor "cat"
  [N, 3] (index 0 = missing, reserved), two dense fields as a float tensor "dense" [N, 2],
  embeddings + MLP, output "logit" [N, 1]; planted: a c0 × c1 table. Exported by
  torch.onnx.export with a static batch of 16, with dynamic axes (the TorchScript
  exporter), and by the dynamo exporter with a dynamic batch. conv_torch_ctr.csv holds 3,000
  rows of its table (the data GLIDER explains it on) and conv_torch_ctr_mapping.json the
  mapping.
- conv_custom_op.onnx: one node of an operator no runtime has (domain "glider.test"), for
  the error a user meets.

Needs numpy, scikit-learn, skl2onnx, onnxmltools, xgboost, lightgbm, torch, onnxscript and
onnx. Run from the repository root:
    python3 scripts/make_converter_fixtures.py
"""

import json
import os

import numpy as np

OUT = os.path.join("tests", "fixtures")


def write(name: str, onx, rows, scores, extra=None) -> None:
    path = os.path.join(OUT, f"{name}.onnx")
    with open(path, "wb") as fh:
        fh.write(onx.SerializeToString())
    expected = {"rows": rows, "scores": [float(s) for s in scores]}
    expected.update(extra or {})
    with open(os.path.join(OUT, f"{name}.json"), "w") as fh:
        json.dump(expected, fh, indent=1)
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


def tabular() -> None:
    from lightgbm import LGBMClassifier
    from onnxmltools import convert_lightgbm, convert_xgboost
    from onnxmltools.convert.common.data_types import FloatTensorType
    from skl2onnx import to_onnx
    from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from xgboost import XGBClassifier

    rng = np.random.default_rng(7)
    x = rng.uniform(-1.0, 1.0, size=(8000, 6))
    # Trees learn a product of two fields poorly (no marginal effect to split on); the tree
    # models get an AND of their signs instead, which greedy splits find.
    both = (x[:, 0] > 0) & (x[:, 1] > 0)
    logit = {
        "product": 3.0 * x[:, 0] * x[:, 1] + x[:, 2] - 0.5 * x[:, 3],
        "and": 4.0 * both - 1.5 + 0.5 * x[:, 2] - 0.25 * x[:, 3],
    }
    y = {
        k: (rng.uniform(size=8000) < 1.0 / (1.0 + np.exp(-v))).astype(int) for k, v in logit.items()
    }
    x32 = x.astype(np.float32)
    rows = x32[:16]
    meta = {"kind": "probability", "input": "X", "planted": [0, 1]}
    skl = {
        "rf": RandomForestClassifier(n_estimators=20, max_depth=5, random_state=0),
        "gb": GradientBoostingClassifier(n_estimators=40, max_depth=3, random_state=0),
        "logreg": LogisticRegression(),
    }
    for name, model in skl.items():
        model.fit(x32, y["product" if name == "logreg" else "and"])
        proba = model.predict_proba(rows)[:, 1]
        for zipmap in (False, True):
            if name == "gb" and zipmap:
                continue
            options = {} if zipmap else {id(model): {"zipmap": False}}
            onx = to_onnx(model, x32[:1], options=options)
            suffix = "_zipmap" if zipmap else ""
            write(f"conv_skl_{name}{suffix}", onx, rows.tolist(), proba, meta)
    initial = [("X", FloatTensorType([None, 6]))]
    xgb = XGBClassifier(n_estimators=40, max_depth=3, learning_rate=0.3, random_state=0)
    xgb.fit(x32, y["and"])
    onx = convert_xgboost(xgb, initial_types=initial, target_opset=15)
    write("conv_xgboost", onx, rows.tolist(), xgb.predict_proba(rows)[:, 1], meta)
    lgbm = LGBMClassifier(n_estimators=40, num_leaves=8, random_state=0, verbose=-1)
    lgbm.fit(x32, y["and"])
    onx = convert_lightgbm(lgbm, initial_types=initial, zipmap=False, target_opset=15)
    write("conv_lightgbm", onx, rows.tolist(), lgbm.predict_proba(rows)[:, 1], meta)


def torch_ctr() -> None:
    import torch

    torch.manual_seed(0)
    rng = np.random.default_rng(11)
    n, vocab = 3000, 8
    cat = rng.integers(1, vocab + 1, size=(n, 3))
    dense = rng.normal(size=(n, 2)).astype(np.float32)
    table = rng.choice([-2.0, 2.0], size=(vocab + 1, vocab + 1))
    logit = table[cat[:, 0], cat[:, 1]] + 0.8 * dense[:, 0] + 0.2 * (cat[:, 2] % 2)
    y = (rng.uniform(size=n) < 1.0 / (1.0 + np.exp(-logit))).astype(np.float32)

    class Ctr(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = torch.nn.Embedding(3 * (vocab + 1), 4)
            self.register_buffer("offsets", torch.arange(3) * (vocab + 1))
            self.mlp = torch.nn.Sequential(
                torch.nn.Linear(3 * 4 + 2, 32), torch.nn.ReLU(), torch.nn.Linear(32, 1)
            )

        def forward(self, cat: torch.Tensor, dense: torch.Tensor) -> torch.Tensor:
            e = self.embed(cat + self.offsets).reshape(cat.shape[0], -1)
            return self.mlp(torch.cat([e, dense], dim=1))

    model = Ctr()
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    tc, td, ty = torch.tensor(cat), torch.tensor(dense), torch.tensor(y)
    for _ in range(300):
        opt.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(model(tc, td).squeeze(1), ty)
        loss.backward()
        opt.step()
    model.eval()
    c16, d16 = tc[:16], td[:16]
    with torch.no_grad():
        scores = model(c16, d16).squeeze(1).numpy()
    rows = [list(map(int, c)) + list(map(float, d)) for c, d in zip(cat[:16], dense[:16])]
    meta = {"kind": "logit", "inputs": ["cat", "dense"], "planted": ["c0", "c1"]}
    import onnx

    for name, kwargs in (
        ("static", {}),
        (
            "dynamic",
            {
                "dynamic_axes": {
                    "cat": {0: "batch"},
                    "dense": {0: "batch"},
                    "logit": {0: "batch"},
                }
            },
        ),
    ):
        path = os.path.join(OUT, f"conv_torch_ctr_{name}.onnx")
        torch.onnx.export(
            model,
            (c16, d16),
            path,
            input_names=["cat", "dense"],
            output_names=["logit"],
            opset_version=17,
            dynamo=False,
            **kwargs,
        )
        write(f"conv_torch_ctr_{name}", onnx.load(path), rows, scores, meta)
    batch = torch.export.Dim("batch", min=1)
    program = torch.onnx.export(
        model,
        (c16, d16),
        input_names=["cat", "dense"],
        output_names=["logit"],
        dynamic_shapes={"cat": {0: batch}, "dense": {0: batch}},
        dynamo=True,
    )
    write("conv_torch_ctr_dynamo", program.model_proto, rows, scores, meta)
    with open(os.path.join(OUT, "conv_torch_ctr.csv"), "w") as fh:
        fh.write("click,c0,c1,c2,d0,d1\n")
        for i in range(n):
            c = cat[i]
            fh.write(f"{int(y[i])},{c[0]},{c[1]},{c[2]},{dense[i, 0]:.6f},{dense[i, 1]:.6f}\n")
    mapping = {
        "layout": "per_field",
        "fields": [
            {"field": f"c{k}", "input": "cat", "datatype": "INT64", "off": 0} for k in range(3)
        ]
        + [{"field": f"d{k}", "input": "dense", "datatype": "FP32", "off": 0.0} for k in range(2)],
        "output": {"name": "logit", "kind": "logit"},
    }
    with open(os.path.join(OUT, "conv_torch_ctr_mapping.json"), "w") as fh:
        json.dump(mapping, fh, indent=1)


def one_hot() -> None:
    """A table whose categorical fields are blocks of one-hot columns, as pandas.get_dummies
    writes them, and a model over the columns: the MLP over all 16 columns (x0, occ_1..occ_6,
    edu_1..edu_5, reg_1..reg_4), planted occupation x education; and the same fields fed to
    a scikit-learn Pipeline (OneHotEncoder + MLP) exported whole, whose ai.onnx.ml
    OneHotEncoder tract does not run."""
    from skl2onnx import to_onnx
    from sklearn.compose import ColumnTransformer
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    rng = np.random.default_rng(5)
    n = 6000
    occ = rng.integers(0, 6, size=n)
    edu = rng.integers(0, 5, size=n)
    reg = rng.integers(0, 4, size=n)
    x0 = rng.uniform(-1.0, 1.0, size=n)
    table = rng.choice([-2.5, 2.5], size=(6, 5))
    logit = table[occ, edu] + 0.8 * x0 + 0.3 * (reg == 1)
    y = (rng.uniform(size=n) < 1.0 / (1.0 + np.exp(-logit))).astype(int)
    cols = (
        [x0]
        + [(occ == k).astype(float) for k in range(6)]
        + [(edu == k).astype(float) for k in range(5)]
        + [(reg == k).astype(float) for k in range(4)]
    )
    x = np.stack(cols, axis=1).astype(np.float32)
    names = (
        ["x0"]
        + [f"occ_{k + 1}" for k in range(6)]
        + [f"edu_{k + 1}" for k in range(5)]
        + [f"reg_{k + 1}" for k in range(4)]
    )
    mlp = MLPClassifier(hidden_layer_sizes=(32,), max_iter=500, random_state=0)
    mlp.fit(x, y)
    onx = to_onnx(mlp, x[:1], options={id(mlp): {"zipmap": False}})
    meta = {"kind": "probability", "input": "X", "planted": ["occupation", "education"]}
    write("conv_onehot_mlp", onx, x[:16].tolist(), mlp.predict_proba(x[:16])[:, 1], meta)
    with open(os.path.join(OUT, "conv_onehot.csv"), "w") as fh:
        fh.write("y," + ",".join(names) + "\n")
        for i in range(1500):
            cells = [f"{x[i, 0]:.5f}"] + [str(int(v)) for v in x[i, 1:]]
            fh.write(f"{y[i]}," + ",".join(cells) + "\n")
    cat = np.stack([occ, edu, reg], axis=1).astype(np.int64)
    pipe = Pipeline(
        [
            ("onehot", ColumnTransformer([("c", OneHotEncoder(), [0, 1, 2])])),
            ("mlp", MLPClassifier(hidden_layer_sizes=(16,), max_iter=300, random_state=0)),
        ]
    )
    pipe.fit(cat, y)
    onx = to_onnx(pipe, cat[:1], options={id(pipe.steps[-1][1]): {"zipmap": False}})
    path = os.path.join(OUT, "conv_onehot_pipeline.onnx")
    with open(path, "wb") as fh:
        fh.write(onx.SerializeToString())
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


def custom_op() -> None:
    from onnx import TensorProto, helper

    node = helper.make_node("NoSuchOp", ["X"], ["Y"], domain="glider.test", name="mystery")
    graph = helper.make_graph(
        [node],
        "custom",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [None, 6])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [None, 1])],
    )
    onx = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("glider.test", 1)],
    )
    path = os.path.join(OUT, "conv_custom_op.onnx")
    with open(path, "wb") as fh:
        fh.write(onx.SerializeToString())
    print(f"wrote {path}")


if __name__ == "__main__":
    tabular()
    torch_ctr()
    one_hot()
    custom_op()
