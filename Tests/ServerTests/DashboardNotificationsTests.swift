import Alerting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Runtime
@testable import Server

/// The check page's "Notifications" section and its "Send test" forms (SPEC §12), against the
/// running runtime and receiver of `NotificationsAPITests`.
@Suite("Dashboard notifications", .timeLimit(.minutes(2)))
struct DashboardNotificationsTests {
    static let sameOrigin: HTTPFields = [.hostHeader: "localhost", .origin: "http://localhost"]

    static func page(_ client: some TestClientProtocol, _ uri: String, cookie: String) async throws -> String {
        try await client.execute(uri: uri, method: .get, headers: [.cookie: cookie]) { response in
            #expect(response.status == .ok)
            return String(buffer: response.body)
        }
    }

    static func post(_ client: some TestClientProtocol, _ uri: String, cookie: String, headers: HTTPFields = sameOrigin) async throws -> (HTTPResponse.Status, String?) {
        var fields = headers
        fields[.cookie] = cookie
        return try await client.execute(uri: uri, method: .post, headers: fields) { ($0.status, $0.headers[.location]) }
    }

    @Test("the check page lists a Send test form for each channel the check notifies; the form sends a test and the page then shows it with its attempt")
    func sendTestFromThePage() async throws {
        try await NotificationsAPITests.running { server, receiver, client in
            let queue = try NotificationsAPITests.uuid(server, "ops/queue")
            let hook = NotificationsAPITests.channelID("ops", "hook")
            let cookie = try await DashboardTests.login(client, key: "ops-read-write-key-0001")
            let before = try await Self.page(client, "/checks/\(queue)", cookie: cookie)
            #expect(before.contains("<h2 id=\"notifications\">Notifications</h2>"))
            #expect(before.contains("No notifications yet."))
            #expect(before.contains("<form class=\"send-test\" method=\"post\" action=\"/checks/\(queue)/channels/\(hook)/test\" data-channel=\"hook\">"))
            #expect(!before.contains("data-channel=\"broken\""), "the check notifies hook only")

            let (status, location) = try await Self.post(client, "/checks/\(queue)/channels/\(hook)/test", cookie: cookie)
            #expect(status == .seeOther)
            #expect(location == "/checks/\(queue)#notifications")
            #expect(receiver.requests(to: "/hook").count == 1, "sent once, before the answer")
            #expect(receiver.requests(to: "/hook").first?.body["code"] == queue)

            let after = try await Self.page(client, "/checks/\(queue)", cookie: cookie)
            #expect(!after.contains("No notifications yet."))
            #expect(after.contains("<tr class=\"notification\" data-status=\"delivered\" data-test>"))
            #expect(after.contains("<span class=\"tag\">test</span>"))
            #expect(after.contains("<td>hook</td>"))
            #expect(after.contains("<li class=\"attempt\" data-outcome=\"delivered\">#1 "))
            #expect(after.contains("<strong>delivered</strong> (HTTP 200, "))

            // A channel the check does not notify, or none at all: not found, nothing sent.
            let broken = NotificationsAPITests.channelID("ops", "broken")
            #expect(try await Self.post(client, "/checks/\(queue)/channels/\(broken)/test", cookie: cookie).0 == .notFound)
            #expect(try await Self.post(client, "/checks/\(queue)/channels/nope/test", cookie: cookie).0 == .notFound)
            #expect(receiver.requests(to: "/broken").isEmpty)
        }
    }

    @Test("Send test is refused cross-site, without Origin or Referer, with a read-only session and without a session; a read-only session sees alerts but no forms")
    func sendTestRefusals() async throws {
        try await NotificationsAPITests.running { server, receiver, client in
            let queue = try NotificationsAPITests.uuid(server, "ops/queue")
            let uri = "/checks/\(queue)/channels/\(NotificationsAPITests.channelID("ops", "hook"))/test"
            let cookie = try await DashboardTests.login(client, key: "ops-read-write-key-0001")
            #expect(try await Self.post(client, uri, cookie: cookie, headers: [.hostHeader: "localhost", .origin: "http://evil.example"]).0 == .forbidden)
            #expect(try await Self.post(client, uri, cookie: cookie, headers: [.hostHeader: "localhost"]).0 == .forbidden)
            #expect(try await Self.post(client, uri, cookie: "kiothc_session=\(String(repeating: "a", count: 64))").0 == .unauthorized)
            let readOnly = try await DashboardTests.login(client, key: "ops-read-only-key-0001")
            #expect(try await Self.post(client, uri, cookie: readOnly).0 == .forbidden)
            #expect(receiver.requests(to: "/hook").isEmpty, "nothing was sent")

            #expect(try await Self.post(client, uri, cookie: cookie).0 == .seeOther)
            let page = try await Self.page(client, "/checks/\(queue)", cookie: readOnly)
            #expect(page.contains("data-status=\"delivered\" data-test"), "a read-only key sees the alerts")
            #expect(!page.contains("class=\"send-test\""), "but cannot send tests")
        }
    }

    @Test("the section escapes every value and shows each attempt's code, exit status, error and duration, and a pending alert's next attempt")
    func rendering() {
        let now: Int64 = 1_795_791_600_000_000
        let alert = Alert(
            check: UUID(), project: "ops", channel: "<b>hook</b>", direction: .down, flipTime: now - 60_000_000, created: now - 60_000_000,
            values: AlertValues(name: "n", slug: "s", code: "c", status: "down", now: "", tags: "", project: "ops", exitStatus: "", body: ""))
        let record = AlertRecord(
            alert: alert,
            attempts: [
                Attempt(time: now - 50_000_000, outcome: .failed, statusCode: 503, error: "refused: <script>alert(1)</script>", duration: 1_234_000),
                Attempt(time: now - 40_000_000, outcome: .failed, exitStatus: 3, error: "exit status 3", duration: 20_000, permanent: true),
            ],
            state: .pending, nextAttempt: now + 10_000_000)
        let channel = DashboardPages.TestableChannel(name: "a\"b", kind: "webhook", id: "0b0e4a5e-0000-5000-8000-000000000000")
        let html = DashboardPages.notifications([record], channels: [channel], check: "c", canWrite: true, problem: nil, now: now)
        #expect(!html.contains("<script>"))
        #expect(!html.contains("<b>"))
        #expect(html.contains("refused: &lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(html.contains("<td>&lt;b&gt;hook&lt;/b&gt;</td>"))
        #expect(html.contains("data-channel=\"a&quot;b\""))
        #expect(html.contains("(HTTP 503, 1.2 s)"))
        #expect(html.contains("(exit 3, 20 ms, refused for good)"))
        #expect(html.contains("data-status=\"pending\">"), "not a test: no test marker")
        #expect(!html.contains("<span class=\"tag\">test</span>"))
        #expect(html.contains("next attempt</span> <time datetime=\"2026-11-27T15:00:10+00:00\" title=\"2026-11-27 15:00:10 UTC\">in 10 s</time>"))
        let readOnly = DashboardPages.notifications([record], channels: [channel], check: "c", canWrite: false, problem: "cannot <read>", now: now)
        #expect(!readOnly.contains("<form"))
        #expect(readOnly.contains("cannot &lt;read&gt;"))
    }
}
