import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Monitoring
import Testing
@testable import Runtime
@testable import Server

/// The overview's URL (`OverviewQuery`), its filtering, counting, ordering and paging
/// (`Overview`) and the page that shows them (issue 26).
@Suite("Dashboard overview")
struct DashboardOverviewTests {
    // MARK: The URL

    @Test("filters, search, sort, page and wall mode are read from the URL as a GET form sends them")
    func parsesQuery() {
        let query = OverviewQuery(query: "project=ops&project=web&tag=prod&tag=db&status=down&status=late&q=Nightly+back%2Bup&sort=last_ping&page=3&wall=1&utm=x")
        #expect(query.projects == ["ops", "web"])
        #expect(query.tags == ["prod", "db"])
        #expect(query.statuses == [.down, .grace])
        #expect(query.search == "Nightly back+up")
        #expect(query.sort == .lastPing)
        #expect(query.page == 3)
        #expect(query.wall)
        #expect(query.problems.isEmpty)
        #expect(OverviewQuery(query: nil) == OverviewQuery())
        #expect(OverviewQuery(query: "") == OverviewQuery())
    }

    @Test("the form's empty values (\"any\") are no filter, and a repeated value counts once")
    func emptyValues() {
        let query = OverviewQuery(query: "project=&tag=&status=&q=+++&sort=&page=&status=UP&status=up")
        #expect(query.projects.isEmpty && query.tags.isEmpty && query.search.isEmpty)
        #expect(query.statuses == [.up])
        #expect(query.sort == .status && query.page == 1 && !query.wall)
        #expect(query.problems.isEmpty)
    }

    @Test(
        "a bad status, sort or page is left out with a message saying what is accepted",
        arguments: [
            ("status=downn", "'downn' is not a status"),
            ("status=%3Cb%3E", "'<b>' is not a status"),
            ("sort=age", "'age' is not a sort order"),
            ("page=0", "'0' is not a page number"),
            ("page=-2", "'-2' is not a page number"),
            ("page=two", "'two' is not a page number"),
            ("page=99999999999999999999999", "is not a page number"),
        ])
    func badValues(query: String, message: String) {
        let parsed = OverviewQuery(query: query)
        #expect(parsed.problems.count == 1)
        #expect(parsed.problems.first?.contains(message) == true, "\(parsed.problems)")
        #expect(parsed.statuses.isEmpty && parsed.sort == .status && parsed.page == 1)
    }

    @Test("a search longer than 200 characters is cut, and said so; a malformed escape drops only its pair")
    func longAndMalformed() {
        let long = OverviewQuery(query: "q=" + String(repeating: "a", count: 300))
        #expect(long.search.count == OverviewQuery.searchLimit)
        #expect(long.problems.count == 1)
        let malformed = OverviewQuery(query: "q=%zz&project=ops")
        #expect(malformed.search.isEmpty && malformed.projects == ["ops"])
    }

    @Test("a view's URL keeps its filters, leaves defaults out and survives a round trip")
    func urls() {
        var query = OverviewQuery()
        #expect(query.url() == "/")
        query.projects = ["ops"]
        query.tags = ["a b", "x&y"]
        query.statuses = [.down]
        query.search = "Zürich <b>"
        query.sort = .name
        query.page = 2
        query.wall = true
        let url = query.url()
        #expect(url == "/?project=ops&tag=a%20b&tag=x%26y&status=down&q=Z%C3%BCrich%20%3Cb%3E&sort=name&page=2&wall=1")
        #expect(OverviewQuery(query: String(url.dropFirst(2))) == query)
        #expect(query.url { $0.page = 1; $0.wall = false } == "/?project=ops&tag=a%20b&tag=x%26y&status=down&q=Z%C3%BCrich%20%3Cb%3E&sort=name")
    }

    @Test("search is case-insensitive, ASCII or not")
    func search() {
        #expect(CaseInsensitiveSearch("BACK").found(in: "nightly-backup"))
        #expect(CaseInsensitiveSearch("up").found(in: "Backup"))
        #expect(!CaseInsensitiveSearch("backups").found(in: "Backup"))
        #expect(CaseInsensitiveSearch("").found(in: "x"))
        #expect(!CaseInsensitiveSearch("x").found(in: ""))
        #expect(CaseInsensitiveSearch("zürich").found(in: "Backup ZÜRICH"))
        #expect(CaseInsensitiveSearch("rich").found(in: "ZÜRICH"))
        #expect(!CaseInsensitiveSearch("uri").found(in: "ZÜRICH"))
    }

    // MARK: Filtering, counting, ordering, paging

    /// 250 checks: `c000`…`c249`, even ones in `ops`, odd ones in `web`; every third tagged
    /// `db`; timeout 1 h, grace 1 h. `c007` is "Nightly Backup" and `c008`'s key mentions
    /// "archive".
    static let fleet: String = {
        var yaml = """
            projects:
              ops:
                ping_key: ops-ping-key
                api_keys: {read_only: ops-read-only-key-0001, read_write: ops-read-write-key-0001}
              web:
                ping_key: web-ping-key
                api_keys: {read_write: web-read-write-key-0001}
            checks:

            """
        for n in 0..<250 {
            let key = n == 8 ? "c008-archive" : String(format: "c%03d", n)
            let name = n == 7 ? "Nightly Backup" : String(format: "Check %03d", n)
            yaml += "  \(key):\n    project: \(n % 2 == 0 ? "ops" : "web")\n    name: \(name)\n    timeout: 1h\n    grace: 1h\n"
            yaml += n % 3 == 0 ? "    tags: [db, prod]\n" : "    tags: [prod]\n"
        }
        return yaml
    }()

    static let now: Int64 = 1_800_000_000_000_000
    static let minute: Int64 = 60_000_000

    /// The status each check of `fleet` is given: by `n % 5`, down, up, grace, new, paused;
    /// each up check pinged `n` minutes before the others, so `last_ping` order is known.
    static func state(_ n: Int) -> CheckState {
        switch n % 5 {
        case 0: CheckState(status: .up, nPings: 1, lastPing: now - 200 * minute)  // down by time
        case 1: CheckState(status: .up, nPings: 1, lastPing: now - 10 * minute - Int64(n) * 1_000_000)
        case 2: CheckState(status: .up, nPings: 1, lastPing: now - 90 * minute)  // late
        case 3: CheckState()
        default: CheckState(status: .paused, nPings: 1, lastPing: now - 300 * minute)
        }
    }

    static func fleetFixture() async throws -> ManagementAPITests.Fixture {
        let fixture = try await ManagementAPITests.Fixture(yaml: fleet)
        fixture.clock.set(now)
        let snapshot = fixture.app.runtime.catalog.snapshot
        for definition in snapshot.catalog.checks {
            let n = try #require(Int(definition.id.key.dropFirst().prefix(3)))
            let uuid = try #require(snapshot.uuid(of: definition.id))
            fixture.states.locked(uuid) { $0[uuid] = state(n) }
        }
        return fixture
    }

    static func overview(_ fixture: ManagementAPITests.Fixture, _ query: String, viewer: Viewer = .admin) -> Overview {
        Overview(fixture.app.runtime.catalog.snapshot, viewer: viewer, states: fixture.states, now: now, query: OverviewQuery(query: query))
    }

    static func keys(_ overview: Overview) -> [String] { overview.rows.map(\.definition.id.key) }

    @Test("the default order is problems first: down, then late, then new, up and paused, each in project and key order; counts are exact over every page")
    func defaultOrder() async throws {
        let fixture = try await Self.fleetFixture()
        let first = Self.overview(fixture, "")
        #expect(first.visible == 250)
        #expect(first.matching == 250)
        #expect(first.counts == [.down: 50, .up: 50, .grace: 50, .new: 50, .paused: 50])
        #expect(first.pages == 3 && first.page == 1)
        #expect(first.rows.count == Overview.pageSize)
        #expect(first.rows.prefix(50).allSatisfy { $0.status == .down })
        #expect(first.rows.dropFirst(50).allSatisfy { $0.status == .grace })
        // Catalog order within a status: ops before web, then by key.
        #expect(Array(Self.keys(first).prefix(3)) == ["c000", "c010", "c020"])
        #expect(Self.keys(first)[25] == "c005")
        let second = Self.overview(fixture, "page=2")
        #expect(second.rows.prefix(50).allSatisfy { $0.status == .new })
        #expect(second.rows.dropFirst(50).allSatisfy { $0.status == .up })
        #expect(second.counts == first.counts)
        let third = Self.overview(fixture, "page=3")
        #expect(third.rows.count == 50 && third.rows.allSatisfy { $0.status == .paused })
        let all = Set(Self.keys(first) + Self.keys(second) + Self.keys(third))
        #expect(all.count == 250)
    }

    @Test("filters apply before paging and counts are over the project, tag and search filters without the status one")
    func filtersBeforePaging() async throws {
        let fixture = try await Self.fleetFixture()
        let web = Self.overview(fixture, "project=web")
        #expect(web.matching == 125 && web.pages == 2)
        #expect(web.rows.allSatisfy { $0.definition.id.project == "web" })
        #expect(web.counts.values.reduce(0, +) == 125)
        let webDown = Self.overview(fixture, "project=web&status=down")
        #expect(webDown.matching == 25 && webDown.pages == 1)
        #expect(webDown.rows.allSatisfy { $0.status == .down && $0.definition.id.project == "web" })
        #expect(webDown.counts == web.counts)
        let several = Self.overview(fixture, "status=down&status=grace&tag=db&tag=prod")
        // n % 3 == 0 and n % 5 in {0, 2}: 84 multiples of 3 below 250, 34 of them.
        let expected = (0..<250).filter { $0 % 3 == 0 && [0, 2].contains($0 % 5) }.count
        #expect(several.matching == expected)
        #expect(several.rows.allSatisfy { $0.definition.tags.contains("db") && [.down, .grace].contains($0.status) })
        #expect(several.counts.values.reduce(0, +) == 84)
        let secondPage = Self.overview(fixture, "project=ops&page=2")
        #expect(secondPage.rows.count == 25 && secondPage.rows.allSatisfy { $0.definition.id.project == "ops" })
    }

    @Test("q searches names, slugs and keys, case-insensitively")
    func searchFilters() async throws {
        let fixture = try await Self.fleetFixture()
        #expect(Self.keys(Self.overview(fixture, "q=nightly+BACKUP")) == ["c007"])  // name
        #expect(Self.keys(Self.overview(fixture, "q=nightly-backup")) == ["c007"])  // slug
        #expect(Self.keys(Self.overview(fixture, "q=ARCHIVE")) == ["c008-archive"])  // key only
        let some = Self.overview(fixture, "q=check+24")
        #expect(Set(Self.keys(some)) == Set((240..<250).map { String(format: "c%03d", $0) }))
        #expect(some.counts.values.reduce(0, +) == 10)
        #expect(Self.overview(fixture, "q=nothing-like-this").matching == 0)
    }

    @Test("sort=name orders by name case-insensitively; sort=last_ping puts the newest first and never-pinged checks last")
    func sorting() async throws {
        let fixture = try await Self.fleetFixture()
        let byName = Self.overview(fixture, "sort=name&project=ops")
        let names = byName.rows.map(\.definition.name)
        #expect(names == names.sorted { $0.lowercased() < $1.lowercased() })
        #expect(names.first == "Check 000")
        #expect(Self.overview(fixture, "sort=name&page=3").rows.last?.definition.name == "Nightly Backup")
        let byPing = Self.overview(fixture, "sort=last_ping&status=up")
        let pings = byPing.rows.compactMap(\.state.lastPing)
        #expect(pings.count == 50 && pings == pings.sorted(by: >))
        #expect(Self.keys(byPing).first == "c001")
        let withNew = Self.overview(fixture, "sort=last_ping&page=3")
        #expect(withNew.rows.suffix(50).allSatisfy { $0.state.lastPing == nil })
    }

    @Test("an unknown project or tag matches nothing and says so; a page past the last shows the last and says so")
    func unknownValues() async throws {
        let fixture = try await Self.fleetFixture()
        let project = Self.overview(fixture, "project=nope")
        #expect(project.matching == 0 && project.rows.isEmpty && project.pages == 1)
        #expect(project.notes == ["No check you can see is in a project 'nope'."])
        let tag = Self.overview(fixture, "tag=prod&tag=missing")
        #expect(tag.matching == 0 && tag.notes == ["No check you can see has the tag 'missing'."])
        let past = Self.overview(fixture, "page=9")
        #expect(past.page == 3 && past.rows.count == 50)
        #expect(past.notes.first?.contains("There is no page 9") == true)
        // A project key cannot learn about other projects: "web" is not its own.
        let other = Self.overview(fixture, "project=web", viewer: .project("ops", readWrite: true))
        #expect(other.visible == 125 && other.matching == 0)
        #expect(other.notes == ["No check you can see is in a project 'web'."])
    }

    @Test("the UUIDs by catalog position are kept for the snapshot serving now and rebuilt for another one")
    func index() async throws {
        let fixture = try await Self.fleetFixture()
        let snapshot = fixture.app.runtime.catalog.snapshot
        let index = OverviewIndex()
        let checks = index.checks(of: snapshot)
        #expect(checks.uuids.count == 250 && checks.rules.count == 250)
        #expect(checks.uuids == snapshot.catalog.checks.map { snapshot.uuid(of: $0.id) })
        #expect(checks.rules == snapshot.catalog.checks.map(CheckRules.init))
        #expect(index.checks(of: .empty).uuids.isEmpty)
        #expect(index.checks(of: snapshot).uuids == checks.uuids)
        let cached = Overview(snapshot, index: index, viewer: .admin, states: fixture.states, now: Self.now, query: OverviewQuery())
        #expect(Self.keys(cached) == Self.keys(Self.overview(fixture, "")))
        let ranks = index.nameRanks(of: snapshot)
        let byRank = snapshot.catalog.checks.indices.sorted { ranks[$0] < ranks[$1] }.map { snapshot.catalog.checks[$0].name }
        #expect(Set(ranks).count == 250 && byRank.first == "Check 000" && byRank.last == "Nightly Backup")
        #expect(index.nameRanks(of: .empty).isEmpty)
        // A snapshot no longer serving is not kept alive by the index.
        weak var gone: ServingCatalog?
        do {
            let old = ServingCatalog(catalog: snapshot.catalog, uuidsInOrder: snapshot.catalog.checks.map { snapshot.uuid(of: $0.id) }, pingKeys: [:])
            gone = old
            #expect(index.checks(of: old).uuids.count == 250)
            #expect(index.nameRanks(of: old).count == 250)
        }
        #expect(gone == nil)
        // The statuses counted from the cached rules are those of the rows' full `CheckView`s.
        let rows = (1...3).flatMap { Self.overview(fixture, "page=\($0)").rows }
        #expect(Dictionary(grouping: rows, by: \.status).mapValues(\.count) == cached.counts)
    }

    // MARK: The page

    @Test("the page keeps filters in its links, shows bad values as messages (200, not 500) and escapes what the URL says")
    func page() async throws {
        let fixture = try await Self.fleetFixture()
        try await fixture.application.test(.router) { client in
            let cookie = try await DashboardTests.login(client, key: "ops-read-write-key-0001")
            try await client.execute(uri: "/?tag=prod&status=downn&sort=weird&q=%3Cscript%3E", method: .get, headers: [.cookie: cookie]) { response in
                #expect(response.status == .ok)
                let html = String(buffer: response.body)
                #expect(html.contains("&#39;downn&#39; is not a status"))
                #expect(html.contains("&#39;weird&#39; is not a sort order"))
                #expect(html.contains("value=\"&lt;script&gt;\""))
                #expect(!html.contains("<script>"))
                #expect(html.contains("No check matches these filters."))
            }
            try await client.execute(uri: "/?tag=prod", method: .get, headers: [.cookie: cookie]) { response in
                let html = String(buffer: response.body)
                #expect(html.components(separatedBy: "<tr class=\"check\"").count - 1 == 100)
                #expect(html.contains("<a rel=\"next\" href=\"/?tag=prod&amp;page=2\">"))
                #expect(html.contains("Page 1 of 2 (checks 1–100 of 125)"))
                #expect(html.contains("data-status=\"down\" href=\"/?tag=prod&amp;status=down\">25 down</a>"))
                #expect(html.contains("<form class=\"filters\" method=\"get\" action=\"/\""))
                #expect(html.contains("<input type=\"text\" name=\"tag\" value=\"prod\""))
                // The form is outside the part live refresh replaces.
                let form = try #require(html.range(of: "<form class=\"filters\""))
                let main = try #require(html.range(of: "<main data-refresh>"))
                #expect(form.lowerBound < main.lowerBound)
            }
            try await client.execute(uri: "/?tag=prod&page=2", method: .get, headers: [.cookie: cookie]) { response in
                let html = String(buffer: response.body)
                #expect(html.contains("<a rel=\"prev\" href=\"/?tag=prod\">"))
                #expect(html.components(separatedBy: "<tr class=\"check\"").count - 1 == 25)
            }
        }
    }

    @Test("rows carry complete ping URLs: read-write keys and the admin get the UUID one and the slug one with the real ping key; read-only keys the slug one with a placeholder")
    func pingURLs() async throws {
        let fixture = try await Self.fleetFixture()
        let uuid = fixture.uuid("c000")
        try await fixture.application.test(.router) { client in
            let readWrite = try await DashboardTests.login(client, key: "ops-read-write-key-0001")
            try await client.execute(uri: "/?q=check+000", method: .get, headers: [.cookie: readWrite]) { response in
                let html = String(buffer: response.body)
                #expect(html.contains("<code class=\"url\">http://hc.test/ping/\(uuid)</code>"))
                #expect(html.contains("<code class=\"url\">http://hc.test/ping/ops-ping-key/check-000</code>"))
                #expect(!html.contains("&lt;ops-ping-key&gt;") && !html.contains("web-ping-key"), "no placeholder, no other project's key")
            }
            try await client.execute(uri: "/checks/\(uuid)", method: .get, headers: [.cookie: readWrite]) { response in
                #expect(String(buffer: response.body).contains(">http://hc.test/ping/ops-ping-key/check-000</code>"), "the check page too")
            }
            let readOnly = try await DashboardTests.login(client, key: "ops-read-only-key-0001")
            for uri in ["/?q=check+000", "/checks/\(uuid)"] {
                try await client.execute(uri: uri, method: .get, headers: [.cookie: readOnly]) { response in
                    let html = String(buffer: response.body)
                    #expect(html.contains(">http://hc.test/ping/&lt;ops-ping-key&gt;/check-000</code>"), "\(uri)")
                    #expect(!html.contains("/ping/ops-ping-key/"), "a read-only key never sees the ping key: \(uri)")
                    #expect(!html.contains("/ping/\(uuid)"))
                }
            }
            try await client.execute(uri: "/?q=check+001", method: .get) { response in
                #expect(!String(buffer: response.body).contains("ping-key/"), "logged out: the login form, no key")
            }
            try await client.execute(uri: "/login?token=admin-token-for-tests-0123456789", method: .get) { response in
                let admin = String((response.headers[.setCookie] ?? "").prefix { $0 != ";" })
                try await client.execute(uri: "/?q=check+00", method: .get, headers: [.cookie: admin]) { response in
                    let html = String(buffer: response.body)
                    #expect(html.contains(">http://hc.test/ping/ops-ping-key/check-000</code>"))
                    #expect(html.contains(">http://hc.test/ping/web-ping-key/check-001</code>"), "the admin sees every project's key")
                }
            }
        }
    }

    @Test("wall mode: tiles problems first, counts, no header or form, live refresh, filters kept")
    func wall() async throws {
        let fixture = try await Self.fleetFixture()
        try await fixture.application.test(.router) { client in
            let cookie = try await DashboardTests.login(client, key: "ops-read-write-key-0001")
            try await client.execute(uri: "/?wall=1&project=ops", method: .get, headers: [.cookie: cookie]) { response in
                #expect(response.status == .ok)
                let html = String(buffer: response.body)
                #expect(html.contains("<body class=\"wall\">"))
                #expect(!html.contains("<header>"))
                #expect(!html.contains("<form"))
                #expect(html.contains("<main data-refresh>"))
                #expect(html.contains("src=\"/static/dashboard.js\""))
                let tiles = html.components(separatedBy: "<a class=\"tile ").dropFirst().map { String($0.prefix(9)) }
                #expect(tiles.count == 100)
                #expect(tiles.first == "tile-down")
                #expect(html.contains("<strong>25</strong> down"))
                #expect(html.contains("<a rel=\"next\" href=\"/?project=ops&amp;page=2&amp;wall=1\">25 more on the next pages</a>"))
                #expect(html.contains("href=\"/?project=ops\">leave wall mode</a>"))
            }
        }
    }
}
