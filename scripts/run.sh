#!/usr/bin/env bash
# `make run`: the demo model, a baseline, the watcher on it and the dashboard, on the default storage.
set -euo pipefail
cd "$(dirname "$0")/.."
MLFI=.venv/bin/mlfi
PORT_MODEL=${MLFI_DEMO_PORT:-9000}
PORT_UI=${MLFI_UI_PORT:-8501}
URL="http://127.0.0.1:${PORT_MODEL}/predict"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

$MLFI serve-demo-model --port "$PORT_MODEL" & pids+=($!)
for _ in $(seq 1 60); do
  curl -fsS "http://127.0.0.1:${PORT_MODEL}/health" >/dev/null 2>&1 && break; sleep 0.5
done
echo "demo model on $URL"
# learn a baseline once (kept across runs in baselines/ and the database)
if ! .venv/bin/python -c "import sys; from app.config import Settings; from app.storage import Store; \
sys.exit(0 if Store.from_settings(Settings()).baseline_versions('$URL') else 1)" 2>/dev/null; then
  $MLFI baseline "$URL" --samples 150
fi
$MLFI watch "$URL" --interval 1 & pids+=($!)
echo "watcher started; dashboard on http://localhost:${PORT_UI}  (Ctrl-C stops all three)"
$MLFI dashboard --port "$PORT_UI" & pids+=($!)
wait -n "${pids[@]}"   # any of the three ending (or a signal) ends the run; the trap stops the others
