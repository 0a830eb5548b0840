#!/usr/bin/env bash
# One command for the label-free accuracy benchmark: the NannyML bench venv, then the run (results in
# bench/results/cbpe.md). Extra arguments go to bench_cbpe.py (--reps, --per).
set -euo pipefail
cd "$(dirname "$0")/../.."
bash bench/cbpe/env.sh
export NML_DISABLE_USAGE_LOGGING=1   # NannyML sends usage analytics by default; the bench sends nothing
PYTHONPATH="$PWD" "${MLFI_NANNYML_VENV:-bench/.venv-nannyml}/bin/python" bench/cbpe/bench_cbpe.py "$@"
