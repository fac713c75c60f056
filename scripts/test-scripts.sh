#!/usr/bin/env bash
# The script tests CI runs after `swift build`: that a skipped group fails under CI=true, the slug
# comparison with Django, the schedule
# comparison with cronsim and oncalendar, the hostile YAML inputs, the examples under examples/,
# that docs/cli.md matches --help, hostile HTTP clients, the secret-leak grep and the full-disk
# test (not the benchmarks under scripts/bench, run by hand; docs/reliability.md).
#
#   scripts/test-scripts.sh [KIOTHC]    # default: $KIOTHC or .build/debug/kiothc
# Prints each sub-script's summary line; exits non-zero if any sub-script fails.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
kiothc="${1:-${KIOTHC:-$repo/.build/debug/kiothc}}"
case "$kiothc" in /*) ;; *) kiothc="$PWD/$kiothc" ;; esac
[ -x "$kiothc" ] || { echo "test-scripts: $kiothc is not executable; run swift build first or pass the path" >&2; exit 1; }

log="$(mktemp -d "${TMPDIR:-/tmp}/kiothc-test-scripts.XXXXXX")"
trap 'rm -rf "$log"' EXIT
failed=0
summaries=()
run() {
    local name="$1"; shift
    local status=0
    echo "== $name: $*"
    timeout 900 "$@" >"$log/$name.out" 2>&1 || status=$?
    if [ "$status" != 0 ]; then
        failed=1
        cat "$log/$name.out"           # the whole output: the mismatches or the failing rows
        echo "== $name: FAILED (exit $status)"
    else
        grep -v '^ci-skips: [0-9]\|^slugs: [0-9]\|^schedules: [0-9]\|^hostile: [0-9]\|^examples: [0-9]\|^cli-docs: [0-9]\|^hostile-clients: [0-9]\|^secrets: [0-9]\|^full-disk: [0-9]\|^ok ' "$log/$name.out" | tail -n 20 || true
    fi
    summaries+=("$(grep -E '^(ci-skips|slugs|schedules|hostile|examples|cli-docs|hostile-clients|secrets|full-disk): ([0-9]+ passed, [0-9]+ failed|skipped)' "$log/$name.out" | tail -n 1 || echo "$name: no summary line (exit $status)")")
}
run ci-skips "$here/ci/skips-fail-under-ci.sh"
run slugs "$here/differential/slugs.sh" "$kiothc"
run schedules "$here/differential/schedules.sh" "$kiothc"
run hostile "$here/hostile/hostile-inputs.sh" "$kiothc"
run examples "$here/examples/check-examples.sh" "$kiothc"
run cli-docs "$here/docs/cli-reference.sh" --check "$kiothc"
run hostile-clients python3 "$here/hostile/hostile-clients.py" "$kiothc"
run secrets python3 "$here/secrets/secret-leaks.py" "$kiothc"
run full-disk python3 "$here/faults/full-disk.py" "$kiothc"
echo "== summary"
printf '%s\n' "${summaries[@]}"
exit "$failed"
