#!/usr/bin/env bash
# One command for the sequential benchmark: make the river bench venv if needed, then run.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash bench/sequential/env.sh
PYTHONPATH="$PWD" exec bench/.venv-river/bin/python bench/sequential/bench_sequential.py "$@"
