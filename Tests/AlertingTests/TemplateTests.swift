import Foundation
import Monitoring
import Testing

@testable import Alerting

let sampleValues = AlertValues(
    name: "DB \"Backup\" & co", slug: "db-backup-co", code: "0b7c4a5e-0000-4000-8000-00000000000a", status: "down",
    now: "2026-03-29T23:00:00Z", tags: "prod db", project: "Ops Team", exitStatus: "3", body: "line1\nit's $NAME; rm -rf /")

@Suite("Placeholders (SPEC §6)")
struct TemplateTests {
    @Test("every placeholder is replaced, unknown $WORDS and lone $ are kept")
    func allPlaceholders() {
        let text = Template.render("$NAME|$SLUG|$CODE|$STATUS|$NOW|$TAGS|$PROJECT|$EXITSTATUS|$UNKNOWN|$|cost $5", sampleValues, escaping: .none)
        #expect(
            text
                == "DB \"Backup\" & co|db-backup-co|0b7c4a5e-0000-4000-8000-00000000000a|down|2026-03-29T23:00:00Z|prod db|Ops Team|3|$UNKNOWN|$|cost $5")
    }

    @Test("$NOW is the flip's time in ISO 8601 UTC, whole seconds")
    func now() {
        #expect(UTCTime.secondsZ(1_774_825_200_000_000) == "2026-03-29T23:00:00Z")
        #expect(UTCTime.secondsZ(1_774_825_200_999_999) == "2026-03-29T23:00:00Z")
        #expect(UTCTime.secondsZ(0) == "1970-01-01T00:00:00Z")
        #expect(UTCTime.secondsZ(253_402_300_799_000_000) == "9999-12-31T23:59:59Z")
    }

    @Test("a value holding a placeholder is not expanded again")
    func noRecursion() {
        #expect(Template.render("$BODY", sampleValues, escaping: .none) == "line1\nit's $NAME; rm -rf /")
    }

    @Test("in URLs values are percent-encoded, reserved characters included")
    func percent() {
        let url = Template.render("https://example.com/alert?name=$NAME&tags=$TAGS", sampleValues, escaping: .percent)
        #expect(url == "https://example.com/alert?name=DB%20%22Backup%22%20%26%20co&tags=prod%20db")
        #expect(Template.escape("é/?#", .percent) == "%C3%A9%2F%3F%23")
    }

    @Test("in JSON bodies values are JSON-escaped, and the result parses")
    func json() throws {
        let body = Template.render(#"{"text": "$NAME is $STATUS", "body": "$BODY"}"#, sampleValues, escaping: .json)
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: String])
        #expect(parsed["text"] == "DB \"Backup\" & co is down")
        #expect(parsed["body"] == "line1\nit's $NAME; rm -rf /")
        #expect(Template.escape("\u{1}\t\u{2028}", .json) == "\\u0001\\t\\u2028")
    }

    @Test("in commands values are single-quoted shell words")
    func shell() {
        #expect(Template.render("notify $BODY", sampleValues, escaping: .shell) == "notify 'line1\nit'\\''s $NAME; rm -rf /'")
        #expect(Template.escape("", .shell) == "''")
    }

    @Test("JSON is decided by Content-Type, else by a body starting with { or [")
    func jsonDetection() {
        #expect(Template.isJSON(body: "text", contentType: "application/json; charset=utf-8"))
        #expect(Template.isJSON(body: "{}", contentType: "text/plain") == false)
        #expect(Template.isJSON(body: "  \n[1]", contentType: nil))
        #expect(Template.isJSON(body: "$NAME is down", contentType: nil) == false)
        #expect(Template.isJSON(body: "x", contentType: "application/vnd.api+json"))
    }
}

@Suite("Retry policy")
struct RetryPolicyTests {
    @Test("backoff doubles from 10 s up to 1 h and gives up after 24 h or 30 tries")
    func standard() {
        let policy = RetryPolicy.standard
        let s: Int64 = 1_000_000
        // The middle of the jitter band: the delays themselves.
        #expect(policy.nextAttempt(after: 1, lastAttempt: 0, created: 0, spread: 0.5) == 10 * s)
        #expect(policy.nextAttempt(after: 2, lastAttempt: 0, created: 0, spread: 0.5) == 20 * s)
        #expect(policy.nextAttempt(after: 3, lastAttempt: 0, created: 0, spread: 0.5) == 40 * s)
        #expect(policy.nextAttempt(after: 12, lastAttempt: 0, created: 0, spread: 0.5) == 3_600 * s)
        #expect(policy.nextAttempt(after: 30, lastAttempt: 0, created: 0) == nil)
        #expect(policy.nextAttempt(after: 5, lastAttempt: 86_400 * s, created: 0) == nil)
        var total: Int64 = 0
        var attempts = 0
        while let next = policy.nextAttempt(after: attempts + 1, lastAttempt: total, created: 0) {
            total = next
            attempts += 1
        }
        #expect(attempts >= 20)
        #expect(total <= 86_400 * s)
    }

    @Test("each delay is spread by ±20 %, at random: retries of alerts that failed together drift apart")
    func jitter() {
        let policy = RetryPolicy.standard
        let s: Int64 = 1_000_000
        #expect(policy.nextAttempt(after: 1, lastAttempt: 0, created: 0, spread: 0) == 8 * s)
        #expect(policy.nextAttempt(after: 12, lastAttempt: 0, created: 0, spread: 0) == 2_880 * s)
        #expect(policy.nextAttempt(after: 12, lastAttempt: 0, created: 0, spread: 0.999_999)! > 4_319 * s)
        let draws = (0..<200).compactMap { _ in policy.nextAttempt(after: 1, lastAttempt: 0, created: 0) }
        #expect(draws.count == 200)
        #expect(draws.allSatisfy { (8 * s)...(12 * s) ~= $0 })
        #expect(Set(draws).count > 100)
        #expect(draws.contains { $0 < 9 * s } && draws.contains { $0 > 11 * s })
    }

    @Test("no retry after a delivery, a permanent refusal or a test; a plain failure is retried")
    func whatFollows() {
        let policy = RetryPolicy.standard
        let alert = Alert(check: UUID(), project: "ops", channel: "mail", direction: .down, flipTime: 0, created: 0, values: sampleValues)
        var test = alert
        test.test = true
        #expect(policy.next(after: Attempt(time: 0, outcome: .delivered), number: 1, of: alert) == nil)
        #expect(policy.next(after: Attempt(time: 0, outcome: .failed, permanent: true), number: 1, of: alert) == nil)
        #expect(policy.next(after: Attempt(time: 0, outcome: .failed), number: 1, of: test) == nil)
        #expect(policy.next(after: Attempt(time: 0, outcome: .failed), number: 1, of: alert) != nil)
    }
}
