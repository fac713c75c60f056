#!/usr/bin/env python3
"""Alternating fresh starts of two kiothc builds on one config (issue 25): on a machine whose
speed moves from minute to minute, one fresh start of each build says little; N starts of A
and B taken in turns (A B A B ...) do. Each start is the fleet benchmark's (its `Serve`): exec
to the first 200 from /-/ready, polled every 50 ms, on an empty data directory, then SIGTERM;
the CPU time the server used until then is read from /proc.

    scripts/bench/fresh-ab.py --config DIR --rounds 5 BIN_A BIN_B

--config: a config directory (e.g. scripts/bench/fleet-config.py /tmp/c1m 1000000 makes the
fleet benchmark's million checks). Prints each start, then per build the median and mean of
wall and CPU seconds and in how many rounds B was faster than A. Exit status: 0, 1 when a
server exited, did not answer within --timeout seconds or did not stop cleanly, 2 on a usage
error, 130 when interrupted.
"""
import argparse
import os
import shutil
import statistics
import sys
import tempfile
import types

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bench import BenchError, proc_cpu_seconds, run_main  # noqa: E402
from fleet import Serve  # noqa: E402


def fresh_start(binary, config, work, timeout):
    """(wall seconds to ready, CPU seconds used by then) of one start on an empty data directory."""
    data = os.path.join(work, "data")
    shutil.rmtree(data, ignore_errors=True)
    server = Serve(types.SimpleNamespace(kiothc=binary), config, data, os.path.join(work, "serve.log"))
    wall = server.start(timeout)
    if wall is None:
        raise BenchError(f"{binary} serve was not ready within {timeout} s; log tail:\n{server.tail()}")
    cpu = proc_cpu_seconds(server.process.pid)
    server.stop()
    return wall, cpu


def main():
    parser = argparse.ArgumentParser(description="Alternating fresh starts of two kiothc builds on one config.")
    parser.add_argument("--config", required=True, help="the config directory both builds serve")
    parser.add_argument("--rounds", type=int, default=5, help="starts of each build, taken in turns (5)")
    parser.add_argument("--timeout", type=int, default=600, help="seconds a server gets to be ready (600)")
    parser.add_argument("builds", nargs=2, metavar="BIN", help="the two kiothc binaries, A then B")
    args = parser.parse_args()
    if args.rounds < 1 or not os.path.isdir(args.config) or not all(os.access(b, os.X_OK) for b in args.builds):
        parser.error("--rounds must be at least 1, --config a directory, and both builds executable files")
    times = {build: [] for build in args.builds}
    with tempfile.TemporaryDirectory(prefix="kiothc-fresh-ab-") as work:
        for round_number in range(1, args.rounds + 1):
            for build in args.builds:
                wall, cpu = fresh_start(build, args.config, work, args.timeout)
                times[build].append((wall, cpu))
                print(f"round {round_number}: {build}: ready after {wall:.3f} s, {cpu:.2f} s of CPU", flush=True)
    for build in args.builds:
        walls = [wall for wall, _ in times[build]]
        cpus = [cpu for _, cpu in times[build]]
        print(f"{build}: wall median {statistics.median(walls):.3f} s, mean {statistics.mean(walls):.3f} s; "
              f"CPU median {statistics.median(cpus):.2f} s, mean {statistics.mean(cpus):.2f} s")
    a, b = (times[build] for build in args.builds)
    faster = sum(1 for (wall_a, _), (wall_b, _) in zip(a, b) if wall_b < wall_a)
    print(f"B faster than A in {faster} of {args.rounds} rounds")
    return 0


if __name__ == "__main__":
    run_main("fresh-ab", main)
