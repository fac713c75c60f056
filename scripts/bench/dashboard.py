#!/usr/bin/env python3
"""The dashboard overview over a fleet (issue 26): time and size of overview pages of a
100,000-check `kiothc serve`, logged in with the admin token (who sees every check).

    scripts/bench/dashboard.py --kiothc .build/release/kiothc [--config DIR] [--checks N]
                               [--runs N] [--markdown FILE] [--keep]

--config: an existing config directory of --checks checks (e.g. /tmp/fleet/c100k, read only);
without it scripts/bench/fleet-config.py generates one (1/3 simple, 1/3 cron, 1/3 OnCalendar).
The server runs on a copy of it without the projects' channels (the pings below turn
2,000 checks down, and their webhook alerts to a closed port would retry and log through the
measurement), with --durability write on a fresh data directory; once /-/ready answers 200,
3 of every 10 checks get a success ping, 1 of every 50 a fail (down at once) and 1 of every 100
a start, so the statuses are mixed and problems-first ordering has work to do. Then each URL
below is fetched --runs times (default 20) over one keep-alive connection: time from the
request to the last byte, median, 90th percentile and maximum, and the page's bytes. The very
first `/` (which builds what the dashboard keeps per catalog snapshot) is timed alone before.

Targets (issue 26): the first page (`/`) ≤ 200 KB and answered in ≤ 100 ms (median) on a
release build. Exit status: 0 when the harness ran (a MISS is printed), 1 when it failed, 64 on
a usage error.
Needs python3 only. Temp files under $TMPDIR (or /tmp).
"""
import argparse
import http.client
import os
import re
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bench import BenchError, emit, load_average, log, run_main  # noqa: E402
from fleet import Serve, clean_up, generate, read_registry, send_pings  # noqa: E402

PAGES = [
    ("/", "first page, problems first (the default)"),
    ("/?page=500", "page 500"),
    ("/?status=down", "status=down"),
    ("/?q=backup", "q=backup (search)"),
    ("/?tag=db&project=proj-03", "tag=db & project=proj-03"),
    ("/?sort=name", "sort=name"),
    ("/?sort=last_ping", "sort=last_ping"),
    ("/?wall=1", "wall mode"),
]
SIZE_TARGET = 200 * 1024
TIME_TARGET_MS = 100.0


def quiet_copy(config, work):
    """`config` copied without the projects' channels (and their `defaults: channels`)."""
    copy = os.path.join(work, "config-quiet")
    os.makedirs(copy)
    for name in sorted(os.listdir(config)):
        with open(os.path.join(config, name)) as f:
            text = f.read()
        with open(os.path.join(copy, name), "w") as f:
            text = re.sub(r", channels: \[[^\]]*\]", "", text)
            f.write(re.sub(r"\n    channels:\n(      [^\n]*\n)+", "\n", text))
    return copy


def login(port, token):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", f"/login?token={token}")
        reply = connection.getresponse()
        reply.read()
        cookie = reply.getheader("Set-Cookie") or ""
        if reply.status != 303 or not cookie.startswith("kiothc_session="):
            raise BenchError(f"logging in with the admin token: HTTP {reply.status}, no session cookie")
        return cookie.split(";")[0]
    finally:
        connection.close()


def measure(port, cookie, path, runs):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    times, size = [], 0
    try:
        for _ in range(runs):
            begin = time.perf_counter()
            connection.request("GET", path, headers={"Cookie": cookie})
            reply = connection.getresponse()
            body = reply.read()
            times.append((time.perf_counter() - begin) * 1000)
            if reply.status != 200:
                raise BenchError(f"GET {path}: HTTP {reply.status}")
            if b'<form class="login"' in body:
                raise BenchError(f"GET {path}: the login form (the session was not accepted)")
            size = len(body)
    finally:
        connection.close()
    times.sort()
    rows = len(re.findall(rb'<tr class="check"', body)) + len(re.findall(rb'<a class="tile ', body))
    return {"median": statistics.median(times), "p90": times[int(0.9 * (len(times) - 1))], "max": times[-1], "bytes": size, "rows": rows}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kiothc", required=True)
    parser.add_argument("--config", help="an existing config directory (read only); default: generated")
    parser.add_argument("--checks", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--markdown")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--serve-timeout", type=float, default=600)
    args = parser.parse_args()
    if args.runs < 1 or args.checks < 1:
        parser.error("--runs and --checks must be positive")
    work = tempfile.mkdtemp(prefix="kiothc-dashboard-bench-")
    try:
        config = quiet_copy(args.config or generate(work, args.checks), work)
        data = os.path.join(work, "data")
        server = Serve(args, config, data, os.path.join(work, "serve.log"), extra=("--durability", "write"))
        log(f"== kiothc serve --config {config} ({args.checks:,} checks)")
        ready = server.start(args.serve_timeout)
        if ready is None:
            raise BenchError(f"kiothc serve was not ready after {args.serve_timeout} s")
        log(f"   ready after {ready:.1f} s")
        registry = read_registry(data, args.checks)
        paths = []
        for index, (_, uuid) in enumerate(registry):
            if index % 50 == 3:
                paths.append(f"/ping/{uuid}/fail")
            elif index % 100 == 5:
                paths.append(f"/ping/{uuid}/start")
            elif index % 10 < 3:
                paths.append(f"/ping/{uuid}")
        seconds = send_pings(server.port, paths)
        log(f"   {len(paths):,} pings in {seconds:.1f} s")
        with open(os.path.join(data, "admin-token")) as f:
            cookie = login(server.port, f.read().strip())
        load = load_average()
        # The first overview of a catalog snapshot builds what the dashboard keeps per snapshot
        # (UUIDs and status rules by position): timed alone, before the loops.
        first = measure(server.port, cookie, "/", 1)
        log(f"   / (first after the start): {first['median']:.1f} ms")
        results = []
        for path, label in PAGES:
            result = measure(server.port, cookie, path, args.runs)
            results.append((path, label, result))
            log(f"   {path}: median {result['median']:.1f} ms, {result['bytes']:,} bytes")
        server.stop()
        lines = [
            f"`scripts/bench/dashboard.py --kiothc BIN{' --config ' + args.config if args.config else ''}` — {args.checks:,} checks, "
            f"{len(paths):,} pinged (fails: down), admin session, {args.runs} GETs each over one keep-alive connection, "
            f"load average {load:.1f} at the start",
            "",
            "| page | median ms | p90 ms | max ms | bytes | rows | target |",
            "|---|---:|---:|---:|---:|---:|---|",
        ]
        missed = False
        lines.append(f"| `/` the first request after the start (builds the per-snapshot index) | {first['median']:.1f} | | | {first['bytes']:,} | {first['rows']} | |")
        for path, label, result in results:
            target = ""
            if path == "/":
                ok = result["median"] <= TIME_TARGET_MS and result["bytes"] <= SIZE_TARGET
                missed = not ok
                target = f"{'PASS' if ok else 'MISS'} (≤ {TIME_TARGET_MS:.0f} ms, ≤ {SIZE_TARGET // 1024} KB)"
            lines.append(f"| `{path}` {label} | {result['median']:.1f} | {result['p90']:.1f} | {result['max']:.1f} | "
                         f"{result['bytes']:,} | {result['rows']} | {target} |")
        text = "\n".join(lines)
        emit(text, args.markdown)
        if missed:
            log("   the first page missed its target")
        return 0
    finally:
        clean_up(work, args.keep)


if __name__ == "__main__":
    run_main("dashboard", main)
