#!/usr/bin/env python3
"""The anchors benchmark: glider's models beside the tools users already have.

On the same seeded splits of five datasets (Adult, Criteo 10k, Avazu 9k, Frappe,
MovieLens-100K), three splits each, this script runs

- LightGBM (categorical columns as pandas categories; early stopping on the validation
  split; num_leaves chosen from a small grid by validation logloss),
- EBM (interpret) without pairs and with its default pairs,
- scikit-learn LogisticRegression on one-hot categoricals + 100 quantile bins per numeric
  column (missing numeric values get a bin of their own), C chosen on validation,
- glider's model zoo at its default settings (`glider train --data train --validation valid
  --test test`; xDeepFM at CIN 100-100 to keep it affordable),

and appends one JSON line per (dataset, split, method, tag) to WORK/results.jsonl as each one
finishes. A rerun skips every line already there, so a stopped run resumes where it stopped.
`--table` prints the results as Markdown (mean ± sample std over the splits, and glider's best
epoch against its cap).

Splits (seeded, written once to WORK/data/DATASET/splitS/{train,valid,test}.csv):
- Adult, Criteo, Avazu, MovieLens: scikit-learn's train_test_split, stratified on the label,
  80/10/10 (random_state S for both cuts).
- Frappe: frappe.validation.libfm split 90/10 into train/valid (stratified, random_state S),
  frappe.test.libfm as test. The libFM tokens become categorical columns f1..f10.

Criteo's 13 counts are written raw (glider reads the CSV with `--dense I1..I13`; LightGBM and
EBM take them raw; the LR baseline bins them). Avazu drops `id` and reads `hour` as a category.

The datasets are read from ../shared/data (or --data-dir); they may not be redistributed, so
nothing this script writes belongs in the repository.

Usage:
    python3 -m venv .venv-anchors && .venv-anchors/bin/pip install -r scripts/anchors/requirements.txt
    .venv-anchors/bin/python scripts/anchors/anchors.py --glider target/release/glider \\
        --work out/anchors
    .venv-anchors/bin/python scripts/anchors/anchors.py --work out/anchors --table
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

DATASETS = ["adult", "criteo", "avazu", "frappe", "movielens"]
GLIDER_MODELS = ["lr", "fm", "wdl", "deepfm", "dcn", "xdeepfm", "autoint", "autoint+", "fibinet", "interhat"]
BASELINES = ["lightgbm", "ebm", "ebm_pairs", "sklearn_lr"]
# glider flags per model beyond its defaults (only what keeps the table affordable).
GLIDER_EXTRA = {"xdeepfm": ["--cin-layers", "100,100"]}


@dataclass
class Split:
    """One split of one dataset, as files and as frames."""

    dataset: str
    index: int
    folder: Path
    categorical: list[str]
    dense: list[str]
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)

    def frame(self, part: str) -> pd.DataFrame:
        if part not in self.frames:
            self.frames[part] = pd.read_csv(
                self.folder / f"{part}.csv",
                dtype={c: str for c in self.categorical},
                keep_default_na=False,
                na_values={c: [""] for c in self.dense},
            )
        return self.frames[part]


# ---- datasets ------------------------------------------------------------------------------


def stratified_three_way(df: pd.DataFrame, label: str, seed: int):
    from sklearn.model_selection import train_test_split

    train, rest = train_test_split(df, test_size=0.2, stratify=df[label], random_state=seed)
    valid, test = train_test_split(rest, test_size=0.5, stratify=rest[label], random_state=seed)
    return train, valid, test


def load_adult(data_dir: Path):
    df = pd.read_csv(data_dir / "adult_uci/adult.csv", dtype=str, keep_default_na=False)
    df["label"] = (df.pop("income").str.strip() == ">50K").astype(int)
    dense = ["age", "fnlwgt", "educational-num", "capital-gain", "capital-loss", "hours-per-week"]
    categorical = [c for c in df.columns if c not in dense and c != "label"]
    return df, categorical, dense


def load_criteo(data_dir: Path):
    names = ["label"] + [f"I{i}" for i in range(1, 14)] + [f"C{i}" for i in range(1, 27)]
    df = pd.read_csv(
        data_dir / "criteo_kaggle_sample/criteo_train_first10k.txt",
        sep="\t",
        header=None,
        names=names,
        dtype=str,
        keep_default_na=False,
    )
    df["label"] = df["label"].astype(int)
    return df, names[14:], names[1:14]


def load_avazu(data_dir: Path):
    df = pd.read_csv(data_dir / "avazu_kaggle_sample/avazu_train_first9k.csv", dtype=str, keep_default_na=False)
    df = df.drop(columns=["id"])
    df["label"] = df.pop("click").astype(int)
    categorical = [c for c in df.columns if c != "label"]
    return df, categorical, []


def read_libfm(path: Path) -> pd.DataFrame:
    rows = []
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        tokens = line.split()
        row = {"label": 1 if float(tokens[0]) > 0 else 0}
        for k, tok in enumerate(tokens[1:], start=1):
            row[f"f{k}"] = "i" + tok.split(":")[0]
        rows.append(row)
    return pd.DataFrame(rows)


def load_movielens(data_dir: Path):
    df = pd.read_csv(data_dir / "movielens_100k/ml100k_ctr.csv", dtype=str, keep_default_na=False)
    df = df.drop(columns=["rating", "timestamp"])
    df["label"] = df["label"].astype(int)
    categorical = [
        "user_id", "item_id", "age", "gender", "occupation", "zip_code",
        "release_year", "primary_genre", "hour_utc", "weekday_utc",
    ]
    dense = [c for c in df.columns if c.startswith("g_")]
    return df, categorical, dense


def prepare(dataset: str, index: int, data_dir: Path, work: Path) -> Split:
    folder = work / "data" / dataset / f"split{index}"
    meta_path = folder / "meta.json"
    if meta_path.exists():
        meta = json.loads(meta_path.read_text())
        return Split(dataset, index, folder, meta["categorical"], meta["dense"])
    folder.mkdir(parents=True, exist_ok=True)
    if dataset == "frappe":
        pool = read_libfm(data_dir / "frappe_nfm/frappe.validation.libfm")
        test = read_libfm(data_dir / "frappe_nfm/frappe.test.libfm")
        from sklearn.model_selection import train_test_split

        train, valid = train_test_split(pool, test_size=0.1, stratify=pool["label"], random_state=index)
        categorical, dense = [c for c in pool.columns if c != "label"], []
    else:
        loader = {
            "adult": load_adult,
            "criteo": load_criteo,
            "avazu": load_avazu,
            "movielens": load_movielens,
        }[dataset]
        df, categorical, dense = loader(data_dir)
        train, valid, test = stratified_three_way(df, "label", index)
    for part, frame in [("train", train), ("valid", valid), ("test", test)]:
        frame[["label"] + categorical + dense].to_csv(folder / f"{part}.csv.tmp", index=False)
        os.replace(folder / f"{part}.csv.tmp", folder / f"{part}.csv")
    meta_path.write_text(json.dumps({"categorical": categorical, "dense": dense}))
    return Split(dataset, index, folder, categorical, dense)


# ---- metrics -------------------------------------------------------------------------------


def metrics(y: np.ndarray, p: np.ndarray) -> dict:
    from sklearn.metrics import log_loss, roc_auc_score

    p = np.clip(p, 1e-7, 1 - 1e-7)
    return {"auc": float(roc_auc_score(y, p)), "logloss": float(log_loss(y, p))}


# ---- the baselines -------------------------------------------------------------------------


def numeric(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    return frame[columns].apply(pd.to_numeric, errors="coerce")


def run_lightgbm(s: Split) -> dict:
    import lightgbm as lgb

    parts = {}
    cats = {}
    for part in ["train", "valid", "test"]:
        f = s.frame(part)
        x = numeric(f, s.dense)
        for c in s.categorical:
            if part == "train":
                cats[c] = pd.CategoricalDtype(sorted(f[c].unique()))
            x[c] = f[c].astype(cats[c])
        parts[part] = (x, f["label"].to_numpy())
    best = None
    for leaves in [15, 31, 63]:
        model = lgb.LGBMClassifier(
            n_estimators=3000,
            learning_rate=0.05,
            num_leaves=leaves,
            random_state=s.index,
            n_jobs=2,
            verbose=-1,
        )
        model.fit(
            parts["train"][0],
            parts["train"][1],
            eval_X=parts["valid"][0],
            eval_y=parts["valid"][1],
            eval_metric="binary_logloss",
            callbacks=[lgb.early_stopping(50, verbose=False)],
        )
        v = metrics(parts["valid"][1], model.predict_proba(parts["valid"][0])[:, 1])
        if best is None or v["logloss"] < best[0]["logloss"]:
            best = (v, model, leaves)
    v, model, leaves = best
    t = metrics(parts["test"][1], model.predict_proba(parts["test"][0])[:, 1])
    return {"valid": v, "test": t, "setting": f"num_leaves={leaves}, trees={model.best_iteration_}"}


def run_ebm(s: Split, pairs: bool) -> dict:
    from interpret.glassbox import ExplainableBoostingClassifier

    def frame(part):
        f = s.frame(part)
        x = numeric(f, s.dense)
        for c in s.categorical:
            x[c] = f[c].astype(str)
        return x[s.categorical + s.dense], f["label"].to_numpy()

    (xt, yt), (xv, yv), (xs, ys) = frame("train"), frame("valid"), frame("test")
    feature_types = ["nominal"] * len(s.categorical) + ["continuous"] * len(s.dense)
    kwargs = {} if pairs else {"interactions": 0}
    model = ExplainableBoostingClassifier(feature_types=feature_types, random_state=s.index, n_jobs=2, **kwargs)
    model.fit(xt, yt)
    return {
        "valid": metrics(yv, model.predict_proba(xv)[:, 1]),
        "test": metrics(ys, model.predict_proba(xs)[:, 1]),
        "setting": "default pairs" if pairs else "interactions=0",
    }


def run_sklearn_lr(s: Split) -> dict:
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import KBinsDiscretizer, OneHotEncoder

    def frame(part):
        f = s.frame(part)
        x = numeric(f, s.dense)
        for c in s.categorical:
            x[c] = f[c].astype(str)
        return x, f["label"].to_numpy()

    (xt, yt), (xv, yv), (xs, ys) = frame("train"), frame("valid"), frame("test")
    # Missing numeric values get their own bin: below every value seen in training.
    fills = {c: (xt[c].min() - 1.0 if xt[c].notna().any() else 0.0) for c in s.dense}
    for x in (xt, xv, xs):
        for c in s.dense:
            x[c] = x[c].fillna(fills[c])
    transformers = [("cat", OneHotEncoder(handle_unknown="ignore"), s.categorical)]
    if s.dense:
        transformers.append(
            ("num", KBinsDiscretizer(n_bins=100, strategy="quantile", encode="onehot", quantile_method="averaged_inverted_cdf"), s.dense)
        )
    encoder = ColumnTransformer(transformers)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        at = encoder.fit_transform(xt)
        av, as_ = encoder.transform(xv), encoder.transform(xs)
        best = None
        for c in [0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0]:
            model = LogisticRegression(C=c, max_iter=3000)
            model.fit(at, yt)
            v = metrics(yv, model.predict_proba(av)[:, 1])
            if best is None or v["logloss"] < best[0]["logloss"]:
                best = (v, model, c)
    v, model, c = best
    return {"valid": v, "test": metrics(ys, model.predict_proba(as_)[:, 1]), "setting": f"C={c}"}


def run_glider(s: Split, model: str, glider: str, work: Path, extra: list[str], tag: str) -> dict:
    out = work / "runs" / s.dataset / f"split{s.index}" / tag / model.replace("+", "plus")
    args = [
        glider, "--quiet", "train",
        "--data", str(s.folder / "train.csv"),
        "--validation", str(s.folder / "valid.csv"),
        "--test", str(s.folder / "test.csv"),
        "--label", "label",
        "--model", model,
        "--seed", str(s.index),
        "--out", str(out),
    ]
    if s.categorical:
        args += ["--categorical", ",".join(s.categorical)]
    if s.dense:
        args += ["--dense", ",".join(s.dense)]
    args += GLIDER_EXTRA.get(model, []) + extra
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
    m = json.loads((out / "metrics.json").read_text())
    card = json.loads((out / "model.json").read_text())
    return {
        "valid": m["validation"],
        "test": m["test"],
        "best_epoch": m["best_epoch"],
        "epochs": m["epochs"],
        "epoch_cap": card["params"]["max_epochs"],
        "setting": " ".join(GLIDER_EXTRA.get(model, []) + extra),
    }


# ---- the loop and the table ----------------------------------------------------------------


def done_keys(results: Path) -> set:
    keys = set()
    if results.exists():
        for line in results.read_text().splitlines():
            try:
                r = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut by a stop: redone
            keys.add((r["dataset"], r["split"], r["method"], r["tag"]))
    return keys


def run(args) -> None:
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    results = work / "results.jsonl"
    done = done_keys(results)
    methods = args.methods.split(",")
    extra = args.glider_args.split() if args.glider_args else []
    for dataset in args.datasets.split(","):
        for index in [int(i) for i in args.splits.split(",")]:
            s = prepare(dataset, index, Path(args.data_dir), work)
            for method in methods:
                key = (dataset, index, method, args.tag)
                if key in done:
                    continue
                runner: Callable[[], dict]
                if method == "lightgbm":
                    runner = lambda: run_lightgbm(s)  # noqa: E731
                elif method == "ebm":
                    runner = lambda: run_ebm(s, pairs=False)  # noqa: E731
                elif method == "ebm_pairs":
                    runner = lambda: run_ebm(s, pairs=True)  # noqa: E731
                elif method == "sklearn_lr":
                    runner = lambda: run_sklearn_lr(s)  # noqa: E731
                elif method.startswith("glider:"):
                    name = method.split(":", 1)[1]
                    runner = lambda: run_glider(s, name, args.glider, work, extra, args.tag)  # noqa: E731
                else:
                    sys.exit(f"unknown method {method!r}")
                start = time.time()
                r = runner()
                r.update({"dataset": dataset, "split": index, "method": method, "tag": args.tag,
                          "seconds": round(time.time() - start, 1)})
                with results.open("a") as fh:
                    fh.write(json.dumps(r) + "\n")
                print(f"{dataset} split {index} {method} [{args.tag}]: test AUC {r['test']['auc']:.4f} "
                      f"logloss {r['test']['logloss']:.4f} ({r['seconds']} s)", flush=True)


def table(args) -> None:
    rows = [json.loads(l) for l in (Path(args.work) / "results.jsonl").read_text().splitlines() if l.strip()]
    datasets = [d for d in DATASETS if any(r["dataset"] == d for r in rows)]
    keys = []
    for r in rows:
        k = (r["method"], r["tag"])
        if k not in keys:
            keys.append(k)

    def cell(vals):
        if not vals:
            return ""
        m = sum(vals) / len(vals)
        sd = math.sqrt(sum((v - m) ** 2 for v in vals) / (len(vals) - 1)) if len(vals) > 1 else 0.0
        return f"{m:.4f} ± {sd:.4f} ({len(vals)})"

    print("| method | " + " | ".join(datasets) + " |")
    print("|---|" + "---|" * len(datasets))
    for method, tag in keys:
        cells = [cell([r["test"]["auc"] for r in rows if r["dataset"] == d and r["method"] == method and r["tag"] == tag])
                 for d in datasets]
        print(f"| {method} [{tag}] | " + " | ".join(cells) + " |")
    print()
    print("Best epoch / cap (glider), per split:")
    print("| method | " + " | ".join(datasets) + " |")
    print("|---|" + "---|" * len(datasets))
    for method, tag in keys:
        if not method.startswith("glider:"):
            continue
        cells = []
        for d in datasets:
            rs = sorted((r for r in rows if r["dataset"] == d and r["method"] == method and r["tag"] == tag),
                        key=lambda r: r["split"])
            cells.append(" ".join(f"{r['best_epoch']}/{r['epoch_cap']}" for r in rs))
        print(f"| {method} [{tag}] | " + " | ".join(cells) + " |")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--glider", default="target/release/glider", help="the glider binary")
    p.add_argument("--data-dir", default="../shared/data", help="folder holding the datasets")
    p.add_argument("--work", default="out/anchors", help="splits, model folders and results.jsonl")
    p.add_argument("--datasets", default=",".join(DATASETS))
    p.add_argument("--splits", default="0,1,2")
    p.add_argument("--methods", default=",".join(BASELINES + [f"glider:{m}" for m in GLIDER_MODELS]),
                   help="comma separated: lightgbm, ebm, ebm_pairs, sklearn_lr, glider:MODEL")
    p.add_argument("--glider-args", default="", help="extra flags for every glider train")
    p.add_argument("--tag", default="default", help="names this configuration in results.jsonl")
    p.add_argument("--table", action="store_true", help="print the results so far as Markdown")
    args = p.parse_args()
    if args.table:
        table(args)
    else:
        run(args)


if __name__ == "__main__":
    main()
