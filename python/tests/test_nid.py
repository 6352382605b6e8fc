"""glider.nid from Python: the planted pair comes first, and the answer is the command line's."""

from __future__ import annotations

import inspect
import json
import subprocess
from pathlib import Path

import glider
import numpy as np
import pandas as pd
import pytest
from conftest import glider_binary

FAST = {"hidden": (32, 16), "epochs": 30, "seed": 1, "quiet": True}


@pytest.fixture()
def regression() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 1500
    frame = pd.DataFrame({k: rng.uniform(-1, 1, size=n) for k in "abcd"})
    frame["y"] = 2 * frame["a"] * frame["b"] + frame["c"] + rng.normal(size=n) * 0.05
    return frame


def test_defaults_are_the_command_lines() -> None:
    params = inspect.signature(glider.nid).parameters
    for key, value in glider.default_nid_options().items():
        default = params[key].default
        assert (list(default) if isinstance(default, tuple) else default) == value, key


def test_the_planted_pair_comes_first_and_matches_the_cli(
    regression: pd.DataFrame, tmp_path: Path
) -> None:
    result = glider.nid(regression, label="y", task="regression", out=tmp_path / "py", **FAST)
    assert result.task == "regression"
    assert set(result.pairwise["fields"][0]) == {"a", "b"}
    binary = glider_binary()
    csv = tmp_path / "reg.csv"
    regression.to_csv(csv, index=False)
    subprocess.run(
        [
            str(binary),
            "nid",
            "--data",
            str(csv),
            "--label",
            "y",
            "--task",
            "regression",
            "--hidden",
            "32,16",
            "--epochs",
            "30",
            "--seed",
            "1",
            "--out",
            str(tmp_path / "cli"),
        ],
        check=True,
        capture_output=True,
    )
    cli = json.loads((tmp_path / "cli" / "interactions.json").read_text())
    assert [p["fields"] for p in cli["pairwise"]] == [list(f) for f in result.pairwise["fields"]]
    assert [p["strength"] for p in cli["pairwise"]] == list(result.pairwise["strength"])


def test_the_task_is_inferred_and_bad_settings_raise(regression: pd.DataFrame) -> None:
    binary = regression.assign(y=(regression["y"] > 0).astype(int))
    assert glider.nid(binary, label="y", **FAST).task == "binary"
    with pytest.raises(ValueError, match="--hidden needs at least one layer"):
        glider.nid(regression, label="y", **{**FAST, "hidden": ()})
    with pytest.raises(ValueError, match="unknown variant"):
        glider.nid(regression, label="y", averaging="median", **FAST)
