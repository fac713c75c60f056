#!/usr/bin/env bash
# The benchmark of SPEC §9 in one command (issue 8; BENCHMARKS.md has the figures):
# builds kiothc and the bare-route baseline in release mode, then measures ping throughput and
# p50/p99 of `kiothc serve` beside a bare Hummingbird route in the same run (5 scenarios x
# fsync/write, wrk over loopback), config load time (10,000 / 100,000 checks), reload delay,
# startup with 10,000 checks and 1,000,000 stored pings, resident memory; prints a table and
# PASS/MISS per target.
#
#   scripts/bench/run.sh              # full: 10 s per run after a 2 s warm-up, ~12 min
#   scripts/bench/run.sh --quick      # 3 s per run, 100,000 stored pings: ~4 min, indicative only
#   scripts/bench/run.sh --rounds 3   # each ping row 3 times, the median ratio shown (noisy machines)
#   scripts/bench/run.sh --only postgres   # the PostgreSQL rows (issue 20): bare route, file store,
#                                          # 1 and 2 instances on a private cluster, pgbench; ~2 min
#   scripts/bench/run.sh --only fleet      # fleet scale (issue 25, scripts/bench/fleet.py): 1,000,000
#                                          # checks (check, serve ready fresh/restart, idle RSS), 100,000
#                                          # (status, one-file reload, /metrics, flip delay), each beside
#                                          # libyaml's bare parse of the same files; 15-30 min
#   scripts/bench/run.sh --only fleet --quick --fleet-only check,serve   # its 1,000,000-check rows on
#                                          # 100,000 checks, and only those parts; ~2 min
#   options: --no-build (use the binaries already in .build/release), --only pings|postgres|fleet,
#            --strict (exit 2 if a target is missed), --markdown FILE, --duration S, --warmup S,
#            --rounds N, --durability write|fsync (with --only pings); with --only fleet:
#            --fleet-only check|serve|status|reload|metrics|flips (comma-separated), --keep (its temp dir),
#            --kiothc PATH (that binary: no build)
# Exit: 0 when everything ran, 1 on any failure (non-2xx answer, server not starting, ...).
# Needs: swift, python3, wrk and hyperfine (Debian: apt-get install -y wrk hyperfine; installed
# when missing and run as root), GNU time; --only fleet needs python3, cc, pkg-config and libyaml-dev
# instead (no wrk, hyperfine, bare route). Data and configs go to a temp dir under $KIOTHC_BENCH_DIR
# (default $TMPDIR or /tmp); it must be a real disk for fsync mode to mean anything.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
build=1
fleet=0
fleet_opts=""
kiothc=""
fleet_pass=()
pass=()
while [ $# -gt 0 ]; do
    case "$1" in
        --no-build) build=0; shift ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
        --quick|--strict) pass+=("$1"); fleet_pass+=("$1"); shift ;;
        --only)
            [ $# -ge 2 ] || { echo "run.sh: --only needs a value (see --help)" >&2; exit 64; }
            if [ "$2" = fleet ]; then fleet=1; else pass+=("$1" "$2"); fi
            shift 2 ;;
        --markdown) pass+=("$1" "$2"); fleet_pass+=("$1" "$2"); shift 2 ;;
        --fleet-only) fleet_pass+=(--only "$2"); fleet_opts+=" $1"; shift 2 ;;
        --keep) fleet_pass+=("$1"); fleet_opts+=" $1"; shift ;;
        --kiothc) kiothc="$2"; fleet_opts+=" $1"; shift 2 ;;
        --duration|--warmup|--connections|--threads|--rounds|--durability) pass+=("$1" "$2"); shift 2 ;;
        *) echo "run.sh: unknown argument '$1' (see --help)" >&2; exit 64 ;;
    esac
done

if [ "$fleet" = 0 ] && [ -n "$fleet_opts" ]; then
    echo "run.sh:$fleet_opts: only with --only fleet (see --help)" >&2; exit 64
fi
if [ "$fleet" = 1 ]; then
    # The fleet benchmark: kiothc alone (fleet.py compiles its libyaml floor itself).
    command -v python3 >/dev/null || { echo "run.sh: python3 is needed" >&2; exit 1; }
    cd "$repo"
    if [ -n "$kiothc" ]; then
        [ -x "$kiothc" ] || { echo "run.sh: --kiothc $kiothc is not executable" >&2; exit 1; }
    else
        if [ "$build" = 1 ]; then
            echo "== swift build -c release --product kiothc" >&2
            timeout 3600 swift build -c release --product kiothc >&2
        fi
        kiothc="$(swift build -c release --show-bin-path)/kiothc"
        [ -x "$kiothc" ] || { echo "run.sh: $kiothc is missing; run without --no-build" >&2; exit 1; }
    fi
    echo "== $(date -u +%Y-%m-%dT%H:%MZ); $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'); load average $(cut -d' ' -f1-3 /proc/loadavg); commit $(git rev-parse --short HEAD 2>/dev/null || echo "?")"
    # fleet.py cleans up its servers and temp dir itself (also on SIGTERM/SIGINT).
    exec python3 "$here/fleet.py" --kiothc "$kiothc" ${fleet_pass[@]+"${fleet_pass[@]}"}
fi

# wrk for the ping rows; hyperfine for the config-load rows (bench.py reads its mean ± sd).
for tool in wrk hyperfine; do
    if ! command -v "$tool" >/dev/null; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
            echo "== $tool is missing: apt-get install -y $tool" >&2
            apt-get install -y "$tool" >/dev/null || { apt-get update >/dev/null && apt-get install -y "$tool" >/dev/null; }
        fi
        command -v "$tool" >/dev/null || { echo "run.sh: $tool is needed: apt-get install -y $tool (Debian/Ubuntu)" >&2; exit 1; }
    fi
done
command -v python3 >/dev/null || { echo "run.sh: python3 is needed" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "run.sh: GNU time is needed (apt-get install -y time)" >&2; exit 1; }

cd "$repo"
if [ "$build" = 1 ]; then
    echo "== swift build -c release --product kiothc, --product kiothc-bare-route" >&2
    timeout 3600 swift build -c release --product kiothc >&2
    timeout 3600 swift build -c release --product kiothc-bare-route >&2
fi
bin="$(swift build -c release --show-bin-path)"
for tool in kiothc kiothc-bare-route; do
    [ -x "$bin/$tool" ] || { echo "run.sh: $bin/$tool is missing; run without --no-build" >&2; exit 1; }
done

echo "== $(date -u +%Y-%m-%dT%H:%MZ); $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'); load average $(cut -d' ' -f1-3 /proc/loadavg); commit $(git rev-parse --short HEAD 2>/dev/null || echo "?")"
# bench.py and postgres.py clean up their servers and temp dir themselves (also on SIGTERM/SIGINT).
for ((i = 0; i < ${#pass[@]}; i++)); do
    if [ "${pass[$i]}" = --only ] && [ "${pass[$((i + 1))]:-}" = postgres ]; then
        rest=()
        for ((j = 0; j < ${#pass[@]}; j++)); do
            case "${pass[$j]}" in
                --only|--durability) j=$((j + 1)) ;;  # postgres.py: fsync only
                --quick|--strict) ;;
                *) rest+=("${pass[$j]}") ;;
            esac
        done
        exec python3 "$here/postgres.py" --kiothc "$bin/kiothc" --bare "$bin/kiothc-bare-route" ${rest[@]+"${rest[@]}"}
    fi
done
exec python3 "$here/bench.py" --kiothc "$bin/kiothc" --bare "$bin/kiothc-bare-route" ${pass[@]+"${pass[@]}"}
