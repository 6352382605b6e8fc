"""glider on a Ray cluster: GLIDER's instances and the crossing of a large table spread over
Ray tasks, with results identical to one process.

GLIDER's cost grows with the instances explained (one surrogate fit each) and the crossing's
with the rows crossed. :func:`detect` splits the instances into shards, the contract
``glider detect --shard i/n`` and ``glider merge`` already keep (per-instance seeds derive from
the instance's index, so any split gives the same result); :func:`fit_crosses` and
:func:`apply_crosses` crossing a ``ray.data.Dataset`` partition by partition, with counts merged
exactly. Ray does the scheduling, the retries and the data movement; glider writes no scheduler.

Connect to a cluster first (``ray.init(address="auto")``, or ``RAY_ADDRESS``); without one, a
local Ray is started on this machine's cores. Ray is an optional dependency:
``pip install "./python[ray]"``.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Callable, Optional, Union

import pandas as pd

from . import Crosses, Detection, GliderError, _schema_json, _table
from . import detect as _detect_here
from ._glider import cross_edges as _cross_edges
from ._glider import cross_plan as _cross_plan
from ._glider import cross_spec as _cross_spec
from ._glider import cross_tuple_counts as _cross_tuple_counts
from ._glider import cross_value_counts as _cross_value_counts
from ._glider import merge as _merge

PathLike = Union[str, "os.PathLike[str]"]

_FILES = ("detect.json", "local.jsonl", "global_interactions.json", "mapping.json")


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ImportError(
            'glider.ray needs Ray: pip install "ray>=2.9" (or the extra: pip install '
            '"./python[ray]")'
        ) from None
    if not ray.is_initialized():
        ray.init(log_to_driver=True)
    return ray


def _pack_model(model: Any) -> tuple[str, Any]:
    """The model as a task argument: a callable as itself (Ray pickles it), a model
    directory or ONNX file as its files' bytes, so workers need no shared file system."""
    if isinstance(model, (str, os.PathLike)):
        path = Path(model)
        if path.is_dir():
            return "dir", {p.name: p.read_bytes() for p in path.iterdir() if p.is_file()}
        if path.is_file():
            return "file", (path.name, path.read_bytes())
        raise GliderError(f"{path}: no such model directory or ONNX file")
    if not callable(model):
        raise TypeError(
            "model must be a callable, a glider model directory or an ONNX file path, "
            f"not {type(model).__name__}"
        )
    return "callable", model


def _unpack_model(kind: str, payload: Any, workdir: Path) -> Any:
    if kind == "callable":
        return payload
    if kind == "dir":
        target = workdir / "model"
        target.mkdir()
        for name, data in payload.items():
            (target / name).write_bytes(data)
        return str(target)
    name, data = payload
    target = workdir / name
    target.write_bytes(data)
    return str(target)


class _Watched:
    """The user's callable, remembering the exceptions it raised (glider reports them as a
    GliderError; a task whose model raised is retried, one with bad input is not)."""

    def __init__(self, model: Callable[[pd.DataFrame], Any], raised: list[BaseException]):
        self.model = model
        self.raised = raised

    def __call__(self, df: pd.DataFrame) -> Any:
        try:
            return self.model(df)
        except Exception as e:
            self.raised.append(e)
            raise


def _run_shard(
    kind: str, payload: Any, data: Any, shard: tuple[int, int], kwargs: dict[str, Any]
) -> dict[str, Any]:
    """One shard on a worker: ``glider.detect(..., shard="i/n")`` into a scratch folder;
    returns its files and failures, or the GliderError (a bad input is not retried); when the
    model itself raised, the task raises its exception and Ray retries it."""
    with tempfile.TemporaryDirectory(prefix="glider-ray-") as scratch:
        work = Path(scratch)
        model = _unpack_model(kind, payload, work)
        raised: list[BaseException] = []
        if kind == "callable":
            model = _Watched(model, raised)
        out = work / "out"
        try:
            found = _detect_here(
                model, data, shard=f"{shard[0]}/{shard[1]}", out=out, quiet=True, **kwargs
            )
        except GliderError as e:
            if raised:
                # The model itself failed (a model store down, a GPU busy): raise its
                # exception so that Ray retries the task.
                raise raised[0] from e
            return {"error": str(e)}
        files = {n: (out / n).read_bytes() for n in _FILES if (out / n).exists()}
        return {"files": files, "failed": found.failed, "explained": len(found.local)}


def detect(
    model: Union[Callable[[pd.DataFrame], Any], PathLike],
    data: Any,
    *,
    instances: int = 1000,
    shards: Optional[int] = None,
    num_cpus: float = 1,
    max_retries: int = 3,
    out: Optional[PathLike] = None,
    quiet: bool = False,
    **settings: Any,
) -> Detection:
    """:func:`glider.detect` on a Ray cluster: the first ``instances`` rows are split into
    ``shards`` slices (``glider detect --shard i/n``), each explained by one Ray task with the
    model rebuilt on the worker, and the slices merged (spec 3.2) into the same
    :class:`~glider.Detection` one process gives for the same seed: same interactions, counts
    and order, whatever the number of shards or workers.

    Args:
        model: as :func:`glider.detect`: a callable (shipped to the workers by Ray's
            serialisation; it must be picklable with cloudpickle), or the path of a glider
            model directory or ONNX file (its bytes travel through Ray's object store, so the
            workers need no shared file system).
        data: DataFrame or pyarrow Table; put in the object store once.
        instances: instances to explain (the first rows of ``data``).
        shards: slices, one Ray task each [default: the cluster's CPUs divided by
            ``num_cpus``]. More shards than workers balance the load better.
        num_cpus: CPUs each task reserves; the task's glider uses that many threads
            (``RAYON_NUM_THREADS`` in the task's runtime environment).
        max_retries: attempts Ray makes again after a task's worker dies or a task raises
            anything but a :class:`~glider.GliderError` (bad input fails at once).
        out: folder for the merged files (global_interactions.json, local.jsonl) and each
            shard's folder under ``shards/`` (``glider merge out/shards/*`` reproduces the
            merge); a temporary folder by default.
        quiet: hide the progress line (finished instances across the cluster).
        settings: every other keyword of :func:`glider.detect` (schema, GLIDER's settings,
            ``seed``, ``output``, ``off``, ``mapping``).

    Raises:
        GliderError: as :func:`glider.detect`, raised by the first failing shard; an
            instance failing inside a task is listed in ``.failed`` as on one machine.
    """
    for key in ("shard", "resume", "out", "quiet"):
        if key in settings:
            raise GliderError(f"glider.ray.detect sets {key}= itself; leave it out")
    if instances < 1:
        raise GliderError("instances must be at least 1")
    ray = _ray()
    if shards is None:
        cpus = float(ray.cluster_resources().get("CPU", 1.0))
        shards = max(1, int(cpus // max(num_cpus, 1e-9)))
    if shards < 1:
        raise GliderError("shards must be at least 1")
    n = min(instances, len(data))
    shards = min(shards, max(n, 1))
    kind, payload = _pack_model(model)
    kwargs = dict(settings, instances=instances)
    # Each task's rayon pool gets the CPUs the task reserved, not every core of its node.
    threads = str(max(1, int(num_cpus)))
    task = ray.remote(_run_shard).options(
        num_cpus=num_cpus,
        max_retries=max_retries,
        retry_exceptions=True,
        runtime_env={"env_vars": {"RAYON_NUM_THREADS": threads}},
    )
    payload_ref = ray.put(payload)
    data_ref = ray.put(data)
    pending = {
        task.remote(kind, payload_ref, data_ref, (i, shards), kwargs): i
        for i in range(1, shards + 1)
    }
    folder = Path(tempfile.mkdtemp(prefix="glider-ray-detect-")) if out is None else Path(out)
    results: dict[int, dict[str, Any]] = {}
    done_instances = 0
    started = time.monotonic()
    while pending:
        ready, _ = ray.wait(list(pending), num_returns=1)
        for ref in ready:
            i = pending.pop(ref)
            result = ray.get(ref)
            if "error" in result:
                for other in pending:
                    ray.cancel(other)
                raise GliderError(f"shard {i}/{shards}: {result['error']}")
            results[i] = result
            done_instances += result["explained"] + len(result["failed"])
            if not quiet:
                print(
                    f"glider.ray.detect: {len(results)}/{shards} shards, {done_instances}/{n} "
                    f"instances ({time.monotonic() - started:.0f}s)",
                    flush=True,
                )
    dirs = []
    for i in range(1, shards + 1):
        shard_dir = folder / "shards" / f"{i}-of-{shards}"
        shard_dir.mkdir(parents=True, exist_ok=True)
        for name, blob in results[i]["files"].items():
            (shard_dir / name).write_bytes(blob)
        dirs.append(str(shard_dir))
    summary = _merge(dirs, str(folder))
    _merge_journals([Path(d) for d in dirs], folder / "local.jsonl")
    mapping = Path(dirs[0]) / "mapping.json"
    if mapping.exists():
        (folder / "mapping.json").write_bytes(mapping.read_bytes())
    failed = sorted((int(r), str(w)) for i in range(1, shards + 1) for r, w in results[i]["failed"])
    return Detection(folder, summary, failed)


def _merge_journals(dirs: Sequence[Path], target: Path) -> None:
    """local.jsonl of every shard as one, instances in order (the first shard's header)."""
    header: Optional[str] = None
    entries: list[tuple[int, str]] = []
    for d in dirs:
        with open(d / "local.jsonl", encoding="utf-8") as f:
            for line in f:
                if not line.strip():
                    continue
                entry = json.loads(line)
                if "instance" in entry:
                    entries.append((int(entry["instance"]), line.rstrip("\n")))
                elif header is None:
                    header = line.rstrip("\n")
    entries.sort(key=lambda e: e[0])
    lines = ([header] if header is not None else []) + [line for _, line in entries]
    tmp = target.with_suffix(".jsonl.tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.replace(tmp, target)


def _partition_value_counts(block: pd.DataFrame, schema_json: str, plan_json: str) -> str:
    table, _ = _table(block, schema_json, "partition")
    return _cross_value_counts(table, plan_json)


def _partition_tuple_counts(
    block: pd.DataFrame, schema_json: str, plan_json: str, edges_json: str
) -> str:
    table, _ = _table(block, schema_json, "partition")
    return _cross_tuple_counts(table, plan_json, edges_json)


def fit_crosses(
    dataset: Any,
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
) -> Crosses:
    """Fits cross features (spec 3.3) on a ``ray.data.Dataset`` too large for one machine:
    equal to :func:`glider.encode`'s crosses fitted on the whole table in one process.

    Pass 1 counts each dense member's distinct values per partition; the counts merged
    exactly give the bin edges (about equal row counts, a mass of one value in a bin of its
    own) the whole column gives. Pass 2 counts the members' value tuples per partition; the
    counts are merged in the dataset's partition order (so a tuple's id follows its first
    appearance in the whole table) and the min-count rule is applied to the merged counts:
    a tuple is kept when seen more than ``max(min_count, 1e-4 × rows)`` times (``None``:
    ``max(10, 1e-4 × rows, 1.5 × √rows)``). Each pass is
    one Ray task per partition; only counts travel.

    Args:
        dataset: a ``ray.data.Dataset`` (or a DataFrame, as one partition).
        interactions, top_k, bins, min_count: as :func:`glider.encode`.
        label, positive, categorical, dense, ignore, missing: the schema, as
            :func:`glider.encode` (every partition is read the same way).

    Returns:
        The fitted :class:`~glider.Crosses`; apply them with :func:`apply_crosses`.

    Raises:
        GliderError: an interaction names a field the data lacks, or a partition reads a
            field with another kind.
    """
    from . import _interaction_sets

    ray = _ray()
    sets = _interaction_sets(interactions, top_k)
    schema_json = _schema_json(label, positive, categorical, dense, ignore, missing, True)
    if isinstance(dataset, pd.DataFrame):
        blocks = [ray.put(dataset)]
    else:
        blocks = list(dataset.to_pandas_refs())
    if not blocks:
        raise GliderError("the dataset has no partitions")
    first = ray.get(blocks[0])
    table, _ = _table(first, schema_json, "partition 1")
    plan_json = _cross_plan(table, sets)
    counts_task = ray.remote(_partition_value_counts)
    value_parts = ray.get([counts_task.remote(b, schema_json, plan_json) for b in blocks])
    edges_json = _cross_edges(value_parts, bins)
    tuples_task = ray.remote(_partition_tuple_counts)
    tuple_parts = ray.get(
        [tuples_task.remote(b, schema_json, plan_json, edges_json) for b in blocks]
    )
    spec_json = _cross_spec(plan_json, edges_json, tuple_parts, bins, min_count)
    return Crosses(spec_json, schema_json)


def apply_crosses(dataset: Any, crosses: Crosses) -> Any:
    """Appends ``crosses``' columns to every row of a ``ray.data.Dataset``: a per-partition
    map (``map_batches``) with the fitted edges and tuples, so any number of rows can be
    encoded. Returns the new dataset (lazy, as Ray's transforms are)."""
    _ray()
    return dataset.map_batches(crosses.apply, batch_format="pandas", batch_size=None)
