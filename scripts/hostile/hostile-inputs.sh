#!/usr/bin/env bash
# Hostile inputs for the YAML loader (SPEC §1.1, §10; issue 2): each case is a config dir of its
# own; `kiothc check --format json` must exit 1 (0 for the empty file) without a signal, report
# the expected code at file:line:col, and stay within 100 MB of max RSS and 5 s of wall time.
# The two "wide" cases guard against quadratic collection building (fixed in aaf877d and c910e9b).
#
#   scripts/hostile/hostile-inputs.sh [KIOTHC]     # default: $KIOTHC or .build-scripts/debug/kiothc
#   env: HOSTILE_MAX_RSS_MB (100), HOSTILE_MAX_SECONDS (5), HOSTILE_KEEP=1 keeps the inputs
# Prints a table and a last line `hostile: N passed, M failed`; exit 1 on any failure.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
kiothc="${1:-${KIOTHC:-$repo/.build-scripts/debug/kiothc}}"
[ -x "$kiothc" ] || { echo "hostile: $kiothc is not executable; build first or pass its path" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "hostile: /usr/bin/time (GNU time) is required: apt-get install time" >&2; exit 1; }

work="$(mktemp -d "${TMPDIR:-/tmp}/kiothc-hostile.XXXXXX")"
cleanup() { if [ "${HOSTILE_KEEP:-0}" = 1 ]; then echo "inputs kept in $work"; else rm -rf "$work"; fi; }
trap cleanup EXIT

timeout 600 python3 - "$kiothc" "$work" "${HOSTILE_MAX_RSS_MB:-100}" "${HOSTILE_MAX_SECONDS:-5}" <<'PY'
import json, random, re, subprocess, sys
from pathlib import Path

kiothc, work, max_rss_mb, max_seconds = sys.argv[1], Path(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
rng = random.Random(20240521)

VALID_HEAD = b"project: ops\nchecks:\n  db-backup:\n    name: Database Backup\n"

def billion_laughs() -> bytes:
    lines = ['lol0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 10):
        lines.append(f"lol{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    lines.append("checks: *a9")
    return ("\n".join(lines) + "\n").encode()

def five_mib() -> bytes:
    out, i = [b"checks:\n"], 0
    size = len(out[0])
    while size < 5 * 1024 * 1024:
        chunk = f"  job-{i}:\n    name: Job {i}\n    timeout: 5m\n".encode()
        out.append(chunk)
        size += len(chunk)
        i += 1
    return b"".join(out)

def nested_block(levels: int) -> bytes:
    return b"".join(b"  " * i + f"k{i}:\n".encode() for i in range(levels)) + b"  " * levels + b"leaf: 1\n"

# (name, file name, bytes, expected exit, expected code or None, expected "line:col" or None)
cases = [
    ("alias bomb (billion laughs)", "bomb.yaml", billion_laughs(), 1, "alias-not-allowed", "1:7"),
    ("5 MiB file", "big.yaml", five_mib(), 1, "file-too-large", "1:1"),
    ("binary garbage (64 KiB random)", "garbage.yaml", bytes(rng.getrandbits(8) for _ in range(65536)), 1, "yaml-syntax", None),
    ("NUL bytes in a value", "nul.yaml", VALID_HEAD + b"    desc: before\x00after\n    timeout: 5m\n", 1, "yaml-syntax", "5:17"),
    ("invalid UTF-8 mid-file", "utf8.yaml", VALID_HEAD + b"    desc: caf\xc3\xa9 \xff\xfe ok\n    timeout: 5m\n", 1, "yaml-syntax", "5:16"),
    ("100,000 nested [", "brackets.yaml", b"checks: " + b"[" * 100_000 + b"\n", 1, "too-deep", None),
    ("100,000 nested {", "braces.yaml", b"checks: " + b"{" * 100_000 + b"\n", 1, "too-deep", None),
    ("1,000-level block mapping", "deep.yaml", nested_block(1000), 1, "too-deep", None),
    ("1 MB single line", "longline.yaml", b'checks: {job: {name: "' + b"x" * 1_000_000 + b'", timeout: 5m}}\n', 1, "out-of-range", "1:22"),
    ("100,000 distinct tags (flow sequence)", "wideseq.yaml",
     b"checks: {job: {timeout: 5m, tags: [" + b", ".join(f"t{i}".encode() for i in range(100_000)) + b"], bogus: 1}}\n",
     1, "unknown-key", None),
    ("20,000-key block mapping", "widemap.yaml",
     b"checks:\n" + b"".join(f"  job-{i}: {{timeout: 5m}}\n".encode() for i in range(20_000)) + b"  last: {scheduel: daily}\n",
     1, "unknown-key", "20002:10"),
    ("0-byte file", "empty.yaml", b"", 0, None, None),
]

def run(config_dir: Path, fmt: str):
    timing = config_dir.parent / (config_dir.name + f".{fmt}.time")
    cmd = ["timeout", "-s", "KILL", str(max(10, 2 * max_seconds)),
           "/usr/bin/time", "-v", "-o", str(timing), kiothc, "check", "--config", str(config_dir), "--format", fmt]
    proc = subprocess.run(cmd, capture_output=True)
    stats = timing.read_text() if timing.exists() else ""
    return proc, stats

def stat(stats: str, label: str) -> str:
    m = re.search(rf"^\s*{re.escape(label)}.*?: (.*)$", stats, re.M)
    return m.group(1).strip() if m else ""

def seconds(clock: str) -> float:
    parts = [float(p) for p in clock.split(":")] if clock else [float("inf")]
    total = 0.0
    for p in parts:
        total = total * 60 + p
    return total

rows, passed, failed = [], 0, 0
for name, file_name, data, want_exit, want_code, want_pos in cases:
    config = work / re.sub(r"[^a-z0-9]+", "-", file_name.split(".")[0])
    config.mkdir()
    path = config / file_name
    path.write_bytes(data)
    proc, stats = run(config, "json")
    problems = []
    signal = stat(stats, "Command terminated by signal")
    status = proc.returncode
    if status in (124, 137) or not stats:
        problems.append(f"killed by the timeout (exit {status})")
    if signal:
        problems.append(f"terminated by signal {signal}")
    if status != want_exit:
        problems.append(f"exit {status}, expected {want_exit}")
    rss_mb = int(stat(stats, "Maximum resident set size (kbytes)") or 0) / 1024
    wall = seconds(stat(stats, "Elapsed (wall clock) time"))
    if rss_mb >= max_rss_mb:
        problems.append(f"max RSS {rss_mb:.1f} MB >= {max_rss_mb:.0f} MB")
    if wall >= max_seconds:
        problems.append(f"wall time {wall:.2f} s >= {max_seconds:.0f} s")
    if len(proc.stdout) > 1_000_000:
        problems.append(f"{len(proc.stdout)} bytes of output")
    shown = ""
    try:
        report = json.loads(proc.stdout)
    except ValueError as error:
        report = None
        problems.append(f"--format json output is not JSON ({error}); stderr: {proc.stderr[:200]!r}")
    if report is not None:
        diagnostics = report.get("diagnostics", [])
        codes = [d.get("code") for d in diagnostics]
        for d in diagnostics:
            if not str(d.get("file", "")).endswith(file_name) or int(d.get("line", 0)) < 1 or int(d.get("column", 0)) < 1:
                problems.append(f"diagnostic without a proper file:line:col: {d}")
                break
        if want_code is None:
            if diagnostics or report.get("valid") is not True:
                problems.append(f"expected a valid config and no diagnostics, got {codes}")
        else:
            hits = [d for d in diagnostics if d.get("code") == want_code]
            if not hits:
                problems.append(f"no [{want_code}] diagnostic; got {codes[:5]}")
            else:
                first = hits[0]
                pos = f"{first['line']}:{first['column']}"
                if want_pos and pos != want_pos:
                    problems.append(f"[{want_code}] at {pos}, expected {want_pos}")
                more = f" (+{len(diagnostics) - 1} more)" if len(diagnostics) > 1 else ""
                message = first["message"] if len(first["message"]) <= 90 else first["message"][:87] + "..."
                shown = f"{file_name}:{pos}: [{want_code}] {message}{more}"
    # The text format must say the same thing (file:line:col: error: ... [code]).
    text_proc, _ = run(config, "text")
    text = text_proc.stdout.decode("utf-8", "replace")
    if want_code and not re.search(rf"{re.escape(file_name)}:\d+:\d+: error: .*\[{re.escape(want_code)}\]", text):
        problems.append(f"text output lacks 'file:line:col: error: ... [{want_code}]': {text[:200]!r}")
    if text_proc.returncode != want_exit:
        problems.append(f"text format: exit {text_proc.returncode}")
    if want_code is None:
        shown = text.strip().splitlines()[-1] if text.strip() else "(no output)"
    ok = not problems
    passed += ok
    failed += not ok
    rows.append((name, len(data), status, shown, rss_mb, wall, "PASS" if ok else "FAIL: " + "; ".join(problems)))

print(f"kiothc: {kiothc}")
print(f"| case | size, bytes | exit | first diagnostic | max RSS, MB | wall, s | result |")
print(f"|---|---:|---:|---|---:|---:|---|")
for name, size, status, shown, rss_mb, wall, result in rows:
    print(f"| {name} | {size:,} | {status} | `{shown}` | {rss_mb:.1f} | {wall:.2f} | {result} |")
print(f"hostile: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
