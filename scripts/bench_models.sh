#!/usr/bin/env bash
# The model-zoo table of BENCHMARKS.md: every recommender, 3 seeds, on the Criteo 10k sample,
# Frappe (validation file split 90/10 into train/validation, test file as test) and
# MovieLens-100K as CTR. Reads ../shared/data (not redistributable; never committed).
# Usage: scripts/bench_models.sh [glider binary] [output folder]
set -euo pipefail
G=${1:-target/release/glider}
OUT=${2:-out/bench-models}
D=${GLIDER_SHARED_DATA:-../shared/data}
for f in "$D/criteo_kaggle_sample/criteo_train_first10k.txt" "$D/frappe_nfm/frappe.validation.libfm" \
         "$D/movielens_100k/ml100k_ctr.csv"; do
  [ -f "$f" ] || { echo "skipping: $f is absent (the shared datasets are not redistributable)"; exit 0; }
done
"$G" bench models --model all --seeds 3 --format criteo \
  --data "$D/criteo_kaggle_sample/criteo_train_first10k.txt" --out "$OUT/criteo10k"
"$G" bench models --model all --seeds 3 --format libfm --field-names user,item,daytime,weekday,isweekend,homework,cost,weather,country,city \
  --data "$D/frappe_nfm/frappe.validation.libfm" --test "$D/frappe_nfm/frappe.test.libfm" \
  --min-count 0 --out "$OUT/frappe"
"$G" bench models --model all --seeds 3 --data "$D/movielens_100k/ml100k_ctr.csv" --label label \
  --ignore rating,timestamp \
  --categorical user_id,item_id,age,gender,occupation,zip_code,release_year,primary_genre,hour_utc,weekday_utc \
  --out "$OUT/ml100k"
