#!/usr/bin/env bash
# Differential schedule test against cronsim and oncalendar (the libraries Healthchecks uses):
#   scripts/differential/schedules.sh [KIOTHC] [schedules.py options]
# KIOTHC defaults to $KIOTHC, else .build-scripts/debug/kiothc. See schedules.py for the details.
# Last line: "schedules: N passed, M failed"; exit 1 on any mismatch, 0 (with the reason) when
# Python or pip is unavailable (1 under CI=true).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
kiothc="${1:-${KIOTHC:-$repo/.build-scripts/debug/kiothc}}"
shift || true
if ! command -v python3 >/dev/null 2>&1; then
    source "$repo/scripts/skips.sh"
    skip_group schedules "python3 is not installed"
fi
exec timeout 600 python3 "$here/schedules.py" --kiothc "$kiothc" "$@"
