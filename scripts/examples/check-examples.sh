#!/usr/bin/env bash
# Every example under examples/ (and checks.d/) is checked as a user would use it:
#   scripts/examples/check-examples.sh [KIOTHC]      # default: $KIOTHC or .build/debug/kiothc
# kiothc check on each configuration, the crontab's and the systemd timer's schedules against
# their checks, systemd-analyze verify and security on the units, the Kubernetes manifests
# against the API schema, the GitHub workflow against its schema (and its steps run locally),
# the Slack, Discord and ntfy channels end to end against a local receiver, and the load
# balancer example: nginx -t and haproxy -c (Debian's nginx and haproxy), its systemd template
# unit, and pings through each balancer to two real instances.
# Validators are pip-installed into .build-venv-examples/ (gitignored); each check whose tool is
# missing is skipped, saying why (under CI=true a skip is a failure). Prints 'examples: N passed,
# M failed, K skipped'.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
source "$repo/scripts/skips.sh"
kiothc="${1:-${KIOTHC:-$repo/.build/debug/kiothc}}"
case "$kiothc" in /*) ;; *) kiothc="$PWD/$kiothc" ;; esac
if ! command -v python3 >/dev/null; then skip_group examples "no python3"; fi
venv="$repo/.build-venv-examples"
python="$venv/bin/python"
if [ ! -x "$python" ] || ! "$python" -c 'import yaml, kubernetes_validate, check_jsonschema' 2>/dev/null; then
  if ! { python3 -m venv "$venv" && "$venv/bin/pip" install -q 'PyYAML>=6' 'kubernetes-validate>=1.30' 'check-jsonschema>=0.28'; } >/tmp/kiothc-examples-pip.log 2>&1; then
    echo "examples: validators not installed (pip failed, see /tmp/kiothc-examples-pip.log); schema checks are skipped"
    python="python3"
  fi
fi
PATH="$venv/bin:$PATH" exec "$python" "$here/check-examples.py" "$kiothc"
