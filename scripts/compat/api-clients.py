"""The API, /metrics and the CLI against real clients: Healthchecks' Python client
`healthchecks-io` lists our checks, pings, flips, channels and badges and pauses a check;
`prometheus_client`'s parser reads /metrics; `kiothc status|pings|pause|resume` run against the
same server's files and API.

    python3 scripts/compat/api-clients.py KIOTHC_BINARY
(run inside a venv that has healthchecks-io and prometheus-client: scripts/compat/run.sh does it)
"""

import hashlib
import json
import sys
import time
import uuid

from common import RO, RW, WEB, Server, Tally

from healthchecks_io import Client
from healthchecks_io.client.exceptions import HCAPIAuthError, CheckNotFoundError
from prometheus_client.parser import text_string_to_metric_families

binary = sys.argv[1]
tally = Tally("api-clients")
server = Server(binary)
try:
    queue = server.uuid("ops", "queue")
    backup = server.uuid("ops", "db-backup")
    site = server.uuid("web", "site")
    server.request(f"/ping/{queue}/start?rid=0b0e4a5e-3f2c-4c8e-9a21-5d1f6e7a8b9c")
    time.sleep(0.2)
    server.request(f"/ping/{queue}?rid=0b0e4a5e-3f2c-4c8e-9a21-5d1f6e7a8b9c", method="POST", data=b"backup done\n<b>42</b> rows")
    server.request(f"/ping/ops-ping-key-for-tests/database-backup/fail", method="POST", data=b"pg_dump: error")

    print("== healthchecks-io client (read-write key, API v3)")
    client = Client(api_key=RW, api_url=server.url + "/api/", ping_url=server.url + "/ping/", api_version=3)
    checks = client.get_checks()
    for check in checks:
        print(f"   {check.name!r:28} slug={check.slug:20} status={check.status:6} n_pings={check.n_pings} last_ping={check.last_ping} uuid={check.uuid}")
    tally.check(sorted(c.slug for c in checks) == ["database-backup", "queue-worker-b"], "get_checks lists the project's two checks, not the other project's")
    by_slug = {c.slug: c for c in checks}
    tally.check(by_slug["queue-worker-b"].status == "up" and by_slug["queue-worker-b"].n_pings == 2, "queue is up with 2 pings")
    tally.check(by_slug["database-backup"].status == "down", "db-backup is down after a fail ping by slug")
    tally.check(by_slug["queue-worker-b"].uuid == queue, "the client derives the UUID from ping_url")
    tally.check(by_slug["queue-worker-b"].timeout == 300 and by_slug["queue-worker-b"].grace == 60, "timeout and grace in seconds")
    tally.check(len(client.get_checks(tags=["prod", "db"])) == 1, "get_checks(tags=[prod, db]) needs both tags")
    tally.check(client.get_check(queue).name == 'Queue "Worker" \\ <b>', "get_check by UUID")
    pings = client.get_check_pings(queue)
    for ping in pings:
        print(f"   ping #{ping.number_of_pings} {ping.type:8} {ping.date} {ping.method} {ping.remote_addr} ua={ping.user_agent!r} duration={ping.duration}")
    tally.check([p.number_of_pings for p in pings] == [2, 1] and pings[0].type == "success" and pings[1].type == "start", "get_check_pings: newest first")
    tally.check(pings[0].duration is not None and pings[0].duration >= 0.2, "the success closing the start has a duration")
    flips = client.get_check_flips(backup)
    print(f"   flips of db-backup: {[(str(f.timestamp), f.up) for f in flips]}")
    tally.check(len(flips) == 1 and flips[0].up == 0, "get_check_flips: one flip to down")
    integrations = client.get_integrations()
    print(f"   integrations: {[(i.name, i.kind, i.id) for i in integrations]}")
    tally.check([i.name for i in integrations] == ["oncall"], "get_integrations lists the project's channel")
    paused = client.pause_check(queue)
    tally.check(paused.status == "paused", "pause_check pauses")
    try:
        client.get_check(site)
        tally.check(False, "another project's check is refused")
    except HCAPIAuthError:
        tally.check(True, "another project's check is refused (403 -> HCAPIAuthError)")
    try:
        client.get_check("00000000-0000-4000-8000-000000000000")
        tally.check(False, "an unknown UUID is 404")
    except CheckNotFoundError:
        tally.check(True, "an unknown UUID is 404 (CheckNotFoundError)")
    try:
        Client(api_key="wrong-key-0123456789abcdef012345", api_url=server.url + "/api/", api_version=3).get_checks()
        tally.check(False, "a wrong key is refused")
    except HCAPIAuthError:
        tally.check(True, "a wrong key is refused (401 -> HCAPIAuthError)")
    for version in (1, 2):
        tally.check(len(Client(api_key=RW, api_url=server.url + "/api/", api_version=version).get_checks()) == 2, f"API v{version} answers too")

    print("== healthchecks-io client (read-only key)")
    readonly = Client(api_key=RO, api_url=server.url + "/api/", api_version=3).get_checks()
    for check in readonly:
        print(f"   {check.name!r:28} status={check.status:6} unique_key={check.unique_key} uuid={check.uuid} ping_url={check.ping_url}")
    tally.check(all(c.unique_key and c.uuid is None and c.ping_url is None for c in readonly), "read-only: unique_key, no UUID, no URLs")
    try:
        Client(api_key=RO, api_url=server.url + "/api/", api_version=3).get_check_pings(queue)
        tally.check(False, "read-only key cannot list pings")
    except HCAPIAuthError:
        tally.check(True, "read-only key cannot list pings (401)")
    print("== healthchecks-io client: get_badges (read-only key)")
    badges = Client(api_key=RO, api_url=server.url + "/api/", api_version=3).get_badges()
    for tag, urls in sorted(badges.items()):
        print(f"   {tag:6} svg={urls.svg} json3={urls.json3_url}")
    tally.check(sorted(badges) == ["*", "db", "prod"], "get_badges: '*' and every tag of the project")
    fetched = {}
    for tag, urls in badges.items():
        for name in ("svg", "svg3", "json_url", "json3_url", "shields", "shields3"):
            url = getattr(urls, name)
            status, body = server.request(url[len(server.url):]) if url.startswith(server.url + "/badge/") else (None, "")
            fetched[(tag, name)] = (status, body)
    tally.check(all(status == 200 for status, _ in fetched.values()), "every listed badge URL answers 200")
    # db-backup is down (a fail ping), queue is paused (counts as up).
    tally.check(json.loads(fetched[("prod", "json3_url")][1]) == {"status": "down", "total": 2, "grace": 0, "down": 1}, "the prod badge: down, 2 checks, 1 down")
    tally.check(json.loads(fetched[("*", "shields")][1])["message"] == "down", "the '*' shields badge says down")
    tally.check(fetched[("db", "svg")][1].startswith("<svg") and ">down<" in fetched[("db", "svg")][1], "the db SVG badge says down")
    status, _ = server.request(badges["prod"].svg[len(server.url):].replace("/prod.svg", "/db.svg"))
    tally.check(status == 404, "a tag with another tag's signature: 404")
    status, body = server.request("/api/v3/checks/", method="POST", data=b'{"name": "x"}', headers={"X-Api-Key": RW})
    tally.check(status == 405 and "configuration files" in body, f"creating a check: 405 ({body.strip()[:80]}...)")

    print("== prometheus_client parser on /metrics")
    status, text = server.request("/metrics", headers={"Authorization": "Bearer " + server.token})
    families = {family.name: family for family in text_string_to_metric_families(text)}
    print("   families: " + ", ".join(sorted(families)))
    tally.check(status == 200, "/metrics with the admin token: 200")
    up = {s.labels["name"]: s.value for s in families["hc_check_up"].samples}
    print(f"   hc_check_up: {up}")
    tally.check(up == {"Database Backup": 0.0, 'Queue "Worker" \\ <b>': 1.0, "Site": 1.0}, "hc_check_up per check; quote and backslash in a name survive escaping")
    tally.check(families["hc_checks_total"].samples[0].value == 3 and families["hc_checks_down_total"].samples[0].value == 1, "hc_checks_total 3, hc_checks_down_total 1")
    kinds = {s.labels["kind"]: s.value for s in families["kiothc_pings"].samples}
    print(f"   kiothc_pings_total: {kinds}")
    tally.check(kinds.get("success") == 1 and kinds.get("start") == 1 and kinds.get("fail") == 1, "kiothc_pings_total by kind")
    histogram = families["kiothc_store_append_duration_seconds"]
    count = [s.value for s in histogram.samples if s.name.endswith("_count")]
    tally.check(histogram.type == "histogram" and count == [3.0], "append latency histogram counts 3 appends")
    tally.check("kiothc_config_last_reload_successful" in families, "kiothc_config_* present")
    status, text = server.request("/metrics", headers={"Authorization": "Bearer " + WEB})
    families = {family.name: family for family in text_string_to_metric_families(text)}
    tally.check(status == 200 and [s.labels["project"] for s in families["hc_check_up"].samples] == ["web"] and "kiothc_pings" not in families,
                "a project key sees only its project's checks and no server series")
    status, _ = server.request("/metrics", headers={"Authorization": "Bearer nope"})
    tally.check(status == 401, "/metrics with a wrong token: 401")
    # Healthchecks' per-project URL; the project's UUID is the name-based one of its id.
    digest = bytearray(hashlib.sha1(b"kiothc-project:ops").digest()[:16])
    digest[6] = digest[6] & 0x0F | 0x50
    digest[8] = digest[8] & 0x3F | 0x80
    ops = str(uuid.UUID(bytes=bytes(digest)))
    status, text = server.request(f"/projects/{ops}/metrics/{RO}")
    families = {family.name: family for family in text_string_to_metric_families(text)}
    tags = {s.labels["tag"]: s.value for s in families["hc_tag_up"].samples}
    print(f"   /projects/{ops}/metrics/<read-only key>: hc_tag_up {tags}")
    tally.check(status == 200 and families["hc_checks_total"].samples[0].value == 2 and "kiothc_pings" not in families,
                "/projects/<uuid>/metrics/<read-only key>: the project's series only")
    tally.check(tags == {"db": 0.0, "prod": 0.0}, "hc_tag_up: db and prod are down (db-backup failed)")
    tally.check(server.request(f"/projects/{ops}/metrics/{RW}")[0] == 403, "the read-write key in a metrics URL: 403, as Healthchecks")
    tally.check(server.request("/-/healthy")[0] == 200 and server.request("/-/ready")[0] == 200, "/-/healthy and /-/ready: 200")

    print("== kiothc status / pings / pause / resume")
    result = server.kiothc("status", "--config", server.config, "--data", server.data)
    print(result.stdout, end="")
    tally.check(result.returncode == 0 and "Database Backup" in result.stdout, "kiothc status (table)")
    result = server.kiothc("status", "--config", server.config, "--data", server.data, "--project", "ops", "--tag", "prod", "--format", "json")
    document = json.loads(result.stdout)
    keys = [list(c.keys()) for c in document["checks"]]
    tally.check(keys and all(k == ["project", "key", "name", "slug", "uuid", "status", "started", "last_ping", "next_ping", "n_pings", "tags", "ping_url", "slug_url",
                                       "in_maintenance", "maintenance_until", "suppressed_by"] for k in keys),
                "kiothc status --format json has the fields of SPEC section 8 (and section 14's after them), in order")
    tally.check({c["key"]: c["status"] for c in document["checks"]} == {"db-backup": "down", "queue": "paused"}, "status JSON: db-backup down, queue paused")
    result = server.kiothc("pings", "ops/queue", "--data", server.data, "--limit", "5")
    print(result.stdout, end="")
    tally.check(result.returncode == 0 and "backup done" in result.stdout, "kiothc pings ops/queue (table)")
    result = server.kiothc("pings", queue, "--data", server.data, "--format", "json")
    tally.check(json.loads(result.stdout)["pings"][0]["body"] == "backup done\n<b>42</b> rows", "kiothc pings --format json carries the body")
    tally.check(server.kiothc("pings", "ops/nope", "--data", server.data).returncode == 1, "kiothc pings of an unknown check: exit 1")
    tally.check(server.kiothc("pings", "ops/queue", "--data", server.data, "--limit", "0").returncode == 64, "kiothc pings --limit 0: exit 64")
    status, body = server.request(f"/api/v3/checks/{queue}/resume", method="POST", data=json.dumps({"api_key": RW}).encode())
    tally.check(status == 200 and json.loads(body)["status"] == "new", "resume with api_key in a JSON body, as Healthchecks' clients may send it")
    status, body = server.request(f"/api/v3/checks/{queue}/pause", method="POST", data=json.dumps({"api_key": RW}).encode())
    tally.check(status == 200 and json.loads(body)["status"] == "paused", "pause with api_key in a JSON body")
    result = server.kiothc("resume", "ops/queue", "--server", server.url, env={"KIOTHC_API_KEY": RW})
    print("   " + result.stdout.strip() + result.stderr.strip())
    tally.check(result.returncode == 0 and "resumed" in result.stdout, "kiothc resume ops/queue through the API")
    result = server.kiothc("pause", queue, "--server", server.url, "--api-key", RO)
    print("   " + result.stderr.strip())
    tally.check(result.returncode == 1 and "refused" in result.stderr, "kiothc pause with the read-only key: refused, exit 1")
    result = server.kiothc("pause", "web/site", "--server", server.url, "--api-key", RW)
    tally.check(result.returncode == 1, "kiothc pause of another project's check: exit 1")
    tally.check(RW not in server.log and RO not in server.log, "no API key appears in the server log")
finally:
    server.stop()
tally.finish()
