#!/usr/bin/env python3
"""Crash test (SPEC §3, §4, §6, §10): mixed pings under load, kill -9, restart, many rounds.

Load: 16 threads ping 2 groups of checks on one server:
- `f*` (flappy): POSTs with a unique body each: success, fail, exit statuses 0-255,
  start + success and start + fail pairs (same rid), log, by UUID or by ping key + slug;
  their flips (fail -> down, success -> up) alert a webhook channel and an email channel;
- `q*` (quiet): GET and HEAD successes by UUID, no body; they only ever flip new -> up;
- `m*` (maintenance): pinged as `f*`, inside a maintenance window that lasts until the end: every
  alert of theirs is held (SPEC §14);
- `d*` (dependent): pinged as `f*`, `depends_on: [p0]`, a check that is down from the start to
  the end: their down alerts are held, and what queues behind them waits.
The webhook channel points at a receiver in this script that counts every delivery; the email
channel at a real SMTP server (aiosmtpd, scripts/smtp/test-server) with STARTTLS and AUTH,
whose received messages the script reads back (check, direction, and the body excerpt).
Flips at a deadline (no ping in time) need a minute at least (config bounds); they are
crash-tested in process on a manual clock (Tests/ServerTests/AlertEndToEndTests.swift,
"kill -9 around deadline flips"), not here.

After each kill -9 the server restarts on the same data directory and the script checks:
- every ping that got a 200 is in its check's file (matched one by one on rid, kind and body),
  no line of any pings/ or flips/ file is corrupt, `n` runs 1, 2, 3... without gap or repeat;
- each f*/q* check's status, `started` flag and `n_pings`, from the API and from
  `kiothc status --format json`, is what its stored pings imply (SPEC §3 rules);
and at the end, with the server up until the outbox drains:
- every stored flip that notifies (to down; to up from down) reached the receiver and was
  mailed (no alert lost), and no alert arrived that matches no stored flip;
- an alert arrived twice only if a kill -9 fell between its flip (or first delivery) and the
  repeat (at least once, not more);
- no alert of an m*/d* check arrived while held; once the window is shortened to end now (a
  reload) and p0 recovers, each of them sends exactly one down alert if it is down, nothing if
  it is up (its held alerts survived every kill -9, none was sent twice or lost).
With --keep-pings N compactions race the kills; what they may drop is allowed (see verify_store).

Usage: kill9.py KIOTHC_BINARY [--durability fsync|write] [--seconds N] [--rounds N] [--keep-pings N] [--no-email] [--keep]
Without the SMTP server's tools (Python's venv, openssl, PyPI) the email part is skipped, saying
so; under CI=true that is a failure.
Prints one line per round and 'crash: N passed, M failed'; exit 1 on any failure.
"""
import argparse
import collections
import http.server
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "compat"))
sys.path.insert(0, os.path.join(HERE, ".."))
from common import Server  # noqa: E402
from skips import under_ci  # noqa: E402

FLAPPY, QUIET, MAINTENANCE, DEPENDENT = 24, 16, 8, 8
THREADS = 16
PING_KEY = "crash-test-ping-key"
API_KEY = "crash-test-api-key-0123456789ab"
STABLE = "timeout: 365d, grace: 365d"  # never late


WINDOW_START = "2000-01-01T00:00:00Z"


def config(hook, email=False, window_end="2099-01-01T00:00:00Z"):
    checks = "".join(f"  f{i}: {{{STABLE}}}\n" for i in range(FLAPPY))
    mail = "      mail: {kind: email, to: [oncall@example.com]}\n" if email else ""
    checks += "".join(f"  q{i}: {{{STABLE}, channels: []}}\n" for i in range(QUIET))
    window = f'[{{from: "{WINDOW_START}", until: "{window_end}"}}]'
    checks += "".join(f"  m{i}: {{{STABLE}, maintenance: {window}}}\n" for i in range(MAINTENANCE))
    checks += f"  p0: {{{STABLE}}}\n"
    checks += "".join(f"  d{i}: {{{STABLE}, depends_on: [p0]}}\n" for i in range(DEPENDENT))
    return f"""\
projects:
  default:
    ping_key: {PING_KEY}
    api_keys: {{read_write: {API_KEY}}}
    defaults: {{channels: [{"hook, mail" if email else "hook"}]}}
    channels:
      hook:
        kind: webhook
        url: {hook}
        body: '{{"code": "$CODE", "status": "$STATUS", "body": "$BODY"}}'
{mail}checks:
{checks}"""


class Receiver:
    """The webhook channel: records (arrival time, code, status, body) of every delivery."""

    def __init__(self):
        deliveries = self.deliveries = []
        lock = self.lock = threading.Lock()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                payload = json.loads(self.rfile.read(length))
                with lock:
                    deliveries.append((time.time(), payload["code"], payload["status"], payload["body"]))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def snapshot(self):
        with self.lock:
            return list(self.deliveries)


class MailReceiver:
    """The email channel's relay: aiosmtpd with STARTTLS and AUTH (scripts/smtp/test-server), on
    a certificate of a throwaway CA. `deliveries()` reads back (arrival time, code, status, body
    excerpt) of every message it accepted. `start()` is None when its tools are missing."""

    SCRIPT = os.path.join(HERE, "..", "smtp", "test-server")
    USER, PASSWORD = "kiothc", "p@ss:w/rd é"

    def __init__(self, directory, process, port):
        self.directory, self.process, self.port = directory, process, port

    @classmethod
    def start(cls, root):
        directory = os.path.join(root, "smtp")
        made = subprocess.run([cls.SCRIPT, "certificates", os.path.join(directory, "certs")], capture_output=True, text=True, timeout=600)
        if made.returncode == 3:
            return None, made.stderr.strip()
        if made.returncode != 0:
            raise RuntimeError(f"scripts/smtp/test-server certificates failed: {made.stderr}")
        certs = os.path.join(directory, "certs")
        process = subprocess.Popen(
            [cls.SCRIPT, "serve", directory, "--tls", "starttls", "--cert", os.path.join(certs, "server.pem"),
             "--key", os.path.join(certs, "server.key")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                with open(os.path.join(directory, "port")) as f:
                    return cls(directory, process, int(f.read())), None
            except (FileNotFoundError, ValueError):
                if process.poll() is not None:
                    break
                time.sleep(0.05)
        process.kill()
        raise RuntimeError("the SMTP server did not start within 30 s")

    @classmethod
    def started(cls, root):
        """`start`, and 1 when the part must count as failed: tools missing under CI=true (said);
        outside CI their absence skips the email part, saying so."""
        mail, missing = cls.start(root)
        if mail is not None:
            return mail, 0
        if under_ci():
            print(f"email: FAILED: no SMTP test server ({missing}); under CI=true a skipped part fails")
            return None, 1
        print(f"email: skipped ({missing})")
        return None, 0

    def arguments(self):
        password = urllib.parse.quote(self.PASSWORD, safe="")
        return ["--smtp", f"smtp://{self.USER}:{password}@localhost:{self.port}", "--smtp-from", "kiothc@example.com",
                "--smtp-ca-file", os.path.join(self.directory, "certs", "ca.pem")]

    def deliveries(self):
        found, n = [], 1
        while True:
            path = os.path.join(self.directory, f"message-{n}.json")
            try:
                with open(path) as f:
                    record = json.load(f)
            except FileNotFoundError:
                return found
            headers = record["parsed"]["headers"]
            text = record["parsed"]["parts"][0]["content"].replace("\r\n", "\n")
            # The text part quotes the deciding ping's body (its first 500 characters).
            # The text part ends with the excerpt's line and a newline (no link: no --base-url).
            body = ""
            if "\nLast ping body:\n" in text:
                body = text.split("\nLast ping body:\n", 1)[1].removesuffix("\n").removesuffix("…")
            found.append((os.path.getmtime(path), headers["x-kiothc-check"][0], headers["x-kiothc-status"][0], body))
            n += 1

    def stop(self):
        self.process.kill()
        self.process.wait(timeout=10)


class Load:
    """Threads sending a mix of pings; `acked` holds (check, rid, kind, stored body, sent at,
    acknowledged at) of each 200."""

    def __init__(self, base, checks):
        self.base, self.checks = base, checks
        self.stop = threading.Event()
        self.acked, self.refused = [], 0
        self.lock = threading.Lock()

    def send(self, check, suffix, rid, kind, body=None, method=None):
        target = f"{PING_KEY}/{check['slug']}" if body is not None and random.random() < 0.3 else check["uuid"]
        url = f"{self.base}/ping/{target}{suffix}?rid={rid}"
        data = body.encode() if body is not None else None
        request = urllib.request.Request(url, data=data, method=method or ("POST" if data is not None else "GET"))
        sent = time.time()
        try:
            with urllib.request.urlopen(request, timeout=5) as reply:
                ok = reply.status == 200
        except (urllib.error.URLError, ConnectionError, OSError):
            ok = False  # expected once the server is killed
        with self.lock:
            if ok:
                self.acked.append((check["uuid"], rid, kind, body[:10_000] if body else None, sent, time.time()))
            else:
                self.refused += 1
        return ok

    def run(self):
        rng = random.Random()
        while not self.stop.is_set():
            groups = [g for g in ("f", "q", "m", "d") if self.checks.get(g)]
            group = rng.choices(groups, weights=[{"f": 2}.get(g, 1) for g in groups])[0]
            check = rng.choice(self.checks[group])
            rid = str(uuid.uuid4())
            body = f"token {rid} " + "x" * rng.choice([0, 0, 100, 3000, 12000])
            if group == "q":
                self.send(check, "", rid, "success", method=rng.choice(["GET", "HEAD"]))
            else:
                action = rng.choice(["success", "fail", "exit", "pair", "pair-fail", "log"])
                if action in ("success", "fail", "log"):
                    self.send(check, "" if action == "success" else f"/{action}", rid, action, body)
                elif action == "exit":
                    status = rng.choice([0, 0, 1, 2, 127, 255])
                    self.send(check, f"/{status}", rid, "success" if status == 0 else "fail", body)
                elif self.send(check, "/start", rid, "start", body):
                    ending = "success" if action == "pair" else "fail"
                    self.send(check, "" if ending == "success" else "/fail", rid, ending, f"end {rid} {body}")


def read_lines(path):
    """(objects, corrupt line descriptions) of a JSON-lines file."""
    objects, corrupt = [], []
    if not os.path.exists(path):
        return objects, corrupt
    with open(path, "rb") as f:
        for number, raw in enumerate(f, 1):
            where = f"{os.path.basename(path)}:{number}"
            if not raw.endswith(b"\n"):
                corrupt.append(f"{where}: no final newline")
            try:
                objects.append(json.loads(raw))
            except ValueError:
                corrupt.append(f"{where}: {raw[:80]!r}")
    return objects, corrupt


def compacted(pings):
    """Whether compaction (--keep-pings) dropped the oldest pings of this file."""
    return bool(pings) and pings[0]["n"] > 1


def implied(pings):
    """Status, started and n_pings that a check's stored pings imply (SPEC §3, CheckState).
    After a compaction only what the kept pings decide: the status once a success or fail is
    kept, `started` once a start or fail is kept (a run may have begun before the window)."""
    status, run, decided = ("new", None, True) if not compacted(pings) else (None, None, False)
    for ping in pings:
        kind, rid = ping["kind"], ping.get("rid")
        if kind == "start":
            run, decided = rid, True
        elif kind in ("success", "fail"):
            if run is not None and (run == rid or kind == "fail" or rid is None):
                run = None
            decided = decided or kind == "fail"
            status = "up" if kind == "success" else "down"
    facts = {"n_pings": pings[-1]["n"] if pings else 0}
    if status is not None:
        facts["status"] = status
    if decided:
        facts["started"] = run is not None
    return facts


def verify_store(data, checks, acked):
    """Problems of the files: lost acknowledged pings, corrupt lines, broken numbering. An
    acknowledged ping may be missing only when compaction dropped it: acknowledged before the
    oldest kept ping arrived (or, rarely, in flight then: counted as ambiguous)."""
    problems, stored = [], {}
    for group in checks.values():
        for check in group:
            pings, corrupt = read_lines(os.path.join(data, "pings", check["uuid"] + ".jsonl"))
            flips, corrupt_flips = read_lines(os.path.join(data, "flips", check["uuid"] + ".jsonl"))
            problems += corrupt + corrupt_flips
            for name, lines in (("pings", pings), ("flips", flips)):
                numbers = [line.get("n") for line in lines]
                first = numbers[0] if numbers and name == "pings" else 1
                if numbers != list(range(first, first + len(lines))):
                    problems.append(f"{name}/{check['uuid']}.jsonl: n is {numbers[:3]}...{numbers[-3:]}, not {first}..{first + len(lines) - 1}")
            stored[check["uuid"]] = (pings, flips)
    present = collections.Counter()
    for uuid_, (pings, _) in stored.items():
        for ping in pings:
            present[(uuid_, ping.get("rid"), ping["kind"], ping.get("body"))] += 1
    times = collections.defaultdict(list)
    for entry in acked:
        times[entry[:4]].append(entry[4:])
    dropped = ambiguous = 0
    for key, instances in times.items():
        for sent, acknowledged in instances[present[key]:]:
            pings = stored[key[0]][0]
            oldest = pings[0]["time_us"] / 1e6 if compacted(pings) else None
            if oldest is not None and acknowledged < oldest:
                dropped += 1
            elif oldest is not None and sent <= oldest:
                ambiguous += 1
            else:
                problems.append(f"acknowledged ping missing: check {key[0]} rid {key[1]} {key[2]}")
    return problems, stored, (dropped, ambiguous)


def verify_statuses(server, checks, stored):
    """The API and `kiothc status` against what the stored pings imply (f*, q*, m* and d*
    checks), and what holds the alerts of m* and d* (in maintenance; suppressed by p0 while down)."""
    problems = []
    status, text = server.request("/api/v3/checks/", headers={"X-Api-Key": API_KEY})
    api = {c["key"]: c for c in json.loads(text)["checks"]} if status == 200 else {}  # v3 lists no uuid
    cli = server.kiothc("status", "--config", server.config, "--data", server.data, "--format", "json")
    offline = {c["key"]: c for c in json.loads(cli.stdout)["checks"]} if cli.returncode == 0 else {}
    if status != 200 or cli.returncode != 0:
        return [f"GET /api/v3/checks/ -> {status}; kiothc status exit {cli.returncode}: {cli.stderr[:200]}"]
    for check in checks["f"] + checks["q"] + checks["m"] + checks["d"]:
        want = implied(stored[check["uuid"]][0])
        if check in checks["m"]:
            want["in_maintenance"] = True
        if check in checks["d"] and want.get("status") is not None:
            want["suppressed_by"] = ["default/p0"] if want["status"] == "down" else []
        for source, seen in (("API", api.get(check["key"])), ("kiothc status", offline.get(check["key"]))):
            got = {key: (seen or {}).get(key) for key in want}
            if got != want:
                problems.append(f"{source}: {check['key']} is {got}, its stored pings imply {want}")
    return problems


def verify_held(deliveries, checks, stored, released):
    """The alerts of m* and d* checks: none before `released` (the time their holds ended);
    after it, one down alert for each that is down, none for one that is up. Returns the
    problems and a summary."""
    problems, sent = [], 0
    for check in checks["m"] + checks["d"]:
        flips = stored[check["uuid"]][1]
        down = bool(flips) and flips[-1]["new"] == "down"
        mine = [d for d in deliveries if d[1] == check["uuid"]]
        sent += len(mine)
        early = [d for d in mine if d[0] < released]
        if early:
            problems.append(f"{check['key']}: {len(early)} alerts sent while held")
        if [d[2] for d in mine] != (["down"] if down else []):
            problems.append(f"{check['key']} is {'down' if down else 'up'} at the end; its alerts: {[d[2] for d in mine]}")
    held = sum(1 for group in ("m", "d") for check in checks[group] for flip in stored[check["uuid"]][1] if flip.get("maintenance") or flip.get("suppressed_by"))
    return problems, f"{held} flips held by a window or by p0, {sent} alerts sent when released"


def expected_alerts(checks, stored):
    """(check, direction, body of the ping that decided the flip) -> flip times, for every
    notifying flip; and (check, direction) -> count of flips whose deciding ping was compacted
    away (their alerts are matched by check and direction only)."""
    expected, unidentified = collections.defaultdict(list), collections.Counter()
    for group in ("f", "q", "p"):
        for check in checks[group]:
            pings, flips = stored[check["uuid"]]
            for flip in flips:
                if flip["new"] == "down" or (flip["new"] == "up" and flip["old"] == "down"):
                    before = [p for p in pings if p["time_us"] <= flip["time_us"] and p["kind"] != "ign"]
                    if not before and compacted(pings):
                        unidentified[(check["uuid"], flip["new"])] += 1
                        continue
                    body = (before[-1].get("body") or "") if before else ""
                    expected[(check["uuid"], flip["new"], body)].append(flip["time_us"] / 1e6)
    return expected, unidentified


def mailed(expected, unidentified):
    """The alerts an email channel should have carried: the same flips, the body cut to the 500
    characters a message quotes."""
    cut, counts = collections.defaultdict(list), collections.Counter(unidentified)
    for (code, status, body), times in expected.items():
        cut[(code, status, body[:500])] += times
    return cut, counts


def verify_mail(mail, expected, unidentified, kills, excluded=()):
    """The messages the SMTP server received (none without `mail`; those of the checks `excluded`
    left out), the problems (prefixed `email:`) and the summary, judged as the webhook's."""
    if mail is None:
        return [], [], None
    messages = [m for m in mail.deliveries() if m[1] not in excluded]
    problems, summary = verify_alerts(messages, *mailed(expected, unidentified), kills)
    return messages, [f"email: {problem}" for problem in problems], summary


def verify_alerts(deliveries, expected, unidentified, kills):
    """Lost alerts, alerts for no stored flip, and repeats a crash does not explain: a repeat is
    allowed when a kill -9 fell between the flip (or its first delivery) and the repeat."""
    problems = []
    received = collections.defaultdict(list)
    for at, code, status, body in deliveries:
        received[(code, status, body)].append(at)
    lost = [key for key in expected if key not in received]
    others = collections.Counter((k[0], k[1]) for k in received if k not in expected)
    invented = [k for k in received if k not in expected and unidentified[(k[0], k[1])] == 0]
    lost_unidentified = sum(max(0, n - others[key]) for key, n in unidentified.items())
    doubled = allowed = 0
    for key, times in received.items():
        if key not in expected:
            continue
        flips = sorted(expected[key])
        times.sort()
        for index in range(len(flips), len(times)):
            since = min(flips[:1] + times[:1])
            if any(since <= kill <= times[index] for kill in kills):
                allowed += 1
            else:
                doubled += 1
                problems.append(f"alert sent twice with no crash in between: {key[0]} {key[1]} {key[2][:50]!r}")
    problems += [f"alert lost: check {k[0]} {k[1]} after the ping {k[2][:50]!r}" for k in lost]
    problems += [f"alert for no stored flip: check {k[0]} {k[1]} {k[2][:50]!r}" for k in invented]
    if lost_unidentified:
        problems.append(f"{lost_unidentified} alerts lost for flips whose deciding ping was compacted away")
    summary = (f"{sum(len(v) for v in expected.values()) + sum(unidentified.values())} notifying flips stored "
               f"({sum(unidentified.values())} matched by check and direction only), {len(deliveries)} alerts received: "
               f"{len(lost) + lost_unidentified} lost, {len(invented)} for no flip, {allowed} repeats across a kill -9 (allowed), "
               f"{doubled} other repeats")
    return problems, summary


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binary")
    parser.add_argument("--durability", default="fsync")
    parser.add_argument("--seconds", type=float, default=3.0, help="longest load phase before a kill -9 (each is 0.5-1x this)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the data directory and print where")
    parser.add_argument("--no-email", action="store_true", help="no email channel (no SMTP server)")
    parser.add_argument("--keep-pings", type=int, default=1_000_000,
                        help="the server's --keep-pings; a small value (40) makes compactions race the kills")
    args = parser.parse_args()

    receiver = Receiver()
    root = tempfile.mkdtemp(prefix="kiothc-crash-")
    passed = failed = 0
    total_acked, kills = [], []
    server = mail = None
    try:
        if not args.no_email:
            mail, missing = MailReceiver.started(root)
            failed += missing
        server = Server(args.binary, config=config(receiver.url, mail is not None), root=root,
                        arguments=["--durability", args.durability, "--keep-pings", str(args.keep_pings)] + (mail.arguments() if mail else []),
                        log_level="notice")
        checks = {g: [{"key": f"{g}{i}", "slug": f"{g}{i}", "uuid": server.uuid("default", f"{g}{i}")} for i in range(n)]
                  for g, n in (("f", FLAPPY), ("q", QUIET), ("m", MAINTENANCE), ("d", DEPENDENT), ("p", 1))}
        held_codes = {check["uuid"] for check in checks["m"] + checks["d"]}
        # p0 is down from the start to the end: the d* checks' down alerts are held meanwhile.
        if server.request(f"/ping/{checks['p'][0]['uuid']}/fail")[0] != 200:
            raise RuntimeError("p0 did not take its fail ping")
        for round_number in range(1, args.rounds + 1):
            load = Load(server.url, checks)
            threads = [threading.Thread(target=load.run) for _ in range(THREADS)]
            for t in threads:
                t.start()
            time.sleep(args.seconds * random.uniform(0.5, 1.0))
            server.kill()  # mid-load, no warning
            kills.append(time.time())  # once it is dead: deliveries before this may be repeated
            load.stop.set()
            for t in threads:
                t.join()
            total_acked += load.acked
            restarted = time.time()
            server.restart()  # recovery repairs torn lines and replays the journal
            restart_seconds = time.time() - restarted
            problems, stored, (dropped, ambiguous) = verify_store(server.data, checks, total_acked)
            problems += verify_statuses(server, checks, stored)
            ok = not problems
            passed += ok
            failed += not ok
            kinds = collections.Counter(entry[2] for entry in load.acked)
            print(f"round {round_number}: {len(load.acked)} pings acknowledged before kill -9 "
                  f"({', '.join(f'{n} {k}' for k, n in sorted(kinds.items()))}), {load.refused} refused or cut off; "
                  f"restart {restart_seconds:.1f} s; {len(total_acked)} acknowledged so far"
                  f"{f' ({dropped} compacted away, {ambiguous} in flight at a compaction)' if dropped or ambiguous else ''}, {len(problems)} problems")
            for problem in problems[:8]:
                print("   ", problem)

        # The holds end: the window is shortened to end now (a reload), p0 recovers.
        with open(os.path.join(server.config, "checks.yaml"), "w") as f:
            f.write(config(receiver.url, mail is not None, window_end=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 1))))
        released = time.time()
        status, text = server.request("/-/reload", method="POST", headers={"Authorization": f"Bearer {server.token}"})
        if status != 200:
            raise RuntimeError(f"the reload that ends the window failed: {status} {text[:300]}")
        if server.request(f"/ping/{checks['p'][0]['uuid']}")[0] != 200:
            raise RuntimeError("p0 did not take its success ping")

        # The end: let the outbox drain, then count the alerts.
        # The outbox sends one alert per check and channel at a time, so a check that flapped
        # a lot drains slowly: wait while deliveries keep coming (at most 5 minutes).
        started, last_count, last_progress = time.time(), -1, time.time()
        while True:
            _, stored, _ = verify_store(server.data, checks, [])
            expected, unidentified = expected_alerts(checks, stored)
            everything = receiver.snapshot()
            deliveries = [d for d in everything if d[1] not in held_codes]
            problems, summary = verify_alerts(deliveries, expected, unidentified, kills)
            held_problems, held_summary = verify_held(everything, checks, stored, released)
            problems += held_problems
            messages, mail_problems, mail_summary = verify_mail(mail, expected, unidentified, kills, excluded=held_codes)
            problems += mail_problems
            if mail:
                mail_held, _ = verify_held(mail.deliveries(), checks, stored, released)
                problems += [f"email: {problem}" for problem in mail_held]
            if len(deliveries) + len(messages) != last_count:
                last_count, last_progress = len(deliveries) + len(messages), time.time()
            if not problems or time.time() - last_progress > 15 or time.time() - started > 300:
                break
            time.sleep(0.5)
        print(f"outbox drained in {time.time() - started:.1f} s after the last restart")
        status = server.terminate()
        if status != 0:
            problems.append(f"graceful stop exit {status}:\n" + server.log[-3000:])
        ok = not problems
        passed += ok
        failed += not ok
        print(f"alerts: {summary}")
        print(f"held: {held_summary}")
        if mail:
            print(f"emails: {mail_summary}")
        for problem in problems[:8]:
            print("   ", problem)
        print(f"total acknowledged and verified: {len(total_acked)} in {args.rounds} kill -9 rounds ({args.durability})")
    finally:
        if server is not None and server.process.poll() is None:
            server.kill()
        receiver.server.shutdown()
        if mail:
            mail.stop()
        if args.keep:
            with open(os.path.join(root, "deliveries.json"), "w") as f:
                json.dump({"kills": kills, "deliveries": receiver.snapshot()}, f)
            print(f"data and deliveries.json kept in {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    print(f"crash: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
