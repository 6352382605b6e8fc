"""GLIDER on Ray against one process: a DeepFM trained by glider on the Criteo 10k sample,
the same instances and seed explained three ways in the same run:

1. `glider detect --model-dir DIR` (one process, rayon on every core: the reference);
2. `glider.ray.detect(DIR, df, shards=1)` on a local Ray with one worker (1 CPU, 1 thread);
3. `glider.ray.detect(DIR, df, shards=2)` on a local Ray with two workers (1 CPU each).

Prints instances/s of each, the ratio to the reference, the per-instance seconds of one
worker and, from it, the cost model's time for 10^6 instances on 100 workers. Checks that
the three give the same global interactions. Reads ../shared/data (not redistributable);
skips with a message when it is absent.

    .venv/bin/python scripts/bench_ray_detect.py --glider target/release/glider
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import glider.ray as gray
import ray
from criteo_bench import DATA, cli_detect, criteo_frame, train_deepfm


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--glider", default="target/release/glider")
    parser.add_argument("--instances", type=int, default=40)
    parser.add_argument("--perturbations", type=int, default=6000)
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args()
    if not args.data.exists():
        print(f"skipping: {args.data} is absent (the shared datasets are not redistributable)")
        return
    work = Path(tempfile.mkdtemp(prefix="glider-bench-ray-"))
    model_dir = train_deepfm(args.glider, args.data, work / "deepfm")
    df = criteo_frame(args.data)
    common = dict(instances=args.instances, perturbations=args.perturbations, seed=0)

    seconds = {
        "cli": cli_detect(
            args.glider, model_dir, args.data, args.instances, args.perturbations, work / "cli"
        )
    }
    reference = json.loads((work / "cli" / "global_interactions.json").read_text())

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    # Start the workers before timing (Ray's worker start-up is paid once per cluster).
    gray.detect(model_dir, df, shards=2, num_cpus=1, quiet=True, **dict(common, instances=2))
    for workers in (1, 2):
        t0 = time.perf_counter()
        found = gray.detect(
            model_dir,
            df,
            shards=workers,
            num_cpus=1,
            out=work / f"ray{workers}",
            quiet=True,
            **common,
        )
        seconds[f"ray_{workers}"] = time.perf_counter() - t0
        merged = json.loads((found.out / "global_interactions.json").read_text())
        assert merged["interactions"] == reference["interactions"], "results differ"
    ray.shutdown()

    rate = {k: args.instances / v for k, v in seconds.items()}
    per_instance = seconds["ray_1"] / args.instances
    summary = {
        "instances": args.instances,
        "perturbations": args.perturbations,
        "seconds": seconds,
        "instances_per_s": rate,
        "ratio_to_cli": {k: rate[k] / rate["cli"] for k in rate},
        "seconds_per_instance_one_worker": per_instance,
        "paper_hours_1e6_instances_100_workers": per_instance * 1e6 / 100 / 3600,
        "same_global_interactions": True,
    }
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
