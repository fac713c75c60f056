#!/usr/bin/env python3
"""The benchmark of SPEC §9 (issue 8); run it through scripts/bench/run.sh, which builds.

Ping throughput and latency of `kiothc serve` beside a bare Hummingbird route answering "OK"
(kiothc-bare-route), measured in the same run with the same wrk requests, for five scenarios in
both durability modes; then config load time (scripts/bench/config-load.sh), reload latency
(scripts/bench/reload-delay.py), startup with 10,000 checks and 1,000,000 stored pings, and
resident memory. Prints one table and PASS/MISS per target of SPEC §9.

Exit status: 0 when every measurement ran (targets may MISS: see the summary; --strict makes a
MISS exit 2), 1 when a measurement failed (a non-2xx answer, a server that did not start or did
not stop, a store that acknowledged fewer pings than wrk counted, a helper script that failed).
"""
import argparse, json, os, re, shutil, signal, statistics, subprocess, sys, tempfile, threading, time

HERE = os.path.dirname(os.path.abspath(__file__))
PING_KEY = "bench-ping-key-0001"
SCENARIOS = [
    # name, config, wrk mode, path kind, description
    ("get-1", "one", "get", "uuid", "GET /ping/<uuid>, one check"),
    ("get-1000", "thousand", "get", "uuid", "GET /ping/<uuid>, spread over 1,000 checks"),
    ("post-1k", "thousand", "post", "uuid", "POST /ping/<uuid>, 1 KB body, 1,000 checks"),
    ("slug", "thousand", "get", "slug", "GET /ping/<ping-key>/<slug>, 1,000 checks"),
    ("start+success", "thousand", "pair", "uuid", "GET /start?rid=R then /?rid=R, 1,000 checks"),
]
MODES = ["write", "fsync"]


class BenchError(Exception):
    pass


def log(message):
    print(message, file=sys.stderr, flush=True)


def proc_status(pid, field):
    """VmRSS / VmHWM of a process, in kB; None once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def proc_cpu_seconds(pid):
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return None


def load_average():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


RUNNING = []  # every server started, killed on the way out if still running


class Server:
    """A server process that prints "serving pings at URL" once it listens."""

    def __init__(self, argv, log_path, name):
        self.argv, self.log_path, self.name = argv, log_path, name
        self.process = None
        self.url = None

    def start(self, timeout=120):
        self.log = open(self.log_path, "w+")
        begin = time.monotonic()
        # The server writes through its own O_APPEND descriptor: sharing `self.log`'s offset,
        # its lines landed wherever our last seek(0) had left it, overwriting earlier ones
        # ("serving pings at" among them, so a healthy server seemed not to start).
        with open(self.log_path, "ab") as output:
            self.process = subprocess.Popen(self.argv, stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        RUNNING.append(self)
        deadline = begin + timeout
        while time.monotonic() < deadline:
            self.log.seek(0)
            found = re.search(r"serving pings at (\S+)", self.log.read())
            if found:
                self.url = found.group(1)
                self.startup_s = time.monotonic() - begin
                self.startup_cpu_s = proc_cpu_seconds(self.process.pid)
                return self
            if self.process.poll() is not None:
                break
            time.sleep(0.005)
        self.log.seek(0)
        tail = self.log.read()[-3000:]
        self.kill()
        raise BenchError(f"{self.name} did not start within {timeout} s (exit {self.process.returncode}); log tail:\n{tail}")

    def rss_kb(self):
        return proc_status(self.process.pid, "VmRSS")

    def stop(self, timeout=60):
        """SIGTERM, wait; returns the log. A server that does not stop is an error."""
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise BenchError(f"{self.name} did not stop within {timeout} s of SIGTERM")
        self.log.seek(0)
        text = self.log.read()
        self.log.close()
        if self.process.returncode != 0:
            raise BenchError(f"{self.name} exited {self.process.returncode} after SIGTERM; log tail:\n{text[-3000:]}")
        return text

    def kill(self):
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


# --- configs -----------------------------------------------------------------------------

def write_config(directory, checks, files=1, mixed=False):
    """`checks` checks named "Check N" (slug check-N) in project bench with a literal ping key.
    mixed: a realistic mix of timeout, cron and OnCalendar schedules with time zones."""
    os.makedirs(directory)
    crons = ["*/5 * * * *", "0 3 * * *", "15 2 * * 1-5", "0 */6 * * *", "45 23 L * *"]
    calendars = ["daily", "Mon..Fri *-*-* 09:00:00", "*:0/15", "*-*-* 02:30:00 Europe/Riga"]
    zones = ["UTC", "Europe/Riga", "America/New_York", "Asia/Tokyo"]
    per_file = (checks + files - 1) // files
    k = 0
    for f in range(files):
        lines = []
        if f == 0:
            lines += ["projects:", "  bench:", f"    ping_key: {PING_KEY}", "    defaults: {grace: 30m}"]
        lines += ["project: bench", "checks:"]
        for _ in range(min(per_file, checks - k)):
            if not mixed or k % 3 == 0:
                settings = f"timeout: {1 + k % 24}h"
            elif k % 3 == 1:
                settings = f'schedule: "{crons[k % len(crons)]}", tz: {zones[k % len(zones)]}'
            else:
                settings = f'schedule: "{calendars[k % len(calendars)]}"'
            lines.append(f"  job-{k}: {{name: Check {k}, {settings}, tags: [bench]}}")
            k += 1
        with open(os.path.join(directory, f"checks-{f:03d}.yaml"), "w") as out:
            out.write("\n".join(lines) + "\n")


def registry(data):
    """(uuid, slug) of every check of a data directory, in key order."""
    with open(os.path.join(data, "registry.json")) as f:
        checks = json.load(f)["checks"]
    result = []
    for check in checks:
        index = int(check["key"].split("-")[1])
        result.append((index, check["uuid"], f"check-{index}"))
    return [(uuid, slug) for _, uuid, slug in sorted(result)]


# --- the ping scenarios ------------------------------------------------------------------

def run_wrk(args, url, mode, paths_file, seconds):
    command = ["wrk", "-t", str(args.threads), "-c", str(args.connections), "-d", f"{seconds}s", "--timeout", "5s",
               "-s", os.path.join(HERE, "wrk", "pings.lua"), url, "--", mode, paths_file]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    found = re.search(r"^RESULT (\{.*\})$", done.stdout, re.M)
    if done.returncode != 0 or not found:
        raise BenchError(f"wrk failed (exit {done.returncode}): {done.stdout[-2000:]} {done.stderr[-2000:]}")
    result = json.loads(found.group(1))
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    result["non2xx"] = result["status"]
    result["socket_errors"] = result["connect"] + result["read"] + result["write"] + result["timeout"]
    return result


def measure(args, server, mode, paths_file, label):
    """Warm-up, then the measured run; samples the server's RSS meanwhile. Fails on any
    non-2xx answer or socket error."""
    warm = run_wrk(args, server.url, mode, paths_file, args.warmup)
    peak = [server.rss_kb() or 0]
    stop = threading.Event()

    def sample():
        while not stop.wait(0.25):
            peak[0] = max(peak[0], server.rss_kb() or 0)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    load_before = load_average()
    try:
        result = run_wrk(args, server.url, mode, paths_file, args.duration)
    finally:
        stop.set()
        sampler.join()
    result["rss_kb"] = peak[0]
    result["load"] = (load_before + load_average()) / 2
    result["answered"] = warm["requests"] + result["requests"]
    for name, r in (("warm-up", warm), ("run", result)):
        if r["non2xx"] or r["socket_errors"]:
            raise BenchError(f"{label} ({name}): {r['non2xx']} non-2xx answers, {r['socket_errors']} socket errors "
                             f"(connect {r['connect']}, read {r['read']}, write {r['write']}, timeout {r['timeout']}) "
                             f"in {r['requests']} requests; see {server.log_path}")
    return result


def measure_and_stop(args, server, mode, paths_file, label):
    """`measure`, then a clean stop (its log text returned too); killed if the measurement fails."""
    try:
        result = measure(args, server, mode, paths_file, label)
    except BaseException:
        server.kill()
        raise
    return result, server.stop()


def measure_bare(args, work, mode, paths_file, label):
    server = Server([args.bare, "127.0.0.1:0"], os.path.join(work, "bare.log"), "kiothc-bare-route").start()
    return measure_and_stop(args, server, mode, paths_file, label)[0]


def measure_kiothc(args, work, template, durability, mode, paths_file, label):
    data = tempfile.mkdtemp(prefix=f"data-{durability}-", dir=work)
    # A fresh data directory; the registry is copied so the URLs are known in advance.
    shutil.copy(os.path.join(template["data"], "registry.json"), data)
    log_path = os.path.join(work, f"kiothc-{durability}.log")
    server = Server([args.kiothc, "serve", "--config", template["config"], "--data", data,
                     "--listen", "127.0.0.1:0", "--durability", durability], log_path, "kiothc serve").start()
    result, text = measure_and_stop(args, server, mode, paths_file, label)
    stored = re.search(r"pings_stored=(\d+)", text)
    if not stored:
        raise BenchError(f"{label}: no 'pings_stored' in the stop log of {log_path}")
    # An ack means stored: the store must hold at least every ping wrk saw answered.
    if int(stored.group(1)) < result["answered"]:
        raise BenchError(f"{label}: the store acknowledged {stored.group(1)} records, wrk counted "
                         f"{result['answered']} 200s")
    result["stored"] = int(stored.group(1))
    # fsync mode: the disk's slowest flush in the run, which every ping of its batch waited for
    # (wrk's p99 corrects for coordinated omission: one stall puts p99 near it).
    sync = re.search(r"slowest_journal_sync_ms=([0-9.]+)", text)
    result["slowest_sync_ms"] = float(sync.group(1)) if sync else None
    shutil.rmtree(data)
    return result


def ping_scenarios(args, work, templates):
    rows = []
    for index, (name, config, mode, kind, _) in enumerate(SCENARIOS):
        checks = templates[config]["checks"]
        paths_file = os.path.join(work, f"paths-{name}.txt")
        with open(paths_file, "w") as f:
            for uuid, slug in checks:
                f.write(f"/ping/{PING_KEY}/{slug}\n" if kind == "slug" else f"/ping/{uuid}\n")
        for durability in args.modes:
            rounds = []
            for round_index in range(args.rounds):
                # Which server runs first alternates from row to row and from round to round.
                first_bare = (index + MODES.index(durability) + round_index) % 2 == 0
                pair = {}
                for which in (["bare", "kiothc"] if first_bare else ["kiothc", "bare"]):
                    label = f"{name} {durability} {which}" + (f" (round {round_index + 1})" if args.rounds > 1 else "")
                    log(f"== {label}")
                    if which == "bare":
                        pair["bare"] = measure_bare(args, work, mode, paths_file, label)
                    else:
                        pair["kiothc"] = measure_kiothc(args, work, templates[config], durability, mode, paths_file, label)
                pair["ratio"] = pair["kiothc"]["rps"] / pair["bare"]["rps"]
                sync = pair["kiothc"]["slowest_sync_ms"]
                log(f"   kiothc {pair['kiothc']['rps']:.0f}/s p99 {pair['kiothc']['p99_us'] / 1000:.2f} ms"
                    + ("" if sync is None else f" (slowest fdatasync {sync:.2f} ms)") + ", "
                    f"bare {pair['bare']['rps']:.0f}/s p99 {pair['bare']['p99_us'] / 1000:.2f} ms, ratio {pair['ratio']:.2f}")
                rounds.append(pair)
            # The row shows the round with the median ratio (its own kiothc and bare figures, so
            # they stay consistent), the spread of all rounds, and the worst p99 of any round.
            rounds.sort(key=lambda pair: pair["ratio"])
            row = dict(rounds[(len(rounds) - 1) // 2], scenario=name, durability=durability)
            row["ratios"] = [pair["ratio"] for pair in rounds]
            worst = max(rounds, key=lambda pair: pair["kiothc"]["p99_us"])
            row["worst_p99_us"] = worst["kiothc"]["p99_us"]
            row["worst_p99_sync_ms"] = worst["kiothc"]["slowest_sync_ms"]
            rows.append(row)
    return rows


# --- startup, memory ---------------------------------------------------------------------

def write_pings(data, checks, per_check):
    """per_check valid schema-1 lines per check (docs/storage.md), as the store's own
    benchmark writes them: start/success pairs with a rid, every tenth with a body."""
    now_us = int(time.time() * 1e6)
    rid = "6f9619ff-8b86-4011-b42d-00c04fc964ff"
    os.makedirs(os.path.join(data, "pings"), exist_ok=True)
    for uuid, _ in checks:
        lines = []
        for n in range(1, per_check + 1):
            at = now_us - (per_check - n) * 60_000_000
            kind = "start" if n % 2 == 1 else "success"
            line = (f'{{"v":1,"n":{n},"time_us":{at},"kind":"{kind}","method":"GET","scheme":"http",'
                    f'"remote_addr":"192.0.2.1","ua":"curl/8.5.0","body_size":{21 if n % 10 == 0 else 0},"rid":"{rid}"')
            if kind == "success":
                line += ',"duration_us":1000000'
            if n % 10 == 0:
                line += ',"body":"backup done, 42 files"'
            lines.append(line + "}\n")
        with open(os.path.join(data, "pings", f"{uuid}.jsonl"), "w") as f:
            f.writelines(lines)


def idle_rss(args, config, data, label, settle=1.0):
    server = Server([args.kiothc, "serve", "--config", config, "--data", data, "--listen", "127.0.0.1:0",
                     "--durability", "write"], os.path.join(os.path.dirname(data), f"{label}.log"), "kiothc serve").start()
    try:
        time.sleep(settle)
        rss = server.rss_kb()
    except BaseException:
        server.kill()
        raise
    server.stop()
    return server, rss


def startup_and_memory(args, work, templates):
    out = {}
    # Idle memory: the same server with 1 and with 10,000 checks, no pings.
    _, rss1 = idle_rss(args, templates["one"]["config"], os.path.join(work, "idle-1"), "idle-1")
    _, rss10k = idle_rss(args, templates["tenk"]["config"], os.path.join(work, "idle-10k"), "idle-10k")
    out["rss_idle_1_kb"], out["rss_idle_10k_kb"] = rss1, rss10k
    out["bytes_per_idle_check"] = (rss10k - rss1) * 1024 / 9_999
    # Startup with 10,000 checks and N stored pings: the registry of a first start, then
    # per_check lines per check written as the store writes them.
    data = os.path.join(work, "startup")
    first, _ = idle_rss(args, templates["tenk"]["config"], data, "startup-first", settle=0.2)
    checks = registry(data)
    if len(checks) != 10_000:
        raise BenchError(f"the 10,000-check config produced {len(checks)} registry entries")
    log(f"== writing {args.stored_pings // 10_000} pings for each of 10,000 checks")
    write_pings(data, checks, args.stored_pings // 10_000)
    runs = []
    for run in range(args.startup_runs + 1):
        crashed = run == args.startup_runs
        if crashed:
            # As after kill -9: no clean-shutdown marker, so every file is checked for a torn line.
            marker = os.path.join(data, "clean-shutdown")
            if os.path.exists(marker):
                os.remove(marker)
        server = Server([args.kiothc, "serve", "--config", templates["tenk"]["config"], "--data", data, "--listen",
                         "127.0.0.1:0", "--durability", "fsync"], os.path.join(work, f"startup-{run}.log"), "kiothc serve").start()
        time.sleep(1.0)
        rss = server.rss_kb()
        server.stop()
        runs.append({"wall": server.startup_s, "cpu": server.startup_cpu_s, "rss_kb": rss, "crashed": crashed})
        log(f"   startup {'after a crash' if crashed else 'after a clean stop'}: {server.startup_s:.3f} s wall, "
            f"{server.startup_cpu_s:.3f} s CPU, idle RSS {rss / 1024:.1f} MB")
    clean = [r for r in runs if not r["crashed"]]
    out["startup"] = {
        "pings": len(checks) * (args.stored_pings // 10_000),
        "median_wall": statistics.median(r["wall"] for r in clean),
        "max_wall": max(r["wall"] for r in clean),
        "median_cpu": statistics.median(r["cpu"] for r in clean),
        "crash_wall": runs[-1]["wall"], "crash_cpu": runs[-1]["cpu"],
        "rss_kb": statistics.median(r["rss_kb"] for r in clean),
    }
    shutil.rmtree(data)
    return out


# --- the helper scripts ------------------------------------------------------------------

def config_load(args):
    command = [os.path.join(HERE, "config-load.sh"), "--kiothc", args.kiothc, "--runs", str(args.config_runs)]
    log("== " + " ".join(command))
    done = subprocess.run(command, capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        raise BenchError(f"config-load.sh failed (exit {done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    lines = [line for line in done.stdout.splitlines() if re.match(r"^(10k|100k) ", line)]
    means = {}
    for line in lines:
        found = re.match(r"^(10k|100k)\s+\d+\s+([\d.]+) ± ([\d.]+) \(min ([\d.]+); CPU user\+sys ([\d.]+)\)\s+([\d.]+)", line)
        if not found:
            raise BenchError(f"config-load.sh: cannot read '{line}'")
        means[found.group(1)] = {"wall": float(found.group(2)), "sd": float(found.group(3)), "min": float(found.group(4)),
                                 "cpu": float(found.group(5)), "rss_mb": float(found.group(6))}
    if set(means) != {"10k", "100k"}:
        raise BenchError("config-load.sh printed no figures:\n" + done.stdout[-2000:])
    return means


def reload_delay(args, checks, rounds):
    command = [sys.executable, os.path.join(HERE, "reload-delay.py"), "--binary", args.kiothc, "--rounds", str(rounds),
               "--checks", str(checks)]
    log("== " + " ".join(command[1:]))
    done = subprocess.run(command, capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        raise BenchError(f"reload-delay.py failed (exit {done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    result = {}
    for line in done.stdout.splitlines():
        found = re.match(r"^(inotify|poll only \(--reload-poll 1\))\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)$", line)
        if found:
            result[found.group(1).split()[0]] = [int(found.group(i)) for i in range(2, 6)]
    if set(result) != {"inotify", "poll"}:
        raise BenchError("reload-delay.py printed no figures:\n" + done.stdout)
    return result


# --- report ------------------------------------------------------------------------------

def verdict(ok):
    return "PASS" if ok else "MISS"


def ping_table(args, rows):
    out = []
    p = out.append
    p("")
    p(f"ping throughput: wrk {args.threads} threads, {args.connections} connections, {args.warmup} s warm-up + "
      f"{args.duration} s per run, loopback; bare = kiothc-bare-route in the same run, beside each kiothc run"
      + (f"; {args.rounds} rounds per row, the round with the median ratio shown, all rounds' ratios in the last column" if args.rounds > 1 else ""))
    p("")
    rounds = "| ratios of the rounds " if args.rounds > 1 else ""
    p("| scenario | durability | kiothc pings/s | p50 ms | p99 ms | slowest fdatasync ms | bare req/s | bare p50 ms | bare p99 ms | ratio | kiothc peak RSS MB | load " + rounds + "|")
    p("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|" + ("---|" if args.rounds > 1 else ""))
    for row in rows:
        k, b = row["kiothc"], row["bare"]
        sync = "—" if k["slowest_sync_ms"] is None else f"{k['slowest_sync_ms']:.2f}"
        p(f"| {row['scenario']} | {row['durability']} | {k['rps']:,.0f} | {k['p50_us'] / 1000:.2f} | {k['p99_us'] / 1000:.2f} | {sync} | "
          f"{b['rps']:,.0f} | {b['p50_us'] / 1000:.2f} | {b['p99_us'] / 1000:.2f} | {row['ratio']:.2f} | "
          f"{k['rss_kb'] / 1024:.1f} | {k['load']:.1f} |"
          + (" " + ", ".join(f"{ratio:.2f}" for ratio in row["ratios"]) + " |" if args.rounds > 1 else ""))
    return out


def report(args, rows, memory, config, reloads, loads):
    out = ping_table(args, rows)
    p = out.append
    p("")
    p("| measurement | figure |")
    p("|---|---|")
    p(f"| config load, 10,000 checks (`kiothc check`, hyperfine) | {config['10k']['wall']:.3f} s wall mean (min {config['10k']['min']:.3f}; CPU {config['10k']['cpu']:.3f} s); max RSS {config['10k']['rss_mb']:.1f} MB |")
    p(f"| config load, 100,000 checks | {config['100k']['wall']:.3f} s wall mean (min {config['100k']['min']:.3f}; CPU {config['100k']['cpu']:.3f} s); max RSS {config['100k']['rss_mb']:.1f} MB |")
    for checks, result in reloads:
        for trigger, (lo, median, p90, hi) in result.items():
            p(f"| reload delay, {checks:,} checks, {trigger} (rename → new slug answers) | median {median} ms, p90 {p90} ms (min {lo}, max {hi}) |")
    s = memory["startup"]
    p(f"| startup, 10,000 checks, {s['pings']:,} stored pings, after a clean stop (to 'serving pings at') | {s['median_wall']:.3f} s wall median of {args.startup_runs} (max {s['max_wall']:.3f}); CPU {s['median_cpu']:.3f} s |")
    p(f"| startup, same, after a crash (no clean-shutdown marker: torn-line scan) | {s['crash_wall']:.3f} s wall; CPU {s['crash_cpu']:.3f} s |")
    p(f"| RSS idle, 1 check | {memory['rss_idle_1_kb'] / 1024:.1f} MB |")
    p(f"| RSS idle, 10,000 checks, no pings | {memory['rss_idle_10k_kb'] / 1024:.1f} MB → {memory['bytes_per_idle_check']:,.0f} bytes per idle check |")
    p(f"| RSS idle, 10,000 checks, {s['pings']:,} stored pings (after startup) | {s['rss_kb'] / 1024:.1f} MB |")
    peak = max(rows, key=lambda r: r["kiothc"]["rss_kb"])
    p(f"| RSS under load, peak | {peak['kiothc']['rss_kb'] / 1024:.1f} MB ({peak['scenario']}, {peak['durability']}) |")
    p(f"| load average during the run | {min(loads):.1f} – {max(loads):.1f} on {os.cpu_count()} cores |")
    p("")
    targets = []
    for row in rows:
        if row["durability"] == "write":
            targets.append((f"ratio ≥ 0.8, write, {row['scenario']}", row["ratio"] >= 0.8, f"{row['ratio']:.2f}"))
        elif row["scenario"] != "get-1":
            targets.append((f"ratio ≥ 0.6, fsync, {row['scenario']}", row["ratio"] >= 0.6, f"{row['ratio']:.2f}"))
    for durability in args.modes:
        worst = max((r for r in rows if r["durability"] == durability), key=lambda r: r["worst_p99_us"])
        disk = "" if worst["worst_p99_sync_ms"] is None else f"; that run's slowest journal fdatasync {worst['worst_p99_sync_ms']:.2f} ms"
        targets.append((f"p99 ≤ 5 ms at 32 connections, every kiothc run, {durability}", worst["worst_p99_us"] <= 5000,
                        f"worst {worst['worst_p99_us'] / 1000:.2f} ms ({worst['scenario']}){disk}"))
    targets.append(("config load, 10,000 checks ≤ 0.5 s (wall mean)", config["10k"]["wall"] <= 0.5,
                    f"{config['10k']['wall']:.3f} s (CPU {config['10k']['cpu']:.3f} s)"))
    targets.append((f"startup ≤ 2 s, 10,000 checks, {s['pings']:,} pings (wall median)", s["median_wall"] <= 2.0,
                    f"{s['median_wall']:.3f} s (CPU {s['median_cpu']:.3f} s)"))
    targets.append(("≤ 2 KB per idle check", memory["bytes_per_idle_check"] <= 2048, f"{memory['bytes_per_idle_check']:,.0f} bytes"))
    if not args.quick:
        targets.append(("reload live within 1 s (inotify, max)", all(r["inotify"][3] <= 1000 for _, r in reloads),
                        ", ".join(f"{c:,} checks: {r['inotify'][3]} ms" for c, r in reloads)))
    p("| target (SPEC §9) | result | measured |")
    p("|---|---|---|")
    for name, ok, figure in targets:
        p(f"| {name} | {verdict(ok)} | {figure} |")
    missed = sum(1 for _, ok, _ in targets if not ok)
    p("")
    p(f"targets: {len(targets) - missed} PASS, {missed} MISS" + (" (quick mode: indicative only)" if args.quick else ""))
    return "\n".join(out), missed


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kiothc", required=True)
    parser.add_argument("--bare", required=True)
    parser.add_argument("--quick", action="store_true", help="a few seconds per scenario; smaller startup data set")
    parser.add_argument("--duration", type=int)
    parser.add_argument("--warmup", type=int)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--durability", choices=MODES + ["both"], default="both",
                        help="measure the ping rows of this durability mode only (with --only pings)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="measure each ping row this many times (alternating which server runs first) and show "
                             "the round with the median ratio; 3 tames a noisy machine")
    parser.add_argument("--only", choices=["pings", "all"], default="all", help="pings: only the wrk scenarios")
    parser.add_argument("--strict", action="store_true", help="exit 2 when a target is missed")
    parser.add_argument("--markdown", help="also write the report to this file")
    args = parser.parse_args()
    args.duration = args.duration or (3 if args.quick else 10)
    args.warmup = args.warmup or (1 if args.quick else 2)
    args.stored_pings = 100_000 if args.quick else 1_000_000
    args.startup_runs = 1 if args.quick else 3
    if args.rounds < 1:
        raise BenchError("--rounds must be at least 1")
    args.modes = MODES if args.durability == "both" else [args.durability]
    if args.durability != "both" and args.only != "pings":
        raise BenchError("--durability needs --only pings (the targets are judged on both modes)")
    args.config_runs = 2 if args.quick else 10
    for tool in (args.kiothc, args.bare):
        if not os.access(tool, os.X_OK):
            raise BenchError(f"{tool} is not executable")

    work = tempfile.mkdtemp(prefix="kiothc-bench-", dir=os.environ.get("KIOTHC_BENCH_DIR"))
    loads = [load_average()]
    try:
        log(f"== work dir {work}; load average {loads[0]:.1f}")
        templates = {}
        for name, checks, files, mixed in [("one", 1, 1, False), ("thousand", 1000, 10, False), ("tenk", 10_000, 100, True)]:
            config = os.path.join(work, f"config-{name}")
            write_config(config, checks, files, mixed)
            templates[name] = {"config": config}
        for name in ("one", "thousand"):
            data = os.path.join(work, f"template-{name}")
            idle_rss(args, templates[name]["config"], data, f"template-{name}", settle=0.1)
            templates[name].update(data=data, checks=registry(data))
        rows = ping_scenarios(args, work, templates)
        loads += [row[w]["load"] for row in rows for w in ("kiothc", "bare")]
        if args.only == "pings":
            text = "\n".join(ping_table(args, rows))
            emit(text, args.markdown)
            return 0
        memory = startup_and_memory(args, work, templates)
        loads.append(load_average())
        config = config_load(args)
        loads.append(load_average())
        reloads = [(1000, reload_delay(args, 1000, 5 if args.quick else 20))]
        if not args.quick:
            reloads.append((10_000, reload_delay(args, 10_000, 10)))
        loads.append(load_average())
        text, missed = report(args, rows, memory, config, reloads, loads)
        emit(text, args.markdown)
        return 2 if (missed and args.strict) else 0
    finally:
        for server in RUNNING:
            server.kill()
        shutil.rmtree(work, ignore_errors=True)


def emit(text, markdown):
    """Prints a benchmark's report, and writes it to the --markdown file when one is given."""
    print(text)
    if markdown:
        with open(markdown, "w") as f:
            f.write(text + "\n")


def run_main(name, main):
    """Runs a benchmark's main and exits with its status: SIGTERM (run.sh's trap, a CI timeout)
    unwinds through main's clean-up as SIGINT does; a BenchError is one line, exit 1."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        sys.exit(main())
    except BenchError as error:
        print(f"{name}: FAILED: {error}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print(f"{name}: interrupted", file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    run_main("bench", main)
