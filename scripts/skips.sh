# What a test script does when a tool it needs is missing (sourced by the scripts under
# scripts/): outside CI it says so and passes; under CI (CI=true, as .ci/run runs) a skipped test
# group is a failure, so CI never passes on less than it says. .ci/run installs every tool.

# skip_group NAME REASON: prints why and exits 0, or under CI exits 1.
skip_group() {
    if [ "${CI:-}" = "true" ]; then
        echo "$1: FAILED: $2; under CI=true a skipped test group fails (.ci/run installs what it needs)"
        echo "$1: 0 passed, 1 failed"
        exit 1
    fi
    echo "$1: skipped ($2)"
    echo "$1: 0 passed, 0 failed (skipped: $2)"
    exit 0
}
