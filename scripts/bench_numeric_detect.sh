#!/usr/bin/env bash
# Detection cost of the numeric encodings: GLIDER on the same DeepFM trained with numeric
# fields binned (--numeric auto, the default) and scalar (--numeric scalar, the encoding
# before binning), on Adult (embedded) and Criteo 10k, in the same run. Each detect is run
# ROUNDS times, alternating, and the seconds per instance are reported with their ratio.
#
#   scripts/bench_numeric_detect.sh [GLIDER] [OUT]
#
# Needs ../shared/data/criteo_kaggle_sample (skipped with a message when absent).
set -euo pipefail
G=${1:-target/release/glider}
OUT=${2:-out/bench-numeric-detect}
INSTANCES=${INSTANCES:-40}
ROUNDS=${ROUNDS:-2}
CRITEO=../shared/data/criteo_kaggle_sample/criteo_train_first10k.txt
mkdir -p "$OUT"
datasets=("adult|embedded:adult|")
if [[ -f $CRITEO ]]; then
  datasets+=("criteo|$CRITEO|--format criteo")
else
  echo "skipping Criteo: $CRITEO is absent" >&2
fi
for entry in "${datasets[@]}"; do
  IFS='|' read -r name data flags <<<"$entry"
  for enc in auto scalar; do
    # shellcheck disable=SC2086
    "$G" --quiet train --data "$data" $flags --numeric "$enc" --seed 1 --out "$OUT/$name-$enc" >/dev/null
  done
  declare -A total=([auto]=0 [scalar]=0)
  for round in $(seq "$ROUNDS"); do
    for enc in auto scalar; do
      start=$(date +%s.%N)
      # shellcheck disable=SC2086
      "$G" --quiet detect --model-dir "$OUT/$name-$enc" --data "$data" --instances "$INSTANCES" \
        --seed 1 --out "$OUT/$name-$enc-detect-$round" >/dev/null
      end=$(date +%s.%N)
      total[$enc]=$(echo "${total[$enc]} + $end - $start" | bc -l)
    done
  done
  a=$(echo "${total[auto]} / ($ROUNDS * $INSTANCES)" | bc -l)
  s=$(echo "${total[scalar]} / ($ROUNDS * $INSTANCES)" | bc -l)
  printf '%s: %.3f s/instance binned, %.3f s/instance scalar, ratio %.3f (%d instances x %d rounds)\n' \
    "$name" "$a" "$s" "$(echo "$a / $s" | bc -l)" "$INSTANCES" "$ROUNDS"
done
