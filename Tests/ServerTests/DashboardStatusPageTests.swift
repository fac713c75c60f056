import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
@testable import Runtime
@testable import Server

/// The public status page of a project with `status_page: true` (issue 26): at `/status/<key>`
/// with a key derived from the badge secret, names and statuses only, 404 for any other key.
@Suite("Dashboard status page")
struct DashboardStatusPageTests {
    typealias Fixture = ManagementAPITests.Fixture

    static let yaml = ManagementAPITests.yaml.replacingOccurrences(of: "    ping_key: ops-ping-key\n", with: "    ping_key: ops-ping-key\n    status_page: true\n")

    @Test("a status page key: 32 URL-safe characters (192 bits), the same for the same secret and project, different per project, per secret and from the badge key")
    func keys() {
        let secret = BadgeSecret("a-badge-secret-of-forty-three-characters-ok")
        let pages = StatusPages(secret: secret)
        let key = pages.key(project: "ops")
        #expect(key.count == 32)
        #expect(key.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
        #expect(StatusPages(secret: secret).key(project: "ops") == key)
        #expect(pages.key(project: "web") != key)
        #expect(StatusPages(secret: BadgeSecret("another-badge-secret-of-forty-three-chars-x")).key(project: "ops") != key)
        #expect(!key.contains(BadgeSigner(secret: secret).badgeKey(project: "ops").prefix(8)))
        #expect(StatusPages(secret: .generated()).key(project: "ops") != StatusPages(secret: .generated()).key(project: "ops"))
    }

    @Test("the page lists the project's check names and statuses, problems first, and nothing that identifies or pings a check")
    func page() async throws {
        let fixture = try await Fixture(yaml: Self.yaml)
        let key = StatusPages(secret: fixture.app.runtime.badgeSecret).key(project: "ops")
        let queue = fixture.uuid("queue")
        try await fixture.application.test(.router) { client in
            try await client.execute(uri: "/ping/\(queue)/fail", method: .post, body: ByteBuffer(string: "secret job output")) { #expect($0.status == .ok) }
            try await client.execute(uri: "/status/\(key)", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentSecurityPolicy]?.contains("frame-ancestors 'none'") == true)
                let html = String(buffer: response.body)
                #expect(html.contains("<h1>ops status</h1>"))
                #expect(html.contains("<tr class=\"check\" data-status=\"down\"><td>Queue &quot;Worker&quot; &lt;b&gt;</td>"))
                #expect(html.contains("<tr class=\"check\" data-status=\"new\"><td>Database Backup</td>"))
                let down = try #require(html.range(of: "data-status=\"down\"><td>"))
                let new = try #require(html.range(of: "data-status=\"new\"><td>"))
                #expect(down.lowerBound < new.lowerBound, "problems first")
                #expect(html.contains("1 down and 0 late of 2 checks."))
                #expect(!html.contains(">Site<"), "another project's checks are not listed")
                for hidden in [queue, fixture.uuid("db-backup"), "queue-worker-b", "database-backup", "db-backup", "ops-ping-key", "secret job output",
                               "ops-read-only-key-0001", "ops-read-write-key-0001", "/ping/", "/checks/", "Europe/Riga", "0 3 * * *", "prod"] {
                    #expect(!html.contains(hidden), "the status page shows \(hidden)")
                }
                #expect(!html.contains(key), "not even its own key")
            }
            try await client.execute(uri: "/status/\(key)", method: .head) { #expect($0.status == .ok) }
        }
    }

    @Test("any other key is the same 404, whether or not the project exists or has a page; the admin sees the page's link, project keys do not")
    func unknownKeys() async throws {
        let fixture = try await Fixture(yaml: Self.yaml)
        let pages = StatusPages(secret: fixture.app.runtime.badgeSecret)
        let key = pages.key(project: "ops")
        try await fixture.application.test(.router) { client in
            var bodies: Set<String> = []
            for wrong in [pages.key(project: "web"), pages.key(project: "nope"), String(key.dropLast()) + (key.last == "A" ? "B" : "A"), "ops", "x", String(key.prefix(31))] {
                try await client.execute(uri: "/status/\(wrong)", method: .get) { response in
                    #expect(response.status == .notFound, "\(wrong)")
                    bodies.insert(String(buffer: response.body))
                }
            }
            #expect(bodies.count == 1, "one answer for every wrong key")
            #expect(bodies.first?.contains("ops") == false && bodies.first?.contains("web") == false)
            try await client.execute(uri: "/login?token=admin-token-for-tests-0123456789", method: .get) { response in
                let admin = String((response.headers[.setCookie] ?? "").prefix { $0 != ";" })
                try await client.execute(uri: "/", method: .get, headers: [.cookie: admin]) { response in
                    #expect(String(buffer: response.body).contains("Public status pages (admin only): <a href=\"/status/\(key)\">ops</a>"))
                }
            }
            let readWrite = try await DashboardTests.login(client, key: "ops-read-write-key-0001")
            try await client.execute(uri: "/", method: .get, headers: [.cookie: readWrite]) { response in
                #expect(!String(buffer: response.body).contains(key))
            }
        }
        let without = try await Fixture()
        let withoutKey = StatusPages(secret: without.app.runtime.badgeSecret).key(project: "ops")
        try await without.application.test(.router) { client in
            try await client.execute(uri: "/status/\(withoutKey)", method: .get) { #expect($0.status == .notFound, "no status_page: no page") }
        }
    }
}
