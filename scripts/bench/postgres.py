#!/usr/bin/env python3
"""The PostgreSQL rows of the benchmark (SPEC §9, §11; issue 20), all in one run so the figures
compare: durable pings/s and p50/p99 with wrk at 32 connections over 1,000 checks
(GET /ping/<ping-key>/<slug>, the same paths for every row) for

- the bare Hummingbird route (the baseline of every ping row),
- `kiothc serve` on the file store (--durability fsync),
- one `kiothc serve --store postgres://…` instance,
- two instances on the same database, each loaded by a wrk of 16 connections at once
  (their pings/s added; p50 the mean of the two, p99 the worse),

on a private PostgreSQL cluster (scripts/pg-cluster: fsync on, synchronous_commit on), beside
pgbench on the same cluster with 32 clients, each transaction one UPDATE of a check row and one
INSERT of a ping row: what PostgreSQL itself commits one ping per transaction (the ceiling
without batching). After each kiothc row the stored pings are counted: every 200 wrk saw must
be stored.

Usage: postgres.py --kiothc BIN --bare BIN [--duration S] [--warmup S] [--rounds N] [--markdown FILE]
(scripts/bench/run.sh --only postgres builds the binaries and runs it.)
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, ".."))
import bench  # noqa: E402
from bench import BenchError, Server, emit, log  # noqa: E402
import pgcluster  # noqa: E402

CHECKS = 1000


def paths_file(work):
    path = os.path.join(work, "paths.txt")
    with open(path, "w") as f:
        for k in range(CHECKS):
            f.write(f"/ping/{bench.PING_KEY}/check-{k}\n")
    return path


def wrk_args(args, connections):
    return argparse.Namespace(threads=max(1, min(args.threads, connections)), connections=connections)


def measure_servers(args, servers, paths, label):
    """wrk against each server at once (the connections split between them), after a warm-up;
    fails on any non-2xx answer or socket error."""
    per = args.connections // len(servers)
    results = [None] * len(servers)
    errors = []

    def run(index, seconds):
        try:
            results[index] = bench.run_wrk(wrk_args(args, per), servers[index].url, "get", paths, seconds)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    answered = 0
    for phase, seconds in (("warm-up", args.warmup), ("run", args.duration)):
        threads = [threading.Thread(target=run, args=(i, seconds)) for i in range(len(servers))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]
        for server, result in zip(servers, results):
            if result["non2xx"] or result["socket_errors"]:
                raise BenchError(f"{label} ({phase}): {result['non2xx']} non-2xx answers, {result['socket_errors']} socket errors "
                                 f"in {result['requests']} requests; see {server.log_path}")
            answered += result["requests"]
    return {
        "rps": sum(r["rps"] for r in results),
        "p50_us": statistics.mean(r["p50_us"] for r in results),
        "p99_us": max(r["p99_us"] for r in results),
        "answered": answered,
    }


def serve(args, work, name, config, extra):
    data = tempfile.mkdtemp(prefix=f"data-{name}-", dir=work)
    token = os.path.join(work, "admin-token")
    argv = [args.kiothc, "serve", "--config", config, "--data", data, "--listen", "127.0.0.1:0", "--durability", "fsync",
            "--admin-token-file", token, "--no-watch-config", "--reload-poll", "0"] + extra
    return Server(argv, os.path.join(work, f"{name}.log"), f"kiothc serve ({name})").start()


def kiothc_row(args, work, config, cluster, instances, label, database):
    url = cluster.create_database(database) if cluster else None
    extra = ["--store", url] if url else []
    servers = [serve(args, work, f"{label.replace(' ', '-')}-{i}", config, extra) for i in range(instances)]
    try:
        result = measure_servers(args, servers, paths_file(work), label)
    finally:
        texts = []
        for server in servers:
            try:
                texts.append(server.stop())
            except BenchError:
                server.kill()
                raise
    if cluster:
        stored = int(cluster.psql("SELECT count(*) FROM kiothc_pings", database=database).strip())
    else:
        stored = sum(int(m) for text in texts for m in bench.re.findall(r"pings_stored=(\d+)", text))
    if stored < result["answered"]:
        raise BenchError(f"{label}: {stored} pings stored, wrk counted {result['answered']} answered 200")
    result["stored"] = stored
    return result


def bare_row(args, work, label):
    server = Server([args.bare, "127.0.0.1:0"], os.path.join(work, "bare.log"), "kiothc-bare-route").start()
    try:
        return measure_servers(args, [server], paths_file(work), label)
    finally:
        server.stop()


def pgbench_row(args, cluster, work):
    """pgbench, 32 clients, one UPDATE + one INSERT per transaction over 1,000 check rows."""
    database = "pgbench_ceiling"
    cluster.create_database(database)
    cluster.psql("CREATE TABLE checks (id int PRIMARY KEY, n bigint NOT NULL DEFAULT 0, last_ping bigint);"
                 f"INSERT INTO checks (id) SELECT g FROM generate_series(1, {CHECKS}) g;"
                 "CREATE TABLE pings (check_id int NOT NULL, n bigint NOT NULL, time_us bigint NOT NULL, body text, PRIMARY KEY (check_id, n));",
                 database=database)
    script = os.path.join(work, "ping.sql")
    with open(script, "w") as f:
        f.write(f"\\set id random(1, {CHECKS})\n"
                "BEGIN;\n"
                "UPDATE checks SET n = n + 1, last_ping = (extract(epoch from clock_timestamp()) * 1000000)::bigint WHERE id = :id;\n"
                "INSERT INTO pings SELECT id, n, last_ping, 'curl/8.5.0' FROM checks WHERE id = :id;\n"
                "END;\n")
    pgbench = pgcluster.program("pgbench")
    if not pgbench:
        raise BenchError("pgbench is missing (Debian: apt-get install -y postgresql-contrib or postgresql-15)")
    command = [pgbench, "-h", cluster.directory, "-U", "postgres", "-n", "-c", str(args.connections), "-j", str(args.threads),
               "-T", str(args.duration), "-f", script, database]
    done = subprocess.run(command, capture_output=True, text=True, timeout=args.duration + 120)
    found = bench.re.search(r"tps = ([0-9.]+)", done.stdout)
    latency = bench.re.search(r"latency average = ([0-9.]+) ms", done.stdout)
    if done.returncode != 0 or not found:
        raise BenchError(f"pgbench failed (exit {done.returncode}): {done.stdout[-1500:]} {done.stderr[-1500:]}")
    return {"tps": float(found.group(1)), "latency_ms": float(latency.group(1)) if latency else None}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kiothc", required=True)
    parser.add_argument("--bare", required=True)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=1, help="every row this many times; the median pings/s is shown")
    parser.add_argument("--markdown", help="also write the table to this file")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="kiothc-bench-pg-", dir=os.environ.get("KIOTHC_BENCH_DIR"))
    os.chmod(work, 0o755)  # the cluster runs as the unprivileged postgres user when we are root
    try:
        config = os.path.join(work, "config")
        bench.write_config(config, CHECKS, files=10)
        with open(os.path.join(work, "admin-token"), "w") as f:
            f.write("bench-admin-token-0123456789abcdef\n")
        with pgcluster.PostgresCluster(os.path.join(work, "pg"), remove=True) as cluster:
            rows = {}
            for round_index in range(args.rounds):
                suffix = f" (round {round_index + 1})" if args.rounds > 1 else ""
                for name, run in [
                    ("bare route", lambda label: bare_row(args, work, label)),
                    ("file store, fsync", lambda label: kiothc_row(args, work, config, None, 1, label, None)),
                    ("PostgreSQL, 1 instance", lambda label: kiothc_row(args, work, config, cluster, 1, label, f"one_{round_index}")),
                    ("PostgreSQL, 2 instances", lambda label: kiothc_row(args, work, config, cluster, 2, label, f"two_{round_index}")),
                ]:
                    log(f"== {name}{suffix}")
                    result = run(name + suffix)
                    log(f"   {result['rps']:.0f}/s p50 {result['p50_us'] / 1000:.2f} ms p99 {result['p99_us'] / 1000:.2f} ms")
                    rows.setdefault(name, []).append(result)
            log("== pgbench, one UPDATE + INSERT per transaction")
            ceiling = pgbench_row(args, cluster, work)
            log(f"   {ceiling['tps']:.0f} transactions/s")
        bare = statistics.median(r["rps"] for r in rows["bare route"])
        lines = [
            f"| row ({args.connections} connections, {CHECKS:,} checks, GET by slug) | pings/s | × bare route | p50 ms | p99 ms |",
            "|---|---:|---:|---:|---:|",
        ]
        for name, results in rows.items():
            results.sort(key=lambda r: r["rps"])
            median = results[(len(results) - 1) // 2]
            lines.append(f"| {name} | {median['rps']:,.0f} | {median['rps'] / bare:.2f} | {median['p50_us'] / 1000:.2f} | "
                         f"{median['p99_us'] / 1000:.2f} |")
        average = "" if ceiling["latency_ms"] is None else f"avg {ceiling['latency_ms']:.2f}"
        lines.append(f"| pgbench ceiling: one UPDATE + INSERT per transaction, {args.connections} clients | {ceiling['tps']:,.0f} tx/s | "
                     f"{ceiling['tps'] / bare:.2f} | | {average} |")
        two = sorted(rows["PostgreSQL, 2 instances"], key=lambda r: r["rps"])[(args.rounds - 1) // 2]
        verdict = "PASS" if two["rps"] >= 5000 and two["p99_us"] <= 50_000 else "MISS"
        lines.append("")
        lines.append(f"Target (issue 20): ≥ 5,000 durable pings/s with two instances, p99 ≤ 50 ms: {verdict} "
                     f"({two['rps']:,.0f}/s, p99 {two['p99_us'] / 1000:.1f} ms).")
        text = "\n".join(lines)
        emit(text, args.markdown)
        return 0
    finally:
        for server in bench.RUNNING:
            server.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as error:
        print(f"postgres.py: {error}", file=sys.stderr)
        sys.exit(1)
