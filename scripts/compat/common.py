"""Shared by the compatibility, crash, full-disk, hostile-client and secret scripts: a real
`kiothc serve` on a free loopback port with its own config and data directories, and a pass/fail
tally printing `NAME: N passed, M failed`."""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

CONFIG = """\
projects:
  ops:
    name: Operations
    ping_key: ops-ping-key-for-tests
    api_keys:
      read_only: ops-ro-key-0123456789abcdef0123
      read_write: ops-rw-key-0123456789abcdef0123
    channels:
      oncall: {kind: webhook, url: "http://127.0.0.1:9/alerts"}
  web:
    api_keys: {read_write: web-rw-key-0123456789abcdef0123}
checks:
  db-backup:
    project: ops
    name: Database Backup
    schedule: "0 3 * * *"
    tz: Europe/Riga
    tags: [prod, db]
    channels: [oncall]
  queue:
    project: ops
    name: 'Queue "Worker" \\ <b>'
    timeout: 5m
    grace: 1m
    tags: [prod]
  site:
    project: web
    name: Site
"""

RW = "ops-rw-key-0123456789abcdef0123"
RO = "ops-ro-key-0123456789abcdef0123"
WEB = "web-rw-key-0123456789abcdef0123"


class Server:
    """`kiothc serve` on a free loopback port. `root` (default: a new temp dir, removed by
    `stop`) holds `checks.d/`; `data` defaults to `root/data`. `restart()` starts it again on
    the same directories (after `kill()` or `terminate()`)."""

    def __init__(self, binary, config=CONFIG, root=None, data=None, arguments=(), env=None, log_level="info"):
        self.owns_root = root is None
        self.root = root or tempfile.mkdtemp(prefix="kiothc-compat-")
        self.config = os.path.join(self.root, "checks.d")
        self.data = data or os.path.join(self.root, "data")
        if config is not None:
            os.makedirs(self.config, exist_ok=True)
            with open(os.path.join(self.config, "checks.yaml"), "w") as f:
                f.write(config)
        self.binary = binary
        self.arguments = list(arguments) + ["--log-level", log_level]
        self.env = dict(os.environ, **(env or {}))
        self.log = ""
        self.start()

    def start(self):
        self.process = subprocess.Popen(
            [self.binary, "serve", "--config", self.config, "--data", self.data, "--listen", "127.0.0.1:0", *self.arguments],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=self.env)
        mark = len(self.log)
        threading.Thread(target=self._read, args=(self.process,), daemon=True).start()
        deadline = time.time() + 30
        while time.time() < deadline:
            match = re.search(r"serving pings at (\S+)", self.log[mark:])
            if match:
                self.url = match.group(1)
                break
            if self.process.poll() is not None:
                time.sleep(0.1)
                raise RuntimeError("server exited:\n" + self.log[mark:])
            time.sleep(0.05)
        else:
            self.process.kill()  # never leave a server behind
            self.process.wait()
            raise RuntimeError("server did not start:\n" + self.log[mark:])
        token = os.path.join(self.data, "admin-token")  # absent with --admin-token-file
        if os.path.exists(token):
            with open(token) as f:
                self.token = f.read().strip()

    def _read(self, process):
        for line in process.stderr:
            self.log += line

    @property
    def pid(self):
        return self.process.pid

    def uuid(self, project, key):
        import json
        with open(os.path.join(self.data, "registry.json")) as f:
            for entry in json.load(f)["checks"]:
                if entry["project"] == project and entry["key"] == key:
                    return entry["uuid"]
        raise KeyError(f"{project}/{key}")

    def request(self, path, method="GET", data=None, headers=None, timeout=10):
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def kiothc(self, *arguments, env=None):
        environment = dict(os.environ, **(env or {}))
        return subprocess.run([self.binary, *arguments], capture_output=True, text=True, env=environment, timeout=60)

    def kill(self):
        """SIGKILL, no warning: what a crash looks like to the store."""
        self.process.kill()
        self.process.wait()

    def terminate(self, timeout=30):
        """SIGTERM (a graceful stop); the exit status."""
        self.process.terminate()
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()

    def restart(self):
        self.start()

    def stop(self):
        if self.process.poll() is None:
            self.terminate(timeout=15)
        if self.owns_root:
            shutil.rmtree(self.root, ignore_errors=True)


class Tally:
    def __init__(self, name):
        self.name = name
        self.passed = 0
        self.failed = 0

    def check(self, condition, what):
        if condition:
            self.passed += 1
            print(f"ok    {what}")
        else:
            self.failed += 1
            print(f"FAIL  {what}")

    def finish(self):
        print(f"{self.name}: {self.passed} passed, {self.failed} failed")
        sys.exit(1 if self.failed else 0)
