#!/usr/bin/env bash
# Deadline -> flip delay with 100,000 checks (issue 5, SPEC §6 "within 1 s of the deadline").
#
# Generates a config of N simple checks (timeout 2m, grace 1m, no channels) and a data
# directory in which every check was last pinged so that its down deadline falls in a window
# starting WINDOW_START seconds after the generation, spread evenly over WINDOW seconds. Then
# runs the real `kiothc serve` (no test-only time scaling) and reads its notices
#   "checks went down at their deadline count=… max_lag_ms=…"
# (one per scheduler round; lag = when the round's flips were stored minus their deadline).
# Prints how many checks flipped and the distribution of the per-round maximum lag.
#
# With --alerts every check notifies a webhook channel whose receiver the script starts
# (scripts/bench/webhook-sink.py on 127.0.0.1: answers 204, counts), so each down flip queues an
# alert in its own batch and the outbox delivers it, as in production; the script then waits
# (at most 300 s) for the deliveries and prints how many alerts were queued (the last line's n of
# alerts/queued.jsonl: they are numbered from 1) and delivered (requests the receiver answered).
#
#   scripts/bench/flip-delay.sh                  # builds release into .build-scripts-release
#   scripts/bench/flip-delay.sh --kiothc PATH    # uses an existing binary
#   options: --checks N (100000), --window S (30), --start S (45: must exceed startup time),
#            --no-flip-files (no check has a flips file yet: each down flip creates one),
#            --durability fsync|write (fsync), --alerts (a webhook channel on every check)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
kiothc=""
checks=100000
window=30
start=45
flip_files=1
durability=fsync
alerts=0
while [ $# -gt 0 ]; do
    case "$1" in
        --kiothc) kiothc="$2"; shift 2 ;;
        --checks) checks="$2"; shift 2 ;;
        --window) window="$2"; shift 2 ;;
        --start) start="$2"; shift 2 ;;
        --no-flip-files) flip_files=0; shift ;;
        --durability) durability="$2"; shift 2 ;;
        --alerts) alerts=1; shift ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
        *) echo "flip-delay: unknown argument '$1'" >&2; exit 64 ;;
    esac
done

if [ -z "$kiothc" ]; then
    echo "== swift build -c release --scratch-path .build-scripts-release --product kiothc"
    (cd "$repo" && timeout 3600 swift build -c release --scratch-path .build-scripts-release --product kiothc)
    kiothc="$repo/.build-scripts-release/release/kiothc"
fi
[ -x "$kiothc" ] || { echo "flip-delay: $kiothc is not executable" >&2; exit 1; }

work="$(mktemp -d "${TMPDIR:-/tmp}/kiothc-flip-delay.XXXXXX")"
server_pid=""
sink_pid=""
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
    if [ -n "$sink_pid" ]; then kill "$sink_pid" 2>/dev/null || true; wait "$sink_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

hook=""
if [ "$alerts" = 1 ]; then
    python3 "$here/webhook-sink.py" "$work/sink.port" "$work/sink.count" &
    sink_pid=$!
    for _ in $(seq 100); do [ -s "$work/sink.port" ] && break; sleep 0.1; done
    [ -s "$work/sink.port" ] || { echo "flip-delay: the webhook receiver did not start" >&2; exit 1; }
    hook="http://127.0.0.1:$(cat "$work/sink.port")/hook"
    echo "== webhook receiver at $hook"
fi

echo "== generating $checks checks and their last pings in $work"
python3 - "$work" "$checks" "$window" "$start" "$flip_files" "$hook" <<'PY'
import json, os, sys, time, uuid
work, n, window, start = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
flip_files = sys.argv[5] == "1"
hook = sys.argv[6]
channels = "[hook]" if hook else "[]"
os.makedirs(f"{work}/checks.d"); os.makedirs(f"{work}/data/pings"); os.makedirs(f"{work}/data/flips")
now = time.time()
for start_index in range(0, n, 1000):  # files stay far below the 4 MiB limit
    with open(f"{work}/checks.d/checks-{start_index // 1000:04d}.yaml", "w") as f:
        if hook and start_index == 0:
            # The default project's one channel: a webhook to the local receiver.
            f.write(f"projects:\n  default:\n    channels:\n      hook: {{kind: webhook, url: '{hook}', body: '$NAME is $STATUS'}}\n")
        f.write("checks:\n")
        for i in range(start_index, min(n, start_index + 1000)):
            f.write(f"  c{i:06d}: {{name: Check {i:06d}, timeout: 2m, grace: 1m, channels: {channels}}}\n")
registry = {"v": 1, "checks": [], "retired": []}
for i in range(n):
    u = str(uuid.uuid4())
    registry["checks"].append({"project": "default", "key": f"c{i:06d}", "uuid": u})
    # down deadline = last ping + 180 s, spread over [now + start, now + start + window)
    deadline = now + start + window * i / n
    ping_us = int((deadline - 180) * 1_000_000)
    with open(f"{work}/data/pings/{u}.jsonl", "w") as p:
        p.write(json.dumps({"v": 1, "n": 1, "time_us": ping_us, "kind": "success", "method": "GET",
                            "scheme": "http", "remote_addr": "127.0.0.1", "ua": "bench", "body_size": 0},
                           separators=(",", ":")) + "\n")
    # The new->up flip the server stored with that first ping: every check has its flips file,
    # as in a running installation (the down flips append to it instead of creating 100,000
    # files; --no-flip-files measures that worst case).
    if flip_files:
        with open(f"{work}/data/flips/{u}.jsonl", "w") as p:
            p.write(json.dumps({"v": 1, "n": 1, "time_us": ping_us, "old": "new", "new": "up", "reason": "ping"},
                               separators=(",", ":")) + "\n")
with open(f"{work}/data/registry.json", "w") as f:
    json.dump(registry, f)
with open(f"{work}/first-deadline", "w") as f:
    f.write(f"{now + start:.3f}\n")
print(f"generated in {time.time() - now:.1f} s; first deadline in {start - (time.time() - now):.1f} s")
PY
first_deadline=$(cat "$work/first-deadline")

log="$work/serve.log"
echo "== kiothc serve --durability $durability (log level notice)"
: > "$log"
started=$(date +%s.%N)
"$kiothc" serve --config "$work/checks.d" --data "$work/data" --listen 127.0.0.1:0 --durability "$durability" --log-level notice 2>"$log" &
server_pid=$!
listen_end=$(( $(date +%s) + 600 ))
until grep -q "serving pings at" "$log"; do
    kill -0 "$server_pid" 2>/dev/null || { cat "$log"; echo "flip-delay: the server exited" >&2; exit 1; }
    [ "$(date +%s)" -lt "$listen_end" ] || { tail -n 20 "$log"; echo "flip-delay: the server did not listen within 600 s" >&2; exit 1; }
    sleep 0.1
done
ready=$(date +%s.%N)
echo "   listening after $(python3 -c "print(f'{$ready - $started:.1f}')") s; rss $(ps -o rss= -p "$server_pid") KiB"
echo "   listening $(python3 -c "print(f'{$first_deadline - $ready:.1f}')") s before the first deadline (must be positive: else raise --start)"

echo "== waiting for the $checks deadlines (${window} s window)"
deadline_end=$(python3 -c "import time; print(time.time() + $start + $window + 20)")
while :; do
    flipped=$( { grep -o 'count=[0-9]*' "$log" || true; } | awk -F= '{s += $2} END {print s + 0}')
    [ "$flipped" -ge "$checks" ] && break
    if python3 -c "import sys, time; sys.exit(0 if time.time() > $deadline_end else 1)"; then break; fi
    sleep 1
done
echo "   rss after the flips $(ps -o rss= -p "$server_pid") KiB"
if [ "$alerts" = 1 ]; then
    # Queued: alerts/queued.jsonl numbers its lines from 1 and always keeps its last line.
    queued_alerts() {
        python3 - "$work/data/alerts/queued.jsonl" <<'PY'
import json, os, sys
try:
    with open(sys.argv[1], "rb") as f:
        f.seek(max(0, os.path.getsize(sys.argv[1]) - 65536))
        lines = [line for line in f.read().split(b"\n")[:-1] if line.strip()]  # complete lines only
    print(json.loads(lines[-1])["n"] if lines else 0)
except FileNotFoundError:
    print(0)
PY
    }
    delivered_alerts() { cat "$work/sink.count" 2>/dev/null || echo 0; }
    echo "== waiting (at most 300 s) for the alerts to be delivered"
    alerts_from=$(date +%s.%N)
    alerts_end=$(python3 -c "import time; print(time.time() + 300)")
    while :; do
        queued=$(queued_alerts); delivered=$(delivered_alerts)
        [ "$queued" -ge "$flipped" ] && [ "$delivered" -ge "$queued" ] && break
        if python3 -c "import sys, time; sys.exit(0 if time.time() > $alerts_end else 1)"; then break; fi
        sleep 0.5
    done
    queued=$(queued_alerts); delivered=$(delivered_alerts)
    alerts_waited=$(python3 -c "import time; print(f'{time.time() - $alerts_from:.1f}')")
fi
# Measured; SIGKILL: a clean stop would first checkpoint (fdatasync) every flips file written in
# the last second, minutes for 100,000 files on a busy disk, and the data is thrown away.
kill -KILL "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
if [ "$alerts" = 1 ]; then
    echo "alerts queued: $queued (the last n of alerts/queued.jsonl)"
    echo "alerts delivered: $delivered (answered 204 by the webhook receiver; waited $alerts_waited s after the flips)"
fi

python3 - "$log" "$checks" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
rounds = [(int(c), int(l)) for c, l in re.findall(r"count=(\d+).*?max_lag_ms=(\d+)", text)]
total = sum(c for c, _ in rounds)
lags = sorted(l for _, l in rounds)
weighted = sorted(l for c, l in rounds for _ in range(c))
def pct(values, p):
    return values[min(len(values) - 1, int(len(values) * p))] if values else float("nan")
print(f"checks flipped: {total} of {sys.argv[2]} in {len(rounds)} scheduler rounds")
print("per-round max lag (ms): p50 %s  p99 %s  max %s" % (pct(lags, .5), pct(lags, .99), lags[-1] if lags else "-"))
print("per-check upper bound (its round's max lag, ms): p50 %s  p99 %s  max %s" % (pct(weighted, .5), pct(weighted, .99), weighted[-1] if weighted else "-"))
print("flips later than 1 s (upper bound): %d" % sum(1 for l in weighted if l > 1000))
PY
