#!/usr/bin/env bash
# Builds a libFuzzer harness (Fuzz/) with -sanitize=fuzzer,address in .build-fuzz (or, --fast,
# -sanitize=fuzzer in .build-fuzz-fast) and runs it on its corpus (Fuzz/Corpus/<target>).
# See docs/reliability.md.
#
#   scripts/fuzz/run.sh [--runs N | --seconds S] [--jobs J] [--fast] [--minimize] yaml|route [-- LIBFUZZER_ARGS...]
#
#   --runs N      stop after N inputs (default 1000000)
#   --seconds S   stop after S seconds instead
#   --jobs J      J fuzzing processes in parallel (-fork=J); default 1
#   --fast        -sanitize=fuzzer without address, in .build-fuzz-fast: about 5x the inputs per
#                 second (Swift's own bounds and overflow traps still fire); for the long runs
#   --minimize    merge the corpus into a minimal one (-merge=1) and replace Fuzz/Corpus/<target>
#   --no-build    use the harness already built
# New inputs found while fuzzing go to <scratch>/corpus/<target> (not the repo's corpus; merge
# them with --minimize). A crash (or leak, timeout, oom) leaves its input in <scratch>/artifacts/
# and the script exits non-zero.
# The last line is `fuzz <target>: N inputs, E exec/s, cov C, ft F, corpus K, crashes X`.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

runs=1000000 seconds="" jobs=1 minimize=0 build=1 target="" sanitizers=fuzzer,address scratch="$repo/.build-fuzz"
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) runs="$2"; shift 2 ;;
        --seconds) seconds="$2"; shift 2 ;;
        --jobs) jobs="$2"; shift 2 ;;
        --minimize) minimize=1; shift ;;
        --fast) sanitizers=fuzzer; scratch="$repo/.build-fuzz-fast"; shift ;;
        --no-build) build=0; shift ;;
        yaml|route) target="$1"; shift ;;
        --) shift; break ;;
        *) echo "fuzz: unknown argument '$1'; usage: scripts/fuzz/run.sh [--runs N|--seconds S] [--jobs J] [--fast] [--minimize] yaml|route" >&2; exit 2 ;;
    esac
done
[ -n "$target" ] || { echo "fuzz: name a target: yaml or route" >&2; exit 2; }
# The ping path's work runs on NIO and task threads and keeps state (the store, the check
# states) from one input to the next, so most inputs end with more allocations than frees and
# libFuzzer's leak check after each of them (a stop-the-world heap scan under ASan) ran on most
# inputs: 15-40 inputs/s until libFuzzer gave up after 1,000 checks. The route target leaves it
# out; LeakSanitizer still checks the whole process when it exits.
leaks=()
case "$target" in
    yaml) product=FuzzYAML; max_len=2048 ;;
    route) product=FuzzRoute; max_len=12288; leaks=(-detect_leaks=0) ;;
esac

cd "$repo"
if [ "$build" = 1 ]; then
    # KIOTHC_FUZZ=1 declares the harness targets (Package.swift); -enable-testing lets them
    # @testable import the libraries in a release build.
    KIOTHC_FUZZ=1 swift build -c release --scratch-path "$scratch" --product "$product" \
        -Xswiftc -sanitize="$sanitizers" -Xswiftc -enable-testing
fi
binary="$scratch/release/$product"
[ -x "$binary" ] || { echo "fuzz: $binary is missing; run without --no-build" >&2; exit 1; }

seeds="$repo/Fuzz/Corpus/$target"
found="$scratch/corpus/$target"
artifacts="$scratch/artifacts/"
mkdir -p "$found" "$artifacts"
log="$scratch/$target.log"
common=(-max_len="$max_len" -timeout=10 -rss_limit_mb=3072 -artifact_prefix="$artifacts" -print_final_stats=1 "${leaks[@]}")
[ -f "$repo/Fuzz/$target.dict" ] && common+=(-dict="$repo/Fuzz/$target.dict")

if [ "$minimize" = 1 ]; then
    fresh="$(mktemp -d "${TMPDIR:-/tmp}/kiothc-fuzz-merge.XXXXXX")"
    "$binary" "${common[@]}" -merge=1 "$fresh" "$seeds" "$found" "$@" 2>&1 | tail -n 3
    rm -rf "$seeds" && mkdir -p "$seeds" && cp "$fresh"/* "$seeds"/ && rm -rf "$fresh"
    echo "fuzz $target: corpus minimized to $(ls "$seeds" | wc -l) inputs in Fuzz/Corpus/$target"
    exit 0
fi

limit=(-runs="$runs")
[ -n "$seconds" ] && limit=(-max_total_time="$seconds")
[ "$jobs" -gt 1 ] && limit+=(-fork="$jobs" -ignore_crashes=0)
before="$(ls "$artifacts" | wc -l)"
status=0
"$binary" "${common[@]}" "${limit[@]}" "$@" "$found" "$seeds" >"$log" 2>&1 || status=$?

# libFuzzer's own figures: the final stats (one process) or the last status line (-fork).
figure() { grep -oE "$1" "$log" | tail -n 1 | grep -oE '[0-9]+(/[0-9]+[a-zA-Z]*)?$' || true; }
inputs="$(figure '^stat::number_of_executed_units: *[0-9]+')"
[ -n "$inputs" ] || inputs="$(grep -oE '^#[0-9]+:' "$log" | tail -n 1 | tr -d '#:' || true)"
speed="$(figure '^stat::average_exec_per_sec: *[0-9]+')"
cov="$(figure 'cov: [0-9]+')"
ft="$(figure 'ft: [0-9]+')"
corpus="$(figure 'corp: [0-9]+(/[0-9]+[a-zA-Z]*)?')"
crashes=$(( $(ls "$artifacts" | wc -l) - before ))
if [ "$status" != 0 ]; then
    grep -E 'ERROR|Fatal error|SUMMARY|==[0-9]+==|artifact|Test unit written' "$log" | head -n 20 >&2 || true
    echo "fuzz $target: FAILED (exit $status); log: $log; artifacts: $artifacts" >&2
fi
echo "fuzz $target: ${inputs:-0} inputs, ${speed:-?} exec/s, cov ${cov:-?}, ft ${ft:-?}, corpus ${corpus:-?}, crashes $crashes"
exit "$status"
