#!/usr/bin/env bash
# Install the third-party model servers used by tests/test_integration_servers.py into a SEPARATE
# virtualenv (.venv-servers), so their pins never clash with mlfi's own .venv.
#   MLServer + its scikit-learn runtime (Open Inference Protocol V2, predict_proba outputs)
#   mlflow-skinny (the MLflow scoring server: `mlflow models serve --env-manager local`, /invocations)
# Idempotent and fast when already present: a stamp file records the requirement line that was installed.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
VENV="${MLFI_SERVERS_VENV:-.venv-servers}"
REQS="mlserver==1.7.1 mlserver-sklearn==1.7.1 mlflow-skinny==3.17.2"
STAMP="$VENV/.installed"

if [ -x "$VENV/bin/python" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$REQS" ]; then
    echo "servers venv ready: $VENV"
    exit 0
fi

start=$(date +%s)
test -x "$VENV/bin/python" || "$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
# shellcheck disable=SC2086
"$VENV/bin/python" -m pip install -q $REQS
"$VENV/bin/mlserver" --version >/dev/null
"$VENV/bin/mlflow" --version >/dev/null
echo "$REQS" > "$STAMP"
echo "servers venv installed in $(( $(date +%s) - start )) s: $VENV ($(du -sh "$VENV" | cut -f1))"
