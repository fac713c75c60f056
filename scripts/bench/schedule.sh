#!/usr/bin/env bash
# Schedule benchmark (issue 3): the time to compute 1,000 next times, through the CLI
# (`kiothc schedule EXPR --count 1000`, process start included) and in batch mode (the
# evaluator alone, amortised over many requests), for cron and OnCalendar, in UTC and in a
# DST zone, on the UTC timeline and on the wall clock.
#
#   scripts/bench/schedule.sh                 # builds release into .build-sched-release
#   scripts/bench/schedule.sh --kiothc PATH   # uses an existing (release) binary
#   options: --runs N (hyperfine runs, default 20)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
kiothc=""
runs=20
while [ $# -gt 0 ]; do
    case "$1" in
        --kiothc) kiothc="$2"; shift 2 ;;
        --runs) runs="$2"; shift 2 ;;
        -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
        *) echo "schedule-bench: unknown argument '$1'" >&2; exit 64 ;;
    esac
done

if [ -z "$kiothc" ]; then
    echo "== swift build -c release --scratch-path .build-sched-release --product kiothc"
    (cd "$repo" && timeout 1800 swift build -c release --scratch-path .build-sched-release --product kiothc)
    kiothc="$repo/.build-sched-release/release/kiothc"
fi
[ -x "$kiothc" ] || { echo "schedule-bench: $kiothc is not executable" >&2; exit 1; }

after=2026-01-01T00:00:00Z
cases=(
    "0 3 * * *|Europe/Riga"
    "*/5 * * * *|America/New_York"
    "0 0 * * 5L|Australia/Lord_Howe"
    "Mon..Fri *-*-* 09:00|Europe/London"
    "*:0/15|America/Santiago"
)

echo "== 1,000 next times through the CLI (process start included), $runs runs each"
if command -v hyperfine >/dev/null 2>&1; then
    commands=("$kiothc schedule '0 0 1 1 *' --count 1 --after $after")   # baseline: start-up + 1 time
    for entry in "${cases[@]}"; do
        commands+=("$kiothc schedule '${entry%%|*}' --tz ${entry##*|} --after $after --count 1000 --format json")
    done
    hyperfine --warmup 3 --runs "$runs" -N --style basic "${commands[@]}" 2>&1 | grep -E 'Benchmark|Time \(mean'
else
    for entry in "${cases[@]}"; do
        echo "-- ${entry%%|*} in ${entry##*|}"
        time (for _ in $(seq "$runs"); do "$kiothc" schedule "${entry%%|*}" --tz "${entry##*|}" --after $after --count 1000 >/dev/null; done)
    done
fi

echo "== evaluator alone: batch mode, 200 requests x 1,000 next times per case"
batch="$(mktemp "${TMPDIR:-/tmp}/kiothc-schedule-bench.XXXXXX")"
trap 'rm -f "$batch"' EXIT
for entry in "${cases[@]}"; do
    python3 - "${entry%%|*}" "${entry##*|}" >"$batch" <<'PY'
import json, sys
expr, tz = sys.argv[1], sys.argv[2]
for i in range(200):
    print(json.dumps({"expr": expr, "tz": tz, "after": 1767225600 + i * 86400, "count": 1000}))
PY
    start=$(date +%s.%N)
    "$kiothc" schedule --batch "$batch" >/dev/null
    end=$(date +%s.%N)
    python3 -c "import sys; t=float(sys.argv[1]); print(f'  {sys.argv[2]!r:28} in {sys.argv[3]:20} {t / 200 * 1000:7.2f} ms per 1,000 next times')" \
        "$(echo "$end - $start" | bc)" "${entry%%|*}" "${entry##*|}"
done
