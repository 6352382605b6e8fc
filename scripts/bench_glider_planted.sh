#!/usr/bin/env bash
# Issue 5's ground-truth benchmark: GLIDER on generated CTR data with planted interactions.
#
#   scripts/bench_glider_planted.sh [OUT]        (default out/bench-glider-planted)
#
# Data (glider synth): 16 categorical fields with cardinalities from 5 to 1,000, Zipf values
# (exponent 1), main effects N(0, 0.3) per value, two planted pairs {0,1}, {2,3} and one
# planted triple {4,8,11} with effect tables N(0, scale) per value tuple, ROWS rows.
# For each effect scale (1.0, 0.5, 0.25): train DeepFM and AutoInt once (glider train), run
# glider detect with each local detector (nid, gradient-nid, archdetect) and K = 3, and score
# the top-3 global interactions against the planted sets (exact match, recall). At scale 1.0,
# glider run explains DeepFM and encodes its top 3 into a Wide&Deep target, 5 paired trials.
#
# Sizes (environment): ROWS (200000), INSTANCES (1000), PERTURBATIONS (6000), EPOCHS (10),
# SCALES ("1.0 0.5 0.25"), DETECTORS ("nid gradient-nid archdetect"), SOURCES
# ("deepfm autoint"). The full run takes hours on 2 cores; try ROWS=20000 INSTANCES=50
# PERTURBATIONS=1000 first. Prints a markdown table; every run's files stay under OUT.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-out/bench-glider-planted}"
glider="${GLIDER:-${CARGO_TARGET_DIR:-target}/release/glider}"
rows="${ROWS:-200000}"; instances="${INSTANCES:-1000}"; perturbations="${PERTURBATIONS:-6000}"
epochs="${EPOCHS:-10}"; scales="${SCALES:-1.0 0.5 0.25}"
detectors="${DETECTORS:-nid gradient-nid archdetect}"; sources="${SOURCES:-deepfm autoint}"
cards="5,8,12,20,30,50,80,120,200,300,500,700,1000,15,40,100"
planted="0,1;2,3;4,8,11"
fields=$(python3 -c "print(','.join(f'f{i}' for i in range(16)))")
mkdir -p "$out"
for scale in $scales; do
  d="$out/scale-$scale"
  "$glider" synth --rows "$rows" --cardinalities "$cards" --planted "$planted" --zipf 1 \
      --main-effect-std 0.3 --interaction-std "$scale" --out "$d/data" -q
  for source in $sources; do
    "$glider" train --data "$d/data/data.csv" --label click --categorical "$fields" \
        --model "$source" --epochs "$epochs" --out "$d/$source" -q
    for det in $detectors; do
      "$glider" detect --model-dir "$d/$source" --data "$d/data/data.csv" \
          --instances "$instances" --perturbations "$perturbations" --top-k 3 \
          --detector "$det" --out "$d/$source-$det" -q > /dev/null
    done
  done
done
first=$(echo "$scales" | awk '{print $1}')
"$glider" run --data "$out/scale-$first/data/data.csv" --label click --categorical "$fields" \
    --source-model deepfm --model wdl --top-k 3 --trials 5 --instances "$instances" \
    --perturbations "$perturbations" --epochs "$epochs" --out "$out/wdl-gain" -q > /dev/null
python3 - "$out" "$scales" "$sources" "$detectors" <<'PY'
import json, sys
out, scales, sources, detectors = sys.argv[1], *[a.split() for a in sys.argv[2:]]
planted = [{"f0", "f1"}, {"f2", "f3"}, {"f4", "f8", "f11"}]
print("| effect scale | source | detector | top-3 found | exact | recall |")
print("|---|---|---|---|---|---|")
for scale in scales:
    for source in sources:
        for det in detectors:
            g = json.load(open(f"{out}/scale-{scale}/{source}-{det}/global_interactions.json"))
            top = [set(i["fields"]) for i in g["interactions"][:3]]
            hits = sum(p in top for p in planted)
            exact = sorted(map(sorted, top)) == sorted(map(sorted, planted))
            shown = "; ".join("×".join(sorted(t, key=lambda f: int(f[1:]))) for t in top)
            print(f"| {scale} | {source} | {det} | {shown} | {'yes' if exact else 'no'} | {hits}/3 |")
r = json.load(open(f"{out}/wdl-gain/report.json"))
t = r["targets"][0]
g = t.get("auc_gain") or {}
print()
print(f"W&D target (source DeepFM, NID, K = 3, {r['trials']} paired trials): baseline AUC "
      f"{t['baseline']['auc_mean']:.4f}, +GLIDER {t['enhanced']['auc_mean']:.4f}, gain "
      f"{g.get('mean_diff', float('nan')):+.4f} ± {g.get('std_diff', float('nan')):.4f} "
      f"(p = {t.get('auc_gain_p_value')}); crosses: {[c[0] for c in r['crosses']]}")
PY
