#!/usr/bin/env bash
# The whole test suite, as README.md gives it: the Rust tests of the workspace, then the
# Python package built from python/ (PyO3 + maturin, sharing the workspace's target folder
# and release profile) into a virtual environment and its pytest suite.
# Usage: scripts/test.sh            (VENV=path picks the virtual environment; default .venv)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
# `glider/full`: ONNX and Parquet, off in the default build, are tested too.
cargo test --release --workspace --features glider/full
VENV=${VENV:-.venv}
PY=${PYTHON:-python3}
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
VENV=$(cd "$VENV" && pwd)
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet "./python[test]"
# Formatted, linted and typed (settings in python/pyproject.toml).
"$VENV/bin/ruff" format --check --config python/pyproject.toml python examples scripts/bench_python_detect.py scripts/bench_ray_detect.py scripts/criteo_bench.py scripts/bench_onnx_speed.py scripts/make_converter_fixtures.py
"$VENV/bin/ruff" check --config python/pyproject.toml python examples scripts/bench_python_detect.py scripts/bench_ray_detect.py scripts/criteo_bench.py scripts/bench_onnx_speed.py scripts/make_converter_fixtures.py
(cd python && "$VENV/bin/mypy" glider)
GLIDER_BIN="$CARGO_TARGET_DIR/release/glider" "$VENV/bin/python" -m pytest -q python/tests
