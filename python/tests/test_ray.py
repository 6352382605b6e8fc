"""glider.ray on a local Ray cluster started here (2 CPUs, nothing external): sharded
detection equals one process, a task whose worker dies is retried to the same result, and
crosses fitted partition by partition equal the one-process fit."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import glider
import numpy as np
import pandas as pd
import pytest
from conftest import planted_logit

ray = pytest.importorskip("ray", reason="glider.ray needs Ray: pip install 'ray[data]'")
import glider.ray as gray  # noqa: E402

FAST: dict[str, Any] = dict(
    label="click",
    instances=8,
    perturbations=600,
    surrogate_hidden=(32, 16),
    surrogate_epochs=30,
    local_top=3,
    seed=3,
)


@pytest.fixture(scope="module", autouse=True)
def local_ray() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    # Ray's workers cannot import pytest's test modules: ship the functions defined here (and
    # in conftest) by value, as Ray does for a notebook's or a script's own functions.
    import conftest

    for module in (sys.modules[__name__], conftest):
        ray.cloudpickle.register_pickle_by_value(module)
    yield
    ray.shutdown()


def logit(df: pd.DataFrame) -> np.ndarray:
    return planted_logit(df)


def same(one: glider.Detection, many: glider.Detection) -> None:
    """Same interactions, counts and order; the same instances explained with the same
    local interactions."""
    pd.testing.assert_frame_equal(one.interactions, many.interactions)
    assert one.failed == many.failed
    assert list(one.local["instance"]) == list(many.local["instance"])
    assert list(one.local["interactions"]) == list(many.local["interactions"])


def test_sharded_detection_equals_one_process_for_a_callable(planted: pd.DataFrame) -> None:
    one = glider.detect(logit, planted, output="logit", quiet=True, **FAST)
    assert len(one.interactions) > 0
    for shards in (1, 2, 4):
        many = gray.detect(logit, planted, output="logit", shards=shards, quiet=True, **FAST)
        same(one, many)
        assert len(list((many.out / "shards").iterdir())) == shards


def test_sharded_detection_equals_one_process_for_a_model_directory(
    planted: pd.DataFrame, tmp_path: Path
) -> None:
    model = glider.train(
        planted, label="click", model="lr", epochs=3, out=tmp_path / "m", quiet=True
    )
    one = glider.detect(model.directory, planted, quiet=True, **FAST)
    for shards in (2, 4):
        many = gray.detect(model.directory, planted, shards=shards, quiet=True, **FAST)
        same(one, many)


class DiesOnce:
    """A logit whose first call anywhere kills its worker process (a lost node); the marker
    file makes every later call, in the retried task, answer."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __call__(self, df: pd.DataFrame) -> np.ndarray:
        if not self.marker.exists():
            self.marker.write_text("died")
            os._exit(1)
        return planted_logit(df)


def test_a_task_whose_worker_dies_is_retried_to_the_same_result(
    planted: pd.DataFrame, tmp_path: Path
) -> None:
    one = glider.detect(logit, planted, output="logit", quiet=True, **FAST)
    marker = tmp_path / "died"
    many = gray.detect(DiesOnce(marker), planted, output="logit", shards=2, quiet=True, **FAST)
    assert marker.exists()
    same(one, many)


class RaisesOnce:
    """A model whose first call anywhere raises (a transient failure of the model store it
    reads from): the task fails with the exception, Ray retries it, the retry answers."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __call__(self, df: pd.DataFrame) -> np.ndarray:
        if not self.marker.exists():
            self.marker.write_text("raised")
            raise ConnectionError("the model store did not answer")
        return planted_logit(df)


def test_a_task_that_raises_once_is_retried_to_the_same_result(
    planted: pd.DataFrame, tmp_path: Path
) -> None:
    one = glider.detect(logit, planted, output="logit", quiet=True, **FAST)
    marker = tmp_path / "raised"
    many = gray.detect(RaisesOnce(marker), planted, output="logit", shards=2, quiet=True, **FAST)
    assert marker.exists()
    same(one, many)


def test_bad_input_fails_at_once_with_the_message(planted: pd.DataFrame) -> None:
    with pytest.raises(glider.GliderError, match="perturbations"):
        gray.detect(logit, planted, output="logit", shards=2, **dict(FAST, perturbations=5))


def test_crosses_fitted_over_four_partitions_equal_the_one_process_fit(
    planted: pd.DataFrame,
) -> None:
    interactions = [("a", "b"), ("c", "g"), ("g", "d", "e")]
    whole, crosses = glider.encode(planted, interactions, label="click", bins=5, min_count=3)
    dataset = ray.data.from_pandas(planted).repartition(4).materialize()
    assert dataset.num_blocks() == 4
    fitted = gray.fit_crosses(dataset, interactions, label="click", bins=5, min_count=3)
    assert fitted.spec == crosses.spec
    assert all(len(c["tuples"]) > 3 for c in fitted.spec["crosses"])
    applied = gray.apply_crosses(dataset, fitted).to_pandas()
    # Ray hands the strings back arrow-backed: compare the values.
    pd.testing.assert_frame_equal(
        applied.reset_index(drop=True)[crosses.names].astype(object),
        whole[crosses.names].astype(object),
    )
