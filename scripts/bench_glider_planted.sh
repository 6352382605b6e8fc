#!/usr/bin/env bash
# Issue 5's ground-truth benchmark: GLIDER on generated CTR data with planted interactions.
#
#   scripts/bench_glider_planted.sh [OUT]        (default out/bench-glider-planted)
#
# Data (glider synth): 16 categorical fields f0..f15 with cardinalities from 5 to 1,000
# (5, 8, 12, 15, 20, 30, 40, 50, 80, 100, 120, 200, 300, 500, 700, 1000), Zipf values
# (exponent 1), main effects N(0, 0.3) per value, planted pairs {f3, f4} (15 x 20 tuples) and
# {f5, f6} (30 x 40) and the planted triple {f0, f1, f2} (5 x 8 x 12) with effect tables
# N(0, scale) per value tuple, ROWS rows. The planted sets sit on fields whose tuples 200k
# rows cover: on {f4, f8, f11} of the first layout (30 x 200 x 700 = 4.2M tuples) DeepFM
# learns almost no three-way effect (mean |pure effect| 0.05 logits, below a spurious pair's
# 0.10), so no detector can find it. For each effect scale (1.0, 0.5, 0.25): train DeepFM,
# AutoInt+ (spec 3.4's reference AutoInt: attention + DNN 400-400) and the attention-only
# AutoInt once (glider train), run glider detect with each local detector (nid,
# gradient-nid, archdetect) with the local cut-off (--local-cutoff CUTOFF) and K = 3, NID also
# without it (the reference), and score the top-3 global interactions against the planted
# sets (exact match, recall). At scale 1.0, glider run explains DeepFM and encodes its top 3
# into a Wide&Deep target, 5 paired trials.
#
# Sizes (environment): ROWS (200000), INSTANCES (1000), PERTURBATIONS (6000), EPOCHS (10),
# SCALES ("1.0 0.5 0.25"), DETECTORS ("nid gradient-nid archdetect"), SOURCES
# ("deepfm autoint+ autoint"), CUTOFF (0.25), TRIALS (5). The full run takes hours on 2 cores; the
# BENCHMARKS.md figures use INSTANCES=200 PERTURBATIONS=2000. Prints a markdown table; every
# run's files stay under OUT, and a rerun resumes (finished models and detections are kept).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-out/bench-glider-planted}"
glider="${GLIDER:-${CARGO_TARGET_DIR:-target}/release/glider}"
rows="${ROWS:-200000}"; instances="${INSTANCES:-1000}"; perturbations="${PERTURBATIONS:-6000}"
epochs="${EPOCHS:-10}"; scales="${SCALES:-1.0 0.5 0.25}"
detectors="${DETECTORS:-nid gradient-nid archdetect}"; sources="${SOURCES:-deepfm autoint+ autoint}"
cutoff="${CUTOFF:-0.25}"; trials="${TRIALS:-5}"
cards="5,8,12,15,20,30,40,50,80,100,120,200,300,500,700,1000"
planted="3,4;5,6;0,1,2"
fields=$(python3 -c "print(','.join(f'f{i}' for i in range(16)))")
mkdir -p "$out"
sizes=(--instances "$instances" --perturbations "$perturbations" --top-k 3)
for scale in $scales; do
  d="$out/scale-$scale"
  [ -f "$d/data/planted.json" ] || "$glider" synth --rows "$rows" --cardinalities "$cards" \
      --planted "$planted" --zipf 1 --main-effect-std 0.3 --interaction-std "$scale" \
      --out "$d/data" -q
  for source in $sources; do
    [ -f "$d/$source/metrics.json" ] || "$glider" train --data "$d/data/data.csv" --label click \
        --categorical "$fields" --model "$source" --epochs "$epochs" --out "$d/$source" -q
    for det in $detectors reference; do
      if [ "$det" = reference ]; then
        flags=(--detector nid); case " $detectors " in *" nid "*) ;; *) continue ;; esac
      else
        flags=(--detector "$det" --local-cutoff "$cutoff")
      fi
      [ -f "$d/$source-$det/global_interactions.json" ] || "$glider" detect \
          --model-dir "$d/$source" --data "$d/data/data.csv" "${sizes[@]}" "${flags[@]}" \
          --out "$d/$source-$det" --resume -q > /dev/null
    done
  done
done
first=$(echo "$scales" | awk '{print $1}')
[ -f "$out/wdl-gain/report.json" ] || "$glider" run --data "$out/scale-$first/data/data.csv" \
    --label click --categorical "$fields" --source-model deepfm --model wdl --trials "$trials" \
    "${sizes[@]}" --local-cutoff "$cutoff" --epochs "$epochs" --out "$out/wdl-gain" --resume \
    -q > /dev/null
python3 - "$out" "$scales" "$sources" "$detectors reference" <<'PY'
import json, os, sys
out, scales, sources, detectors = sys.argv[1], *[a.split() for a in sys.argv[2:]]
planted = [{"f3", "f4"}, {"f5", "f6"}, {"f0", "f1", "f2"}]
recall = {}
print("| effect scale | source (test AUC) | detector | top-3 found | exact | recall |")
print("|---|---|---|---|---|---|")
for scale in scales:
    for source in sources:
        auc = json.load(open(f"{out}/scale-{scale}/{source}/metrics.json"))["test"]["auc"]
        for det in detectors:
            if not os.path.exists(f"{out}/scale-{scale}/{source}-{det}"):
                continue
            name = "nid, reference (no cut-off)" if det == "reference" else f"{det} + cut-off"
            recall.setdefault((source, name), {})
            g = json.load(open(f"{out}/scale-{scale}/{source}-{det}/global_interactions.json"))
            top = [set(i["fields"]) for i in g["interactions"][:3]]
            hits = sum(p in top for p in planted)
            exact = sorted(map(sorted, top)) == sorted(map(sorted, planted))
            shown = "; ".join("×".join(sorted(t, key=lambda f: int(f[1:]))) for t in top)
            print(f"| {scale} | {source} ({auc:.4f}) | {name} | {shown} | {'yes' if exact else 'no'} | {hits}/3 |")
            recall[(source, name)][scale] = hits / 3
print()
print("Recall of the planted sets in the top 3, by effect scale:")
print()
print("| source | detector | " + " | ".join(f"scale {s}" for s in scales) + " |")
print("|---|---|" + "---|" * len(scales))
for (source, name), by in recall.items():
    print(f"| {source} | {name} | " + " | ".join(
        f"{by[s]:.2f}" if s in by else "–" for s in scales) + " |")
if not os.path.exists(f"{out}/wdl-gain/report.json"):
    sys.exit(0)
r = json.load(open(f"{out}/wdl-gain/report.json"))
t = r["targets"][0]
g = t.get("auc_gain") or {}
print()
print(f"W&D target (source DeepFM, NID + cut-off, K = 3, {r['trials']} paired trials): baseline AUC "
      f"{t['baseline']['auc_mean']:.4f}, +GLIDER {t['enhanced']['auc_mean']:.4f}, gain "
      f"{g.get('mean_diff', float('nan')):+.4f} ± {g.get('std_diff', float('nan')):.4f} "
      f"(p = {t.get('auc_gain_p_value')}); global interactions: "
      f"{['×'.join(i['fields']) for i in r['global_interactions']]}")
diffs = [e["auc"] - b["auc"] for b, e in zip(t["baseline"]["trials"], t["enhanced"]["trials"])]
if diffs:
    print("paired AUC gains: " + ", ".join(f"{d:+.4f}" for d in diffs))
PY
