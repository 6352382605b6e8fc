#!/usr/bin/env bash
# The model-zoo table of BENCHMARKS.md: every recommender, 3 seeds, on the Criteo 10k sample,
# Frappe (validation file split 90/10 into train/validation, test file as test) and
# MovieLens-100K as CTR. Reads ../shared/data (not redistributable; never committed).
# xDeepFM runs with CIN 100-100 instead of the reference 200-200-200: at batch 1024 and 39
# fields the reference CIN costs about 25 GFLOP per layer and batch, minutes per epoch on two
# cores.
# Usage: scripts/bench_models.sh [glider binary] [output folder]
set -euo pipefail
G=${1:-target/release/glider}
OUT=${2:-out/bench-models}
D=${GLIDER_SHARED_DATA:-../shared/data}
for f in "$D/criteo_kaggle_sample/criteo_train_first10k.txt" "$D/frappe_nfm/frappe.validation.libfm" \
         "$D/movielens_100k/ml100k_ctr.csv"; do
  [ -f "$f" ] || { echo "skipping: $f is absent (the shared datasets are not redistributable)"; exit 0; }
done
MODELS=lr,fm,wdl,deepfm,dcn,autoint,autoint+,fibinet,interhat
COMMON=(--seeds 3)
criteo=(--format criteo --data "$D/criteo_kaggle_sample/criteo_train_first10k.txt")
frappe=(--format libfm --field-names user,item,daytime,weekday,isweekend,homework,cost,weather,country,city
        --data "$D/frappe_nfm/frappe.validation.libfm" --test "$D/frappe_nfm/frappe.test.libfm" --min-count 0)
ml=(--data "$D/movielens_100k/ml100k_ctr.csv" --label label --ignore rating,timestamp
    --categorical user_id,item_id,age,gender,occupation,zip_code,release_year,primary_genre,hour_utc,weekday_utc)
for name in criteo frappe ml; do
  declare -n args=$name
  "$G" bench models --model "$MODELS" "${COMMON[@]}" "${args[@]}" --out "$OUT/$name"
  "$G" bench models --model xdeepfm --cin-layers 100,100 "${COMMON[@]}" "${args[@]}" --out "$OUT/$name-xdeepfm"
done
