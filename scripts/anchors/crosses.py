#!/usr/bin/env python3
"""Crosses that pay: GLIDER's crosses against FAST's pairs on the anchors splits (issue 15).

For each dataset and split of the anchors benchmark (anchors.py writes the split files), this
script runs

- ``glider run`` with DeepFM as the source (or ``--source``) and the targets of ``--targets``:
  GLIDER's detection once, then per target the baseline and +GLIDER arms over ``--trials``
  paired trials, with the crosses chosen on validation (glider's defaults);
- FAST (interpret's ``measure_interactions``, ranked on the training rows) for as many pairs
  as GLIDER's run produced candidates, written as a global_interactions.json;
- ``glider run --interactions fast.json`` with the same targets, trials and seed: the baseline
  arm is trained from the same seeds, so it is the same models (checked), and the +FAST arm
  goes through the same crossing, selection and trials.

One JSON line per (dataset, split, arm, source, tag) goes to WORK/crosses.jsonl as each run
finishes; a rerun skips what is there, and an interrupted ``glider run`` resumes its detection
(``--resume``). ``--table`` prints baseline vs +GLIDER vs +FAST per (dataset, target): mean
test AUC over the paired trials, the paired gain ± its standard deviation and p-value, the
crosses kept, and the wall time of each stage.

The datasets are read from ../shared/data and may not be redistributed: nothing this script
writes belongs in the repository.

Usage:
    .venv-anchors/bin/python scripts/anchors/crosses.py --glider target/release/glider \\
        --work out/anchors --datasets adult --splits 0 --targets lr,fm,wdl,deepfm
    .venv-anchors/bin/python scripts/anchors/crosses.py --work out/anchors --table
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import anchors  # noqa: E402

TARGETS = "lr,fm,wdl,deepfm,dcn,xdeepfm,autoint+"


def glider_run(
    s: anchors.Split, glider: str, out: Path, source: str, targets: str, trials: int, extra: list[str]
) -> dict:
    """Runs ``glider run`` on the split's files and returns its report.json."""
    args = [
        glider, "--quiet", "run",
        "--data", str(s.folder / "train.csv"),
        "--validation", str(s.folder / "valid.csv"),
        "--test", str(s.folder / "test.csv"),
        "--label", "label",
        "--source-model", source,
        "--model", targets,
        "--trials", str(trials),
        "--seed", str(s.index),
        "--out", str(out),
    ]
    if s.categorical:
        args += ["--categorical", ",".join(s.categorical)]
    if s.dense:
        args += ["--dense", ",".join(s.dense)]
    for model, flags in anchors.GLIDER_EXTRA.items():
        if model in targets.split(",") or model == source:
            args += flags
    args += extra
    if (out / "local.jsonl").exists():
        args.append("--resume")
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
    return json.loads((out / "report.json").read_text())


def fast_pairs(s: anchors.Split, k: int, out: Path) -> float:
    """FAST's top-k pairs on the training rows, written as a global_interactions.json.
    Returns the seconds FAST took."""
    from interpret.utils import measure_interactions

    train = s.frame("train")
    columns = s.categorical + s.dense
    x = train[columns].copy()
    for c in s.dense:
        x[c] = anchors.numeric(train, [c])[c]
    types = ["nominal"] * len(s.categorical) + ["continuous"] * len(s.dense)
    t0 = time.time()
    ranked = measure_interactions(x, train["label"].to_numpy(), feature_types=types)
    seconds = time.time() - t0
    pairs = [[columns[i], columns[j]] for (i, j), _ in list(ranked)[:k]]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "fields": columns,
                "instances": 0,
                "failed": [],
                "interactions": [{"fields": p, "count": 0} for p in pairs],
            },
            indent=1,
        )
    )
    return seconds


def summarise(report: dict) -> dict:
    """What the table needs from a report.json."""
    targets = {}
    for t in report["targets"]:
        gain = t.get("auc_gain") or {}
        targets[t["model"]] = {
            "baseline": [m["auc"] for m in t["baseline"]["trials"]],
            "enhanced": [m["auc"] for m in t["enhanced"]["trials"]],
            "gain_mean": gain.get("mean_diff"),
            "gain_std": gain.get("std_diff"),
            "p": t.get("auc_gain_p_value"),
            "kept": len(t.get("kept_crosses", [])),
            "candidates": t.get("candidate_crosses"),
            "verdict": t.get("verdict", ""),
            # None: not a distillation target; "n/a": the source is not better than it.
            "share": None if t.get("distillation") is None else (
                t["distillation"].get("share_mean") if t["distillation"].get("share_mean") is not None else "n/a"),
        }
    return {
        "source_auc": (report.get("source_test") or {}).get("auc"),
        "seconds": report["seconds"],
        "candidates": len(report["crosses"]),
        "targets": targets,
    }


def run(args) -> None:
    work = Path(args.work)
    results = work / "crosses.jsonl"
    done = set()
    if results.exists():
        for line in results.read_text().splitlines():
            r = json.loads(line)
            done.add((r["dataset"], r["split"], r["arm"], r["source"], r["tag"]))
    extra = args.glider_args.split() if args.glider_args else []
    for dataset in args.datasets.split(","):
        for index in [int(i) for i in args.splits.split(",")]:
            s = anchors.prepare(dataset, index, Path(args.data_dir), work)
            base = work / "crosses" / dataset / f"split{index}" / args.tag / args.source.replace("+", "plus")
            for arm in args.arms.split(","):
                key = (dataset, index, arm, args.source, args.tag)
                if key in done:
                    continue
                t0 = time.time()
                extra_arm = list(extra)
                fast_seconds = None
                if arm == "fast":
                    glider_report = json.loads((base / "glider" / "report.json").read_text())
                    # As many pairs as GLIDER's ranked interactions (its candidate crosses can
                    # be more: sets too sparse to cross become their pairs).
                    k = len(glider_report["global_interactions"]) or 1
                    fast_seconds = fast_pairs(s, k, base / "fast.json")
                    extra_arm += ["--interactions", str(base / "fast.json")]
                report = glider_run(s, args.glider, base / arm, args.source, args.targets, args.trials, extra_arm)
                row = summarise(report)
                row.update({
                    "dataset": dataset, "split": index, "arm": arm, "source": args.source, "tag": args.tag,
                    "fast_seconds": fast_seconds, "wall_seconds": round(time.time() - t0, 1),
                })
                with results.open("a") as f:
                    f.write(json.dumps(row) + "\n")
                print(f"{dataset} split {index} {arm}: " + ", ".join(
                    f"{m} {np.mean(t['baseline']):.4f}→{np.mean(t['enhanced']):.4f} (kept {t['kept']})"
                    for m, t in row["targets"].items()), flush=True)


def table(args) -> None:
    rows = [json.loads(line) for line in (Path(args.work) / "crosses.jsonl").read_text().splitlines()]
    print("| dataset (split) | source | target | baseline | +GLIDER (kept) | gain ± sd (p) | +FAST (kept) | gain ± sd (p) | share recovered GLIDER / FAST |")
    print("|---|---|---|---|---|---|---|---|---|")
    fmt = lambda v: "—" if v is None else f"{v:+.4f}"  # noqa: E731
    for r in rows:
        if r["arm"] != "glider":
            continue
        fast = next((f for f in rows if f["arm"] == "fast" and all(
            f[k] == r[k] for k in ("dataset", "split", "source", "tag"))), None)
        for model, g in r["targets"].items():
            f = fast["targets"].get(model) if fast else None
            if f and f["baseline"] != g["baseline"]:
                print(f"warning: {r['dataset']} {model}: the two runs' baselines differ", file=sys.stderr)
            cell = lambda t: "—" if t is None else (  # noqa: E731
                f"{fmt(t['gain_mean'])} ± {t['gain_std'] or 0:.4f} (p {t['p'] if t['p'] is not None else float('nan'):.3f})")
            share = lambda t: "—" if t is None or t["share"] is None else (  # noqa: E731
                t["share"] if isinstance(t["share"], str) else f"{100 * t['share']:.0f}%")
            print(
                f"| {r['dataset']} ({r['split']}) | {r['source']} | {model} | {np.mean(g['baseline']):.4f} | "
                f"{np.mean(g['enhanced']):.4f} ({g['kept']}/{g['candidates']}) | {cell(g)} | "
                + (f"{np.mean(f['enhanced']):.4f} ({f['kept']}/{f['candidates']}) | {cell(f)} | " if f else "— | — | ")
                + f"{share(g)} / {share(f)} |"
            )
    print()
    print("| dataset (split) | arm | train s | detect s | encode s | select s | retrain s | FAST s | wall s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        sec = r["seconds"]
        print(f"| {r['dataset']} ({r['split']}) | {r['arm']} | {sec['train']:.0f} | {sec['detect']:.0f} | "
              f"{sec['encode']:.1f} | {sec.get('select', 0):.1f} | {sec['retrain']:.0f} | {r['fast_seconds'] or 0:.1f} | {r['wall_seconds']:.0f} |")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--glider", default="target/release/glider")
    p.add_argument("--data-dir", default="../shared/data")
    p.add_argument("--work", default="out/anchors", help="the anchors folder (splits) and crosses.jsonl")
    p.add_argument("--datasets", default=",".join(anchors.DATASETS))
    p.add_argument("--splits", default="0")
    p.add_argument("--source", default="deepfm")
    p.add_argument("--targets", default=TARGETS)
    p.add_argument("--trials", type=int, default=5)
    p.add_argument("--glider-args", default="", help="extra flags for both glider runs")
    p.add_argument("--arms", default="glider,fast", help="glider, fast or both (fast needs glider's run)")
    p.add_argument("--tag", default="default", help="names this configuration in crosses.jsonl")
    p.add_argument("--table", action="store_true")
    args = p.parse_args()
    if args.table:
        table(args)
    else:
        run(args)


if __name__ == "__main__":
    main()
