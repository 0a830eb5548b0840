#!/usr/bin/env bash
# Create the benchmark environment bench/.venv-river holding river (the streaming drift-detector peers)
# next to what app.detection needs. Separate from bench/.venv-peers: river 0.26 needs numpy>=2.2.5, the
# drift peers there pin numpy<2 (alibi-detect). Never a runtime dependency of mlfi.
# Idempotent: a stamp file records the requirement line that was installed.
set -euo pipefail
cd "$(dirname "$0")/../.."

PYTHON="${PYTHON:-python3}"
VENV="${MLFI_RIVER_VENV:-bench/.venv-river}"
REQS="river==0.26.1 numpy>=2.2.5,<3 scipy>=1.14.1,<2 pandas>=2.2,<3 pydantic>=2.6 pydantic-settings>=2.2 loguru>=0.7"
STAMP="$VENV/.installed"

if [ -x "$VENV/bin/python" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$REQS" ]; then
    echo "river bench venv ready: $VENV"
    exit 0
fi
test -x "$VENV/bin/python" || "$PYTHON" -m venv "$VENV"
# shellcheck disable=SC2086
"$VENV/bin/python" -m pip install -q $REQS
"$VENV/bin/python" -c "import river, numpy, scipy, pydantic; print('river', river.__version__, 'numpy', numpy.__version__)"
echo "$REQS" > "$STAMP"
