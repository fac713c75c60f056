#!/usr/bin/env python3
"""No secret value leaks (SPEC §1.2, §7, §10): a full run of `kiothc serve` with every kind of
secret, then a grep of everything a person or a client can see.

Secrets used: project ping keys (literal, {env:}, and one generated into the data directory),
API keys (literal, {env:}, {file:}), webhook URLs carrying a token (from {env:}, and a literal one
that cannot be reached so its failures are logged), a webhook header from {file:}, native channel
kinds' credentials (a Telegram bot token from {env:}, sent to a gateway whose 404 page echoes the
request's path, token included, so the logged failure must have it cut out; a PagerDuty routing
key from {file:}), and the admin token from --admin-token-file.

The run: pings by UUID and by slug URL with each ping key, a fail and a success (down and up
alerts to both channels), every API route with the read-write and read-only keys and a wrong
key (the applied catalog of `plan --server` too), /metrics, the dashboard (login, overview, check page, ping body; as admin, read-write,
read-only and logged out), the public status page (its key only in the start's log and the
admin's overview), POST /-/reload, a reload
that fails on a missing secret, then `kiothc check` (text, json, --resolve-secrets), `plan` (--data, and --server with
each key and a wrong one),
`status` (table, json) and `pings`; then every `--help`, `pause`, `resume` and `run` with the CLI's
secret variables set (KIOTHC_API_KEY, KIOTHC_PING_KEY, KIOTHC_PING_URL, and an invalid
KIOTHC_UUID).

Grepped: the server's whole log (at --log-level debug), every HTTP response (headers and body),
every CLI output. No secret may appear, with one exception decided for issue 26: the dashboard's
overview and check page show the project's ping key in the slug URLs to the admin (every
project's) and to a project's read-write key (its own project's), and those pages are checked to
show that key and no other secret; read-only, logged-out and every other response never show it. In the data directory, a file may hold a secret only
with mode 0600 (the generated ping keys, in ping-keys.json); every such file is listed. A
generated admin token is 0600 and logged once, at its generation only.

Usage: secret-leaks.py KIOTHC_BINARY
Prints 'secrets: N passed, M failed'; exit 1 on any leak.
"""
import http.server
import json
import os
import re
import shutil
import stat
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "compat"))
from common import Server, Tally  # noqa: E402

SECRETS = {
    "ops ping key (literal)": "opsPingKeyLiteral7f3a9c",
    "web ping key (env)": "webPingKeyFromEnv4b8e2d",
    "ops read-write API key (env)": "opsRwApiKeyFromEnv9c1d7e5a",
    "ops read-only API key (file)": "opsRoApiKeyFromFile2e6f8b3c",
    "web read-write API key (literal)": "webRwApiKeyLiteral5a9d3f1e",
    "webhook URL token (env)": "hookUrlTokenFromEnv8d2c6a4f",
    "unreachable webhook URL token (literal)": "deadUrlTokenLiteral3f7b1e9d",
    "webhook header token (file)": "headerTokenFromFile6c4a2e8b",
    "telegram bot token (env)": "123456:tgBotTokenFromEnv5e1c9a7f",
    "pagerduty routing key (file)": "pdRoutingKeyFromFile4d8b2f6a",
    "admin token (--admin-token-file)": "adminTokenFromFile1a5e9c7d3b",
    "invalid KIOTHC_UUID (env)": "notAUuidButSecretAnyway7e2b",
}


class Receiver(http.server.ThreadingHTTPServer):
    def __init__(self):
        self.hits = []
        hits = self.hits

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                hits.append(self.path)
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                # A gateway that does not know the path and says so, quoting it.
                body = f"Cannot POST {self.path}".encode() if self.path.startswith("/echo/") else b""
                self.send_response(404 if body else 200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


def config(secrets_dir, receiver_port):
    s = SECRETS
    return f"""\
projects:
  ops:
    ping_key: {s["ops ping key (literal)"]}
    status_page: true
    api_keys:
      read_write: {{env: OPS_RW}}
      read_only: {{file: {secrets_dir}/ops-ro}}
    channels:
      hook:
        kind: webhook
        url: {{env: HOOK_URL}}
        headers: {{Authorization: {{file: {secrets_dir}/header}}}}
        body: '{{"name": "$NAME", "status": "$STATUS"}}'
      dead:
        kind: webhook
        url: "http://127.0.0.1:9/alerts/{s["unreachable webhook URL token (literal)"]}"
      tg:
        kind: telegram
        bot_token: {{env: TG_TOKEN}}
        chat_id: -100123
        api_url: "http://127.0.0.1:{receiver_port}/echo"
      pd:
        kind: pagerduty
        routing_key: {{file: {secrets_dir}/pd}}
        api_url: "http://127.0.0.1:{receiver_port}"
  web:
    ping_key: {{env: WEB_PING_KEY}}
    api_keys: {{read_write: {s["web read-write API key (literal)"]}}}
  gen: {{}}
checks:
  backup: {{project: ops, name: Backup, timeout: 1h, channels: "*"}}
  site: {{project: web, name: Site, timeout: 1h}}
  job: {{project: gen, name: Job, timeout: 1h}}
"""


def main():
    binary = sys.argv[1]
    tally = Tally("secrets")
    receiver = Receiver()
    root = tempfile.mkdtemp(prefix="kiothc-secrets-")
    secrets_dir = os.path.join(root, "secrets")
    os.makedirs(secrets_dir)
    for name, value in (("ops-ro", SECRETS["ops read-only API key (file)"]),
                        ("header", "Bearer " + SECRETS["webhook header token (file)"]),
                        ("admin", SECRETS["admin token (--admin-token-file)"]),
                        ("pd", SECRETS["pagerduty routing key (file)"])):
        with open(os.path.join(secrets_dir, name), "w") as f:
            f.write(value + "\n")
        os.chmod(os.path.join(secrets_dir, name), 0o600)
    env = {
        "OPS_RW": SECRETS["ops read-write API key (env)"],
        "WEB_PING_KEY": SECRETS["web ping key (env)"],
        "HOOK_URL": f"http://127.0.0.1:{receiver.server_address[1]}/hook/{SECRETS['webhook URL token (env)']}",
        "TG_TOKEN": SECRETS["telegram bot token (env)"],
    }
    server = Server(binary, config=config(secrets_dir, receiver.server_address[1]), root=root, env=env, log_level="debug",
                    arguments=["--admin-token-file", os.path.join(secrets_dir, "admin")])
    seen = []  # (what, text) a person or client can see
    # Dashboard pages that may show ping keys (issue 26): (what, text, the secrets it may show).
    shown = []

    def get(path, method="GET", data=None, headers=None, allowed=()):
        request = urllib.request.Request(server.url + path, data=data, method=method, headers=headers or {})
        opener = urllib.request.build_opener(NoRedirect)
        try:
            with opener.open(request, timeout=10) as reply:
                status, head, body = reply.status, str(reply.headers), reply.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as error:
            status, head, body = error.code, str(error.headers), error.read().decode("utf-8", "replace")
        what = f"{method} {path.split('?')[0]} -> {status}"
        if allowed:
            shown.append((what, head + body, allowed))
        else:
            seen.append((what, head + body))
        return status, head, body

    def cookie_of(head):
        return next((line.split(":", 1)[1].split(";")[0].strip() for line in head.splitlines() if line.lower().startswith("set-cookie")), "")

    def log_in(key):
        _, head, _ = get("/login", method="POST", data=f"key={key}".encode(),
                         headers={"Content-Type": "application/x-www-form-urlencoded", "Origin": server.url})
        return cookie_of(head)

    try:
        generated = json.load(open(os.path.join(server.data, "ping-keys.json")))["keys"]["gen"]
        SECRETS["gen ping key (generated)"] = generated
        rw, ro = {"X-Api-Key": SECRETS["ops read-write API key (env)"]}, {"X-Api-Key": SECRETS["ops read-only API key (file)"]}
        backup = server.uuid("ops", "backup")
        for path in [f"/ping/{backup}/start", f"/ping/{SECRETS['ops ping key (literal)']}/backup/fail",
                     f"/ping/{SECRETS['web ping key (env)']}/site", f"/ping/{generated}/job", f"/ping/{backup}"]:
            status, _, _ = get(path, method="POST", data=b"job output")
            tally.check(status == 200, f"ping {path.split('/')[-1]} -> {status}")
        # The unreachable channel's first attempt is logged at once; a retry (10 s later, then
        # backing off) logs the same line with the same error, so it would show nothing more.
        def attempt_logged(channel, text=""):
            return any("alert not delivered" in line and f"channel=ops/{channel}" in line and text in line for line in server.log.splitlines())

        def hits(prefix):
            return [hit for hit in receiver.hits if hit.startswith(prefix)]
        deadline = time.time() + 15
        while time.time() < deadline and (len(hits("/hook/")) < 2 or len(hits("/v2/enqueue")) < 2 or not attempt_logged("dead")
                                          or not attempt_logged("tg", "404")):
            time.sleep(0.2)
        tally.check(len(hits("/hook/")) >= 2 and all(SECRETS["webhook URL token (env)"] in hit for hit in hits("/hook/")),
                    f"the webhook got the down and up alerts at its secret URL ({len(hits('/hook/'))})")
        tally.check(attempt_logged("dead"), "the unreachable channel's failed attempt is logged (and grepped)")
        tally.check(len(hits("/v2/enqueue")) >= 2, f"pagerduty got the trigger and the resolve ({len(hits('/v2/enqueue'))})")
        tally.check(any(SECRETS["telegram bot token (env)"] in hit for hit in hits("/echo/")), "telegram's request carried the token in its path")
        tally.check(attempt_logged("tg", "[redacted]"), "telegram's failed attempt is logged with the echoed token cut out (and grepped)")
        for path in ["/api/v3/checks/", f"/api/v3/checks/{backup}", f"/api/v3/checks/{backup}/pings/",
                     f"/api/v3/checks/{backup}/pings/1/body", f"/api/v3/checks/{backup}/flips/", "/api/v3/channels/", "/api/v3/catalog/",
                     "/api/v3/status/"]:
            for headers in (rw, ro, {"X-Api-Key": "wrong-key-wrong-key-wrong"}):
                get(path, headers=headers)
        get(f"/api/v1/checks/", headers={"X-Api-Key": SECRETS["web read-write API key (literal)"]})
        status, _, _ = get("/metrics", headers={"Authorization": "Bearer " + SECRETS["admin token (--admin-token-file)"]})
        tally.check(status == 200, f"/metrics with the admin token -> {status}")
        status, head, _ = get(f"/login?token={SECRETS['admin token (--admin-token-file)']}")
        cookie = cookie_of(head)
        tally.check(bool(cookie), "dashboard login with the admin token sets a session cookie")
        # The lead's rule (docs/dashboard.md, "Ping URLs"): the ping keys show in the slug URLs
        # of the overview and check page for the admin (every project's) and a project's
        # read-write key (its own project's), who may ping anyway; for nobody else.
        ping_keys = {"ops": "ops ping key (literal)", "web": "web ping key (env)", "gen": "gen ping key (generated)"}
        for path in ["/", f"/checks/{backup}"]:
            status, _, body = get(path, headers={"Cookie": cookie}, allowed=tuple(ping_keys.values()))
            tally.check(status == 200, f"dashboard {path} -> {status}")
            expected = ping_keys.values() if path == "/" else [ping_keys["ops"]]
            tally.check(all(f"/ping/{SECRETS[name]}/" in body for name in expected), f"admin: {path} shows {', '.join(expected)} in the slug URLs")
        for path in [f"/checks/{backup}/pings/1", "/static/dashboard.js"]:
            status, _, _ = get(path, headers={"Cookie": cookie})
            tally.check(status == 200, f"dashboard {path} -> {status}")
        read_write = log_in(SECRETS["ops read-write API key (env)"])
        tally.check(bool(read_write), "dashboard login with the ops read-write key")
        for path in ["/", f"/checks/{backup}", "/?wall=1"]:
            status, _, body = get(path, headers={"Cookie": read_write}, allowed=(ping_keys["ops"],))
            if "wall" not in path:
                tally.check(status == 200 and f"/ping/{SECRETS[ping_keys['ops']]}/backup" in body,
                            f"ops read-write: {path} shows the ops ping key in the slug URL (and no other secret)")
        read_only = log_in(SECRETS["ops read-only API key (file)"])
        tally.check(bool(read_only), "dashboard login with the ops read-only key")
        for path in ["/", f"/checks/{backup}", "/?wall=1"]:
            status, _, body = get(path, headers={"Cookie": read_only})
            tally.check(status == 200 and "&lt;ops-ping-key&gt;" in body if "wall" not in path else status == 200,
                        f"ops read-only: {path} shows the placeholder, not the key -> {status}")
        for path in ["/", f"/checks/{backup}", "/?wall=1", "/timezone?tz=UTC"]:
            get(path)  # logged out: the login form (or the zone's redirect), grepped with no exception
        # The public status page (status_page: true): its path is logged at start; the page shows
        # names and statuses only (grepped with everything else, and for what identifies a check).
        logged = re.search(r"public status page of project 'ops' at \S+(/status/[A-Za-z0-9_-]{32})", server.log)
        tally.check(logged is not None, "the ops status page's URL is logged at start")
        status_path = logged.group(1) if logged else "/status/none"
        status, _, page = get(status_path)
        tally.check(status == 200 and "<td>Backup</td>" in page, f"GET the status page -> {status}")
        tally.check(all(x not in page for x in (backup, "/ping/", "/checks/", "job output", status_path)),
                    "the status page shows no UUID, ping URL, check link, body or its own key")
        status, _, page = get("/status/" + "A" * 32)
        tally.check(status == 404 and "ops" not in page.lower().replace("status", ""), f"a wrong status key -> {status}, naming no project")
        status, _, _ = get("/-/reload", method="POST", headers={"Authorization": "Bearer " + SECRETS["admin token (--admin-token-file)"]})
        tally.check(status == 200, f"POST /-/reload -> {status}")
        # A reload that fails on a missing secret names the secret, never a value.
        with open(os.path.join(server.config, "extra.yaml"), "w") as f:
            f.write("projects:\n  more:\n    ping_key: {env: NOT_SET_ANYWHERE}\n")
        status, _, _ = get("/-/reload", method="POST", headers={"Authorization": "Bearer " + SECRETS["admin token (--admin-token-file)"]})
        tally.check(status == 400, f"POST /-/reload with a missing secret -> {status}")
        os.remove(os.path.join(server.config, "extra.yaml"))
        get("/-/reload", method="POST", headers={"Authorization": "Bearer " + SECRETS["admin token (--admin-token-file)"]})

        common = ["--config", server.config]
        for arguments, cli_env in [
            (["check", *common], {}), (["check", *common, "--format", "json"], {}), (["check", *common, "--format", "github"], {}),
            (["check", *common, "--resolve-secrets"], env), (["check", *common, "--resolve-secrets", "--format", "json"], {}),
            (["plan", *common, "--data", server.data], {}), (["status", *common, "--data", server.data], {}),
            (["plan", *common, "--server", server.url], {"KIOTHC_API_KEY": SECRETS["ops read-only API key (file)"]}),
            (["plan", *common, "--server", server.url, "--format", "json"], {"KIOTHC_API_KEY": SECRETS["ops read-write API key (env)"]}),
            (["plan", *common, "--server", server.url], {"KIOTHC_API_KEY": "wrong-key-wrong-key-wrong"}),
            (["status", *common, "--data", server.data, "--format", "json"], {}),
            (["pings", "ops/backup", *common, "--data", server.data], {}),
            (["pings", "ops/backup", *common, "--data", server.data, "--format", "json"], {}),
        ]:
            result = server.kiothc(*arguments, env=cli_env)
            seen.append((f"kiothc {' '.join(a for a in arguments if not a.startswith('/'))} (exit {result.returncode})",
                         result.stdout + result.stderr))
        # The CLI's secret variables: every --help with them set (an option's default once showed
        # KIOTHC_API_KEY), pause and resume by KIOTHC_API_KEY, run by KIOTHC_PING_KEY and by
        # KIOTHC_PING_URL, and an invalid KIOTHC_UUID, which is rejected without its value.
        ping_key = SECRETS["ops ping key (literal)"]
        variables = {"KIOTHC_API_KEY": SECRETS["ops read-write API key (env)"], "KIOTHC_PING_KEY": ping_key,
                     "KIOTHC_PING_URL": f"{server.url}/ping/{ping_key}/backup", "KIOTHC_UUID": SECRETS["invalid KIOTHC_UUID (env)"],
                     "KIOTHC_SERVER": server.url}
        listing = server.kiothc("--help").stdout.split("SUBCOMMANDS:")[-1]
        commands = [line.split()[0] for line in listing.splitlines() if line.startswith("  ") and line.split()[0][0].isalpha()]
        tally.check(len(commands) >= 10, f"kiothc --help lists {len(commands)} subcommands")
        without_url = {k: v for k, v in variables.items() if k not in ("KIOTHC_PING_URL", "KIOTHC_UUID")}
        for arguments, cli_env, want in [(["--help"], variables, 0), *[([c, "--help"], variables, 0) for c in commands],
                                         (["pause", "ops/backup"], variables, 0), (["resume", "ops/backup"], variables, 0),
                                         (["run", "--", "true"], {k: v for k, v in variables.items() if k != "KIOTHC_UUID"}, 0),
                                         (["run", "--slug", "backup", "--", "true"], without_url, 0),
                                         (["run", "--", "true"], {"KIOTHC_UUID": variables["KIOTHC_UUID"]}, 64)]:
            result = server.kiothc(*arguments, env=cli_env)
            tally.check(result.returncode == want, f"kiothc {' '.join(arguments)} with the secret variables: exit {result.returncode}")
            seen.append((f"kiothc {' '.join(arguments)} with KIOTHC_* secrets (exit {result.returncode})", result.stdout + result.stderr))
        status = server.terminate()
        tally.check(status == 0, f"graceful stop: exit {status}")
        seen.append(("server log", server.log))

        for what, text in seen:
            leaked = [name for name, value in SECRETS.items() if value in text]
            if leaked:
                tally.check(False, f"{what}: shows {', '.join(leaked)}")
        for what, text, allowed in shown:
            leaked = [name for name, value in SECRETS.items() if value in text and name not in allowed]
            if leaked:
                tally.check(False, f"{what}: shows {', '.join(leaked)} (it may show only {', '.join(allowed)})")
        tally.check(len(shown) == 5, f"{len(shown)} dashboard pages were allowed ping keys (admin and ops read-write), each checked for the rest")
        status_key = status_path.rsplit("/", 1)[-1]
        showing = [what for what, text in seen if status_key in text and what != "server log"]
        tally.check(not showing, f"the status page's key is in the log and the admin's overview only: {showing or 'nowhere else'}")
        tally.check(any(status_key in text for _, text, _ in shown), "the admin's overview links the status page")
        tally.check(True, f"{len(seen)} outputs grepped ({sum(len(t) for _, t in seen):,} characters) for {len(SECRETS)} secrets")
        holders = []
        for folder, _, files in os.walk(server.data):
            for name in files:
                path = os.path.join(folder, name)
                with open(path, "rb") as f:
                    content = f.read().decode("utf-8", "replace")
                leaked = [n for n, v in SECRETS.items() if v in content]
                if leaked:
                    mode = stat.S_IMODE(os.stat(path).st_mode)
                    holders.append(f"{os.path.relpath(path, server.data)} ({oct(mode)}: {', '.join(leaked)})")
                    tally.check(mode == 0o600, f"data file {os.path.relpath(path, server.data)} holds {', '.join(leaked)} with mode {oct(mode)}")
        print(f"data files holding a secret: {holders or 'none'}")
    finally:
        server.stop()
        receiver.shutdown()
        shutil.rmtree(root, ignore_errors=True)
    generated_admin_token(binary, tally)
    tally.finish()


def generated_admin_token(binary, tally):
    """Without --admin-token-file the token is generated into the data directory with mode
    0600 and logged once, at its generation (the login URL); a restart does not log it again."""
    server = Server(binary, config="checks:\n  job: {timeout: 1h}\n", log_level="info")
    try:
        path = os.path.join(server.data, "admin-token")
        mode = stat.S_IMODE(os.stat(path).st_mode)
        tally.check(mode == 0o600, f"generated admin-token has mode {oct(mode)}")
        tally.check(server.log.count(server.token) == 1, f"the generated token is logged once, at its generation ({server.log.count(server.token)})")
        server.terminate()
        server.restart()
        tally.check(server.log.count(server.token) == 1, "a restart does not log the token again")
    finally:
        server.stop()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


if __name__ == "__main__":
    main()
