"""Shared fixtures of the Python tests: small tables with planted interactions."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest


@pytest.fixture()
def planted() -> pd.DataFrame:
    """2,000 rows: numeric a, b, c, d, e and categorical g (4 levels), label from a logit
    with the planted interactions a × b and c × g."""
    rng = np.random.default_rng(0)
    n = 2000
    frame = pd.DataFrame(
        {
            "a": rng.normal(size=n),
            "b": rng.normal(size=n),
            "c": rng.normal(size=n),
            "d": rng.normal(size=n),
            "e": rng.normal(size=n),
            "g": rng.choice(["x", "y", "z", "w"], size=n),
        }
    )
    frame["click"] = (rng.random(n) < 1 / (1 + np.exp(-planted_logit(frame)))).astype(int)
    return frame


def planted_logit(df: pd.DataFrame) -> np.ndarray:
    """A closed-form logit with two planted pairwise interactions: a × b and c × g.

    A switched-off numeric field arrives as NaN and a switched-off categorical one as None:
    both read as 0 here (the neutral value)."""
    a = np.nan_to_num(df["a"].to_numpy(dtype=float))
    b = np.nan_to_num(df["b"].to_numpy(dtype=float))
    c = np.nan_to_num(df["c"].to_numpy(dtype=float))
    d = np.nan_to_num(df["d"].to_numpy(dtype=float))
    g = df["g"].map({"x": 1.0, "y": -1.0, "z": 0.5, "w": -0.5}).fillna(0.0).to_numpy()
    return 2.0 * a * b + 2.0 * c * g + 0.5 * d


def glider_binary() -> Path:
    """The `glider` binary the Rust build made: GLIDER_BIN, the cargo target folder's, or one
    on PATH; fails the test when there is none (scripts/test.sh builds it first)."""
    given = os.environ.get("GLIDER_BIN")
    if given:
        return Path(given)
    root = Path(__file__).resolve().parents[2]
    candidate = Path(os.environ.get("CARGO_TARGET_DIR", root / "target")) / "release" / "glider"
    if candidate.exists():
        return candidate
    on_path = shutil.which("glider")
    if on_path is None:
        pytest.fail("the glider binary is not built: run cargo build --release first")
    return Path(on_path)
