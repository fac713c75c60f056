#!/usr/bin/env bash
# Differential slug test against Django: scripts/differential/slugs.sh [KIOTHC] [slugs.py options]
# KIOTHC defaults to $KIOTHC, else .build-scripts/debug/kiothc. See slugs.py for the details.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
kiothc="${1:-${KIOTHC:-$repo/.build-scripts/debug/kiothc}}"
shift || true
exec timeout 600 python3 "$here/slugs.py" --kiothc "$kiothc" "$@"
