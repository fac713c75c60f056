#!/usr/bin/env bash
# kill -9 test of the ping store alone (no HTTP): a child process appends from 32 tasks to 50
# checks and prints each acknowledgement; the parent kills it with SIGKILL after 3,000, 6,000 and
# 9,000 acks, reopens the store and checks that every acknowledged ping is in its file and that
# every line parses. The end-to-end test against `kiothc serve` is scripts/crash/kill9.py.
#
#   scripts/crash/store-crash.sh [extra swift test args]
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"
KIOTHC_STORE_CRASH=1 swift test --scratch-path "${SCRATCH:-.build-store}" --filter 'PingStoreTests.CrashTests' "$@" 2>&1 \
    | grep -E 'kill -9 round|✘|recorded an issue|Test run with'
