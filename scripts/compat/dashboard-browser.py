"""The dashboard in a real headless Chromium, driven over the DevTools protocol: log in with a
project key, see a check go from new to up after a ping (by the page's own live refresh, without
reloading), open its ping body (a <script> in it must show as text and not run), pause it, send a
test notification with "Send test" to a real receiver and see it delivered on the page, the admin
login URL, logout, a cross-site POST refused, and the badge SVGs rendered. The overview (issue 26):
the filter form writes its filters into the URL, bad values show as notes, counts follow the
filters, the live refresh keeps them, rows show complete ping URLs, wall mode at a phone's width,
and paging on a second server with 130 checks (links keep filters and sort). Issue 26, part 2:
the time zone selector (typed, listed, a bad one noted), relative times with the absolute one as
tooltip, a running job's deadline, the ping log's wording, the strip of pings, the SVG duration
chart, the Copy button (and its absence without JavaScript), the ping key in the slug URL for a
read-write viewer, the public status page (logged, linked for the admin, no key, slug, UUID, URL
or body, a wrong key a 404), and on the overview, a check page and the status page at desktop
and phone widths: labels, captions, lang, contrast (WCAG AA), a visible focus ring, no sideways
scrolling.

    python3 scripts/compat/dashboard-browser.py KIOTHC_BINARY CHROMIUM
Screenshots go to $KIOTHC_SCREENSHOTS (default /tmp/kiothc-dashboard-*.png), never into git;
with KIOTHC_DOCS_SCREENSHOTS=docs/screenshots, also the six that docs/dashboard.md shows.
"""

import base64
import re
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import websocket

from common import CONFIG, RW, Server, Tally

binary, chromium = sys.argv[1], sys.argv[2]
shots = os.environ.get("KIOTHC_SCREENSHOTS", "/tmp")
tally = Tally("dashboard-browser")


class Browser:
    def __init__(self):
        self.profile = tempfile.mkdtemp(prefix="kiothc-chromium-")
        self.process = subprocess.Popen(
            [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-dev-shm-usage",
             "--remote-debugging-port=0", f"--user-data-dir={self.profile}", "--window-size=1400,900", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = os.path.join(self.profile, "DevToolsActivePort")
        deadline = time.time() + 60
        while not os.path.exists(port_file) or not open(port_file).read().strip():
            if time.time() > deadline or self.process.poll() is not None:
                raise RuntimeError("chromium did not start")
            time.sleep(0.1)
        port = open(port_file).read().split()[0]
        targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list"))
        page = next(t for t in targets if t["type"] == "page")
        self.socket = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=30, suppress_origin=True)
        self.next_id = 0
        self.call("Page.enable")
        self.call("Runtime.enable")

    def call(self, method, **params):
        self.next_id += 1
        self.socket.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        return result.get("result", {}).get("value")

    def wait_for(self, expression, seconds=20):
        deadline = time.time() + seconds
        while time.time() < deadline:
            try:
                if self.evaluate(expression):
                    return True
            except Exception:
                pass
            time.sleep(0.2)
        return False

    def goto(self, url):
        self.call("Page.navigate", url=url)
        self.wait_for("document.readyState === 'complete'")

    def screenshot(self, name):
        data = self.call("Page.captureScreenshot", format="png")["data"]
        path = os.path.join(shots, f"kiothc-dashboard-{name}.png")
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))
        print(f"   screenshot: {path}")

    def close(self):
        try:
            self.socket.close()
        finally:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
            shutil.rmtree(self.profile, ignore_errors=True)


class Receiver(http.server.BaseHTTPRequestHandler):
    """A webhook receiver on loopback: 200 to every POST, each path recorded."""
    received = []

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        Receiver.received.append(self.path)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
threading.Thread(target=receiver.serve_forever, daemon=True).start()
oncall = '      oncall: {kind: webhook, url: "http://127.0.0.1:9/alerts"}\n'
assert oncall in CONFIG
config = CONFIG.replace(oncall, oncall + f'      pager: {{kind: webhook, url: "http://127.0.0.1:{receiver.server_port}/pager"}}\n')
assert "    name: Operations\n" in config
config = config.replace("    name: Operations\n", "    name: Operations\n    status_page: true\n")

# Contrast of every element's own text against the background it is drawn on (WCAG 2: 4.5:1,
# 3:1 for large text), the worst offenders first.
CONTRAST = """(() => {
    const parse = c => { const m = c.match(/rgba?\\(([^)]+)\\)/); if (!m) return null; const p = m[1].split(',').map(Number); return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1}; };
    const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }; return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
    const background = el => { for (let e = el; e; e = e.parentElement) { const c = parse(getComputedStyle(e).backgroundColor); if (c && c.a > 0.5) return c; } return {r: 255, g: 255, b: 255}; };
    const bad = [];
    for (const el of document.querySelectorAll('body *')) {
        const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
        if (!own || el.closest('.visually-hidden') || el.offsetParent === null) continue;
        const style = getComputedStyle(el);
        const fg = parse(style.color), bg = background(el);
        const [l1, l2] = [lum(fg), lum(bg)].sort((a, b) => b - a);
        const ratio = (l1 + 0.05) / (l2 + 0.05);
        const large = parseFloat(style.fontSize) >= 24 || (parseFloat(style.fontSize) >= 18.66 && +style.fontWeight >= 700);
        if (ratio < (large ? 3 : 4.5)) bad.push(el.tagName.toLowerCase() + '.' + el.className + ' ' + ratio.toFixed(2) + ': ' + el.textContent.trim().slice(0, 30));
    }
    return bad;
})()"""

# Accessibility basics of a page: its language, landmarks, a label for every control, tables
# with headers and a caption, and a visible focus ring on the first focusable element.
ACCESSIBLE = """(() => {
    const problems = [];
    if (!document.documentElement.lang) problems.push('no lang');
    if (!document.querySelector('main')) problems.push('no main landmark');
    for (const c of document.querySelectorAll('input:not([type=hidden]), select, textarea'))
        if (!(c.labels && c.labels.length) && !c.getAttribute('aria-label')) problems.push('unlabelled ' + c.name);
    for (const t of document.querySelectorAll('table'))
        if (!t.querySelector('caption') || !t.querySelector('th')) problems.push('table without caption or headers');
    for (const b of document.querySelectorAll('button'))
        if (!b.textContent.trim() && !b.getAttribute('aria-label')) problems.push('button without a name');
    return problems;
})()"""


def focus_ring(browser):
    """Tab to the first focusable element, as a keyboard user would, and read its outline."""
    browser.call("Input.dispatchKeyEvent", type="keyDown", key="Tab", code="Tab", windowsVirtualKeyCode=9)
    browser.call("Input.dispatchKeyEvent", type="keyUp", key="Tab", code="Tab", windowsVirtualKeyCode=9)
    return browser.evaluate("(() => { const e = document.activeElement; if (!e || e === document.body) return null; const s = getComputedStyle(e); return [e.tagName, s.outlineStyle, s.outlineWidth]; })()")


def docs_shot(browser, name):
    """With KIOTHC_DOCS_SCREENSHOTS=docs/screenshots, the pages docs/dashboard.md shows."""
    folder = os.environ.get("KIOTHC_DOCS_SCREENSHOTS")
    if not folder:
        return
    data = browser.call("Page.captureScreenshot", format="png")["data"]
    with open(os.path.join(folder, f"{name}.png"), "wb") as f:
        f.write(base64.b64decode(data))
    print(f"   docs screenshot: {folder}/{name}.png")
server = Server(binary, config=config)
browser = None
try:
    queue = server.uuid("ops", "queue")
    browser = Browser()
    browser.goto(server.url + "/")
    tally.check(browser.evaluate("!!document.querySelector('form.login input#key')"), "/ without a session shows the login form")
    browser.evaluate("document.getElementById('key').value = 'not-a-key'; document.querySelector('form.login').submit(); 1")
    browser.wait_for("!!document.querySelector('.error')")
    tally.check("not a project API key" in (browser.evaluate("document.querySelector('.error').textContent") or ""), "a wrong key is refused with a message")
    browser.evaluate(f"document.getElementById('key').value = '{RW}'; document.querySelector('form.login').submit(); 1")
    tally.check(browser.wait_for("document.querySelectorAll('tr.check').length === 2"), "logged in with the ops read-write key: two checks listed (not web's)")
    cookies = browser.call("Network.getCookies", urls=[server.url])["cookies"]
    session = next((c for c in cookies if c["name"] == "kiothc_session"), None)
    tally.check(session is not None and session["httpOnly"] and session["sameSite"] == "Lax", "session cookie is HttpOnly and SameSite=Lax")
    row = f"document.querySelector('a[href=\"/checks/{queue}\"]').closest('tr').dataset.status"
    tally.check(browser.evaluate(row) == "new", "the queue check is new before any ping")
    # Filters in the URL, through the GET form (issue 26): search, then a status with no match.
    browser.evaluate("document.querySelector('form.filters input[name=q]').value = 'QUEUE'; document.querySelector('form.filters').submit(); 1")
    tally.check(browser.wait_for("new URLSearchParams(location.search).get('q') === 'QUEUE' && document.querySelectorAll('tr.check').length === 1"),
                "the filter form (GET) puts q=QUEUE in the URL and shows only the queue check (case-insensitive)")
    tally.check(browser.evaluate("document.querySelector('form.filters input[name=q]').value") == "QUEUE", "the form shows the search it came from")
    tally.check(browser.evaluate("document.querySelector('#counts a[data-status=new]').textContent") == "1 new",
                "counts per status are over the search's matches")
    ping_urls = browser.evaluate("[...document.querySelectorAll('tr.check code.url')].map(c => c.textContent)") or []
    tally.check(ping_urls == [f"{server.url}/ping/{queue}", f"{server.url}/ping/ops-ping-key-for-tests/queue-worker-b"],
                f"the row shows the complete ping URLs, the slug one with the project's ping key (a read-write viewer): {ping_urls}")
    browser.goto(server.url + "/?q=queue&status=downn&sort=sideways")
    notes = browser.evaluate("document.querySelector('ul.notes') && document.querySelector('ul.notes').textContent") or ""
    tally.check("'downn' is not a status" in notes and "'sideways' is not a sort order" in notes, "bad status and sort values show as notes on the page")
    browser.goto(server.url + "/?q=QUEUE")
    tally.check("Queue \"Worker\" \\ <b>" == browser.evaluate(f"document.querySelector('a[href=\"/checks/{queue}\"]').textContent"), "a name with quotes, backslash and <b> shows as text")
    browser.screenshot("1-new")
    body = "<script>window.pwned = 1</script><img src=x onerror=\"window.pwned=2\">\nbackup finished: 42 rows"
    server.request(f"/ping/{queue}", method="POST", data=body.encode())
    started = time.time()
    tally.check(browser.wait_for(f"{row} === 'up'", seconds=25), "the row turns up after a ping, by the page's live refresh (no reload)")
    print(f"   live refresh picked the ping up after {time.time() - started:.1f} s")
    tally.check(browser.evaluate("location.search === '?q=QUEUE' && document.querySelectorAll('tr.check').length === 1 && document.querySelector('#counts a[data-status=up]').textContent === '1 up'"),
                "the live refresh keeps the filters: still only the queue check, its count now up")
    browser.screenshot("2-up")
    browser.evaluate(f"document.querySelector('a[href=\"/checks/{queue}\"]').click(); 1")
    tally.check(browser.wait_for("document.querySelectorAll('tr.ping').length === 1"), "the check page lists its ping")
    # Times (issue 26): relative, with the absolute time in the viewer's zone as the tooltip;
    # the header's GET form chooses the zone (a cookie), a typed IANA name wins, a bad one is a note.
    tally.check(browser.evaluate("(() => { const t = document.querySelector('tr.ping time'); return !!t && / s ago$/.test(t.textContent) && / UTC$/.test(t.title); })()"),
                "a ping's time shows relative ('… s ago') with the UTC time as its tooltip")
    check_path = f"/checks/{queue}"
    browser.evaluate("document.getElementById('tz-other').value = 'Asia/Tokyo'; document.querySelector('form.tz').submit(); 1")
    tally.check(browser.wait_for(f"location.pathname === '{check_path}' && /\\+09:00 \\(Asia\\/Tokyo\\)$/.test(document.querySelector('tr.ping time').title)"),
                "typing Asia/Tokyo into the time zone form returns to the check page with its times in Tokyo (+09:00)")
    cookies = browser.call("Network.getCookies", urls=[server.url])["cookies"]
    tally.check(any(c["name"] == "kiothc_tz" and c["value"] == "Asia/Tokyo" for c in cookies), "the zone is kept in the kiothc_tz cookie")
    browser.goto(server.url + "/?q=QUEUE")
    tally.check(browser.evaluate("document.querySelector('#tz-choice').value") == "Asia/Tokyo" and "(Asia/Tokyo)" in (browser.evaluate("document.querySelector('tr.check time').title") or ""),
                "the overview remembers the zone (cookie): the selector shows it and times are in it")
    browser.evaluate("document.getElementById('tz-other').value = 'Mars/Olympus_Mons'; document.querySelector('form.tz').submit(); 1")
    tally.check(browser.wait_for("!!document.getElementById('tz-note') && / UTC$/.test(document.querySelector('tr.check time').title)"),
                "an unknown zone is no error page: a note says so and times are in UTC")
    tally.check(browser.evaluate("location.search") == "?q=QUEUE", "the selector returns to the page with its filters")
    browser.evaluate("document.getElementById('tz-choice').value = 'Europe/Riga'; document.querySelector('form.tz').submit(); 1")
    tally.check(browser.wait_for("!document.getElementById('tz-note') && /\\(Europe\\/Riga\\)$/.test(document.querySelector('tr.check time').title)"),
                "choosing Europe/Riga (a zone of the fleet's checks) from the list")
    labelled = browser.evaluate("[...document.querySelectorAll('input:not([type=hidden]), select')].every(c => c.labels && c.labels.length > 0)")
    tally.check(labelled, "every form control of the overview has a label")
    # A running job, then runs with durations and a fail with an exit status (on the backup
    # check, which notifies only the unreachable channel): the strip, the chart and the ping
    # log word them as the CLI does.
    backup = server.uuid("ops", "db-backup")
    backup_path = f"/checks/{backup}"
    server.request(f"/ping/{backup}/start")
    browser.goto(server.url + backup_path)
    tally.check(browser.evaluate("[...document.querySelectorAll('#tz-choice option')].some(o => o.value === 'Europe/Riga' && o.textContent.includes(\"this check's\"))"),
                "the check page offers the check's own zone (Europe/Riga)")
    running = browser.evaluate("document.querySelector('dd.running') && document.querySelector('dd.running').textContent") or ""
    tally.check(running.startswith("started ") and " ago, down at " in running and running.endswith(" if not finished"),
                f"a running job: '{running}'")
    server.request(f"/ping/{backup}")
    server.request(f"/ping/{backup}/start")
    server.request(f"/ping/{backup}/3", method="POST", data=b"disk full")
    browser.goto(server.url + backup_path)
    kinds = browser.evaluate("[...document.querySelectorAll('tr.ping td:nth-child(2)')].map(c => c.textContent)") or []
    tally.check(kinds[:2] == ["fail (exit 3)", "start"], f"the ping log words an exit-status ping 'fail (exit 3)': {kinds}")
    durations = browser.evaluate("[...document.querySelectorAll('tr.ping td:nth-child(6)')].map(c => c.textContent).filter(t => t)") or []
    tally.check(len(durations) == 2 and all(re.fullmatch(r"\d+ (µs|ms)|\d\.\d s", d) for d in durations),
                f"run durations show with sub-second precision: {durations}")
    marks = browser.evaluate("[...document.querySelectorAll('ol.strip a.mark')].map(a => [a.className, a.textContent, a.title])") or []
    tally.check(len(marks) == 4 and marks[-1][0] == "mark kind-fail" and marks[-1][1].startswith("#4 fail (exit 3), ") and marks[-1][1] == marks[-1][2],
                f"the strip has a mark per ping, oldest first, coloured by kind and labelled in words: {marks[-1] if marks else None}")
    colour = browser.evaluate("getComputedStyle(document.querySelector('ol.strip a.kind-fail')).backgroundColor")
    tally.check(colour == "rgb(198, 40, 40)", f"a fail's mark is red: {colour}")
    bars = browser.evaluate("[...document.querySelectorAll('svg.chart rect.bar')].map(r => [r.getBBox().height, r.querySelector('title').textContent])") or []
    tally.check(len(bars) == 2 and all(b[0] > 0 for b in bars) and bars[1][1].startswith("#4 fail (exit 3): "), f"the SVG chart has a titled bar per run: {bars}")
    tally.check(browser.evaluate("document.querySelector('svg.chart').getAttribute('role') === 'img' && !!document.querySelector('svg.chart desc').textContent"),
                "the chart is an image with a description")
    # The ping URLs: the Copy button (shown by the script) copies the URL's text.
    browser.call("Browser.grantPermissions", permissions=["clipboardReadWrite", "clipboardSanitizedWrite"], origin=server.url)
    browser.call("Emulation.setFocusEmulationEnabled", enabled=True)  # the clipboard wants a focused page
    tally.check(browser.evaluate("!document.querySelector('button.copy').hidden"), "with JavaScript the Copy buttons are shown")
    browser.evaluate("document.querySelector('button.copy').click(); 1")
    tally.check(browser.wait_for("document.querySelector('button.copy').textContent === 'Copied'"),
                f"Copy says Copied: {browser.evaluate('document.querySelector(`button.copy`).textContent')}")
    copied = browser.evaluate("navigator.clipboard.readText()")
    tally.check(copied == f"{server.url}/ping/{backup}", f"the clipboard holds the UUID ping URL: {copied}")
    source = browser.evaluate("document.querySelector('code.source').textContent") or ""
    tally.check(re.fullmatch(r".*checks\.yaml:1[0-9]", source) is not None, f"the check page names its YAML position: {source}")
    browser.screenshot("check-desktop")
    # Without JavaScript: no Copy button, the URL is plain text.
    browser.call("Emulation.setScriptExecutionDisabled", value=True)
    browser.goto(server.url + backup_path)
    tally.check(browser.evaluate("document.querySelector('button.copy').hidden && getComputedStyle(document.querySelector('code.url')).userSelect !== 'none'"),
                "without JavaScript the Copy button stays hidden and the URL is selectable text")
    browser.call("Emulation.setScriptExecutionDisabled", value=False)
    browser.evaluate("document.getElementById('tz-choice').value = 'UTC'; document.querySelector('form.tz').submit(); 1")
    browser.wait_for(f"location.pathname === '{backup_path}' && document.readyState === 'complete'")
    browser.goto(server.url + check_path)
    browser.evaluate(f"document.querySelector('a[href=\"/checks/{queue}/pings/1\"]').click(); 1")
    tally.check(browser.wait_for("!!document.getElementById('ping-body')"), "the ping body page opens")
    shown = browser.evaluate("document.getElementById('ping-body').textContent")
    tally.check(shown == body, "the body shows exactly as sent, as text")
    tally.check(browser.evaluate("typeof window.pwned") == "undefined" and browser.evaluate("document.querySelectorAll('#ping-body script, #ping-body img').length") == 0,
                "the <script> and onerror in the body did not run and made no elements")
    browser.screenshot("3-body")
    # A cross-site form POST with the session cookie: refused by the Origin check.
    status, _ = server.request(f"/checks/{queue}/pause", method="POST", headers={"Cookie": f"kiothc_session={session['value']}", "Origin": "http://evil.example"})
    tally.check(status == 403, "a POST from another origin with the session cookie: 403")
    status, _ = server.request(f"/checks/{queue}/pause", method="POST", headers={"Cookie": f"kiothc_session={session['value']}"})
    tally.check(status == 403, "a POST with neither Origin nor Referer: 403")
    browser.goto(server.url + f"/checks/{queue}")
    browser.evaluate("document.querySelector('form[action$=\"/pause\"] button').click(); 1")
    tally.check(browser.wait_for("document.querySelector('h1 .status') && document.querySelector('h1 .status').textContent === 'paused'"), "the Pause button (same-origin POST) pauses the check")
    # "Send test" (a same-origin form POST) through the pager channel: tried at once, then the
    # check page shows it with its attempt.
    browser.evaluate("document.querySelector('form.send-test[data-channel=\"pager\"] button').click(); 1")
    tally.check(browser.wait_for("!!document.querySelector('tr.notification[data-test][data-status=\"delivered\"] li.attempt[data-outcome=\"delivered\"]')", seconds=30),
                "Send test delivers a test notification and the check page shows it, delivered, with its attempt")
    tally.check(Receiver.received == ["/pager"], f"the receiver got the test once: {Receiver.received}")
    tally.check("HTTP 200" in (browser.evaluate("document.querySelector('tr.notification li.attempt').textContent") or ""), "the attempt shows the receiver's HTTP 200")
    browser.screenshot("4-notifications")
    status, _ = server.request(f"/checks/{queue}/channels/x/test", method="POST", headers={"Cookie": f"kiothc_session={session['value']}", "Origin": "http://evil.example"})
    tally.check(status == 403 and Receiver.received == ["/pager"], "a Send test POST from another origin: 403, nothing sent")
    browser.evaluate("document.querySelector('form[action=\"/logout\"] button').click(); 1")
    tally.check(browser.wait_for("!!document.querySelector('form.login')"), "logout returns to the login form")
    browser.goto(server.url + f"/login?token={server.token}")
    tally.check(browser.wait_for("document.querySelectorAll('tr.check').length === 3"), "the admin login URL shows every project's checks")
    browser.screenshot("5-admin")
    # The public status page (status_page: true): logged at start, linked for the admin only,
    # names and statuses only; any other key is a 404 that names nothing.
    logged = re.search(r"public status page of project 'ops' at (\S+)", server.log)
    tally.check(logged is not None and re.fullmatch(re.escape(server.url) + r"/status/[A-Za-z0-9_-]{32}", logged.group(1)) is not None,
                f"the status page's URL is logged at start: {logged.group(1) if logged else None}")
    status_url = logged.group(1) if logged else server.url + "/status/none"
    status_path = status_url[len(server.url):]
    tally.check(browser.evaluate("document.querySelector('p.status-pages a') && document.querySelector('p.status-pages a').getAttribute('href')") == status_path,
                "the admin's overview links the status page")
    browser.goto(status_url)
    rows = browser.evaluate("[...document.querySelectorAll('tr.check')].map(r => [r.cells[0].textContent, r.dataset.status])") or []
    tally.check(rows == [["Database Backup", "down"], ['Queue "Worker" \\ <b>', "paused"]], f"the status page lists names and statuses, problems first: {rows}")
    html = browser.evaluate("document.documentElement.outerHTML") or ""
    hidden = [queue, backup, "queue-worker-b", "database-backup", "ops-ping-key-for-tests", RW, server.token, "disk full", "backup finished",
              status_path.rsplit("/", 1)[-1], "/ping/", "/checks/", "Europe/Riga"]
    tally.check(html and not [x for x in hidden if x in html], f"the status page holds no key, slug, UUID, URL or ping body: {[x for x in hidden if x in html]}")
    tally.check(browser.evaluate("document.documentElement.lang === 'en' && !document.querySelector('form, header')"), "the status page: lang, no forms, no dashboard header")
    status, text = server.request("/status/" + "A" * 32)
    tally.check(status == 404 and "Operations" not in text and "ops" not in text, f"a wrong status key: {status}, naming no project")
    # Badges (SPEC section 13) render in the browser: an SVG document whose texts fit their parts.
    status, text = server.request("/api/v3/badges/", headers={"X-Api-Key": RW})
    listed = json.loads(text)["badges"] if status == 200 else {}
    status, text = server.request(f"/api/v3/checks/{queue}", headers={"X-Api-Key": RW})
    check_badge = json.loads(text).get("badge_url", "") if status == 200 else ""
    shown = [("6-badge-prod", listed.get("prod", {}).get("svg3", "")), ("7-badge-all", listed.get("*", {}).get("svg", "")),
             ("8-badge-check", check_badge.replace("/b/2/", "/b/3/"))]
    measure = """(() => {
        const svg = document.documentElement;
        if (svg.tagName !== 'svg') return null;
        const parts = [...svg.querySelectorAll('g rect')].slice(0, 2).map(r => +r.getAttribute('width'));
        const texts = [...svg.querySelectorAll('text')];
        return {parts, texts: texts.map(t => t.textContent), lengths: texts.map(t => t.getComputedTextLength())};
    })()"""
    for name, url in shown:
        tally.check(url.startswith(server.url + "/b"), f"{name}: the API gives its URL ({url})")
        if not url.startswith(server.url):
            continue
        browser.goto(url)
        rendered = browser.evaluate(measure)
        print(f"   {name}: {rendered}")
        fits = (rendered is not None and len(rendered["parts"]) == 2 and len(rendered["lengths"]) == 4
                and 0 < rendered["lengths"][1] <= rendered["parts"][0] and 0 < rendered["lengths"][3] <= rendered["parts"][1]
                and rendered["texts"][3] in ("up", "late", "down"))
        tally.check(fits, f"{name}: Chromium renders the SVG badge, label and status inside their parts")
        browser.screenshot(name)
    # Accessibility and a phone's width, on the overview, a check page and the status page (as
    # the admin); with KIOTHC_DOCS_SCREENSHOTS set, the screenshots docs/dashboard.md links.
    for width, height, mobile, label in [(1280, 800, False, "desktop"), (390, 844, True, "phone")]:
        browser.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=mobile)
        for name, url in [("overview", server.url + "/"), ("check", server.url + f"/checks/{backup}"), ("status", status_url)]:
            browser.goto(url)
            problems = browser.evaluate(ACCESSIBLE)
            tally.check(problems == [], f"{name} ({label}): lang, main, labelled controls, tables with caption and headers: {problems}")
            low = browser.evaluate(CONTRAST)
            tally.check(low == [], f"{name} ({label}): every text has enough contrast: {low[:5] if low else low}")
            tally.check(browser.evaluate("document.documentElement.scrollWidth <= window.innerWidth"),
                        f"{name} ({label}): no sideways scrolling at {width} px (wide tables scroll in their own box)")
            if name != "status":
                ring = focus_ring(browser)
                tally.check(ring is not None and ring[1] != "none" and ring[2] != "0px", f"{name} ({label}): the keyboard focus is visible: {ring}")
            docs_shot(browser, f"{name}-{label}")
    browser.call("Emulation.clearDeviceMetricsOverride")
    # Wall mode at a phone's width: tiles, problems first, no chrome, no sideways scrolling.
    browser.goto(server.url + f"/login?token={server.token}")
    browser.call("Emulation.setDeviceMetricsOverride", width=390, height=844, deviceScaleFactor=2, mobile=True)
    browser.goto(server.url + "/?wall=1")
    tally.check(browser.wait_for("document.querySelectorAll('a.tile').length === 3"), "wall mode shows a tile per check")
    tiles = browser.evaluate("[...document.querySelectorAll('a.tile')].map(t => t.dataset.status)") or []
    tally.check(tiles == ["down", "new", "paused"], f"wall tiles in problems-first order (the backup check failed, the queue check was paused above): {tiles}")
    tally.check(browser.evaluate("!document.querySelector('header') && !document.querySelector('form') && document.body.classList.contains('wall')"),
                "wall mode has no header, form or logout button")
    tally.check(browser.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "wall mode fits a 390 px phone width (no sideways scrolling)")
    low = browser.evaluate(CONTRAST)
    tally.check(low == [], f"wall mode: every text has enough contrast on its tile: {low[:5] if low else low}")
    browser.screenshot("9-wall-phone")
    browser.call("Emulation.clearDeviceMetricsOverride")
    # Paging on the server: 130 checks, 100 a page; the links keep the filters.
    fleet = "projects:\n  ops:\n    api_keys: {read_write: %s}\nchecks:\n" % RW + "".join(
        f"  job-{n:03d}:\n    project: ops\n    name: job-{n:03d}\n    timeout: 1h\n    tags: [{'even' if n % 2 == 0 else 'odd'}, all]\n" for n in range(130))
    paged = Server(binary, config=fleet)
    try:
        browser.goto(paged.url + f"/login?token={paged.token}")
        tally.check(browser.wait_for("document.querySelectorAll('tr.check').length === 100"), "130 checks: the first page holds 100")
        tally.check(browser.evaluate("document.querySelector('#counts a[data-status=new]').textContent") == "130 new", "the counts cover every page: 130 new")
        browser.goto(paged.url + "/?tag=all&sort=name")
        browser.evaluate("document.querySelector('nav.pages a[rel=next]').click(); 1")
        tally.check(browser.wait_for("location.search === '?tag=all&sort=name&page=2' && document.querySelectorAll('tr.check').length === 30"),
                    "Next → goes to page 2 with the filters and sort kept: the last 30 checks")
        tally.check(browser.evaluate("document.querySelector('tr.check a').textContent") == "job-100", "page 2 starts where page 1 ended (by name: job-100)")
        browser.evaluate("document.querySelector('nav.pages a[rel=prev]').click(); 1")
        tally.check(browser.wait_for("location.search === '?tag=all&sort=name' && document.querySelectorAll('tr.check').length === 100"), "← Previous goes back to page 1")
        browser.goto(paged.url + "/?tag=odd")
        tally.check(browser.wait_for("document.querySelectorAll('tr.check').length === 65") and browser.evaluate("!document.querySelector('nav.pages')"),
                    "filters apply before paging: 65 odd checks fit one page, no page links")
        browser.screenshot("10-filtered")
    finally:
        paged.stop()
    status, text = server.request("/")
    tally.check(server.token not in text and RW not in text, "no key or token in a page")
    tally.check(server.log.count(server.token) == 1 and RW not in server.log, "no API key in the log; the token only in its one generation line")
finally:
    if browser:
        browser.close()
    server.stop()
    receiver.shutdown()
tally.finish()
