import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
@testable import Runtime
@testable import Server

/// The dashboard through the router test client: login, sessions, CSRF and escaping. The
/// browser test (scripts/compat/dashboard-browser.py) covers the same pages in Chromium.
@Suite("Dashboard")
struct DashboardTests {
    typealias Fixture = ManagementAPITests.Fixture

    static func login(_ client: some TestClientProtocol, key: String) async throws -> String {
        try await client.execute(
            uri: "/login", method: .post, headers: [.contentType: "application/x-www-form-urlencoded", .origin: "http://localhost", .hostHeader: "localhost"],
            body: ByteBuffer(string: "key=\(key.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")")
        ) { response in
            #expect(response.status == .seeOther)
            let cookie = try #require(response.headers[.setCookie])
            #expect(cookie.contains("HttpOnly"))
            #expect(cookie.contains("SameSite=Lax"))
            #expect(!cookie.contains("Secure"))
            return String(cookie.prefix { $0 != ";" })
        }
    }

    @Test("without a session every page is the login form; a wrong key is refused with 401")
    func loginRequired() async throws {
        let fixture = try await Fixture()
        try await fixture.application.test(.router) { client in
            try await client.execute(uri: "/", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("<form class=\"login\""))
            }
            try await client.execute(uri: "/checks/\(fixture.uuid("queue"))", method: .get) { response in
                #expect(String(buffer: response.body).contains("<form class=\"login\""))
                #expect(!String(buffer: response.body).contains("Queue"))
            }
            try await client.execute(
                uri: "/login", method: .post, headers: [.origin: "http://localhost", .hostHeader: "localhost"], body: ByteBuffer(string: "key=nope")
            ) { response in
                #expect(response.status == .unauthorized)
                #expect(response.headers[.setCookie] == nil)
            }
            try await client.execute(uri: "/", method: .get, headers: [.cookie: "kiothc_session=\(String(repeating: "a", count: 64))"]) { response in
                #expect(String(buffer: response.body).contains("<form class=\"login\""))
            }
        }
    }

    @Test("a project key sees its project's checks with names escaped; the admin token sees all")
    func overview() async throws {
        let fixture = try await Fixture()
        try await fixture.application.test(.router) { client in
            let cookie = try await Self.login(client, key: "ops-read-write-key-0001")
            try await client.execute(uri: "/", method: .get, headers: [.cookie: cookie]) { response in
                let html = String(buffer: response.body)
                #expect(html.contains("Queue &quot;Worker&quot; &lt;b&gt;"))
                #expect(!html.contains("<b>"))
                #expect(html.contains("Database Backup"))
                #expect(!html.contains(">Site<"))
                #expect(response.headers[.contentSecurityPolicy]?.contains("script-src 'self'") == true)
                #expect(!html.contains("ops-read-write-key-0001"))
            }
            try await client.execute(uri: "/checks/\(fixture.uuid("site"))", method: .get, headers: [.cookie: cookie]) { #expect($0.status == .forbidden) }
            try await client.execute(uri: "/login?token=admin-token-for-tests-0123456789", method: .get) { response in
                #expect(response.status == .seeOther)
                let admin = String((response.headers[.setCookie] ?? "").prefix { $0 != ";" })
                try await client.execute(uri: "/", method: .get, headers: [.cookie: admin]) { response in
                    #expect(String(buffer: response.body).contains(">Site<"))
                }
            }
            try await client.execute(uri: "/login?token=wrong", method: .get) { #expect($0.status == .unauthorized) }
        }
    }

    @Test("a ping body shows HTML-escaped; read-only keys see neither pings nor bodies")
    func bodies() async throws {
        let fixture = try await Fixture()
        let queue = fixture.uuid("queue")
        try await fixture.application.test(.router) { client in
            try await client.execute(uri: "/ping/\(queue)", method: .post, body: ByteBuffer(string: "<script>alert('x')</script> & done")) { #expect($0.status == .ok) }
            let cookie = try await Self.login(client, key: "ops-read-write-key-0001")
            try await client.execute(uri: "/checks/\(queue)/pings/1", method: .get, headers: [.cookie: cookie]) { response in
                let html = String(buffer: response.body)
                #expect(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; done"))
                #expect(!html.contains("<script>alert"))
            }
            for n in ["2", "0", "x", "-5"] {
                try await client.execute(uri: "/checks/\(queue)/pings/\(n)", method: .get, headers: [.cookie: cookie]) { #expect($0.status == .notFound, "\(n)") }
            }
            let readOnly = try await Self.login(client, key: "ops-read-only-key-0001")
            try await client.execute(uri: "/checks/\(queue)", method: .get, headers: [.cookie: readOnly]) { response in
                #expect(response.status == .ok)
                #expect(!String(buffer: response.body).contains("alert"))
                #expect(!String(buffer: response.body).contains(queue + "</code>"))
            }
            try await client.execute(uri: "/checks/\(queue)/pings/1", method: .get, headers: [.cookie: readOnly]) { #expect($0.status == .forbidden) }
        }
    }

    @Test("pause from the dashboard needs a same-origin POST; cross-site or origin-less POSTs are 403")
    func csrf() async throws {
        let fixture = try await Fixture()
        let queue = fixture.uuid("queue")
        try await fixture.application.test(.router) { client in
            let cookie = try await Self.login(client, key: "ops-read-write-key-0001")
            try await client.execute(uri: "/checks/\(queue)/pause", method: .post, headers: [.cookie: cookie, .hostHeader: "localhost", .origin: "http://evil.example"]) {
                #expect($0.status == .forbidden)
            }
            try await client.execute(uri: "/checks/\(queue)/pause", method: .post, headers: [.cookie: cookie, .hostHeader: "localhost"]) { #expect($0.status == .forbidden) }
            #expect(fixture.states.state(of: try #require(UUID(uuidString: queue))).status == .new)
            try await client.execute(uri: "/checks/\(queue)/pause", method: .post, headers: [.cookie: cookie, .hostHeader: "localhost", .origin: "http://localhost"]) {
                #expect($0.status == .seeOther)
            }
            #expect(fixture.states.state(of: try #require(UUID(uuidString: queue))).status == .paused)
            let readOnly = try await Self.login(client, key: "ops-read-only-key-0001")
            try await client.execute(uri: "/checks/\(queue)/resume", method: .post, headers: [.cookie: readOnly, .hostHeader: "localhost", .origin: "http://localhost"]) {
                #expect($0.status == .forbidden)
            }
            try await client.execute(uri: "/logout", method: .post, headers: [.cookie: cookie, .hostHeader: "localhost", .origin: "http://localhost"]) {
                #expect($0.status == .seeOther)
            }
            try await client.execute(uri: "/", method: .get, headers: [.cookie: cookie]) { response in
                #expect(String(buffer: response.body).contains("<form class=\"login\""))
            }
        }
    }

    @Test("behind a TLS-terminating proxy (X-Forwarded-Proto: https) the session cookie is Secure")
    func secureCookie() async throws {
        let fixture = try await Fixture()
        try await fixture.application.test(.router) { client in
            try await client.execute(
                uri: "/login", method: .post,
                headers: [.origin: "https://localhost", .hostHeader: "localhost", .xForwardedProto: "https"],
                body: ByteBuffer(string: "key=ops-read-only-key-0001")
            ) { response in
                #expect(response.status == .seeOther)
                #expect(response.headers[.setCookie]?.hasSuffix("; Secure") == true)
            }
        }
    }

    @Test("the failed-reload banner shows the rejected configuration's errors, escaped")
    func banner() async throws {
        let fixture = try await Fixture()
        fixture.status.update { status in
            status.lastSucceeded = false
            status.failure = "cannot read <config>"
        }
        try await fixture.application.test(.router) { client in
            let cookie = try await Self.login(client, key: "ops-read-write-key-0001")
            try await client.execute(uri: "/", method: .get, headers: [.cookie: cookie]) { response in
                let html = String(buffer: response.body)
                #expect(html.contains("id=\"reload-banner\""))
                #expect(html.contains("cannot read &lt;config&gt;"))
            }
        }
    }
}
