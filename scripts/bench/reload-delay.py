#!/usr/bin/env python3
"""Reload delay: time from a config file write to the new config answering pings.

Starts `kiothc serve` on a temporary config, renames a check N times (atomic write, as an
editor or git does), and after each write polls the new slug URL every 2 ms until it answers
200. Prints min / median / p90 / max per trigger mode: inotify (default), and the
fingerprint poll alone (--no-watch-config --reload-poll 1).

    scripts/bench/reload-delay.py [--binary .build/debug/kiothc] [--rounds 20] [--checks 1000]
"""
import argparse, os, re, shutil, signal, statistics, subprocess, sys, tempfile, threading, time, urllib.request, urllib.error

def ping(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as reply:
            return reply.status
    except urllib.error.HTTPError as error:
        return error.code

def config(round_, checks):
    lines = ["projects:", "  ops:", "    ping_key: bench-ping-key-0001", "project: ops", "checks:", f"  job: {{name: Job {round_}}}"]
    lines += [f"  filler-{i}: {{name: Filler {i}, timeout: 1h}}" for i in range(checks - 1)]
    return "\n".join(lines) + "\n"

def measure(binary, rounds, checks, extra):
    root = tempfile.mkdtemp(prefix="kiothc-reload-bench-")
    conf = os.path.join(root, "checks.d")
    os.makedirs(conf)
    path = os.path.join(conf, "checks.yaml")
    with open(path, "w") as f:
        f.write(config(0, checks))
    log = open(os.path.join(root, "server.log"), "w+")
    server = subprocess.Popen([binary, "serve", "--config", conf, "--data", os.path.join(root, "data"), "--listen", "127.0.0.1:0",
                               "--durability", "write"] + extra, stderr=log, stdout=subprocess.DEVNULL)
    try:
        base = None
        deadline = time.time() + 60
        while base is None and time.time() < deadline:
            log.seek(0)
            found = re.search(r"serving pings at (\S+)", log.read())
            base = found.group(1) if found else None
            time.sleep(0.05)
        if base is None:
            sys.exit("the server did not start; see " + log.name)
        time.sleep(0.5)
        delays = []
        for round_ in range(1, rounds + 1):
            text = config(round_, checks)
            temp = path + ".tmp"
            with open(temp, "w") as f:
                f.write(text)
            start = time.monotonic()
            os.rename(temp, path)
            url = f"{base}/ping/bench-ping-key-0001/job-{round_}"
            while ping(url) != 200:
                if time.monotonic() - start > 30:
                    sys.exit(f"round {round_}: not live after 30 s")
                time.sleep(0.002)
            delays.append((time.monotonic() - start) * 1000)
        return delays
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait()
        shutil.rmtree(root, ignore_errors=True)

def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=".build/debug/kiothc")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--checks", type=int, default=1000)
    args = parser.parse_args()
    print(f"reload delay, {args.checks} checks, {args.rounds} rounds (ms from rename(2) of the file to the new slug answering 200)")
    print(f"{'trigger':<28} {'min':>7} {'median':>7} {'p90':>7} {'max':>7}")
    for name, extra in [("inotify", []), ("poll only (--reload-poll 1)", ["--no-watch-config", "--reload-poll", "1"])]:
        delays = sorted(measure(args.binary, args.rounds, args.checks, extra))
        p90 = delays[min(len(delays) - 1, int(len(delays) * 0.9))]
        print(f"{name:<28} {delays[0]:7.0f} {statistics.median(delays):7.0f} {p90:7.0f} {delays[-1]:7.0f}")

if __name__ == "__main__":
    main()
