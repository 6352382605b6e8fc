#!/usr/bin/env bash
# Fuzz every input reader (issue 6) for a bounded time each, one after another on one core,
# and fail when any target crashes (a panic, a broken dataset invariant, a timeout or an
# out-of-memory on some input).
#
#   scripts/fuzz_readers.sh                 # every target, 300 s each
#   scripts/fuzz_readers.sh 60              # every target, 60 s each
#   scripts/fuzz_readers.sh 600 csv parquet # some targets
#
# Needs nightly Rust and cargo-fuzz (`cargo install cargo-fuzz`). FUZZ_SECONDS sets the
# default duration; CARGO_TARGET_DIR, where the fuzz build goes (default fuzz/target). The
# corpus grows in fuzz/corpus/<target> (seeded from fuzz/seeds/<target>), logs go to
# fuzz/logs/<target>.log and a crashing input to fuzz/artifacts/<target>/; replay one with
# `cargo +nightly fuzz run <target> fuzz/artifacts/<target>/<file>`.
set -euo pipefail

seconds="${1:-${FUZZ_SECONDS:-300}}"
shift || true
all_targets=(csv criteo avazu libfm_positional libfm_featindex parquet)
if [[ $# -gt 0 ]]; then
    targets=("$@")
else
    targets=("${all_targets[@]}")
fi
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [[ "$seconds" -lt 1 ]]; then
    echo "usage: $0 [SECONDS] [TARGET...]   (targets: ${all_targets[*]})" >&2
    exit 2
fi

cd "$(dirname "$0")/../fuzz"
toolchain="${FUZZ_TOOLCHAIN:-+nightly}"

echo "building the fuzz targets (cargo $toolchain fuzz build)..."
cargo "$toolchain" fuzz build

mkdir -p logs
failed=()
summary=()
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t"
    echo "fuzzing $t for ${seconds}s..."
    status=0
    # -timeout: one input taking over 10 s is a hang, reported as a crash.
    # Seed folders are named by layout (the criteo target's are 40-column TSV lines, the
    # avazu target's 24-column CSV); their contents are made up, no dataset rows.
    case "$t" in
        criteo) seeds=seeds/tsv40 ;;
        avazu) seeds=seeds/csv24 ;;
        *) seeds="seeds/$t" ;;
    esac
    cargo "$toolchain" fuzz run "$t" "corpus/$t" "$seeds" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        >"logs/$t.log" 2>&1 || status=$?
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "logs/$t.log" | grep -o '[0-9]*$' | tail -1)
    corpus=$(find "corpus/$t" -type f | wc -l)
    if [[ $status -ne 0 ]]; then
        failed+=("$t")
        summary+=("$(printf '%-18s CRASH (exit %s) after %s runs; see fuzz/logs/%s.log and fuzz/artifacts/%s/' "$t" "$status" "${runs:-?}" "$t" "$t")")
    else
        summary+=("$(printf '%-18s ok: %s runs in %ss, corpus %s inputs' "$t" "${runs:-?}" "$seconds" "$corpus")")
    fi
done

echo
printf '%s\n' "${summary[@]}"
if [[ ${#failed[@]} -gt 0 ]]; then
    echo "crashed: ${failed[*]}" >&2
    exit 1
fi
