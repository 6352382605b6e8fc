"""Columns across the boundary: a pandas DataFrame to the extension's payloads, and
payloads back to a DataFrame for a Python model.

Numbers travel as little-endian float64 bytes (NaN = missing); texts as little-endian uint32
codes into a dictionary (0 = missing), pandas' ``factorize`` codes plus one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Callable, Optional

import numpy as np
import pandas as pd

from ._glider import GliderError

Payload = tuple[str, str, bytes, Optional[list[str]]]


def as_dataframe(data: Any) -> pd.DataFrame:
    """``data`` as a pandas DataFrame: a DataFrame as it is, a pyarrow Table converted."""
    if isinstance(data, pd.DataFrame):
        return data
    to_pandas = getattr(data, "to_pandas", None)
    if callable(to_pandas):
        frame = to_pandas()
        if isinstance(frame, pd.DataFrame):
            return frame
    raise TypeError(
        f"data must be a pandas DataFrame or a pyarrow Table, not {type(data).__name__}"
    )


def _is_number_column(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)


def payloads(frame: pd.DataFrame) -> list[Payload]:
    """One payload per column: ``(name, "numbers" | "texts", bytes, dictionary)``."""
    out: list[Payload] = []
    for name in frame.columns:
        s = frame[name]
        label = str(name)
        if _is_number_column(s):
            values = s.to_numpy(dtype="<f8", na_value=np.nan)
            out.append((label, "numbers", np.ascontiguousarray(values).tobytes(), None))
        else:
            codes, uniques = pd.factorize(s, use_na_sentinel=True)
            codes = (codes.astype(np.int64) + 1).astype("<u4")
            dictionary = [str(u) for u in uniques]
            out.append((label, "texts", codes.tobytes(), dictionary))
    return out


def make_caller(
    model: Callable[[pd.DataFrame], Any],
    fields: Sequence[tuple[str, str, Optional[list[str]]]],
    original: pd.DataFrame,
    off: Mapping[str, Any],
) -> Callable[[list[bytes], int], bytes]:
    """The callable the extension asks: payloads of perturbed rows in, the model's outputs
    (float64 bytes, ``n`` or ``n × width`` values) out.

    The DataFrame handed to ``model`` has the data's field columns in their order, each with
    the original column's dtype where the values allow it; a switched-off or missing value is
    the column's ``off`` value (default: missing, NaN or None).
    """
    names = [f[0] for f in fields]
    unknown = sorted(set(off) - set(names))
    if unknown:
        raise GliderError(f"off= names columns that are not fields: {', '.join(unknown)}")
    lookups: dict[str, np.ndarray] = {}
    for name, kind, dictionary in fields:
        if kind != "categorical" or dictionary is None:
            continue
        column = original[name] if name in original.columns else None
        if column is not None and _is_number_column(column):
            table = np.array([np.nan] + [float(v) for v in dictionary[1:]], dtype=np.float64)
        else:
            table = np.array([None] + list(dictionary[1:]), dtype=object)
        if name in off:
            table = table.astype(object)
            table[0] = off[name]
        lookups[name] = table
    # NumPy dtypes only (a pandas extension dtype stays as the values come).
    dtypes: dict[str, np.dtype[Any]] = {}
    for name in names:
        if name in original.columns:
            dtype = original[name].dtype
            if isinstance(dtype, np.dtype):
                dtypes[name] = dtype

    def caller(parts: list[bytes], n: int) -> bytes:
        columns: dict[str, Any] = {}
        for (name, kind, _), part in zip(fields, parts):
            if kind == "dense":
                values = np.frombuffer(part, dtype="<f8")
                if name in off:
                    values = np.where(np.isnan(values), off[name], values)
            else:
                values = lookups[name][np.frombuffer(part, dtype="<u4")]
            dtype = dtypes.get(name)
            if dtype is not None and kind == "dense" and name not in off:
                # Integers with NaN stay float; others take their own dtype back.
                if not (np.issubdtype(dtype, np.integer) and np.isnan(values).any()):
                    try:
                        values = values.astype(dtype, copy=False)
                    except (TypeError, ValueError):
                        pass
            columns[name] = values
        frame = pd.DataFrame(columns, index=pd.RangeIndex(n), copy=False)
        answer = np.asarray(model(frame), dtype=np.float64)
        return np.ascontiguousarray(answer.reshape(-1), dtype="<f8").tobytes()

    return caller
