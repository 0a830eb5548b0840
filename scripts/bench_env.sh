#!/usr/bin/env bash
# Create the SEPARATE benchmark environment bench/.venv-peers holding the peer drift libraries
# (Evidently, NannyML, Alibi Detect) next to mlfi itself (installed editable, without its pins).
# They are never runtime dependencies of mlfi. The pins below are what lets them install together
# (see bench/drift/README.md): alibi-detect wants numpy<2 and pandas<3, nannyml's gcsfs chain wants
# requests 2.32 with google-api-core<2.44, and scipy<1.15 keeps the stack consistent with numpy 1.26.
# Idempotent and fast when already present: a stamp file records the requirement line that was installed.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
VENV="${MLFI_BENCH_VENV:-bench/.venv-peers}"
PEERS="evidently==0.7.23 nannyml==0.13.1 alibi-detect==0.13.0"
PINS="numpy>=1.26,<2 scipy>=1.11,<1.15 pandas>=2.1,<3 requests>=2.32,<2.33 google-api-core<2.44"
# mlfi's runtime dependencies needed by app.detection (no UI stack: streamlit/plotly are not used here)
MLFI_DEPS="scikit-learn>=1.4 shap>=0.45 pydantic>=2.6 pydantic-settings>=2.2 loguru>=0.7 click>=8.1 SQLAlchemy>=2.0 psutil"
REQS="$PEERS $PINS $MLFI_DEPS"
STAMP="$VENV/.installed"

if [ -x "$VENV/bin/python" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$REQS" ]; then
    echo "bench venv ready: $VENV"
    exit 0
fi

start=$(date +%s)
test -x "$VENV/bin/python" || "$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
# shellcheck disable=SC2086
"$VENV/bin/python" -m pip install -q $PEERS $PINS $MLFI_DEPS
"$VENV/bin/python" -m pip install -q --no-deps -e .
"$VENV/bin/python" - <<'PY'
import importlib.metadata as md
for name in ("evidently", "nannyml", "alibi-detect", "numpy", "scipy", "pandas", "scikit-learn", "shap", "mlfi"):
    print(f"{name}=={md.version(name)}")
import evidently, nannyml, alibi_detect, app.detection  # noqa: F401  (fail loudly if an import breaks)
PY
echo "$REQS" > "$STAMP"
echo "bench venv installed in $(( $(date +%s) - start )) s: $VENV ($(du -sh "$VENV" | cut -f1))"
