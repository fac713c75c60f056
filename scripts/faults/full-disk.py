#!/usr/bin/env python3
"""Full disk (SPEC §2 "an ack means stored", §4, §10): the data directory on a 4 MiB tmpfs that
the test fills up while pings arrive.

While the disk is full every ping must get 503 (never a 200 for a ping that was not stored,
and nothing stored for a 503), and the server must keep answering /-/healthy, the API, the
dashboard and /metrics. Once the test frees the space, pings must succeed again without a
restart. At the end every acknowledged ping is in its file, no line is corrupt, and a restart
(clean, then after kill -9) finds them all again.

Needs root (mount -t tmpfs); otherwise it prints 'full-disk: skipped (...)' and exits 0 (1 under
CI=true: scripts/skips.py).

Usage: full-disk.py KIOTHC_BINARY [--durability fsync|write]
Prints 'full-disk: N passed, M failed'; exit 1 on any failure.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "compat"))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from common import Server, Tally  # noqa: E402
from skips import skip_group  # noqa: E402

RW = "fulldisk-rw-key-0123456789abcdef"
CHECKS = 20
CONFIG = f"""\
projects:
  ops:
    ping_key: fulldisk-ping-key
    api_keys: {{read_write: {RW}}}
    channels:
      hook: {{kind: webhook, url: "http://127.0.0.1:9/alerts"}}
checks:
""" + "".join(f"  c{i}: {{project: ops, timeout: 1h, channels: [hook]}}\n" for i in range(CHECKS))
SLUG = "fulldisk-ping-key/c0"
BODY = ("x" * 99 + "\n") * 80  # 8,000 bytes: stored whole, fills the disk quickly


def status_of(request):
    """The status code of a request (a URL or a Request), or 0 when the connection failed."""
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


def ping(url, check, rid, kind=""):
    """One ping with a body to /ping/<check> (a UUID, or ping key/slug); its status."""
    suffix = f"/{kind}" if kind else ""
    return status_of(urllib.request.Request(f"{url}/ping/{check}{suffix}?rid={rid}", data=BODY.encode(), method="POST"))


def stored(data):
    """rid -> check for every stored ping, and the corrupt lines."""
    rids, corrupt = {}, []
    folder = os.path.join(data, "pings")
    for name in os.listdir(folder):
        if not name.endswith(".jsonl"):
            continue
        with open(os.path.join(folder, name), "rb") as f:
            for number, raw in enumerate(f, 1):
                try:
                    line = json.loads(raw)
                except ValueError:
                    corrupt.append(f"{name}:{number}: {raw[:60]!r}")
                    continue
                if not raw.endswith(b"\n"):
                    corrupt.append(f"{name}:{number}: no final newline")
                if line.get("rid"):
                    rids[line["rid"]] = name[: -len(".jsonl")]
    return rids, corrupt


def read_jsonl(path):
    """The objects of a JSON-lines file and its unreadable lines."""
    objects, bad = [], []
    if os.path.exists(path):
        with open(path, "rb") as f:
            for raw in f:
                try:
                    objects.append(json.loads(raw))
                except ValueError:
                    bad.append(raw)
    return objects, bad


def fill(path, leave):
    """Fill the file system of `path` up to `leave` free bytes; the filler's size."""
    free = os.statvfs(path).f_bavail * os.statvfs(path).f_frsize
    size = max(0, free - leave)
    with open(os.path.join(path, "filler"), "wb") as f:
        f.write(b"\0" * size)
    return size


def fill_inodes(path, leave):
    """Create empty files in `path` until the file system has no inode left, then delete
    `leave` of them; how many remain."""
    folder = os.path.join(path, "inodes")
    os.makedirs(folder)
    made = 0
    while True:
        try:
            open(os.path.join(folder, str(made)), "wb").close()
        except OSError:
            break
        made += 1
    for number in range(max(0, made - leave), made):
        os.remove(os.path.join(folder, str(number)))
    return made - min(leave, made)


def start(binary, config, data, durability):
    """`kiothc serve` on a fresh data directory: (process, url or None, stderr so far).
    url is None when the process exited before it listened."""
    log = tempfile.TemporaryFile(mode="w+")
    process = subprocess.Popen(
        [binary, "serve", "--config", config, "--data", data, "--listen", "127.0.0.1:0", "--durability", durability],
        stdout=subprocess.DEVNULL, stderr=log, text=True)
    deadline = time.time() + 30
    while time.time() < deadline:
        log.seek(0)
        text = log.read()
        listening = [line for line in text.splitlines() if "serving pings at " in line]
        if listening:
            return process, listening[0].split("serving pings at ")[1].split()[0], text
        if process.poll() is not None:
            log.seek(0)
            return process, None, log.read()
        time.sleep(0.05)
    process.kill()
    process.wait()
    raise RuntimeError("the server neither started nor exited within 30 s")


def stop(process):
    process.terminate()
    try:
        return process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()


def first_starts(args, tally, root):
    """A FIRST start (empty data directory) on a file system that is already full, of bytes or
    of inodes, leaving 0, 1, 2, ... pages (or inodes) free: either `serve` exits non-zero at once
    with a message naming the data directory, saying it is full and what to do, and the next start
    after space is freed works with nothing to repair; or it starts, answers /-/healthy and gives
    pings 503 (or 200, stored) until the space returns, then 200 without a restart. Then the same
    file system read-only."""
    disk = os.path.join(root, "first")
    os.makedirs(disk)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,nr_inodes=64", "tmpfs", disk], capture_output=True, text=True)
    if mounted.returncode != 0:
        tally.check(False, f"first start: cannot mount a second tmpfs: {mounted.stderr.strip()}")
        return
    config = os.path.join(root, "first-checks.d")
    os.makedirs(config)
    with open(os.path.join(config, "checks.yaml"), "w") as f:
        f.write(CONFIG)
    data = os.path.join(disk, "data")
    page = os.statvfs(disk).f_frsize
    try:
        for resource in ("space", "inodes"):
            refused, started = [], None
            for leave in range(0, 17):
                subprocess.run(["rm", "-rf", data, os.path.join(disk, "filler"), os.path.join(disk, "inodes")], check=True)
                if resource == "space":
                    fill(disk, leave=leave * page)
                else:
                    fill_inodes(disk, leave)
                what = f"first start, {leave} {'pages' if resource == 'space' else 'inodes'} free"
                process, url, log = start(args.binary, config, data, args.durability)
                if url is None:
                    refused.append(leave)
                    errors = [line for line in log.splitlines() if "error" in line]
                    message = errors[-1] if errors else log.strip()[-300:]
                    told = all(part in message for part in ("cannot start", f"'{data}'", "is full", "start kiothc again"))
                    tally.check(process.returncode != 0 and told,
                                f"{what}: exits {process.returncode} with an error naming the data directory and what to do: {message!r}")
                    subprocess.run(["rm", "-rf", os.path.join(disk, "filler"), os.path.join(disk, "inodes")], check=True)
                    process, url, log = start(args.binary, config, data, args.durability)
                    rid = str(uuid.uuid4())
                    code = ping(url, SLUG, rid) if url else 0
                    rids, corrupt = stored(data) if url else ({}, [])
                    status = stop(process) if url else process.returncode
                    tally.check(url is not None and code == 200 and rid in rids and not corrupt and status == 0,
                                f"{what}: after the space is freed the next start serves (ping {code}, stored {rid in rids}, exit {status})"
                                + ("" if url else f": {log.strip()[-300:]!r}"))
                    continue
                started = leave if started is None else started
                status = status_of(url + "/-/healthy")
                rid = str(uuid.uuid4())
                code = ping(url, SLUG, rid)
                acked = [rid] if code == 200 else []
                refused_pings = [rid] if code == 503 else []
                os.remove(os.path.join(disk, "filler")) if resource == "space" else subprocess.run(["rm", "-rf", os.path.join(disk, "inodes")])
                after = str(uuid.uuid4())
                later = ping(url, SLUG, after)
                acked += [after] if later == 200 else []
                rids, corrupt = stored(data)
                exit_status = stop(process)
                tally.check(status == 200 and code in (200, 503) and later == 200,
                            f"{what}: it starts; /-/healthy {status}, a ping {code} while full, {later} once freed, no restart")
                tally.check(all(r in rids for r in acked) and not any(r in rids for r in refused_pings) and not corrupt and exit_status == 0,
                            f"{what}: every 200 stored, no 503 stored, no corrupt line, exit {exit_status}")
                if code == 200:
                    break  # enough room for a first start and a ping: larger margins add nothing
            print(f"first start on a full file system ({resource}): refused with {refused} {'pages' if resource == 'space' else 'inodes'} free, first started with {started}")
            tally.check(refused and started is not None and started > max(refused), f"first start ({resource}): both outcomes were reached (refused, then started)")
        # Not full but read-only: the same refusal, with the advice that fits.
        subprocess.run(["rm", "-rf", data, os.path.join(disk, "filler"), os.path.join(disk, "inodes")], check=True)
        subprocess.run(["mount", "-o", "remount,ro", disk], check=True)
        process, url, log = start(args.binary, config, data, args.durability)
        if url is not None:
            stop(process)
        message = log.strip().splitlines()[-1] if log.strip() else ""
        tally.check(url is None and process.returncode != 0 and "is not writable" in message and f"'{data}'" in message,
                    f"first start on a read-only file system: exits {process.returncode}: {message!r}")
    finally:
        subprocess.run(["umount", disk])
        os.rmdir(disk)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binary")
    parser.add_argument("--durability", default="fsync")
    parser.add_argument("--verbose", action="store_true", help="print the server's log at the end")
    args = parser.parse_args()

    if os.geteuid() != 0:
        skip_group("full-disk", "needs root to mount a tmpfs")
    root = tempfile.mkdtemp(prefix="kiothc-fulldisk-")
    disk = os.path.join(root, "disk")
    os.makedirs(disk)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", disk], capture_output=True, text=True)
    if mounted.returncode != 0:
        os.rmdir(disk)
        os.rmdir(root)
        skip_group("full-disk", f"mount -t tmpfs is not permitted here: {mounted.stderr.strip()}")
    tally = Tally("full-disk")
    server = None
    try:
        first_starts(args, tally, root)

        data = os.path.join(disk, "data")
        server = Server(args.binary, config=CONFIG, root=root, data=data, arguments=["--durability", args.durability])
        checks = [server.uuid("ops", f"c{i}") for i in range(CHECKS)]
        headers = {"X-Api-Key": RW}

        # Phase 1: pings until the disk is full and stays full (30 refusals in a row).
        filler = fill(disk, leave=400 * 1024)
        acked, refused, others = {}, {}, {}
        streak = sent = 0
        while streak < 30 and sent < 2000:
            check = checks[sent % CHECKS]
            rid = str(uuid.uuid4())
            kind = "fail" if sent % 7 == 3 else ("start" if sent % 7 == 5 else "")
            code = ping(server.url, check, rid, kind)
            sent += 1
            if code == 200:
                acked[rid] = check
                streak = 0
            elif code == 503:
                refused[rid] = check
                streak += 1
            else:
                others[rid] = code
                streak = 0
        print(f"filled with a {filler:,}-byte file; {sent} pings: {len(acked)} acknowledged (200), "
              f"{len(refused)} refused (503), {len(others)} other {sorted(set(others.values()))}")
        tally.check(len(acked) > 0 and len(refused) >= 30 and not others,
                    "pings are acknowledged until the disk is full, then answered 503 (no other status)")

        # Phase 2: still full; the server keeps serving everything else.
        for path, want, extra in [
            ("/-/healthy", 200, {}), ("/api/v3/checks/", 200, headers), (f"/api/v3/checks/{checks[0]}/pings/", 200, headers),
            ("/metrics", 200, {"Authorization": f"Bearer {server.token}"}), (f"/login?token={server.token}", 200, {}),
        ]:
            status, text = server.request(path, headers=extra)
            tally.check(status == want, f"while full: GET {path.split('?')[0]} -> {status} (want {want})")
        status, text = server.request("/api/v3/checks/", headers=headers)
        listed = json.loads(text)["checks"] if status == 200 else []
        tally.check(len(listed) == CHECKS, f"while full: the API lists all {CHECKS} checks")
        more = [ping(server.url, checks[i % CHECKS], str(uuid.uuid4())) for i in range(10)]
        tally.check(set(more) == {503}, f"while full: 10 more pings -> {sorted(set(more))} (want only 503)")

        lines = server.log.count("ping not stored")
        tally.check(1 <= lines <= 3, f"while full: {lines} 'ping not stored' log lines for {len(refused) + 10} refusals (throttled, 1 per 10 s)")

        rids, corrupt = stored(data)
        lies = [rid for rid in acked if rids.get(rid) != acked[rid]]
        ghosts = [rid for rid in refused if rid in rids]
        tally.check(not lies, f"while full: every acknowledged ping is stored ({len(acked) - len(lies)}/{len(acked)})")
        tally.check(not ghosts, f"while full: no refused ping is stored ({len(ghosts)} of {len(refused)} are)")
        tally.check(not corrupt, f"while full: no corrupt line ({corrupt[:3]})")

        # Phase 3: free the space; pings succeed again without a restart.
        os.remove(os.path.join(disk, "filler"))
        started = time.time()
        recovered = None
        while time.time() - started < 10:
            rid = str(uuid.uuid4())
            code = ping(server.url, checks[0], rid)
            if code == 200:
                acked[rid] = checks[0]
                recovered = time.time() - started
                break
            time.sleep(0.1)
        tally.check(recovered is not None and server.process.poll() is None,
                    f"space freed: pings are acknowledged again without a restart (after {recovered if recovered is None else round(recovered, 2)} s)")
        after = {}
        for i in range(100):
            rid = str(uuid.uuid4())
            after[rid] = ping(server.url, checks[i % CHECKS], rid)
            if after[rid] == 200:
                acked[rid] = checks[i % CHECKS]
        tally.check(set(after.values()) == {200}, f"space freed: 100 pings -> {sorted(set(after.values()))} (want only 200)")

        # Phase 4: restarts find every acknowledged ping, clean and after kill -9.
        status = server.terminate()
        tally.check(status == 0, f"graceful stop after the full disk: exit {status}")
        for how in ("clean stop", "kill -9"):
            server.restart()
            if how == "kill -9":
                for i in range(50):
                    rid = str(uuid.uuid4())
                    if ping(server.url, checks[i % CHECKS], rid) == 200:
                        acked[rid] = checks[i % CHECKS]
                server.kill()
                server.restart()
            rids, corrupt = stored(data)
            missing = [rid for rid in acked if rids.get(rid) != acked[rid]]
            tally.check(not missing and not corrupt,
                        f"restart after {how}: {len(acked) - len(missing)}/{len(acked)} acknowledged pings found, {len(corrupt)} corrupt lines")
            status, text = server.request("/api/v3/checks/", headers=headers)
            api_pings = sum(check["n_pings"] for check in json.loads(text)["checks"]) if status == 200 else -1
            tally.check(api_pings == len(rids), f"restart after {how}: the API counts {api_pings} pings, the files hold {len(rids)}")
            if how == "clean stop":
                server.terminate()

        # Phase 5: a crash while the disk is full, and a start on the full disk.
        fill(disk, leave=0)
        code = ping(server.url, checks[1], str(uuid.uuid4()))
        tally.check(code == 503, f"full again: a ping -> {code} (want 503)")
        server.kill()
        server.restart()
        status, _ = server.request("/-/healthy")
        code = ping(server.url, checks[1], str(uuid.uuid4()))
        tally.check(status == 200 and code == 503, f"started on the full disk after kill -9: /-/healthy {status}, a ping {code}")
        os.remove(os.path.join(disk, "filler"))
        rid = str(uuid.uuid4())
        code = ping(server.url, checks[1], rid)
        if code == 200:
            acked[rid] = checks[1]
        tally.check(code == 200, f"space freed again: a ping -> {code} (want 200), no restart")
        rids, corrupt = stored(data)
        missing = [rid for rid in acked if rids.get(rid) != acked[rid]]
        tally.check(not missing and not corrupt, f"at the end: {len(acked) - len(missing)}/{len(acked)} acknowledged pings found, {len(corrupt)} corrupt lines")

        # Every stored flip that alerts has its alert: in the outbox, or in the store's queue of
        # alerts written with the flip (issue 19), which the outbox takes at the next start.
        server.terminate()
        alerts, _ = read_jsonl(os.path.join(data, "alerts", "outbox.jsonl"))
        queued = {(a["check"], a["direction"], a["flip_time_us"]) for a in alerts if a.get("type") == "alert"}
        lines, _ = read_jsonl(os.path.join(data, "alerts", "queued.jsonl"))
        queued |= {(a["alert"]["check"], a["alert"]["direction"], a["alert"]["flip_time_us"]) for a in lines if isinstance(a.get("alert"), dict)}
        flips = []
        for check in checks:
            lines, _ = read_jsonl(os.path.join(data, "flips", check + ".jsonl"))
            flips += [(check, f["new"], f["time_us"]) for f in lines if f["new"] == "down" or (f["new"] == "up" and f["old"] == "down")]
        unalerted = [f for f in flips if f not in queued]
        tally.check(flips and not unalerted, f"{len(flips) - len(unalerted)}/{len(flips)} stored notifying flips have their alert in the outbox {unalerted[:3]}")
        if args.verbose:
            print(server.log)
    finally:
        if server is not None and server.process.poll() is None:
            server.terminate()
        subprocess.run(["umount", disk])
        os.rmdir(disk)
        server.stop() if server is not None else None
        subprocess.run(["rm", "-rf", root])
    tally.finish()


if __name__ == "__main__":
    main()
