#!/usr/bin/env python3
"""The fleet benchmark (issue 25, SPEC §9): kiothc with 1,000,000 and 100,000 checks, each
figure beside the floor measured in the same run. Run it through scripts/bench/run.sh --only
fleet (which builds), or directly with a binary:

    scripts/bench/fleet.py --kiothc .build/release/kiothc [--quick] [--only PART[,PART]]
                           [--markdown FILE] [--keep] [--strict]

Configs come from scripts/bench/fleet-config.py (1/3 simple, 1/3 cron, 1/3 OnCalendar; 1,000
checks a file), generated into a temp dir. The floor is libyaml's bare event parse of the same
files (scripts/bench/yaml-floor.c, compiled here with cc -O2; best and median of 3 runs); every
timed figure is also shown as a multiple of it (the 1,000,000-check rows of the 1,000,000-check
floor, the 100,000-check rows of the 100,000-check one).

Parts (--only, default all):
  check    `kiothc check` on 1,000,000 checks: wall time (median of 3) and max RSS;
           target ≤ 5 s and ≤ 2.5× the floor.
  serve    `kiothc serve` on 1,000,000 checks: exec to the first 200 from /-/ready (polled every
           50 ms) on a fresh data directory, then again after a clean stop (SIGTERM) on the same
           directory, --serve-rounds times (3); each median ≤ 5 s and ≤ 3× the floor (a server
           not ready within --serve-timeout is killed: MISS "not ready after N s"); VmRSS 10 s
           after the first round's ready ≤ 1.5 GB.
  status   `kiothc status` (table, and --format json) over 100,000 checks whose UUIDs the server
           assigned and 30,000 of which have a ping: median of 3, each ≤ 2 s.
  reload   one check renamed in one of 100 files (atomic rename of a temp file): time until the
           new slug URL answers 200 (polled every 10 ms), 5 rounds, median ≤ 1 s.
  metrics  GET /metrics with the admin token over 100,000 checks: time and bytes, median of 3,
           ≤ 1 s.
  flips    scripts/bench/flip-delay.sh --window 60 --alerts: 100,000 checks whose down
           deadlines fall within one minute, each with a webhook channel to a local receiver;
           target: every check flipped, none later than 1 s after its deadline, every flip's
           alert queued (and how many were delivered). --flip-start S (150) must leave room
           for the generation and the server's start: a server listening after the first
           deadline fails the part; --flip-checks N only to try the harness.
status, reload and metrics share one server on a copy of the 100,000-check config in which
every project has a literal ping_key (for slug URLs).

--quick: the 1,000,000-check rows (check, serve) on 100,000 checks; indicative only.
--keep: keep the temp dir (configs, data directories, logs) and print where it is.

Exit status: 0 when every measurement ran (a MISS is printed; --strict makes it exit 2), 1 when
the harness failed (a helper that failed, a server that exited or did not stop, a non-2xx ping,
output that does not hold every check; the other parts still run, and the failed one is a
FAILED line under the table), 64 on a usage error, 130 when interrupted. Servers and the temp dir are
cleaned up on exit, SIGINT and SIGTERM.
Needs: python3, cc, pkg-config and libyaml's headers (Debian: apt-get install -y gcc pkg-config
libyaml-dev). Temp files go under $KIOTHC_BENCH_DIR (default $TMPDIR or /tmp): 125 MB of config
for 1,000,000 checks, the data directories (flips: 200,000 small files), the logs.
"""
import argparse
import asyncio
import http.client
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bench import BenchError, emit, load_average, log, proc_status, run_main  # noqa: E402

PARTS = ["check", "serve", "status", "reload", "metrics", "flips"]
BIG, SMALL = 1_000_000, 100_000
PINGED = 30_000          # checks of the 100,000 that get one ping before `status`
IDLE_SECONDS = 10        # RSS is read this long after ready
POLL_SECONDS = 0.05      # /-/ready polling interval
RUNNING = []             # processes to end on the way out


def forget(process):
    if process in RUNNING:
        RUNNING.remove(process)


def run_timed(argv, stdout_path, timeout):
    """Runs argv with stdout to a file; (wall seconds, max RSS kB, exit status, stderr tail)."""
    with open(stdout_path, "wb") as out, tempfile.TemporaryFile() as err:
        begin = time.monotonic()
        process = subprocess.Popen(argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        RUNNING.append(process)
        deadline = begin + timeout
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                wall = time.monotonic() - begin
                process.returncode = os.waitstatus_to_exitcode(status)
                break
            if time.monotonic() > deadline:
                process.kill()
                process.wait()
                raise BenchError(f"{' '.join(argv[:2])} did not finish within {timeout} s")
            time.sleep(0.005)
        forget(process)
        err.seek(0)
        return wall, usage.ru_maxrss, process.returncode, err.read()[-3000:].decode(errors="replace")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(port, path, timeout=5.0, headers=None):
    """(status, body bytes); raises OSError / http.client.HTTPException when no answer."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path, headers=headers or {})
        reply = connection.getresponse()
        return reply.status, reply.read()
    finally:
        connection.close()


class Serve:
    """`kiothc serve` on a known loopback port; ready = the first 200 from /-/ready."""

    def __init__(self, args, config, data, log_path, extra=()):
        self.port = free_port()
        self.argv = [args.kiothc, "serve", "--config", config, "--data", data, "--listen", f"127.0.0.1:{self.port}",
                     *extra]
        self.log_path = log_path
        self.process = None
        self.ready_s = None
        self.rss_at_timeout_kb = None

    def start(self, timeout):
        """Starts and polls /-/ready every 50 ms; returns the seconds from exec to the first 200,
        or None when not ready within `timeout` (the server is then killed)."""
        with open(self.log_path, "ab") as output:
            begin = time.monotonic()
            self.process = subprocess.Popen(self.argv, stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        RUNNING.append(self.process)
        while time.monotonic() - begin < timeout:
            if self.process.poll() is not None:
                raise BenchError(f"kiothc serve exited {self.process.returncode} before it was ready; log tail:\n{self.tail()}")
            try:
                status, _ = http_get(self.port, "/-/ready", timeout=2.0)
                if status == 200:
                    self.ready_s = time.monotonic() - begin
                    return self.ready_s
            except (OSError, http.client.HTTPException):
                pass
            time.sleep(POLL_SECONDS)
        self.rss_at_timeout_kb = self.rss_kb()
        self.kill()
        return None

    def rss_kb(self):
        return proc_status(self.process.pid, "VmRSS")

    def hwm_kb(self):
        return proc_status(self.process.pid, "VmHWM")

    def stop(self, timeout=600):
        """SIGTERM and wait: a server that does not stop cleanly fails the harness."""
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise BenchError(f"kiothc serve did not stop within {timeout} s of SIGTERM; log tail:\n{self.tail()}")
        forget(self.process)
        if self.process.returncode != 0:
            raise BenchError(f"kiothc serve exited {self.process.returncode} after SIGTERM; log tail:\n{self.tail()}")

    def kill(self):
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        forget(self.process)

    def tail(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()[-3000:]


# --- configs and the floor -----------------------------------------------------------------

def generate(work, checks):
    directory = os.path.join(work, f"config-{checks}")
    log(f"== scripts/bench/fleet-config.py {directory} {checks}")
    done = subprocess.run([sys.executable, os.path.join(HERE, "fleet-config.py"), directory, str(checks)],
                          capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        raise BenchError(f"fleet-config.py failed (exit {done.returncode}): {done.stderr[-2000:]}")
    return directory


def yaml_files(directory):
    return sorted(os.path.join(directory, name) for name in os.listdir(directory) if name.endswith(".yaml"))


def keyed_copy(config, work):
    """A copy of a generated config whose projects have literal ping keys (for slug URLs);
    returns (directory, {project: ping key})."""
    directory = os.path.join(work, "config-keyed")
    shutil.copytree(config, directory)
    first = yaml_files(directory)[0]
    with open(first) as f:
        text = f.read()
    keys = {}

    def add_key(match):
        project = match.group(1)
        keys[project] = f"fleet-bench-{project}"
        return f"{match.group(0)}\n    ping_key: {keys[project]}"

    text = re.sub(r"^  (proj-\d\d):\n    name: [^\n]*", add_key, text, flags=re.M)
    if not keys:
        raise BenchError(f"{first}: no project declarations found to add ping keys to (did fleet-config.py change?)")
    with open(first, "w") as f:
        f.write(text)
    return directory, keys


def build_floor(work):
    for tool in ("cc", "pkg-config"):
        if not shutil.which(tool):
            raise BenchError(f"{tool} is needed for the floor: apt-get install -y gcc pkg-config libyaml-dev")
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "yaml-0.1"], capture_output=True, text=True)
    if flags.returncode != 0:
        raise BenchError("libyaml's development files are needed for the floor (pkg-config yaml-0.1 failed): "
                         "apt-get install -y libyaml-dev")
    binary = os.path.join(work, "yaml-floor")
    done = subprocess.run(["cc", "-O2", "-o", binary, os.path.join(HERE, "yaml-floor.c"), *flags.stdout.split()],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise BenchError(f"compiling yaml-floor.c failed: {done.stderr[-2000:]}")
    return binary


def measure_floor(work, binary, config, checks, runs=3):
    walls = []
    out = os.path.join(work, f"floor-{checks}.out")
    for _ in range(runs):
        wall, _, status, err = run_timed([binary, *yaml_files(config)], out, timeout=600)
        if status != 0:
            raise BenchError(f"yaml-floor failed on {config} (exit {status}): {err}")
        walls.append(wall)
    with open(out) as f:
        found = re.match(r"files=(\d+) events=(\d+)", f.read())
    if not found:
        raise BenchError(f"yaml-floor printed no count (see {out})")
    floor = {"best": min(walls), "median": statistics.median(walls), "files": int(found.group(1)),
             "events": int(found.group(2)), "checks": checks}
    log(f"   floor, {checks:,} checks: best {floor['best']:.3f} s, median {floor['median']:.3f} s "
        f"({floor['events']:,} events in {floor['files']} files)")
    return floor


# --- the parts -----------------------------------------------------------------------------

def part_check(args, work, config, checks, runs=3):
    walls, rss = [], []
    for run in range(runs):
        log(f"== kiothc check --config … ({checks:,} checks), run {run + 1} of {runs}")
        wall, maxrss, status, err = run_timed([args.kiothc, "check", "--config", config],
                                              os.path.join(work, "check.out"), timeout=1800)
        if status != 0:
            with open(os.path.join(work, "check.out"), errors="replace") as f:
                out = f.read()[-2000:]
            raise BenchError(f"kiothc check exited {status} on the generated config:\n{out}{err}")
        walls.append(wall)
        rss.append(maxrss)
        log(f"   {wall:.3f} s, max RSS {maxrss / 1024:.0f} MB")
    return {"median": statistics.median(walls), "best": min(walls), "walls": walls, "rss_kb": max(rss)}


def idle_rss(server):
    time.sleep(IDLE_SECONDS)
    if server.process.poll() is not None:
        raise BenchError(f"kiothc serve exited {server.process.returncode} while idle; log tail:\n{server.tail()}")
    return server.rss_kb()


def part_serve(args, work, config, checks):
    """`args.serve_rounds` rounds of a fresh start then a restart; each figure is the median
    of its rounds (a single start of a few seconds moves by a fifth on this machine's
    neighbours). VmRSS is read in the first round only (each reading idles 10 s)."""
    data = os.path.join(work, "data-serve")
    result = {phase: {"runs": []} for phase in ("fresh", "restart")}
    for round_number in range(1, args.serve_rounds + 1):
        shutil.rmtree(data, ignore_errors=True)
        for phase in ("fresh", "restart"):
            log(f"== kiothc serve, {checks:,} checks, {'fresh data directory' if phase == 'fresh' else 'restart after a clean stop'}"
                f", round {round_number} of {args.serve_rounds} (at most {args.serve_timeout} s to ready)")
            server = Serve(args, config, data, os.path.join(work, f"serve-{phase}-{round_number}.log"))
            entry = result[phase]
            ready = server.start(args.serve_timeout)
            if ready is None:
                log(f"   not ready after {args.serve_timeout} s: killed")
                entry.update(ready_s=None, rss_at_timeout_kb=server.rss_at_timeout_kb)
                if phase == "fresh":
                    result["restart"].update(ready_s=None, skipped=True)
                shutil.rmtree(data, ignore_errors=True)
                return result
            entry["runs"].append(ready)
            if round_number == 1:
                log(f"   ready after {ready:.3f} s; idle {IDLE_SECONDS} s")
                entry["rss_kb"] = idle_rss(server)
                entry["hwm_kb"] = server.hwm_kb()
                log(f"   VmRSS {entry['rss_kb'] / 1024:.0f} MB (peak {entry['hwm_kb'] / 1024:.0f} MB); SIGTERM")
            else:
                log(f"   ready after {ready:.3f} s; SIGTERM")
            begin = time.monotonic()
            server.stop()
            entry.setdefault("stop_s", time.monotonic() - begin)
    for phase in ("fresh", "restart"):
        result[phase]["ready_s"] = statistics.median(result[phase]["runs"])
    shutil.rmtree(data, ignore_errors=True)
    return result


async def _send_pings(port, paths, connections):
    counts = {}

    async def worker(share):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for path in share:
                writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: kiothc-fleet-bench\r\n\r\n".encode())
                await writer.drain()
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head.split(b" ", 2)[1])
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value.strip())
                if length:
                    await reader.readexactly(length)
                counts[status] = counts.get(status, 0) + 1
        finally:
            writer.close()

    await asyncio.gather(*(worker(paths[i::connections]) for i in range(connections)))
    return counts


def send_pings(port, paths, connections=16, timeout=600):
    begin = time.monotonic()
    try:
        counts = asyncio.run(asyncio.wait_for(_send_pings(port, paths, connections), timeout))
    except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError, ValueError) as error:
        raise BenchError(f"sending {len(paths):,} pings failed: {error!r}")
    if counts.get(200, 0) != len(paths):
        raise BenchError(f"sending {len(paths):,} pings: answers {counts} (every one should be 200)")
    return time.monotonic() - begin


def read_registry(data, checks):
    with open(os.path.join(data, "registry.json")) as f:
        entries = json.load(f)["checks"]
    if len(entries) != checks:
        raise BenchError(f"{data}/registry.json holds {len(entries):,} checks, the config {checks:,}")
    return sorted((entry["key"], entry["uuid"]) for entry in entries)


def measure_metrics(args, server, data, runs=3):
    with open(os.path.join(data, "admin-token")) as f:
        token = f.read().strip()
    walls, size = [], 0
    for run in range(runs):
        begin = time.monotonic()
        try:
            status, body = http_get(server.port, "/metrics", timeout=120, headers={"Authorization": f"Bearer {token}"})
        except (OSError, http.client.HTTPException) as error:
            raise BenchError(f"GET /metrics failed: {error!r}")
        wall = time.monotonic() - begin
        if status != 200 or b"kiothc_" not in body:
            raise BenchError(f"GET /metrics answered {status} ({len(body)} bytes) with the admin token")
        walls.append(wall)
        size = len(body)
        log(f"   /metrics: {wall:.3f} s, {size:,} bytes")
    return {"median": statistics.median(walls), "best": min(walls), "max": max(walls), "bytes": size}


def slugify(name):
    """Django's slugify for the generated ASCII names."""
    slug = re.sub(r"[^\w\s-]", "", name.lower())
    return re.sub(r"[-\s]+", "-", slug).strip("-_")


def measure_reload(args, server, config, keys, rounds=5, timeout=120):
    files = yaml_files(config)
    path = files[len(files) // 2]
    with open(path) as f:
        original = f.read()
    project = re.search(r"^project: (\S+)$", original, re.M).group(1)
    found = re.search(r"^  (job-\d+):\n    name: ([^\n]+)$", original, re.M)
    if not found or project not in keys:
        raise BenchError(f"{path}: no check or project to rename (did fleet-config.py change?)")
    key, name = found.group(1), found.group(2)
    delays = []
    for round_ in range(1, rounds + 1):
        new_name = f"{name} r{round_}"
        url = f"/ping/{keys[project]}/{slugify(new_name)}"
        text = original.replace(f"  {key}:\n    name: {name}\n", f"  {key}:\n    name: {new_name}\n", 1)
        temp = os.path.join(os.path.dirname(path), "." + os.path.basename(path) + ".tmp")
        with open(temp, "w") as f:
            f.write(text)
        begin = time.monotonic()
        os.rename(temp, path)
        connection = None
        while True:
            try:
                if connection is None:
                    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
                connection.request("GET", url)
                reply = connection.getresponse()
                reply.read()
                if reply.status == 200:
                    break
            except (OSError, http.client.HTTPException):
                if connection:
                    connection.close()
                connection = None
            if server.process.poll() is not None:
                raise BenchError(f"kiothc serve exited during the reload; log tail:\n{server.tail()}")
            if time.monotonic() - begin > timeout:
                raise BenchError(f"reload round {round_}: {url.rsplit('/', 1)[1]} not answering 200 after {timeout} s")
            time.sleep(0.01)
        delay = time.monotonic() - begin
        if connection:
            connection.close()
        delays.append(delay)
        log(f"   reload round {round_}: new slug answers after {delay * 1000:.0f} ms")
        time.sleep(1.0)
    return {"median": statistics.median(delays), "best": min(delays), "max": max(delays), "delays": delays,
            "file": os.path.basename(path)}


def measure_status(args, work, config, data, runs=3):
    result = {}
    for fmt in ("table", "json"):
        walls, rss = [], []
        out = os.path.join(work, f"status-{fmt}.out")
        for run in range(runs):
            log(f"== kiothc status --format {fmt}, run {run + 1} of {runs}")
            wall, maxrss, status, err = run_timed([args.kiothc, "status", "--config", config, "--data", data,
                                                   "--format", fmt], out, timeout=900)
            if status != 0:
                raise BenchError(f"kiothc status --format {fmt} exited {status}: {err}")
            walls.append(wall)
            rss.append(maxrss)
            log(f"   {wall:.3f} s, max RSS {maxrss / 1024:.0f} MB")
        # The output must hold every check, and the pinged ones as pinged.
        if fmt == "json":
            with open(out) as f:
                checks = json.load(f)["checks"]
            pinged = sum(1 for check in checks if check.get("n_pings"))
            if len(checks) != SMALL or pinged < PINGED:
                raise BenchError(f"kiothc status --format json listed {len(checks):,} checks, {pinged:,} with pings "
                                 f"(expected {SMALL:,} and {PINGED:,})")
        else:
            with open(out, errors="replace") as f:
                lines = sum(1 for line in f if " job-" in line)
            if lines != SMALL:
                raise BenchError(f"kiothc status listed {lines:,} checks, expected {SMALL:,}")
        result[fmt] = {"median": statistics.median(walls), "best": min(walls), "rss_kb": max(rss)}
    return result


def part_small_server(args, work, config, parts):
    """status, reload, metrics: one server on the keyed copy of the 100,000-check config."""
    keyed, keys = keyed_copy(config, work)
    data = os.path.join(work, "data-100k")
    out = {}
    log(f"== kiothc serve, {SMALL:,} checks with ping keys, fresh data directory (--durability write)")
    server = Serve(args, keyed, data, os.path.join(work, "serve-100k.log"), extra=["--durability", "write"])
    ready = server.start(args.serve_timeout)
    if ready is None:
        raise BenchError(f"kiothc serve with {SMALL:,} checks was not ready after {args.serve_timeout} s: "
                         "status, reload and metrics need it")
    out["ready_s"] = ready
    log(f"   ready after {ready:.3f} s")
    try:
        registry = read_registry(data, SMALL)
        # 3 checks of every 10 get one ping, so status reads ping files as well as empty checks.
        paths = [f"/ping/{uuid}" for index, (_, uuid) in enumerate(registry) if index % 10 < 3][:PINGED]
        log(f"== sending {len(paths):,} pings (16 connections)")
        out["pings_s"] = send_pings(server.port, paths)
        log(f"   {out['pings_s']:.1f} s")
        if "metrics" in parts:
            log("== GET /metrics (admin token), 3 times")
            out["metrics"] = measure_metrics(args, server, data)
        if "reload" in parts:
            log("== reload: one check renamed in one file, 5 rounds")
            out["reload"] = measure_reload(args, server, keyed, keys)
        log("== SIGTERM")
        server.stop()
    except BaseException:
        server.kill()
        raise
    if "status" in parts:
        out["status"] = measure_status(args, work, keyed, data)
    return out


def part_flips(args, work):
    command = [os.path.join(HERE, "flip-delay.sh"), "--kiothc", args.kiothc, "--checks", str(args.flip_checks), "--window", "60",
               "--start", str(args.flip_start), "--alerts"]
    log("== " + " ".join(command[0:1] + command[3:]))
    out_path = os.path.join(work, "flip-delay.out")
    env = dict(os.environ, TMPDIR=work)
    with open(out_path, "w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
        RUNNING.append(process)
        try:
            status = process.wait(timeout=args.flip_start + 60 + 2400)
        except subprocess.TimeoutExpired:
            raise BenchError("flip-delay.sh did not finish within its time")
        forget(process)
    with open(out_path) as f:
        text = f.read()
    if status != 0:
        raise BenchError(f"flip-delay.sh exited {status}:\n{text[-3000:]}")

    def number(pattern):
        found = re.search(pattern, text, re.M)
        if not found:
            raise BenchError(f"flip-delay.sh printed no '{pattern}':\n{text[-3000:]}")
        return found.groups()

    result = {}
    result["flipped"] = int(number(r"^checks flipped: (\d+) of")[0])
    p50, p99, worst = number(r"^per-check upper bound \(its round's max lag, ms\): p50 (\S+)  p99 (\S+)  max (\S+)$")
    result["p50"], result["p99"] = p50, p99
    result["max_ms"] = int(worst) if worst.isdigit() else None
    result["late"] = int(number(r"^flips later than 1 s \(upper bound\): (\d+)$")[0])
    result["queued"] = int(number(r"^alerts queued: (\d+)")[0])
    result["delivered"] = int(number(r"^alerts delivered: (\d+)")[0])
    result["alerts_waited"] = number(r"waited ([\d.]+) s after the flips")[0]
    result["listening_s"] = float(number(r"listening after ([\d.]+) s")[0])
    result["lead_s"] = float(number(r"listening (-?[\d.]+) s before the first deadline")[0])
    rss = re.findall(r"rss (?:after the flips )?(\d+) KiB", text)
    result["rss_kb"] = [int(value) for value in rss]
    if result["lead_s"] < 0:
        raise BenchError(f"flip-delay.sh: the server listened {-result['lead_s']:.1f} s after the first deadline, so the "
                         f"first round measured the start, not the scheduler: raise --flip-start (now {args.flip_start})")
    for line in text.splitlines():
        log("   " + line)
    return result


# --- report --------------------------------------------------------------------------------

def seconds(value):
    return f"{value:.3f} s" if value < 10 else f"{value:.1f} s"


def ratio(value, floor):
    return f"{value / floor['median']:.2f}" if (value is not None and floor) else "—"


def report(args, facts, floors, results, failures=()):
    rows, targets = [], []
    big = SMALL if args.quick else BIG
    fbig, fsmall = floors.get(big), floors.get(SMALL)

    def row(measurement, figure, times_floor="—"):
        rows.append(f"| {measurement} | {figure} | {times_floor} |")

    def target(name, ok, figure):
        targets.append((name, ok, figure))

    for checks in sorted(floors):
        f = floors[checks]
        row(f"floor: libyaml event parse, {checks:,} checks ({f['files']:,} files, {f['events']:,} events)",
            f"median {seconds(f['median'])} of 3 (best {seconds(f['best'])})", "1.00")
    if "check" in results:
        c = results["check"]
        row(f"`kiothc check`, {big:,} checks", f"{seconds(c['median'])} wall, median of 3 (best {seconds(c['best'])}); "
            f"max RSS {c['rss_kb'] / 1024:,.0f} MB", ratio(c["median"], fbig))
        ok = c["median"] <= 5 and c["median"] <= 2.5 * fbig["median"]
        target(f"`check`, {big:,} checks ≤ 5 s and ≤ 2.5× floor", ok, f"{seconds(c['median'])}, {ratio(c['median'], fbig)}×")
    if "serve" in results:
        s = results["serve"]
        for phase, label in (("fresh", "fresh data directory"), ("restart", "restart after a clean stop")):
            e = s[phase]
            if e["ready_s"] is None:
                figure = ("not measured: the fresh start never got ready" if e.get("skipped")
                          else f"not ready after {args.serve_timeout} s (killed"
                          + (f"; VmRSS then {e['rss_at_timeout_kb'] / 1024:,.0f} MB)" if e.get("rss_at_timeout_kb") else ")"))
                row(f"`serve` exec → `/-/ready` 200, {big:,} checks, {label}", figure)
                target(f"`serve` ready, {big:,} checks, {label} ≤ 5 s and ≤ 3× floor", False, figure)
                continue
            runs = ", ".join(f"{run:.3f}" for run in e["runs"])
            row(f"`serve` exec → `/-/ready` 200, {big:,} checks, {label}",
                f"median {seconds(e['ready_s'])} of {len(e['runs'])} ({runs} s); VmRSS {IDLE_SECONDS} s after the first ready {e['rss_kb'] / 1024:,.0f} MB (peak {e['hwm_kb'] / 1024:,.0f} MB); "
                f"clean stop {seconds(e['stop_s'])}", ratio(e["ready_s"], fbig))
            ok = e["ready_s"] <= 5 and e["ready_s"] <= 3 * fbig["median"]
            target(f"`serve` ready, {big:,} checks, {label} ≤ 5 s and ≤ 3× floor", ok,
                   f"{seconds(e['ready_s'])}, {ratio(e['ready_s'], fbig)}×")
        fresh = s["fresh"]
        if fresh["ready_s"] is not None:
            target(f"`serve` idle, {big:,} checks, VmRSS {IDLE_SECONDS} s after ready ≤ 1.5 GB", fresh["rss_kb"] <= 1.5 * 1024 * 1024,
                   f"{fresh['rss_kb'] / 1024:,.0f} MB")
        else:
            target(f"`serve` idle, {big:,} checks, VmRSS {IDLE_SECONDS} s after ready ≤ 1.5 GB", False, "never ready")
    small = results.get("small")
    if small:
        row(f"`serve` exec → `/-/ready` 200, {SMALL:,} checks with ping keys, fresh (`--durability write`; setup)",
            f"{seconds(small['ready_s'])}; then {PINGED:,} pings in {small['pings_s']:.1f} s", ratio(small["ready_s"], fsmall))
        if "metrics" in small:
            m = small["metrics"]
            row(f"`GET /metrics` (admin token), {SMALL:,} checks", f"{seconds(m['median'])} median of 3 (max {seconds(m['max'])}); "
                f"{m['bytes'] / 1e6:.1f} MB", ratio(m["median"], fsmall))
            target(f"`/metrics`, {SMALL:,} checks ≤ 1 s", m["median"] <= 1, f"{seconds(m['median'])}, {m['bytes'] / 1e6:.1f} MB")
        if "reload" in small:
            r = small["reload"]
            row(f"reload, one check renamed in one of 100 files ({SMALL:,} checks; rename → new slug answers)",
                f"median {r['median'] * 1000:,.0f} ms of {len(r['delays'])} (min {r['best'] * 1000:,.0f}, max {r['max'] * 1000:,.0f})",
                ratio(r["median"], fsmall))
            target(f"reload of one file, {SMALL:,} checks ≤ 1 s (median)", r["median"] <= 1, f"{r['median'] * 1000:,.0f} ms (max {r['max'] * 1000:,.0f})")
        if "status" in small:
            for fmt, label in (("table", "table"), ("json", "`--format json`")):
                st = small["status"][fmt]
                row(f"`kiothc status`, {label}, {SMALL:,} checks, {PINGED:,} pinged",
                    f"{seconds(st['median'])} median of 3 (best {seconds(st['best'])}); max RSS {st['rss_kb'] / 1024:,.0f} MB",
                    ratio(st["median"], fsmall))
                target(f"`status` ({fmt}), {SMALL:,} checks ≤ 2 s", st["median"] <= 2, seconds(st["median"]))
    if "flips" in results:
        fl = results["flips"]
        rss = fl["rss_kb"]
        row(f"flip delay: {args.flip_checks:,} checks' down deadlines within 60 s, a webhook channel each",
            f"{fl['flipped']:,} flipped; per-check lag p50 {fl['p50']} / p99 {fl['p99']} / max {fl['max_ms']} ms, "
            f"{fl['late']:,} later than 1 s; alerts queued {fl['queued']:,}, delivered {fl['delivered']:,} "
            f"(waited {fl['alerts_waited']} s after the flips); listening after {fl['listening_s']:.1f} s"
            + (f", RSS {rss[0] / 1024:,.0f} → {rss[-1] / 1024:,.0f} MB" if len(rss) >= 2 else ""))
        ok = fl["flipped"] == args.flip_checks and fl["late"] == 0 and fl["max_ms"] is not None and fl["max_ms"] <= 1000 \
            and fl["queued"] >= fl["flipped"]
        target(f"{args.flip_checks:,} flips within 1 s of their deadlines (max lag), alerts queued", ok,
               f"{fl['flipped']:,} flipped, max {fl['max_ms']} ms, {fl['late']:,} late; {fl['queued']:,} alerts queued")

    out = []
    p = out.append
    p(f"fleet benchmark, {facts['date']}: {facts['cores']} cores ({facts['cpu']}), load average {facts['load_before']} "
      f"before, {facts['load_after']} after (min–max seen {facts['load_min']:.2f}–{facts['load_max']:.2f}); "
      f"harness commit {facts['commit']}; binary: {facts['version']}" + ("; QUICK (1,000,000-check rows on 100,000)" if args.quick else ""))
    p("")
    p("| measurement | figure | × floor |")
    p("|---|---|---:|")
    out += rows
    p("")
    p("| target (issue 25) | result | measured |")
    p("|---|---|---|")
    for name, ok, figure in targets:
        p(f"| {name} | {'PASS' if ok else 'MISS'} | {figure} |")
    missed = sum(1 for _, ok, _ in targets if not ok)
    p("")
    p(f"targets: {len(targets) - missed} PASS, {missed} MISS" + (" (quick mode: indicative only)" if args.quick else ""))
    for part, error in failures:
        brief = " ".join(error.split())
        p(f"FAILED ({part}), not measured: {brief[:300]}{'…' if len(brief) > 300 else ''}")
    return "\n".join(out), missed


def machine_facts(args):
    def git(*argv):
        done = subprocess.run(["git", "-C", HERE, *argv], capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else "?"

    try:
        version = subprocess.run([args.kiothc, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
        version = version.splitlines()[0] if version else ""
    except (OSError, subprocess.TimeoutExpired):
        version = ""
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "cores": os.cpu_count(), "cpu": cpu,
            "commit": git("rev-parse", "--short", "HEAD") + (" (dirty)" if git("status", "--porcelain", "--untracked-files=no") else ""),
            "version": f"{args.kiothc} ({version or 'no --version'})"}


def clean_up(work, keep):
    """Stops what the run started and removes its work directory (kept with --keep)."""
    end_processes()
    if keep:
        log(f"== kept {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)


def end_processes():
    """Every process still running that the harness started: SIGTERM, then SIGKILL after 30 s."""
    for process in list(RUNNING):
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        forget(process)


def loadavg_text():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


class Parser(argparse.ArgumentParser):
    def error(self, message):
        """A usage error exits 64 (2 is a MISS under --strict)."""
        self.print_usage(sys.stderr)
        self.exit(64, f"{self.prog}: error: {message}\n")


def main():
    parser = Parser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kiothc", required=True, help="the kiothc binary (a release build)")
    parser.add_argument("--only", help="comma-separated parts: " + ", ".join(PARTS))
    parser.add_argument("--quick", action="store_true", help="the 1,000,000-check rows on 100,000 checks")
    parser.add_argument("--markdown", help="also write the report to this file")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir and say where it is")
    parser.add_argument("--strict", action="store_true", help="exit 2 when a target is missed")
    parser.add_argument("--serve-timeout", type=int, default=600, help="seconds a server gets to be ready (600)")
    parser.add_argument("--serve-rounds", type=int, default=3, help="rounds of a fresh start then a restart, for serve (3)")
    parser.add_argument("--flip-start", type=int, default=150,
                        help="flip-delay.sh --start: seconds from its generation to the first deadline (150)")
    parser.add_argument("--flip-checks", type=int, default=SMALL,
                        help="checks in the flip-delay part (100,000; fewer only to try the harness)")
    args = parser.parse_args()
    parts = PARTS if not args.only else [part.strip() for part in args.only.split(",") if part.strip()]
    unknown = [part for part in parts if part not in PARTS]
    if unknown or not parts:
        parser.error(f"--only: unknown part {', '.join(unknown) or '(none)'}; choose from {', '.join(PARTS)}")
    if not os.access(args.kiothc, os.X_OK):
        raise BenchError(f"{args.kiothc} is not executable")
    args.kiothc = os.path.abspath(args.kiothc)
    if args.serve_timeout < 1 or args.serve_rounds < 1 or args.flip_start < 1 or args.flip_checks < 1:
        parser.error("--serve-timeout, --flip-start and --flip-checks must be positive")

    facts = machine_facts(args)
    facts["load_before"] = loadavg_text()
    loads = [load_average()]
    work = tempfile.mkdtemp(prefix="kiothc-fleet-", dir=os.environ.get("KIOTHC_BENCH_DIR"))
    try:
        log(f"== work dir {work}; load average {facts['load_before']}; {facts['version']}")
        big = SMALL if args.quick else BIG
        need_big = any(part in parts for part in ("check", "serve"))
        need_small = args.quick and need_big or any(part in parts for part in ("status", "reload", "metrics"))
        configs, floors, results = {}, {}, {}
        floor_binary = build_floor(work) if (need_big or need_small) else None
        for checks, needed in ((SMALL, need_small), (big, need_big)):
            if needed and checks not in configs:
                configs[checks] = generate(work, checks)
                log(f"== floor: yaml-floor over {checks:,} checks, 3 runs")
                floors[checks] = measure_floor(work, floor_binary, configs[checks], checks)
                loads.append(load_average())
        steps = [("check", ["check"], lambda: part_check(args, work, configs[big], big)),
                 ("serve", ["serve"], lambda: part_serve(args, work, configs[big], big)),
                 ("small", ["status", "reload", "metrics"], lambda: part_small_server(args, work, configs[SMALL], parts)),
                 ("flips", ["flips"], lambda: part_flips(args, work))]
        failures = []
        for name, covers, step in steps:
            if not any(part in parts for part in covers):
                continue
            # A failed part is reported and the others still run: the figures measured stay.
            try:
                results[name] = step()
            except BenchError as error:
                log(f"fleet: FAILED ({'/'.join(c for c in covers if c in parts)}): {error}")
                failures.append(("/".join(c for c in covers if c in parts), str(error)))
                end_processes()
            loads.append(load_average())
        facts["load_after"] = loadavg_text()
        facts["load_min"], facts["load_max"] = min(loads), max(loads)
        text, missed = report(args, facts, floors, results, failures)
        emit(text, args.markdown)
        if failures:
            return 1
        return 2 if (missed and args.strict) else 0
    finally:
        clean_up(work, args.keep)


if __name__ == "__main__":
    run_main("fleet", main)
