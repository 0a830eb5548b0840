#!/usr/bin/env bash
# The whole test suite, on a fresh machine: browser + third-party model servers are installed here.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python

# Debian chromium for the browser end-to-end test (root on this kind of machine)
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
      || echo "warning: could not install chromium; the browser test will fail"
  fi
fi

# PostgreSQL server binaries for tests/test_postgres.py (it starts its own throwaway cluster)
if ! ls /usr/lib/postgresql/*/bin/pg_ctl /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql \
      >/dev/null) || echo "warning: could not install postgresql; the PostgreSQL tests will fail (MLFI_SKIP_POSTGRES=1 skips them)"
  fi
fi

# Prometheus, promtool and Alertmanager for tests/test_prometheus_real.py (real scrape, rules, alerts)
if [ ! -x /usr/bin/prometheus ] || [ ! -x /usr/bin/promtool ] || [ ! -x /usr/bin/prometheus-alertmanager ]; then
  if [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus \
      prometheus-alertmanager >/dev/null) \
      || echo "warning: could not install prometheus / prometheus-alertmanager; the Prometheus and Alertmanager tests will fail"
  fi
fi

# real third-party model servers (MLServer / MLflow) in their own venv, for the integration tests
if [ -f scripts/servers_venv.sh ]; then
  bash scripts/servers_venv.sh || echo "warning: servers venv incomplete; integration tests will say why"
fi

export MLFI_LOG_LEVEL=${MLFI_LOG_LEVEL:-WARNING}
$PY -m pytest -q -p no:cacheprovider --timeout=600 --durations=20 "$@"
rc=$?
if [ $rc -eq 5 ]; then echo "no tests collected"; fi
exit $rc
