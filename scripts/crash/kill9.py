#!/usr/bin/env python3
"""Crash test (SPEC §4, §10): pings under load, kill -9, restart.

Every ping that got a 200 must be in the store after the restart, and no line of any
JSON-lines file may be corrupt. Each ping carries a unique rid so acknowledged pings are
matched one by one, not just counted.

Usage: kill9.py KIOTHC_BINARY [--durability fsync|write] [--seconds N] [--rounds N]
Prints 'crash: N passed, M failed' and exits 1 on any loss or corruption.
"""
import argparse
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid

CHECKS = 50
THREADS = 16


def start(binary, config, data, durability):
    proc = subprocess.Popen(
        [binary, "serve", "--config", config, "--data", data, "--listen", "127.0.0.1:0",
         "--durability", durability, "--log-level", "notice"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 30
    log = []
    while time.time() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        log.append(line)
        match = re.search(r"serving pings at (http://\S+)", line)
        if match:
            # Keep the rest of the log: a failed stop prints it.
            threading.Thread(target=lambda: log.extend(proc.stderr), daemon=True).start()
            return proc, match.group(1), log
    proc.kill()
    raise SystemExit("server did not start:\n" + "".join(log))


def registry(data):
    with open(os.path.join(data, "registry.json")) as f:
        return [entry["uuid"] for entry in json.load(f)["checks"]]


def load(base, uuids, stop, acked, errors):
    rng = random.Random()
    while not stop.is_set():
        check = rng.choice(uuids)
        rid = str(uuid.uuid4())
        try:
            with urllib.request.urlopen(f"{base}/ping/{check}?rid={rid}", timeout=5) as reply:
                if reply.status == 200:
                    acked.append((check, rid))
        except (urllib.error.URLError, ConnectionError, OSError):
            errors.append(rid)  # expected once the server is killed


def verify(data, acked):
    stored = {}
    corrupt = []
    for name in os.listdir(os.path.join(data, "pings")):
        if not name.endswith(".jsonl"):
            continue
        check = name[: -len(".jsonl")]
        with open(os.path.join(data, "pings", name), "rb") as f:
            for number, raw in enumerate(f, 1):
                try:
                    line = json.loads(raw)
                    stored.setdefault(check, set()).add(line.get("rid"))
                except ValueError:
                    corrupt.append(f"{name}:{number}: {raw[:80]!r}")
                if not raw.endswith(b"\n"):
                    corrupt.append(f"{name}:{number}: no final newline")
    missing = [(c, r) for c, r in acked if r not in stored.get(c, set())]
    return missing, corrupt


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binary")
    parser.add_argument("--durability", default="fsync")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    root = tempfile.mkdtemp(prefix="kiothc-crash-")
    passed = failed = 0
    try:
        config = os.path.join(root, "checks.d")
        data = os.path.join(root, "data")
        os.makedirs(config)
        with open(os.path.join(config, "checks.yaml"), "w") as f:
            f.write("checks:\n" + "".join(f"  c{i}: {{timeout: 1h}}\n" for i in range(CHECKS)))
        total_acked = []
        for round_number in range(1, args.rounds + 1):
            proc, base, _log = start(args.binary, config, data, args.durability)
            uuids = registry(data)
            stop, acked, errors = threading.Event(), [], []
            threads = [threading.Thread(target=load, args=(base, uuids, stop, acked, errors)) for _ in range(THREADS)]
            for t in threads:
                t.start()
            time.sleep(args.seconds * random.uniform(0.5, 1.0))
            os.kill(proc.pid, signal.SIGKILL)  # mid-load, no warning
            proc.wait()
            stop.set()
            for t in threads:
                t.join()
            total_acked += acked
            # Restart: recovery repairs torn lines and replays the journal.
            proc, base, log = start(args.binary, config, data, args.durability)
            proc.send_signal(signal.SIGTERM)
            status = proc.wait(timeout=30)
            if status != 0:
                time.sleep(0.2)
                print("    server log of the failed stop:\n" + "".join(log[-40:]))
            missing, corrupt = verify(data, total_acked)
            ok = not missing and not corrupt and status == 0
            passed += ok
            failed += not ok
            print(f"round {round_number}: {len(acked)} pings acknowledged before kill -9, "
                  f"{len(errors)} refused or cut off; after restart: {len(missing)} acknowledged pings missing, "
                  f"{len(corrupt)} corrupt lines; graceful stop exit {status}")
            for item in (missing[:5] + corrupt[:5]):
                print("   ", item)
        print(f"total acknowledged and verified: {len(total_acked)} ({args.durability})")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"crash: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
