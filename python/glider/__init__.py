"""glider: find the feature interactions a model has learned (NID + GLIDER), from Python.

Explain any model you can call on a pandas DataFrame (scikit-learn, PyTorch, TensorFlow,
XGBoost: wrap it in a function that returns click probabilities or logits), a model directory
written by ``glider train``, or an ONNX file::

    import glider
    result = glider.detect(lambda df: model.predict_proba(df)[:, 1], df, label="click")
    print(result.interactions.head(10))

The work runs in Rust (the same library the ``glider`` command line calls), in parallel and
with the GIL released; only the calls to your model hold it. Errors are :class:`GliderError`
(a ``ValueError``) with the command line's messages, naming the column, row or setting.

GLIDER is Tsang et al., "Feature Interaction Interpretability: A Case for Explaining
Ad-Recommendation Systems via Neural Interaction Detection", ICLR 2020 (spec 3).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Callable, Optional, Union

import numpy as np
import pandas as pd

from . import _frame, datasets
from ._glider import GliderError, __version__
from ._glider import Model as _Model
from ._glider import Table as _Table
from ._glider import default_nid_options as _default_nid_options
from ._glider import default_settings as _default_settings
from ._glider import detect as _detect
from ._glider import encode_apply as _encode_apply
from ._glider import encode_fit as _encode_fit
from ._glider import nid as _nid
from ._glider import run as _run
from ._glider import train as _train
from ._glider import write_report as _write_report

__all__ = [
    "Crosses",
    "encode",
    "Detection",
    "GliderError",
    "Model",
    "datasets",
    "__version__",
    "detect",
    "load",
    "nid",
    "NidResult",
    "report",
    "run",
    "train",
]

PathLike = Union[str, "os.PathLike[str]"]


def _schema_json(
    label: str,
    positive: Optional[str],
    categorical: Optional[Sequence[str]],
    dense: Optional[Sequence[str]],
    ignore: Optional[Sequence[str]],
    missing: Optional[Sequence[str]],
    label_optional: bool,
    target: Optional[str] = None,
) -> str:
    return json.dumps(
        {
            "target": target,
            "label": label,
            "positive": positive,
            "categorical": list(categorical or []),
            "dense": list(dense or []),
            "ignore": list(ignore or []),
            "missing": None if missing is None else list(missing),
            "label_optional": label_optional,
        }
    )


def _table(data: Any, schema_json: str, source: str = "DataFrame") -> tuple[_Table, pd.DataFrame]:
    frame = _frame.as_dataframe(data)
    return _Table(source, _frame.payloads(frame), schema_json), frame


def _model_params(params: dict[str, Any]) -> dict[str, Any]:
    """Model keywords by their model.json names (``lr`` → ``learning_rate``, ``epochs`` →
    ``max_epochs``), tuples as lists."""
    aliases = {"lr": "learning_rate", "epochs": "max_epochs"}
    return {aliases.get(k, k): (list(v) if isinstance(v, tuple) else v) for k, v in params.items()}


def _training_frame(
    data: Any, validation: Any, test: Any
) -> tuple[pd.DataFrame, Optional[tuple[int, int, int]]]:
    """``data`` alone (split 80/10/10 later, counts None), or ``data``, ``validation`` and
    ``test`` concatenated with their row counts (the split)."""
    frame = _frame.as_dataframe(data)
    if (validation is None) != (test is None):
        raise GliderError("give both validation= and test=, or neither (80/10/10 split)")
    if validation is None or test is None:
        return frame, None
    parts = [frame, _frame.as_dataframe(validation), _frame.as_dataframe(test)]
    counts = (len(parts[0]), len(parts[1]), len(parts[2]))
    return pd.concat(parts, ignore_index=True), counts


class Detection:
    """What :func:`detect` found: GLIDER's global interactions (spec 3.2) over the explained
    instances, read from the files it wrote (the same as ``glider detect``'s).

    Attributes:
        interactions: DataFrame with columns ``fields`` (tuple of field names), ``order``,
            ``count`` (instances whose local explanation holds the set) and ``share``
            (count / instances), strongest first: the selected global interactions.
        pair_strength: fields × fields DataFrame, symmetric: per pair, the mean over
            instances of the share of an instance's local interaction strength held by its
            interactions containing both fields (0 to 1); the diagonal is the share held by
            interactions containing the field.
        local: DataFrame, one row per explained instance: ``instance`` (row position in the
            data), ``interactions`` (list of (field-name tuple, strength)), ``epochs`` and
            ``surrogate_test_mse`` of its surrogate.
        failed: list of ``(row, reason)`` for instances whose explanation failed; the run went
            on without them.
        instances: number of instances asked about.
        out: the folder holding the files.
        summary: the text ``glider detect`` prints.
    """

    def __init__(self, out: Path, summary: str, failed: list[tuple[int, str]]):
        self.out = out
        self.summary = summary
        self.failed = failed
        with open(out / "global_interactions.json", encoding="utf-8") as f:
            self._global = json.load(f)
        fields: list[str] = self._global["fields"]
        self.fields = fields
        self.instances: int = self._global["instances"]
        rows = [
            {
                "fields": tuple(i["fields"]),
                "order": len(i["fields"]),
                "count": i["count"],
                "share": i["count"] / max(self.instances, 1),
            }
            for i in self._global["interactions"]
        ]
        self.interactions = pd.DataFrame(rows, columns=["fields", "order", "count", "share"])
        k = len(fields)
        strength = np.asarray(self._global.get("pair_strength", [0.0] * (k * k)), dtype=float)
        self.pair_strength = pd.DataFrame(strength.reshape(k, k), index=fields, columns=fields)
        local_rows = []
        with open(out / "local.jsonl", encoding="utf-8") as f:
            for line in f:
                entry = json.loads(line)
                if "instance" not in entry:
                    continue  # the journal's header line
                local_rows.append(
                    {
                        "instance": entry["instance"],
                        "interactions": [
                            (tuple(fields[j] for j in i["features"]), i["strength"])
                            for i in entry["interactions"]
                        ],
                        "epochs": entry.get("epochs"),
                        "surrogate_test_mse": entry.get("surrogate_test_mse"),
                    }
                )
        self.local = (
            pd.DataFrame(
                local_rows, columns=["instance", "interactions", "epochs", "surrogate_test_mse"]
            )
            .sort_values("instance")
            .reset_index(drop=True)
        )

    def top(self, k: int = 10) -> list[tuple[str, ...]]:
        """The ``k`` strongest global interactions, as tuples of field names."""
        return list(self.interactions["fields"].head(k))

    def to_json(self) -> str:
        """``global_interactions.json`` as text."""
        return json.dumps(self._global, indent=2)

    def save(self, directory: PathLike) -> Path:
        """Copies the run's files (``detect.json``, ``local.jsonl``,
        ``global_interactions.json``, ``mapping.json`` when written) into ``directory`` and
        writes its ``report.html``; returns the folder."""
        target = Path(directory)
        target.mkdir(parents=True, exist_ok=True)
        for name in ("detect.json", "local.jsonl", "global_interactions.json", "mapping.json"):
            src = self.out / name
            if src.exists():
                shutil.copyfile(src, target / name)
        _write_report("detect", str(target))
        return target

    def __repr__(self) -> str:
        top = ", ".join(" × ".join(f) for f in self.top(5))
        return (
            f"Detection({self.instances} instances, {len(self.failed)} failed, "
            f"top: {top or 'none'})"
        )


def detect(
    model: Union[Callable[[pd.DataFrame], Any], PathLike],
    data: Any,
    *,
    label: str = "label",
    positive: Optional[str] = None,
    categorical: Optional[Sequence[str]] = None,
    dense: Optional[Sequence[str]] = None,
    ignore: Optional[Sequence[str]] = None,
    missing: Optional[Sequence[str]] = None,
    output: str = "probability",
    off: Optional[Mapping[str, Any]] = None,
    mapping: Optional[PathLike] = None,
    instances: int = 1000,
    top_k: int = 20,
    superset_ratio: float = 0.5,
    detector: str = "nid",
    archdetect_top_k: int = 10,
    lime_width: Optional[float] = None,
    local_cutoff: Union[float, str, None] = 0.25,
    cutoff_max_order: int = 4,
    perturbations: Optional[int] = None,
    surrogate_hidden: Sequence[int] = (128, 64, 32),
    surrogate_l1: float = 1e-4,
    surrogate_epochs: int = 100,
    surrogate_batch: int = 50,
    surrogate_patience: int = 5,
    local_top: int = 100,
    local_superset_ratio: float = 0.5,
    seed: int = 0,
    shard: str = "1/1",
    resume: bool = False,
    out: Optional[PathLike] = None,
    quiet: bool = False,
) -> Detection:
    """Explains ``model`` on the first ``instances`` rows of ``data`` with GLIDER (spec 3.1:
    perturb fields around each instance, fit a local MLP surrogate on the model's logits, rank
    interactions with NID; spec 3.2: count which interactions recur) and returns a
    :class:`Detection`.

    Args:
        model: a Python callable taking a DataFrame of rows (the data's field columns, in
            order, with their dtypes; a switched-off field holds its ``off`` value, missing by
            default) and returning one click probability (``output="probability"``) or logit
            (``output="logit"``) per row, or an ``(n, 2)`` array such as ``predict_proba``'s
            (column 1 is read); or the path of a ``glider train`` model directory; or the
            path of an ``.onnx`` file (its inputs as ``glider detect --black-box onnx:``
            takes them; ``mapping`` is its mapping JSON).
        data: pandas DataFrame or pyarrow Table; numeric columns are dense fields and the
            rest categorical, unless named in ``categorical`` / ``dense``. The label column
            may be absent.
        label, positive, categorical, dense, ignore, missing: the schema, as the command
            line's ``--label`` etc. A model directory reads the data with its own schema
            unless given here.
        off: per column, the value a switched-off field takes in the DataFrame handed to a
            callable (default: missing, NaN or None).
        instances ... local_superset_ratio: GLIDER's settings, named and defaulted as the
            command line's flags (``--top-k`` is ``top_k``); see ``glider detect --help``.
            ``perturbations=None`` gives 150 per field, between 2000 and 6000.
            ``local_cutoff`` (0.25) keeps at each instance only the sets whose pure
            interaction effect on the model earns its place, so a real triple is reported as
            the triple and three real pairs as pairs; ``"off"`` (or None) is the paper's
            counting (BENCHMARKS.md, "GLIDER on random layouts"). The paper's local settings
            (spec 3.1) are ``perturbations=6000, surrogate_hidden=(256, 128, 64),
            surrogate_batch=100, local_cutoff="off"``, several times slower (BENCHMARKS.md,
            "Detection speed").
        seed: seed of the perturbations and surrogates; the same seed gives the same result
            with any thread count.
        shard: ``"i/n"``: explain only slice i of n of the instances.
        resume: continue a killed run in ``out``.
        out: folder for the files ``glider detect`` writes; a temporary folder by default.
        quiet: hide the progress bars.

    Raises:
        GliderError: bad data (naming the column and row), a bad setting (naming it), a model
            that cannot score the first instance, or every instance failing. An instance whose
            model call raises or returns a wrong length or NaN is listed in ``.failed``; the
            rest go on.
    """
    settings = {
        "instances": instances,
        "top_k": top_k,
        "superset_ratio": superset_ratio,
        "detector": detector,
        "archdetect_top_k": archdetect_top_k,
        "lime_width": lime_width,
        "local_cutoff": local_cutoff,
        "cutoff_max_order": cutoff_max_order,
        "perturbations": perturbations,
        "surrogate_hidden": list(surrogate_hidden),
        "surrogate_l1": surrogate_l1,
        "surrogate_epochs": surrogate_epochs,
        "surrogate_batch": surrogate_batch,
        "surrogate_patience": surrogate_patience,
        "local_top": local_top,
        "local_superset_ratio": local_superset_ratio,
    }
    try:
        i, n = (int(x) for x in shard.split("/"))
    except ValueError:
        raise GliderError(f'shard="{shard}": give "i/n", e.g. "2/4"') from None
    folder = Path(tempfile.mkdtemp(prefix="glider-detect-")) if out is None else Path(out)
    kwargs: dict[str, Any] = {}
    path = Path(model) if isinstance(model, (str, os.PathLike)) else None
    is_path = path is not None
    if path is not None and path.is_dir():
        model_dir = path
        schema = json.loads(_Model(str(model_dir)).schema_json())
        given = any(v is not None for v in (positive, categorical, dense, ignore, missing))
        if label == "label" and not given:
            label, positive = schema["label"], schema.get("positive")
            categorical, dense = schema["categorical"], schema["dense"]
            ignore, missing = schema["ignore"], schema["missing"]
        kwargs["model_dir"] = str(model_dir)
    elif path is not None:
        if not path.is_file():
            raise GliderError(f"{path}: no such model directory or ONNX file")
        kwargs["onnx"] = str(path)
        if mapping is not None:
            kwargs["mapping"] = str(mapping)
    elif not callable(model):
        raise TypeError(
            "model must be a callable, a glider model directory or an ONNX file path, "
            f"not {type(model).__name__}"
        )
    schema_json = _schema_json(label, positive, categorical, dense, ignore, missing, True)
    table, frame = _table(data, schema_json)
    if not is_path:
        kwargs["caller"] = _frame.make_caller(model, table.fields(), frame, off or {})  # type: ignore[arg-type]
        kwargs["output"] = output
    elif off:
        raise GliderError("off= applies to a Python callable; an ONNX file takes a mapping")
    summary, failed = _detect(
        table,
        str(folder),
        json.dumps(settings),
        seed,
        shard=(i, n),
        resume=resume,
        quiet=quiet,
        **kwargs,
    )
    return Detection(folder, summary, [(int(r), str(w)) for r, w in failed])


class Model:
    """A model directory written by ``glider train`` (model.json + model.safetensors)."""

    def __init__(self, directory: PathLike):
        self.directory = Path(directory)
        self._model = _Model(str(self.directory))
        self.card: dict[str, Any] = json.loads(self._model.card_json())
        self._schema: dict[str, Any] = json.loads(self._model.schema_json())
        metrics = self.directory / "metrics.json"
        #: metrics.json (validation and test AUC and logloss, epochs), when present.
        self.metrics: dict[str, Any] = (
            json.loads(metrics.read_text(encoding="utf-8")) if metrics.exists() else {}
        )
        #: The summary line of the training, for a model :func:`train` returned.
        self.summary: str = ""

    def save(self, directory: PathLike) -> Path:
        """Copies the model directory (model.json, model.safetensors, metrics.json) to
        ``directory`` and returns it."""
        target = Path(directory)
        target.mkdir(parents=True, exist_ok=True)
        for name in ("model.json", "model.safetensors", "metrics.json"):
            if (self.directory / name).exists():
                shutil.copyfile(self.directory / name, target / name)
        return target

    @property
    def kind(self) -> str:
        """The architecture (``lr``, ``fm``, ``deepfm``, ...)."""
        return str(self.card["model"])

    def predict_logit(self, data: Any) -> np.ndarray:
        """Logits ``ln(p / (1 − p))``, one per row of ``data`` (DataFrame or pyarrow Table
        with the model's field columns; other columns are ignored; the label may be absent).

        Raises:
            GliderError: a field the model needs is missing, or a value cannot be read.
        """
        s = self._schema
        frame = _frame.as_dataframe(data)
        if s["label"] in frame.columns:
            # Scoring needs no label: leave it out, whatever it holds.
            frame = frame.drop(columns=[s["label"]])
        schema_json = _schema_json(
            s["label"],
            s.get("positive"),
            s["categorical"],
            s["dense"],
            [c for c in s["ignore"] if c in frame.columns],
            s["missing"],
            True,
        )
        table, _ = _table(frame, schema_json)
        logits: np.ndarray = np.frombuffer(self._model.predict_logits(table), dtype="<f8").copy()
        return logits

    def predict(self, data: Any) -> np.ndarray:
        """Click probabilities, one per row of ``data`` (see :meth:`predict_logit`)."""
        probabilities: np.ndarray = 1.0 / (1.0 + np.exp(-self.predict_logit(data)))
        return probabilities

    def __repr__(self) -> str:
        return f"glider.Model({self.kind}, {str(self.directory)!r})"


def train(
    data: Any,
    model: str = "deepfm",
    *,
    label: str = "label",
    positive: Optional[str] = None,
    categorical: Optional[Sequence[str]] = None,
    dense: Optional[Sequence[str]] = None,
    ignore: Optional[Sequence[str]] = None,
    missing: Optional[Sequence[str]] = None,
    validation: Any = None,
    test: Any = None,
    min_count: int = 10,
    hash_buckets: int = 0,
    numeric: str = "auto",
    numeric_bins: int = 100,
    numeric_values: int = 300,
    seed: int = 0,
    out: Optional[PathLike] = None,
    quiet: bool = False,
    **params: Any,
) -> Model:
    """Trains a click-through-rate model on ``data`` as ``glider train`` does (spec 3.4) and
    returns it, written to ``out`` (a temporary folder by default).

    Args:
        data: pandas DataFrame or pyarrow Table with the label column. Without ``validation``
            and ``test`` it is split 80/10/10 with ``seed``; with both, it is the training part.
        model: ``lr``, ``fm``, ``wdl``, ``deepfm``, ``dcn``, ``xdeepfm``, ``autoint``,
            ``autoint+``, ``fibinet`` or ``interhat``.
        label, positive, categorical, dense, ignore, missing: the schema, as the command
            line's flags.
        min_count, hash_buckets, numeric, numeric_bins, numeric_values: the encoder, as
            ``--min-count`` etc. (``numeric="auto"`` bins numeric fields, ``"scalar"`` scales
            one embedding).
        **params: the architecture's settings as model.json's ``params`` names them
            (``learning_rate`` or ``lr``, ``max_epochs`` or ``epochs``, ``embedding_dim``,
            ``hidden``, ``batch_size``, ``patience``, ``embedding_l2``, ``cin_layers``, ...);
            unset ones take the architecture's defaults.

    Raises:
        GliderError: bad data or a bad setting, named.
    """
    params = _model_params(params)
    frame, counts = _training_frame(data, validation, test)
    schema_json = _schema_json(label, positive, categorical, dense, ignore, missing, False)
    table, _ = _table(frame, schema_json)
    encoder = {
        "min_count": min_count,
        "hash_buckets": hash_buckets,
        "numeric": {"mode": numeric, "max_values": numeric_values, "bins": numeric_bins},
    }
    folder = Path(tempfile.mkdtemp(prefix="glider-train-")) if out is None else Path(out)
    summary = _train(
        table,
        str(folder),
        model,
        schema_json,
        json.dumps(params),
        json.dumps(encoder),
        counts,
        seed,
        quiet,
    )
    trained = Model(folder)
    trained.summary = summary
    return trained


def load(directory: PathLike) -> Model:
    """Opens a model directory written by ``glider train``.

    Raises:
        GliderError: model.json is missing, malformed or newer than this glider reads; the
            weights are missing.
    """
    return Model(directory)


def report(directory: PathLike, command: Optional[str] = None) -> Path:
    """Writes ``report.html`` into ``directory`` from the result files there (of ``detect``,
    ``run``, ``nid`` or ``attention``; found from the files when ``command`` is None) and
    returns its path."""
    folder = Path(directory)
    if command is None:
        for name, cmd in (
            ("report.json", "run"),
            ("detect.json", "detect"),
            ("interactions.json", "nid"),
            ("attention.json", "attention"),
        ):
            if (folder / name).exists():
                command = cmd
                break
        else:
            raise GliderError(f"{folder}: no glider result files to report on")
    if not _write_report(command, str(folder)):
        raise GliderError(f"no report for {command}")
    return folder / "report.html"


class NidResult:
    """What :func:`nid` found (spec 1), read from ``interactions.json``.

    Attributes:
        pairwise: DataFrame ``fields`` (pair of field names), ``strength``: every pair,
            strongest first (spec 1.3).
        interactions: DataFrame ``fields``, ``order``, ``strength``, ``above_cutoff``: the
            any-order ranking (spec 1.4), with MLP-Cutoff's verdict when it ran.
        cutoff: how many ranked interactions MLP-Cutoff keeps (spec 1.5), or None.
        task: ``regression``, ``binary`` or ``multiclass``.
        summary: the text ``glider nid`` prints.
        out: the folder holding ``interactions.json``.
    """

    def __init__(self, out: Path, summary: str):
        self.out = out
        self.summary = summary
        with open(out / "interactions.json", encoding="utf-8") as f:
            self._file: dict[str, Any] = json.load(f)
        self.pairwise = pd.DataFrame(
            [(tuple(p["fields"]), p["strength"]) for p in self._file["pairwise"]],
            columns=["fields", "strength"],
        )
        self.interactions = pd.DataFrame(
            [
                (tuple(i["fields"]), len(i["fields"]), i["strength"], i.get("above_cutoff"))
                for i in self._file["interactions"]
            ],
            columns=["fields", "order", "strength", "above_cutoff"],
        )
        self.cutoff: Optional[int] = self._file.get("cutoff")
        self.task: str = self._file["data"]["task"]

    def to_json(self) -> str:
        """``interactions.json`` as text."""
        return json.dumps(self._file, indent=2)

    def __repr__(self) -> str:
        top = ", ".join(" × ".join(f) for f in self.pairwise["fields"].head(3))
        return f"NidResult({self.task}, top pairs: {top})"


def nid(
    data: Any,
    *,
    label: str = "label",
    task: Optional[str] = None,
    positive: Optional[str] = None,
    categorical: Optional[Sequence[str]] = None,
    dense: Optional[Sequence[str]] = None,
    ignore: Optional[Sequence[str]] = None,
    missing: Optional[Sequence[str]] = None,
    preset: str = "best",
    main_effects: Optional[str] = None,
    hidden: Sequence[int] = (140, 100, 60, 20),
    l1: Optional[float] = None,
    schedule: Optional[str] = None,
    epochs: Optional[int] = None,
    lr_decay: Optional[float] = None,
    averaging: str = "min",
    ensemble: Optional[int] = None,
    mix_plain: Optional[bool] = None,
    patience: Optional[int] = None,
    superset_ratio: Optional[float] = None,
    cutoff: bool = False,
    cutoff_tolerance: float = 0.01,
    cutoff_patience: int = 2,
    max_categories: int = 32,
    seed: int = 0,
    top: int = 20,
    out: Optional[PathLike] = None,
    quiet: bool = False,
) -> NidResult:
    """Neural Interaction Detection on a table (Tsang et al., ICLR 2018; spec 1), as
    ``glider nid`` runs it: an MLP with L1 sparsity (MLP-M: univariate main-effect nets
    beside it, by default) is trained on ``data`` split 80/10/10 with ``seed``, and
    interactions of any order are read from its weights, ranked; with ``cutoff=True``
    MLP-Cutoff says how many are real.

    Args:
        data: pandas DataFrame or pyarrow Table with the label column.
        task: ``"regression"``, ``"binary"``, ``"multiclass"``, or None: inferred from the
            label (0/1 → binary, numbers → regression, otherwise multiclass).
        label ... missing: the schema, as the command line's flags.
        preset: ``"best"`` (two networks, MLP-M and plain, trained on 400,000 samples:
            40 epochs of 10,000 rows, fewer on larger tables (at least 3), more on smaller
            ones (at most 1,000); our best measured accuracy for its time),
            ``"thorough"`` (three networks on the 2018 schedule; the most accurate, about
            7x slower) or
            ``"reference"`` (the authors' released code). BENCHMARKS.md "NID presets".
        main_effects ... cutoff_patience: NID's settings, named and defaulted as ``glider
            nid``'s flags (``--main-effects`` is ``main_effects``); None takes the preset's
            value.
        max_categories: most frequent values of a categorical field with their own one-hot
            column.
        top: interactions shown in the summary.
        out: folder for ``interactions.json``; a temporary folder by default.

    Raises:
        GliderError: bad data or a bad setting, named.
    """
    options = {
        "preset": preset,
        "main_effects": main_effects,
        "hidden": list(hidden),
        "l1": l1,
        "schedule": schedule,
        "epochs": epochs,
        "lr_decay": lr_decay,
        "averaging": averaging,
        "ensemble": ensemble,
        "mix_plain": mix_plain,
        "patience": patience,
        "superset_ratio": superset_ratio,
        "cutoff": cutoff,
        "cutoff_tolerance": cutoff_tolerance,
        "cutoff_patience": cutoff_patience,
    }
    target = {"regression": "number", "binary": "binary"}.get(task or "", "class")
    schema_json = _schema_json(label, positive, categorical, dense, ignore, missing, False, target)
    table, _ = _table(data, schema_json)
    folder = Path(tempfile.mkdtemp(prefix="glider-nid-")) if out is None else Path(out)
    summary = _nid(table, str(folder), json.dumps(options), task, max_categories, seed, top, quiet)
    return NidResult(folder, summary)


class Crosses:
    """Cross features fitted by :func:`encode` (spec 3.3): crosses.json, as ``glider encode``
    writes it. :meth:`apply` appends the same crosses to any DataFrame with the fields."""

    def __init__(self, spec_json: str, schema_json: str):
        self._spec_json = spec_json
        self._schema_json = schema_json
        self.spec: dict[str, Any] = json.loads(spec_json)

    @property
    def names(self) -> list[str]:
        """The cross columns' names, in the order they are appended."""
        return [str(c["name"]) for c in self.spec["crosses"]]

    def apply(self, data: Any) -> pd.DataFrame:
        """``data`` (DataFrame or pyarrow Table) with one column per cross appended: the kept
        value tuple as text, None where the tuple was too rare or a member is missing."""
        frame = _frame.as_dataframe(data)
        table, _ = _table(frame, self._schema_json)
        out = frame.copy()
        for name, codes, dictionary in _encode_apply(table, self._spec_json):
            lookup = np.array([None] + list(dictionary[1:]), dtype=object)
            out[name] = lookup[np.frombuffer(codes, dtype="<u4")]
        return out

    def save(self, path: PathLike) -> Path:
        """Writes crosses.json (``glider encode --apply`` and ``glider run`` read it)."""
        target = Path(path)
        target.write_text(self._spec_json, encoding="utf-8")
        return target


def _interaction_sets(interactions: Any, top_k: Optional[int]) -> list[list[str]]:
    """Interactions as lists of field names: from a :class:`Detection`, a
    global_interactions.json path, or a list of field-name tuples; the first ``top_k``."""
    if isinstance(interactions, Detection):
        sets = [list(f) for f in interactions.interactions["fields"]]
    elif isinstance(interactions, (str, os.PathLike)):
        with open(interactions, encoding="utf-8") as f:
            sets = [list(i["fields"]) for i in json.load(f)["interactions"]]
    else:
        sets = [list(f) for f in interactions]
    return sets if top_k is None else sets[:top_k]


def encode(
    data: Any,
    interactions: Any,
    *,
    label: str = "label",
    positive: Optional[str] = None,
    categorical: Optional[Sequence[str]] = None,
    dense: Optional[Sequence[str]] = None,
    ignore: Optional[Sequence[str]] = None,
    missing: Optional[Sequence[str]] = None,
    top_k: Optional[int] = None,
    bins: int = 8,
    min_count: Optional[int] = 10,
) -> tuple[pd.DataFrame, Crosses]:
    """Encodes interactions as cross features (spec 3.3), as ``glider encode --interactions``:
    one cross per interaction, fitted on every row of ``data``; returns ``data`` with the cross
    columns appended and the :class:`Crosses` to apply to other rows.

    Args:
        data: DataFrame or pyarrow Table (the label may be absent).
        interactions: a :class:`Detection`, a path to a global_interactions.json, or a list of
            field-name tuples; ``top_k`` keeps the first K.
        bins: bins of a numeric member (about equal row counts; a mass of one value gets a bin
            of its own); 100 is the GLIDER reference.
        min_count: a value tuple gets its own id when seen more than this many times (and
            more than 1e-4 of the rows); ``None`` (``--cross-min-count auto``) sizes it to
            the data: more than max(10, 1e-4 × rows, 1.5 × √rows) times.

    Raises:
        GliderError: an interaction names a field the data lacks, or has fewer than two.
    """
    sets = _interaction_sets(interactions, top_k)
    schema_json = _schema_json(label, positive, categorical, dense, ignore, missing, True)
    table, frame = _table(data, schema_json)
    crosses = Crosses(_encode_fit(table, sets, bins, min_count), schema_json)
    return crosses.apply(frame), crosses


def run(
    data: Any,
    model: str = "deepfm",
    *,
    targets: Optional[Sequence[str]] = None,
    label: str = "label",
    positive: Optional[str] = None,
    categorical: Optional[Sequence[str]] = None,
    dense: Optional[Sequence[str]] = None,
    ignore: Optional[Sequence[str]] = None,
    missing: Optional[Sequence[str]] = None,
    validation: Any = None,
    test: Any = None,
    trials: int = 5,
    bins: int = 8,
    cross_min_count: Optional[int] = 10,
    selection: str = "validation",
    cross_part: str = "auto",
    instances: int = 1000,
    top_k: int = 20,
    perturbations: Optional[int] = None,
    surrogate_hidden: Sequence[int] = (128, 64, 32),
    seed: int = 0,
    out: Optional[PathLike] = None,
    resume: bool = False,
    quiet: bool = False,
    **params: Any,
) -> dict[str, Any]:
    """The whole job of ``glider run`` (spec 3): train ``model`` on ``data``, explain it with
    GLIDER, encode the top interactions as cross features, and for each target model compare
    baseline and +GLIDER over ``trials`` paired trials (test AUC and logloss, p-values).
    Returns report.json as a dict; ``out`` (a temporary folder by default) holds it with
    global_interactions.json, crosses.json (every candidate), ``crosses.<target>.json`` (per
    target that kept crosses, the encoding its +GLIDER figures were measured with) and
    local.jsonl (``glider.report(out)`` draws it).

    Args:
        model: the source architecture GLIDER explains.
        targets: the models compared with and without the crosses (default: the source and
            LR).
        validation, test: DataFrames for the split (both or neither; default 80/10/10).
        trials, bins, cross_min_count, selection: as ``--trials``, ``--bins``,
            ``--cross-min-count`` (``None`` = ``auto``), ``--cross-selection``.
        cross_part: as ``--cross-part``: ``"auto"`` (FM's confirming retrains also try the
            crosses in its linear term only, and validation decides), ``"full"`` or
            ``"linear"``.
        instances, top_k, perturbations, surrogate_hidden: GLIDER's main settings (see
            :func:`detect`).
        **params: every model's settings by model.json name (``epochs``/``max_epochs``,
            ``lr``/``learning_rate``, ``hidden``, ``embedding_dim``, ...), as ``--epochs`` etc.

    Raises:
        GliderError: bad data or settings, named; a training failure.
    """
    params = _model_params(params)
    settings = dict(default_settings())
    settings.update(
        instances=instances,
        top_k=top_k,
        perturbations=perturbations,
        surrogate_hidden=list(surrogate_hidden),
    )
    frame, counts = _training_frame(data, validation, test)
    schema_json = _schema_json(label, positive, categorical, dense, ignore, missing, False)
    table, _ = _table(frame, schema_json)
    folder = Path(tempfile.mkdtemp(prefix="glider-run-")) if out is None else Path(out)
    summary = _run(
        table,
        str(folder),
        model,
        json.dumps(settings),
        None if targets is None else list(targets),
        json.dumps(params),
        trials,
        seed,
        bins,
        cross_min_count,
        selection,
        counts,
        resume,
        quiet,
        cross_part,
    )
    if not quiet:
        print(summary)
    with open(folder / "report.json", encoding="utf-8") as f:
        report: dict[str, Any] = json.load(f)
    return report


def default_nid_options() -> dict[str, Any]:
    """NID's default settings, as ``glider nid``'s flags have them."""
    return dict(json.loads(_default_nid_options()))


def default_settings() -> dict[str, Any]:
    """GLIDER's default settings, as the command line's flags have them."""
    return dict(json.loads(_default_settings()))
