"""Shared by the compatibility scripts: a real `kiothc serve` on a free loopback port with its
own config and data directories, and a pass/fail tally printing `NAME: N passed, M failed`."""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
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
    def __init__(self, binary, config=CONFIG):
        self.root = tempfile.mkdtemp(prefix="kiothc-compat-")
        self.config = os.path.join(self.root, "checks.d")
        self.data = os.path.join(self.root, "data")
        os.makedirs(self.config)
        with open(os.path.join(self.config, "checks.yaml"), "w") as f:
            f.write(config)
        self.binary = binary
        self.log = ""
        self.process = subprocess.Popen(
            [binary, "serve", "--config", self.config, "--data", self.data, "--listen", "127.0.0.1:0", "--log-level", "info"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        threading.Thread(target=self._read, daemon=True).start()
        deadline = time.time() + 30
        while time.time() < deadline:
            match = re.search(r"serving pings at (\S+)", self.log)
            if match:
                self.url = match.group(1)
                break
            if self.process.poll() is not None:
                raise RuntimeError("server exited:\n" + self.log)
            time.sleep(0.05)
        else:
            raise RuntimeError("server did not start:\n" + self.log)
        with open(os.path.join(self.data, "admin-token")) as f:
            self.token = f.read().strip()

    def _read(self):
        for line in self.process.stderr:
            self.log += line

    def uuid(self, project, key):
        import json
        with open(os.path.join(self.data, "registry.json")) as f:
            for entry in json.load(f)["checks"]:
                if entry["project"] == project and entry["key"] == key:
                    return entry["uuid"]
        raise KeyError(f"{project}/{key}")

    def request(self, path, method="GET", data=None, headers=None):
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def kiothc(self, *arguments, env=None):
        environment = dict(os.environ, **(env or {}))
        return subprocess.run([self.binary, *arguments], capture_output=True, text=True, env=environment, timeout=60)

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
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
