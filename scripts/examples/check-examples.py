#!/usr/bin/env python3
"""Checks every example as a user would use it (see check-examples.sh).

    check-examples.py KIOTHC

Each check prints 'ok', 'FAIL' or 'skip' with a reason; the last line is
'examples: N passed, M failed, K skipped'. Exit status 1 when anything failed.
"""
import datetime
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

try:
    import yaml
except ImportError:  # the checks that parse YAML say so and skip
    yaml = None

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "scripts"))
from skips import under_ci  # noqa: E402  (under CI a skip is a failure)
EXAMPLES = os.path.join(REPO, "examples")
KIOTHC = sys.argv[1] if len(sys.argv) > 1 else os.path.join(REPO, ".build/debug/kiothc")
results = {"ok": 0, "FAIL": 0, "skip": 0}


def report(outcome, name, detail=""):
    if outcome == "skip" and under_ci():
        outcome, detail = "FAIL", f"{detail} (under CI=true a skip is a failure; .ci/run installs the tools)"
    results[outcome] += 1
    print(f"{outcome:4} {name}" + (f": {detail}" if detail else ""), flush=True)


def check(name, condition, detail=""):
    report("ok" if condition else "FAIL", name, "" if condition else detail)
    return condition


def run(arguments, **options):
    return subprocess.run(arguments, capture_output=True, text=True, timeout=120, **options)


def kiothc(*arguments, **options):
    return run([KIOTHC, *arguments], **options)


def path(*parts):
    return os.path.join(EXAMPLES, *parts)


def copy_replacing(source, target, old, new):
    """Writes `source` to `target` with `old` replaced by `new` (which must occur)."""
    with open(source) as file:
        text = file.read()
    assert old in text, f"{old!r} not in {source}"
    with open(target, "w") as file:
        file.write(text.replace(old, new))


def validator(command, what, sample, old, new, files, install):
    """Runs a schema validator on `files`, and on a copy of `sample` broken by replacing `old`
    with `new`, which it must refuse (so that a pass means something)."""
    if shutil.which(command[0]) is None:
        return report("skip", what, f"{command[0]} not installed ({install})")
    result = run([*command, *files])
    check(f"{' '.join(command)} ({what})", result.returncode == 0, result.stdout + result.stderr)
    with tempfile.TemporaryDirectory() as scratch:
        broken = os.path.join(scratch, os.path.basename(sample))
        copy_replacing(sample, broken, old, new)
        result = run([*command, broken])
        check(f"{command[0]} refuses a broken copy", result.returncode != 0, result.stdout)


# ---- kiothc check on every configuration ------------------------------------------------------

def check_configurations():
    directories = [os.path.join(REPO, "checks.d"), path("full"), path("cron"), path("systemd")]
    directories += [path("channels", name) for name in ("slack", "discord", "ntfy")]
    for directory in directories:
        result = kiothc("check", "--config", directory, "--strict")
        check(f"kiothc check --strict {os.path.relpath(directory, REPO)}", result.returncode == 0, result.stdout + result.stderr)
    # The checker is not a rubber stamp: a misspelt key in a copy of an example is refused.
    with tempfile.TemporaryDirectory() as scratch:
        broken = os.path.join(scratch, "broken")
        shutil.copytree(path("channels", "slack"), broken)
        target = os.path.join(broken, "slack.yaml")
        copy_replacing(target, target, "    schedule:", "    scheduel:")
        result = kiothc("check", "--config", broken)
        check("kiothc check refuses a broken copy", result.returncode == 1 and "unknown-key" in result.stdout, result.stdout)


# ---- cron and systemd: schedules agree with their checks -------------------------------------

def load_checks(directory):
    checks = {}
    for name in sorted(os.listdir(directory)):
        if name.endswith((".yaml", ".yml")):
            with open(os.path.join(directory, name)) as file:
                document = yaml.safe_load(file) or {}
            for key, check_ in (document.get("checks") or {}).items():
                checks[key] = check_
    return checks


def slug(name):
    return kiothc("slug", name).stdout.strip()


def check_crontab():
    if yaml is None:
        return report("skip", "crontab schedules", "no PyYAML")
    checks = {slug(c.get("name", key)): c for key, c in load_checks(path("cron")).items()}
    jobs = 0
    with open(path("cron", "crontab")) as file:
        for line in file:
            line = line.strip()
            if not line or line.startswith("#") or re.match(r"^[A-Z_]+=", line):
                continue
            fields = line.split(None, 5)
            schedule, command = " ".join(fields[:5]), fields[5]
            valid = kiothc("schedule", schedule, "--count", "1")
            check(f"crontab '{schedule}' is a valid schedule", valid.returncode == 0, valid.stderr)
            named = re.search(r"--slug ([a-z0-9_-]+)", command) or re.search(r"\)/([a-z0-9_-]+)", command)
            if named:
                jobs += 1
                target = checks.get(named.group(1))
                check(f"crontab job '{named.group(1)}' has a check with its schedule", target is not None and target.get("schedule") == schedule,
                      f"check: {target}")
    check("crontab jobs found", jobs >= 4, f"{jobs} jobs by slug")


def next_times_systemd(expression, count):
    result = run(["systemd-analyze", "calendar", f"--iterations={count}", expression], env={**os.environ, "TZ": "UTC", "LC_ALL": "C"})
    times = re.findall(r"(?:Next elapse|Iter\. #\d+): \w+ (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC", result.stdout)
    return [t.replace(" ", "T") + "Z" for t in times]


def check_systemd():
    if shutil.which("systemd-analyze") is None:
        return report("skip", "systemd units", "no systemd-analyze (apt-get install systemd)")
    with tempfile.TemporaryDirectory() as scratch:
        # The units as shipped, with the binary path pointed at the build under test.
        for name in ("kiothc.service", "db-backup.service"):
            copy_replacing(path("systemd", name), os.path.join(scratch, name), "/usr/local/bin/kiothc", KIOTHC)
        shutil.copy(path("systemd", "db-backup.timer"), scratch)
        result = run(["systemd-analyze", "verify", "kiothc.service", "db-backup.service", "db-backup.timer"], cwd=scratch)
        check("systemd-analyze verify kiothc.service db-backup.service db-backup.timer", result.returncode == 0 and not result.stderr.strip(),
              result.stdout + result.stderr)
        # --threshold is on the 0-100 scale behind the 0.0-10.0 shown: 20 is 2.0.
        security = run(["systemd-analyze", "security", "--offline=true", "--threshold=20", "kiothc.service"], cwd=scratch)
        level = re.search(r"Overall exposure level for kiothc.service: ([0-9.]+)", security.stdout)
        check(f"systemd-analyze security kiothc.service: exposure {level.group(1) if level else '?'} <= 2",
              security.returncode == 0 and level is not None, security.stdout[-400:] + security.stderr)
        # verify is not a rubber stamp: an unknown setting is refused.
        with open(os.path.join(scratch, "broken.service"), "w") as file:
            file.write("[Service]\nExecStart=/bin/true\nProtectSystem=sometimes\n")
        broken = run(["systemd-analyze", "verify", "broken.service"], cwd=scratch)
        check("systemd-analyze verify complains about a broken unit", broken.returncode != 0 or broken.stderr.strip(), broken.stderr)
    if yaml is None:
        return report("skip", "timer schedule", "no PyYAML")
    with open(path("systemd", "db-backup.timer")) as file:
        calendar = re.search(r"^OnCalendar=(.+)$", file.read(), re.M).group(1).strip()
    expected = load_checks(path("systemd"))["database-backup"]["schedule"]
    check("db-backup.timer's OnCalendar is the check's schedule", calendar == expected, f"{calendar!r} vs {expected!r}")
    ours = kiothc("schedule", expected, "--count", "5", "--format", "json")
    ours = json.loads(ours.stdout)["next"] if ours.returncode == 0 else []
    theirs = next_times_systemd(calendar, 5)
    check("kiothc schedule and systemd agree on the timer's next 5 runs", ours == theirs and len(ours) == 5, f"kiothc {ours} systemd {theirs}")


# ---- Kubernetes -------------------------------------------------------------------------------

def check_kubernetes():
    manifests = [path("kubernetes", "configmap.yaml"), path("kubernetes", "deployment.yaml")]
    validator(["kubernetes-validate", "--strict", "--quiet"], "Kubernetes API schema", manifests[1], "readinessProbe:", "readinessProbes:",
              manifests + [path("kubernetes", "git-sync.yaml")], "pip install kubernetes-validate")
    if yaml is None:
        return report("skip", "Kubernetes ConfigMap", "no PyYAML")
    with open(manifests[0]) as file:
        configmap = yaml.safe_load(file)
    with open(manifests[1]) as file:
        documents = {d["kind"]: d for d in yaml.safe_load_all(file)}
    pod = documents["Deployment"]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    env = {e["name"]: e.get("value") for e in container["env"]}
    mounts = {m["name"]: m for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    config_volume = next(name for name, v in volumes.items() if "configMap" in v)
    check("the Deployment mounts the ConfigMap as a directory (no subPath: updates reach it)",
          volumes[config_volume]["configMap"]["name"] == configmap["metadata"]["name"] and "subPath" not in mounts[config_volume]
          and mounts[config_volume]["mountPath"] == env["KIOTHC_CONFIG"])
    claim = next(v for v in volumes.values() if "persistentVolumeClaim" in v)["persistentVolumeClaim"]["claimName"]
    check("the data directory is the PersistentVolumeClaim", claim == documents["PersistentVolumeClaim"]["metadata"]["name"]
          and any(m["mountPath"] == env["KIOTHC_DATA"] for m in container["volumeMounts"]))
    check("one replica, recreated (one writer of the data directory)",
          documents["Deployment"]["spec"]["replicas"] == 1 and documents["Deployment"]["spec"]["strategy"]["type"] == "Recreate")
    with tempfile.TemporaryDirectory() as scratch:
        config = os.path.join(scratch, "checks.d")
        os.makedirs(config)
        for name, text in configmap["data"].items():
            with open(os.path.join(config, name), "w") as file:
                file.write(text)
        result = kiothc("check", "--config", config, "--strict")
        check("kiothc check of the ConfigMap's files", result.returncode == 0, result.stdout + result.stderr)
        # The probes' paths answer on a real server running the ConfigMap's configuration.
        secrets = {"OPS_PING_KEY": "opspingkey0123456789", "OPS_READ_ONLY_KEY": "readonlykey0123456789", "CHAT_WEBHOOK_URL": "http://127.0.0.1:9/hook"}
        with Server(config, os.path.join(scratch, "data"), secrets) as server:
            for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                probe_path = container[probe]["httpGet"]["path"]
                status = http_status(server.base + probe_path)
                check(f"{probe} {probe_path} answers 200", status == 200, f"got {status}")


def git_env(scratch):
    """git without the system's or the user's configuration: a global one of its own in `scratch`
    (never /dev/null, which `git config --global` would replace with a file)."""
    return {"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.path.join(scratch, "gitconfig"), "GIT_AUTHOR_NAME": "Example",
            "GIT_AUTHOR_EMAIL": "example@example.com", "GIT_COMMITTER_NAME": "Example", "GIT_COMMITTER_EMAIL": "example@example.com"}


def git(*arguments, cwd, scratch):
    """Runs git (see `git_env`); its output, stripped. Raises on failure."""
    result = run(["git", *arguments], cwd=cwd, env={**os.environ, **git_env(scratch)})
    if result.returncode != 0:
        raise RuntimeError(f"git {' '.join(arguments)}: {result.stderr}")
    return result.stdout.strip()


def wait_for_log(server, text, timeout=30):
    """Whether the server's log shows `text` within `timeout` seconds."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        server.log.seek(0)
        if text in server.log.read().decode(errors="replace"):
            return True
        time.sleep(0.1)
    return False


def check_kubernetes_git_sync():
    if yaml is None:
        return report("skip", "Kubernetes git-sync example", "no PyYAML")
    if shutil.which("git") is None:
        return report("skip", "Kubernetes git-sync example", "no git (apt-get install -y git)")
    with open(path("kubernetes", "git-sync.yaml")) as file:
        documents = {d["kind"]: d for d in yaml.safe_load_all(file)}
    pod = documents["Deployment"]["spec"]["template"]["spec"]
    containers = {c["name"]: c for c in pod["containers"]}
    server_container, sync = containers["kiothc"], containers["git-sync"]
    init = pod["initContainers"][0]

    def flags(container):
        return dict(a[2:].split("=", 1) for a in container["args"] if a.startswith("--") and "=" in a)
    root, link = flags(sync)["root"], flags(sync)["link"]
    env = {e["name"]: e.get("value") for e in server_container["env"]}
    check("git-sync example: KIOTHC_CONFIG is checks.d under git-sync's link", env["KIOTHC_CONFIG"] == f"{root}/{link}/checks.d", env["KIOTHC_CONFIG"])
    mounts = {c["name"]: {m["name"]: m for m in c["volumeMounts"]} for c in [server_container, sync, init]}
    volume = next(name for name, m in mounts["git-sync"].items() if m["mountPath"] == root)
    check("git-sync example: the server mounts the checkout read-only where git-sync writes it",
          mounts["kiothc"][volume]["mountPath"] == root and mounts["kiothc"][volume].get("readOnly") is True
          and mounts["git-sync-init"][volume]["mountPath"] == root)
    check("git-sync example: an init container syncs once, to the same root and link, before the server starts",
          "--one-time" in init["args"] and flags(init)["root"] == root and flags(init)["link"] == link and flags(init)["repo"] == flags(sync)["repo"])
    check("git-sync example: one replica, recreated", documents["Deployment"]["spec"]["replicas"] == 1
          and documents["Deployment"]["spec"]["strategy"]["type"] == "Recreate")
    # git-sync's layout, made with git as git-sync v4 makes it: the repository at its root, each
    # commit checked out into a worktree under .worktrees/, the link renamed over to the new one.
    with tempfile.TemporaryDirectory() as scratch:
        source = os.path.join(scratch, "source")
        shutil.copytree(os.path.join(REPO, "checks.d"), os.path.join(source, "checks.d"))
        git("init", "-q", "-b", "main", ".", cwd=source, scratch=scratch)
        git("add", "-A", cwd=source, scratch=scratch)
        git("commit", "-q", "-m", "checks", cwd=source, scratch=scratch)
        checkout = os.path.join(scratch, "git")
        os.makedirs(checkout)
        git("init", "-q", ".", cwd=checkout, scratch=scratch)

        def sync_once():
            git("fetch", "-q", source, "main", cwd=checkout, scratch=scratch)
            commit = git("rev-parse", "FETCH_HEAD", cwd=checkout, scratch=scratch)
            git("worktree", "add", "-q", "--detach", f".worktrees/{commit}", commit, cwd=checkout, scratch=scratch)
            os.symlink(f".worktrees/{commit}", os.path.join(checkout, link + ".new"))
            os.replace(os.path.join(checkout, link + ".new"), os.path.join(checkout, link))
            return commit
        first = sync_once()
        config = env["KIOTHC_CONFIG"].replace(root, checkout, 1)
        with Server(config, os.path.join(scratch, "data"), {}) as server:
            check("git-sync example: the server starts on the synced commit and logs it",
                  wait_for_log(server, f"(git commit {first[:7]})", timeout=5))
            backups = os.path.join(source, "checks.d", "backups.yaml")
            copy_replacing(backups, backups, "name: Database Backup", "name: Nightly Database Backup")
            git("commit", "-q", "-a", "-m", "rename the backup check", cwd=source, scratch=scratch)
            second = sync_once()
            check("git-sync example: a new commit synced is reloaded by itself, and the reload log names it",
                  wait_for_log(server, f"1 renamed, 0 settings changed; git commit {second[:7]}", timeout=30))
            with open(os.path.join(server.data, "admin-token")) as file:
                token = file.read().strip()
            import urllib.request
            request = urllib.request.Request(server.base + "/metrics", headers={"Authorization": f"Bearer {token}"})
            with urllib.request.urlopen(request, timeout=10) as answer:
                metrics = answer.read().decode()
            check("git-sync example: /metrics says which commit serves", f'commit="{second}"' in metrics,
                  "\n".join(line for line in metrics.splitlines() if line.startswith("kiothc_config_info")))


# ---- GitHub Actions ---------------------------------------------------------------------------

def check_workflow():
    workflow = path("github", "kiothc.yml")
    validator(["check-jsonschema", "--builtin-schema", "vendor.github-workflows"], "GitHub workflow schema", workflow,
              "runs-on: ubuntu-24.04", "runs_on: ubuntu-24.04", [workflow], "pip install check-jsonschema")
    if yaml is None:
        return report("skip", "GitHub workflow steps", "no PyYAML")
    with open(workflow) as file:
        document = yaml.safe_load(file)
    steps = {s.get("name"): s for s in document["jobs"]["check"]["steps"]}
    if shutil.which("git") is None:
        return report("skip", "GitHub workflow steps", "no git (apt-get install -y git)")
    # The lint and plan steps, run as the runner would (bash -e), with kiothc on PATH, in a
    # repository whose pull request renames a check: against a running server with a read-only
    # key, then offline against the base commit; then on a copy with an error.
    with tempfile.TemporaryDirectory() as scratch:
        work = os.path.join(scratch, "repo")
        shutil.copytree(os.path.join(REPO, "checks.d"), os.path.join(work, "checks.d"))
        git("init", "-q", "-b", "main", ".", cwd=work, scratch=scratch)
        git("add", "-A", cwd=work, scratch=scratch)
        git("commit", "-q", "-m", "base", cwd=work, scratch=scratch)
        base = git("rev-parse", "HEAD", cwd=work, scratch=scratch)
        backups = os.path.join(work, "checks.d", "backups.yaml")
        copy_replacing(backups, backups, "name: Database Backup", "name: Nightly Database Backup")
        git("commit", "-q", "-a", "-m", "rename the backup check", cwd=work, scratch=scratch)
        renamed_line = 1 + next(n for n, line in enumerate(open(backups).read().splitlines()) if "name: Nightly Database Backup" in line)
        bin_dir = os.path.join(scratch, "bin")
        os.makedirs(bin_dir)
        os.symlink(KIOTHC, os.path.join(bin_dir, "kiothc"))
        summary = os.path.join(scratch, "summary.md")
        env = {**os.environ, **document["env"], **git_env(scratch), "PATH": bin_dir + ":" + os.environ["PATH"], "GITHUB_STEP_SUMMARY": summary,
               "HOME": scratch, "BASE_SHA": base, "KIOTHC_PLAN_SERVER": "", "KIOTHC_API_KEY": ""}

        def step(name, **extra):
            if os.path.exists(summary):
                os.remove(summary)
            return run(["bash", "-e", "-c", steps[name]["run"]], cwd=work, env={**env, **extra})

        def summary_text():
            return open(summary).read() if os.path.exists(summary) else ""

        lint = step("kiothc check")
        check("workflow step 'kiothc check' passes on checks.d", lint.returncode == 0, lint.stdout + lint.stderr)
        check("workflow step 'kiothc plan' reads the read-only key from a secret and the server from a variable",
              steps["kiothc plan"]["env"]["KIOTHC_API_KEY"].startswith("${{ secrets.") and steps["kiothc plan"]["env"]["KIOTHC_PLAN_SERVER"].startswith("${{ vars."))
        # The server runs the base, with a read-only key for project ops.
        server_config = os.path.join(scratch, "server-checks.d")
        shutil.copytree(os.path.join(REPO, "checks.d"), server_config)
        projects = os.path.join(server_config, "projects.yaml")
        copy_replacing(projects, projects, "    name: Operations\n", "    name: Operations\n    api_keys: {read_only: example-read-only-key-0001}\n")
        renamed_row = "| `ops/db-backup` | `/ping/<ops-ping-key>/database-backup` |"
        annotation = f"::warning file=checks.d/backups.yaml,line={renamed_line},col=5,title=slug URL of ops/db-backup changes::"
        with Server(server_config, os.path.join(scratch, "server-data"), {}) as server:
            plan = step("kiothc plan", KIOTHC_PLAN_SERVER=server.base, KIOTHC_API_KEY="example-read-only-key-0001")
            text = summary_text()
            check("workflow step 'kiothc plan' (--server, read-only key) writes the markdown plan to the job summary",
                  plan.returncode == 0 and "### kiothc plan" in text and "| change | checks |" in text and renamed_row in text and "\nlive: " in text,
                  plan.stdout + plan.stderr + text)
            check("workflow step 'kiothc plan' (--server) annotates the renamed check's name: line", annotation in plan.stdout, plan.stdout)
            check("the read-only key appears nowhere", "example-read-only-key-0001" not in plan.stdout + plan.stderr + text)
        plan = step("kiothc plan")
        text = summary_text()
        check("workflow step 'kiothc plan' without the secret plans offline against the base commit, to the job summary",
              plan.returncode == 0 and renamed_row in text and annotation in plan.stdout, plan.stdout + plan.stderr + text)
        git("worktree", "remove", "--force", "../kiothc-base", cwd=work, scratch=scratch)
        with open(os.path.join(work, "checks.d", "typo.yaml"), "w") as file:
            file.write("checks:\n  x:\n    scheduel: '0 3 * * *'\n")
        lint = step("kiothc check")
        check("workflow step 'kiothc check' fails with a GitHub annotation on a broken checks.d",
              lint.returncode == 1 and re.search(r"^::error file=checks\.d/typo\.yaml,line=3,col=5,title=unknown-key::", lint.stdout, re.M),
              lint.stdout + lint.stderr)
        plan = step("kiothc plan")
        check("workflow step 'kiothc plan' fails on a broken checks.d", plan.returncode != 0, plan.stdout + plan.stderr)


# ---- Slack, Discord, ntfy: end to end ---------------------------------------------------------

class Receiver(http.server.ThreadingHTTPServer):
    """Records every request; answers 200."""

    def __init__(self):
        self.requests = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                outer.requests.append({"method": "POST", "path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *arguments):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def base(self):
        return f"http://127.0.0.1:{self.server_address[1]}"

    def wait(self, count, timeout=30):
        deadline = time.time() + timeout
        while len(self.requests) < count and time.time() < deadline:
            time.sleep(0.05)
        return self.requests[:count]


class Server:
    """kiothc serve on a kernel-chosen loopback port."""

    def __init__(self, config, data, environment):
        self.config, self.data, self.environment = config, data, environment

    def __enter__(self):
        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen([KIOTHC, "serve", "--config", self.config, "--data", self.data, "--listen", "127.0.0.1:0", "--durability", "write"],
                                        stdout=subprocess.DEVNULL, stderr=self.log, env={**os.environ, **self.environment})
        deadline = time.time() + 60
        while time.time() < deadline:
            self.log.seek(0)
            found = re.search(rb"serving pings at (\S+)", self.log.read())
            if found:
                self.base = found.group(1).decode()
                return self
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.__exit__()
        self.log.seek(0)
        raise RuntimeError("kiothc serve did not start:\n" + self.log.read().decode(errors="replace"))

    def __exit__(self, *exception):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)

    def uuid(self, project, key):
        with open(os.path.join(self.data, "registry.json")) as file:
            return next(c["uuid"] for c in json.load(file)["checks"] if c["project"] == project and c["key"] == key)


def http_status(url, data=None):
    import urllib.request
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data, method="POST" if data is not None else "GET"), timeout=10) as response:
            return response.status
    except Exception as error:  # noqa: BLE001 - the status, or what went wrong
        return getattr(error, "code", str(error))


# A name that breaks naive templates: quotes, a backslash, markup, non-ASCII.
HOSTILE_NAME = 'Café "Backup" \\ <b>&'


def validate_slack(request, direction):
    assert request["headers"].get("content-type", "").startswith("application/json"), request["headers"]
    payload = json.loads(request["body"])
    assert isinstance(payload["text"], str) and HOSTILE_NAME in payload["text"]
    assert 0 < len(payload["blocks"]) <= 50
    for block in payload["blocks"]:
        assert block["type"] in ("section", "context"), block
        texts = [block["text"]] if block["type"] == "section" else block["elements"]
        for text in texts:
            assert text["type"] == "mrkdwn" and 0 < len(text["text"]) <= 3000, text
    assert (":red_circle:" if direction == "down" else ":large_green_circle:") in payload["text"]


def validate_discord(request, direction):
    assert request["headers"].get("content-type", "").startswith("application/json"), request["headers"]
    payload = json.loads(request["body"])
    assert payload["allowed_mentions"] == {"parse": []}
    assert 0 < len(payload["embeds"]) <= 10
    total = 0
    for embed in payload["embeds"]:
        assert 0 < len(embed["title"]) <= 256 and HOSTILE_NAME in embed["title"]
        assert isinstance(embed["color"], int) and 0 <= embed["color"] <= 0xFFFFFF
        assert embed["color"] == (0xED4245 if direction == "down" else 0x57F287)
        datetime.datetime.fromisoformat(embed["timestamp"].replace("Z", "+00:00"))
        assert len(embed.get("description", "")) <= 4096
        for field in embed.get("fields", []):
            assert 0 < len(field["name"]) <= 256 and 0 < len(field["value"]) <= 1024, field
        total += len(embed["title"]) + len(embed.get("description", "")) + sum(len(f["name"]) + len(f["value"]) for f in embed.get("fields", []))
    assert total <= 6000


def validate_ntfy(request, direction):
    assert request["headers"].get("authorization") == "Bearer tk_example"
    assert request["headers"].get("content-type", "").startswith("application/json"), request["headers"]
    payload = json.loads(request["body"])
    assert isinstance(payload["topic"], str) and re.fullmatch(r"[-_A-Za-z0-9]{1,64}", payload["topic"])
    assert payload["title"] == f"{HOSTILE_NAME} is {direction}"
    assert HOSTILE_NAME in payload["message"] and len(payload["message"].encode()) <= 4096
    assert payload["priority"] in (1, 2, 3, 4, 5)
    assert all(isinstance(tag, str) for tag in payload["tags"])


def check_channels():
    # service: the variable holding its URL, the path of that URL, the payload's validator
    services = {
        "slack": ("SLACK_WEBHOOK_URL", "/services/T000/B000/XXXX", validate_slack),
        "discord": ("DISCORD_WEBHOOK_URL", "/api/webhooks/123/abc", validate_discord),
        "ntfy": ("NTFY_URL", "/", validate_ntfy),  # JSON is published to the root URL
    }
    for service, (variable, hook, validate) in services.items():
        with tempfile.TemporaryDirectory() as scratch:
            config = os.path.join(scratch, "checks.d")
            shutil.copytree(path("channels", service), config)
            target = os.path.join(config, f"{service}.yaml")
            copy_replacing(target, target, "name: Database Backup", "name: " + json.dumps(HOSTILE_NAME))
            receiver = Receiver()
            try:
                environment = {variable: receiver.base + hook, "NTFY_AUTHORIZATION": "Bearer tk_example"}
                with Server(config, os.path.join(scratch, "data"), environment) as server:
                    uuid = server.uuid("ops", "db-backup")
                    first = http_status(f"{server.base}/ping/{uuid}", data=b"")
                    down = http_status(f"{server.base}/ping/{uuid}/fail", data=b"disk full")
                    received = receiver.wait(1)
                    up = http_status(f"{server.base}/ping/{uuid}", data=b"")
                    received = receiver.wait(2)
                    if not check(f"{service}: a fail ping and a success ping each send one alert", [first, down, up] == [200, 200, 200] and len(received) == 2,
                                 f"pings {[first, down, up]}, {len(received)} requests"):
                        continue
                    for request, direction in zip(received, ("down", "up")):
                        try:
                            assert request["path"] == hook, request["path"]
                            validate(request, direction)
                            report("ok", f"{service}: the {direction} alert is a valid {service} payload")
                        except (AssertionError, KeyError, ValueError, TypeError) as error:
                            report("FAIL", f"{service}: the {direction} alert is a valid {service} payload", f"{error!r}: {request}")
            finally:
                receiver.shutdown()


# ---- Load balancer: nginx and HAProxy in front of two instances -------------------------------

def replacing(source, target, replacements):
    """Writes `source` to `target` with each (old, new) applied; every `old` must occur."""
    with open(source) as file:
        text = file.read()
    for old, new in replacements:
        assert old in text, f"{old!r} not in {source}"
        text = text.replace(old, new)
    with open(target, "w") as file:
        file.write(text)


def free_port():
    import socket
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port, process, timeout=20):
    import socket
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            return False
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def lb_request(port, method, target, body=None, headers=None, tls=False):
    """One request from 127.0.0.2 (so the balancer's client address differs from its own
    address towards the instances, 127.0.0.1): (status, body) or (error text, "")."""
    import http.client
    import ssl
    try:
        if tls:
            connection = http.client.HTTPSConnection("127.0.0.1", port, timeout=30, source_address=("127.0.0.2", 0),
                                                     context=ssl._create_unverified_context())
        else:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=("127.0.0.2", 0))
        connection.request(method, target, body=body, headers=headers or {})
        response = connection.getresponse()
        text = response.read().decode(errors="replace")
        connection.close()
        return response.status, text
    except Exception as error:  # noqa: BLE001 - reported as the status
        return repr(error), ""


def lb_oversized(port):
    """A ping declaring a body one byte over the limit, without sending it: the status."""
    import socket
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(b"POST /ping/x/y HTTP/1.1\r\nHost: hc.example.com\r\nContent-Length: 10485761\r\n\r\n")
        head = b""
        while b"\r\n" not in head:
            chunk = connection.recv(1024)
            if not chunk:
                break
            head += chunk
    found = re.match(rb"HTTP/1\.[01] (\d{3})", head)
    return int(found.group(1)) if found else head[:80]


class Unstored(http.server.ThreadingHTTPServer):
    """Stands in for an instance that cannot store: /-/ready 200, every ping 503 (as kiothc
    answers when its transaction failed). Counts the pings it answered, by method."""

    def __init__(self):
        self.pings = {"GET": 0, "POST": 0}
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def answer(self, status, text):
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(text)))
                    self.end_headers()
                    self.wfile.write(text)
                except BrokenPipeError:
                    pass  # HAProxy retrying on a 503 closes the connection once it read the status

            def do_GET(self):
                if self.path == "/-/ready":
                    return self.answer(200, b"OK")
                outer.pings["GET"] += 1
                self.answer(503, b"ping not stored, try again")

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                outer.pings["POST"] += 1
                self.answer(503, b"ping not stored, try again")

            def log_message(self, *arguments):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


class Balancer:
    """nginx or HAProxy running a copy of the example with its listeners moved to free loopback
    ports (plain and TLS, a throwaway certificate) and its two instances replaced by `backends`."""

    def __init__(self, kind, scratch, backends, extra=()):
        self.kind, self.scratch, self.backends, self.extra = kind, scratch, backends, extra

    def __enter__(self):
        self.http, self.https = free_port(), free_port()
        cert, key, pem = (os.path.join(self.scratch, name) for name in ("cert.pem", "key.pem", "both.pem"))
        a, b = (f"127.0.0.1:{port}" for port in self.backends)
        if self.kind == "nginx":
            config = os.path.join(self.scratch, "kiothc.conf")
            replacing(path("load-balancer", "nginx.conf"), config, [
                ("127.0.0.1:8001", a), ("127.0.0.1:8002", b),
                ("listen 443 ssl http2;", f"listen 127.0.0.1:{self.https} ssl http2;"), ("listen [::]:443 ssl http2;", ""),
                ("listen 80;", f"listen 127.0.0.1:{self.http};"), ("listen [::]:80;", ""),
                ("/etc/ssl/certs/hc.example.com.pem", cert), ("/etc/ssl/private/hc.example.com.key", key), *self.extra])
            main = nginx_main(self.scratch, config, foreground=True)
            command = ["nginx", "-p", self.scratch + "/", "-e", os.path.join(self.scratch, "error.log"), "-c", main]
        else:
            config = os.path.join(self.scratch, "haproxy.cfg")
            replacing(path("load-balancer", "haproxy.cfg"), config, [
                ("127.0.0.1:8001", a), ("127.0.0.1:8002", b),
                ("    bind :80\n", f"    bind 127.0.0.1:{self.http}\n"), ("    bind :::80 v6only\n", ""),
                ("    bind :443 ssl", f"    bind 127.0.0.1:{self.https} ssl"),
                ("    bind :::443 v6only ssl crt /etc/haproxy/certs/hc.example.com.pem alpn h2,http/1.1\n", ""),
                ("/etc/haproxy/certs/hc.example.com.pem", pem),
                # Run unprivileged-free in the foreground: no chroot, user switch, socket or syslog.
                ("    chroot /var/lib/haproxy\n", ""), ("    user haproxy\n", ""), ("    group haproxy\n", ""),
                ("    stats socket /run/haproxy/admin.sock mode 660 level admin\n", ""), ("    log /dev/log local0\n", ""),
                ("    log global\n", ""), ("    option httplog\n", ""),
                # Two file descriptors per connection: within a container's limit.
                ("maxconn 20000", "maxconn 1000"), *self.extra])
            command = ["haproxy", "-db", "-f", config]
        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(command, stdout=self.log, stderr=self.log)
        if not (wait_for_port(self.http, self.process) and wait_for_port(self.https, self.process)):
            self.__exit__()
            self.log.seek(0)
            raise RuntimeError(f"{self.kind} did not start:\n" + self.log.read().decode(errors="replace"))
        return self

    def __exit__(self, *exception):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


def nginx_main(scratch, site, foreground=False):
    """A main nginx.conf holding `site` in its http block, everything under `scratch`."""
    main = os.path.join(scratch, "main.conf")
    temp = "".join(f"    {name}_temp_path {os.path.join(scratch, name)};\n" for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    with open(main, "w") as file:
        file.write(("daemon off;\nmaster_process off;\n" if foreground else "")
                   + f"error_log {os.path.join(scratch, 'error.log')};\npid {os.path.join(scratch, 'nginx.pid')};\n"
                   + f"events {{ worker_connections 256; }}\nhttp {{\n    access_log off;\n{temp}    include {site};\n}}\n")
    return main


def stored_pings(server):
    """The pings an instance stored (file store): a list of JSON objects."""
    try:
        uuid = server.uuid("ops", "nightly")
    except (OSError, StopIteration):
        return []
    pings_file = os.path.join(server.data, "pings", f"{uuid}.jsonl")
    if not os.path.exists(pings_file):
        return []
    with open(pings_file) as file:
        return [json.loads(line) for line in file if line.strip()]


LB_PING_KEY = "lbexamplepingkey012345"
LB_CONFIG = {"projects.yaml": "projects:\n  ops:\n    ping_key: {env: LB_PING_KEY}\n",
             "nightly.yaml": "project: ops\nchecks:\n  nightly:\n    name: Nightly\n    timeout: 1d\n"}


def check_balancer_end_to_end(kind, scratch):
    """Pings through the balancer to two real instances (file stores of their own: what is
    checked here is the balancer, not the shared store), then to one that cannot store."""
    config = os.path.join(scratch, "checks.d")
    os.makedirs(config, exist_ok=True)
    for name, text in LB_CONFIG.items():
        with open(os.path.join(config, name), "w") as file:
            file.write(text)
    ping = f"/ping/{LB_PING_KEY}/nightly"
    environment = {"LB_PING_KEY": LB_PING_KEY}
    with Server(config, os.path.join(scratch, f"{kind}-a"), environment) as first, Server(config, os.path.join(scratch, f"{kind}-b"), environment) as second:
        ports = [int(s.base.rsplit(":", 1)[1]) for s in (first, second)]
        with Balancer(kind, scratch, ports) as balancer:
            spoofed = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
            plain = [lb_request(balancer.http, "GET", ping, headers=spoofed)[0] for _ in range(6)]
            secure = [lb_request(balancer.https, "GET", ping, tls=True)[0] for _ in range(2)]
            posted = lb_request(balancer.http, "POST", ping, body=b"x" * 1024, headers={"Content-Type": "text/plain"})[0]
            stored = [stored_pings(first), stored_pings(second)]
            everything = stored[0] + stored[1]
            check(f"{kind}: pings through it get 200 (HTTP, HTTPS, POST with a body)", plain + secure + [posted] == [200] * 9,
                  f"HTTP {plain}, HTTPS {secure}, POST {posted}")
            check(f"{kind}: both instances take pings", len(stored[0]) > 0 and len(stored[1]) > 0 and len(everything) == 9,
                  f"{len(stored[0])} and {len(stored[1])} stored")
            check(f"{kind}: X-Forwarded-For is set to the client's address, not appended to the client's header",
                  everything and all(p.get("remote_addr") == "127.0.0.2" for p in everything), str([p.get("remote_addr") for p in everything]))
            schemes = sorted(p.get("scheme") for p in everything)
            check(f"{kind}: X-Forwarded-Proto says the listener's scheme (the client's header replaced)",
                  schemes == ["http"] * 7 + ["https"] * 2, str(schemes))
            oversized = lb_oversized(balancer.http)
            check(f"{kind}: a body over --max-request-body gets 413 at the balancer", oversized == 413
                  and len(stored_pings(first) + stored_pings(second)) == 9, f"got {oversized}")
            first.__exit__()
            after = [lb_request(balancer.http, "GET", ping)[0] for _ in range(4)]
            check(f"{kind}: with one instance stopped, pings still get 200 from the other", after == [200] * 4, str(after))
        # An instance that cannot store (503) next to one that can: GET pings are retried on the
        # other instance; a POST that got 503 is not (it is answered 503), as the comments say.
        unstored = Unstored()
        try:
            # nginx: no passive failure accounting here, so the 503 instance stays in the rotation.
            extra = [("max_fails=2 fail_timeout=10s", "max_fails=0")] if kind == "nginx" else []
            with Balancer(kind, scratch, [unstored.server_address[1], ports[1]], extra) as balancer:
                gets = [lb_request(balancer.http, "GET", ping)[0] for _ in range(6)]
                posts = [lb_request(balancer.http, "POST", ping, body=b"done")[0] for _ in range(6)]
            check(f"{kind}: a GET ping answered 503 by one instance is retried on the other",
                  gets == [200] * 6 and unstored.pings["GET"] > 0, f"answers {gets}, GETs that reached the 503 instance {unstored.pings['GET']}")
            check(f"{kind}: a POST ping answered 503 is not retried (the client gets the 503)",
                  unstored.pings["POST"] > 0 and posts.count(503) == unstored.pings["POST"] and posts.count(200) == 6 - unstored.pings["POST"],
                  f"answers {posts}, POSTs that reached the 503 instance {unstored.pings['POST']}")
        finally:
            unstored.shutdown()


def check_load_balancer():
    unit = path("load-balancer", "kiothc@.service")
    with open(path("load-balancer", "nginx.conf")) as file:
        nginx = file.read()
    with open(path("load-balancer", "haproxy.cfg")) as file:
        haproxy = file.read()
    with open(unit) as file:
        unit_text = file.read()
    # The three files describe one setup: the same two ports, the same body limit.
    check("load-balancer: nginx and HAProxy send to 127.0.0.1:8001 and :8002, the unit listens on 127.0.0.1:%i",
          re.findall(r"server (127\.0\.0\.1:\d+)", nginx) == ["127.0.0.1:8001", "127.0.0.1:8002"]
          and re.findall(r"server kiothc-\d+ (127\.0\.0\.1:\d+)", haproxy) == ["127.0.0.1:8001", "127.0.0.1:8002"]
          and "--listen 127.0.0.1:%i" in unit_text)
    limit = re.search(r"--max-request-body (\d+)", unit_text)
    check("load-balancer: the body limit is the unit's --max-request-body (10m in nginx, the 413 rule in HAProxy)",
          limit is not None and int(limit.group(1)) == 10 * 1024 * 1024 and "client_max_body_size 10m;" in nginx
          and f"gt {limit.group(1)} }}" in haproxy)
    check("load-balancer: KIOTHC_STORE comes from an EnvironmentFile, not the command line",
          "EnvironmentFile=/etc/kiothc/store.env" in unit_text
          and not any("postgres" in line for line in unit_text.splitlines() if not line.startswith("#")))
    with tempfile.TemporaryDirectory() as scratch:
        os.chmod(scratch, 0o755)
        certificate = run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=hc.example.com",
                           "-keyout", os.path.join(scratch, "key.pem"), "-out", os.path.join(scratch, "cert.pem")]) \
            if shutil.which("openssl") else None
        if certificate is None or certificate.returncode != 0:
            return report("skip", "load-balancer configurations", "no openssl for a throwaway certificate (apt-get install openssl)")
        with open(os.path.join(scratch, "both.pem"), "w") as file:
            for name in ("cert.pem", "key.pem"):
                with open(os.path.join(scratch, name)) as part:
                    file.write(part.read())
        cert_paths = [("/etc/ssl/certs/hc.example.com.pem", os.path.join(scratch, "cert.pem")),
                      ("/etc/ssl/private/hc.example.com.key", os.path.join(scratch, "key.pem"))]

        # The unit: as the others (the binary pointed at the build under test).
        if shutil.which("systemd-analyze") is None:
            report("skip", "kiothc@.service", "no systemd-analyze (apt-get install systemd)")
        else:
            units = os.path.join(scratch, "units")
            os.makedirs(units)
            replacing(unit, os.path.join(units, "kiothc@.service"), [("/usr/local/bin/kiothc", KIOTHC)])
            result = run(["systemd-analyze", "verify", "kiothc@8001.service"], cwd=units)
            check("systemd-analyze verify kiothc@8001.service (kiothc@.service)", result.returncode == 0 and not result.stderr.strip(),
                  result.stdout + result.stderr)
            security = run(["systemd-analyze", "security", "--offline=true", "--threshold=20", "kiothc@8001.service"], cwd=units)
            level = re.search(r"Overall exposure level for kiothc@8001.service: ([0-9.]+)", security.stdout)
            check(f"systemd-analyze security kiothc@8001.service: exposure {level.group(1) if level else '?'} <= 2",
                  security.returncode == 0 and level is not None, security.stdout[-400:] + security.stderr)

        # nginx -t on the file as shipped (certificate paths pointed at the throwaway one).
        if shutil.which("nginx") is None:
            report("skip", "nginx.conf", "nginx not installed (apt-get install nginx)")
        else:
            for name, extra in (("nginx -t (load-balancer/nginx.conf)", []), ("nginx -t refuses a broken copy", [("proxy_next_upstream ", "proxy_next_upstreams ")])):
                site = os.path.join(scratch, "site.conf")
                replacing(path("load-balancer", "nginx.conf"), site, cert_paths + extra)
                main = nginx_main(scratch, site)
                result = run(["nginx", "-t", "-p", scratch + "/", "-e", os.path.join(scratch, "error.log"), "-c", main])
                check(name, (result.returncode == 0) == (not extra), result.stdout + result.stderr)
            check_balancer_end_to_end("nginx", scratch)

        if shutil.which("haproxy") is None:
            report("skip", "haproxy.cfg", "haproxy not installed (apt-get install haproxy)")
        else:
            for name, extra in (("haproxy -c (load-balancer/haproxy.cfg)", []), ("haproxy -c refuses a broken copy", [("option httpchk", "option httpcheck")])):
                config = os.path.join(scratch, "haproxy-check.cfg")
                replacing(path("load-balancer", "haproxy.cfg"), config, [("/etc/haproxy/certs/hc.example.com.pem", os.path.join(scratch, "both.pem"))] + extra)
                result = run(["haproxy", "-c", "-f", config])
                check(name, (result.returncode == 0) == (not extra), result.stdout + result.stderr)
            check_balancer_end_to_end("haproxy", scratch)


def check_swift_versions():
    """The Swift version the project states (Package.swift's swift-tools-version, the README,
    container images in examples/ and the Containerfile) is at least what the dependencies' own
    manifests declare (their swift-tools-version, in .build/checkouts after a build): an older
    toolchain or image cannot build the project."""
    def tools_version(path):
        with open(path) as file:
            found = re.match(r"//\s*swift-tools-version:\s*(\d+)\.(\d+)", file.readline())
        return (int(found.group(1)), int(found.group(2))) if found else None

    ours = tools_version(os.path.join(REPO, "Package.swift"))
    if not check("Package.swift states its swift-tools-version", ours is not None):
        return
    checkouts = os.path.join(REPO, ".build", "checkouts")
    theirs = {name: tools_version(os.path.join(checkouts, name, "Package.swift"))
              for name in (sorted(os.listdir(checkouts)) if os.path.isdir(checkouts) else [])
              if os.path.exists(os.path.join(checkouts, name, "Package.swift"))}
    theirs = {name: version for name, version in theirs.items() if version}
    if not theirs:
        report("skip", "the dependencies' swift-tools-versions", "no .build/checkouts (run swift build first)")
    needed = max([ours, *theirs.values()])
    newest = ", ".join(f"{name} {v[0]}.{v[1]}" for name, v in theirs.items() if v == needed) or "Package.swift"
    check(f"Package.swift's swift-tools-version {ours[0]}.{ours[1]} is at least the dependencies' ({needed[0]}.{needed[1]}: {newest})",
          ours >= needed)
    with open(os.path.join(REPO, "README.md")) as file:
        readme = [("README.md", m.group(1), m.group(2)) for m in re.finditer(r"\bSwift (\d+)\.(\d+)", file.read())]
    check("README.md states the Swift version it needs (Swift X.Y)", bool(readme))
    images = []
    paths = [os.path.join(root, name) for root, _, files in os.walk(EXAMPLES) for name in files]
    for path in paths + [os.path.join(REPO, "Containerfile")]:
        with open(path, errors="replace") as file:
            images += [(os.path.relpath(path, REPO), m.group(1), m.group(2))
                       for m in re.finditer(r"\bswift:(\d+)\.(\d+)", file.read())]
    check("Containerfile names its Swift builder image (swift:X.Y)", any(where == "Containerfile" for where, _, _ in images))
    for where, major, minor in readme + images:
        check(f"{where}: Swift {major}.{minor} can build the project (needs {needed[0]}.{needed[1]})",
              (int(major), int(minor)) >= needed, "older than the swift-tools-version the project and its dependencies need")


def main():
    if not os.access(KIOTHC, os.X_OK):
        print(f"examples: {KIOTHC} is not executable; run swift build first", file=sys.stderr)
        return 1
    for section in (check_swift_versions, check_configurations, check_crontab, check_systemd, check_kubernetes, check_kubernetes_git_sync, check_workflow, check_channels,
                    check_load_balancer):
        try:
            section()
        except Exception as error:  # noqa: BLE001 - a crashing section is a failure, with its reason
            report("FAIL", section.__name__, repr(error))
    print(f"examples: {results['ok']} passed, {results['FAIL']} failed, {results['skip']} skipped")
    return 1 if results["FAIL"] else 0


if __name__ == "__main__":
    sys.exit(main())
