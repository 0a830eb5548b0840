#!/usr/bin/env bash
# Create the benchmark environment bench/.venv-nannyml holding NannyML (the CBPE peer) next to what
# app.detection needs (numpy, scipy, scikit-learn, pandas, pydantic), plus statsmodels, which nannyml imports
# without declaring it. Never a runtime dependency of mlfi.
# Idempotent: a stamp file records the requirement line that was installed.
set -euo pipefail
cd "$(dirname "$0")/../.."

PYTHON="${PYTHON:-python3}"
VENV="${MLFI_NANNYML_VENV:-bench/.venv-nannyml}"
REQS="nannyml==0.13.1 statsmodels pydantic>=2.6 pydantic-settings>=2.2 loguru>=0.7"
STAMP="$VENV/.installed"

if [ -x "$VENV/bin/python" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$REQS" ]; then
    echo "nannyml bench venv ready: $VENV"
    exit 0
fi
test -x "$VENV/bin/python" || "$PYTHON" -m venv "$VENV"
# shellcheck disable=SC2086
"$VENV/bin/python" -m pip install -q $REQS
"$VENV/bin/python" -c "import nannyml, numpy, sklearn, pandas; print('nannyml', nannyml.__version__, 'numpy', numpy.__version__, 'sklearn', sklearn.__version__)"
echo "$REQS" > "$STAMP"
