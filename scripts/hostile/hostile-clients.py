#!/usr/bin/env python3
"""Hostile HTTP clients against `kiothc serve` (SPEC §2, §10): slowloris, huge headers, huge and
endless chunked bodies, thousands of connections, malformed HTTP, path tricks.

Each case states what the server must do (status code, connection closed within a time, or
nothing stored); after every case the server must still answer a ping on a fresh connection.
The server runs with a short idle timeout (--idle-timeout 2) and --max-connections 1000, so the slow cases take
seconds. Peak RSS (VmHWM) and open file descriptors (/proc/PID/fd) are measured throughout and
must stay under the bounds below; at the end the fds must be back near the baseline and the
pings files must hold exactly the pings that were acknowledged.

Two more servers show connection exhaustion: 5,000 connections that send nothing or half a
request head against the defaults (but --header-timeout 3), and 3,000 silent ones against
--max-connections 1000; a ping on a new connection must be answered within a second while they
are held, and they must be closed by the header deadline or shed at the limit.

Usage: hostile-clients.py KIOTHC_BINARY [--connections N]
Prints a table and 'hostile-clients: N passed, M failed'; exit 1 on any failure.
"""
import argparse
import json
import os
import resource
import select
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "compat"))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from common import Server  # noqa: E402
from skips import under_ci  # noqa: E402

MAX_RSS_MB = 150
CONFIG = """\
projects:
  default:
    ping_key: hostile-ping-key
    api_keys: {read_write: hostile-rw-key-0123456789abcdef}
checks:
  target: {timeout: 1h}
  other: {timeout: 1h}
"""


class Probe:
    """The server process seen from /proc: peak RSS and open fds, sampled in the background."""

    def __init__(self, pid):
        self.pid, self.peak_fds, self.stop = pid, 0, threading.Event()
        threading.Thread(target=self._sample, daemon=True).start()

    def fds(self):
        try:
            return len(os.listdir(f"/proc/{self.pid}/fd"))
        except OSError:
            return -1

    def peak_rss_mb(self):
        return Probe.rss_mb(self.pid, "VmHWM")

    @staticmethod
    def rss_mb(pid, field):
        """VmHWM (peak) or VmRSS (now) of process `pid`, in MB."""
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
        return -1

    def _sample(self):
        while not self.stop.is_set():
            self.peak_fds = max(self.peak_fds, self.fds())
            time.sleep(0.05)


def connect(server):
    host, port = server.url.split("//")[1].split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    return sock


def exchange(server, raw, read_timeout=10):
    """Sends `raw` bytes, returns (status code or None, seconds until the server closed or answered)."""
    sock = connect(server)
    started = time.time()
    try:
        sock.sendall(raw)
    except OSError:
        pass
    return read_status(sock, started, read_timeout)


def read_status(sock, started, read_timeout):
    sock.settimeout(read_timeout)
    data = b""
    try:
        while b"\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    except OSError:
        pass
    finally:
        sock.close()
    status = None
    if data.startswith(b"HTTP/"):
        try:
            status = int(data.split(b" ")[1])
        except (IndexError, ValueError):
            status = None
    return status, time.time() - started


def closes_within(sock, seconds):
    """Whether the server closes `sock` (recv returns b'' or an error) within `seconds`."""
    sock.settimeout(seconds)
    try:
        while True:
            if not sock.recv(4096):
                return True
    except socket.timeout:
        return False
    except OSError:
        return True


def trickle(sock, data, pause=0.3):
    """Sends `data` a byte at a time, `pause` s apart, until the server closes; (bytes sent, closed)."""
    sent, closed = 0, False
    for byte in data:
        try:
            sock.sendall(bytes([byte]))
            sent += 1
        except OSError:
            closed = True
            break
        if closes_within(sock, pause):
            closed = True
            break
    sock.close()
    return sent, closed


def open_many(server, count, send=b"", budget=10):
    """Opens `count` connections without waiting for the server to accept each (a server that
    stops accepting must not hang the script); once connected, each sends `send`. Returns
    (sockets, how many connected within `budget` seconds)."""
    host, port = server.url.split("//")[1].split(":")
    socks, pending = [], {}
    poller = select.poll()
    for _ in range(count):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        sock.connect_ex((host, int(port)))
        socks.append(sock)
        pending[sock.fileno()] = sock
        poller.register(sock, select.POLLOUT)
    connected, deadline = 0, time.time() + budget
    while pending and time.time() < deadline:
        for fd, _ in poller.poll(100):
            sock = pending.pop(fd)
            poller.unregister(fd)
            if sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                connected += 1
                if send:
                    try:
                        sock.send(send)
                    except OSError:
                        pass
    return socks, connected


def closed_by(socks, deadline):
    """Waits until the server has closed every socket or `deadline` passes; returns how many it
    closed and the time of the last close."""
    poller, live = select.poll(), {}
    for sock in socks:
        live[sock.fileno()] = sock
        poller.register(sock, select.POLLIN)
    closed, last = 0, None
    while live and time.time() < deadline:
        for fd, _ in poller.poll(100):
            try:
                ended = not live[fd].recv(4096)
            except BlockingIOError:
                continue
            except OSError:
                ended = True
            if ended:
                poller.unregister(fd)
                del live[fd]
                closed, last = closed + 1, time.time()
    return closed, last


def still_open(sock):
    """Whether the server has not closed `sock`, without waiting."""
    try:
        return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False


def until(condition, seconds):
    """Polls `condition` every 50 ms for at most `seconds`; its last value."""
    deadline = time.time() + seconds
    while not condition() and time.time() < deadline:
        time.sleep(0.05)
    return condition()


def timed_ping(server, uuid, timeout=5):
    """A ping on a new connection: (status or None, seconds until the answer)."""
    host, port = server.url.split("//")[1].split(":")
    started = time.time()
    try:
        sock = socket.create_connection((host, int(port)), timeout=timeout)
        sock.sendall(f"GET /ping/{uuid} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    except OSError:
        return None, time.time() - started
    return read_status(sock, started, max(0.1, timeout - (time.time() - started)))


class Run:
    def __init__(self, server, probe, target):
        self.server, self.probe, self.target = server, probe, target
        self.rows, self.passed, self.failed = [], 0, 0
        self.acked = 0

    def ping_ok(self):
        """A fresh ping on a fresh connection is acknowledged."""
        status, _ = exchange(self.server, f"GET /ping/{self.target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        if status == 200:
            self.acked += 1
        return status == 200

    def row(self, name, observed, ok, passed="PASS"):
        """A row measured apart from the plain-HTTP server (no RSS or fd figures)."""
        self.passed += ok
        self.failed += not ok
        self.rows.append((name, observed, None, None, passed if ok else "FAIL"))

    def case(self, name, observed, ok, detail=""):
        alive = self.ping_ok()
        ok = ok and alive
        self.passed += ok
        self.failed += not ok
        self.rows.append((name, observed, self.probe.peak_rss_mb(), self.probe.peak_fds,
                          "PASS" if ok else "FAIL" + ("" if alive else " (server no longer answers pings)") + (f": {detail}" if detail else "")))


def tls_rows(binary, run):
    """An HTTPS listener (self-signed certificate, needs openssl): an idle HTTP/1.1 connection
    after the TLS handshake is closed, an idle HTTP/2 one gets GOAWAY, and a connection that
    never starts or never finishes the handshake is closed after the idle timeout."""
    if not shutil.which("openssl"):
        if under_ci():  # under CI a skip fails (scripts/skips.py)
            run.row("HTTPS listener", "no openssl (apt-get install -y openssl; .ci/run installs it)", False)
        else:
            run.rows.append(("HTTPS listener", "skipped: no openssl", None, None, "SKIPPED"))
        return
    root = tempfile.mkdtemp(prefix="kiothc-hostile-tls-")
    cert, key = os.path.join(root, "cert.pem"), os.path.join(root, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "2",
                    "-subj", "/CN=localhost"], check=True, capture_output=True)
    server = Server(binary, config=CONFIG, root=root,
                    arguments=["--tls-cert", cert, "--tls-key", key, "--idle-timeout", "2", "--header-timeout", "2"], log_level="notice")
    host, port = server.url.split("//")[1].split(":")
    try:
        def tls(alpn):
            context = ssl.create_default_context()
            context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
            context.set_alpn_protocols(alpn)
            return context.wrap_socket(socket.create_connection((host, int(port)), timeout=10))

        def expect_closed(name, sock):
            started = time.time()
            closed = closes_within(sock, 6)
            sock.close()
            run.row(name, f"closed after {time.time() - started:.1f} s" if closed else "open after 6 s", closed)

        sock = tls(["http/1.1"])
        sock.sendall(f"GET /ping/{server.uuid('default', 'target')} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        status, _ = read_status(sock, time.time(), 5)
        run.row("HTTPS: a ping over HTTP/1.1", f"status {status}", status == 200)
        expect_closed("HTTPS: idle HTTP/1.1 connection after the handshake", tls(["http/1.1"]))
        sock = tls(["http/1.1"])
        sock.sendall(f"GET /ping/{server.uuid('default', 'target')} HTTP/1.0\r\n\r\n".encode())
        started, data = time.time(), b""
        closed = False
        sock.settimeout(1.5)
        try:
            while True:
                chunk = sock.recv(4096)
                if not chunk:
                    closed = True
                    break
                data += chunk
        except (socket.timeout, OSError):
            pass
        sock.close()
        line = data.split(b"\r\n")[0].decode(errors="replace")
        run.row("HTTPS: an HTTP/1.0 ping without keep-alive", f"{line!r}, {'closed' if closed else 'open'} after {time.time() - started:.1f} s",
                line == "HTTP/1.0 200 OK" and closed)
        # HTTP/2: the client sends the connection preface and its SETTINGS, then nothing (no
        # SETTINGS ack, no PING ack). After the idle timeout (2 s) the server sends GOAWAY and a
        # PING; unanswered, the graceful-close timeout (2 s more) must close the connection.
        sock = tls(["h2"])
        sock.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00")
        started, frames, data, closed = time.time(), [], b"", False
        sock.settimeout(0.2)
        while time.time() - started < 9:
            try:
                chunk = sock.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                chunk = b""
            if not chunk:
                closed = True
                break
            data += chunk
            while len(data) >= 9 and len(data) >= 9 + int.from_bytes(data[:3], "big"):
                frames.append(data[3])
                data = data[9 + int.from_bytes(data[:3], "big"):]
        elapsed = time.time() - started
        sock.close()
        goaway = 7 in frames
        run.row("HTTPS: idle HTTP/2 connection that never answers PING",
                f"GOAWAY, then closed after {elapsed:.1f} s" if goaway and closed
                else f"{'GOAWAY' if goaway else 'no GOAWAY'}, {'closed' if closed else 'still open'} after {elapsed:.1f} s",
                goaway and closed and 3 < elapsed < 7)
        expect_closed("HTTPS: TCP connection that never starts the handshake", socket.create_connection((host, int(port)), timeout=10))
        sock = socket.create_connection((host, int(port)), timeout=10)
        sock.sendall(b"\x16\x03\x01\x00")  # the start of a ClientHello, never finished
        expect_closed("HTTPS: ClientHello started, never finished", sock)
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


# The header deadline of the 5,000-connection rows: longer than opening them takes on a loaded
# 2-core machine (CI, a parallel build: over 3 s), or the first ones are closed before the last
# are open and "all held" is never seen.
HEADER_DEADLINE = 8


def exhaustion_rows(binary, run):
    """Connection exhaustion, as it was found: 1,257 connections that sent nothing or half a
    request head held a server with the old defaults (--max-connections 1000, then the backlog)
    so that a normal ping timed out, and for the whole 60 s idle timeout."""
    root = tempfile.mkdtemp(prefix="kiothc-hostile-exhaust-")
    # Started with the usual soft limit of 1,024 open files, as from a login shell: serve raises
    # it to the hard limit, or it could not hold 5,000 connections.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(1024, soft), hard))
    try:
        server = Server(binary, config=CONFIG, root=root, arguments=["--header-timeout", str(HEADER_DEADLINE)], log_level="notice")
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    socks = []
    try:
        with open(f"/proc/{server.pid}/limits") as f:
            limit = next(line.split()[3] for line in f if line.startswith("Max open files"))
        run.row("serve started with a soft limit of 1,024 open files raises it to the hard limit",
                f"soft limit {limit}, hard {hard}", limit == str(hard) or hard == resource.RLIM_INFINITY)
        target = server.uuid("default", "target")
        server_fds = lambda: len(os.listdir(f"/proc/{server.pid}/fd"))  # noqa: E731
        baseline = server_fds()
        started = time.time()
        silent, silent_up = open_many(server, 2500)
        half, half_up = open_many(server, 2500, send=f"GET /ping/{target} HTTP/1.1\r\nHost: x\r\nUser-Agent: half".encode())
        socks = silent + half
        # The kernel completes connections before the server accepts them: "open" is when the
        # server holds them all (its fds), as when the exhaustion was found.
        held = until(lambda: server_fds() >= baseline + 5000, 10)
        opened = time.time()
        status, answered = timed_ping(server, target)
        rss = Probe.rss_mb(server.pid, "VmRSS")
        run.row(f"5,000 connections silent or with half a head (defaults, --header-timeout {HEADER_DEADLINE}): a ping on a new connection",
                f"{server_fds() - baseline} held by the server {opened - started:.1f} s after the first (RSS {rss:.0f} MB); "
                f"the ping: status {status} in {answered:.2f} s",
                held and status == 200 and answered < 1 and silent_up + half_up == 5000)
        closed, last = closed_by(socks, opened + HEADER_DEADLINE + 3)
        run.row(f"the 5,000 closed by the header deadline ({HEADER_DEADLINE} s), not the idle timeout (60 s)",
                f"{closed}/5000 closed, the last {last - opened:.1f} s after all were held" if last
                else f"0/5000 closed {time.time() - opened:.1f} s after all were held",
                closed == 5000 and last - opened < HEADER_DEADLINE + 2)
    finally:
        for sock in socks:
            sock.close()
        server.stop()
        shutil.rmtree(root, ignore_errors=True)

    root = tempfile.mkdtemp(prefix="kiothc-hostile-shed-")
    server = Server(binary, config=CONFIG, root=root, arguments=["--max-connections", "1000", "--header-timeout", "60"], log_level="notice")
    socks = []
    try:
        target = server.uuid("default", "target")
        server_fds = lambda: len(os.listdir(f"/proc/{server.pid}/fd"))  # noqa: E731
        baseline = server_fds()
        # 1,000 silent connections fill the limit; 1,000 more arrive later: the first ones,
        # waiting longest, make room for them.
        older, _ = open_many(server, 1000)
        socks = older
        until(lambda: server_fds() >= baseline + 985, 10)
        newer, _ = open_many(server, 1000)
        socks = older + newer
        shed, _ = closed_by(older, time.time() + 10)
        status, answered = timed_ping(server, target)
        fds = server_fds()
        newer_open = sum(still_open(sock) for sock in newer)
        run.row("2 × 1,000 silent connections, --max-connections 1000: the older ones are shed, a ping still answered",
                f"{shed}/1000 older closed, {newer_open}/1000 newer open, {fds - baseline} server connections; "
                f"a ping answered in {answered:.2f} s (status {status})",
                status == 200 and answered < 1 and shed == 1000 and newer_open >= 900 and fds < baseline + 1000 + 20)
    finally:
        for sock in socks:
            sock.close()
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binary")
    parser.add_argument("--connections", type=int, default=3000, help="concurrent connections of the flood case")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, args.connections + 1000, 6000)), hard))

    server = Server(args.binary, config=CONFIG, arguments=[
        "--idle-timeout", "2", "--max-request-body", "1048576", "--max-connections", "1000"],
        log_level="notice")
    probe = Probe(server.pid)
    target = server.uuid("default", "target")
    other = server.uuid("default", "other")
    run = Run(server, probe, target)
    time.sleep(0.3)
    baseline = probe.fds()
    try:
        # Slowloris: idle connections are closed.
        socks = [connect(server) for _ in range(200)]
        started = time.time()
        closed = sum(closes_within(s, 6 - (time.time() - started)) for s in socks)
        run.case("200 idle connections (nothing sent)", f"{closed}/200 closed after {time.time() - started:.1f} s", closed == 200)
        for s in socks:
            s.close()

        # Slowloris: a request head sent one byte every 0.3 s never completes in time.
        sock = connect(server)
        head = f"GET /ping/{target} HTTP/1.1\r\nHost: x\r\nX-Pad: {'a' * 200}\r\n\r\n".encode()
        started = time.time()
        sent, closed = trickle(sock, head)
        elapsed = time.time() - started
        run.case("head sent 1 byte / 0.3 s", f"closed after {elapsed:.1f} s, {sent} of {len(head)} bytes",
                 closed and elapsed < 5 and sent < len(head))

        # Slow body: a ping body trickling in is cut off too.
        sock = connect(server)
        sock.sendall(f"POST /ping/{other} HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n".encode())
        started = time.time()
        _, closed = trickle(sock, b"x" * 40)
        elapsed = time.time() - started
        run.case("body sent 1 byte / 0.3 s", f"closed after {elapsed:.1f} s", closed and elapsed < 8)

        # Huge headers.
        status, _ = exchange(server, f"GET /ping/{other} HTTP/1.1\r\nHost: x\r\nX-Big: {'a' * 200_000}\r\n\r\n".encode())
        run.case("one 200 KB header", f"status {status}", status in (400, 431) or status is None)
        many = "".join(f"X-H{i}: v\r\n" for i in range(5000))
        status, _ = exchange(server, f"GET /ping/{other} HTTP/1.1\r\nHost: x\r\n{many}\r\n".encode())
        run.case("5,000 headers", f"status {status}", status in (400, 431) or status is None)
        status, _ = exchange(server, f"GET /ping/{other}?{'a=b&' * 100_000} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        run.case("400 KB request line", f"status {status}", status in (400, 414, 431) or status is None)

        # Bodies over the limit: declared, chunked, endless.
        status, _ = exchange(server, f"POST /ping/{other} HTTP/1.1\r\nHost: x\r\nContent-Length: 50000000\r\n\r\n".encode() + b"x" * 65536)
        run.case("Content-Length 50 MB (limit 1 MiB)", f"status {status}", status == 413)
        sock = connect(server)
        sock.sendall(f"POST /ping/{other} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".encode())
        chunk = b"%x\r\n%s\r\n" % (65536, b"y" * 65536)
        started, sent = time.time(), 0
        try:
            while time.time() - started < 10:
                sock.sendall(chunk)
                sent += 65536
        except OSError:
            pass
        status, _ = read_status(sock, started, 5)
        run.case("endless chunked body", f"status {status} after {sent / 1048576:.1f} MiB sent", status in (413, None) and sent < 64 * 1048576)
        body = b"z" * (900 * 1024)
        status, _ = exchange(server, f"POST /ping/{other} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body)
        run.acked += status == 200
        run.case("900 KiB body (under the limit)", f"status {status}", status == 200)
        status, _ = exchange(server, f"POST /ping/{other} HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n".encode())
        run.acked += status == 200
        run.case("Content-Length with Transfer-Encoding", f"status {status}", status in (200, 400))

        # Malformed HTTP: answered 400 (or closed), never stored.
        for name, raw in [
            ("garbage request line", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 100 + b"\r\n\r\n"),
            ("no HTTP version", f"GET /ping/{other}\r\n\r\n".encode()),
            ("HTTP/9.9", f"GET /ping/{other} HTTP/9.9\r\nHost: x\r\n\r\n".encode()),
            ("header without a colon", f"GET /ping/{other} HTTP/1.1\r\nHost x\r\n\r\n".encode()),
            ("NUL in the path", f"GET /ping/{other}\x00 HTTP/1.1\r\nHost: x\r\n\r\n".encode()),
            ("negative Content-Length", f"POST /ping/{other} HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n".encode()),
            ("bad chunk size", f"POST /ping/{other} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n".encode()),
            ("two Content-Lengths", f"POST /ping/{other} HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab".encode()),
        ]:
            status, elapsed = exchange(server, raw, read_timeout=5)
            run.case(f"malformed: {name}", f"status {status}", status in (400, 404, 405, 413, 505, None) and elapsed < 5)

        # Path tricks: never a 200, never stored.
        for path in [
            f"/ping/../ping/{other}", f"/ping/%2e%2e/ping/{other}", f"/ping/{other}%2F", f"/ping/{other}%2Fstart",
            f"//ping/{other}", f"/ping//{other}", f"/ping/{other}//", f"/ping/{other}%00", f"/ping/{other}/%2e%2e",
            f"/ping/{other.upper()}", f"/ping/%c0%ae%c0%ae/{other}", f"/ping/hostile-ping-key/%2e%2e%2fother",
            "/ping/hostile-ping-key/oth%65r", f"/ping/{other}/%30", f"/api/v3/../../data/admin-token", "/static/../../etc/passwd",
            "/%2e%2e/%2e%2e/etc/passwd", f"/ping/{other}\\..\\start", f"/ping/{other}/start%20",
        ]:
            status, _ = exchange(server, f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
            run.case(f"path {path.replace(other, '<uuid>')}", f"status {status}", status in (400, 401, 404) or status is None)

        # Thousands of connections at once: the kernel queues them (backlog 4096) and the server
        # accepts them in order, shedding at --max-connections the ones waiting longest for a
        # request head; a ping arriving in the burst waits its turn, well under 2 s even in a
        # debug build.
        socks, refused = [], 0
        started = time.time()
        for _ in range(args.connections):
            try:
                socks.append(connect(server))
            except OSError:
                refused += 1
        time.sleep(0.5)
        during = probe.fds()
        status, answered = timed_ping(server, target)
        run.acked += status == 200
        open_after = sum(not closes_within(s, 0.01) for s in socks)
        for s in socks:
            s.close()
        run.case(f"{args.connections} concurrent connections",
                 f"{during} server fds while held, {open_after} kept open, {refused} refused, a ping answered in {answered:.2f} s",
                 status == 200 and answered < 2 and during < 1000 + 200)

        time.sleep(3)  # idle timeout
        after = probe.fds()
        run.case("fds back near the baseline", f"{baseline} -> {after}", after <= baseline + 10)
    finally:
        rss = probe.peak_rss_mb()
        probe.stop.set()
        status = server.terminate()
        pings = []
        for uuid_ in (target, other):
            path = os.path.join(server.data, "pings", uuid_ + ".jsonl")
            if os.path.exists(path):
                with open(path) as f:
                    pings += [json.loads(line) for line in f]
        server.stop()

    tls_rows(args.binary, run)
    exhaustion_rows(args.binary, run)
    stored_ok = len(pings) == run.acked
    run.rows.append(("pings stored = pings acknowledged", f"{len(pings)} stored, {run.acked} acknowledged", rss, probe.peak_fds,
                     "PASS" if stored_ok else "FAIL"))
    run.rows.append((f"peak RSS under {MAX_RSS_MB} MB", f"{rss:.1f} MB", rss, probe.peak_fds, "PASS" if rss < MAX_RSS_MB else "FAIL"))
    run.rows.append(("graceful stop", f"exit {status}", rss, probe.peak_fds, "PASS" if status == 0 else "FAIL"))
    for ok in (stored_ok, rss < MAX_RSS_MB, status == 0):
        run.passed += ok
        run.failed += not ok
    print("| case | observed | peak RSS, MB | peak fds | result |")
    print("|---|---|---:|---:|---|")
    for name, observed, rss_mb, fds, result in run.rows:
        print(f"| {name} | {observed} | {'' if rss_mb is None else f'{rss_mb:.1f}'} | {'' if fds is None else fds} | {result} |")
    print(f"hostile-clients: {run.passed} passed, {run.failed} failed")
    sys.exit(1 if run.failed else 0)


if __name__ == "__main__":
    main()
