"""What the Criteo benchmarks of the Python package share: the 10k sample, a DeepFM trained on
it by the glider binary, the sample as a DataFrame, and a timed `glider detect --model-dir`
(the one-process reference every ratio is taken against). Imported by
scripts/bench_python_detect.py and scripts/bench_ray_detect.py (run from the repository root).
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pandas as pd

#: The Criteo sample under ../shared/data (not redistributable: never committed).
DATA = Path("../shared/data/criteo_kaggle_sample/criteo_train_first10k.txt")


def train_deepfm(glider: str, data: Path, out: Path) -> Path:
    """`glider train --format criteo --model deepfm --seed 0` on ``data`` into ``out``."""
    subprocess.run(
        [glider, "train", "--format", "criteo", "--data", str(data)]
        + ["--model", "deepfm", "--seed", "0", "--quiet", "--out", str(out)],
        check=True,
    )
    return out


def criteo_frame(data: Path) -> pd.DataFrame:
    """The Criteo file as a DataFrame: ``label``, dense ``I1``–``I13``, categorical
    ``C1``–``C26`` as strings (the names `--format criteo` gives the fields)."""
    names = ["label"] + [f"I{i}" for i in range(1, 14)] + [f"C{i}" for i in range(1, 27)]
    categorical = {f"C{i}": str for i in range(1, 27)}
    return pd.read_csv(data, sep="\t", header=None, names=names, dtype=categorical)


def cli_detect(
    glider: str, model_dir: Path, data: Path, instances: int, perturbations: int, out: Path
) -> float:
    """Seconds of `glider detect --model-dir` (seed 0) on the first ``instances`` rows."""
    t0 = time.perf_counter()
    subprocess.run(
        [glider, "detect", "--model-dir", str(model_dir), "--data", str(data)]
        + ["--instances", str(instances), "--perturbations", str(perturbations)]
        + ["--seed", "0", "--quiet", "--out", str(out)],
        check=True,
    )
    return time.perf_counter() - t0
