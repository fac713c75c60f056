#!/usr/bin/env bash
# Config load benchmark (SPEC §9, issue 2): wall time and max RSS of `kiothc check` on a
# generated, valid config of 10,000 checks in 100 files and of 100,000 checks in 1,000 files.
# Target: 10,000 checks <= 0.5 s (release); 100,000 no worse than linear (ratio <= ~10).
#
#   scripts/bench/config-load.sh                 # builds release into .build-scripts-release
#   scripts/bench/config-load.sh --kiothc PATH   # uses an existing (release) binary
#   options: --runs N (hyperfine runs, default 10), --keep (keep the generated configs)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
kiothc=""
runs=10
keep=0
while [ $# -gt 0 ]; do
    case "$1" in
        --kiothc) kiothc="$2"; shift 2 ;;
        --runs) runs="$2"; shift 2 ;;
        --keep) keep=1; shift ;;
        -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
        *) echo "config-load: unknown argument '$1'" >&2; exit 64 ;;
    esac
done

if [ -z "$kiothc" ]; then
    echo "== swift build -c release --scratch-path .build-scripts-release --product kiothc"
    (cd "$repo" && timeout 1800 swift build -c release --scratch-path .build-scripts-release --product kiothc)
    kiothc="$repo/.build-scripts-release/release/kiothc"
fi
[ -x "$kiothc" ] || { echo "config-load: $kiothc is not executable" >&2; exit 1; }

work="$(mktemp -d "${TMPDIR:-/tmp}/kiothc-bench.XXXXXX")"
cleanup() { if [ "$keep" = 1 ]; then echo "configs kept in $work"; else rm -rf "$work"; fi; }
trap cleanup EXIT

# generate DIR CHECKS FILES: a realistic config. File 000 declares the projects (with
# defaults and channels) and some checks; every file sets `project:` and some checks name
# their own project; a mix of timeout, cron, OnCalendar and default-period checks, with tz,
# grace, tags, channels, desc, methods, paused. Names give unique slugs.
generate() {
    timeout 300 python3 - "$@" <<'PY'
import random, sys
from pathlib import Path
out, n_checks, n_files = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(20240521)
projects = [f"proj-{i:02d}" for i in range(10)]
zones = ["UTC", "Europe/Riga", "Europe/Berlin", "America/New_York", "Asia/Tokyo",
         "Australia/Sydney", "America/Sao_Paulo", "Asia/Kolkata", "Europe/London", "Etc/GMT-3"]
crons = ["*/5 * * * *", "0 3 * * *", "15 2 * * 1-5", "0 */6 * * *", "30 4 1 * *",
         "*/15 9-17 * * MON-FRI", "0 0 * * SUN", "45 23 L * *", "0 12 1,15 * *"]
calendars = ["daily", "hourly", "Mon..Fri *-*-* 09:00:00", "*-*-* 04:00:00", "Sun *-*-* 05:00:00",
             "*-*-01 00:00:00", "Sat,Sun 10:30", "*:0/15", "weekly", "*-*-* 02:30:00 Europe/Riga"]
durations = ["1m", "5m", "90s", "1h", "1h30m", "6h", "1d", "2d", "1w", 3600]
tags = ["prod", "staging", "db", "backup", "etl", "billing", "infra", "cron", "k8s", "edge"]
out.mkdir(parents=True, exist_ok=True)
per_file = n_checks // n_files
k = 0
for f in range(n_files):
    lines = [f"# generated: file {f} of {n_files}"]
    if f == 0:
        lines.append("projects:")
        for p in projects:
            lines += [f"  {p}:", f"    name: Project {p.upper()}",
                      f"    ping_key: {{env: {p.upper().replace('-', '_')}_PING_KEY}}",
                      "    api_keys:", f"      read_only: {{file: /run/secrets/{p}-ro}}",
                      f"    defaults: {{grace: 30m, tz: {rng.choice(zones)}, channels: [oncall]}}",
                      "    channels:",
                      "      oncall:", "        kind: webhook", f"        url: https://hooks.example.com/{p}",
                      "        body: '{\"text\": \"$NAME is $STATUS\"}'",
                      "      log:", "        kind: command",
                      "        command: echo \"$NAME ($SLUG) is $STATUS\" >> /tmp/alerts.log"]
    lines += [f"project: {projects[f % len(projects)]}", "checks:"]
    for i in range(per_file if f < n_files - 1 else n_checks - k):
        k += 1
        lines += [f"  job-{f:04d}-{i:03d}:", f"    name: Job {f} {i} {rng.choice(['Backup', 'ETL', 'Report', 'Sync', 'Cleanup'])}"]
        r = rng.random()
        if r < 0.35:
            lines.append(f"    timeout: {rng.choice(durations)}")
        elif r < 0.65:
            lines.append(f"    schedule: \"{rng.choice(crons)}\"")
            lines.append(f"    tz: {rng.choice(zones)}")
        elif r < 0.9:
            lines.append(f"    schedule: \"{rng.choice(calendars)}\"")
            if rng.random() < 0.5:
                lines.append(f"    tz: {rng.choice(zones)}")
        lines.append(f"    grace: {rng.choice(durations)}")
        lines.append(f"    tags: [{', '.join(rng.sample(tags, rng.randint(0, 3)))}]")
        if rng.random() < 0.5:
            lines.append(f"    channels: [{rng.choice(['oncall', 'log', 'oncall, log'])}]")
        if rng.random() < 0.3:
            lines.append(f"    desc: Runs job {i} of batch {f}; owner team-{rng.randint(1, 20)}")
        if rng.random() < 0.2:
            lines.append("    methods: POST")
        if rng.random() < 0.05:
            lines.append("    paused: true")
        if rng.random() < 0.1:
            lines.append(f"    project: {rng.choice(projects)}")
    (out / f"checks-{f:04d}.yaml").write_text("\n".join(lines) + "\n")
PY
}

# measure LABEL DIR CHECKS: validity (exit 0 and the check count), hyperfine, /usr/bin/time -v.
declare -A mean_s rss_kb
measure() {
    local label="$1" dir="$2" checks="$3"
    local output summary status
    set +e
    output="$(timeout 120 "$kiothc" check --config "$dir" 2>&1)"
    status=$?
    set -e
    summary="$(tail -n 1 <<<"$output")"
    if [ "$status" != 0 ] || ! grep -q "valid: $checks checks" <<<"$summary"; then
        echo "config-load: the generated $label config is not valid (exit $status):" >&2
        head -n 20 <<<"$output" >&2
        exit 1
    fi
    echo "== $label: $summary"
    if command -v hyperfine >/dev/null; then
        hyperfine --style basic --warmup 1 --runs "$runs" --export-json "$work/$label.json" \
            "$kiothc check --config $dir" >&2
        mean_s[$label]="$(python3 - "$work/$label.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
print(f"{r['mean']:.3f} ± {r['stddev']:.3f} (min {r['min']:.3f}; CPU user+sys {r['user'] + r['system']:.3f})")
PY
)"
    else
        local best=""
        for _ in $(seq "$runs"); do
            local t; t="$( { /usr/bin/time -f %e "$kiothc" check --config "$dir" >/dev/null; } 2>&1 )"
            best="$(python3 -c "import sys; a=[float(x) for x in sys.argv[1:] if x]; print(min(a))" $best $t)"
        done
        mean_s[$label]="$best (best of $runs, /usr/bin/time)"
    fi
    rss_kb[$label]="$( { /usr/bin/time -v "$kiothc" check --config "$dir" >/dev/null; } 2>&1 | awk -F': ' '/Maximum resident/ {print $2}')"
}

echo "== generating configs in $work"
generate "$work/c10k" 10000 100
generate "$work/c100k" 100000 1000
du -sh "$work/c10k" "$work/c100k" | sed 's/^/   /'
measure 10k "$work/c10k" 10000
measure 100k "$work/c100k" 100000

echo
echo "binary: $kiothc"
printf '%-8s %-8s %-52s %s\n' config checks "wall time, s (hyperfine mean ± sd)" "max RSS, MB"
printf '%-8s %-8s %-52s %s\n' 10k 10000 "${mean_s[10k]}" "$(awk "BEGIN{printf \"%.1f\", ${rss_kb[10k]}/1024}")"
printf '%-8s %-8s %-52s %s\n' 100k 100000 "${mean_s[100k]}" "$(awk "BEGIN{printf \"%.1f\", ${rss_kb[100k]}/1024}")"
python3 - "$work/10k.json" "$work/100k.json" "${mean_s[10k]%% *}" "${mean_s[100k]%% *}" <<'PY'
import json, os, sys
def load(path, fallback):
    if os.path.exists(path):
        r = json.load(open(path))["results"][0]
        return r["mean"], r["user"] + r["system"]
    return float(fallback), None
(t10, c10), (t100, c100) = load(sys.argv[1], sys.argv[3]), load(sys.argv[2], sys.argv[4])
print(f"ratio 100k/10k: wall {t100 / t10:.2f}" + (f", CPU {c100 / c10:.2f}" if c10 else "") + " (linear: 10.0)")
print(f"target 10k <= 0.5 s: {'met' if t10 <= 0.5 else 'MISSED'} (wall {t10:.3f} s"
      + (f", CPU {c10:.3f} s" if c10 else "") + f"); 100k no worse than linear: {'met' if t100 / t10 <= 11 else 'MISSED'}")
PY
