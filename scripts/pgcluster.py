"""A private PostgreSQL server for the script tests (issue 20), through scripts/pg-cluster: real
PostgreSQL from the distribution's package, reached through a Unix socket in the cluster's own
directory (and on 127.0.0.1 with tcp=True).

    from pgcluster import PostgresCluster, NotInstalled
    from skips import skip_group

    with tempfile.TemporaryDirectory() as tmp:
        try:
            cluster = PostgresCluster(tmp).start()  # an empty (or new) directory
        except NotInstalled as error:
            skip_group("NAME", str(error))          # fails under CI=true
        with cluster:                               # stopped on the way out
            url = cluster.create_database("t1")  # postgres://postgres@/t1?host=...
            cluster.restart()

The directory's parent must be reachable by the user the server runs as (`postgres` when the
tests run as root); a directory made by tempfile under /tmp is. Every wait is bounded.

Run as a script it tests itself: `python3 scripts/pgcluster.py`, last line
'pgcluster: N passed, M failed'.
"""

import os
import re
import shutil
import subprocess

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pg-cluster")
PSQL_TIMEOUT = 60
# Under the script's own bounds (60 s to start, 60 + 30 s to stop), plus initdb.
SCRIPT_TIMEOUT = 240


class NotInstalled(Exception):
    """PostgreSQL is missing (scripts/pg-cluster exited 3); the message names the package."""


class Failed(Exception):
    """scripts/pg-cluster or psql failed; the message has its output (the server log's tail)."""


def run_script(arguments, env=None, timeout=SCRIPT_TIMEOUT):
    """Runs scripts/pg-cluster ARGUMENTS; the CompletedProcess (text). Raises
    subprocess.TimeoutExpired past `timeout` seconds."""
    return subprocess.run(["/bin/bash", SCRIPT, *arguments], stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, env=env, timeout=timeout)


def program(name):
    """A PostgreSQL program (psql) of the newest version under /usr/lib/postgresql, else PATH."""
    lib = "/usr/lib/postgresql"
    found = []
    for version in os.listdir(lib) if os.path.isdir(lib) else []:
        path = os.path.join(lib, version, "bin", name)
        if os.access(path, os.X_OK):
            key = [int(part) if part.isdigit() else 0 for part in version.split(".")]
            found.append((key, path))
    if found:
        return max(found)[1]
    return shutil.which(name)


class PostgresCluster:
    """A cluster in `directory` (created, or an existing empty one; the server owns it while
    it runs); `tcp`: True (a free port) or a port, to listen on 127.0.0.1 too. Starts on `start()` or on entering the `with` block, which stops it on leaving;
    `remove=True` also deletes the directory then. `env`: the script's environment (the self
    test hides PostgreSQL with it)."""

    def __init__(self, directory, tcp=False, remove=False, env=None):
        self.directory = os.path.abspath(directory)
        self.tcp = tcp
        self.remove = remove
        self.env = env
        self.url = None
        self.tcp_url = None
        self.started = False

    @property
    def socket_directory(self):
        return self.directory

    def start(self):
        """Starts the server; sets `url` (and `tcp_url`). Raises NotInstalled or Failed."""
        tcp = [] if self.tcp is False else ["--tcp"] if self.tcp is True else ["--tcp", str(self.tcp)]
        arguments = ["start", *tcp, self.directory]
        try:
            result = run_script(arguments, env=self.env)
        except subprocess.TimeoutExpired:
            self._remove_quietly()
            raise Failed(f"scripts/pg-cluster {' '.join(arguments)} did not finish within {SCRIPT_TIMEOUT} s")
        if result.returncode == 3:
            raise NotInstalled(result.stderr.strip())
        lines = result.stdout.splitlines()
        if result.returncode != 0 or len(lines) != (1 if self.tcp is False else 2):
            self._remove_quietly()
            raise Failed(f"scripts/pg-cluster {' '.join(arguments)} failed (exit {result.returncode}):\n{result.stderr}{result.stdout}")
        self.url = lines[0]
        self.tcp_url = None if self.tcp is False else lines[1]
        self.started = True
        return self

    def restart(self):
        """Stops the server (fast shutdown) and starts it again on the same socket and port."""
        self._script(["restart", self.directory])

    def stop(self):
        """Stops the server (and deletes the directory when `remove`); again does nothing."""
        if not self.started:
            return
        self.started = False
        self._script(["stop"] + (["--remove"] if self.remove else []) + [self.directory])

    def create_database(self, name):
        """Creates the empty database `name` (a-z, 0-9, _); its URL through the socket."""
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
            raise ValueError(f"database name '{name}' must be 1-63 of a-z, 0-9 and _, not starting with a digit")
        self.psql(f"CREATE DATABASE {name}")
        return f"postgres://postgres@/{name}?host={self.directory}"

    def psql(self, command, database="kiothc"):
        """Runs one SQL command through the socket; its unaligned, tuples-only output."""
        psql = program("psql")
        if psql is None:
            raise NotInstalled("psql is missing; install it with: apt-get install -y postgresql")
        env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
        env["PGCONNECT_TIMEOUT"] = "10"
        arguments = [psql, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", self.directory, "-U", "postgres",
                     "-d", database, "-c", command]
        try:
            result = subprocess.run(arguments, stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env,
                                    timeout=PSQL_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise Failed(f"psql -d {database} -c '{command}' did not finish within {PSQL_TIMEOUT} s")
        if result.returncode != 0:
            raise Failed(f"psql -d {database} -c '{command}' failed (exit {result.returncode}): {result.stderr}")
        return result.stdout

    def __enter__(self):
        if not self.started:
            self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def _script(self, arguments):
        try:
            result = run_script(arguments, env=self.env)
        except subprocess.TimeoutExpired:
            raise Failed(f"scripts/pg-cluster {' '.join(arguments)} did not finish within {SCRIPT_TIMEOUT} s")
        if result.returncode != 0:
            raise Failed(f"scripts/pg-cluster {' '.join(arguments)} failed (exit {result.returncode}):\n{result.stderr}")
        return result.stdout

    def _remove_quietly(self):
        # A failed start leaves neither a server nor (when asked) the directory behind; the
        # error being raised says why it failed.
        try:
            run_script(["stop"] + (["--remove"] if self.remove else []) + [self.directory], env=self.env, timeout=120)
        except subprocess.TimeoutExpired:
            pass


def _processes_in(data):
    """The live processes working in a data directory (PostgreSQL's processes change into it;
    a zombie has no working directory)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cwd = os.readlink(f"/proc/{entry}/cwd")
            except OSError:
                continue
            if cwd in (data, f"{data} (deleted)"):
                found.append(int(entry))
    return found


def _wait_until_no_processes(data, timeout=10):
    """The processes still working in `data` after at most `timeout` seconds of polling
    (pg_ctl stop returns once the PID file is gone, a moment before the process is)."""
    import time
    deadline = time.monotonic() + timeout
    while True:
        left = _processes_in(data)
        if not left or time.monotonic() >= deadline:
            return left
        time.sleep(0.05)


def _self_test():
    import sys
    import tempfile

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "compat"))
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from common import Tally
    from skips import skip_group

    tally = Tally("pgcluster")
    with tempfile.TemporaryDirectory() as empty:
        missing = dict(os.environ, PG_CLUSTER_LIB=empty, PATH=empty)
        try:
            PostgresCluster(os.path.join(empty, "pg"), env=missing).start()
            tally.check(False, "without PostgreSQL, start raises NotInstalled")
        except NotInstalled as error:
            tally.check("apt-get install -y postgresql" in str(error), f"without PostgreSQL, start raises NotInstalled naming the package: {error}")
        tally.check(not os.path.exists(os.path.join(empty, "pg")), "without PostgreSQL nothing is created")

    with tempfile.TemporaryDirectory() as tmp:
        try:
            cluster = PostgresCluster(tmp).start()
        except NotInstalled as error:
            skip_group("pgcluster", str(error))
        with cluster:
            tally.check(cluster.url == f"postgres://postgres@/kiothc?host={tmp}", f"the URL names the socket directory: {cluster.url}")
            url = cluster.create_database("py_first")
            tally.check(url == f"postgres://postgres@/py_first?host={tmp}", f"create_database gives its URL: {url}")
            tally.check(cluster.psql("select 1", database="py_first") == "1\n", "psql select 1 in the new database")
            cluster.psql("create table kept (n int); insert into kept values (7)", database="py_first")
            with open(os.path.join(tmp, "data", "postmaster.pid")) as file:
                before = int(file.readline())
            tally.check(before in _processes_in(os.path.join(tmp, "data")), "the running server's processes are found")
            cluster.restart()
            with open(os.path.join(tmp, "data", "postmaster.pid")) as file:
                after = int(file.readline())
            tally.check(before != after, "restart starts a new server")
            tally.check(cluster.psql("select n from kept", database="py_first") == "7\n", "what was committed survives the restart")
            for bad in ["", "1abc", "Upper", "x; drop", "a" * 64]:
                try:
                    cluster.create_database(bad)
                    tally.check(False, f"create_database refuses '{bad}'")
                except ValueError:
                    tally.check(True, f"create_database refuses '{bad[:20]}'")
        tally.check(not os.path.exists(os.path.join(tmp, "data", "postmaster.pid")), "leaving the with block stops the server")
        tally.check(not _wait_until_no_processes(os.path.join(tmp, "data")), "no process of the stopped server is left")

    with tempfile.TemporaryDirectory() as tmp:
        directory = os.path.join(tmp, "cluster")
        os.chmod(tmp, 0o711)  # the server's user must reach the cluster's directory inside
        with PostgresCluster(directory, tcp=True, remove=True) as cluster:
            port = int(cluster.tcp_url.split(":")[2].split("/")[0])
            tally.check(cluster.url.endswith(f"&port={port}"), f"with tcp, the socket URL names the port: {cluster.url}")
            result = subprocess.run([program("psql"), "-X", "-A", "-t", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-d", "kiothc",
                                     "-c", "select 1"], capture_output=True, text=True, timeout=PSQL_TIMEOUT)
            tally.check(result.stdout == "1\n", f"with tcp, psql on 127.0.0.1:{port} answers")
            other = os.path.join(tmp, "other")
            try:
                PostgresCluster(other, tcp=port, remove=True).start()
                tally.check(False, "a second cluster on the same port fails")
            except Failed as error:
                tally.check("Address already in use" in str(error) and f"port {port} on 127.0.0.1 is taken" in str(error),
                            "a port another cluster holds fails, with the server log's tail")
            tally.check(not os.path.exists(other), "a failed start with remove=True leaves no directory")
        tally.check(not os.path.exists(directory), "remove=True deletes the directory on the way out")
    tally.finish()


if __name__ == "__main__":
    _self_test()
