#!/usr/bin/env python3
"""Crash test of several instances on one PostgreSQL (SPEC §11, issue 20): kill9.py's mixed load
spread over 2 or 3 `kiothc serve --store postgres://…` instances on a private cluster
(scripts/pg-cluster), one instance killed with kill -9 each round (in turn) and started again.

Load: kill9.py's 16 threads and checks (f* flappy: success, fail, exit statuses, start+end pairs,
log, by UUID or ping key + slug, with unique bodies; q* quiet GET/HEAD), each ping sent to a
random live instance; one that gets no 200 (503, cut off by the kill) is not acknowledged.
After each round, from the database:
- every acknowledged ping is stored exactly once (matched on check, rid, kind and body), and
  every check's numbers run 1..n without gap or repeat (kiothc_pings);
- every check's flips are exactly the status changes its stored pings imply, in number order,
  each stored once (kiothc_flips), and its state row agrees (status, n_pings);
and at the end, with the survivors up until the alert queue drains:
- every notifying flip reached the webhook receiver and was mailed (kill9.py's SMTP server), none
  arrived for no flip, and none twice
  unless a kill fell between the flip and the repeat (at least once) — kill9.py's judgement;
- kill9.py's held alerts: m* checks pinged inside a maintenance window, d* checks depending on
  p0 (down throughout): none of their alerts is sent while held; once every instance reloads the
  window shortened to end now and p0 recovers, each sends one down alert if down, none if up —
  once, whichever instance settles it;
- --deadline: after the rounds, a check with `timeout: 1m, grace: 1m` is pinged through one
  instance, that instance is killed, and the down flip must be stored by a survivor within 2 s
  of its deadline (flips.time_us is the deadline; the script polls the database every 100 ms)
  and alerted once (about 2.5 minutes).

Usage: kill9-shared.py KIOTHC_BINARY [--instances 2|3] [--rounds N] [--seconds S] [--deadline]
Prints one line per round and 'crash-shared: N passed, M failed'; exit 1 on any failure. Without
PostgreSQL the group is skipped (exit 0; under CI=true a failure: scripts/skips.py). Leaves
nothing running.
"""
import argparse
import collections
import json
import os
import random
import shutil
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(HERE, "..", "compat"))
import kill9  # noqa: E402  (its load, receiver and alert judgement)
import pgcluster  # noqa: E402
import skips  # noqa: E402
from common import Server  # noqa: E402

DEADLINE_CHECK = "deadline"


def config(hook, deadline, email, window_end="2099-01-01T00:00:00Z"):
    text = kill9.config(hook, email, window_end=window_end)
    if deadline:
        text += f"  {DEADLINE_CHECK}: {{timeout: 1m, grace: 1m}}\n"
    return text


class Instances:
    """The servers, each with its own --data (nothing of the store is there) and a shared
    admin token file; `live()` the URLs of those running."""

    def __init__(self, binary, count, url, root, hook, deadline, mail):
        self.lock = threading.Lock()
        token = os.path.join(root, "admin-token")
        with open(token, "w") as f:
            f.write("crash-shared-admin-token-0123456789\n")
        self.servers, self.token, self.hook, self.deadline, self.email = [], "crash-shared-admin-token-0123456789", hook, deadline, mail is not None
        for index in range(count):
            instance_root = os.path.join(root, f"instance-{index}")
            os.makedirs(instance_root)
            self.servers.append(Server(binary, config=config(hook, deadline, mail is not None), root=instance_root,
                                       arguments=["--store", url, "--admin-token-file", token] + (mail.arguments() if mail else []),
                                       log_level="notice"))

    def live(self):
        with self.lock:
            return [s.url for s in self.servers if s.process.poll() is None]

    def kill(self, index):
        with self.lock:
            self.servers[index].kill()

    def restart(self, index):
        self.servers[index].restart()

    def end_window(self):
        """Every instance reloads its config with the m* checks' window ended a second ago."""
        text = config(self.hook, self.deadline, self.email, window_end=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 1)))
        for server in self.servers:
            with open(os.path.join(server.config, "checks.yaml"), "w") as f:
                f.write(text)
            status, answer = server.request("/-/reload", method="POST", headers={"Authorization": f"Bearer {self.token}"})
            if status != 200:
                raise RuntimeError(f"the reload that ends the window failed: {status} {answer[:300]}")

    def stop(self):
        for server in self.servers:
            if server.process.poll() is None:
                server.kill()


class SharedLoad(kill9.Load):
    """kill9.py's load, each ping to a random live instance."""

    def __init__(self, instances, checks):
        super().__init__(None, checks)
        self.instances = instances

    @property
    def base(self):
        live = self.instances.live()
        return random.choice(live) if live else "http://127.0.0.1:9"

    @base.setter
    def base(self, value):
        pass


def json_rows(cluster, database, sql):
    """The rows of a query that selects one JSON object each."""
    return [json.loads(line) for line in cluster.psql(sql, database=database).splitlines() if line]


def read_store(cluster, database, checks):
    """{uuid: (pings, flips)}, each in number order, from the database."""
    stored = {c["uuid"]: ([], []) for group in checks.values() for c in group}
    pings = json_rows(cluster, database,
                      "SELECT json_build_object('c', check_uuid, 'n', n, 'kind', kind, 'rid', rid, 'time_us', time_us, "
                      "'body', convert_from(body, 'UTF8'))::text FROM kiothc_pings ORDER BY check_uuid, n")
    flips = json_rows(cluster, database,
                      "SELECT json_build_object('c', check_uuid, 'n', n, 'time_us', time_us, 'old', old, 'new', new, "
                      "'maintenance', maintenance, 'suppressed_by', suppressed_by)::text "
                      "FROM kiothc_flips ORDER BY check_uuid, n")
    for index, rows in ((0, pings), (1, flips)):
        for row in rows:
            if row["c"] in stored:
                stored[row["c"]][index].append(row)
    return stored


def transitions(pings):
    """The status changes the pings imply, in number order: (old, new, the deciding ping)."""
    status, changes = "new", []
    for ping in pings:
        if ping["kind"] in ("success", "fail"):
            new = "up" if ping["kind"] == "success" else "down"
            if new != status:
                changes.append((status, new, ping))
            status = new
    return changes


def states(cluster, database):
    rows = json_rows(cluster, database, "SELECT json_build_object('c', uuid, 'status', status, 'n', n_pings)::text FROM kiothc_checks")
    return {row["c"]: row for row in rows}


def verify(cluster, database, checks, acked):
    problems = []
    stored = read_store(cluster, database, checks)
    rows = states(cluster, database)
    for uuid_, (pings, flips) in stored.items():
        for name, lines in (("pings", pings), ("flips", flips)):
            numbers = [line["n"] for line in lines]
            if numbers != list(range(1, len(lines) + 1)):
                problems.append(f"{name} of {uuid_}: n is {numbers[:3]}...{numbers[-3:]}, not 1..{len(lines)}")
        implied = [(old, new) for old, new, _ in transitions(pings)]
        status = implied[-1][1] if implied else "new"
        got = [(flip["old"], flip["new"]) for flip in flips]
        if got != implied:
            problems.append(f"flips of {uuid_}: stored {got[:6]}..., the pings imply {implied[:6]}...")
        row = rows.get(uuid_)
        if row is None or row["n"] != len(pings) or (pings and row["status"] != status):
            problems.append(f"state row of {uuid_}: {row}, the pings imply status {status}, {len(pings)} pings")
    present = collections.Counter()
    for uuid_, (pings, _) in stored.items():
        for ping in pings:
            present[(uuid_, ping.get("rid"), ping["kind"], ping.get("body"))] += 1
    wanted = collections.Counter(entry[:4] for entry in acked)
    for key, count in wanted.items():
        if present[key] < count:
            problems.append(f"acknowledged ping missing: check {key[0]} rid {key[1]} {key[2]} ({present[key]} of {count} stored)")
    return problems, stored


def expected_alerts(stored):
    """(check, direction, body of the deciding ping) -> flip times, for every notifying flip.
    The deciding ping is found by number, not by time (kill9.py's way): instances stamp pings
    with their own clocks when they take them, and the database numbers them as they commit, so
    a ping numbered later may carry an earlier time. `verify` checked that the k-th stored flip
    is the k-th status change the pings imply, in number order."""
    expected = collections.defaultdict(list)
    for uuid_, (pings, flips) in stored.items():
        for flip, (_, _, ping) in zip(flips, transitions(pings)):
            if flip["new"] == "down" or (flip["new"] == "up" and flip["old"] == "down"):
                expected[(uuid_, flip["new"], ping.get("body") or "")].append(flip["time_us"] / 1e6)
    return expected, collections.Counter()


def deadline_round(instances, cluster, database, uuid_, receiver):
    """Ping the 1-minute check through one instance, kill it: a survivor flips it down within
    2 s of the deadline, once, and alerts once."""
    survivor_count = len(instances.servers) - 1
    victim = 0
    with urllib.request.urlopen(f"{instances.servers[victim].url}/ping/{uuid_}", timeout=5) as reply:
        assert reply.status == 200
    pinged = time.time()
    instances.kill(victim)
    # The deadline is the stored ping's time (the instance's clock, this host's) + 1m + 1m, not
    # the time the answer reached the script (later by the round trip).
    stamp = cluster.psql(f"SELECT max(time_us) FROM kiothc_pings WHERE check_uuid = '{uuid_}'", database=database).strip()
    deadline = int(stamp) / 1e6 + 120 if stamp else pinged + 120
    seen, problems = None, []
    while time.time() < deadline + 10:
        rows = cluster.psql(f"SELECT time_us FROM kiothc_flips WHERE check_uuid = '{uuid_}' AND new = 'down'", database=database).split()
        if rows:
            seen = time.time()
            if abs(int(rows[0]) / 1e6 - deadline) > 0.001:
                problems.append(f"the down flip's time is {int(rows[0]) / 1e6 - deadline:+.3f} s from the deadline, not the deadline")
            break
        time.sleep(0.1)
    if seen is None:
        problems.append(f"no down flip of the 1-minute check within 10 s of its deadline on {survivor_count} survivors")
    elif seen - deadline > 2.0:
        problems.append(f"the down flip came {seen - deadline:.1f} s after the deadline (more than 2 s)")
    instances.restart(victim)
    time.sleep(1)
    count = cluster.psql(f"SELECT count(*) FROM kiothc_flips WHERE check_uuid = '{uuid_}' AND new = 'down'", database=database).strip()
    if count not in ("0", "1"):
        problems.append(f"{count} down flips of the 1-minute check, not 1")
    started = time.time()
    while time.time() - started < 30:
        if any(code == uuid_ and status == "down" for _, code, status, _ in receiver.snapshot()):
            break
        time.sleep(0.2)
    downs = [d for d in receiver.snapshot() if d[1] == uuid_ and d[2] == "down"]
    if len(downs) != 1:
        problems.append(f"{len(downs)} down alerts of the 1-minute check, not 1")
    lag = "never" if seen is None else f"{seen - deadline:+.2f} s"
    return problems, lag


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("binary")
    parser.add_argument("--instances", type=int, choices=[2, 3], default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=3.0, help="longest load phase before a kill -9 (each is 0.5-1x this)")
    parser.add_argument("--deadline", action="store_true", help="also the deadline round (about 2.5 minutes)")
    args = parser.parse_args()

    root = tempfile.mkdtemp(prefix="kiothc-crash-shared-")
    os.chmod(root, 0o755)  # the cluster runs as the postgres user when we are root
    receiver = kill9.Receiver()
    passed = failed = 0
    instances = load = mail = None
    try:
        try:
            cluster = pgcluster.PostgresCluster(os.path.join(root, "pg"), remove=True).start()
        except pgcluster.NotInstalled as missing:
            skips.skip_group("crash-shared", str(missing))
        try:
            database = "crash"
            url = cluster.create_database(database)
            # The email channel too (kill9.py's MailReceiver): every flip mailed at least once.
            mail, missing = kill9.MailReceiver.started(root)
            failed += missing
            instances = Instances(args.binary, args.instances, url, root, receiver.url, args.deadline, mail)
            keys = {row[1]: row[0] for row in
                    (line.split("|") for line in cluster.psql("SELECT uuid, key FROM kiothc_checks", database=database).splitlines() if line)}
            checks = {g: [{"key": f"{g}{i}", "slug": f"{g}{i}", "uuid": keys[f"{g}{i}"]} for i in range(n)]
                      for g, n in (("f", kill9.FLAPPY), ("q", kill9.QUIET), ("m", kill9.MAINTENANCE), ("d", kill9.DEPENDENT), ("p", 1))}
            held_codes = {check["uuid"] for check in checks["m"] + checks["d"]}
            parent = checks["p"][0]["uuid"]
            with urllib.request.urlopen(f"{instances.live()[0]}/ping/{parent}/fail", timeout=5) as reply:
                assert reply.status == 200, "p0 did not take its fail ping"
            total_acked, kills = [], []
            for round_number in range(1, args.rounds + 1):
                victim = (round_number - 1) % args.instances
                load = SharedLoad(instances, checks)
                threads = [threading.Thread(target=load.run, daemon=True) for _ in range(kill9.THREADS)]
                for thread in threads:
                    thread.start()
                time.sleep(args.seconds * random.uniform(0.5, 1.0))
                instances.kill(victim)
                kills.append(time.time())
                time.sleep(args.seconds * random.uniform(0.3, 0.6))  # the survivors alone
                load.stop.set()
                for thread in threads:
                    thread.join()
                total_acked += load.acked
                restarted = time.time()
                instances.restart(victim)
                restart_seconds = time.time() - restarted
                problems, _ = verify(cluster, database, checks, total_acked)
                ok = not problems
                passed += ok
                failed += not ok
                kinds = collections.Counter(entry[2] for entry in load.acked)
                print(f"round {round_number}: instance {victim} killed; {len(load.acked)} pings acknowledged "
                      f"({', '.join(f'{n} {k}' for k, n in sorted(kinds.items()))}), {load.refused} refused or cut off; "
                      f"restart {restart_seconds:.1f} s; {len(total_acked)} acknowledged so far, {len(problems)} problems")
                for problem in problems[:8]:
                    print("   ", problem)

            # The holds end: every instance ends the window (a reload), p0 recovers.
            released = time.time()
            instances.end_window()
            with urllib.request.urlopen(f"{instances.live()[-1]}/ping/{parent}", timeout=5) as reply:
                assert reply.status == 200, "p0 did not take its success ping"

            started, last_count, last_progress = time.time(), -1, time.time()
            while True:
                _, stored = verify(cluster, database, checks, [])
                expected, unidentified = expected_alerts({c: v for c, v in stored.items() if c not in held_codes})
                everything = [d for d in receiver.snapshot() if d[1] != keys.get(DEADLINE_CHECK)]
                deliveries = [d for d in everything if d[1] not in held_codes]
                problems, summary = kill9.verify_alerts(deliveries, expected, unidentified, kills)
                held_problems, held_summary = kill9.verify_held(everything, checks, stored, released)
                problems += held_problems
                messages, mail_problems, mail_summary = kill9.verify_mail(mail, expected, unidentified, kills, held_codes | {keys.get(DEADLINE_CHECK)})
                problems += mail_problems
                if mail:
                    mail_held, _ = kill9.verify_held(mail.deliveries(), checks, stored, released)
                    problems += [f"email: {problem}" for problem in mail_held]
                if len(deliveries) + len(messages) != last_count:
                    last_count, last_progress = len(deliveries) + len(messages), time.time()
                # An instance killed while sending leaves its claimed alerts to the others once
                # the claim's lease (60 s) ends: wait past it before judging.
                if not problems or time.time() - last_progress > 75 or time.time() - started > 300:
                    break
                time.sleep(0.5)
            print(f"alert queue drained in {time.time() - started:.1f} s after the last restart")
            ok = not problems
            passed += ok
            failed += not ok
            print(f"alerts: {summary}")
            print(f"held: {held_summary}")
            if mail:
                print(f"emails: {mail_summary}")
            for problem in problems[:8]:
                print("   ", problem)
            if args.deadline:
                problems, lag = deadline_round(instances, cluster, database, keys[DEADLINE_CHECK], receiver)
                ok = not problems
                passed += ok
                failed += not ok
                print(f"deadline: the instance that took the ping killed; down flip stored {lag} from the deadline, {len(problems)} problems")
                for problem in problems:
                    print("   ", problem)
            print(f"total acknowledged and verified: {len(total_acked)} in {args.rounds} kill -9 rounds over {args.instances} instances")
        finally:
            if load is not None:
                load.stop.set()  # Ctrl-C in a round: the load threads stop with the servers
            if instances is not None:
                instances.stop()
            if mail is not None:
                mail.stop()
            cluster.stop()
    finally:
        receiver.server.shutdown()
        shutil.rmtree(root, ignore_errors=True)
    print(f"crash-shared: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
