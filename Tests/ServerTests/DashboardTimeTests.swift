import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Monitoring
import Testing
@testable import Runtime
@testable import Server

/// Times in the viewer's zone (the `kiothc_tz` cookie and `GET /timezone`), relative times, a
/// running job's deadline, and the check page's history: ping log, strip, duration chart and
/// copyable ping URLs (issue 26).
@Suite("Dashboard times and check history")
struct DashboardTimeTests {
    typealias Fixture = ManagementAPITests.Fixture
    /// 2023-11-14 22:13:20 UTC, the fixture's clock.
    static let t0: Int64 = 1_700_000_000_000_000

    // MARK: The zone

    @Test("a cookie naming a known zone is used; none, empty or UTC is UTC; percent-encoding is read")
    func goodCookies() {
        #expect(ViewerZone(cookie: nil).name == "UTC")
        #expect(ViewerZone(cookie: "").name == "UTC")
        #expect(ViewerZone(cookie: "UTC").name == "UTC")
        #expect(ViewerZone(cookie: "Europe/Riga").name == "Europe/Riga")
        #expect(ViewerZone(cookie: "Europe%2FRiga").name == "Europe/Riga")
        #expect(ViewerZone(cookie: ViewerZone.cookieValue("America/Argentina/Buenos_Aires")).name == "America/Argentina/Buenos_Aires")
        #expect(ViewerZone(cookie: "Europe/Riga").note == nil)
    }

    @Test(
        "a cookie naming no known zone is ignored (UTC) with a note saying so, and a suggestion when one is close",
        arguments: [
            ("Europe/Rigaa", "'Europe/Rigaa' is not one this server knows (did you mean Europe/Riga?)"),
            ("europe%2Friga", "(did you mean Europe/Riga?)"),
            ("%3Cscript%3E", "'<script>' is not one this server knows"),
            ("PST8PDTX", "is not one this server knows"),
            ("%ZZ", "'%ZZ' is not one"),
            (String(repeating: "A/", count: 200), "is not one this server knows"),
        ])
    func badCookies(value: String, note: String) {
        let zone = ViewerZone(cookie: value)
        #expect(zone.name == "UTC")
        #expect(zone.note?.contains(note) == true, "\(zone.note ?? "no note")")
        #expect(zone.note?.hasSuffix("times are shown in UTC.") == true)
        #expect((zone.note ?? "").count < 200, "a long value is cut in the note")
    }

    @Test("absolute times in the viewer's zone carry their offset and zone; clock times add the date on another day")
    func absolute() throws {
        #expect(ViewerZone.utc.readable(Self.t0) == "2023-11-14 22:13:20 UTC")
        let riga = try ViewerZone.named("Europe/Riga").get()
        #expect(riga.readable(Self.t0) == "2023-11-15 00:13:20 +02:00 (Europe/Riga)")
        #expect(riga.readable(1_688_000_000_000_000) == "2023-06-29 03:53:20 +03:00 (Europe/Riga)", "summer time")
        #expect(try ViewerZone.named("Asia/Kathmandu").get().readable(Self.t0) == "2023-11-15 03:58:20 +05:45 (Asia/Kathmandu)")
        #expect(try ViewerZone.named("America/St_Johns").get().readable(Self.t0) == "2023-11-14 18:43:20 -03:30 (America/St_Johns)")
        #expect(ViewerZone.utc.clock(Self.t0 + 60_000_000, now: Self.t0) == "22:14")
        #expect(ViewerZone.utc.clock(Self.t0 + 7_200_000_000, now: Self.t0) == "2023-11-15 00:13", "tomorrow in UTC")
        #expect(riga.clock(Self.t0 + 7_200_000_000, now: Self.t0) == "02:13", "the same day in Riga")
    }

    @Test("a time shows relative, with the absolute time in the viewer's zone as its title and UTC in datetime")
    func timeElement() throws {
        let riga = try ViewerZone.named("Europe/Riga").get()
        #expect(
            DashboardPages.time(Self.t0 - 180_000_000, now: Self.t0, zone: riga)
                == "<time datetime=\"2023-11-14T22:10:20+00:00\" title=\"2023-11-15 00:10:20 +02:00 (Europe/Riga)\">3 min ago</time>")
        #expect(DashboardPages.time(Self.t0 + 7_200_000_000, now: Self.t0).hasSuffix(">in 2 h</time>"))
        #expect(DashboardPages.time(nil, now: Self.t0) == "<span class=\"muted\">never</span>")
    }

    @Test("the selector returns only to a path of this server", arguments: [
        ("/?tag=prod&status=down", "/?tag=prod&status=down"),
        ("/checks/abc", "/checks/abc"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("https://evil.example/", "/"),
        ("/a b", "/"),
        ("", "/"),
    ])
    func localPath(next: String, path: String) {
        #expect(Dashboard.localPath(next) == path)
    }

    // MARK: Through the router

    @Test("GET /timezone writes the cookie (a typed name wins over the list) and returns to the page; every page then shows times in that zone")
    func selector() async throws {
        let fixture = try await Fixture()
        fixture.clock.set(Self.t0)
        try await fixture.application.test(.router) { client in
            let session = try await DashboardTests.login(client, key: "ops-read-write-key-0001")
            try await client.execute(uri: "/", method: .get, headers: [.cookie: session]) { response in
                let html = String(buffer: response.body)
                #expect(html.contains("<form class=\"tz\" method=\"get\" action=\"/timezone\">"))
                #expect(html.contains("<label for=\"tz-choice\">"))
                #expect(html.contains("<label for=\"tz-other\">"))
                #expect(html.contains("<option value=\"UTC\" selected>UTC</option>"))
                #expect(html.contains("<option value=\"Europe/Riga\">Europe/Riga</option>"), "the fleet's zones are offered")
                #expect(html.contains("<input type=\"hidden\" name=\"next\" value=\"/\">"))
                #expect(html.contains("Updated 2023-11-14 22:13:20 UTC."))
            }
            var zoneCookie = ""
            try await client.execute(uri: "/timezone?tz=UTC&other=Asia%2FTokyo&next=%2F%3Ftag%3Dprod", method: .get) { response in
                #expect(response.status == .seeOther)
                #expect(response.headers[.location] == "/?tag=prod")
                let cookie = try #require(response.headers[.setCookie])
                #expect(cookie.hasPrefix("kiothc_tz=Asia/Tokyo; Path=/; Max-Age=31536000; HttpOnly; SameSite=Lax"))
                zoneCookie = String(cookie.prefix { $0 != ";" })
            }
            try await client.execute(uri: "/", method: .get, headers: [.cookie: "\(session); \(zoneCookie)"]) { response in
                let html = String(buffer: response.body)
                #expect(html.contains("Updated 2023-11-15 07:13:20 +09:00 (Asia/Tokyo)."))
                #expect(html.contains("<option value=\"Asia/Tokyo\" selected>Asia/Tokyo</option>"), "the chosen zone is offered even when no check uses it")
            }
            try await client.execute(uri: "/ping/\(fixture.uuid("db-backup"))", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/checks/\(fixture.uuid("db-backup"))", method: .get, headers: [.cookie: "\(session); \(zoneCookie)"]) { response in
                let html = String(buffer: response.body)
                #expect(html.contains("<option value=\"Europe/Riga\">Europe/Riga (this check&#39;s)</option>"))
                #expect(html.contains("<option value=\"Asia/Tokyo\" selected>Asia/Tokyo</option>"))
                #expect(html.contains("<dt>Last ping</dt><dd><time datetime=\"2023-11-14T22:13:20+00:00\" title=\"2023-11-15 07:13:20 +09:00 (Asia/Tokyo)\">0 s ago</time>"))
            }
            try await client.execute(uri: "/timezone?tz=Europe%2FRiga&other=&next=%2F%2Fevil.example", method: .get) { response in
                #expect(response.headers[.location] == "/", "not an open redirect")
                #expect(response.headers[.setCookie]?.hasPrefix("kiothc_tz=Europe/Riga;") == true)
            }
        }
    }

    @Test("a bad zone, typed or in a forged cookie, is never an error page: UTC, with an escaped note")
    func badZone() async throws {
        let fixture = try await Fixture()
        fixture.clock.set(Self.t0)
        try await fixture.application.test(.router) { client in
            let session = try await DashboardTests.login(client, key: "ops-read-write-key-0001")
            var zoneCookie = ""
            try await client.execute(uri: "/timezone?other=%3Cb%3EMars%2FOlympus&next=%2F", method: .get) { response in
                #expect(response.status == .seeOther)
                zoneCookie = String((response.headers[.setCookie] ?? "").prefix { $0 != ";" })
                #expect(zoneCookie == "kiothc_tz=%3Cb%3EMars/Olympus")
            }
            for cookie in [zoneCookie, "kiothc_tz=\"quoted\"", "kiothc_tz=Europe/Rigaa"] {
                for uri in ["/", "/checks/\(fixture.uuid("queue"))", "/?wall=1"] {
                    try await client.execute(uri: uri, method: .get, headers: [.cookie: "\(session); \(cookie)"]) { response in
                        #expect(response.status == .ok, "\(uri) with \(cookie)")
                        let html = String(buffer: response.body)
                        #expect(!html.contains("<b>Mars"))
                        if !uri.contains("wall") {
                            #expect(html.contains("id=\"tz-note\""), "\(uri) with \(cookie)")
                            #expect(html.contains("times are shown in UTC."))
                        }
                    }
                }
            }
            try await client.execute(uri: "/", method: .get, headers: [.cookie: "\(session); kiothc_tz=Europe/Rigaa"]) { response in
                #expect(String(buffer: response.body).contains("did you mean Europe/Riga?"))
            }
        }
    }

    @Test("a running job says when it started and when it goes down if not finished, in the viewer's zone")
    func running() async throws {
        let fixture = try await Fixture()
        fixture.clock.set(Self.t0)
        let queue = fixture.uuid("queue")
        try await fixture.application.test(.router) { client in
            let session = try await DashboardTests.login(client, key: "ops-read-write-key-0001")
            try await client.execute(uri: "/ping/\(queue)/start", method: .get) { #expect($0.status == .ok) }
            fixture.clock.set(Self.t0 + 30_000_000)
            try await client.execute(uri: "/", method: .get, headers: [.cookie: "\(session); kiothc_tz=Europe/Riga"]) { response in
                let html = String(buffer: response.body)
                // grace 1m: the run goes down at 22:14:20 UTC, 00:14 in Riga.
                #expect(
                    html.contains(
                        "started <time datetime=\"2023-11-14T22:13:20+00:00\" title=\"2023-11-15 00:13:20 +02:00 (Europe/Riga)\">30 s ago</time>, down at <time datetime=\"2023-11-14T22:14:20+00:00\" title=\"2023-11-15 00:14:20 +02:00 (Europe/Riga)\">00:14</time> if not finished"
                    ), "\(html)")
            }
            fixture.clock.set(Self.t0 + 90_000_000)
            try await client.execute(uri: "/checks/\(queue)", method: .get, headers: [.cookie: session]) { response in
                let html = String(buffer: response.body)
                #expect(html.contains("<dt>Running</dt><dd class=\"running\">started "))
                #expect(html.contains("1 min ago</time>, not finished: down since <time datetime=\"2023-11-14T22:14:20+00:00\""))
                #expect(html.contains(">22:14</time>"))
            }
            try await client.execute(uri: "/ping/\(queue)", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/", method: .get, headers: [.cookie: session]) { response in
                #expect(!String(buffer: response.body).contains("if not finished"), "a finished run has no deadline")
            }
        }
    }

    @Test("the check page: ping log in one wording, a labelled strip of the pings, a chart of run durations, copyable ping URLs, its YAML position")
    func history() async throws {
        let fixture = try await Fixture()
        fixture.clock.set(Self.t0)
        let queue = fixture.uuid("queue")
        try await fixture.application.test(.router) { client in
            try await client.execute(uri: "/ping/\(queue)/start", method: .get) { #expect($0.status == .ok) }
            fixture.clock.set(Self.t0 + 2_400_000)
            try await client.execute(uri: "/ping/\(queue)", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/ping/\(queue)/start", method: .get) { #expect($0.status == .ok) }
            fixture.clock.set(Self.t0 + 2_400_000 + 192_000_000)
            try await client.execute(uri: "/ping/\(queue)/3", method: .post, body: ByteBuffer(string: "disk <full>")) { #expect($0.status == .ok) }
            try await client.execute(uri: "/ping/\(queue)/log", method: .get) { #expect($0.status == .ok) }
            let rw = try await DashboardTests.login(client, key: "ops-read-write-key-0001")
            try await client.execute(uri: "/checks/\(queue)", method: .get, headers: [.cookie: rw]) { response in
                let html = String(buffer: response.body)
                #expect(html.contains("<span class=\"kind kind-fail\">fail (exit 3)</span>"))
                #expect(html.contains("<td>2.4 s</td>"), "the first run: 2.4 s")
                #expect(html.contains("<td>3 min 12 s</td>"), "the second: 3 min 12 s")
                #expect(html.contains("disk &lt;full&gt;"))
                // The strip: five marks, oldest first, each labelled in words.
                #expect(html.components(separatedBy: "<li><a class=\"mark kind-").count - 1 == 5)
                let first = try #require(html.range(of: "#1 start, "))
                let last = try #require(html.range(of: "#5 log, "))
                #expect(first.lowerBound < last.lowerBound)
                #expect(html.contains("<span class=\"visually-hidden\">#4 fail (exit 3), 0 s ago (2023-11-14 22:16:34 UTC), took 3 min 12 s</span>"))
                // The chart: a bar per measured run, titled, described.
                #expect(html.contains("<svg viewBox=\"0 0 600 120\""))
                #expect(html.contains("role=\"img\" aria-labelledby=\"durations-title durations-desc\""))
                #expect(html.components(separatedBy: "<rect class=\"bar").count - 1 == 2)
                #expect(html.contains("<title>#2 success: 2.4 s</title>"))
                #expect(html.contains("<title>#4 fail (exit 3): 3 min 12 s</title>"))
                #expect(html.contains("2 runs, oldest first: shortest 2.4 s, median 3 min 12 s, longest 3 min 12 s"))
                #expect(html.contains("<dt>Last run took</dt><dd>3 min 12 s</dd>"))
                // Ping URLs: text, with copy buttons the script shows.
                #expect(html.contains("<code class=\"url\" id=\"ping-url-1\">http://hc.test/ping/\(queue)</code>"))
                #expect(html.contains("<code class=\"url\" id=\"ping-url-2\">http://hc.test/ping/ops-ping-key/queue-worker-b</code>"))
                #expect(html.contains("<button type=\"button\" class=\"copy\" data-copy=\"ping-url-1\" aria-label=\"Copy ping URL 1\" hidden>Copy</button>"))
                #expect(html.contains("<code class=\"source\">"))
                #expect(html.contains("<caption>Ping log, newest first (the last 5)</caption>"))
            }
            try await client.execute(uri: "/checks/\(queue)/pings/4", method: .get, headers: [.cookie: rw]) { response in
                let html = String(buffer: response.body)
                #expect(html.contains("<dt>Kind</dt><dd>fail (exit 3)</dd>"))
                #expect(html.contains("<dt>Duration</dt><dd>3 min 12 s</dd>"))
            }
            let ro = try await DashboardTests.login(client, key: "ops-read-only-key-0001")
            try await client.execute(uri: "/checks/\(queue)", method: .get, headers: [.cookie: ro]) { response in
                let html = String(buffer: response.body)
                #expect(!html.contains("class=\"strip\"") && !html.contains("<svg"), "no ping history for a read-only key")
                #expect(!html.contains("/ping/\(queue)"), "no UUID URL for a read-only key")
                #expect(html.contains("<code class=\"url\" id=\"ping-url-1\">http://hc.test/ping/&lt;ops-ping-key&gt;/queue-worker-b</code>"))
            }
        }
    }

    @Test("a check with no measured run says so instead of an empty chart")
    func noRuns() {
        let ping = Ping(n: 1, time: Self.t0, kind: .success, method: "GET", scheme: "http", remoteAddress: "", userAgent: "", body: nil, bodySize: 0)
        #expect(DashboardPages.durationChart([ping]).contains("No run durations yet"))
        #expect(DashboardPages.strip([], now: Self.t0).isEmpty)
    }
}
