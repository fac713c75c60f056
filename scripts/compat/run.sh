#!/usr/bin/env bash
# Compatibility checks of the API, /metrics and the dashboard against real clients:
#   scripts/compat/run.sh [KIOTHC]      # default: $KIOTHC or .build/debug/kiothc
# pip-installs healthchecks-io, prometheus-client and websocket-client into .build-venv-api/
# (gitignored) and skips, saying why, when Python or PyPI is unavailable. The browser test runs
# when Debian's chromium is installed (apt-get install -y chromium) and skips otherwise.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
kiothc="${1:-${KIOTHC:-$repo/.build/debug/kiothc}}"
venv="$repo/.build-venv-api"
if ! command -v python3 >/dev/null; then echo "api-clients: skipped (no python3)"; exit 0; fi
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import healthchecks_io, prometheus_client, websocket' 2>/dev/null; then
  if ! { python3 -m venv "$venv" && "$venv/bin/pip" install -q 'healthchecks-io==0.4.4' 'prometheus-client>=0.20' 'websocket-client>=1.6'; } >/tmp/kiothc-compat-pip.log 2>&1; then
    echo "api-clients: skipped (pip could not install the clients; see /tmp/kiothc-compat-pip.log)"
    exit 0
  fi
fi
status=0
"$venv/bin/python" "$here/api-clients.py" "$kiothc" || status=1
browser="$(command -v chromium || command -v chromium-browser || true)"
if [ -n "$browser" ]; then
  "$venv/bin/python" "$here/dashboard-browser.py" "$kiothc" "$browser" || status=1
else
  echo "dashboard-browser: skipped (no chromium; apt-get install -y chromium)"
fi
exit "$status"
