#!/usr/bin/env bash
# Differential schedule test against cronsim and oncalendar (the libraries Healthchecks uses):
#   scripts/differential/schedules.sh [KIOTHC] [schedules.py options]
# KIOTHC defaults to $KIOTHC, else .build-scripts/debug/kiothc. See schedules.py for the details.
# Last line: "schedules: N passed, M failed"; exit 1 on any mismatch, 0 (with the reason) when
# Python or pip is unavailable.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
kiothc="${1:-${KIOTHC:-$repo/.build-scripts/debug/kiothc}}"
shift || true
if ! command -v python3 >/dev/null 2>&1; then
    echo "schedules: SKIPPED: python3 is not installed"
    echo "schedules: 0 passed, 0 failed (skipped: python3 unavailable)"
    exit 0
fi
exec timeout 600 python3 "$here/schedules.py" --kiothc "$kiothc" "$@"
