import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Runtime
import Testing
@testable import Server

/// What Hummingbird's router would answer otherwise: it reads `checks/`, `checks` and
/// `//checks` as one path, answers a method a path does not serve with 404 and knows no method
/// outside its routes. Each row is an answer of the hand-written dispatch the router replaced.
@Suite("Routing")
struct RoutingTests {
    typealias Fixture = ManagementAPITests.Fixture

    struct Row: CustomStringConvertible {
        let method: HTTPRequest.Method
        let path: String
        let status: HTTPResponse.Status
        let body: String
        var allow: String? = nil
        var session = false
        var description: String { "\(method) \(path)" }
    }

    static let propfind = HTTPRequest.Method("PROPFIND")!
    static let apiNotFound = #"{"error": "not found"}"# + "\n"

    static func rows(queue: String) -> [Row] {
        [
            // Healthchecks' collection URLs end in a slash, its item URLs do not.
            Row(method: .get, path: "/api/v3/checks", status: .notFound, body: apiNotFound),
            Row(method: .get, path: "/api/v3/checks/\(queue)/", status: .notFound, body: apiNotFound),
            Row(method: .get, path: "/api/v3/checks/\(queue)/flips", status: .notFound, body: apiNotFound),
            Row(method: .get, path: "/api/v3/checks/\(queue)/notifications", status: .notFound, body: apiNotFound),
            Row(method: .post, path: "/api/v3/channels/\(queue)/test/", status: .notFound, body: apiNotFound),
            Row(method: .delete, path: "/api/v3/checks", status: .notFound, body: apiNotFound),
            Row(method: .get, path: "/api/v3//checks/", status: .notFound, body: apiNotFound),
            Row(method: .get, path: "/api/v03/checks/", status: .notFound, body: apiNotFound),
            Row(method: .get, path: "/api/v4/checks/", status: .notFound, body: apiNotFound),
            Row(method: .get, path: "/api/v3", status: .notFound, body: apiNotFound),
            Row(method: .get, path: "/api/v3/checks/\(queue)/pings/1", status: .notFound, body: apiNotFound),
            // A route's other methods: 405 with Allow, OPTIONS a preflight, whatever the method's name.
            Row(
                method: .delete, path: "/api/v3/checks/", status: .methodNotAllowed,
                body: #"{"error": "checks are managed in configuration files: edit the YAML under the config directory (checks.d/) and the server reloads it; the API cannot create, update or delete checks"}"# + "\n",
                allow: "GET, OPTIONS"),
            Row(method: propfind, path: "/api/v3/checks/", status: .methodNotAllowed, body: #"{"error": "method not allowed: use GET, OPTIONS"}"# + "\n", allow: "GET, OPTIONS"),
            Row(method: .get, path: "/api/v3/checks/\(queue)/pause", status: .methodNotAllowed, body: #"{"error": "method not allowed: use POST, OPTIONS"}"# + "\n", allow: "POST, OPTIONS"),
            Row(method: .options, path: "/api/v3/checks/\(queue)/pause", status: .noContent, body: ""),
            Row(method: .get, path: "/api/v3/channels/\(queue)/test", status: .methodNotAllowed, body: #"{"error": "method not allowed: use POST, OPTIONS"}"# + "\n", allow: "POST, OPTIONS"),
            Row(method: .head, path: "/api/v3/status/", status: .ok, body: "OK"),
            Row(method: .post, path: "/metrics", status: .methodNotAllowed, body: "method not allowed", allow: "GET, HEAD"),
            Row(method: propfind, path: "/metrics", status: .methodNotAllowed, body: "method not allowed", allow: "GET, HEAD"),
            Row(method: .get, path: "/metrics/", status: .notFound, body: "not found"),
            Row(method: .get, path: "//metrics", status: .notFound, body: "not found"),
            // Probes answer every method, on their one spelling.
            Row(method: .post, path: "/-/healthy", status: .ok, body: "OK"),
            Row(method: propfind, path: "/-/ready", status: .ok, body: "OK"),
            Row(method: .get, path: "/-/healthy/", status: .notFound, body: "not found"),
            Row(method: .get, path: "/-//healthy", status: .notFound, body: "not found"),
            // Dashboard routes that serve some methods only: the others are not found.
            Row(method: .head, path: "/login", status: .notFound, body: "not found"),
            Row(method: .get, path: "/logout", status: .notFound, body: "not found"),
            Row(method: .post, path: "/static/dashboard.js", status: .notFound, body: "not found"),
            Row(method: .get, path: "//", status: .notFound, body: "not found"),
            Row(method: .get, path: "/checks", status: .notFound, body: "not found"),
            // Under /checks/ every path is the dashboard's: login first, then the check, then the page.
            Row(method: .get, path: "/checks/", status: .ok, body: "<form class=\"login\""),
            Row(method: .put, path: "/checks/\(queue)", status: .unauthorized, body: "Log in first."),
            Row(method: .get, path: "/checks//\(queue)", status: .notFound, body: "There is no such check.", session: true),
            Row(method: .get, path: "/checks/\(queue)/", status: .notFound, body: "No such page.", session: true),
            Row(method: .get, path: "/checks/\(queue)/pause", status: .notFound, body: "No such page.", session: true),
            Row(method: .get, path: "/checks/\(queue)/channels/\(queue)/test", status: .notFound, body: "No such page.", session: true),
            Row(method: propfind, path: "/checks/\(queue)", status: .notFound, body: "No such page.", session: true),
            Row(method: .get, path: "/checks/\(queue)/pings/", status: .notFound, body: "No such ping.", session: true),
            Row(method: .get, path: "/checks/\(queue)/pings", status: .notFound, body: "No such page.", session: true),
            Row(method: .get, path: "/checks/\(queue)/pings/1/", status: .notFound, body: "No such page.", session: true),
            Row(method: .put, path: "/", status: .methodNotAllowed, body: "Use GET.", allow: "GET, HEAD", session: true),
            Row(method: propfind, path: "/", status: .methodNotAllowed, body: "Use GET.", allow: "GET, HEAD", session: true),
        ]
    }

    @Test("paths are spelled exactly, other methods are refused or not found as each area says, per area 404s")
    func table() async throws {
        let fixture = try await Fixture()
        try await fixture.application.test(.router) { client in
            let cookie = try await DashboardTests.login(client, key: "ops-read-write-key-0001")
            for row in Self.rows(queue: fixture.uuid("queue")) {
                var headers: HTTPFields = [.xAPIKey: "ops-read-write-key-0001"]
                if row.session { headers[.cookie] = cookie }
                try await client.execute(uri: row.path, method: row.method, headers: headers) { response in
                    #expect(response.status == row.status, "\(row)")
                    let body = String(buffer: response.body)
                    // Pages are checked by their message, everything else byte for byte.
                    let page = response.headers[.contentType]?.hasPrefix("text/html") == true
                    #expect(page ? body.contains(row.body) : body == row.body, "\(row): \(body.prefix(200))")
                    #expect(response.headers[.allow] == row.allow, "\(row)")
                }
            }
        }
    }

    @Test("the session is the first kiothc_session cookie; spaces before the next ';' do not matter")
    func sessionCookie() async throws {
        let fixture = try await Fixture()
        try await fixture.application.test(.router) { client in
            let cookie = try await DashboardTests.login(client, key: "ops-read-write-key-0001")
            let loggedIn = ["\(cookie) ; x=1", "x=1; \(cookie)", " \(cookie)"]
            let loggedOut = ["kiothc_session=bad; \(cookie)", "\(cookie)x", "KIOTHC_SESSION=\(cookie.dropFirst("kiothc_session=".count))"]
            for (header, expected) in loggedIn.map({ ($0, true) }) + loggedOut.map({ ($0, false) }) {
                try await client.execute(uri: "/", method: .get, headers: [.cookie: header]) { response in
                    #expect(String(buffer: response.body).contains("<form class=\"login\"") == !expected, "\(header)")
                }
            }
        }
    }
}
