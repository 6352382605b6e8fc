"""glider.detect on Python callables: planted interactions come first, results match the
files, and bad input raises GliderError naming what is wrong."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import glider
import numpy as np
import pandas as pd
import pytest
from conftest import glider_binary, planted_logit

# Six fields have only 15 pairs: every instance's NID ranking holds most of them, so the
# counts separate the planted pairs only when each instance keeps its top few (local_top).
FAST = dict(
    label="click",
    instances=12,
    perturbations=1000,
    surrogate_hidden=(64, 32),
    local_top=3,
    quiet=True,
)


def test_version_and_defaults_match_the_command_line() -> None:
    assert glider.__version__.count(".") == 2
    # The keywords' defaults are the library's (which the CLI test checks against its flags).
    import inspect

    params = inspect.signature(glider.detect).parameters
    for key, value in glider.default_settings().items():
        default = params[key].default
        if isinstance(default, tuple):
            default = list(default)
        assert default == value, key


def test_planted_interactions_come_first(planted: pd.DataFrame) -> None:
    result = glider.detect(lambda df: planted_logit(df), planted, output="logit", seed=1, **FAST)
    top = [set(f) for f in result.top(2)]
    assert {"a", "b"} in top and {"c", "g"} in top, result.interactions
    assert result.failed == []
    assert result.instances == 12
    assert len(result.local) == 12
    # The pair-strength matrix puts the planted pairs above every unplanted pair.
    s = result.pair_strength
    planted_min = min(s.loc["a", "b"], s.loc["c", "g"])
    others = [
        s.loc[x, y]
        for x in s.index
        for y in s.columns
        if x < y and {x, y} not in ({"a", "b"}, {"c", "g"})
    ]
    assert planted_min > max(others)


def test_probabilities_and_logits_give_the_same_answer(planted: pd.DataFrame) -> None:
    logit = glider.detect(lambda df: planted_logit(df), planted, output="logit", seed=2, **FAST)
    prob = glider.detect(lambda df: 1 / (1 + np.exp(-planted_logit(df))), planted, seed=2, **FAST)
    assert logit.top(3) == prob.top(3)


def test_files_match_the_result_and_save_writes_them(planted: pd.DataFrame, tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = glider.detect(lambda df: planted_logit(df), planted, output="logit", out=out, **FAST)
    data = json.loads((out / "global_interactions.json").read_text())
    assert [tuple(i["fields"]) for i in data["interactions"]] == list(result.interactions["fields"])
    assert data["fields"] == ["a", "b", "c", "d", "e", "g"]
    saved = result.save(tmp_path / "copy")
    assert (saved / "report.html").exists()
    assert json.loads((saved / "global_interactions.json").read_text()) == data


def test_the_callable_sees_the_data_columns_with_off_values(planted: pd.DataFrame) -> None:
    seen: list[pd.DataFrame] = []

    def model(df: pd.DataFrame) -> np.ndarray:
        seen.append(df)
        return planted_logit(df)

    # The paper's counting: only the perturbations are queried (the local cut-off would add
    # its pure-effect queries).
    glider.detect(model, planted, output="logit", off={"g": "x"}, local_cutoff="off", **FAST)
    frame = seen[-1]
    assert list(frame.columns) == ["a", "b", "c", "d", "e", "g"]
    assert frame["a"].dtype == np.float64
    assert set(frame["g"].unique()) <= {"x", "y", "z", "w"}
    assert frame["a"].isna().any()  # switched-off numeric fields are missing
    # Each distinct mask is asked once: 6 fields have at most 2^6 masks among 1,000.
    assert 32 <= len(frame) <= 64


def test_off_values_for_unknown_columns_are_a_glider_error(planted: pd.DataFrame) -> None:
    with pytest.raises(glider.GliderError, match="off= names columns that are not fields: nope"):
        glider.detect(planted_logit, planted, output="logit", off={"nope": 1}, **FAST)


def test_a_callable_that_fails_on_some_instances_is_reported_and_the_rest_go_on(
    planted: pd.DataFrame,
) -> None:
    calls = {"n": 0}

    def flaky(df: pd.DataFrame) -> np.ndarray:
        calls["n"] += 1
        if calls["n"] in (3, 5):
            raise RuntimeError("the service hiccuped")
        return planted_logit(df)

    result = glider.detect(flaky, planted, output="logit", **{**FAST, "instances": 8})
    assert len(result.failed) == 2
    assert all("the service hiccuped" in why for _, why in result.failed)
    assert len(result.local) == 6


@pytest.mark.parametrize(
    ("model", "expect"),
    [
        (lambda df: 1 / 0, "ZeroDivisionError"),
        (lambda df: np.zeros(len(df) - 1), "scores"),
        (lambda df: np.full(len(df), np.nan), "NaN"),
    ],
)
def test_a_model_that_never_answers_raises_naming_the_instance(
    planted: pd.DataFrame, model, expect: str
) -> None:
    with pytest.raises(glider.GliderError) as e:
        glider.detect(model, planted, output="logit", **FAST)
    assert "instance 0" in str(e.value) and expect in str(e.value)


def test_bad_frames_and_settings_raise_value_errors(planted: pd.DataFrame) -> None:
    bad = planted.copy()
    bad["a"] = bad["a"].astype(object)
    bad.loc[7, "a"] = "seven"
    with pytest.raises(ValueError, match=r'column "a", row 7.*"seven" is not a number'):
        glider.detect(planted_logit, bad, dense=["a"], **FAST)
    with pytest.raises(ValueError, match='no column named "nope"'):
        glider.detect(planted_logit, planted, categorical=["nope"], **FAST)
    with pytest.raises(ValueError, match="--perturbations must be at least 100"):
        glider.detect(planted_logit, planted, **{**FAST, "perturbations": 10})
    with pytest.raises(ValueError, match="unknown variant"):
        glider.detect(planted_logit, planted, detector="magic", **FAST)
    with pytest.raises(TypeError):
        glider.detect(42, planted)  # type: ignore[arg-type]


def test_the_same_seed_gives_the_same_result(planted: pd.DataFrame) -> None:
    a = glider.detect(lambda df: planted_logit(df), planted, output="logit", seed=3, **FAST)
    b = glider.detect(lambda df: planted_logit(df), planted, output="logit", seed=3, **FAST)
    assert a.to_json() == b.to_json()


def test_encode_matches_the_command_line(planted: pd.DataFrame, tmp_path: Path) -> None:
    crossed, crosses = glider.encode(planted, [("a", "b"), ("c", "g")], label="click", bins=4)
    assert crosses.names == [n for n in crossed.columns if n not in planted.columns]
    assert len(crosses.names) == 2
    # Applying the fitted crosses to the same rows gives the same columns.
    again = crosses.apply(planted)
    for name in crosses.names:
        assert list(again[name]) == list(crossed[name])
    binary = glider_binary()
    csv = tmp_path / "planted.csv"
    planted.to_csv(csv, index=False)
    found = tmp_path / "global_interactions.json"
    found.write_text(
        json.dumps(
            {
                "fields": ["a", "b", "c", "d", "e", "g"],
                "instances": 1,
                "failed": [],
                "interactions": [
                    {"fields": ["a", "b"], "count": 1},
                    {"fields": ["c", "g"], "count": 1},
                ],
                "pair_strength": [0.0] * 36,
            }
        )
    )
    subprocess.run(
        [
            str(binary),
            "encode",
            "--data",
            str(csv),
            "--label",
            "click",
            "--interactions",
            str(found),
            "--bins",
            "4",
            "--out",
            str(tmp_path / "enc"),
        ],
        check=True,
        capture_output=True,
    )
    cli = pd.read_csv(tmp_path / "enc" / "data.csv", dtype=str, keep_default_na=False)
    for name in crosses.names:
        ours = ["" if v is None else v for v in crossed[name]]
        assert ours == list(cli[name]), name
    with pytest.raises(glider.GliderError, match='names field "zz"'):
        glider.encode(planted, [("a", "zz")], label="click")


def test_a_pyarrow_table_reads_as_its_dataframe(planted: pd.DataFrame) -> None:
    pa = pytest.importorskip("pyarrow")
    table = pa.Table.from_pandas(planted, preserve_index=False)
    from_arrow = glider.detect(planted_logit, table, output="logit", seed=6, **FAST)
    from_pandas = glider.detect(planted_logit, planted, output="logit", seed=6, **FAST)
    assert from_arrow.to_json() == from_pandas.to_json()
