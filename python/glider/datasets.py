"""Data shipped with glider."""

from __future__ import annotations

import gzip
import io

import pandas as pd

from ._glider import adult_csv_gz


def adult() -> pd.DataFrame:
    """UCI Adult (census income; Kohavi & Becker 1996, CC BY 4.0): 48,842 rows, 14 fields
    (8 categorical, 6 numeric) and the label ``income`` (``">50K"`` is the positive class),
    missing values as NaN. The same rows as the command line's ``embedded:adult``."""
    text = gzip.decompress(adult_csv_gz())
    return pd.read_csv(io.BytesIO(text), na_values=["?"], skipinitialspace=True)
