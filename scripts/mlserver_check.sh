#!/usr/bin/env bash
# Checks glider's HTTP black box against a third-party server of the Open Inference Protocol:
# MLServer (PyPI) serving a scikit-learn model on loopback, read through its predict_proba
# output. Not part of CI; the result goes in BENCHMARKS.md.
#
#   scripts/mlserver_check.sh [WORKDIR]
#
# Needs: pip install mlserver mlserver-sklearn scikit-learn (and a built glider:
# cargo build --release). The data has one planted pair (x0 × x1); the script checks that
# glider's scores through MLServer equal scikit-learn's own predict_proba (as logits) and
# prints GLIDER's top interactions of the model.
set -euo pipefail
cd "$(dirname "$0")/.."
work="${1:-out/mlserver-check}"
glider="${GLIDER:-${CARGO_TARGET_DIR:-target}/release/glider}"
port="${PORT:-18080}"
mkdir -p "$work/model"
python3 - "$work" <<'PY'
import csv, json, math, random, sys
import joblib
from sklearn.ensemble import HistGradientBoostingClassifier

work = sys.argv[1]
rng = random.Random(0)
rows = []
for _ in range(6000):
    x = [rng.uniform(-1, 1) for _ in range(6)]
    z = 3.0 * x[0] * x[1] + 0.8 * x[2] - 0.5 * x[3]
    y = 1 if rng.random() < 1 / (1 + math.exp(-z)) else 0
    rows.append((y, x))
model = HistGradientBoostingClassifier(max_iter=200, random_state=0)
model.fit([x for _, x in rows], [y for y, _ in rows])
joblib.dump(model, f"{work}/model/model.joblib")
with open(f"{work}/model/model-settings.json", "w") as f:
    json.dump({"name": "clicks", "implementation": "mlserver_sklearn.SKLearnModel",
               "parameters": {"uri": "./model.joblib"}}, f)
with open(f"{work}/settings.json", "w") as f:
    json.dump({"http_port": int(__import__("os").environ.get("PORT", "18080")),
               "grpc_port": 0, "metrics_port": 0, "parallel_workers": 0}, f)
with open(f"{work}/data.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["y"] + [f"x{i}" for i in range(6)])
    for y, x in rows[:500]:
        w.writerow([y] + [f"{v:.6f}" for v in x])
# scikit-learn's own scores, as logits, for the comparison; on the values as glider reads
# them (dense fields are f32), so a tree split exactly between the two roundings cannot differ.
import numpy as np
test = [[float(np.float32(float(f"{v:.6f}"))) for v in x] for _, x in rows[:500]]
with open(f"{work}/sklearn_logits.json", "w") as f:
    json.dump([math.log(max(min(p[1], 1 - 1e-7), 1e-7) / (1 - max(min(p[1], 1 - 1e-7), 1e-7)))
               for p in model.predict_proba(test)], f)
mapping = {"layout": "single", "input": "input-0", "datatype": "FP64",
           "fields": [{"field": f"x{i}", "off": 0.0} for i in range(6)],
           "output": {"name": "predict_proba", "kind": "probability", "column": 1}}
json.dump(mapping, open(f"{work}/mapping.json", "w"), indent=1)
PY
(cd "$work" && PORT="$port" mlserver start . > mlserver.log 2>&1) &
server=$!
trap 'kill $server 2>/dev/null; pkill -f "mlserver start" 2>/dev/null || true' EXIT
url="http://127.0.0.1:$port/v2/models/clicks"
for _ in $(seq 60); do
    curl -sf "http://127.0.0.1:$port/v2/models/clicks/ready" >/dev/null && break
    sleep 1
done
"$glider" predict --black-box "$url" --mapping "$work/mapping.json" --data "$work/data.csv" \
    --label y --dense x0,x1,x2,x3,x4,x5 --out "$work/scores.csv" -q
python3 - "$work" <<'PY'
import csv, json, sys
work = sys.argv[1]
ours = [float(r["logit"]) for r in csv.DictReader(open(f"{work}/scores.csv"))]
ref = json.load(open(f"{work}/sklearn_logits.json"))
worst = max(abs(a - b) for a, b in zip(ours, ref))
print(f"scores through MLServer vs scikit-learn's predict_proba: {len(ours)} rows, "
      f"largest logit difference {worst:.2e}")
sys.exit(0 if len(ours) == len(ref) and worst < 1e-4 else 1)
PY
"$glider" detect --black-box "$url" --mapping "$work/mapping.json" --data "$work/data.csv" \
    --label y --dense x0,x1,x2,x3,x4,x5 --instances 40 --top-k 3 --out "$work/detect" -q
