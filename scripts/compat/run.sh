#!/usr/bin/env bash
# Compatibility checks of the API, /metrics and the dashboard against real clients:
#   scripts/compat/run.sh [KIOTHC]      # default: $KIOTHC or .build/debug/kiothc
# pip-installs healthchecks-io, prometheus-client and websocket-client into .build-venv-api/
# (gitignored) and skips, saying why, when Python or PyPI is unavailable. The browser test runs
# when Debian's chromium is installed (apt-get install -y chromium) and skips otherwise. Under
# CI=true a skip is a failure (scripts/skips.sh).
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
source "$repo/scripts/skips.sh"
kiothc="${1:-${KIOTHC:-$repo/.build/debug/kiothc}}"
venv="$repo/.build-venv-api"
if ! command -v python3 >/dev/null; then skip_group api-clients "no python3"; fi
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import healthchecks_io, prometheus_client, websocket' 2>/dev/null; then
  if ! { python3 -m venv "$venv" && "$venv/bin/pip" install -q 'healthchecks-io==0.4.4' 'prometheus-client>=0.20' 'websocket-client>=1.6'; } >/tmp/kiothc-compat-pip.log 2>&1; then
    skip_group api-clients "pip could not install the clients; see /tmp/kiothc-compat-pip.log"
  fi
fi
status=0
"$venv/bin/python" "$here/api-clients.py" "$kiothc" || status=1
browser="$(command -v chromium || command -v chromium-browser || true)"
if [ -n "$browser" ]; then
  "$venv/bin/python" "$here/dashboard-browser.py" "$kiothc" "$browser" || status=1
else
  (skip_group dashboard-browser "no chromium; apt-get install -y chromium") || status=1
fi
exit "$status"
