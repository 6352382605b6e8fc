"""One scikit-learn model explained three ways gives one answer: in-process through a
``predict_proba`` wrapper, through its skl2onnx export with ``glider.detect``, and through the
same export with ``glider detect --black-box onnx:`` on the command line. And a trained glider
model directory explained and scored from Python."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import glider
import numpy as np
import pandas as pd
import pytest
from conftest import glider_binary, planted_logit

FIELDS = ["a", "b", "c", "d", "e"]
SETTINGS = dict(instances=16, perturbations=800, surrogate_hidden=(32, 16), top_k=10, seed=4)


@pytest.fixture(scope="module")
def sklearn_model(tmp_path_factory: pytest.TempPathFactory):
    """An MLP on five numeric fields with planted a × b, exported with skl2onnx."""
    sklearn = pytest.importorskip("sklearn.neural_network")
    skl2onnx = pytest.importorskip("skl2onnx")
    from skl2onnx.common.data_types import FloatTensorType

    rng = np.random.default_rng(0)
    n = 3000
    frame = pd.DataFrame({f: rng.normal(size=n) for f in FIELDS})
    y = (planted_logit(frame.assign(g=None)) + rng.normal(size=n) * 0.3 > 0).astype(int)
    frame["label"] = y
    model = sklearn.MLPClassifier(hidden_layer_sizes=(32,), max_iter=300, random_state=0)
    model.fit(frame[FIELDS].to_numpy(np.float32), y)
    onx = skl2onnx.convert_sklearn(
        model,
        initial_types=[("input", FloatTensorType([None, len(FIELDS)]))],
        options={id(model): {"zipmap": False}},
        target_opset=17,
    )
    folder = tmp_path_factory.mktemp("skl")
    path = folder / "mlp.onnx"
    path.write_bytes(onx.SerializeToString())
    csv = folder / "data.csv"
    frame.to_csv(csv, index=False)
    return model, path, frame, csv


def test_in_process_onnx_and_cli_give_the_same_top_10(sklearn_model, tmp_path: Path) -> None:
    model, onnx_path, frame, csv = sklearn_model

    # The export reads float32 and a switched-off field as 0 (the inferred mapping's off
    # value): the wrapper does the same.
    def wrapper(df: pd.DataFrame) -> np.ndarray:
        return model.predict_proba(df.to_numpy(np.float32)).astype(np.float32)

    in_process = glider.detect(wrapper, frame, off={f: 0.0 for f in FIELDS}, quiet=True, **SETTINGS)
    exported = glider.detect(str(onnx_path), frame, quiet=True, **SETTINGS)
    # scikit-learn and tract (and CPUs) round float32 differently in the last bits, so an
    # instance's ranking may differ at its pruning boundary and sets near the noise floor
    # come and go (16 instances): the three strongest sets in the same order, the planted
    # a × b first, all but one of the in-process sets shared (supersets of the top sets
    # are pruned and the local cut-off keeps only sets that earn their place, so fewer than
    # ten may be selected), and the three counted within one.
    assert len(in_process.top(10)) >= 3
    assert in_process.top(3) == exported.top(3)
    assert in_process.top(1) == [("a", "b")]
    shared = set(in_process.top(10)) & set(exported.top(10))
    assert len(shared) >= len(in_process.top(10)) - 1, (in_process.top(10), exported.top(10))
    counts = dict(zip(in_process.interactions["fields"], in_process.interactions["count"]))
    for fields, count in zip(exported.top(3), exported.interactions["count"][:3]):
        assert abs(counts[fields] - count) <= 1, (fields, counts[fields], count)

    binary = glider_binary()
    out = tmp_path / "cli"
    args = [
        str(binary),
        "detect",
        "--black-box",
        f"onnx:{onnx_path}",
        "--data",
        str(csv),
        "--instances",
        "16",
        "--perturbations",
        "800",
        "--surrogate-hidden",
        "32,16",
        "--top-k",
        "10",
        "--seed",
        "4",
        "--quiet",
        "--out",
        str(out),
    ]
    subprocess.run(args, check=True, capture_output=True)
    # The command line runs the same ONNX black box as glider.detect: the very same answer.
    cli = json.loads((out / "global_interactions.json").read_text())
    assert [tuple(i["fields"]) for i in cli["interactions"]] == exported.top(10)
    assert [i["count"] for i in cli["interactions"]] == list(exported.interactions["count"])


def test_a_glider_model_directory_from_python(planted: pd.DataFrame, tmp_path: Path) -> None:
    binary = glider_binary()
    csv = tmp_path / "planted.csv"
    planted.to_csv(csv, index=False)
    model_dir = tmp_path / "model"
    subprocess.run(
        [
            str(binary),
            "train",
            "--data",
            str(csv),
            "--label",
            "click",
            "--model",
            "fm",
            "--epochs",
            "3",
            "--quiet",
            "--out",
            str(model_dir),
        ],
        check=True,
        capture_output=True,
    )
    model = glider.load(model_dir)
    assert model.kind == "fm"
    # Python's scores are the command line's.
    scores = tmp_path / "scores.csv"
    subprocess.run(
        [
            str(binary),
            "predict",
            "--model-dir",
            str(model_dir),
            "--data",
            str(csv),
            "--out",
            str(scores),
        ],
        check=True,
        capture_output=True,
    )
    cli = pd.read_csv(scores)
    p = model.predict(planted)
    np.testing.assert_allclose(p, cli["probability"].to_numpy(), rtol=1e-5, atol=1e-6)
    # The model directory explained from Python gives the command line's answer on the same
    # rows and seed.
    settings = dict(instances=6, perturbations=1000, surrogate_hidden=(64, 32), local_top=3)
    direct = glider.detect(model_dir, planted, quiet=True, seed=2, **settings)
    out = tmp_path / "cli-detect"
    subprocess.run(
        [
            str(binary),
            "detect",
            "--model-dir",
            str(model_dir),
            "--data",
            str(csv),
            "--instances",
            "6",
            "--perturbations",
            "1000",
            "--surrogate-hidden",
            "64,32",
            "--local-top",
            "3",
            "--seed",
            "2",
            "--quiet",
            "--out",
            str(out),
        ],
        check=True,
        capture_output=True,
    )
    cli_result = json.loads((out / "global_interactions.json").read_text())
    assert [tuple(i["fields"]) for i in cli_result["interactions"]] == direct.top(100)
    assert [i["count"] for i in cli_result["interactions"]] == list(direct.interactions["count"])
    # A callable wrapping the same model runs too (its switched-off fields arrive as missing
    # values, not the model's neutral off state, so its answer may differ).
    wrapped = glider.detect(
        model.predict_logit, planted, label="click", output="logit", quiet=True, **settings
    )
    assert wrapped.failed == [] and len(wrapped.local) == 6
    with pytest.raises(glider.GliderError, match="model.json"):
        glider.load(tmp_path)
    with pytest.raises(glider.GliderError):
        model.predict(planted.drop(columns=["a"]))


def test_train_from_python_is_the_command_lines_train(
    planted: pd.DataFrame, tmp_path: Path
) -> None:
    binary = glider_binary()
    model = glider.train(
        planted, "fm", label="click", epochs=3, lr=0.01, seed=5, out=tmp_path / "py", quiet=True
    )
    assert model.kind == "fm" and model.metrics["epochs"] >= 1
    csv = tmp_path / "planted.csv"
    planted.to_csv(csv, index=False)
    subprocess.run(
        [
            str(binary),
            "train",
            "--data",
            str(csv),
            "--label",
            "click",
            "--model",
            "fm",
            "--epochs",
            "3",
            "--lr",
            "0.01",
            "--seed",
            "5",
            "--quiet",
            "--out",
            str(tmp_path / "cli"),
        ],
        check=True,
        capture_output=True,
    )
    cli = json.loads((tmp_path / "cli" / "metrics.json").read_text())
    for part in ("validation", "test"):
        assert model.metrics[part] == cli[part]
    np.testing.assert_array_equal(
        model.predict(planted), glider.load(tmp_path / "cli").predict(planted)
    )
    # Explicit validation and test frames are the split, as --validation and --test are.
    again = glider.train(
        planted[:1600],
        "lr",
        label="click",
        validation=planted[1600:1800],
        test=planted[1800:],
        quiet=True,
    )
    assert again.metrics["epochs"] >= 1
    with pytest.raises(glider.GliderError, match="unknown setting learning_rat"):
        glider.train(planted, "fm", label="click", learning_rat=0.1, quiet=True)
    with pytest.raises(glider.GliderError, match="--lr must be a positive number"):
        glider.train(planted, "fm", label="click", lr=-1.0, quiet=True)


def _without_timings(v: Any) -> Any:
    if isinstance(v, dict):
        return {
            k: _without_timings(x)
            for k, x in v.items()
            if not (k == "seconds" or k.endswith("_seconds") or k in ("dataset", "fingerprint"))
        }
    if isinstance(v, list):
        return [_without_timings(x) for x in v]
    return v


def test_run_from_python_is_the_command_lines_run(planted: pd.DataFrame, tmp_path: Path) -> None:
    binary = glider_binary()
    report = glider.run(
        planted,
        "deepfm",
        label="click",
        trials=2,
        instances=4,
        perturbations=400,
        top_k=3,
        surrogate_hidden=(16, 8),
        epochs=2,
        hidden=(16, 16),
        seed=5,
        out=tmp_path / "py",
        quiet=True,
    )
    assert [t["model"] for t in report["targets"]] == ["deepfm", "lr"]
    csv = tmp_path / "planted.csv"
    planted.to_csv(csv, index=False)
    subprocess.run(
        [
            str(binary),
            "run",
            "--data",
            str(csv),
            "--label",
            "click",
            "--source-model",
            "deepfm",
            "--trials",
            "2",
            "--instances",
            "4",
            "--perturbations",
            "400",
            "--top-k",
            "3",
            "--surrogate-hidden",
            "16,8",
            "--epochs",
            "2",
            "--hidden",
            "16,16",
            "--seed",
            "5",
            "--quiet",
            "--out",
            str(tmp_path / "cli"),
        ],
        check=True,
        capture_output=True,
    )
    cli = json.loads((tmp_path / "cli" / "report.json").read_text())
    assert _without_timings(report) == _without_timings(cli)


def test_run_names_a_bad_cross_part_before_training(planted: pd.DataFrame, tmp_path: Path) -> None:
    with pytest.raises(
        glider.GliderError, match='cross_part="half": give "auto", "full" or "linear"'
    ):
        glider.run(
            planted, "deepfm", label="click", cross_part="half", out=tmp_path / "x", quiet=True
        )
