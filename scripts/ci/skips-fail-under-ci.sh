#!/usr/bin/env bash
# A test group that cannot run for a missing tool is skipped outside CI and fails under
# CI=true (scripts/skips.sh, scripts/skips.py): checked here by running the test scripts with
# python3 (and debootstrap) taken off PATH, with and without CI=true, and the Python helper
# directly.
#   scripts/ci/skips-fail-under-ci.sh        Last line: 'ci-skips: N passed, M failed'.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
scratch="$(mktemp -d "${TMPDIR:-/tmp}/kiothc-ci-skips.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT
# A PATH with the few tools the scripts use before they look for python3, and no python3.
mkdir "$scratch/bin"
for tool in dirname mktemp rm timeout; do ln -s "$(command -v "$tool")" "$scratch/bin/$tool"; done
passed=0
failed=0
expect() {  # expect NAME WANTED_EXIT PATTERN -- COMMAND...
    local name="$1" wanted="$2" pattern="$3"; shift 4
    local output status=0
    output="$("$@" 2>&1)" || status=$?
    if [ "$status" = "$wanted" ] && grep -q -- "$pattern" <<<"$output"; then
        passed=$((passed + 1)); echo "ok   $name"
    else
        failed=$((failed + 1)); echo "FAIL $name: exit $status (wanted $wanted), output:"; sed 's/^/     /' <<<"$output"
    fi
}
kiothc=/nonexistent/kiothc  # never reached: each script stops at the missing python3
for script in differential/schedules.sh compat/run.sh examples/check-examples.sh; do
    expect "$script without python3 skips outside CI" 0 ": skipped (" -- env -u CI PATH="$scratch/bin" /bin/bash "$repo/scripts/$script" "$kiothc"
    expect "$script without python3 fails under CI=true" 1 ": FAILED: .*under CI=true a skipped test group fails" -- env CI=true PATH="$scratch/bin" /bin/bash "$repo/scripts/$script" "$kiothc"
done
# scripts/release-check without debootstrap (before it builds anything).
expect "release-check without debootstrap skips outside CI" 0 "release-check: skipped (debootstrap is not installed" -- env -u CI PATH="$scratch/bin" /bin/bash "$repo/scripts/release-check"
expect "release-check without debootstrap fails under CI=true" 1 "release-check: FAILED: debootstrap is not installed.*under CI=true a skipped test group fails" -- env CI=true PATH="$scratch/bin" /bin/bash "$repo/scripts/release-check"
for ci in "" true; do
    wanted=$([ "$ci" = true ] && echo 1 || echo 0)
    expect "skips.py with CI='$ci' exits $wanted" "$wanted" "probe: " -- env CI="$ci" python3 -c "import sys; sys.path.insert(0, '$repo/scripts'); from skips import skip_group; skip_group('probe', 'no tool')"
done
echo "ci-skips: $passed passed, $failed failed"
[ "$failed" = 0 ]
